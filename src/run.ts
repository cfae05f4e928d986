/**
 * A training run with an output folder: config.json, log.jsonl, model.json
 * (atomic checkpoints with the full training state), metrics.json, pictures
 * (`*.png`, `*.svg`, `*.vl.json`), report.html and report.md; resume, divergence
 * policies and interrupt handling. This module runs the training loop (logging,
 * checkpoints, rollbacks, the signal); the folder's config and checkpoint files
 * are src/run_checkpoint.ts, the final report src/run_report.ts.
 *
 * @module
 */
import type { Engine } from "./engine.ts";
import type { LogRecord, TrainState } from "./train_state.ts";
import { Trainer } from "./trainer.ts";
import type { Model } from "./model.ts";
import { RunLock } from "./lock.ts";
import { appendLog, isFolder, makeRunFolder, readJsonl, writeRunFile } from "./run_files.ts";
import { checkOutFolder, loadRun, type Snapshot, writeSnapshot } from "./run_checkpoint.ts";
import { type Metrics, NO_SOLUTION, writeReport } from "./run_report.ts";
import { UserError } from "./errors.ts";
import { adapterLine } from "./device.ts";
import { resolveSettings, storedProblem, type TrainSettings } from "./settings.ts";
import { checkModelTransform } from "./problems/transform.ts";

/** Progress of a run, reported at each log step. */
export interface Progress extends LogRecord {
  /** Total steps of the run. */
  steps: number;
  /** Steps per second since the previous report. */
  stepsPerSecond: number;
  /** Estimated seconds to the end. */
  etaSeconds: number;
}

/** Run settings beyond the training configuration. */
export interface RunOptions {
  /** Output folder. */
  out: string;
  /** Continue the run stored in `out` (its config and checkpoint). */
  resume?: boolean;
  /** Checkpoint every this many steps (0 = only at the end). */
  checkpointEvery?: number;
  /** On NaN/Inf: stop keeping the last good checkpoint, or roll back with half the learning rate. */
  onNan?: "stop" | "rollback";
  /** Most rollbacks before giving up. */
  maxRollbacks?: number;
  /** Called at each log step. */
  onProgress?: (p: Progress) => void;
  /** Aborting checkpoints the run and ends it early. */
  signal?: AbortSignal;
  /** Skip plots and report (faster tests). */
  noReport?: boolean;
  /** Called with true before a checkpoint is written and false after. */
  onSaving?: (saving: boolean) => void;
}

/** Result of {@linkcode runTraining}. */
export interface RunResult {
  /** What metrics.json holds. */
  metrics: Metrics;
  /** True when the run stopped early on the signal. */
  interrupted: boolean;
}

/** Steps whose work may be queued before the loop waits (with a signal). */
const IN_FLIGHT = 8;
/** Longest time between macrotask turns of the loop (with a signal), ms. */
const YIELD_MS = 100;

const finite = (r: Record<string, number>) => Object.values(r).every(Number.isFinite);

/**
 * Trains on `engine`, writing the run folder; see {@linkcode RunOptions}. The
 * settings resolve as for the `train` command (the problem's recommended sizes,
 * steps, init and parameter average fill what they leave out; see
 * {@linkcode resolveSettings}); `settings.problem` is a built-in name, a module
 * path or a {@linkcode Problem} object.
 */
export async function runTraining(
  engine: Engine,
  settings: TrainSettings,
  o: RunOptions,
): Promise<RunResult> {
  const out = o.out;
  // One run writes a folder at a time; a new run creates its folder to lock it.
  if (!o.resume) await makeRunFolder(out);
  const lock = o.resume && !(await isFolder(out)) ? null : await RunLock.acquire(out);
  try {
    return await runLocked(engine, settings, o);
  } finally {
    await lock?.release();
  }
}

