/**
 * The loss-weight update policy of the Adam/gd phase: which weightings are
 * adaptive and which sketch the NTK traces, how strongly their estimates are
 * smoothed, which trace reduction a weight update folds into the step's sums, and
 * the gradient-norm weights, the one policy computed on the CPU.
 *
 * @module
 */
import type { Plan } from "./plan.ts";
import type { TrainConfig, Weighting } from "./train_config.ts";

/** Whether a weighting estimates the traces from random directions (jvp, pc, hutch). */
export const isSketch = (w: Weighting): boolean => w === "jvp" || w === "pc" || w === "hutch";

/** Whether a weighting's weights come from NTK traces computed on the GPU. */
export const isNtkWeighting = (w: Weighting): boolean => isSketch(w) || w === "exact";

/**
 * The EMA factor a run smooths its trace estimates with: `config.beta` when set,
 * else 0.99 for the sketches that draw one noisy estimate a step (pc, jvp, hutch)
 * and 0.9 for exact traces and gradnorm. The weights Σt/t_j are convex in the
 * traces, so noise in t_j biases λ_j upwards: on wave with pc (k = 1), β = 0.9 left
 * λ_ut 1.8× above exact's and β = 0.99 matched it; exact traces need no long average.
 */
export function emaBeta(c: Pick<TrainConfig, "beta" | "weighting">): number {
  return c.beta ?? (isSketch(c.weighting) ? 0.99 : 0.9);
}

/**
 * The traces the step's sums reduce on an update: none (no NTK weights, or hutch,
 * whose own sequence set them), the exact Gram diagonal, pc's finite differences
 * or jvp's tangents (`y`).
 */
export function stepTraces(w: Weighting, adaptive: boolean): "none" | "exact" | "fd" | "y" {
  if (!adaptive || w === "hutch") return "none";
  return w === "exact" ? "exact" : w === "pc" ? "fd" : "y";
}

/**
 * jaxpi's gradient-norm weights: λ_j = Σ_k ‖∇L_k‖ / ‖∇L_j‖, an EMA over updates
 * (none at step 0), from the per-slice weight gradients the step left in `p`.
 */
export async function gradnormWeights(p: Plan, step: number, c: TrainConfig): Promise<void> {
  const P = p.net.paramCount;
  const partial = await p.read(p.b.partial, 0, (p.slices.length / 4) * P);
  const sq = new Float64Array(p.G);
  const g = new Float64Array(P);
  for (let gi = 0; gi < p.G; gi++) {
    g.fill(0);
    for (let s = 0; s < p.slices.length / 4; s++) {
      if (p.slices[4 * s + 2] !== gi) continue;
      for (let i = 0; i < P; i++) g[i] += partial[s * P + i];
    }
    sq[gi] = Math.sqrt(g.reduce((a, v) => a + v * v, 0));
  }
  const total = sq.reduce((a, b) => a + b, 0);
  const prev = await p.read(p.b.lambda, 0, p.G);
  const beta = step === 0 ? 0 : emaBeta(c);
  const lam = Float32Array.from(
    sq,
    (v, i) => beta * prev[i] + (1 - beta) * (v > 0 ? total / v : 1),
  );
  p.setLambda(Object.fromEntries(p.batch.groups.map((grp, i) => [grp.name, lam[i]])));
}
