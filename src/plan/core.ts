/**
 * The core of a plan: its buffers and the forward, residual, backward and
 * exact-norm sequences of one fixed-shape evaluation (every buffer, bind group
 * and dispatch size is made once; the sequences are replayed).
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
import type { Dispatch, Engine, UniformValues } from "../engine.ts";
import { readBuffer } from "../buffers.ts";
import { type BatchLayout, batchLayout, type NetLayout, netLayout } from "../layout.ts";
import type { Activation } from "../model.ts";
import type { Counts } from "../points.ts";
import { type Problem, problemOutputs } from "../problems/problem.ts";
import { UserError } from "../errors.ts";
import { residualLaunch, type TaylorLaunch, taylorLaunch } from "../launch.ts";
import { GRAD_CHUNK } from "../tuning.ts";
import { denseSizes, type FourierEmbedding } from "../embedding.ts";

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

const ACT_CODE: Record<Activation, number> = { tanh: 0, sin: 1 };
/** Row stride of per-point arrays with several rows: 64 floats keep row offsets 256-byte aligned. */
const rowStride = (points: number) => Math.ceil(points / 64) * 64;
/** Ceiling of a / b. */
export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

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

  // Buffers, named as in the module documentation.
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
    const sliceLen = o.sliceVec4 ?? engine.tuning.slice;
    const sl: number[] = [];
    this.batch.groups.forEach((g, gi) => {
      const c0 = g.col / 4, c1 = (g.col + g.channels * g.np) / 4;
      for (let c = c0; c < c1; c += sliceLen) sl.push(c, Math.min(c1, c + sliceLen), gi, 0);
    });
    this.slices = Uint32Array.from(sl);
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

  /** Allocates the buffers of the module documentation. */
  protected allocate(o: PlanOptions): void {
    const { net, batch } = this;
    const sizes = net.sizes, cols = batch.cols, P = net.paramCount;
    const what = "the activations (--n points × channels × width)";
    for (let l = 0; l < this.L; l++) this.A.push(this.buf(`A${l}`, (sizes[l] + 1) * cols, what));
    for (let l = 0; l <= this.L; l++) {
      this.Z.push(l === 0 ? this.A[0] : this.buf(`Z${l}`, sizes[l] * cols, what));
      this.DZ.push(l === 0 ? this.A[0] : this.buf(`DZ${l}`, sizes[l] * cols, what));
    }
    const nslices = this.slices.length / 4;
    const b = this.b;
    b.layers = this.buf("layers", net.table.length);
    this.engine.write(b.layers, 0, net.table);
    b.groups = this.buf("groups", 4 * this.G);
    this.engine.write(
      b.groups,
      0,
      Uint32Array.from(batch.groups.flatMap((g) => [g.pointOff, g.n, g.np, g.col])),
    );
    b.slices = this.buf("slices", this.slices.length);
    this.engine.write(b.slices, 0, this.slices);
    b.params = this.buf("params", P);
    b.moments = this.buf("moments", 2 * P);
    b.packF = this.buf("packF", net.packedF);
    b.packB = this.buf("packB", net.packedB);
    b.packP = this.buf("packP", net.packedF);
    b.lambda = this.buf("lambda", this.G);
    this.setLambda(Object.fromEntries(batch.groups.map((g) => [g.name, 1])));
    b.ntkState = this.buf("ntkState", 2 * this.G + 1);
    b.partial = this.buf("partial", nslices * P, "the weight-gradient slices");
    b.grad = this.buf("grad", P);
    b.pts = this.buf("pts", 8 * batch.points);
    b.alpha = this.buf("alpha", cols);
    b.res = this.buf("res", batch.points);
    b.norms = this.buf("norms", batch.points);
    b.lossSums = this.buf("lossSums", this.G);
    b.traceSums = this.buf("traceSums", Math.max(1, this.directions) * this.G);
    b.dummy = this.buf("dummy", 4);
    // The bias-indicator rows of hidden activations never change.
    const ind = new Float32Array(cols);
    for (const g of batch.groups) ind.fill(1, g.col, g.col + g.np);
    for (let l = 1; l < this.L; l++) {
      this.engine.write(this.A[l], sizes[l] * cols * 4, ind);
    }
    if (this.directions > 0) {
      const k = this.directions;
      b.dirs = this.buf("dirs", k * net.packedF, "the parameter directions (--k × parameters)");
      b.resP = this.buf("resP", k * this.yStride);
      b.resQ = this.buf("resQ", k * this.yStride);
      b.Y = this.buf("Y", k * this.yStride);
      b.noise = this.buf("noise", batch.points);
      b.packV = this.buf("packV", net.packedF);
      b.packScratch = this.buf("packScratch", net.packedB);
      if (o.tangents) {
        const rows = Math.max(...sizes.slice(1));
        const twhat = "the JVP tangents (--k × points × channels × width); use a smaller --k";
        b.T0 = this.buf("T0", k * rows * cols, twhat);
        b.T1 = this.buf("T1", k * rows * cols, twhat);
      }
    }
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
    const { net, batch, L, b } = this;
    const ld4 = batch.cols / 4, P = net.paramCount, nslices = this.slices.length / 4;
    this.forward = await this.forwardWith(b.packF, "");
    this.residual = await this.residualInto(b.res, 0, true, "");
    this.backward = [];
    for (let l = L - 1; l >= 1; l--) {
      const next = net.layers[l]; // layer l+1 (0-based index l)
      const t = layerLaunch(this, l);
      const u = this.uniform("taylorBackward", {
        M: next.in,
        K: next.out,
        ld4,
        wOff4: next.bOff / 4,
        ldw4: next.ldb / 4,
        ngroups: t.ngroups,
        groups: t.groups,
      }, `backward.l${l}`);
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
    this.weightGrad = [];
    const [TM, TK] = this.engine.tuning.gradTile;
    const gwg = this.engine.tuning.gradWG ?? 64;
    const shared = this.engine.tuning.gradShared;
    for (let l = 1; l <= L; l++) {
      const lay = net.layers[l - 1];
      // Register kernel: one invocation per TM × TK tile; shared: one workgroup per block of SR × SK tiles.
      const [bm, bk] = shared ? [TM * shared[0], TK * shared[1]] : [TM, TK];
      const tilesK = ceilDiv(lay.in + 1, bk);
      const u = this.uniform("weightGrad", {
        M: lay.out,
        K1: lay.in + 1,
        ld4,
        outOff: lay.w,
        partStride: P,
        tilesK,
      }, `weightGrad.l${l}`);
      this.weightGrad.push(
        await this.engine.dispatch(
          shared ? "weightGradShared" : "weightGrad",
          shared
            ? { consts: { TM, TK, SR: shared[0], SK: shared[1], CT: GRAD_CHUNK } }
            : { consts: { TM, TK }, overrides: { WG: gwg } },
          { 0: u, 1: this.DZ[l], 2: this.A[l - 1], 3: b.alpha, 4: b.slices, 5: b.partial },
          [ceilDiv(ceilDiv(lay.out, bm) * tilesK, shared ? 1 : gwg), nslices],
          `weightGrad.l${l}`,
        ),
      );
    }
    const optU = this.uniform("gatherGradient", { count: P, nslices, L }, "gather");
    this.gather = [
      await this.engine.dispatch(
        "gatherGradient",
        { overrides: { WG: 64 } },
        { 0: optU, 1: b.layers, 2: b.partial, 3: b.slices, 4: b.lambda, 9: b.grad },
        [ceilDiv(P, 64)],
        "gather",
      ),
    ];
    this.pack = [
      await this.engine.dispatch(
        "packWeights",
        { overrides: { WG: 64 } },
        { 0: optU, 1: b.layers, 10: b.params, 7: b.packF, 8: b.packB },
        [ceilDiv(P, 64)],
        "pack",
      ),
    ];
    this.lossSums = await this.groupSumsOf(b.res, 1, true, b.lossSums, "loss");
    this.gram = [];
    // One dispatch per layer covers every group (one instance per channel count).
    const chans = [...new Set(batch.groups.map((g) => g.channels))];
    const table: number[] = [];
    let x = 0;
    for (const g of batch.groups) {
      table.push(g.np / 4, g.col / 4, g.pointOff / 4, x);
      x += ceilDiv(g.np / 4, 64);
    }
    const select = [
      `fn gramGroup(g: u32, pv: u32) {`,
      `  switch g {`,
      ...batch.groups.map((g, gi) =>
        `    case ${gi}u: { gram_${chans.indexOf(g.channels)}(pv, P.groups[${gi}]); }`
      ),
      `    default: {}`,
      `  }`,
      `}`,
    ].join("\n");
    for (let l = 1; l <= L; l++) {
      const lay = net.layers[l - 1];
      const u = this.uniform("gramNorms", {
        M: lay.out,
        K1: lay.in + 1,
        ld4,
        accumulate: l > 1 ? 1 : 0,
        ngroups: this.G,
        groups: table,
      }, `gram.l${l}`);
      this.gram.push(
        await this.engine.dispatch(
          "gramNorms",
          {
            overrides: { WG: 64 },
            instances: { region: "group", values: chans.map((C) => ({ C })) },
            regions: { select },
          },
          { 0: u, 1: this.DZ[l], 2: this.A[l - 1], 3: b.norms },
          [x],
          `gram.l${l}`,
        ),
      );
    }
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
  async readOutputs(): Promise<Record<string, Float32Array[]>> {
    const cols = this.batch.cols;
    const z = await this.read(this.Z[this.L], 0, this.outputs * cols);
    return Object.fromEntries(
      this.batch.groups.map((g) => [
        g.name,
        Array.from(
          { length: this.outputs },
          (_, k) => z.slice(k * cols + g.col, k * cols + g.col + g.n),
        ),
      ]),
    );
  }

  /** Residuals, loss and (optionally) the gradient at the current parameters and λ. */
  async evaluate(withGradient = true): Promise<Evaluation> {
    const seqs = [this.forward, this.residual, this.lossSums];
    if (withGradient) seqs.push(this.backward, this.weightGrad, this.gather);
    this.engine.submit("evaluate", ...seqs);
    const res = await this.read(this.b.res);
    const sums = await this.read(this.b.lossSums, 0, this.G);
    const lam = await this.read(this.b.lambda, 0, this.G);
    const lossPerGroup: Record<string, number> = {};
    let loss = 0;
    this.batch.groups.forEach((g, i) => {
      lossPerGroup[g.name] = sums[i] / g.n;
      loss += lam[i] * sums[i] / g.n;
    });
    const out: Evaluation = { residuals: this.perGroup(res), lossPerGroup, loss };
    if (withGradient) out.gradient = await this.read(this.b.grad, 0, this.net.paramCount);
    return out;
  }

  /** Per-point ‖∇_θ r_i‖² (exact, one backward pass) and per-group traces. */
  async exactNorms(): Promise<
    { norms: Record<string, Float32Array>; traces: Record<string, number> }
  > {
    this.engine.submit(
      "exactNorms",
      this.forward,
      this.residual,
      this.backward,
      this.gram,
      this.traceSums,
    );
    const norms = this.perGroup(await this.read(this.b.norms, 0, this.batch.points));
    const sums = await this.read(this.b.traceSums, 0, this.G);
    return {
      norms,
      traces: Object.fromEntries(this.batch.groups.map((g, i) => [g.name, sums[i]])),
    };
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

/**
 * The Taylor kernel variant for layer `l` (1-based): one dispatch covers every
 * group, each with a register tile for its own channel set (shaders/taylor.wgsl).
 */
export function layerLaunch(p: PlanCore, l: number, z = 1): TaylorLaunch {
  const out = l === p.L;
  const rows = p.net.layers[l - 1].out;
  const [wx, wy] = p.engine.tuning.taylorWG;
  // 16 rows per invocation pays on wide layers only: on a 32-row layer it was no
  // faster on llvmpipe and its kernels (one register tile per group) took 3× as long to compile.
  const tm = out && rows <= 4 ? 4 : Math.min(p.engine.tuning.taylorTM, rows < 64 ? 8 : 16);
  return taylorLaunch(p.batch.groups, rows, {
    tm,
    act: out ? 2 : ACT_CODE[p.activation],
    wg: [wx, wy],
    z,
  });
}

/** Uniform fields of layer `l` (1-based) read through the packed forward weights. */
export function forwardFields(p: PlanCore, l: number, t: TaylorLaunch): UniformValues {
  const lay = p.net.layers[l - 1];
  return {
    M: lay.out,
    K: lay.in,
    ld4: p.batch.cols / 4,
    wOff4: lay.fOff / 4,
    ldw4: lay.ldf / 4,
    bOff4: (lay.fOff + lay.in * lay.ldf) / 4,
    ngroups: t.ngroups,
    groups: t.groups,
  };
}
