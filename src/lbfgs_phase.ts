/**
 * The L-BFGS phase of a training run (`--optimizer lbfgs`, or `--then lbfgs` after
 * Adam): its own plan over a fixed point set (or a new set every M iterations),
 * the loss weights frozen at their values when the phase starts or refreshed from
 * exact NTK traces every M iterations. Either change resets the history: the
 * loss it describes changed.
 *
 * @module
 */
import type { FourierEmbedding } from "./embedding.ts";
import type { Engine } from "./engine.ts";
import { Plan } from "./plan.ts";
import { Lbfgs, type LbfgsIterate } from "./lbfgs.ts";
import type { LbfgsState } from "./lbfgs_state.ts";
import type { Activation } from "./model.ts";
import { type Counts, samplePoints, type Sampler } from "./points.ts";
import type { Problem } from "./problems/problem.ts";
import { estimateTraces, weightsFromTraces } from "./ntk.ts";

/**
 * Sampling round of the phase's first point set (apart from every Adam round);
 * the k-th resampled set uses LBFGS_ROUND + k.
 */
export const LBFGS_ROUND = 1_000_003;

/** What the phase trains on. */
export interface LbfgsPhaseOptions {
  /** The problem. */
  problem: Problem;
  /** Layer widths. */
  sizes: number[];
  /** Hidden-layer activation. */
  activation: Activation;
  /** The run's input embedding (absent: raw inputs). */
  embedding?: FourierEmbedding;
  /** Points per group of the fixed set. */
  counts: Counts;
  /** Seed of the points. */
  seed: number;
  /** Point sampler. */
  sampler: Sampler;
  /** Curvature pairs kept. */
  m: number;
  /** Refresh λ from exact traces every this many iterations (0: frozen). */
  refresh: number;
  /** Whether λ is adaptive at all (an NTK or gradient-norm weighting). */
  adaptive: boolean;
  /** A new point set every this many iterations (0: one fixed set). */
  resample: number;
  /** Refresh λ before the first iteration (no earlier phase set them). */
  refreshFirst: boolean;
  /** Stop when the relative loss change per iteration is at most this. */
  ftol?: number;
}

/** One L-BFGS phase; {@linkcode LbfgsPhase.create}, then {@linkcode LbfgsPhase.iterate}. */
export class LbfgsPhase {
  /** The phase's plan (its parameters are the model during the phase). */
  readonly plan: Plan;
  /** The optimizer. */
  readonly lbfgs: Lbfgs;
  /** Why the phase stopped (null: it goes on). */
  stopped: string | null = null;
  readonly #o: LbfgsPhaseOptions;

  private constructor(plan: Plan, lbfgs: Lbfgs, o: LbfgsPhaseOptions) {
    this.plan = plan;
    this.lbfgs = lbfgs;
    this.#o = o;
  }

  /**
   * Plans the phase at `params` with weights `lambda`; with `saved`, continues a
   * checkpointed phase (its history) at iteration `iteration`, else starts with an
   * empty history.
   */
  static async create(
    engine: Engine,
    o: LbfgsPhaseOptions,
    params: Float32Array,
    lambda: Record<string, number>,
    saved?: LbfgsState,
    iteration = 0,
  ): Promise<LbfgsPhase> {
    const plan = await Plan.create(engine, {
      problem: o.problem,
      sizes: o.sizes,
      activation: o.activation,
      embedding: o.embedding,
      counts: o.counts,
    });
    plan.setParams(params);
    plan.setPoints(pointSet(o, iteration));
    plan.setLambda(lambda);
    const lbfgs = await Lbfgs.create(plan, { m: o.m, ftol: o.ftol });
    if (saved) await lbfgs.restore(saved);
    else await lbfgs.restart();
    return new LbfgsPhase(plan, lbfgs, o);
  }

  /** λ from exact traces at the current parameters, and a fresh history. */
  async refreshWeights(): Promise<void> {
    const traces = await estimateTraces(this.plan, { method: "exact" });
    this.plan.setLambda(weightsFromTraces(traces, this.#o.counts).weights);
    await this.lbfgs.restart();
  }

  /** Iteration `i` of the phase (counted from 0). */
  async iterate(i: number): Promise<LbfgsIterate> {
    const o = this.#o;
    const resample = o.resample > 0 && i > 0 && i % o.resample === 0;
    const refresh = o.adaptive &&
      ((i === 0 && o.refreshFirst) || (o.refresh > 0 && i > 0 && i % o.refresh === 0));
    if (resample) this.plan.setPoints(pointSet(o, i));
    if (refresh) await this.refreshWeights();
    else if (resample) await this.lbfgs.restart();
    const it = await this.lbfgs.iterate();
    if (it.stop) this.stopped = it.stop;
    return it;
  }

  /** Releases the plan and the history. */
  async dispose(): Promise<void> {
    await this.lbfgs.dispose();
    await this.plan.dispose();
  }
}

/** The point set of iteration `i`: the first set, or the one drawn at the last resampling. */
function pointSet(o: LbfgsPhaseOptions, i: number) {
  const k = o.resample > 0 ? Math.floor(i / o.resample) : 0;
  return samplePoints(o.problem, o.counts, o.seed, LBFGS_ROUND + k, o.sampler);
}
