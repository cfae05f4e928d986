/**
 * The NTK estimator sequences of a plan: random parameter directions, batched
 * JVPs, the predictor–corrector and Hutchinson sequences, the NTK weights from
 * trace sums, and JVP/VJP helpers for tests and diagnostics.
 *
 * @module
 */
/// <reference types="npm:@webgpu/types@0.1.74" />
import type { Dispatch } from "../engine.ts";
import { Stream } from "../random.ts";
import type { UniformMaker } from "./core.ts";
import {
  layerBinding,
  layerFields,
  type LayerUniforms,
  writeLayerUniforms,
} from "./layer_uniforms.ts";
import { ceilDiv } from "./layers.ts";
import { jvpDispatches } from "./jvp.ts";
import { PlanEmbed } from "./embed.ts";
import {
  gatherDispatch,
  gatherUniforms,
  layerWorkgroups,
  packDispatch,
  PARAM_WG,
} from "./gradient.ts";

/** A plan with the NTK estimator sequences (design §4). */
export class PlanNtk extends PlanEmbed {
  /** Kind of random parameter directions. */
  static readonly KIND = { gaussian: 0, rademacher: 1 } as const;

  #rand?: LayerUniforms;
  /**
   * Sets the counter of the next random draws: directions j of a chunk use
   * Philox counter (index, dirBase + j, step) under key (seed, stream).
   */
  setRandom(seed: number, step: number, dirBase: number, stream: number = Stream.direction): void {
    writeLayerUniforms(this.engine, this.#randUniforms(), {
      seed: seed >>> 0,
      stream,
      step,
      dirBase,
    });
  }

  /** The directions' uniforms, one per layer. */
  #randUniforms(): LayerUniforms {
    this.#rand ??= this.layerUniforms("directions", "random", (lay) => ({
      count: this.net.paramCount,
      packedSize: this.net.packedF,
      ...layerFields(lay),
    }));
    return this.#rand;
  }

  #needDirections(k: number): void {
    if (k < 1 || k > this.directions) {
      throw new Error(`plan holds ${this.directions} directions per chunk, asked for ${k}`);
    }
  }

  /** k random directions into b.dirs (packed forward layout). */
  directionSeq(k: number, kind: keyof typeof PlanNtk.KIND): Promise<Dispatch[]> {
    this.#needDirections(k);
    return this.cached(`dirs:${k}:${kind}`, () => {
      const u = this.#randUniforms();
      // One dispatch per layer: the layer's offsets are uniform values (shaders/random.wgsl).
      return Promise.all(this.net.layers.map((lay, i) =>
        this.engine.dispatch(
          "directions",
          { consts: { KIND: PlanNtk.KIND[kind] }, overrides: { WG: PARAM_WG } },
          {
            0: layerBinding(u, i),
            2: this.b.dirs,
          },
          [layerWorkgroups(lay), k],
          `directions.${kind}.l${i + 1}`,
        )
      ));
    });
  }

  /**
   * Batched JVPs along the k directions in b.dirs: Y row j = J s_j (needs a
   * forward and residual pass at θ first, for Z and the seeds).
   */
  jvpSeq(k: number): Promise<Dispatch[]> {
    this.#needDirections(k);
    if (!this.b.T0) throw new Error("plan was made without tangent buffers");
    const uniform: UniformMaker = (kernel, values, label) => this.uniform(kernel, values, label);
    return this.cached(`jvp:${k}`, () => jvpDispatches(this, uniform, k));
  }

  /** packDst = packF + scale·(direction at float offset dirOff of `dirs`). */
  async #perturb(dirs: GPUBuffer, dirOff: number, scale: number, tag: string): Promise<Dispatch> {
    const n4 = this.net.packedF / 4;
    const u = this.uniform("perturb", { count: n4, dirOff: dirOff / 4, scale }, `perturb.${tag}`);
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
    const u = this.uniform("fdTangent", {
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
    return this.cached(`pred:${k}:${dt}:${central}`, async () => {
      const fwd = await this.cached("forwardP", () => this.forwardWith(this.b.packP, "P"));
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
    return this.cached(`fd:${k}:${dt}:${central}`, async () => [
      central
        ? await this.#pointwise(0, this.b.resP, this.b.resQ, this.b.Y, k, true, 1 / (2 * dt), "fdc")
        : await this.#pointwise(0, this.b.resP, this.b.res, this.b.Y, k, false, 1 / dt, "fdf"),
    ]);
  }

  /** Σ over each group of the squares of k rows of Y, into traceSums (k, G). */
  ySumsSeq(k: number): Promise<Dispatch[]> {
    return this.cached(
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
    return this.cached(`hutch:${dt}`, async () => {
      const { b, batch } = this;
      b.ones ??= this.buf("ones", this.G);
      this.engine.write(b.ones, 0, new Float32Array(this.G).fill(1));
      const seq: Dispatch[] = [];
      for (let gi = 0; gi < this.G; gi++) {
        const g = batch.groups[gi];
        // One uniform per group (its index); setNoise rewrites the seed and step.
        const u = this.uniform(
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
      const optU = gatherUniforms(this, (k, v, l) => this.uniform(k, v, l), "hutch.gather");
      seq.push(
        ...await gatherDispatch(this, optU, b.ones, "hutch.gather"),
        // v = Jᵀz, packed into packV (packScratch takes the unused backward layout).
        ...await packDispatch(this, optU, b.grad, b.packV, b.packScratch, "hutch.pack"),
        await this.#perturb(b.packV, 0, dt, "hutch"),
      );
      seq.push(...await this.cached("forwardP", () => this.forwardWith(b.packP, "P")));
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

  /**
   * A training step's reductions in one dispatch (ntk.wgsl `stepSums`): the loss
   * sums per group (`b.lossSums`, as {@linkcode PlanCore.lossSums}) and, unless
   * `o.traces` is "none", the trace sums into `b.traceSums` and the weights into
   * `b.lambda` and `b.ntkState`, as the separate sums and {@linkcode PlanNtk.ntkWeightsSeq}
   * would. Traces: "exact" sums the per-point norms; "y" sums the squares of `rows`
   * rows of `b.Y` (jvp); "fd" sums the squares of the predictor's finite differences
   * (resP − res)/dt, or (resP − resQ)/(2 dt) when `central`, without writing Y.
   */
  stepSumsSeq(o: {
    traces: "none" | "exact" | "y" | "fd";
    rows?: number;
    scale?: number;
    beta?: number;
    dt?: number;
    central?: boolean;
  }): Promise<Dispatch[]> {
    const rows = o.traces === "none" ? 1 : o.rows ?? 1;
    const key = `stepSums:${o.traces}:${rows}:${o.scale}:${o.beta}:${o.dt}:${o.central}`;
    return this.cached(key, async () => {
      const b = this.b;
      const central = Boolean(o.central);
      const lhs = o.traces === "exact"
        ? b.norms
        : o.traces === "y"
        ? b.Y
        : o.traces === "fd"
        ? b.resP
        : b.res;
      const rhs = o.traces === "fd" ? (central ? b.resQ : b.res) : b.res;
      const u = this.uniform("stepSums", {
        G: this.G,
        rows,
        rowStride: this.yStride,
        rhsRows: central ? 1 : 0,
        scale: o.scale ?? 1,
        beta: o.beta ?? 0,
        fdScale: o.traces === "fd" ? 1 / ((central ? 2 : 1) * o.dt!) : 1,
      }, `stepSums.${o.traces}`);
      return [
        await this.engine.dispatch(
          "stepSums",
          {
            consts: {
              TRACES: o.traces === "none" ? 0 : 1,
              FD: o.traces === "fd" ? 1 : 0,
              SQUARE: o.traces === "exact" ? 0 : 1,
            },
          },
          {
            0: u,
            8: b.groups,
            16: b.res,
            17: lhs,
            18: rhs,
            19: b.lossSums,
            9: b.traceSums,
            11: b.ntkState,
            12: b.lambda,
          },
          [1],
          `stepSums.${o.traces}`,
        ),
      ];
    });
  }

  /**
   * λ from traceSums on the GPU: traces = scale · Σ over `rows` rows, EMA of the
   * means with factor `beta` (state in b.ntkState), λ_j = Σ t / t_j into b.lambda.
   */
  ntkWeightsSeq(rows: number, scale: number, beta: number): Promise<Dispatch[]> {
    return this.cached(`ntkw:${rows}:${scale}:${beta}`, async () => {
      const u = this.uniform("ntkWeights", { G: this.G, rows, scale, beta }, "ntkWeights");
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
    kind: keyof typeof PlanNtk.KIND = "gaussian",
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
}
