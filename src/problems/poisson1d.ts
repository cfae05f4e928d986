/**
 * Built-in problem "poisson1d": the 1D Poisson equation u_xx = f on x ∈ [0, 1]
 * with exact solution u = sin(4πx), so f = −16π² sin(4πx), and Dirichlet values
 * u(0) = u(1) = u_exact.
 *
 * Inputs: [x]. Groups: "r" = u_xx − f (interior), "u" = u − u_exact (at x = 0
 * and x = 1, half the sampled points at each end).
 *
 * @example
 * ```ts
 * import { poisson1d } from "./poisson1d.ts";
 * poisson1d.groups.map((g) => g.name); // ["r", "u"]
 * ```
 *
 * @module
 */
import { E } from "./expr.ts";
import type { Problem } from "./problem.ts";

const k = 4 * Math.PI;

const exact = ([x]: readonly number[]) => Math.sin(k * x);

/** The source term f = u_exact'' = −16π² sin(4πx), subtracted in float64. */
const source = ([x]: readonly number[]) => -k * k * Math.sin(k * x);

/**
 * 1D Poisson equation u_xx = f on x ∈ [0,1], u = sin(4πx), f = −16π² sin(4πx).
 * Inputs [x]; groups "r" = u_xx − f, "u" = u − u_exact at x = 0 and x = 1.
 */
export const poisson1d: Problem = {
  name: "poisson1d",
  inputs: ["x"],
  domain: [[0, 1]],
  doc: "u_xx = f on x ∈ [0,1], u = sin(4πx), f = −16π² sin(4πx); inputs [x]; " +
    "groups r = u_xx − f, u = u − u_exact at x = 0, 1",
  exact,
  grid: [101],
  sizes: [1, 64, 64, 1],
  groups: [
    {
      name: "r",
      doc: "u_xx − f with f = −16π² sin(4πx), in the interior",
      residual: E.d2u(0),
      target: source,
      sampleDim: 1,
      sample: ([a]) => [a],
      defaultN: 512,
    },
    {
      name: "u",
      doc: "u − u_exact at x = 0 and x = 1 (half the points at each end)",
      residual: E.u(),
      target: exact,
      sampleDim: 1,
      sample: ([a]) => [a < 0.5 ? 0 : 1],
      defaultN: 64,
    },
  ],
  // The centred first layer and the parameter average lowered the error here too (README).
  train: { init: "centered", average: 0.995 },
};
