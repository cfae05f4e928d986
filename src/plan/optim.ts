/**
 * The optimizer side of a plan: the parameter update (Adam or gradient
 * descent), the parameter average and the causal loss weights.
 *
 * @module
 */
/// <reference types="npm:@webgpu/types@0.1.74" />
import type { Dispatch } from "../engine.ts";
import {
  layerBinding,
  layerFields,
  type LayerUniforms,
  writeLayerUniforms,
} from "./layer_uniforms.ts";
import { UserError } from "../errors.ts";
import { groupSliceRanges, layerWorkgroups, PARAM_WG } from "./gradient.ts";
import { PlanNtk } from "./ntk.ts";

/** Options of {@linkcode PlanOptim.causalSeq}. */
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

/** Most chunks {@linkcode PlanOptim.causalSeq} supports (shaders/causal.wgsl). */
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

/** A plan with the optimizer, the parameter average and causal weights. */
export class PlanOptim extends PlanNtk {
  #optU?: LayerUniforms;
  #causalChunks = 0;

  /**
   * The parameter update (Adam or gradient descent) with λ from b.lambda; with
   * `average` = β > 0 the same kernel then updates the exponential moving average
   * of the parameters, avg ← β avg + (1 − β) θ in `b.average`
   * ({@linkcode PlanOptim.resetAverage} starts it at the current parameters). β
   * itself is written by {@linkcode PlanOptim.setOptimizer}.
   */
  optimizerSeq(mode: "adam" | "gd", average = 0): Promise<Dispatch[]> {
    return this.cached(`opt:${mode}:${average > 0}`, () => {
      const b = this.b;
      const u = this.#optUniforms();
      if (average > 0) b.average ??= this.buf("average", this.net.paramCount);
      // One dispatch per layer: the layer's offsets and sizes are uniform values (shaders/optim.wgsl).
      return Promise.all(this.net.layers.map((lay, i) =>
        this.engine.dispatch(
          "adam",
          {
            consts: {
              MODE: mode === "adam" ? 0 : 1,
              AVERAGE: average > 0 ? 1 : 0,
              GROUPS: this.G,
            },
            overrides: { WG: PARAM_WG },
          },
          {
            0: layerBinding(u, i),
            2: b.partial,
            4: b.lambda,
            5: b.params,
            6: b.moments,
            7: b.packF,
            8: b.packB,
            14: average > 0 ? b.average : b.dummy,
          },
          [layerWorkgroups(lay)],
          `optimizer.${mode}${average > 0 ? "+average" : ""}.l${i + 1}`,
        )
      ));
    });
  }

  /** The optimizer's uniforms, one per layer ({@linkcode PlanOptim.setOptimizer} writes the step's fields). */
  #optUniforms(): LayerUniforms {
    this.#optU ??= this.layerUniforms("adam", "optimizer", (lay) => ({
      count: this.net.paramCount,
      groups: groupSliceRanges(this.slices),
      ...layerFields(lay),
    }));
    return this.#optU;
  }

  /** Starts the parameter average at the current parameters. */
  resetAverage(): void {
    const P = this.net.paramCount;
    this.b.average ??= this.buf("average", P);
    const enc = this.engine.device.createCommandEncoder({ label: "average.reset" });
    enc.copyBufferToBuffer(this.b.params, 0, this.b.average, 0, P * 4);
    this.engine.device.queue.submit([enc.finish()]);
  }

  /**
   * Optimizer settings of the next update; `t` counts updates from 1 (Adam's bias
   * correction); `average` is β of the parameter average (0 or absent: none).
   */
  setOptimizer(
    o: { lr: number; beta1: number; beta2: number; eps: number; t: number; average?: number },
  ): void {
    writeLayerUniforms(this.engine, this.#optUniforms(), {
      lr: o.lr,
      beta1: o.beta1,
      beta2: o.beta2,
      eps: o.eps,
      bc1: 1 - o.beta1 ** o.t,
      bc2: 1 - o.beta2 ** o.t,
      scale: o.average ?? 0,
    });
  }

  /**
   * Causal weights of one group after the step's residual pass (shaders/causal.wgsl):
   * its points are binned into `chunks` chunks of the time input, and the loss scale
   * α of a point in chunk k is multiplied by w_k = exp(−ε Σ_{j<k} L_j), L_j being
   * chunk j's mean squared residual. The chunk losses and weights stay in
   * `b.causal` ({@linkcode PlanOptim.readCausal}).
   */
  causalSeq(o: CausalOptions): Promise<Dispatch[]> {
    const gi = this.batch.groups.findIndex((g) => g.name === o.group);
    if (gi < 0) throw new Error(`causalSeq: no group ${o.group}`);
    checkCausalChunks(o.chunks);
    this.#causalChunks = o.chunks;
    return this.cached(`causal:${gi}:${o.timeIndex}:${o.chunks}:${o.eps}`, async () => {
      const g = this.batch.groups[gi];
      const [t0, t1] = this.problem.domain[o.timeIndex];
      this.b.causal ??= this.buf("causal", 2 * MAX_CAUSAL_CHUNKS);
      const u = this.uniform("causalWeights", {
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

  /** The last causal pass's chunk losses L_k and weights w_k (after {@linkcode PlanOptim.causalSeq}). */
  async readCausal(): Promise<{ losses: Float32Array; weights: Float32Array }> {
    const m = this.#causalChunks;
    if (!this.b.causal || m === 0) throw new Error("readCausal: no causal pass planned");
    const v = await this.read(this.b.causal, 0, 2 * m);
    return { losses: v.slice(0, m), weights: v.slice(m, 2 * m) };
  }
}
