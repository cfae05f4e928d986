/**
 * Built-in problem "klein-gordon1d": the nonlinear Klein–Gordon equation
 * u_tt − u_xx + u³ = f on (t, x) ∈ [0, 1]² with exact solution
 * u = x cos(5πt) + (xt)³; f is computed analytically from it:
 * f = −25π² x cos(5πt) + 6x³t − 6xt³ + u³.
 *
 * Inputs: [t, x]. Groups: "r" = u_tt − u_xx + u³ − f (interior), "u" = u − u_exact
 * (half the points on t = 0, a quarter each on x = 0 and x = 1), "ut" =
 * u_t − ∂_t u_exact (on t = 0, where ∂_t u_exact = 0).
 *
 * @example
 * ```ts
 * import { kleinGordon1d } from "./klein_gordon1d.ts";
 * kleinGordon1d.name; // "klein-gordon1d"
 * ```
 *
 * @module
 */
import { E } from "./expr.ts";
import {
  initialBoundaryValues,
  initialVelocity,
  type Problem,
  unitSquareInterior,
} from "./problem.ts";

const w = 5 * Math.PI;

const exact = ([t, x]: readonly number[]) => x * Math.cos(w * t) + (x * t) ** 3;

/** ∂_t u_exact = −5πx sin(5πt) + 3x³t². */
const exactT = ([t, x]: readonly number[]) => -w * x * Math.sin(w * t) + 3 * x ** 3 * t * t;

/** f = u_tt − u_xx + u³ of the exact solution, subtracted in float64. */
const source = (p: readonly number[]) => {
  const [t, x] = p;
  const utt = -w * w * x * Math.cos(w * t) + 6 * x ** 3 * t;
  const uxx = 6 * x * t ** 3;
  return utt - uxx + exact(p) ** 3;
};

/**
 * Klein–Gordon equation u_tt − u_xx + u³ = f on (t,x) ∈ [0,1]², u = x cos(5πt) + (xt)³.
 * Inputs [t, x]; groups "r" = u_tt − u_xx + u³ − f, "u" = u − u_exact on t = 0,
 * x = 0, x = 1, "ut" = u_t − ∂_t u_exact on t = 0.
 */
export const kleinGordon1d: Problem = {
  name: "klein-gordon1d",
  inputs: ["t", "x"],
  domain: [[0, 1], [0, 1]],
  doc: "u_tt − u_xx + u³ = f on (t,x) ∈ [0,1]², u = x cos(5πt) + (xt)³; inputs [t, x]; " +
    "groups r = u_tt − u_xx + u³ − f, u = u − u_exact on t = 0, x = 0, x = 1, " +
    "ut = u_t − ∂_t u_exact on t = 0",
  exact,
  grid: [101, 101],
  sizes: [2, 128, 128, 128, 1],
  groups: [
    unitSquareInterior(
      "u_tt − u_xx + u³ − f with f from the exact solution, in the interior",
      E.add(E.sub(E.d2u(0), E.d2u(1)), E.pow(E.u(), 3)),
      source,
    ),
    initialBoundaryValues(exact),
    initialVelocity(exactT),
  ],
  // The centred first layer and the parameter average lowered the error here too (README).
  train: { init: "centered", average: 0.995 },
};
