/**
 * The trainer: one network trained under a {@linkcode TrainConfig}, its Adam/gd
 * steps (src/adam_phase.ts) and then, or instead, its L-BFGS iterations
 * (src/lbfgs_phase.ts), each planned once and replayed; it reads the model back,
 * evaluates it (src/model_eval.ts) and saves and restores its state
 * (src/train_state.ts).
 *
 * @module
 */
import type { Engine } from "./engine.ts";
import type { Plan } from "./plan.ts";
import { initParams, type Model } from "./model.ts";
import { type Counts, type Points, resolveCounts, samplePoints } from "./points.ts";
import { resolveSettings, type TrainSettings } from "./settings.ts";
import { estimateTraces, type NtkTraces, weightsFromTraces } from "./ntk.ts";
import { UserError } from "./errors.ts";
import type { Problem } from "./problems/problem.ts";
import { LbfgsPhase } from "./lbfgs_phase.ts";
import { DEFAULT_HISTORY, type LbfgsState } from "./lbfgs_state.ts";
import { adamStep, stepPlan, stepSequences } from "./adam_phase.ts";
import { ModelEvaluation } from "./model_eval.ts";
import { causalSettings, phaseSteps, type TrainConfig } from "./train_config.ts";
import { checkTrainState, type TrainState } from "./train_state.ts";

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
  #views: ModelEvaluation;
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
    this.#views = new ModelEvaluation(engine, this.problem, {
      ...config,
      embedding: plan.embedding,
    }, counts);
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
    const plan = await stepPlan(engine, config, problem, counts, model);
    const t = new Trainer(engine, config, plan, counts, causal);
    const params = model?.params ??
      initParams(config.sizes, config.seed, config.init, problem.domain, plan.embedding);
    if (params.length !== plan.net.paramCount) {
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
    await stepSequences(this.plan, this.config, this.#causal, true);
    await stepSequences(this.plan, this.config, this.#causal, false);
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
        embedding: this.plan.embedding,
        counts,
        seed: c.seed,
        sampler: c.sampler ?? "uniform",
        m: c.history ?? DEFAULT_HISTORY,
        refresh: c.thenRefresh ?? 0,
        resample: c.thenResample ?? 0,
        adaptive,
        refreshFirst: c.optimizer === "lbfgs",
      },
      await this.#adamModelParams(),
      Object.fromEntries(this.plan.batch.groups.map((g, i) => [g.name, lam[i]])),
      this.#phaseSaved,
      Math.max(0, this.step - phaseSteps(c).first),
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
    await adamStep(this.engine, p, c, this.#causal, this.step, this.lr);
    this.step++;
  }

  /** Loss per group (unweighted means of r²) and the weights, read back from the last step. */
  async losses(): Promise<
    { loss: Record<string, number>; total: number; weights: Record<string, number> }
  > {
    const p = await this.#modelPlan();
    // Read together: Deno settles each readback at its next device poll (≈ 10 ms).
    const [sums, lam] = await Promise.all([
      p.read(p.b.lossSums, 0, p.G),
      p.read(p.b.lambda, 0, p.G),
    ]);
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
    return await this.#views.gridOutputs(this.#copyModel);
  }

  /** Copies the model's parameters (the average, or the raw ones) into `plan` and packs them. */
  #copyModel = async (plan: Plan, label: string): Promise<void> => {
    const enc = this.engine.device.createCommandEncoder({ label: `${label}.params` });
    const src = this.#inPhase
      ? (await this.#modelPlan()).b.params
      : this.averaging
      ? this.plan.b.average
      : this.plan.b.params;
    enc.copyBufferToBuffer(src, 0, plan.b.params, 0, this.plan.net.paramCount * 4);
    this.engine.device.queue.submit([enc.finish()]);
    this.engine.submit(`${label}.pack`, plan.pack);
  };

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
    const lam = await p.read(p.b.lambda, 0, p.G);
    const weights = Object.fromEntries(p.batch.groups.map((g, i) => [g.name, lam[i]]));
    return await this.#views.losses(this.#copyModel, this.#round, () => this.points(), weights);
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
    return await this.#views.solution();
  }

  /**
   * Relative L2 errors on the evaluation grid: over all outputs stacked, and per
   * output (by name); null when the problem has no solution to compare with (or
   * it is zero on the whole grid).
   */
  async errors(): Promise<{ stacked: number; outputs: Record<string, number> } | null> {
    return await this.#views.errors(this.#copyModel);
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
    // The reads settle together (one device poll instead of one each).
    const [moments, lambda, ntkState, raw, lbfgs] = await Promise.all([
      p.read(p.b.moments, 0, 2 * p.net.paramCount),
      lp.read(lp.b.lambda, 0, p.G),
      p.read(p.b.ntkState, 0, 2 * p.G + 1),
      this.averaging ? this.params() : undefined,
      this.#inPhase ? this.#phase!.lbfgs.state() : undefined,
    ]);
    return {
      step: this.step,
      moments: Array.from(moments),
      lambda: Array.from(lambda),
      ntkState: Array.from(ntkState),
      lrScale: this.lrScale,
      ...(raw ? { raw: Array.from(raw) } : {}),
      ...(lbfgs ? { lbfgs } : {}),
    };
  }

  /**
   * Restores a state written by {@linkcode Trainer.state}. Set the model's
   * parameters first ({@linkcode Trainer.setParams}); with `config.average` they
   * become the average, and the state's `raw` parameters the optimizer's.
   */
  restore(s: TrainState): void {
    const p = this.plan;
    checkTrainState(s, p, this.config);
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
    await this.#views.dispose();
  }

  /** Calls {@linkcode Trainer.dispose}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
