/**
 * NTK block traces and the adaptive weights λ_j = (Σ_k t_k) / t_j (design §2, §4).
 *
 * Four estimators of Tr K_jj:
 * - `exact`: per-point gradient norms from one backward pass (channel-Gram identities);
 * - `jvp`:   (1/k) Σ_s ‖J_j s‖² over k random parameter directions (batched JVPs);
 * - `pc`:    the same with J s replaced by the predictor finite difference
 *            (R(θ + Δt s) − R(θ)) / Δt (central: (R(θ+Δt s) − R(θ−Δt s)) / 2Δt);
 * - `hutch`: z_jᵀ (K z)_j with z Rademacher over residuals, K z by a predictor step along Jᵀ z.
 *
 * @module
 */
import type { Plan } from "./plan.ts";

/** Trace estimators. */
export type NtkMethod = "exact" | "jvp" | "pc" | "hutch";

/** Estimator settings. */
export interface NtkOptions {
  /** The estimator. */
  method: NtkMethod;
  /** Directions (jvp, pc) or probe vectors (hutch); default 8 for jvp, 1 otherwise. */
  k?: number;
  /** Finite-difference step of pc and hutch (default 1e-2). */
  dt?: number;
  /** Central differences for pc. */
  central?: boolean;
  /** Seed of the random directions. */
  seed?: number;
  /** Counter distinguishing independent draws with one seed (a step, a repeat). */
  step?: number;
  /** Direction distribution (default gaussian). */
  kind?: "gaussian" | "rademacher";
}

/** Per-group traces with the derived means and weights. */
export interface NtkTraces {
  /** Tr K_jj per group. */
  traces: Record<string, number>;
  /** Per-point mean traces t_j = Tr K_jj / N_j. */
  means: Record<string, number>;
  /** Weights λ_j = Σ_k t_k / t_j. */
  weights: Record<string, number>;
}

/** Means t_j = Tr K_jj / N_j and weights λ_j = Σ t / t_j (all 1 when a trace vanishes). */
export function weightsFromTraces(
  traces: Record<string, number>,
  counts: Record<string, number>,
): NtkTraces {
  const means: Record<string, number> = {};
  for (const [g, t] of Object.entries(traces)) means[g] = t / counts[g];
  const total = Object.values(means).reduce((a, b) => a + b, 0);
  const weights: Record<string, number> = {};
  const degenerate = Object.values(means).some((m) => !(m > 0));
  for (const g of Object.keys(means)) weights[g] = degenerate ? 1 : total / means[g];
  return { traces, means, weights };
}

/** Default k of an estimator. */
export const defaultK = (m: NtkMethod): number => m === "jvp" ? 8 : 1;

/** Default finite-difference step of pc and hutch. */
export const DEFAULT_DT = 1e-2;

/** Default step of the Hutchinson estimator: its step is Δt·Jᵀz, and ‖Jᵀz‖ grows with N and width. */
export const DEFAULT_HUTCH_DT = 1e-3;

/**
 * Estimates Tr K_jj per group at the plan's current parameters and points.
 * Directions are processed in chunks of `plan.directions`.
 */
export async function estimateTraces(plan: Plan, o: NtkOptions): Promise<Record<string, number>> {
  const names = plan.batch.groups.map((g) => g.name);
  const G = plan.G, e = plan.engine;
  if (o.method === "exact") return (await plan.exactNorms()).traces;
  const k = o.k ?? defaultK(o.method);
  const dt = o.dt ?? (o.method === "hutch" ? DEFAULT_HUTCH_DT : DEFAULT_DT);
  const seed = o.seed ?? 0, step = o.step ?? 0;
  const acc = new Float64Array(G);
  if (o.method === "hutch") {
    const hutch = await plan.hutchSeq(dt);
    for (let s = 0; s < k; s++) {
      plan.setNoise(seed, step * k + s);
      e.submit("hutch", plan.forward, plan.residual, hutch);
      const sums = await plan.read(plan.b.traceSums, 0, G);
      for (let g = 0; g < G; g++) acc[g] += sums[g] / k;
    }
  } else {
    const chunk = plan.directions;
    const kind = o.kind ?? "gaussian";
    if (o.method === "jvp") e.submit("jvp.primal", plan.forward, plan.residual);
    for (let j0 = 0; j0 < k; j0 += chunk) {
      const kc = Math.min(chunk, k - j0);
      plan.setRandom(seed, step, j0);
      const seqs = o.method === "jvp"
        ? [await plan.directionSeq(kc, kind), await plan.jvpSeq(kc), await plan.ySumsSeq(kc)]
        : [
          await plan.directionSeq(kc, kind),
          await plan.predictorSeq(kc, dt, o.central ?? false),
          plan.forward,
          plan.residual,
          await plan.correctorTangentSeq(kc, dt, o.central ?? false),
          await plan.ySumsSeq(kc),
        ];
      e.submit(o.method, ...seqs);
      const sums = await plan.read(plan.b.traceSums, 0, kc * G);
      for (let j = 0; j < kc; j++) for (let g = 0; g < G; g++) acc[g] += sums[j * G + g] / k;
    }
  }
  return Object.fromEntries(names.map((n, g) => [n, acc[g]]));
}

/** Traces, means and weights; with `repeat` > 1, also the standard error of each trace. */
export async function ntkWeights(
  plan: Plan,
  o: NtkOptions,
  repeat = 1,
): Promise<NtkTraces & { stderr?: Record<string, number> }> {
  const counts = Object.fromEntries(plan.batch.groups.map((g) => [g.name, g.n]));
  const runs: Record<string, number>[] = [];
  for (let r = 0; r < repeat; r++) {
    runs.push(await estimateTraces(plan, { ...o, step: (o.step ?? 0) + r }));
  }
  const mean: Record<string, number> = {};
  const stderr: Record<string, number> = {};
  for (const g of Object.keys(runs[0])) {
    const xs = runs.map((r) => r[g]);
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    mean[g] = m;
    if (repeat > 1) {
      const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
      stderr[g] = Math.sqrt(v / xs.length);
    }
  }
  const out = weightsFromTraces(mean, counts);
  return repeat > 1 ? { ...out, stderr } : out;
}
