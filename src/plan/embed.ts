/**
 * A plan's inputs: the points' upload and the input channels A[0]. With {@linkcode PlanOptions.embedding} the first
 * layer reads Fourier features of the points (shaders/embed.wgsl) instead of the
 * raw inputs. The kernel fills A[0] (features and their derivative channels, then
 * the bias-indicator row) once per point set, right after the points' upload; the
 * forward, backward, tangent and Gram sequences read A[0] as any layer's input,
 * and nothing flows back into the embedding (B is not a parameter).
 *
 * Without an embedding A[0] is written from the CPU (the inputs are linear).
 *
 * Buffers: embedCols (cols × 4 u32: point, a, b, 0 per column), embedFreq (M × 8:
 * Ω_f then φ_f), both written once.
 *
 * @module
 */
/// <reference types="npm:@webgpu/types@0.1.74" />
import type { Dispatch } from "../engine.ts";
import { embeddingPhases, type FourierEmbedding } from "../embedding.ts";
import type { BatchLayout } from "../layout.ts";
import type { Points } from "../points.ts";
import { UserError } from "../errors.ts";
import { PlanCore, type PlanOptions } from "./core.ts";
import { ceilDiv } from "./layers.ts";

/**
 * Per column of the batch: (point, a, b, 0) with a, b = 1 + the input direction
 * of the channel's first and second derivative (0: none), in the channel order of
 * src/problems/expr.ts (value, first, pure second, mixed).
 */
export function embedColumns(batch: BatchLayout): Uint32Array {
  const t = new Uint32Array(4 * batch.cols);
  for (const g of batch.groups) {
    const kinds: [number, number][] = [[0, 0]];
    for (const a of g.set.first) kinds.push([a + 1, 0]);
    for (let q = 0; q < g.set.numSecond; q++) kinds.push([g.set.first[q] + 1, g.set.first[q] + 1]);
    for (const [a, b] of g.set.mixed ?? []) kinds.push([a + 1, b + 1]);
    kinds.forEach(([a, b], c) => {
      for (let i = 0; i < g.np; i++) t.set([g.pointOff + i, a, b, 0], 4 * (g.col + c * g.np + i));
    });
  }
  return t;
}

/** Ω_f (padded to 4 inputs) and (φ_f, 0, 0, 0) per frequency, as the kernel reads them. */
export function embedFrequencies(e: FourierEmbedding): Float32Array {
  const { omega, phi } = embeddingPhases(e);
  const t = new Float32Array(8 * e.B.length);
  omega.forEach((w, f) => {
    t.set(w, 8 * f);
    t[8 * f + 4] = phi[f];
  });
  return t;
}

/** The core plan with the points' upload, the input channels and the embedding's kernel. */
export class PlanEmbed extends PlanCore {
  /** Fills A[0] from the uploaded points (planned only with an embedding). */
  embed: Dispatch[] = [];

  /** Allocates the core buffers and, with an embedding, its tables. */
  protected override allocate(o: PlanOptions): void {
    super.allocate(o);
    const e = this.embedding;
    if (!e) return;
    this.b.embedCols = this.buf("embedCols", 4 * this.batch.cols);
    this.engine.write(this.b.embedCols, 0, embedColumns(this.batch));
    this.b.embedFreq = this.buf("embedFreq", 8 * e.B.length);
    this.engine.write(this.b.embedFreq, 0, embedFrequencies(e));
  }

  /** Plans the core sequences and the embedding's dispatch. */
  protected override async planCore(): Promise<void> {
    await super.planCore();
    const e = this.embedding;
    if (!e) return;
    const d = e.domain.length;
    const s = [0, 0, 0, 0], o = [0, 0, 0, 0];
    e.domain.forEach(([lo, hi], a) => {
      s[a] = 2 / (hi - lo);
      o[a] = -(hi + lo) / (hi - lo);
    });
    const u = this.uniform("embedFourier", {
      ld: this.batch.cols,
      M: e.B.length,
      d,
      raw: e.raw ? 1 : 0,
      s,
      o,
    }, "embed");
    const b = this.b;
    this.embed = [
      await this.engine.dispatch(
        "embedFourier",
        { overrides: { WG: 64 } },
        { 0: u, 1: b.pts, 2: b.embedCols, 3: b.embedFreq, 4: this.A[0] },
        [ceilDiv(this.batch.cols, 64)],
        "embed",
      ),
    ];
  }

  /**
   * Uploads a point set (counts must match the plan's) and the input channels
   * A[0]: the raw inputs (a_0 = x, a_a = e_a, a_aa = 0), or the embedding's
   * features computed on the GPU from the uploaded points.
   */
  setPoints(points: Points): void {
    const { batch, problem } = this;
    const d = problem.inputs.length;
    const pts = new Float32Array(8 * batch.points);
    const cols = batch.cols;
    const a0 = this.embedding ? undefined : new Float32Array((d + 1) * cols);
    batch.groups.forEach((g, gi) => {
      const list = points[g.name];
      if (!list || list.length !== g.n) {
        throw new UserError(
          "points",
          `Group ${g.name} needs ${g.n} points for this plan, got ${list?.length ?? 0}.`,
        );
      }
      const def = problem.groups[gi];
      for (let i = 0; i < g.np; i++) {
        const x = i < g.n ? list[i] : list[0];
        for (let k = 0; k < d; k++) pts[8 * (g.pointOff + i) + k] = x[k];
        pts[8 * (g.pointOff + i) + 4] = def.target ? def.target(x) : 0;
        if (!a0) continue;
        for (let k = 0; k < d; k++) a0[k * cols + g.col + i] = x[k];
        a0[d * cols + g.col + i] = 1;
        g.set.first.forEach((dir, f) => {
          a0[dir * cols + g.col + (1 + f) * g.np + i] = 1;
        });
      }
    });
    this.engine.write(this.b.pts, 0, pts);
    if (a0) this.engine.write(this.A[0], 0, a0);
    else this.engine.submit("embed", this.embed);
  }
}
