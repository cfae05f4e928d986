/**
 * Built-in problem "heat1d": the 1D heat equation u_t = u_xx / π² on
 * (t, x) ∈ [0, 1]² with exact solution u = e^{−t} sin(πx) (zero source).
 *
 * Inputs: [t, x]. Groups: "r" = u_t − u_xx/π² (interior), "u" = u − u_exact
 * (half the points on t = 0, a quarter each on x = 0 and x = 1).
 *
 * @example
 * ```ts
 * import { heat1d } from "./heat1d.ts";
 * heat1d.inputs; // ["t", "x"]
 * ```
 *
 * @module
 */
import { E } from "./expr.ts";
import { initialBoundaryValues, type Problem, unitSquareInterior } from "./problem.ts";

const exact = ([t, x]: readonly number[]) => Math.exp(-t) * Math.sin(Math.PI * x);

/**
 * 1D heat equation u_t = u_xx/π² on (t,x) ∈ [0,1]², u = e^{−t} sin(πx).
 * Inputs [t, x]; groups "r" = u_t − u_xx/π², "u" = u − u_exact on t = 0, x = 0, x = 1.
 */
export const heat1d: Problem = {
  name: "heat1d",
  inputs: ["t", "x"],
  domain: [[0, 1], [0, 1]],
  doc: "u_t = u_xx/π² on (t,x) ∈ [0,1]², u = e^{−t} sin(πx); inputs [t, x]; " +
    "groups r = u_t − u_xx/π², u = u − u_exact on t = 0, x = 0, x = 1",
  exact,
  grid: [101, 101],
  sizes: [2, 64, 64, 1],
  groups: [
    unitSquareInterior(
      "u_t − u_xx/π² in the interior",
      E.sub(E.du(0), E.mul(1 / (Math.PI * Math.PI), E.d2u(1))),
    ),
    initialBoundaryValues(exact),
  ],
  // The centred first layer and the parameter average lowered the error here too (README).
  train: { init: "centered", average: 0.995 },
};
