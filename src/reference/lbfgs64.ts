/**
 * L-BFGS in float64: the oracle of the GPU L-BFGS (`src/lbfgs.ts`). The same
 * algorithm step for step — circular history of m pairs, pairs with sᵀy ≤ 1e-10 yᵀy
 * kept with ρ = 0, γ = sᵀy/yᵀy of the newest good pair, first trial step
 * min(1, 1/‖g‖) without history and 1 with it, the shared strong-Wolfe search —
 * with plain numbers and no GPU code.
 *
 * @module
 */
import { strongWolfe, type WolfeOptions } from "../line_search.ts";

/** A function and its gradient at x. */
export type Objective = (x: Float64Array) => { f: number; g: Float64Array };

/** One L-BFGS iteration's outcome. */
export interface Iterate {
  /** Parameters after the iteration. */
  x: Float64Array;
  /** f at `x`. */
  f: number;
  /** Accepted step length. */
  alpha: number;
  /** Function evaluations the line search spent. */
  evals: number;
}

/** Directions d = −H g by the two-loop recursion (Nocedal & Wright, Algorithm 7.4). */
export function twoLoop(
  g: Float64Array,
  S: Float64Array[],
  Y: Float64Array[],
  rho: number[],
  gamma: number,
): Float64Array {
  const q = Float64Array.from(g);
  const k = S.length, alpha = new Array<number>(k);
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
  for (let i = k - 1; i >= 0; i--) {
    alpha[i] = rho[i] * dot(S[i], q);
    for (let j = 0; j < q.length; j++) q[j] -= alpha[i] * Y[i][j];
  }
  for (let j = 0; j < q.length; j++) q[j] *= gamma;
  for (let i = 0; i < k; i++) {
    const beta = rho[i] * dot(Y[i], q);
    for (let j = 0; j < q.length; j++) q[j] += (alpha[i] - beta) * S[i][j];
  }
  return q.map((v) => -v);
}

/** `iters` L-BFGS iterations from x0 with m pairs; the iterates in order. */
export async function lbfgs64(
  fg: Objective,
  x0: ArrayLike<number>,
  iters: number,
  m = 20,
  wolfe: WolfeOptions = {},
): Promise<Iterate[]> {
  let x = Float64Array.from(x0);
  let { f, g } = fg(x);
  const S: Float64Array[] = [], Y: Float64Array[] = [], rho: number[] = [];
  let gamma = 1;
  const out: Iterate[] = [];
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
  for (let it = 0; it < iters; it++) {
    let d = twoLoop(g, S, Y, rho, gamma);
    let gd = dot(g, d);
    if (!(gd < 0)) {
      S.length = Y.length = rho.length = 0;
      gamma = 1;
      d = twoLoop(g, S, Y, rho, gamma);
      gd = dot(g, d);
    }
    const first = S.length === 0 ? Math.min(1, 1 / Math.sqrt(dot(g, g))) : 1;
    let last: { x: Float64Array; g: Float64Array } | null = null;
    const ls = await strongWolfe(
      (a) => {
        const xt = x.map((v, i) => v + a * d[i]);
        const r = fg(xt);
        last = { x: xt, g: r.g };
        return { f: r.f, df: dot(r.g, d) };
      },
      { f, df: gd },
      first,
      wolfe,
    );
    if (ls.alpha === 0) break;
    const xn = x.map((v, i) => v + ls.alpha * d[i]);
    const gn = (last as { x: Float64Array; g: Float64Array } | null)?.x.every((v, i) => v === xn[i])
      ? last!.g
      : fg(xn).g;
    const s = xn.map((v, i) => v - x[i]), y = gn.map((v, i) => v - g[i]);
    const ys = dot(y, s), yy = dot(y, y);
    const ok = ys > 1e-10 * yy && yy > 0;
    if (S.length === m) S.shift(), Y.shift(), rho.shift();
    S.push(s), Y.push(y), rho.push(ok ? 1 / ys : 0);
    if (ok) gamma = ys / yy;
    x = xn, g = gn, f = ls.f;
    out.push({ x: Float64Array.from(x), f, alpha: ls.alpha, evals: ls.evals });
  }
  return out;
}
