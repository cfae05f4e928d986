/**
 * What a run records: the training state a checkpoint carries besides the
 * parameters ({@linkcode TrainState}, checked here against the plan before it is
 * restored) and the records of the run's log ({@linkcode LogRecord}).
 *
 * @module
 */
import { UserError } from "./errors.ts";
import { checkLbfgsState, DEFAULT_HISTORY, type LbfgsState } from "./lbfgs_state.ts";
import type { Plan } from "./plan.ts";
import { phaseSteps, type TrainConfig } from "./train_config.ts";

/** The state a checkpoint carries besides the parameters. */
export interface TrainState {
  /** Steps done. */
  step: number;
  /** Adam moments (2P). */
  moments: number[];
  /** Loss weights per group. */
  lambda: number[];
  /** NTK estimator state (EMA traces). */
  ntkState: number[];
  /** Learning-rate scale (halved by rollbacks). */
  lrScale: number;
  /** The optimizer's raw parameters when the model's are their average (`average`). */
  raw?: number[];
  /** The L-BFGS history, once the L-BFGS phase has run an iteration (λ is then its λ). */
  lbfgs?: LbfgsState;
}

/** One log record (log.jsonl). */
export interface LogRecord {
  /** Steps done. */
  step: number;
  /** Wall-clock seconds since the start of the run. */
  wall_s: number;
  /** Mean r² per group of the model (the parameter average when on). */
  loss: Record<string, number>;
  /** Σ_j λ_j loss_j. */
  total: number;
  /** Loss weights λ per group. */
  weights: Record<string, number>;
  /** Relative L2 error of the model on the evaluation grid (absent without a reference). */
  rel_l2?: number;
  /**
   * With the parameter average: the training step's own loss per group (raw
   * parameters, before the update); `loss` and `total` are then the average's.
   */
  train_loss?: Record<string, number>;
  /** Σ_j (1/N_j) Σ_i r_i² (unweighted) of the training step (raw parameters). */
  residual_sq?: number;
  /** ‖∇_θ L‖² of the step's weighted loss. */
  grad_norm_sq?: number;
  /** Running averages of the two over the logged steps so far (seed paper's theorem). */
  avg_residual_sq?: number;
  /** Running average of `grad_norm_sq`. */
  avg_grad_norm_sq?: number;
  /** Causal weights w_k per time chunk at the last step (when `causal` is on). */
  causal_weights?: number[];
}

/**
 * Checks that `s` fits `p`, the step's plan of `config` (sizes and groups), and,
 * inside the L-BFGS phase, that it carries a fitting history; a mismatch is the
 * checkpoint's fault (`--resume`).
 */
export function checkTrainState(s: TrainState, p: Plan, config: TrainConfig): void {
  if (
    s.moments.length !== 2 * p.net.paramCount || s.lambda.length !== p.G ||
    s.ntkState.length !== 2 * p.G + 1 || (s.raw && s.raw.length !== p.net.paramCount)
  ) {
    throw new UserError(
      "--resume",
      "The checkpoint's training state does not match this configuration.",
    );
  }
  if (s.step > phaseSteps(config).first && !s.lbfgs) {
    throw new UserError(
      "--resume",
      "The checkpoint is inside the L-BFGS phase but holds no L-BFGS state; resume from an earlier copy.",
    );
  }
  if (s.lbfgs) checkLbfgsState(s.lbfgs, config.history ?? DEFAULT_HISTORY, p.net.paramCount);
}
