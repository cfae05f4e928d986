/**
 * The buffers of a plan's core, allocated once for its fixed shapes. Apart from
 * `core.ts` so that the table below and the code that sizes each buffer stand
 * together; src/resources.ts mirrors this allocation to estimate a plan's memory
 * before it is made.
 *
 * Buffers (shapes as rows × columns; `cols` = batch.cols, `pts` = batch.points):
 *   A[l]   (s_l + 1, cols)  activations of layer l (A[0] = inputs); last row is the
 *                           bias indicator (1 on value-channel columns)
 *   Z[l]   (s_l, cols)      pre-activations, l = 1..L (Z[L] = the output channels U)
 *   DZ[l]  (s_l, cols)      Z̄ seeded per point with ∂F/∂channel (DZ[L] = seeds)
 *   alpha  (cols)           per-column loss scale (2/N_j) r_i
 *   res    (pts)            residuals r_i;  resP (k rows) predictor residuals
 *   causal (2·chunks)       causal chunk losses L_k and weights w_k (when planned)
 *   partial(slices, P)      per-slice weight gradients (weight_grad.wgsl)
 *   params (P), moments (2P), packF/packB (packed layouts), packP (predictor weights)
 *
 * @module
 */
/// <reference types="npm:@webgpu/types@0.1.74" />
import type { PlanCore, PlanOptions } from "./core.ts";

/** Makes a storage buffer of `floats` floats owned by the plan (PlanCore's `buf`). */
export type BufferMaker = (label: string, floats: number, what?: string) => GPUBuffer;

/** Allocates the buffers of the module documentation into `p`'s A, Z, DZ and b. */
export function allocateCore(p: PlanCore, o: PlanOptions, buf: BufferMaker): void {
  const { net, batch, engine } = p;
  const sizes = net.sizes, cols = batch.cols, P = net.paramCount;
  const what = "the activations (--n points × channels × width)";
  for (let l = 0; l < p.L; l++) p.A.push(buf(`A${l}`, (sizes[l] + 1) * cols, what));
  for (let l = 0; l <= p.L; l++) {
    p.Z.push(l === 0 ? p.A[0] : buf(`Z${l}`, sizes[l] * cols, what));
    p.DZ.push(l === 0 ? p.A[0] : buf(`DZ${l}`, sizes[l] * cols, what));
  }
  const nslices = p.slices.length / 4;
  const b = p.b;
  b.groups = buf("groups", 4 * p.G);
  engine.write(
    b.groups,
    0,
    Uint32Array.from(batch.groups.flatMap((g) => [g.pointOff, g.n, g.np, g.col])),
  );
  b.slices = buf("slices", p.slices.length);
  engine.write(b.slices, 0, p.slices);
  b.params = buf("params", P);
  b.moments = buf("moments", 2 * P);
  b.packF = buf("packF", net.packedF);
  b.packB = buf("packB", net.packedB);
  b.packP = buf("packP", net.packedF);
  b.lambda = buf("lambda", p.G);
  p.setLambda(Object.fromEntries(batch.groups.map((g) => [g.name, 1])));
  b.ntkState = buf("ntkState", 2 * p.G + 1);
  b.partial = buf("partial", nslices * P, "the weight-gradient slices");
  b.grad = buf("grad", P);
  b.pts = buf("pts", 8 * batch.points);
  b.alpha = buf("alpha", cols);
  b.res = buf("res", batch.points);
  b.norms = buf("norms", batch.points);
  b.lossSums = buf("lossSums", p.G);
  b.traceSums = buf("traceSums", Math.max(1, p.directions) * p.G);
  b.dummy = buf("dummy", 4);
  // The bias-indicator rows of hidden activations never change.
  const ind = new Float32Array(cols);
  for (const g of batch.groups) ind.fill(1, g.col, g.col + g.np);
  for (let l = 1; l < p.L; l++) {
    engine.write(p.A[l], sizes[l] * cols * 4, ind);
  }
  if (p.directions > 0) {
    const k = p.directions;
    b.dirs = buf("dirs", k * net.packedF, "the parameter directions (--k × parameters)");
    b.resP = buf("resP", k * p.yStride);
    b.resQ = buf("resQ", k * p.yStride);
    b.Y = buf("Y", k * p.yStride);
    b.noise = buf("noise", batch.points);
    b.packV = buf("packV", net.packedF);
    b.packScratch = buf("packScratch", net.packedB);
    if (o.tangents) {
      const rows = Math.max(...sizes.slice(1));
      const twhat = "the JVP tangents (--k × points × channels × width); use a smaller --k";
      b.T0 = buf("T0", k * rows * cols, twhat);
      b.T1 = buf("T1", k * rows * cols, twhat);
    }
  }
}
