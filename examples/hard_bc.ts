/**
 * A custom PDE with its conditions imposed exactly (README, "Hard constraints"):
 * the heat equation u_t = u_xx/π² on (t, x) ∈ [0,1]² with u(0, x) = sin(πx) and
 * u = 0 on x = 0, 1 (solution e^{−t} sin(πx)), trained through
 *
 *   u = sin(πx) + t·x(1 − x)·N(t, x),
 *
 * which meets the initial value and both walls whatever the network N is, so the
 * interior residual is the only group. The residual is written in u as usual;
 * `withTransform` rewrites it in N's channels.
 *
 * ```sh
 * deno task train --problem ./examples/hard_bc.ts --steps 1000 --weighting none
 * ```
 *
 * @module
 */
import { E, type Problem, withTransform } from "../mod.ts";

const t = E.x(0), x = E.x(1);

const soft: Problem = {
  name: "heat-hard",
  doc: "u_t = u_xx/π² on [0,1]², u = e^{−t} sin(πx), initial value and walls exact",
  inputs: ["t", "x"],
  domain: [[0, 1], [0, 1]],
  exact: ([t, x]) => Math.exp(-t) * Math.sin(Math.PI * x),
  grid: [51, 51],
  sizes: [2, 32, 32, 1],
  groups: [{
    name: "r",
    doc: "u_t − u_xx/π² in the interior",
    residual: E.sub(E.du(0), E.mul(1 / Math.PI ** 2, E.d2u(1))),
    sampleDim: 2,
    sample: ([a, b]) => [a, b],
    defaultN: 256,
  }],
};

export default withTransform(soft, {
  offset: [E.sin(E.mul(Math.PI, x))],
  factor: [E.mul(t, x, E.sub(1, x))],
  doc: "u = sin(πx) + t x(1 − x)·N",
});
