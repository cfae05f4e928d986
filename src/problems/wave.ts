import { E } from "./expr.ts";
import type { Problem } from "./problem.ts";

const exact = ([t, x]: readonly number[]) =>
  Math.sin(Math.PI * x) * Math.cos(2 * Math.PI * t) +
  0.5 * Math.sin(4 * Math.PI * x) * Math.cos(8 * Math.PI * t);

const exactT = ([t, x]: readonly number[]) =>
  -2 * Math.PI * Math.sin(Math.PI * x) * Math.sin(2 * Math.PI * t) -
  4 * Math.PI * Math.sin(4 * Math.PI * x) * Math.sin(8 * Math.PI * t);

/**
 * 1D wave equation of Wang, Yu & Perdikaris (2022): u_tt − 4 u_xx = 0 on
 * (t, x) ∈ [0,1]², u = sin(πx) cos(2πt) + 0.5 sin(4πx) cos(8πt).
 */
export const wave: Problem = {
  name: "wave",
  inputs: ["t", "x"],
  domain: [[0, 1], [0, 1]],
  doc: "u_tt − 4u_xx = 0 on (t,x) ∈ [0,1]², u = sin(πx)cos(2πt) + 0.5 sin(4πx)cos(8πt)",
  exact,
  grid: [101, 101],
  sizes: [2, 128, 128, 128, 1],
  groups: [
    {
      name: "r",
      doc: "u_tt − 4u_xx in the interior",
      residual: E.sub(E.d2u(0), E.mul(4, E.d2u(1))),
      sampleDim: 2,
      sample: ([a, b]) => [a, b],
      defaultN: 1024,
    },
    {
      name: "u",
      doc: "u − u_exact on t = 0 (half the points) and on x = 0, x = 1",
      residual: E.u(),
      target: exact,
      sampleDim: 2,
      sample: ([a, b]) => a < 0.5 ? [0, b] : [b, a < 0.75 ? 0 : 1],
      defaultN: 256,
    },
    {
      name: "ut",
      doc: "u_t − ∂_t u_exact on t = 0",
      residual: E.du(0),
      target: exactT,
      sampleDim: 1,
      sample: ([a]) => [0, a],
      defaultN: 256,
    },
  ],
};
