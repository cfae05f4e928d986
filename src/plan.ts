/**
 * A planned, fixed-shape evaluation of one network on one batch of groups. The
 * plan is split by part of the data path, each a class extending the previous:
 *
 * - `plan/core.ts` — forward, residual, backward, evaluation, exact norms, with
 *   `plan/buffers.ts` (the buffers), `plan/layers.ts` (the Taylor launch helpers),
 *   `plan/gradient.ts` (weight gradients, gather, pack) and `plan/norms.ts` (the
 *   Gram norms of the exact traces) beside it;
 * - `plan/embed.ts` — the points' upload and the input channels (Fourier features);
 * - `plan/ntk.ts` — NTK estimator sequences (directions, JVPs, predictor, Hutchinson),
 *   with the batched JVPs' recording in `plan/jvp.ts`;
 * - `plan/optim.ts` — optimizer, parameter average, causal weights;
 * - this file — {@linkcode Plan}: creation and the full NTK.
 *
 * @module
 */
/// <reference types="npm:@webgpu/types@0.1.74" />
import type { Engine } from "./engine.ts";
import { matmulDispatch } from "./matmul.ts";
import { UserError } from "./errors.ts";
import { validateSizes } from "./model.ts";
import { problemOutputs } from "./problems/problem.ts";
import { checkPlanResources } from "./limits.ts";
import type { PlanOptions } from "./plan/core.ts";
import { PlanOptim } from "./plan/optim.ts";

export { type Evaluation, type LayerUniforms, PlanCore, type PlanOptions } from "./plan/core.ts";
export { PlanEmbed } from "./plan/embed.ts";
export { PlanNtk } from "./plan/ntk.ts";
export {
  type CausalOptions,
  checkCausalChunks,
  MAX_CAUSAL_CHUNKS,
  PlanOptim,
} from "./plan/optim.ts";
export { residualWgsl, type TaylorLaunch, taylorLaunch } from "./launch.ts";

/** Most rows (points) {@linkcode Plan.fullNtk} builds the full NTK for. */
export const MAX_FULL_NTK_ROWS = 4096;

/** A fixed-shape plan over one engine; see `plan/core.ts` for its buffers. */
export class Plan extends PlanOptim {
  /** Plans evaluation buffers and sequences for `o`. */
  static async create(engine: Engine, o: PlanOptions): Promise<Plan> {
    validateSizes(o.sizes, o.problem.inputs.length, "--sizes", problemOutputs(o.problem).length);
    checkPlanResources(engine, o);
    const p = new Plan(engine, o);
    // What the estimate cannot see (a GPU whose memory is full) shows up here.
    engine.device.pushErrorScope("out-of-memory");
    let oom: GPUError | null = null;
    try {
      p.allocate(o);
    } finally {
      oom = await engine.device.popErrorScope();
    }
    if (oom) {
      await p.dispose();
      throw new UserError(
        "GPU memory",
        `The GPU could not allocate the plan's buffers (${
          oom.message.split("\n")[0]
        }); use fewer points, a narrower network or a smaller --k, or close other GPU programs.`,
      );
    }
    await p.planCore();
    return p;
  }

  /**
   * The full NTK K = J Jᵀ over every real point of every group (at most
   * `maxRows` rows): per-point gradients from one backward pass (∇_{W_l} r_i =
   * Σ_c z̄_{i,c} a_{i,c}ᵀ, the bias through A's indicator row), then K by the
   * engine's matrix product in parameter chunks, accumulated in float64.
   */
  async fullNtk(
    maxRows: number = MAX_FULL_NTK_ROWS,
  ): Promise<{ order: { group: string; index: number }[]; K: Float64Array }> {
    const { batch, net, engine } = this;
    const n = batch.groups.reduce((a, g) => a + g.n, 0);
    if (n > maxRows) {
      throw new UserError(
        "--points",
        `The full NTK is limited to ${maxRows} rows and these points give ${n}; use a smaller points file.`,
      );
    }
    engine.submit("fullNtk.primal", this.forward, this.residual, this.backward);
    const cols = batch.cols;
    const dz: Float32Array[] = [], act: Float32Array[] = [];
    for (let l = 1; l <= this.L; l++) {
      dz[l] = await this.read(this.DZ[l], 0, net.sizes[l] * cols);
      act[l - 1] = await this.read(this.A[l - 1], 0, (net.sizes[l - 1] + 1) * cols);
    }
    const order = batch.groups.flatMap((g) =>
      Array.from({ length: g.n }, (_, index) => ({ group: g.name, index }))
    );
    // Column of channel c of each row (point) of K.
    const rowCols = batch.groups.flatMap((g) =>
      Array.from(
        { length: g.n },
        (_, i) => Array.from({ length: g.channels }, (_, c) => g.col + c * g.np + i),
      )
    );
    const np = Math.ceil(n / 16) * 16;
    const P = net.paramCount;
    const chunk = Math.max(
      1,
      Math.min(P, Math.floor(Math.min(engine.maxBinding, 64 * 2 ** 20) / (4 * np)) - 1),
    );
    const lt = engine.storage("fullNtk.jt", (chunk + 1) * np * 4);
    const z = engine.storage("fullNtk.k", np * np * 4, "the full NTK (rows²)");
    const K = new Float64Array(n * n);
    const jt = new Float32Array((chunk + 1) * np);
    // Every chunk has `chunk` rows (the last one zero-padded), so one dispatch serves all.
    const d = await matmulDispatch(
      engine,
      { M: np, K: chunk, N: np },
      { lt, a: lt, z },
      "fullNtk.product",
    );
    for (let p0 = 0; p0 < P; p0 += chunk) {
      const pc = Math.min(chunk, P - p0);
      jt.fill(0);
      for (let q = 0; q < pc; q++) {
        const p = p0 + q;
        const li = net.layers.findLastIndex((lay) => p >= lay.w);
        const lay = net.layers[li];
        const [r, k] = p >= lay.b
          ? [p - lay.b, lay.in]
          : [Math.floor((p - lay.w) / lay.in), (p - lay.w) % lay.in];
        const zr = dz[li + 1], ak = act[li];
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (const col of rowCols[i]) s += zr[r * cols + col] * ak[k * cols + col];
          jt[q * np + i] = s;
        }
      }
      engine.write(lt, 0, jt);
      engine.submit("fullNtk.product", [d]);
      const part = await this.read(z, 0, np * np);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) K[i * n + j] += part[i * np + j];
    }
    await engine.pool.release(lt, z);
    return { order, K };
  }
}
