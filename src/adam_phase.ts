/**
 * The Adam/gd phase of a training run: the step's plan, one step's dispatch
 * sequences (the weighting's predictor before the step, the forward/backward pass
 * with the weight update's traces folded into the loss sums, the optimizer with
 * the parameter average), and the step itself, replayed in one submit (two for a
 * gradnorm update, which reads gradients back).
 *
 * @module
 */
import type { Dispatch, Engine } from "./engine.ts";
import { Plan } from "./plan.ts";
import { DEFAULT_DT, DEFAULT_HUTCH_DT } from "./ntk.ts";
import { type causalSettings, planDirections, type TrainConfig } from "./train_config.ts";
import { fourierEmbedding } from "./embedding.ts";
import type { Model } from "./model.ts";
import type { Counts } from "./points.ts";
import type { Problem } from "./problems/problem.ts";
import { UserError } from "./errors.ts";
import { emaBeta, gradnormWeights, isNtkWeighting, stepTraces } from "./weight_policy.ts";

/**
 * β of the parameter average's t-th update (t = 1, 2, …): a warm-up,
 * β_t = min(β, (t − 1)/(t + 9)), as TensorFlow's ExponentialMovingAverage with
 * `num_updates`, shifted so that β_1 = 0: the average starts at θ_1 (not at the
 * initial network) and spans about the last tenth of the steps taken until β's
 * own window (1/(1 − β) steps) is shorter, from t ≈ 10/(1 − β). With a fixed
 * β = 0.995 a 300-step run still held e^(−1.5) ≈ 22% of the initial parameters
 * (heat1d: error 0.41 against 0.011 without the average); Adam-style bias
 * correction removes that but keeps averaging over the ~200 steps, most of a short
 * run. Long runs are unchanged: past t ≈ 10/(1 − β) the update is the plain EMA.
 */
export function averageBeta(beta: number, t: number): number {
  return Math.min(beta, (t - 1) / (t + 9));
}

/**
 * The plan of a run's steps for `config` on `problem`: its directions and tangents
 * as the weighting needs them, the input embedding `model` carries, or a new one
 * drawn from the seed when `config.fourier` asks for it.
 */
export async function stepPlan(
  engine: Engine,
  config: TrainConfig,
  problem: Problem,
  counts: Counts,
  model?: Model,
): Promise<Plan> {
  // A saved model carries its own B; a new network draws it from the seed.
  const embedding = model
    ? model.embedding
    : config.fourier
    ? fourierEmbedding(config.fourier, problem.domain, config.seed)
    : undefined;
  const plan = await Plan.create(engine, {
    problem,
    embedding,
    sizes: config.sizes,
    activation: config.activation,
    counts,
    directions: planDirections(config),
    tangents: config.weighting === "jvp",
  });
  if (
    (config.weighting === "jvp" || config.weighting === "pc") &&
    plan.directions < planDirections(config)
  ) {
    throw new UserError(
      "--k",
      `--k ${config.k} needs more JVP tangent memory than one GPU binding holds here; use --k ${plan.directions} or fewer points.`,
    );
  }
  return plan;
}

/** The dispatch sequences of one step: before the step's pass, the pass, the optimizer. */
export interface StepSequences {
  /** The weighting's own passes before the step (pc's predictor, hutch's probes). */
  pre: Dispatch[][];
  /** Forward, residual, backward, weight gradient and the step's sums. */
  main: Dispatch[][];
  /** The optimizer update (with the parameter average when on). */
  opt: Dispatch[];
}

/**
 * The dispatch sequences of one step of `c` on `p` (`update`: the weights are
 * recomputed this step; `causal`: the causal weighting, or null).
 */
export async function stepSequences(
  p: Plan,
  c: TrainConfig,
  causal: ReturnType<typeof causalSettings>,
  update: boolean,
): Promise<StepSequences> {
  const pre = [];
  const main = [];
  const adaptive = update && isNtkWeighting(c.weighting);
  const k = p.directions;
  const dt = c.dt ?? (c.weighting === "hutch" ? DEFAULT_HUTCH_DT : DEFAULT_DT);
  if (adaptive && c.weighting === "pc") {
    pre.push(await p.directionSeq(k, "gaussian"), await p.predictorSeq(k, dt, c.central));
  }
  if (adaptive && c.weighting === "hutch") {
    pre.push(
      p.forward,
      p.residual,
      await p.hutchSeq(dt),
      await p.ntkWeightsSeq(1, 1, emaBeta(c)),
    );
  }
  main.push(p.forward, p.residual);
  if (causal) main.push(await p.causalSeq(causal));
  if (adaptive && c.weighting === "jvp") {
    main.push(await p.directionSeq(k, "gaussian"), await p.jvpSeq(k));
  }
  main.push(p.backward);
  if (adaptive && c.weighting === "exact") main.push(p.gram);
  main.push(p.weightGrad);
  // The loss sums, and the traces and weights of an update, in one reduction
  // (λ is read only by the optimizer, after it).
  const traces = stepTraces(c.weighting, adaptive);
  const rows = traces === "fd" || traces === "y" ? k : 1;
  main.push(
    await p.stepSumsSeq({
      traces,
      rows,
      scale: 1 / rows,
      beta: emaBeta(c),
      dt,
      central: c.central,
    }),
  );
  // The parameter average rides in the optimizer's kernel.
  // An lbfgs run never plans this step (the trainer hands every step to its phase).
  const average = c.average ?? 0;
  const opt = await p.optimizerSeq(c.optimizer === "gd" ? "gd" : "adam", average > 0 ? average : 0);
  return { pre, main, opt };
}

/**
 * Runs Adam/gd step `step` (0-based) of `c` on `p`, whose points are the step's,
 * at learning rate `lr`: the weighting's draws, the optimizer's scalars, then one
 * submit (two for a gradnorm update).
 */
export async function adamStep(
  engine: Engine,
  p: Plan,
  c: TrainConfig,
  causal: ReturnType<typeof causalSettings>,
  step: number,
  lr: number,
): Promise<void> {
  const update = step % c.every === 0;
  if (update && (c.weighting === "jvp" || c.weighting === "pc")) {
    p.setRandom(c.seed, step, 0);
  }
  if (update && c.weighting === "hutch") p.setNoise(c.seed, step);
  const average = c.average ?? 0;
  p.setOptimizer({
    lr,
    beta1: c.beta1,
    beta2: c.beta2,
    eps: c.eps,
    t: step + 1,
    // β of this step's average update (warmed up; see averageBeta).
    average: average > 0 ? averageBeta(average, step + 1) : 0,
  });
  const s = await stepSequences(p, c, causal, update);
  if (update && c.weighting === "gradnorm") {
    engine.submit(`step${step}`, ...s.pre, ...s.main);
    await gradnormWeights(p, step, c);
    engine.submit(`step${step}.update`, s.opt);
  } else {
    engine.submit(`step${step}`, ...s.pre, ...s.main, s.opt);
  }
}
