/**
 * The core of a plan: the {@linkcode PlanCore} class, its forward, residual,
 * backward and loss sequences of one fixed-shape evaluation (every buffer, bind
 * group and dispatch size is made once; the sequences are replayed), and the
 * evaluation and exact norms read back from them.
 *
 * Buffers: A[l], Z[l], DZ[l] per layer and the named ones in `b` (params, grad,
 * res, lambda, …), tabled with their shapes in `buffers.ts`, which allocates them.
 * Beside it also: `layers.ts` (the Taylor launch helpers), `gradient.ts`
 * (weight-gradient slices, gather, pack) and `norms.ts` (the exact norms).
 *
 * @module
 */
/// <reference types="npm:@webgpu/types@0.1.74" />
import type { Dispatch, Engine, UniformValues } from "../engine.ts";
import { readBuffer } from "../buffers.ts";
import { type BatchLayout, batchLayout, type NetLayout, netLayout } from "../layout.ts";
import type { Activation } from "../model.ts";
import type { Counts } from "../points.ts";
import { type Problem, problemOutputs } from "../problems/problem.ts";
import { UserError } from "../errors.ts";
import { residualLaunch } from "../launch.ts";
import { denseSizes, type FourierEmbedding } from "../embedding.ts";
import { allocateCore } from "./buffers.ts";
import { backwardFields, forwardFields, layerLaunch } from "./layers.ts";
import {
  gatherDispatch,
  gatherUniforms,
  gradientSlices,
  packDispatch,
  weightGradSeq,
} from "./gradient.ts";
import { exactNormsOf, gramSeq } from "./norms.ts";
import { evaluateOf, type Evaluation, readOutputsOf } from "./readback.ts";
import { createLayerUniforms, type LayerUniforms } from "./layer_uniforms.ts";

export type { Evaluation, LayerUniforms };

/** What a plan is for. */
export interface PlanOptions {
  /** The problem whose residual groups the plan evaluates. */
  problem: Problem;
  /** Layer widths [d, W, …, W, m] (m = the problem's outputs). */
  sizes: number[];
  /** Hidden-layer activation. */
  activation: Activation;
  /** Points per group (fixed for the plan's lifetime). */
  counts: Counts;
  /** Directions per JVP / predictor chunk; 0 (default) allocates no direction buffers. */
  directions?: number;
  /** Allocate tangent activations for the JVP kernels (needs `directions`). */
  tangents?: boolean;
  /** Column slice of the weight gradients, in vec4 (default 128). */
  sliceVec4?: number;
  /** Fixed Fourier features the first layer reads (`plan/embed.ts`); raw inputs when absent. */
  embedding?: FourierEmbedding;
}

/** Row stride of per-point arrays with several rows: 64 floats keep row offsets 256-byte aligned. */
const rowStride = (points: number) => Math.ceil(points / 64) * 64;

/** Makes a uniform buffer owned by the plan (PlanCore's `uniform`), for the recording helpers. */
export type UniformMaker = (
  kernel: Parameters<Engine["uniform"]>[0],
  values: UniformValues,
  label: string,
) => GPUBuffer;

/** A plan's buffers and core sequences; {@linkcode Plan} adds the estimators, optimizer and full NTK. */
export class PlanCore {
  /** The engine the plan's buffers live on. */
  readonly engine: Engine;
  /** The problem being evaluated. */
  readonly problem: Problem;
  /** Flat and packed parameter layouts of the network. */
  readonly net: NetLayout;
  /** Column layout of the groups' points and channels. */
  readonly batch: BatchLayout;
  /** Hidden-layer activation. */
  readonly activation: Activation;
  /** Directions per JVP / predictor chunk (0: none allocated). */
  readonly directions: number;
  /** Number of dense layers L. */
  readonly L: number;
  /** Number of groups G. */
  readonly G: number;
  /** Weight-gradient slices: (first vec4, end vec4, group, 0). */
  readonly slices: Uint32Array;
  /** Row stride of multi-row per-point arrays (floats). */
  readonly yStride: number;
  /** Network outputs m (rows of the output channels Z[L]). */
  readonly outputs: number;
  /** The input embedding the first layer reads (absent: the raw inputs). */
  readonly embedding?: FourierEmbedding;

  // Buffers, named as in `buffers.ts`.
  /** Activations A[l] per layer (see the module documentation). */
  readonly A: GPUBuffer[] = [];
  /** Pre-activations Z[l] per layer. */
  readonly Z: GPUBuffer[] = [];
  /** Adjoints Z̄[l] per layer, seeded per point. */
  readonly DZ: GPUBuffer[] = [];
  /** Every other buffer by name (params, grad, res, lambda, …). */
  readonly b: Record<string, GPUBuffer> = {};

