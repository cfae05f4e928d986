/**
 * Built-in problem "kovasznay": Kovasznay flow, a steady solution of the
 * incompressible Navier–Stokes equations at Re = 20 on (x, y) ∈ [−0.5, 1] ×
 * [−0.5, 1.5] (Kovasznay 1948), with outputs (u, v, p):
 *
 *   u = 1 − e^{λx} cos 2πy,  v = (λ/2π) e^{λx} sin 2πy,  p = ½(1 − e^{2λx}),
 *   λ = Re/2 − √(Re²/4 + 4π²).
 *
 * Inputs: [x, y]; outputs: [u, v, p]. Groups: "mx" = u u_x + v u_y + p_x −
 * (u_xx + u_yy)/Re, "my" = u v_x + v v_y + p_y − (v_xx + v_yy)/Re, "div" = u_x +
 * v_y (interior); "bu" = u − u_exact and "bv" = v − v_exact on the whole
 * boundary; "bp" = p − p_exact on the outflow x = 1.
 *
 * @example
 * ```ts
 * import { kovasznay } from "./kovasznay.ts";
 * kovasznay.outputs; // ["u", "v", "p"]
 * ```
 *
 * @module
 */
import { E } from "./expr.ts";
import type { GroupDef, Problem } from "./problem.ts";

const RE = 20;
const LAMBDA = RE / 2 - Math.sqrt(RE * RE / 4 + 4 * Math.PI * Math.PI);
const [X0, X1, Y0, Y1] = [-0.5, 1, -0.5, 1.5];
const [U, V, P] = [0, 1, 2];

/** (u, v, p) of Kovasznay flow at (x, y). */
export function kovasznayExact([x, y]: readonly number[]): number[] {
  const e = Math.exp(LAMBDA * x);
  return [
    1 - e * Math.cos(2 * Math.PI * y),
    (LAMBDA / (2 * Math.PI)) * e * Math.sin(2 * Math.PI * y),
    0.5 * (1 - e * e),
  ];
}

const interior = ([a, b]: readonly number[]) => [X0 + (X1 - X0) * a, Y0 + (Y1 - Y0) * b];

/** A point of the boundary: `a` picks a side in proportion to its length, `b` the place on it. */
function boundary([a, b]: readonly number[]): number[] {
  const w = X1 - X0, h = Y1 - Y0, s = a * 2 * (w + h);
  const x = X0 + w * b, y = Y0 + h * b;
  if (s < w) return [x, Y0];
  if (s < 2 * w) return [x, Y1];
  return s < 2 * w + h ? [X0, y] : [X1, y];
}

const momentum = (name: string, k: number, dir: number, doc: string): GroupDef => ({
  name,
  doc,
  residual: E.add(
    E.mul(E.u(U), E.du(0, k)),
    E.mul(E.u(V), E.du(1, k)),
    E.du(dir, P),
    E.mul(-1 / RE, E.add(E.d2u(0, k), E.d2u(1, k))),
  ),
  sampleDim: 2,
  sample: interior,
  defaultN: 256,
});

const value = (name: string, k: number, doc: string, sample: GroupDef["sample"], n: number) => ({
  name,
  doc,
  residual: E.u(k),
  target: (x: readonly number[]) => kovasznayExact(x)[k],
  sampleDim: 2,
  sample,
  defaultN: n,
});

/**
 * Kovasznay flow at Re = 20 on [−0.5, 1] × [−0.5, 1.5]: steady incompressible
 * Navier–Stokes with outputs (u, v, p) and a closed-form solution.
 */
export const kovasznay: Problem = {
  name: "kovasznay",
  inputs: ["x", "y"],
  outputs: ["u", "v", "p"],
  domain: [[X0, X1], [Y0, Y1]],
  doc: "steady Navier–Stokes at Re = 20 on (x,y) ∈ [−0.5,1]×[−0.5,1.5] (Kovasznay flow), " +
    "outputs [u, v, p]; groups mx, my (momentum), div (continuity), bu, bv (boundary), " +
    "bp (pressure on x = 1)",
  exact: kovasznayExact,
  grid: [61, 81],
  sizes: [2, 64, 64, 64, 3],
  groups: [
    momentum("mx", U, 0, "u u_x + v u_y + p_x − (u_xx + u_yy)/Re, in the interior"),
    momentum("my", V, 1, "u v_x + v v_y + p_y − (v_xx + v_yy)/Re, in the interior"),
    {
      name: "div",
      doc: "u_x + v_y, in the interior",
      residual: E.add(E.du(0, U), E.du(1, V)),
      sampleDim: 2,
      sample: interior,
      defaultN: 256,
    },
    value("bu", U, "u − u_exact on the whole boundary", boundary, 128),
    value("bv", V, "v − v_exact on the whole boundary", boundary, 128),
    value("bp", P, "p − p_exact on the outflow x = 1", ([a]) => [X1, Y0 + (Y1 - Y0) * a], 64),
  ],
  train: { init: "centered", average: 0.995 },
};
