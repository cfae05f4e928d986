/**
 * A custom PDE for the CLI: advection–diffusion u_t + c u_x − ν u_xx = 0 on
 * (t, x) ∈ [0,1] × [0,2] with c = 1, ν = 0.05 and the closed-form solution
 * u = e^{−νπ²t} sin(π(x − ct)), imposed at t = 0 and on x = 0, x = 2.
 *
 * ```sh
 * deno task train --problem ./examples/my_pde.ts --sizes 2,32,32,1 --steps 2000 --weighting exact
 * deno task init --problem ./examples/my_pde.ts --out m.json   # models store the path
 * ```
 *
 * A problem module's default export (or an export named `problem`) is a
 * {@linkcode Problem}; residuals are expressions over u, ∂u/∂x_i and ∂²u/∂x_i²
 * built with `E` (inputs are numbered as `inputs` lists them: 0 = t, 1 = x), and
 * targets are plain float64 functions subtracted from them. Paths are resolved
 * against the directory the command runs from (also under `deno task`); model
 * files and run folders store them relative to themselves.
 *
 * @module
 */
import { E, type Problem } from "../mod.ts";

const c = 1, nu = 0.05;
const exact = ([t, x]: readonly number[]) =>
  Math.exp(-nu * Math.PI ** 2 * t) * Math.sin(Math.PI * (x - c * t));

export default {
  name: "advection-diffusion",
  doc: "u_t + u_x − 0.05 u_xx = 0 on [0,1]×[0,2], u = exp(−0.05π²t) sin(π(x − t))",
  inputs: ["t", "x"],
  domain: [[0, 1], [0, 2]],
  exact,
  grid: [51, 101],
  sizes: [2, 32, 32, 1],
  groups: [
    {
      name: "r",
      doc: "u_t + c u_x − ν u_xx in the interior",
      residual: E.add(E.du(0), E.mul(c, E.du(1)), E.mul(-nu, E.d2u(1))),
      sampleDim: 2,
      sample: ([a, b]) => [a, 2 * b],
      defaultN: 1024,
    },
    {
      name: "ic",
      doc: "u − u_exact at t = 0",
      residual: E.u(),
      target: exact,
      sampleDim: 1,
      sample: ([a]) => [0, 2 * a],
      defaultN: 128,
    },
    {
      name: "bc",
      doc: "u − u_exact on x = 0 and x = 2",
      residual: E.u(),
      target: exact,
      sampleDim: 1,
      sample: ([a]) => a < 0.5 ? [2 * a, 0] : [2 * a - 1, 2],
      defaultN: 128,
    },
  ],
} satisfies Problem;