  // Planned sequences.
  /** Taylor-channel forward pass through every layer. */
  forward!: Dispatch[];
  /** Residuals and their channel seeds per point. */
  residual!: Dispatch[];
  /** Backward pass of the channels (seeded per point). */
  backward!: Dispatch[];
  /** Per-slice weight gradients scaled by each point's loss factor. */
  weightGrad!: Dispatch[];
  /** Sums the slices into the flat gradient. */
  gather!: Dispatch[];
  /** Packs the flat parameters into the kernels' layouts. */
  pack!: Dispatch[];
  /** Σ_i r_i² per group. */
  lossSums!: Dispatch[];
  /** Per-point gradient norms by the channel-Gram identities. */
  gram!: Dispatch[];
  /** Sums of the per-point norms per group (exact traces). */
  traceSums!: Dispatch[];
  #owned: GPUBuffer[] = [];
  #uniforms: GPUBuffer[] = [];
  #seqCache = new Map<string, Promise<Dispatch[]>>();

  /** Lays out the plan; {@linkcode Plan.create} allocates and plans it. */
  protected constructor(engine: Engine, o: PlanOptions) {
    this.engine = engine;
    this.problem = o.problem;
    this.activation = o.activation;
    this.embedding = o.embedding;
    this.net = netLayout(denseSizes(o.sizes, o.embedding));
    this.batch = batchLayout(o.problem, o.counts);
    // Tangent activations hold a chunk of directions in one binding: a chunk that
    // would not fit is made smaller (the estimators loop over chunks).
    const tangentBytes = 4 * Math.max(...o.sizes.slice(1)) * this.batch.cols;
    const fit = o.tangents ? Math.max(1, Math.floor(engine.maxBinding / tangentBytes)) : Infinity;
    this.directions = Math.min(o.directions ?? 0, fit);
    this.L = this.net.layers.length;
    this.G = this.batch.groups.length;
    this.yStride = rowStride(this.batch.points);
    this.outputs = o.sizes[o.sizes.length - 1];
    const m = problemOutputs(o.problem).length;
    if (this.outputs !== m) {
      throw new UserError(
        "--sizes",
        `The network has ${this.outputs} outputs but problem ${o.problem.name} has ${m} (${
          problemOutputs(o.problem).join(", ")
        }); end --sizes in ${m}.`,
      );
    }
    this.slices = gradientSlices(this.batch, o.sliceVec4 ?? engine.tuning.slice);
  }

  /** A storage buffer of `floats` floats owned by the plan. */
  protected buf(label: string, floats: number, what?: string): GPUBuffer {
    const b = this.engine.storage(label, floats * 4, what);
    this.#owned.push(b);
    return b;
  }

  /** A uniform buffer owned by the plan. */
  protected uniform(
    kernel: Parameters<Engine["uniform"]>[0],
    values: UniformValues,
    label: string,
  ): GPUBuffer {
    const u = this.engine.uniform(kernel, values, label);
    this.#uniforms.push(u);
    return u;
  }

  /**
   * Kernel `kernel`'s uniform struct once per layer in one buffer the plan owns
   * ({@linkcode createLayerUniforms}).
   */
  protected layerUniforms(
    kernel: Parameters<Engine["uniform"]>[0],
    label: string,
    fields: (lay: NetLayout["layers"][number]) => UniformValues,
  ): LayerUniforms {
    const u = createLayerUniforms(this.engine, this.net.layers, kernel, label, fields);
    this.#uniforms.push(u.buffer);
    return u;
  }

  /** Allocates the buffers of the module documentation. */
  protected allocate(o: PlanOptions): void {
    allocateCore(this, o, (label, floats, what) => this.buf(label, floats, what));
  }

  /** Forward sequence reading packed forward weights from `pack`. */
  async forwardWith(pack: GPUBuffer, tag: string): Promise<Dispatch[]> {
    const seq: Dispatch[] = [];
    for (let l = 1; l <= this.L; l++) {
      const t = layerLaunch(this, l);
      const u = this.uniform("taylorForward", forwardFields(this, l, t), `forward${tag}.l${l}`);
      const act = l === this.L ? this.b.dummy : this.A[l];
      seq.push(
        await this.engine.dispatch(
          "taylorForward",
          t.variant,
          { 0: u, 1: pack, 2: this.A[l - 1], 3: this.Z[l], 4: act },
          t.grid,
          `forward${tag}.l${l}`,
        ),
      );
    }
    return seq;
  }

  /**
   * Residual sequence writing residuals at row `row` of `out`; seeds and α only
   * when `seeds`. One dispatch covers every group (src/launch.ts `residualLaunch`).
   */
  async residualInto(
    out: GPUBuffer,
    row: number,
    seeds: boolean,
    tag: string,
  ): Promise<Dispatch[]> {
    const r = residualLaunch(this.problem, this.batch.groups, {
      resRow: row * this.yStride,
      seeds,
      wg: 64,
    });
    const u = this.uniform("residual", { ld: this.batch.cols, ...r.fields }, `residual${tag}`);
    return [
      await this.engine.dispatch(
        "residual",
        r.variant,
        { 0: u, 1: this.Z[this.L], 2: this.b.pts, 3: this.DZ[this.L], 4: out, 5: this.b.alpha },
        [r.workgroups],
        `residual${tag}`,
      ),
    ];
  }

