/**
 * What a training run is: its configuration ({@linkcode TrainConfig}), the
 * problem-independent defaults, and what follows from a config alone (the steps
 * of each phase, the causal weighting, the log interval, the directions the
 * step's plan holds) — the start of the data path, before anything is planned.
 *
 * @module
 */
import type { FourierSpec } from "./embedding.ts";
import { checkCausalChunks } from "./plan.ts";
import type { Activation, Init } from "./model.ts";
import type { Counts, Sampler } from "./points.ts";
import { UserError } from "./errors.ts";
import type { Problem } from "./problems/problem.ts";

/** Loss weighting policies. */
export const WEIGHTINGS = ["none", "fixed", "exact", "jvp", "pc", "hutch", "gradnorm"] as const;
/** A loss weighting policy. */
export type Weighting = typeof WEIGHTINGS[number];

/** Everything that defines a training run (CLI flags and config files map onto it). */
export interface TrainConfig {
  /** Built-in problem name or module path (absolute in memory; files store it relative to themselves). */
  problem: string;
  /** Layer widths [d, W, …, W, 1]. */
  sizes: number[];
  /** Hidden-layer activation. */
  activation: Activation;
  /** Initialisation of a new network (absent: "xavier"; see {@linkcode initParams}). */
  init?: Init;
  /** Optimizer (lbfgs: `steps` L-BFGS iterations on one fixed point set, see `then`). */
  optimizer: "adam" | "gd" | "lbfgs";
  /** Learning rate. */
  lr: number;
  /** Learning-rate factor applied every `decaySteps` steps. */
  decay: number;
  /** Steps between learning-rate decays. */
  decaySteps: number;
  /** Total optimizer steps. */
  steps: number;
  /** Points per group (missing groups take the problem's defaults). */
  n: Counts;
  /** Resample the points every this many steps (0 = never). */
  resample: number;
  /** Point sampler per group. */
  sampler: Sampler;
  /** Loss weighting policy. */
  weighting: Weighting;
  /** Fixed weights (weighting "fixed"); missing groups weigh 1. */
  weights: Record<string, number>;
  /** Directions (jvp, pc) or probes (hutch) per weight update. */
  k: number;
  /** Finite-difference step of pc and hutch (default: the estimator's, see ntk.ts). */
  dt?: number;
  /** Central differences for pc. */
  central: boolean;
  /**
   * EMA factor of the trace estimates (0 = no smoothing); absent: 0.99 for
   * the one-draw sketches (pc, jvp, hutch), 0.9 otherwise (see {@linkcode emaBeta}).
   */
  beta?: number;
  /** Update the weights every this many steps. */
  every: number;
  /** Seed of the initialisation, the points and the random directions. */
  seed: number;
  /** Log (and read back) every this many steps. */
  logEvery: number;
  /** Adam's first-moment decay. */
  beta1: number;
  /** Adam's second-moment decay. */
  beta2: number;
  /** Adam's ε. */
  eps: number;
  /**
   * Causality tolerance ε of the causal residual weights (Wang, Sankaran &
   * Perdikaris 2022); 0 or absent: off. Weights the problem's first group (its
   * PDE residual) by time chunk, w_k = exp(−ε Σ_{j<k} L_j); needs an input "t".
   */
  causal?: number;
  /** Time chunks of the causal weights (1..64; default 32). */
  chunks?: number;
  /**
   * β of an exponential moving average of the parameters (0 or absent: off). The
   * average is the run's model: it is evaluated, logged and saved; the optimizer
   * steps the raw parameters (carried in the checkpoint's state).
   */
  average?: number;
  /**
   * Fourier-feature inputs (`--fourier M:σ`): M random frequencies of scale σ,
   * B drawn from `seed` (see `fourierEmbedding`); null or absent: the raw inputs.
   */
  fourier?: FourierSpec | null;
  /**
   * A second phase after the `steps` Adam/gd steps: "lbfgs" runs `thenSteps`
   * L-BFGS iterations on a fixed point set (`thenN` over `n`), starting from the
   * model (the parameter average when `average` is on) and λ at their values then.
   */
  then?: "lbfgs" | "none";
  /** Iterations of the `then` phase. */
  thenSteps?: number;
  /** Points per group of the L-BFGS point set (missing groups: `n`'s, then the problem's). */
  thenN?: Counts;
  /**
   * With an adaptive weighting: refresh λ from exact traces on the L-BFGS points every
   * this many iterations, resetting the history (0 or absent: λ stays frozen).
   */
  thenRefresh?: number;
  /**
   * Draw a new L-BFGS point set (the same counts) every this many iterations,
   * resetting the history (0 or absent: one fixed set for the whole phase).
   */
  thenResample?: number;
  /** L-BFGS curvature pairs kept (default 20). */
  history?: number;
}

