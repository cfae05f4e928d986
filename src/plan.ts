/**
 * A planned, fixed-shape evaluation of one network on one batch of groups: every
 * buffer, bind group and dispatch size is made once; the sequences are replayed.
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
import type { Dispatch, Engine, UniformValues } from "./engine.ts";
import type { Variant } from "./kernels.ts";
import { matmulDispatch } from "./matmul.ts";
import { readBuffer } from "./buffers.ts";
import {
  type BatchLayout,
  batchLayout,
  type GroupLayout,
  type NetLayout,
  netLayout,
  tileVectors,
} from "./layout.ts";
import { type Activation, validateSizes } from "./model.ts";
import type { Counts, Points } from "./points.ts";
import type { Problem } from "./problems/problem.ts";
import { type ChannelRef, diffChannel, toWgsl } from "./problems/expr.ts";
import { UserError } from "./errors.ts";
import { Stream } from "./random.ts";
import { checkPlanResources } from "./limits.ts";

/** What a plan is for. */
export interface PlanOptions {
  /** The problem whose residual groups the plan evaluates. */
  problem: Problem;
  /** Layer widths [d, W, …, W, 1]. */
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
}

/** Most rows (points) {@linkcode Plan.fullNtk} builds the full NTK for. */
export const MAX_FULL_NTK_ROWS = 4096;

/** Options of {@linkcode Plan.causalSeq}. */
export interface CausalOptions {
  /** The group whose points are weighted. */
  group: string;
  /** Index of the time input. */
  timeIndex: number;
  /** Chunks of the time interval (1..64). */
  chunks: number;
  /** Causality tolerance ε. */
  eps: number;
}

/** Most chunks {@linkcode Plan.causalSeq} supports (shaders/causal.wgsl). */
export const MAX_CAUSAL_CHUNKS = 64;

/** Throws unless `chunks` is a whole number in 1..{@linkcode MAX_CAUSAL_CHUNKS}. */
export function checkCausalChunks(chunks: number): void {
  if (!Number.isInteger(chunks) || chunks < 1 || chunks > MAX_CAUSAL_CHUNKS) {
    throw new UserError(
      "--chunks",
      `--chunks must be an integer in 1..${MAX_CAUSAL_CHUNKS}, not ${chunks}.`,
    );
  }
}

const ACT_CODE: Record<Activation, number> = { tanh: 0, sin: 1 };
const ceilDiv = (a: number, b: number) => Math.ceil(a / b);
/** Row stride of per-point arrays with several rows: 64 floats keep row offsets 256-byte aligned. */
const rowStride = (points: number) => Math.ceil(points / 64) * 64;

/** A Taylor kernel launch over several groups: variant, uniform group table and grid. */
export interface TaylorLaunch {
  variant: Variant;
  /** (np4, col4, first workgroup, 0) per group, for the uniform's `groups`. */
  groups: number[];
  ngroups: number;
  grid: [number, number, number];
}

/**
 * The Taylor kernel variant covering `groups` in one dispatch (shaders/taylor.wgsl):
 * one register-tile instance per distinct channel set, a generated `select`
 * region routing each group to its instance, and the grid for `rows` output rows.
 */
export function taylorLaunch(
  groups: readonly Pick<GroupLayout, "channels" | "set" | "np" | "col">[],
  rows: number,
  o: { tm: number; act: number; wg: [number, number]; z?: number },
): TaylorLaunch {
  if (groups.length > 8) {
    throw new UserError("problem", "A problem may have at most 8 residual groups.");
  }
  const keyOf = (g: (typeof groups)[number]) =>
    `${tileVectors(g.channels)}/${g.set.first.length}/${g.set.numSecond}`;
  const keys = [...new Set(groups.map(keyOf))];
  const values = keys.map((k) => {
    const [TV, NF, NS] = k.split("/").map(Number);
    return { TV, NF, NS };
  });
  const inst = groups.map((g) => keys.indexOf(keyOf(g)));
  const call = (fn: string, extra: string) =>
    [
      `fn ${fn}Group(g: u32, gx: u32, r0: u32${extra ? ", j: u32" : ""}) {`,
      `  switch g {`,
      ...inst.map((i, g) => `    case ${g}u: { ${fn}_${i}(gx, r0, P.groups[${g}]${extra}); }`),
      `    default: {}`,
      `  }`,
      `}`,
    ].join("\n");
  const [wx, wy] = o.wg;
  const table: number[] = [];
  let x = 0;
  for (const g of groups) {
    table.push(g.np / 4, g.col / 4, x, 0);
    x += ceilDiv(g.np / 4 / tileVectors(g.channels), wx);
  }
  return {
    variant: {
      consts: { TM: o.tm, ACT: o.act },
      overrides: { WG_X: wx, WG_Y: wy },
      instances: { region: "tile", values },
      regions: {
        select: [call("forward", ""), call("backward", ""), call("tangent", ", j")].join("\n"),
      },
    },
    groups: table,
    ngroups: groups.length,
    grid: [x, ceilDiv(ceilDiv(rows, o.tm), wy), o.z ?? 1],
  };
}

