/**
 * The training step: planned once, replayed every step in one command encoder
 * and one submit, with the NTK weighting policy folded into the same submit.
 *
 * @module
 */
import type { Engine } from "./engine.ts";
import { checkCausalChunks, Plan } from "./plan.ts";
import { type Activation, type Init, initParams, type Model, paramLayout } from "./model.ts";
import { type Counts, type Points, resolveCounts, samplePoints, type Sampler } from "./points.ts";
import { resolveSettings, type TrainSettings } from "./settings.ts";
import {
  DEFAULT_DT,
  DEFAULT_HUTCH_DT,
  estimateTraces,
  type NtkTraces,
  weightsFromTraces,
} from "./ntk.ts";
import { UserError } from "./errors.ts";
import { valueProblem } from "./predict.ts";
import { evaluationGrid, gridSolution, type Problem, problemOutputs } from "./problems/problem.ts";
import { LbfgsPhase } from "./lbfgs_phase.ts";
import { checkLbfgsState, type LbfgsState } from "./lbfgs.ts";

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

/** The causal weighting a config asks for: the group, time input and chunks, or null. */
export function causalSettings(
  c: Pick<TrainConfig, "causal" | "chunks">,
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

/**
 * The EMA factor a run smooths its trace estimates with: `config.beta` when set,
 * else 0.99 for the sketches that draw one noisy estimate a step (pc, jvp, hutch)
 * and 0.9 for exact traces and gradnorm. The weights Σt/t_j are convex in the
 * traces, so noise in t_j biases λ_j upwards: on wave with pc (k = 1), β = 0.9 left
 * λ_ut 1.8× above exact's and β = 0.99 matched it; exact traces need no long average.
 */
export function emaBeta(c: Pick<TrainConfig, "beta" | "weighting">): number {
  return c.beta ?? (isSketch(c.weighting) ? 0.99 : 0.9);
}

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

/** Whether a weighting estimates the traces from random directions (jvp, pc, hutch). */
export const isSketch = (w: Weighting): boolean => w === "jvp" || w === "pc" || w === "hutch";

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

/** Directions the plan holds per chunk for a weighting. */
/** Directions a training plan allocates per chunk for `c`'s weighting. */
export function planDirections(c: TrainConfig): number {
  if (c.weighting === "jvp" || c.weighting === "pc") return Math.min(c.k, 16);
  if (c.weighting === "hutch") return 1;
  return 0;
}

/** Trains one network; `step()` advances one optimizer step. */
export class Trainer {
  /** The engine it runs on. */
  readonly engine: Engine;
  /** The configuration it trains. */
  readonly config: TrainConfig;
  /** The problem it trains. */
  readonly problem: Problem;
  /** The planned training step. */
  readonly plan: Plan;
  /** Points per group. */
  readonly counts: Counts;
  /** Steps done. */
  step = 0;
  /** Learning-rate scale (halved by rollbacks). */
  lrScale = 1;
  #grid?: Plan;
  #eval?: { plan: Plan; round: number };
  #gridPoints: number[][];
  #solution?: Float64Array[] | null;
  #round = 0;
  #causal: ReturnType<typeof causalSettings>;
  #phase?: LbfgsPhase;
  #phaseSaved?: LbfgsState;
  #phaseLambda?: number[];
  /** Why the run stopped before its last step (an L-BFGS stopping rule), else null. */
  stopped: string | null = null;
  /** Whether the model is the parameter average (`config.average` > 0). */
  get averaging(): boolean {
    return (this.config.average ?? 0) > 0;
  }

  private constructor(
    engine: Engine,
    config: TrainConfig,
    plan: Plan,
    counts: Counts,
    causal: ReturnType<typeof causalSettings>,
  ) {
    this.engine = engine;
    this.config = config;
    this.problem = plan.problem;
    this.plan = plan;
    this.counts = counts;
    this.#gridPoints = evaluationGrid(this.problem);
    this.#causal = causal;
  }

  /** The last step's causal chunk losses and weights (null when causal weights are off). */
  async causalWeights(): Promise<{ losses: Float32Array; weights: Float32Array } | null> {
    return this.#causal ? await this.plan.readCausal() : null;
  }

  /**
   * Plans the step for `settings` (resolved by {@linkcode resolveSettings}: the
   * problem's recommendations fill what they leave out; `settings.problem` is a
   * built-in name, a module path or a {@linkcode Problem}), from `model` when
   * given, else a new network initialised from the seed.
   */
  static async create(
    engine: Engine,
    settings: TrainSettings,
    model?: Model,
  ): Promise<Trainer> {
    const { config, problem } = await resolveSettings(settings);
    const counts = resolveCounts(problem, config.n);
    const causal = causalSettings(config, problem);
    if (causal && (config.optimizer === "lbfgs" || config.then === "lbfgs")) {
      throw new UserError(
        "--causal",
        "Causal weights change the loss every step and L-BFGS needs a fixed one; drop --causal or the L-BFGS phase.",
      );
    }
    const plan = await Plan.create(engine, {
      problem,
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
    const t = new Trainer(engine, config, plan, counts, causal);
    const params = model?.params ??
      initParams(config.sizes, config.seed, config.init, problem.domain);
    if (params.length !== paramLayout(config.sizes).count) {
      throw new UserError("model", "The model's parameter count does not match --sizes.");
    }
    plan.setParams(params);
    if (t.averaging) plan.resetAverage();
    plan.setLambda(config.weighting === "fixed" ? config.weights : {});
    t.#resample(true);
    await t.#prepare();
    return t;
  }

  /** The points of the current sampling round. */
  points(): Points {
    return samplePoints(
      this.problem,
      this.counts,
      this.config.seed,
      this.#round,
      this.config.sampler ?? "uniform",
    );
  }

  #resample(force = false): void {
    const r = this.config.resample > 0 ? Math.floor(this.step / this.config.resample) : 0;
    if (force || r !== this.#round) {
      this.#round = r;
      this.plan.setPoints(this.points());
    }
  }

  async #prepare(): Promise<void> {
    if (this.config.optimizer === "lbfgs") return;
    // Compile every pipeline the step uses before the first timed step.
    await this.#sequences(true);
    await this.#sequences(false);
  }

  /** The dispatch sequences of one step (`update`: the weights are recomputed). */
  async #sequences(update: boolean) {
    const c = this.config, p = this.plan;
    const pre = [];
    const main = [];
    const adaptive = update && ["exact", "jvp", "pc", "hutch"].includes(c.weighting);
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
    if (this.#causal) main.push(await p.causalSeq(this.#causal));
    if (adaptive && c.weighting === "jvp") {
      main.push(await p.directionSeq(k, "gaussian"), await p.jvpSeq(k));
    }
    main.push(p.backward);
    if (adaptive && c.weighting === "exact") main.push(p.gram);
    main.push(p.weightGrad);
    // The loss sums, and the traces and weights of an update, in one reduction
    // (λ is read only by the optimizer, after it).
    const traces = !adaptive || c.weighting === "hutch"
      ? "none"
      : c.weighting === "exact"
      ? "exact"
      : c.weighting === "pc"
      ? "fd"
      : "y";
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
    // An lbfgs run never plans this step (advance() hands every step to the phase).
    const opt = await p.optimizerSeq(
      c.optimizer === "gd" ? "gd" : "adam",
      this.averaging ? c.average! : 0,
    );
    return { pre, main, opt };
  }

  /** Learning rate at the current step. */
  get lr(): number {
    const c = this.config;
    return c.lr * this.lrScale * c.decay ** Math.floor(this.step / c.decaySteps);
  }

  /** Total steps of the run (both phases). */
  get totalSteps(): number {
    return phaseSteps(this.config).total;
  }

  /** Whether the model lives in the L-BFGS phase's plan (it has run an iteration). */
  get #inPhase(): boolean {
    return this.step > phaseSteps(this.config).first;
  }

  /** The plan holding the model: the L-BFGS phase's once it has run, else the step's. */
  async #modelPlan(): Promise<Plan> {
    return this.#inPhase ? (await this.#ensurePhase()).plan : this.plan;
  }

  async #ensurePhase(): Promise<LbfgsPhase> {
    if (this.#phase) return this.#phase;
    const c = this.config, adaptive = !["none", "fixed"].includes(c.weighting);
    const counts = c.optimizer === "lbfgs"
      ? this.counts
      : resolveCounts(this.problem, { ...c.n, ...c.thenN });
    const lam = this.#phaseLambda ??
      Array.from(await this.plan.read(this.plan.b.lambda, 0, this.plan.G));
    this.#phase = await LbfgsPhase.create(
      this.engine,
      {
        problem: this.problem,
        sizes: c.sizes,
        activation: c.activation,
        counts,
        seed: c.seed,
        sampler: c.sampler ?? "uniform",
        m: c.history ?? 20,
        refresh: c.thenRefresh ?? 0,
        adaptive,
        refreshFirst: c.optimizer === "lbfgs",
      },
      await this.#adamModelParams(),
      Object.fromEntries(this.plan.batch.groups.map((g, i) => [g.name, lam[i]])),
      this.#phaseSaved,
    );
    this.#phaseSaved = undefined;
    this.#phaseLambda = undefined;
    return this.#phase;
  }

  /** Advances one step: one submit (two for gradnorm updates, which read gradients back). */
  async advance(): Promise<void> {
    const c = this.config, p = this.plan;
    const first = phaseSteps(c).first;
    if (this.step >= first) {
      const phase = await this.#ensurePhase();
      await phase.iterate(this.step - first);
      this.stopped = phase.stopped;
      this.step++;
      return;
    }
    this.#resample();
    const update = this.step % c.every === 0;
    if (update && (c.weighting === "jvp" || c.weighting === "pc")) {
      p.setRandom(c.seed, this.step, 0);
    }
    if (update && c.weighting === "hutch") p.setNoise(c.seed, this.step);
    p.setOptimizer({
      lr: this.lr,
      beta1: c.beta1,
      beta2: c.beta2,
      eps: c.eps,
      t: this.step + 1,
      // β of this step's average update (warmed up; see averageBeta).
      average: this.averaging ? averageBeta(c.average!, this.step + 1) : 0,
    });
    const s = await this.#sequences(update);
    if (update && c.weighting === "gradnorm") {
      this.engine.submit(`step${this.step}`, ...s.pre, ...s.main);
      await this.#gradnormWeights();
      this.engine.submit(`step${this.step}.update`, s.opt);
    } else {
      this.engine.submit(`step${this.step}`, ...s.pre, ...s.main, s.opt);
    }
    this.step++;
  }

  /** jaxpi's gradient-norm weights: λ_j = Σ_k ‖∇L_k‖ / ‖∇L_j‖, EMA over updates. */
  async #gradnormWeights(): Promise<void> {
    const p = this.plan, P = p.net.paramCount;
    const partial = await p.read(p.b.partial, 0, (p.slices.length / 4) * P);
    const sq = new Float64Array(p.G);
    const g = new Float64Array(P);
    for (let gi = 0; gi < p.G; gi++) {
      g.fill(0);
      for (let s = 0; s < p.slices.length / 4; s++) {
        if (p.slices[4 * s + 2] !== gi) continue;
        for (let i = 0; i < P; i++) g[i] += partial[s * P + i];
      }
      sq[gi] = Math.sqrt(g.reduce((a, v) => a + v * v, 0));
    }
    const total = sq.reduce((a, b) => a + b, 0);
    const prev = await p.read(p.b.lambda, 0, p.G);
    const beta = this.step === 0 ? 0 : emaBeta(this.config);
    const lam = Float32Array.from(
      sq,
      (v, i) => beta * prev[i] + (1 - beta) * (v > 0 ? total / v : 1),
    );
    p.setLambda(Object.fromEntries(p.batch.groups.map((grp, i) => [grp.name, lam[i]])));
  }

  /** Loss per group (unweighted means of r²) and the weights, read back from the last step. */
  async losses(): Promise<
    { loss: Record<string, number>; total: number; weights: Record<string, number> }
  > {
    const p = await this.#modelPlan();
    const sums = await p.read(p.b.lossSums, 0, p.G);
    const lam = await p.read(p.b.lambda, 0, p.G);
    const loss: Record<string, number> = {};
    const weights: Record<string, number> = {};
    let total = 0;
    p.batch.groups.forEach((g, i) => {
      loss[g.name] = sums[i] / g.n;
      weights[g.name] = lam[i];
      total += lam[i] * sums[i] / g.n;
    });
    return { loss, total, weights };
  }

  /**
   * ‖∇_θ L‖² of the last step's weighted loss (from its weight-gradient slices and
   * the λ it used), for the convergence diagnostics of the seed paper.
   */
  async gradNormSq(): Promise<number> {
    const p = await this.#modelPlan();
    this.engine.submit("gradNorm", p.gather);
    const g = await p.read(p.b.grad, 0, p.net.paramCount);
    let s = 0;
    for (let i = 0; i < g.length; i++) s += g[i] * g[i];
    return s;
  }

  /** The network's outputs on the problem's evaluation grid, one array per output. */
  async predictOutputs(): Promise<Float32Array[]> {
    if (!this.#grid) {
      this.#grid = await Plan.create(this.engine, {
        problem: valueProblem(this.problem, "grid"),
        sizes: this.config.sizes,
        activation: this.config.activation,
        counts: { grid: this.#gridPoints.length },
      });
      this.#grid.setPoints({ grid: this.#gridPoints });
    }
    const g = this.#grid;
    await this.#copyModelTo(g, "grid");
    this.engine.submit("grid.eval", g.forward);
    return (await g.readOutputs()).grid;
  }

  /** Copies the model's parameters (the average, or the raw ones) into `plan` and packs them. */
  async #copyModelTo(plan: Plan, label: string): Promise<void> {
    const enc = this.engine.device.createCommandEncoder({ label: `${label}.params` });
    const src = this.#inPhase
      ? (await this.#modelPlan()).b.params
      : this.averaging
      ? this.plan.b.average
      : this.plan.b.params;
    enc.copyBufferToBuffer(src, 0, plan.b.params, 0, this.plan.net.paramCount * 4);
    this.engine.device.queue.submit([enc.finish()]);
    this.engine.submit(`${label}.pack`, plan.pack);
  }

  /**
   * Loss per group of the model this run saves (the parameter average when
   * `config.average` is set, else the parameters after the last update) on the
   * current points, with the current weights: what `eval` reports for the saved
   * model on these points. {@linkcode Trainer.losses} instead reads the last
   * training step's own losses (its parameters before the update).
   */
  async modelLosses(): Promise<
    { loss: Record<string, number>; total: number; weights: Record<string, number> }
  > {
    const p = this.plan;
    if (!this.#eval) {
      const plan = await Plan.create(this.engine, {
        problem: this.problem,
        sizes: this.config.sizes,
        activation: this.config.activation,
        counts: this.counts,
      });
      this.#eval = { plan, round: -1 };
    }
    const e = this.#eval.plan;
    if (this.#eval.round !== this.#round) {
      e.setPoints(this.points());
      this.#eval.round = this.#round;
    }
    const lam = await p.read(p.b.lambda, 0, p.G);
    const weights = Object.fromEntries(p.batch.groups.map((g, i) => [g.name, lam[i]]));
    e.setLambda(weights);
    await this.#copyModelTo(e, "model");
    const ev = await e.evaluate(false);
    return { loss: ev.lossPerGroup, total: ev.loss, weights };
  }

  /** The network's first output on the problem's evaluation grid. */
  async predictGrid(): Promise<Float32Array> {
    return (await this.predictOutputs())[0];
  }

  /**
   * The solution on the evaluation grid, one array per output (from the problem's
   * `exact` or `reference`, computed once); null when the problem has neither.
   */
  async gridSolution(): Promise<Float64Array[] | null> {
    if (this.#solution === undefined) {
      this.#solution = await gridSolution(this.problem, this.#gridPoints);
    }
    return this.#solution;
  }

  /**
   * Relative L2 errors on the evaluation grid: over all outputs stacked, and per
   * output (by name); null when the problem has no solution to compare with (or
   * it is zero on the whole grid).
   */
  async errors(): Promise<{ stacked: number; outputs: Record<string, number> } | null> {
    const ref = await this.gridSolution();
    // A solution that is zero on the whole grid (`exact: () => 0` for a problem
    // without a closed form) gives no relative error either.
    if (!ref || ref.every((a) => a.every((v) => v === 0))) return null;
    const u = await this.predictOutputs();
    let num = 0, den = 0;
    const outputs: Record<string, number> = {};
    problemOutputs(this.problem).forEach((name, k) => {
      let nk = 0, dk = 0;
      for (let i = 0; i < u[k].length; i++) {
        nk += (u[k][i] - ref[k][i]) ** 2;
        dk += ref[k][i] ** 2;
      }
      outputs[name] = Math.sqrt(nk / dk);
      num += nk;
      den += dk;
    });
    return { stacked: Math.sqrt(num / den), outputs };
  }

  /**
   * Relative L2 error ‖u_θ − u‖ / ‖u‖ on the evaluation grid over all outputs
   * stacked; null when the problem has no exact solution nor reference.
   */
  async relL2(): Promise<number | null> {
    return (await this.errors())?.stacked ?? null;
  }

  /** Current parameters (flat layout), as the optimizer steps them. */
  async params(): Promise<Float32Array> {
    return await this.plan.read(this.plan.b.params, 0, this.plan.net.paramCount);
  }

  /** The model's parameters: their average when `config.average` is set, else {@linkcode Trainer.params}. */
  async modelParams(): Promise<Float32Array> {
    if (this.#inPhase) {
      const p = await this.#modelPlan();
      return await p.read(p.b.params, 0, p.net.paramCount);
    }
    return await this.#adamModelParams();
  }

  /** The first phase's model: the average or the optimizer's parameters. */
  async #adamModelParams(): Promise<Float32Array> {
    if (!this.averaging) return await this.params();
    return await this.plan.read(this.plan.b.average, 0, this.plan.net.paramCount);
  }

  /** Everything needed to continue this trajectory exactly. */
  async state(): Promise<TrainState> {
    const p = this.plan, lp = await this.#modelPlan();
    return {
      step: this.step,
      moments: Array.from(await p.read(p.b.moments, 0, 2 * p.net.paramCount)),
      lambda: Array.from(await lp.read(lp.b.lambda, 0, p.G)),
      ntkState: Array.from(await p.read(p.b.ntkState, 0, 2 * p.G + 1)),
      lrScale: this.lrScale,
      ...(this.averaging ? { raw: Array.from(await this.params()) } : {}),
      ...(this.#inPhase ? { lbfgs: await this.#phase!.lbfgs.state() } : {}),
    };
  }

  /**
   * Restores a state written by {@linkcode Trainer.state}. Set the model's
   * parameters first ({@linkcode Trainer.setParams}); with `config.average` they
   * become the average, and the state's `raw` parameters the optimizer's.
   */
  restore(s: TrainState): void {
    const p = this.plan;
    if (
      s.moments.length !== 2 * p.net.paramCount || s.lambda.length !== p.G ||
      s.ntkState.length !== 2 * p.G + 1 || (s.raw && s.raw.length !== p.net.paramCount)
    ) {
      throw new UserError(
        "--resume",
        "The checkpoint's training state does not match this configuration.",
      );
    }
    if (s.step > phaseSteps(this.config).first && !s.lbfgs) {
      throw new UserError(
        "--resume",
        "The checkpoint is inside the L-BFGS phase but holds no L-BFGS state; resume from an earlier copy.",
      );
    }
    if (s.lbfgs) checkLbfgsState(s.lbfgs, this.config.history ?? 20, p.net.paramCount);
    this.engine.write(p.b.moments, 0, Float32Array.from(s.moments));
    this.engine.write(p.b.lambda, 0, Float32Array.from(s.lambda));
    this.engine.write(p.b.ntkState, 0, Float32Array.from(s.ntkState));
    if (this.averaging) {
      p.resetAverage();
      if (s.raw) p.setParams(Float32Array.from(s.raw));
    }
    this.step = s.step;
    this.lrScale = s.lrScale;
    this.#resample(true);
    // The phase is planned again at its next use, from the model's parameters
    // (setParams) and the checkpoint's λ and history.
    const old = this.#phase;
    this.#phase = undefined;
    void old?.dispose();
    this.stopped = null;
    this.#phaseSaved = this.#inPhase ? s.lbfgs : undefined;
    this.#phaseLambda = this.#inPhase ? s.lambda : undefined;
  }

  /** Sets parameters (flat layout). */
  setParams(params: Float32Array): void {
    this.plan.setParams(params);
  }

  /** Exact traces and weights at the current parameters (diagnostics, not the step). */
  async exactWeights(): Promise<NtkTraces> {
    const traces = await estimateTraces(this.plan, { method: "exact" });
    return weightsFromTraces(traces, this.counts);
  }

  /** Releases the plans' buffers. */
  async dispose(): Promise<void> {
    await this.#phase?.dispose();
    await this.plan.dispose();
    await this.#grid?.dispose();
    await this.#eval?.plan.dispose();
  }

  /** Calls {@linkcode Trainer.dispose}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