  /** Group sums (of squares when `square`) of `rows` rows of a per-point array. */
  async groupSumsOf(
    values: GPUBuffer,
    rows: number,
    square: boolean,
    out: GPUBuffer,
    tag: string,
  ): Promise<Dispatch[]> {
    const u = this.uniform(
      "groupSums",
      { rowStride: this.yStride, G: this.G },
      `groupSums.${tag}`,
    );
    return [
      await this.engine.dispatch(
        "groupSums",
        { consts: { SQUARE: square ? 1 : 0 } },
        { 0: u, 7: values, 8: this.b.groups, 9: out },
        [this.G, rows],
        `groupSums.${tag}`,
      ),
    ];
  }

  /** Plans the core sequences. */
  protected async planCore(): Promise<void> {
    const { L, b } = this;
    this.forward = await this.forwardWith(b.packF, "");
    this.residual = await this.residualInto(b.res, 0, true, "");
    this.backward = [];
    for (let l = L - 1; l >= 1; l--) {
      const t = layerLaunch(this, l);
      const u = this.uniform("taylorBackward", backwardFields(this, l, t), `backward.l${l}`);
      this.backward.push(
        await this.engine.dispatch(
          "taylorBackward",
          t.variant,
          { 0: u, 1: b.packB, 5: this.DZ[l + 1], 6: this.Z[l], 7: this.DZ[l] },
          t.grid,
          `backward.l${l}`,
        ),
      );
    }
    const uniform: UniformMaker = (kernel, values, label) => this.uniform(kernel, values, label);
    this.weightGrad = await weightGradSeq(this, uniform);
    const optU = gatherUniforms(this, uniform, "gather");
    this.gather = await gatherDispatch(this, optU, b.lambda, "gather");
    this.pack = await packDispatch(this, optU, b.params, b.packF, b.packB, "pack");
    this.lossSums = await this.groupSumsOf(b.res, 1, true, b.lossSums, "loss");
    this.gram = await gramSeq(this, uniform);
    this.traceSums = await this.groupSumsOf(b.norms, 1, false, b.traceSums, "traces");
  }

  /** A sequence made once per key and replayed. */
  protected cached(key: string, make: () => Promise<Dispatch[]>): Promise<Dispatch[]> {
    let p = this.#seqCache.get(key);
    if (!p) {
      p = make();
      this.#seqCache.set(key, p);
    }
    return p;
  }

  /** Uploads flat parameters and packs them (in the next submit's queue order). */
  setParams(params: Float32Array): void {
    if (params.length !== this.net.paramCount) {
      throw new UserError(
        "params",
        `Expected ${this.net.paramCount} parameters, got ${params.length}.`,
      );
    }
    this.engine.write(this.b.params, 0, params);
    this.engine.submit("pack", this.pack);
  }

  /** Sets λ per group (the weights of the loss). */
  setLambda(weights: Record<string, number>): void {
    const lam = Float32Array.from(this.batch.groups.map((g) => weights[g.name] ?? 1));
    this.engine.write(this.b.lambda, 0, lam);
  }

  /** Reads `count` floats of `buf` from float offset `offset`. */
  async read(buf: GPUBuffer, offset = 0, count?: number): Promise<Float32Array> {
    const bytes = await readBuffer(
      this.engine.device,
      this.engine.pool,
      buf,
      offset * 4,
      count === undefined ? undefined : count * 4,
    );
    return new Float32Array(bytes);
  }

  /** Splits a per-point array into its groups' real points. */
  perGroup(data: Float32Array, row = 0): Record<string, Float32Array> {
    return Object.fromEntries(
      this.batch.groups.map((g) => [
        g.name,
        data.slice(row * this.yStride + g.pointOff, row * this.yStride + g.pointOff + g.n),
      ]),
    );
  }

  /**
   * The network's outputs u_k (value channel) at the real points of every group,
   * after a forward pass: one array per output, per group.
   */
  readOutputs(): Promise<Record<string, Float32Array[]>> {
    return readOutputsOf(this);
  }

  /** Residuals, loss and (optionally) the gradient at the current parameters and λ. */
  evaluate(withGradient = true): Promise<Evaluation> {
    return evaluateOf(this, withGradient);
  }

  /** Per-point ‖∇_θ r_i‖² (exact, one backward pass) and per-group traces. */
  async exactNorms(): Promise<
    { norms: Record<string, Float32Array>; traces: Record<string, number> }
  > {
    return await exactNormsOf(this);
  }

  /** Frees the plan's buffers (returned to the engine's pool after pending work). */
  async dispose(): Promise<void> {
    for (const u of this.#uniforms) u.destroy();
    this.#uniforms = [];
    await this.engine.pool.release(...this.#owned);
    this.#owned = [];
  }

  /** Calls {@linkcode PlanCore.dispose}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