/** Residual function and channel derivatives of one group, as WGSL. */
export function residualWgsl(
  problem: Problem,
  group: number,
  set: { first: number[]; numSecond: number },
): string {
  const g = problem.groups[group];
  const refs: ChannelRef[] = [
    { order: 0, dir: 0 },
    ...set.first.map((dir) => ({ order: 1 as const, dir })),
    ...set.first.slice(0, set.numSecond).map((dir) => ({ order: 2 as const, dir })),
  ];
  const seeds = Array.from(
    { length: 7 },
    (_, c) => c < refs.length ? toWgsl(diffChannel(g.residual, refs[c]), set) : "0.0",
  );
  return [
    `fn pdeResidual(x: array<f32, 3>, ch: array<f32, 7>) -> f32 {`,
    `  return ${toWgsl(g.residual, set)};`,
    `}`,
    `fn pdeSeeds(x: array<f32, 3>, ch: array<f32, 7>) -> array<f32, 7> {`,
    `  return array<f32, 7>(${seeds.join(", ")});`,
    `}`,
  ].join("\n");
}

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

/** A fixed-shape plan over one engine; see the module documentation for its buffers. */
export class Plan {
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
  #causalChunks = 0;
  #averageU?: GPUBuffer;

  private constructor(engine: Engine, o: PlanOptions) {
    this.engine = engine;
    this.problem = o.problem;
    this.activation = o.activation;
    this.net = netLayout(o.sizes);
    this.batch = batchLayout(o.problem, o.counts);
    // Tangent activations hold a chunk of directions in one binding: a chunk that
    // would not fit is made smaller (the estimators loop over chunks).
    const tangentBytes = 4 * Math.max(...o.sizes.slice(1)) * this.batch.cols;
    const fit = o.tangents ? Math.max(1, Math.floor(engine.maxBinding / tangentBytes)) : Infinity;
    this.directions = Math.min(o.directions ?? 0, fit);
    this.L = this.net.layers.length;
    this.G = this.batch.groups.length;
    this.yStride = rowStride(this.batch.points);
    const sliceLen = o.sliceVec4 ?? engine.tuning.slice;
    const sl: number[] = [];
    this.batch.groups.forEach((g, gi) => {
      const c0 = g.col / 4, c1 = (g.col + g.channels * g.np) / 4;
      for (let c = c0; c < c1; c += sliceLen) sl.push(c, Math.min(c1, c + sliceLen), gi, 0);
    });
    this.slices = Uint32Array.from(sl);
  }

  /** Plans evaluation buffers and sequences for `o`. */
  static async create(engine: Engine, o: PlanOptions): Promise<Plan> {
    validateSizes(o.sizes, o.problem.inputs.length);
    checkPlanResources(engine, o);
    const p = new Plan(engine, o);
    // What the estimate cannot see (a GPU whose memory is full) shows up here.
    engine.device.pushErrorScope("out-of-memory");
    let oom: GPUError | null = null;
    try {
      p.#allocate(o);
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
    await p.#planCore();
    return p;
  }

  #buf(label: string, floats: number, what?: string): GPUBuffer {
    const b = this.engine.storage(label, floats * 4, what);
    this.#owned.push(b);
    return b;
  }

