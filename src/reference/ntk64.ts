/**
 * The float64 reference's exact NTK: per-point gradient norms, block traces and
 * weights, and the full matrix, from the per-point gradients of `mlp64.ts`
 * (re-exported there, so `mlp64.ts` stays the one import of the oracle).
 *
 * @module
 */
import type { FourierEmbedding } from "../embedding.ts";
import type { Activation } from "../model.ts";
import type { Points } from "../points.ts";
import type { Problem } from "../problems/problem.ts";
import { type Params, residualGradients } from "./mlp64.ts";

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const dot2 = (a: ArrayLike<number>): number => dot(a, a);

/**
 * ‖∇_θ r_i‖² per point, summed from {@linkcode residualGradients} (not from the
 * channel-Gram identities the GPU uses, so it can check them).
 */
export function perPointGradNorms(
  problem: Problem,
  sizes: readonly number[],
  activation: Activation,
  params: Params,
  points: Points,
  embedding?: FourierEmbedding,
): Record<string, Float64Array> {
  const grads = residualGradients(problem, sizes, activation, params, points, embedding);
  const out: Record<string, Float64Array> = {};
  for (const [name, gs] of Object.entries(grads)) out[name] = Float64Array.from(gs, dot2);
  return out;
}

/**
 * Exact NTK block traces Tr K_jj = Σ_i ‖∇_θ r_i‖², per-point means t_j = Tr K_jj / N_j
 * and weights λ_j = (Σ_k t_k) / t_j (design §2).
 */
export function ntkTraces(
  problem: Problem,
  sizes: readonly number[],
  activation: Activation,
  params: Params,
  points: Points,
  embedding?: FourierEmbedding,
): {
  traces: Record<string, number>;
  means: Record<string, number>;
  weights: Record<string, number>;
} {
  const norms = perPointGradNorms(problem, sizes, activation, params, points, embedding);
  const traces: Record<string, number> = {}, means: Record<string, number> = {};
  const weights: Record<string, number> = {};
  let total = 0;
  for (const g of problem.groups) {
    traces[g.name] = norms[g.name].reduce((s, v) => s + v, 0);
    means[g.name] = traces[g.name] / norms[g.name].length;
    total += means[g.name];
  }
  for (const g of problem.groups) weights[g.name] = total / means[g.name];
  return { traces, means, weights };
}

/**
 * The full NTK K = J Jᵀ (n × n, row-major) over all points of all groups, in
 * `problem.groups` order, with `order[i]` naming row i's group and point index.
 * Only for small n: it holds n gradients of length P.
 */
export function fullNtk(
  problem: Problem,
  sizes: readonly number[],
  activation: Activation,
  params: Params,
  points: Points,
  embedding?: FourierEmbedding,
): { order: { group: string; index: number }[]; K: Float64Array } {
  const grads = residualGradients(problem, sizes, activation, params, points, embedding);
  const order: { group: string; index: number }[] = [];
  const rows: Float64Array[] = [];
  for (const g of problem.groups) {
    grads[g.name].forEach((row, index) => {
      order.push({ group: g.name, index });
      rows.push(row);
    });
  }
  const n = rows.length, K = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = i; k < n; k++) K[i * n + k] = K[k * n + i] = dot(rows[i], rows[k]);
  }
  return { order, K };
}
