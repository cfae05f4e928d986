/**
 * Reading a plan's results back from the GPU: the network's outputs after a
 * forward pass, and the residuals, loss and gradient of one evaluation.
 *
 * @module
 */
import type { PlanCore } from "./core.ts";

/** Loss terms and gradient of one evaluation. */
export interface Evaluation {
  /** Residuals r_i per group. */
  residuals: Record<string, Float32Array>;
  /** (1/N_j) Σ r_i² per group. */
  lossPerGroup: Record<string, number>;
  /** Σ_j λ_j lossPerGroup_j. */
  loss: number;
  /** ∇_θ loss in the flat layout (when asked for). */
  gradient?: Float32Array;
}

/**
 * The network's outputs u_k (value channel) at the real points of every group of
 * `p`, after a forward pass: one array per output, per group.
 */
export async function readOutputsOf(p: PlanCore): Promise<Record<string, Float32Array[]>> {
  const cols = p.batch.cols;
  const z = await p.read(p.Z[p.L], 0, p.outputs * cols);
  return Object.fromEntries(
    p.batch.groups.map((g) => [
      g.name,
      Array.from(
        { length: p.outputs },
        (_, k) => z.slice(k * cols + g.col, k * cols + g.col + g.n),
      ),
    ]),
  );
}

/** Residuals, loss and (optionally) the gradient of `p` at its current parameters and λ. */
export async function evaluateOf(p: PlanCore, withGradient: boolean): Promise<Evaluation> {
  const seqs = [p.forward, p.residual, p.lossSums];
  if (withGradient) seqs.push(p.backward, p.weightGrad, p.gather);
  p.engine.submit("evaluate", ...seqs);
  // Read together: each readback settles at Deno's next device poll (≈ 10 ms).
  const [res, sums, lam, gradient] = await Promise.all([
    p.read(p.b.res),
    p.read(p.b.lossSums, 0, p.G),
    p.read(p.b.lambda, 0, p.G),
    withGradient ? p.read(p.b.grad, 0, p.net.paramCount) : undefined,
  ]);
  const lossPerGroup: Record<string, number> = {};
  let loss = 0;
  p.batch.groups.forEach((g, i) => {
    lossPerGroup[g.name] = sums[i] / g.n;
    loss += lam[i] * sums[i] / g.n;
  });
  const out: Evaluation = { residuals: p.perGroup(res), lossPerGroup, loss };
  if (gradient) out.gradient = gradient;
  return out;
}
