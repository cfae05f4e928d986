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
import {
  continuityResidual,
  FLOW_OUTPUTS,
  momentumDoc,
  momentumResidual,
} from "./navier_stokes.ts";
import { E } from "./expr.ts";
import type { GroupDef, Problem } from "./problem.ts";

const RE = 20;
const LAMBDA = RE / 2 - Math.sqrt(RE * RE / 4 + 4 * Math.PI * Math.PI);
const [X0, X1, Y0, Y1] = [-0.5, 1, -0.5, 1.5];
const F = E.named(FLOW_OUTPUTS);

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

const momentum = (name: string, k: 0 | 1): GroupDef => ({
  name,
  doc: `${momentumDoc(k, "Re")}, in the interior`,
  residual: momentumResidual(k, RE),
  sampleDim: 2,
  sample: interior,
  defaultN: 256,
});

/** A value group: output `out` − its exact value, on the points `sample` places. */
const value = (
  name: string,
  out: typeof FLOW_OUTPUTS[number],
  doc: string,
  sample: GroupDef["sample"],
  n: number,
): GroupDef => ({
  name,
  doc,
  residual: F.u(out),
  target: (x: readonly number[]) => kovasznayExact(x)[FLOW_OUTPUTS.indexOf(out)],
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
  outputs: [...FLOW_OUTPUTS],
  domain: [[X0, X1], [Y0, Y1]],
  doc: "steady Navier–Stokes at Re = 20 on (x,y) ∈ [−0.5,1]×[−0.5,1.5] (Kovasznay flow), " +
    "outputs [u, v, p]; groups mx, my (momentum), div (continuity), bu, bv (boundary), " +
    "bp (pressure on x = 1)",
  exact: kovasznayExact,
  grid: [61, 81],
  sizes: [2, 64, 64, 64, 3],
  groups: [
    momentum("mx", 0),
    momentum("my", 1),
    {
      name: "div",
      doc: "u_x + v_y, in the interior",
      residual: continuityResidual(),
      sampleDim: 2,
      sample: interior,
      defaultN: 256,
    },
    value("bu", "u", "u − u_exact on the whole boundary", boundary, 128),
    value("bv", "v", "v − v_exact on the whole boundary", boundary, 128),
    value("bp", "p", "p − p_exact on the outflow x = 1", ([a]) => [X1, Y0 + (Y1 - Y0) * a], 64),
  ],
  // Adam sets λ and a rough fit, L-BFGS does the rest: 200 Adam steps left the error at 0.82,
  // 200 L-BFGS iterations after them took it to 0.17. Exact traces: 1.6e-3 at this budget
  // against pc's 5.5e-3 and none's 4.7e-3, in the same time; 50 L-BFGS pairs, 1.1e-3
  // (velocity 9.3e-4) against 20 pairs' 1.6e-3 (README, Results).
  train: {
    steps: 800,
    then: "lbfgs",
    thenSteps: 1500,
    init: "centered",
    average: 0.995,
    weighting: "exact",
    history: 50,
  },
};
