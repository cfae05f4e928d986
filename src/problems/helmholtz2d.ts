/**
 * Built-in problem "helmholtz2d": the 2D Helmholtz equation Δu + u = f on
 * (x, y) ∈ [−1, 1]² with exact solution u = sin(πx) sin(4πy), so
 * f = (1 − π² − 16π²) u_exact, and Dirichlet values u = u_exact (= 0) on the
 * four sides.
 *
 * Inputs: [x, y]. Groups: "r" = u_xx + u_yy + u − f (interior), "u" = u − u_exact
 * (on the boundary, each side with probability 1/4).
 *
 * @example
 * ```ts
 * import { helmholtz2d } from "./helmholtz2d.ts";
 * helmholtz2d.domain; // [[-1, 1], [-1, 1]]
 * ```
 *
 * @module
 */
import { E } from "./expr.ts";
import type { Problem } from "./problem.ts";

const ky = 4 * Math.PI;

const exact = ([x, y]: readonly number[]) => Math.sin(Math.PI * x) * Math.sin(ky * y);

/** f = Δu_exact + u_exact = (1 − π² − 16π²) u_exact, subtracted in float64. */
const source = (p: readonly number[]) => (1 - Math.PI * Math.PI - ky * ky) * exact(p);

/**
 * 2D Helmholtz equation Δu + u = f on (x,y) ∈ [−1,1]², u = sin(πx) sin(4πy).
 * Inputs [x, y]; groups "r" = u_xx + u_yy + u − f, "u" = u − u_exact on the four sides.
 */
export const helmholtz2d: Problem = {
  name: "helmholtz2d",
  inputs: ["x", "y"],
  domain: [[-1, 1], [-1, 1]],
  doc: "u_xx + u_yy + u = f on (x,y) ∈ [−1,1]², u = sin(πx)sin(4πy), " +
    "f = (1 − 17π²) u; inputs [x, y]; groups r = u_xx + u_yy + u − f, " +
    "u = u − u_exact on the four sides",
  exact,
  grid: [101, 101],
  sizes: [2, 128, 128, 128, 1],
  groups: [
    {
      name: "r",
      doc: "u_xx + u_yy + u − f with f = (1 − 17π²) sin(πx)sin(4πy), in the interior",
      residual: E.add(E.d2u(0), E.d2u(1), E.u()),
      target: source,
      sampleDim: 2,
      sample: ([a, b]) => [2 * a - 1, 2 * b - 1],
      defaultN: 1024,
    },
    {
      name: "u",
      doc: "u − u_exact on x = ±1 and y = ±1 (each side with probability 1/4)",
      residual: E.u(),
      target: exact,
      sampleDim: 2,
      sample: ([a, b]) => {
        const s = 2 * b - 1;
        if (a < 0.25) return [-1, s];
        if (a < 0.5) return [1, s];
        return a < 0.75 ? [s, -1] : [s, 1];
      },
      defaultN: 256,
    },
  ],
  // The centred first layer and the parameter average lowered the error here too (README).
  train: { init: "centered", average: 0.995 },
};