/** The steps of a run: the first phase's and the total (with an L-BFGS phase after it). */
export function phaseSteps(c: TrainConfig): { first: number; total: number } {
  if (c.optimizer === "lbfgs") return { first: 0, total: c.steps };
  return { first: c.steps, total: c.steps + (c.then === "lbfgs" ? c.thenSteps ?? 0 : 0) };
}

/** Time chunks of the causal weights when a config sets none. */
export const DEFAULT_CHUNKS = 32;

/**
 * The causal weighting a config asks for: the group, time input and chunks, or
 * null. Refused with an L-BFGS optimizer or phase, which needs a fixed loss.
 */
export function causalSettings(
  c: Pick<TrainConfig, "causal" | "chunks"> & Partial<Pick<TrainConfig, "optimizer" | "then">>,
  problem: Problem,
): { group: string; timeIndex: number; chunks: number; eps: number } | null {
  const eps = c.causal ?? 0;
  if (!Number.isFinite(eps) || eps < 0) {
    throw new UserError("--causal", `--causal must be a number ≥ 0 (0 = off), not ${eps}.`);
  }
  const chunks = c.chunks ?? DEFAULT_CHUNKS;
  checkCausalChunks(chunks);
  if (eps === 0) return null;
  const timeIndex = problem.inputs.indexOf("t");
  if (timeIndex < 0) {
    throw new UserError(
      "--causal",
      `Causal weights need a time input named "t"; problem ${problem.name} has inputs ${
        problem.inputs.join(", ")
      }. Drop --causal.`,
    );
  }
  if (c.optimizer === "lbfgs" || c.then === "lbfgs") {
    throw new UserError(
      "--causal",
      "Causal weights change the loss every step and L-BFGS needs a fixed one; drop --causal or the L-BFGS phase.",
    );
  }
  return { group: problem.groups[0].name, timeIndex, chunks, eps };
}

/**
 * The defaults that do not depend on the problem: the wave problem with
 * predictor–corrector NTK weights. Sizes, steps, lr, decay steps, init and the
 * parameter average come from the problem's recommendations (its `sizes` and
 * `train`, else `FALLBACK_TRAIN_DEFAULTS` in settings.ts), so spreading this object and
 * changing `problem` trains that problem's recommended network.
 */
export const DEFAULT_CONFIG: Readonly<
  Omit<TrainConfig, "sizes" | "steps" | "lr" | "decaySteps">
> = {
  problem: "wave",
  activation: "tanh",
  optimizer: "adam",
  decay: 0.9,
  n: {},
  resample: 1,
  sampler: "sobol",
  weighting: "pc",
  weights: {},
  k: 1,
  central: false,
  every: 1,
  seed: 0,
  logEvery: 100,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
};

/**
 * The log interval a run uses when none is given (src/settings.ts): every 100 steps,
 * or often enough for about 50 log points in a shorter run (a 300-step run logs
 * every 6 steps).
 */
export function defaultLogEvery(steps: number): number {
  return Math.max(1, Math.min(100, Math.floor(steps / 50)));
}

/** Directions a training plan allocates per chunk for `c`'s weighting. */
export function planDirections(c: TrainConfig): number {
  if (c.weighting === "jvp" || c.weighting === "pc") return Math.min(c.k, 16);
  if (c.weighting === "hutch") return 1;
  return 0;
}