async function runLocked(
  engine: Engine,
  settings: TrainSettings,
  o: RunOptions,
): Promise<RunResult> {
  const out = o.out;
  let model: Model | undefined;
  if (o.resume) {
    // A problem object (defined in the program) stands for the name the folder records.
    const program = typeof settings.problem === "object" ? settings.problem : undefined;
    const saved = await loadRun(out, program);
    model = saved.model;
  }
  const { config, problem } = await resolveSettings(settings);
  if (!o.resume) await checkOutFolder(out, config.problem);
  if (model) checkModelTransform(model.transform, problem, `${out}/model.json`);
  const trainer = await Trainer.create(engine, { ...config, problem }, model);
  try {
    // Validate everything before touching the folder: a failed --resume must leave
    // config.json as it was.
    if (model?.state) {
      try {
        trainer.restore(model.state as unknown as TrainState);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        throw new UserError("--resume", `${out}/model.json: ${e.message}`);
      }
    }
    const stored = { ...config, problem: storedProblem(config.problem, out) };
    await writeRunFile(out, "config.json", JSON.stringify(stored, null, 2) + "\n");
    return await train(trainer, o);
  } finally {
    await trainer.dispose();
  }
}

async function train(trainer: Trainer, o: RunOptions): Promise<RunResult> {
  const c = trainer.config, out = o.out, engine = trainer.engine;
  const logPath = `${out}/log.jsonl`;
  const history = o.resume ? (await readJsonl(logPath)).filter((r) => r.step <= trainer.step) : [];
  await writeRunFile(out, "log.jsonl", history.map((r) => JSON.stringify(r) + "\n").join(""));
  const logFile = await Deno.open(logPath, { append: true });
  const wallOffset = history.at(-1)?.wall_s ?? 0;
  const t0 = performance.now();
  const wall = () => wallOffset + (performance.now() - t0) / 1000;
  // The checkpoint in the folder: a failed write leaves it, and the message says so.
  let saved: number | undefined = o.resume ? trainer.step : undefined;
  const save = async (s: Snapshot) => {
    o.onSaving?.(true);
    try {
      await writeSnapshot(out, c, s, {
        last: saved,
        embedding: trainer.plan.embedding,
        transform: trainer.problem.transform?.doc,
      });
      saved = s.state.step;
    } finally {
      o.onSaving?.(false);
    }
  };
  let snapshot: Snapshot = {
    params: await trainer.modelParams(),
    state: await trainer.state(),
  };
  let rollbacks = 0, interrupted = false;
  const inFlight: Promise<void>[] = [];
  let lastYield = performance.now();
  let lastLog = { step: trainer.step, time: performance.now() };
  const startStep = trainer.step;
  try {
    while (trainer.step < trainer.totalSteps && !trainer.stopped) {
      if (o.signal?.aborted) {
        interrupted = true;
        break;
      }
      await trainer.advance();
      if (o.signal) {
        // Without a wait the loop queues steps up to the next readback and never
        // yields, so a signal (Ctrl-C) waited for the next log step. Waiting for the
        // work of the step IN_FLIGHT steps back bounds the queue (the GPU never
        // idles on the CPU's encoding), and a macrotask turn at least every
        // YIELD_MS lets the signal handler run. Not the previous step's: Deno
        // settles `onSubmittedWorkDone` when it next polls the device, ≈ 10 ms
        // later, so waiting for it capped a step at ≈ 10 ms (qtensor's 12 ms
        // steps ran 1.26× faster without it).
        // A failure here surfaces at the next readback, which names it.
        inFlight.push(engine.device.queue.onSubmittedWorkDone().catch(() => {}));
        if (inFlight.length > IN_FLIGHT) await inFlight.shift();
        if (performance.now() - lastYield > YIELD_MS) {
          await new Promise((r) => setTimeout(r, 0));
          lastYield = performance.now();
        }
      }
      const s = trainer.step;
      const logNow = s % c.logEvery === 0 || s === trainer.totalSteps || trainer.stopped !== null;
      if (!logNow) continue;
      const l = await trainer.losses();
      if (!finite(l.loss) || !finite(l.weights)) {
        const bad = !finite(l.loss) ? "loss" : "NTK weights";
        const maxRollbacks = o.maxRollbacks ?? 3;
        if (o.onNan === "rollback" && rollbacks < maxRollbacks) {
          rollbacks++;
          // Halve the scale in force, so repeated rollbacks keep lowering the rate.
          const lrScale = trainer.lrScale / 2;
          trainer.setParams(snapshot.params);
          trainer.restore(snapshot.state);
          trainer.lrScale = lrScale;
          console.error(
            `\nThe ${bad} became NaN/Inf before step ${s}; rolled back to step ${trainer.step} with learning rate ×${trainer.lrScale} (rollback ${rollbacks}).`,
          );
          continue;
        }
        // The snapshot is the last state checked finite; write it, so the message's
        // promise holds even when no periodic checkpoint was written yet.
        await save(snapshot);
        throw new UserError(
          "--lr",
          o.onNan === "rollback"
            ? `The ${bad} became NaN/Inf before step ${s} after ${rollbacks} rollbacks; the last good state (step ${snapshot.state.step}) is kept in ${out}/model.json: lower --lr.`
            : `The ${bad} became NaN/Inf before step ${s}; the last good checkpoint (step ${snapshot.state.step}) is kept in ${out}/model.json: lower --lr or use --on-nan rollback.`,
        );
      }
      // With the parameter average the logged figures are the average's (the saved
      // model's); the step's own losses (raw parameters) are kept as train_loss.
      const m = trainer.averaging ? await trainer.modelLosses() : l;
      const rel = await trainer.relL2();
      const residualSq = Object.values(l.loss).reduce((a, b) => a + b, 0);
      const gradSq = await trainer.gradNormSq();
      const causal = await trainer.causalWeights();
      const n = history.length + 1, prev = history.at(-1);
      const rec: LogRecord = {
        step: s,
        wall_s: wall(),
        loss: m.loss,
        total: m.total,
        weights: l.weights,
        ...(trainer.averaging ? { train_loss: l.loss } : {}),
        ...(rel === null || rel === undefined ? {} : { rel_l2: rel }),
        residual_sq: residualSq,
        grad_norm_sq: gradSq,
        avg_residual_sq: ((prev?.avg_residual_sq ?? 0) * (n - 1) + residualSq) / n,
        avg_grad_norm_sq: ((prev?.avg_grad_norm_sq ?? 0) * (n - 1) + gradSq) / n,
        ...(causal ? { causal_weights: Array.from(causal.weights) } : {}),
      };
      history.push(rec);
      await appendLog(logFile, out, rec, saved);
      snapshot = { params: await trainer.modelParams(), state: await trainer.state() };
      const now = performance.now();
      const rate = (s - lastLog.step) / ((now - lastLog.time) / 1000);
      lastLog = { step: s, time: now };
      o.onProgress?.({
        ...rec,
        steps: trainer.totalSteps,
        stepsPerSecond: rate,
        etaSeconds: (trainer.totalSteps - s) / rate,
      });
      if (o.checkpointEvery && s % o.checkpointEvery === 0) await save(snapshot);
    }
  } catch (e) {
    if (e instanceof UserError && e.input === "GPU") {
      // The last logged state lives in CPU memory: save it without the GPU.
      await save(snapshot);
      throw new UserError(
        "GPU",
        `${
          e.message.replace(/; restart.*$/, "")
        }; the last good state (step ${snapshot.state.step}) is saved in ${out}/model.json: resume with --resume ${out}.`,
      );
    }
    throw e;
  } finally {
    logFile.close();
  }
  // The last logged state is known finite; a state after it was checked by nothing.
  await save(
    snapshot.state.step === trainer.step || !interrupted ? snapshot : {
      params: await trainer.modelParams(),
      state: await trainer.state(),
    },
  );
  const l = await trainer.modelLosses();
  const errors = await trainer.errors();
  const metrics: Metrics = {
    problem: storedProblem(c.problem, out),
    steps: trainer.step,
    wall_s: wall(),
    rel_l2: errors?.stacked ?? null,
    rel_l2_outputs: errors?.outputs ?? null,
    residual_rms: Object.fromEntries(Object.entries(l.loss).map(([g, v]) => [g, Math.sqrt(v)])),
    ...(errors ? {} : { note: NO_SOLUTION }),
    loss: l.loss,
    weights: l.weights,
    adapter: adapterLine(engine.adapter),
    weighting: c.weighting,
    steps_per_s: (trainer.step - startStep) / ((performance.now() - t0) / 1000),
    ...(trainer.stopped ? { stopped: trainer.stopped } : {}),
  };
  await writeRunFile(out, "metrics.json", JSON.stringify(metrics, null, 2) + "\n");
  if (!o.noReport) await writeReport(trainer, metrics, await readJsonl(logPath), out);
  return { metrics, interrupted };
}