  #uniform(
    kernel: Parameters<Engine["uniform"]>[0],
    values: UniformValues,
    label: string,
  ): GPUBuffer {
    const u = this.engine.uniform(kernel, values, label);
    this.#uniforms.push(u);
    return u;
  }

  #allocate(o: PlanOptions): void {
    const { net, batch } = this;
    const sizes = net.sizes, cols = batch.cols, P = net.paramCount;
    const what = "the activations (--n points × channels × width)";
    for (let l = 0; l < this.L; l++) this.A.push(this.#buf(`A${l}`, (sizes[l] + 1) * cols, what));
    for (let l = 0; l <= this.L; l++) {
      this.Z.push(l === 0 ? this.A[0] : this.#buf(`Z${l}`, sizes[l] * cols, what));
      this.DZ.push(l === 0 ? this.A[0] : this.#buf(`DZ${l}`, sizes[l] * cols, what));
    }
    const nslices = this.slices.length / 4;
    const b = this.b;
    b.layers = this.#buf("layers", net.table.length);
    this.engine.write(b.layers, 0, net.table);
    b.groups = this.#buf("groups", 4 * this.G);
    this.engine.write(
      b.groups,
      0,
      Uint32Array.from(batch.groups.flatMap((g) => [g.pointOff, g.n, g.np, g.col])),
    );
    b.slices = this.#buf("slices", this.slices.length);
    this.engine.write(b.slices, 0, this.slices);
    b.params = this.#buf("params", P);
    b.moments = this.#buf("moments", 2 * P);
    b.packF = this.#buf("packF", net.packedF);
    b.packB = this.#buf("packB", net.packedB);
    b.packP = this.#buf("packP", net.packedF);
    b.lambda = this.#buf("lambda", this.G);
    this.setLambda(Object.fromEntries(batch.groups.map((g) => [g.name, 1])));
    b.ntkState = this.#buf("ntkState", 2 * this.G + 1);
    b.partial = this.#buf("partial", nslices * P, "the weight-gradient slices");
    b.grad = this.#buf("grad", P);
    b.pts = this.#buf("pts", 4 * batch.points);
    b.alpha = this.#buf("alpha", cols);
    b.res = this.#buf("res", batch.points);
    b.norms = this.#buf("norms", batch.points);
    b.lossSums = this.#buf("lossSums", this.G);
    b.traceSums = this.#buf("traceSums", Math.max(1, this.directions) * this.G);
    b.dummy = this.#buf("dummy", 4);
    // The bias-indicator rows of hidden activations never change.
    const ind = new Float32Array(cols);
    for (const g of batch.groups) ind.fill(1, g.col, g.col + g.np);
    for (let l = 1; l < this.L; l++) {
      this.engine.write(this.A[l], sizes[l] * cols * 4, ind);
    }
    if (this.directions > 0) {
      const k = this.directions;
      b.dirs = this.#buf("dirs", k * net.packedF, "the parameter directions (--k × parameters)");
      b.resP = this.#buf("resP", k * this.yStride);
      b.resQ = this.#buf("resQ", k * this.yStride);
      b.Y = this.#buf("Y", k * this.yStride);
      b.noise = this.#buf("noise", batch.points);
      b.packV = this.#buf("packV", net.packedF);
      b.packScratch = this.#buf("packScratch", net.packedB);
      if (o.tangents) {
        const rows = Math.max(...sizes.slice(1));
        const twhat = "the JVP tangents (--k × points × channels × width); use a smaller --k";
        b.T0 = this.#buf("T0", k * rows * cols, twhat);
        b.T1 = this.#buf("T1", k * rows * cols, twhat);
      }
    }
  }

  /**
   * The Taylor kernel variant for layer `l` (1-based): one dispatch covers every
   * group, each with a register tile for its own channel set (shaders/taylor.wgsl).
   */
  #taylor(l: number, z = 1) {
    const out = l === this.L;
    const rows = this.net.layers[l - 1].out;
    const [wx, wy] = this.engine.tuning.taylorWG;
    const tm = out && rows <= 4 ? 4 : this.engine.tuning.taylorTM;
    return taylorLaunch(this.batch.groups, rows, {
      tm,
      act: out ? 2 : ACT_CODE[this.activation],
      wg: [wx, wy],
      z,
    });
  }

  /** Uniform fields of layer `l` (1-based) read through the packed forward weights. */
  #forwardFields(l: number, t: TaylorLaunch): UniformValues {
    const lay = this.net.layers[l - 1];
    return {
      M: lay.out,
      K: lay.in,
      ld4: this.batch.cols / 4,
      wOff4: lay.fOff / 4,
      ldw4: lay.ldf / 4,
      bOff4: (lay.fOff + lay.in * lay.ldf) / 4,
      ngroups: t.ngroups,
      groups: t.groups,
    };
  }

  /** Forward sequence reading packed forward weights from `pack`. */
  async forwardWith(pack: GPUBuffer, tag: string): Promise<Dispatch[]> {
    const seq: Dispatch[] = [];
    for (let l = 1; l <= this.L; l++) {
      const t = this.#taylor(l);
      const u = this.#uniform("taylorForward", this.#forwardFields(l, t), `forward${tag}.l${l}`);
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

  /** Residual sequence writing residuals at row `row` of `out`; seeds and α only when `seeds`. */
  async residualInto(
    out: GPUBuffer,
    row: number,
    seeds: boolean,
    tag: string,
  ): Promise<Dispatch[]> {
    const seq: Dispatch[] = [];
    for (let gi = 0; gi < this.G; gi++) {
      const g = this.batch.groups[gi];
      const u = this.#uniform("residual", {
        n: g.n,
        np: g.np,
        col: g.col,
        pointOff: g.pointOff,
        resOff: g.pointOff + row * this.yStride,
        scale: 2 / g.n,
      }, `residual${tag}.${g.name}`);
      seq.push(
        await this.engine.dispatch(
          "residual",
          {
            consts: { C: g.channels, WRITE_SEEDS: seeds ? 1 : 0 },
            regions: { pde: residualWgsl(this.problem, gi, g.set) },
            overrides: { WG: 64 },
          },
          { 0: u, 1: this.Z[this.L], 2: this.b.pts, 3: this.DZ[this.L], 4: out, 5: this.b.alpha },
          [ceilDiv(g.np, 64)],
          `residual${tag}.${g.name}`,
        ),
      );
    }
    return seq;
  }

  /**
   * Causal weights of one group after the step's residual pass (shaders/causal.wgsl):
   * its points are binned into `chunks` chunks of the time input, and the loss scale
   * α of a point in chunk k is multiplied by w_k = exp(−ε Σ_{j<k} L_j), L_j being
   * chunk j's mean squared residual. The chunk losses and weights stay in
   * `b.causal` ({@linkcode Plan.readCausal}).
   */
  causalSeq(o: CausalOptions): Promise<Dispatch[]> {
    const gi = this.batch.groups.findIndex((g) => g.name === o.group);
    if (gi < 0) throw new Error(`causalSeq: no group ${o.group}`);
    checkCausalChunks(o.chunks);
    this.#causalChunks = o.chunks;
    return this.#cached(`causal:${gi}:${o.timeIndex}:${o.chunks}:${o.eps}`, async () => {
      const g = this.batch.groups[gi];
      const [t0, t1] = this.problem.domain[o.timeIndex];
      this.b.causal ??= this.#buf("causal", 2 * MAX_CAUSAL_CHUNKS);
      const u = this.#uniform("causalWeights", {
        n: g.n,
        np: g.np,
        col: g.col,
        pointOff: g.pointOff,
        channels: g.channels,
        chunks: o.chunks,
        timeIndex: o.timeIndex,
        t0,
        invSpan: 1 / (t1 - t0),
        eps: o.eps,
      }, `causal.${g.name}`);
      return [
        await this.engine.dispatch(
          "causalWeights",
          {},
          { 0: u, 1: this.b.pts, 2: this.b.res, 3: this.b.alpha, 4: this.b.causal },
          [1],
          `causal.${g.name}`,
        ),
      ];
    });
  }

  /** The last causal pass's chunk losses L_k and weights w_k (after {@linkcode Plan.causalSeq}). */
  async readCausal(): Promise<{ losses: Float32Array; weights: Float32Array }> {
    const m = this.#causalChunks;
    if (!this.b.causal || m === 0) throw new Error("readCausal: no causal pass planned");
    const v = await this.read(this.b.causal, 0, 2 * m);
    return { losses: v.slice(0, m), weights: v.slice(m, 2 * m) };
  }

  /** Group sums (of squares when `square`) of `rows` rows of a per-point array. */
  async groupSumsOf(
    values: GPUBuffer,
    rows: number,
    square: boolean,
    out: GPUBuffer,
    tag: string,
  ): Promise<Dispatch[]> {
    const u = this.#uniform(
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

  async #planCore(): Promise<void> {
    const { net, batch, L, b } = this;
    const ld4 = batch.cols / 4, P = net.paramCount, nslices = this.slices.length / 4;
    this.forward = await this.forwardWith(b.packF, "");
    this.residual = await this.residualInto(b.res, 0, true, "");
    this.backward = [];
    for (let l = L - 1; l >= 1; l--) {
      const next = net.layers[l]; // layer l+1 (0-based index l)
      const t = this.#taylor(l);
      const u = this.#uniform("taylorBackward", {
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
    for (let l = 1; l <= L; l++) {
      const lay = net.layers[l - 1];
      const tilesK = ceilDiv(lay.in + 1, TK);
      const u = this.#uniform("weightGrad", {
        M: lay.out,
        K1: lay.in + 1,
        ld4,
        outOff: lay.w,
        partStride: P,
        tilesK,
      }, `weightGrad.l${l}`);
      this.weightGrad.push(
        await this.engine.dispatch(
          "weightGrad",
          { consts: { TM, TK }, overrides: { WG: 64 } },
          { 0: u, 1: this.DZ[l], 2: this.A[l - 1], 3: b.alpha, 4: b.slices, 5: b.partial },
          [ceilDiv(ceilDiv(lay.out, TM) * tilesK, 64), nslices],
          `weightGrad.l${l}`,
        ),
      );
    }
    const optU = this.#uniform("gatherGradient", { count: P, nslices, L }, "gather");
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
    for (let l = 1; l <= L; l++) {
      const lay = net.layers[l - 1];
      for (let gi = 0; gi < this.G; gi++) {
        const g = batch.groups[gi];
        const u = this.#uniform("gramNorms", {
          M: lay.out,
          K1: lay.in + 1,
          np4: g.np / 4,
          ld4,
          col4: g.col / 4,
          pointOff4: g.pointOff / 4,
          accumulate: l > 1 ? 1 : 0,
        }, `gram.l${l}.${g.name}`);
        this.gram.push(
          await this.engine.dispatch(
            "gramNorms",
            { consts: { C: g.channels }, overrides: { WG: 64 } },
            { 0: u, 1: this.DZ[l], 2: this.A[l - 1], 3: b.norms },
            [ceilDiv(g.np / 4, 64)],
            `gram.l${l}.${g.name}`,
          ),
        );
      }
    }
    this.traceSums = await this.groupSumsOf(b.norms, 1, false, b.traceSums, "traces");
  }

  /** Kind of random parameter directions. */
  static readonly KIND = { gaussian: 0, rademacher: 1 } as const;

  #randU?: GPUBuffer;
  #seqCache = new Map<string, Promise<Dispatch[]>>();

  #cached(key: string, make: () => Promise<Dispatch[]>): Promise<Dispatch[]> {
    let p = this.#seqCache.get(key);
    if (!p) {
      p = make();
      this.#seqCache.set(key, p);
    }
    return p;
  }

  /**
   * Sets the counter of the next random draws: directions j of a chunk use
   * Philox counter (index, dirBase + j, step) under key (seed, stream).
   */
  setRandom(seed: number, step: number, dirBase: number, stream: number = Stream.direction): void {
    this.#randU ??= this.#uniform("directions", {}, "random");
    const P = this.net.paramCount;
    this.engine.write(
      this.#randU,
      0,
      this.engine.uniformBytes("directions", {
        count: P,
        seed: seed >>> 0,
        stream,
        step,
        dirBase,
        packedSize: this.net.packedF,
        L: this.L,
      }),
    );
  }

  #needDirections(k: number): void {
    if (k < 1 || k > this.directions) {
      throw new Error(`plan holds ${this.directions} directions per chunk, asked for ${k}`);
    }
  }

  /** k random directions into b.dirs (packed forward layout). */
  directionSeq(k: number, kind: keyof typeof Plan.KIND): Promise<Dispatch[]> {
    this.#needDirections(k);
    return this.#cached(`dirs:${k}:${kind}`, async () => {
      this.#randU ??= this.#uniform("directions", {}, "random");
      return [
        await this.engine.dispatch(
          "directions",
          { consts: { KIND: Plan.KIND[kind] }, overrides: { WG: 64 } },
          { 0: this.#randU, 1: this.b.layers, 2: this.b.dirs },
          [ceilDiv(this.net.paramCount, 64), k],
          `directions.${kind}`,
        ),
      ];
    });
  }

  /**
   * Batched JVPs along the k directions in b.dirs: Y row j = J s_j (needs a
   * forward and residual pass at θ first, for Z and the seeds).
   */
  jvpSeq(k: number): Promise<Dispatch[]> {
    this.#needDirections(k);
    if (!this.b.T0) throw new Error("plan was made without tangent buffers");
    return this.#cached(`jvp:${k}`, async () => {
      const { net, batch, L, b } = this;
      const ld4 = batch.cols / 4;
      const rows = Math.max(...net.sizes.slice(1));
      const dirT4 = rows * ld4;
      const T = [b.T0, b.T1];
      const seq: Dispatch[] = [];
      for (let l = 1; l <= L; l++) {
        const t = this.#taylor(l, k);
        const u = this.#uniform("taylorTangent", {
          ...this.#forwardFields(l, t),
          dirW4: net.packedF / 4,
          dirT4,
          first: l === 1 ? 1 : 0,
        }, `tangent.l${l}`);
        seq.push(
          await this.engine.dispatch(
            "taylorTangent",
            t.variant,
            {
              0: u,
              1: b.packF,
              2: this.A[l - 1],
              8: b.dirs,
              9: T[(l + 1) % 2],
              6: this.Z[l],
              10: T[l % 2],
            },
            t.grid,
            `tangent.l${l}`,
          ),
        );
      }
      for (let gi = 0; gi < this.G; gi++) {
        const g = batch.groups[gi];
        const u = this.#uniform("tangentResidual", {
          np4: g.np / 4,
          ld4: this.yStride / 4,
          col4: g.col / 4,
          pointOff4: g.pointOff / 4,
          rowStride: dirT4,
        }, `tangentResidual.${g.name}`);
        seq.push(
          await this.engine.dispatch(
            "tangentResidual",
            { consts: { C: g.channels }, overrides: { WG: 64 } },
            { 0: u, 4: this.DZ[L], 5: T[L % 2], 6: b.Y },
            [ceilDiv(g.np / 4, 64), 1, k],
            `tangentResidual.${g.name}`,
          ),
        );
      }
      return seq;
    });
  }

  /** packDst = packF + scale·(direction at float offset dirOff of `dirs`). */
  async #perturb(dirs: GPUBuffer, dirOff: number, scale: number, tag: string): Promise<Dispatch> {
    const n4 = this.net.packedF / 4;
    const u = this.#uniform("perturb", { count: n4, dirOff: dirOff / 4, scale }, `perturb.${tag}`);
    return await this.engine.dispatch(
      "perturb",
      { overrides: { WG: 64 } },
      { 0: u, 11: this.b.packF, 12: dirs, 13: this.b.packP },
      [ceilDiv(n4, 64)],
      `perturb.${tag}`,
    );
  }

  /** out rows = (lhs rows − rhs)·scale (OP 0) or lhs·rhs (OP 1) over `rows` per-point rows. */
  async #pointwise(
    op: 0 | 1,
    lhs: GPUBuffer,
    rhs: GPUBuffer,
    out: GPUBuffer,
    rows: number,
    rhsRows: boolean,
    scale: number,
    tag: string,
  ): Promise<Dispatch> {
    const count = this.batch.points / 4;
    const u = this.#uniform("fdTangent", {
      count,
      ld4: this.yStride / 4,
      rhsRows: rhsRows ? 1 : 0,
      scale,
    }, `pointwise.${tag}`);
    return await this.engine.dispatch(
      "fdTangent",
      { consts: { OP: op }, overrides: { WG: 64 } },
      { 0: u, 13: lhs, 14: rhs, 15: out },
      [ceilDiv(count, 64), rows],
      `pointwise.${tag}`,
    );
  }

  /**
   * Predictor evaluations of the seed paper's scheme: for each of the k
   * directions in b.dirs, θ̃ = θ ± Δt s_j in packP, one forward pass through the
   * step's own buffers, residuals into row j of resP (and resQ for −Δt). Run it
   * before the forward pass at θ, which overwrites the shared activations.
   */
  predictorSeq(k: number, dt: number, central: boolean): Promise<Dispatch[]> {
    this.#needDirections(k);
    return this.#cached(`pred:${k}:${dt}:${central}`, async () => {
      const fwd = await this.#cached("forwardP", () => this.forwardWith(this.b.packP, "P"));
      const seq: Dispatch[] = [];
      for (let j = 0; j < k; j++) {
        for (
          const [sign, out] of central
            ? [[1, this.b.resP], [-1, this.b.resQ]] as const
            : [[1, this.b.resP]] as const
        ) {
          seq.push(
            await this.#perturb(this.b.dirs, j * this.net.packedF, sign * dt, `pred${j}${sign}`),
          );
          seq.push(...fwd);
          seq.push(...await this.residualInto(out, j, false, `P${j}${sign}`));
        }
      }
      return seq;
    });
  }

  /** Y = finite-difference tangents from the predictor residuals (after the residual at θ). */
  correctorTangentSeq(k: number, dt: number, central: boolean): Promise<Dispatch[]> {
    return this.#cached(`fd:${k}:${dt}:${central}`, async () => [
      central
        ? await this.#pointwise(0, this.b.resP, this.b.resQ, this.b.Y, k, true, 1 / (2 * dt), "fdc")
        : await this.#pointwise(0, this.b.resP, this.b.res, this.b.Y, k, false, 1 / dt, "fdf"),
    ]);
  }

  /** Σ over each group of the squares of k rows of Y, into traceSums (k, G). */
  ySumsSeq(k: number): Promise<Dispatch[]> {
    return this.#cached(
      `ysums:${k}`,
      () => this.groupSumsOf(this.b.Y, k, true, this.b.traceSums, `y${k}`),
    );
  }

  /**
   * Output-side Hutchinson estimate (design §4.4) after forward and residual
   * at θ: z Rademacher per residual, v = Jᵀz by one backward, Kz ≈ (R(θ+Δt v) −
   * R(θ))/Δt, per-group z·Kz into traceSums. Overwrites α, partial, activations.
   */
  hutchSeq(dt: number): Promise<Dispatch[]> {
    return this.#cached(`hutch:${dt}`, async () => {
      const { b, batch } = this;
      b.ones ??= this.#buf("ones", this.G);
      this.engine.write(b.ones, 0, new Float32Array(this.G).fill(1));
      const seq: Dispatch[] = [];
      for (let gi = 0; gi < this.G; gi++) {
        const g = batch.groups[gi];
        // One uniform per group (its index); setNoise rewrites the seed and step.
        const u = this.#uniform(
          "residualNoise",
          { stream: Stream.residual, group: gi },
          `noise.${g.name}`,
        );
        this.#noiseUniforms[gi] = u;
        seq.push(
          await this.engine.dispatch(
            "residualNoise",
            { consts: { KIND: 1, C: g.channels }, overrides: { WG: 64 } },
            { 0: u, 3: b.groups, 4: b.alpha, 5: b.noise },
            [ceilDiv(g.np, 64)],
            `noise.${g.name}`,
          ),
        );
      }
      seq.push(...this.backward, ...this.weightGrad);
      const optU = this.#uniform("gatherGradient", {
        count: this.net.paramCount,
        nslices: this.slices.length / 4,
        L: this.L,
      }, "hutch.gather");
      seq.push(
        await this.engine.dispatch(
          "gatherGradient",
          { overrides: { WG: 64 } },
          { 0: optU, 1: b.layers, 2: b.partial, 3: b.slices, 4: b.ones, 9: b.grad },
          [ceilDiv(this.net.paramCount, 64)],
          "hutch.gather",
        ),
        await this.engine.dispatch(
          "packWeights",
          { overrides: { WG: 64 } },
          { 0: optU, 1: b.layers, 10: b.grad, 7: b.packV, 8: b.packScratch },
          [ceilDiv(this.net.paramCount, 64)],
          "hutch.pack",
        ),
        await this.#perturb(b.packV, 0, dt, "hutch"),
      );
      seq.push(...await this.#cached("forwardP", () => this.forwardWith(b.packP, "P")));
      seq.push(...await this.residualInto(b.resP, 0, false, "hutch"));
      seq.push(await this.#pointwise(0, b.resP, b.res, b.Y, 1, false, 1 / dt, "hutch.fd"));
      seq.push(await this.#pointwise(1, b.Y, b.noise, b.resQ, 1, false, 1, "hutch.zKz"));
      seq.push(...await this.groupSumsOf(b.resQ, 1, false, b.traceSums, "hutch"));
      return seq;
    });
  }

  #noiseUniforms: GPUBuffer[] = [];

  /** Draw-counter state for the residual noise of the Hutchinson estimator. */
  setNoise(seed: number, step: number): void {
    this.#noiseUniforms.forEach((u, gi) => {
      this.engine.write(
        u,
        0,
        this.engine.uniformBytes("residualNoise", {
          seed: seed >>> 0,
          stream: Stream.residual,
          step,
          group: gi,
        }),
      );
    });
  }

  #optU?: GPUBuffer;

  /** The parameter update (Adam or gradient descent) with λ from b.lambda. */
  optimizerSeq(mode: "adam" | "gd"): Promise<Dispatch[]> {
    return this.#cached(`opt:${mode}`, async () => {
      const b = this.b;
      this.#optU ??= this.#uniform("adam", {}, "optimizer");
      return [
        await this.engine.dispatch(
          "adam",
          { consts: { MODE: mode === "adam" ? 0 : 1 }, overrides: { WG: 64 } },
          {
            0: this.#optU,
            1: b.layers,
            2: b.partial,
            3: b.slices,
            4: b.lambda,
            5: b.params,
            6: b.moments,
            7: b.packF,
            8: b.packB,
          },
          [ceilDiv(this.net.paramCount, 64)],
          `optimizer.${mode}`,
        ),
      ];
    });
  }

  /**
   * The exponential moving average of the parameters, updated after each step's
   * update: avg ← β avg + (1 − β) θ in `b.average` ({@linkcode Plan.resetAverage}
   * starts it at the current parameters).
   */
  averageSeq(beta: number): Promise<Dispatch[]> {
    return this.#cached(`average:${beta}`, async () => {
      this.b.average ??= this.#buf("average", this.net.paramCount);
      const u = this.#uniform("averageParams", {
        count: this.net.paramCount,
        scale: beta,
      }, "average");
      this.#averageU = u;
      return [
        await this.engine.dispatch(
          "averageParams",
          { overrides: { WG: 64 } },
          { 0: u, 10: this.b.params, 14: this.b.average },
          [ceilDiv(this.net.paramCount, 64)],
          "average",
        ),
      ];
    });
  }

  /**
   * Sets β of the planned average's next update (a per-step β gives the
   * warmed-up average; see `averageBeta`). Call after {@linkcode Plan.averageSeq}.
   */
  setAverageBeta(beta: number): void {
    if (!this.#averageU) throw new Error("setAverageBeta before averageSeq");
    this.engine.write(
      this.#averageU,
      0,
      this.engine.uniformBytes("averageParams", { count: this.net.paramCount, scale: beta }),
    );
  }

  /** Starts the parameter average at the current parameters. */
  resetAverage(): void {
    const P = this.net.paramCount;
    this.b.average ??= this.#buf("average", P);
    const enc = this.engine.device.createCommandEncoder({ label: "average.reset" });
    enc.copyBufferToBuffer(this.b.params, 0, this.b.average, 0, P * 4);
    this.engine.device.queue.submit([enc.finish()]);
  }

  /** Optimizer settings of the next update; `t` counts updates from 1 (Adam's bias correction). */
  setOptimizer(o: { lr: number; beta1: number; beta2: number; eps: number; t: number }): void {
    this.#optU ??= this.#uniform("adam", {}, "optimizer");
    this.engine.write(
      this.#optU,
      0,
      this.engine.uniformBytes("adam", {
        count: this.net.paramCount,
        nslices: this.slices.length / 4,
        L: this.L,
        lr: o.lr,
        beta1: o.beta1,
        beta2: o.beta2,
        eps: o.eps,
        bc1: 1 - o.beta1 ** o.t,
        bc2: 1 - o.beta2 ** o.t,
      }),
    );
  }

  /**
   * λ from traceSums on the GPU: traces = scale · Σ over `rows` rows, EMA of the
   * means with factor `beta` (state in b.ntkState), λ_j = Σ t / t_j into b.lambda.
   */
  ntkWeightsSeq(rows: number, scale: number, beta: number): Promise<Dispatch[]> {
    return this.#cached(`ntkw:${rows}:${scale}:${beta}`, async () => {
      const u = this.#uniform("ntkWeights", { G: this.G, rows, scale, beta }, "ntkWeights");
      return [
        await this.engine.dispatch(
          "ntkWeights",
          {},
          { 0: u, 8: this.b.groups, 10: this.b.traceSums, 11: this.b.ntkState, 12: this.b.lambda },
          [1],
          "ntkWeights",
        ),
      ];
    });
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

  /** Uploads a point set (counts must match the plan's) and the input channels A[0]. */
  setPoints(points: Points): void {
    const { batch, problem } = this;
    const d = problem.inputs.length;
    const pts = new Float32Array(4 * batch.points);
    const cols = batch.cols;
    const a0 = new Float32Array((d + 1) * cols);
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
        for (let k = 0; k < d; k++) pts[4 * (g.pointOff + i) + k] = x[k];
        pts[4 * (g.pointOff + i) + 3] = def.target ? def.target(x) : 0;
        for (let k = 0; k < d; k++) a0[k * cols + g.col + i] = x[k];
        a0[d * cols + g.col + i] = 1;
        g.set.first.forEach((dir, f) => {
          a0[dir * cols + g.col + (1 + f) * g.np + i] = 1;
        });
      }
    });
    this.engine.write(this.b.pts, 0, pts);
    this.engine.write(this.A[0], 0, a0);
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

  /** Unpacks directions from the packed forward layout to the flat layout (k rows). */
  unpackDirections(packed: Float32Array, k: number): Float32Array[] {
    const out: Float32Array[] = [];
    for (let j = 0; j < k; j++) {
      const flat = new Float32Array(this.net.paramCount);
      const base = j * this.net.packedF;
      for (const l of this.net.layers) {
        for (let r = 0; r < l.out; r++) {
          for (let c = 0; c < l.in; c++) {
            flat[l.w + r * l.in + c] = packed[base + l.fOff + c * l.ldf + r];
          }
          flat[l.b + r] = packed[base + l.fOff + l.in * l.ldf + r];
        }
      }
      out.push(flat);
    }
    return out;
  }

  /**
   * J s_j for k ≤ `directions` random directions drawn with (seed, step), by the
   * batched JVP kernels; returns the tangents per group and the directions (flat layout).
   */
  async jvp(
    k: number,
    seed: number,
    step = 0,
    kind: keyof typeof Plan.KIND = "gaussian",
  ): Promise<{ y: Record<string, Float32Array>[]; directions: Float32Array[] }> {
    this.setRandom(seed, step, 0);
    this.engine.submit(
      "jvp",
      this.forward,
      this.residual,
      await this.directionSeq(k, kind),
      await this.jvpSeq(k),
    );
    const Y = await this.read(this.b.Y, 0, k * this.yStride);
    const dirs = await this.read(this.b.dirs, 0, k * this.net.packedF);
    return {
      y: Array.from({ length: k }, (_, j) => this.perGroup(Y, j)),
      directions: this.unpackDirections(dirs, k),
    };
  }

  /** Jᵀv = Σ_i v_i ∇_θ r_i (flat layout) for per-point values v, by the backward kernels. */
  async vjp(v: Record<string, ArrayLike<number>>): Promise<Float32Array> {
    this.engine.submit("vjp.primal", this.forward, this.residual);
    const alpha = new Float32Array(this.batch.cols);
    for (const g of this.batch.groups) {
      const vg = v[g.name];
      if (!vg || vg.length !== g.n) throw new Error(`vjp: group ${g.name} needs ${g.n} values`);
      for (let c = 0; c < g.channels; c++) {
        for (let i = 0; i < g.n; i++) alpha[g.col + c * g.np + i] = vg[i];
      }
    }
    this.engine.write(this.b.alpha, 0, alpha);
    const lam = await this.read(this.b.lambda, 0, this.G);
    this.engine.write(this.b.lambda, 0, new Float32Array(this.G).fill(1));
    this.engine.submit("vjp", this.backward, this.weightGrad, this.gather);
    const g = await this.read(this.b.grad, 0, this.net.paramCount);
    this.engine.write(this.b.lambda, 0, lam);
    return g;
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

  /** Frees the plan's buffers (returned to the engine's pool after pending work). */
  async dispose(): Promise<void> {
    for (const u of this.#uniforms) u.destroy();
    this.#uniforms = [];
    await this.engine.pool.release(...this.#owned);
    this.#owned = [];
  }

  /** Calls {@linkcode Plan.dispose}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
