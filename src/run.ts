/**
 * A training run with an output folder: config.json, log.jsonl, model.json
 * (atomic checkpoints with the full training state), metrics.json, pictures
 * (`*.png`, `*.svg`, `*.vl.json`), report.html and report.md; resume, divergence
 * policies and interrupt handling.
 *
 * @module
 */
import type { Engine } from "./engine.ts";
import { DEFAULT_CHUNKS, type TrainConfig } from "./train_config.ts";
import { emaBeta, isSketch } from "./weight_policy.ts";
import type { LogRecord, TrainState } from "./train_state.ts";
import { Trainer } from "./trainer.ts";
import { loadModel, type Model, modelToJson } from "./model.ts";
import { RunLock } from "./lock.ts";
import { appendLog, isFolder, makeRunFolder, readJsonl, writeRunFile } from "./run_files.ts";
import { UserError } from "./errors.ts";
import { writeChart } from "./plot/render.ts";
import { runCharts } from "./plot/run_charts.ts";
import { gridAxes } from "./plot/solution.ts";
import { reportHtml } from "./plot/report.ts";
import { adapterLine } from "./device.ts";
import { problemOutputs } from "./problems/problem.ts";
import { isProblemPath, problems } from "./problems/mod.ts";
import { resolveSettings, storedProblem, type TrainSettings } from "./settings.ts";
import { DEFAULT_DT, DEFAULT_HUTCH_DT } from "./ntk.ts";
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";

/** What a run reports at the end (metrics.json, design §5). */
export interface Metrics {
  /** Problem name, or module path relative to the run folder (as in config.json). */
  problem: string;
  /** Steps trained. */
  steps: number;
  /** Wall-clock seconds of training (resumed runs add up). */
  wall_s: number;
  /**
   * ‖u_θ − u‖₂ / ‖u‖₂ on the evaluation grid over all outputs stacked, u being the
   * exact or reference solution; null when the problem has neither.
   */
  rel_l2: number | null;
  /** The same per output (by name); null when the problem has no solution to compare with. */
  rel_l2_outputs: Record<string, number> | null;
  /** Root mean square residual per group at the end: what the run can report without a solution. */
  residual_rms: Record<string, number>;
  /** Present when no error can be computed: says why. */
  note?: string;
  /** Mean r² per group of the saved model on the last points (what `eval` gives). */
  loss: Record<string, number>;
  /** Loss weights λ per group at the end. */
  weights: Record<string, number>;
  /** The adapter that ran it (one line). */
  adapter: string;
  /** The weighting policy. */
  weighting: string;
  /** Training steps per second in this session. */
  steps_per_s: number;
  /** Why the run ended before its last step (an L-BFGS stopping rule), when it did. */
  stopped?: string;
}

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

interface Snapshot {
  params: Float32Array;
  state: TrainState;
}

const finite = (r: Record<string, number>) => Object.values(r).every(Number.isFinite);

const finiteList = (v: unknown) =>
  Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x));

/** Loads a run folder's config and checkpoint for `--resume`. */
export async function loadRun(dir: string): Promise<{ config: TrainConfig; model: Model }> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/config.json`);
  } catch {
    throw new UserError(
      "--resume",
      `Cannot read ${dir}/config.json; --resume needs a folder written by \`train\`.`,
    );
  }
  let config: TrainConfig;
  try {
    config = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      "--resume",
      `${dir}/config.json is not valid JSON (${(e as Error).message}); restore it from a copy.`,
    );
  }
  const model = await loadModel(`${dir}/model.json`);
  const s = model.state as Partial<TrainState> | undefined;
  if (!s || typeof s.step !== "number") {
    throw new UserError(
      "--resume",
      `${dir}/model.json holds no training state; it was not written by \`train\`.`,
    );
  }
  // A hand-edited or damaged state would otherwise be read as zeros (null → 0) or
  // continue from a negative step.
  if (
    !Number.isInteger(s.step) || s.step < 0 || typeof s.lrScale !== "number" ||
    !(s.lrScale > 0) || !finiteList(s.moments) || !finiteList(s.lambda) ||
    !finiteList(s.ntkState)
  ) {
    throw new UserError(
      "--resume",
      `${dir}/model.json has a damaged training state; resume from an earlier copy or start a new run.`,
    );
  }
  if (
    typeof config !== "object" || config === null || config.problem !== model.problem ||
    String(config.sizes) !== String(model.sizes) || config.activation !== model.activation
  ) {
    throw new UserError(
      "--resume",
      `${dir}/config.json does not match ${dir}/model.json (problem, sizes, activation); restore it from a copy.`,
    );
  }
  if (isProblemPath(config.problem)) {
    // Files store a module path relative to the run folder; runs written before
    // that stored it relative to the directory train ran in.
    const p = config.problem.startsWith("file:") || isAbsolute(config.problem)
      ? config.problem
      : resolve(dir, config.problem);
    config.problem = existsSync(p) || !existsSync(config.problem) ? p : resolve(config.problem);
  } else if (!Object.hasOwn(problems, config.problem)) {
    throw new UserError(
      "--resume",
      `${dir} was trained on problem "${config.problem}", defined in a program rather than a module file: resume it from that program (runTraining with resume: true and the problem object), or move the problem into a module and train with --problem ./module.ts.`,
    );
  }
  return { config, model };
}

/**
 * Refuses an output folder that holds another problem's run: training would
 * overwrite its model and log. A folder of the same problem is reused.
 */
async function checkOutFolder(out: string, problem: string): Promise<void> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${out}/config.json`);
  } catch {
    return;
  }
  let other: unknown;
  try {
    other = JSON.parse(text)?.problem;
  } catch {
    return;
  }
  if (typeof other !== "string") return;
  const same = isProblemPath(other)
    ? isProblemPath(problem) && resolve(out, other) === resolve(problem)
    : other === problem;
  if (!same) {
    throw new UserError(
      "--out",
      `${out} holds a run of problem ${other}; training ${problem} there would overwrite it: choose another --out (or delete that folder).`,
    );
  }
}

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
    const saved = await loadRun(out);
    model = saved.model;
  }
  const { config, problem } = await resolveSettings(settings);
  if (!o.resume) await checkOutFolder(out, config.problem);
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
      await writeSnapshot(out, c, s, saved);
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
  let inFlight: Promise<void> | undefined;
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
        // previous step's work keeps at most two steps queued (the GPU never idles
        // on the CPU's encoding) and lets the signal handler run every step.
        const previous = inFlight;
        // A failure here surfaces at the next readback, which names it.
        inFlight = engine.device.queue.onSubmittedWorkDone().catch(() => {});
        await previous;
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

/** Writes a checkpoint; `last` is the step of the one already in the folder, if any. */
async function writeSnapshot(
  out: string,
  c: TrainConfig,
  s: Snapshot,
  last?: number,
): Promise<void> {
  await writeRunFile(
    out,
    "model.json",
    modelToJson({
      problem: storedProblem(c.problem, out),
      sizes: c.sizes,
      activation: c.activation,
      params: s.params,
      state: s.state as unknown as Record<string, unknown>,
    }),
    last === undefined
      ? ""
      : `, then resume: the last good checkpoint (step ${last}) is still in ${out}/model.json`,
  );
}

const fmt = (v: number | null) => v !== null && Number.isFinite(v) ? v.toExponential(3) : String(v);

/** What metrics.json and report.md say when a problem has no exact solution nor reference. */
export const NO_SOLUTION =
  "The problem has no exact solution nor reference solution, so no error can be computed; the residual norms (residual_rms, loss) are what the run reports.";

async function writeReport(
  trainer: Trainer,
  m: Metrics,
  log: LogRecord[],
  out: string,
): Promise<void> {
  const p = trainer.problem, c = trainer.config;
  // One field per output: prediction, and the exact or reference solution where there is one.
  const pred = await trainer.predictOutputs();
  const ref = await trainer.gridSolution();
  const names = problemOutputs(p);
  const fields = names.map((name, k) => ({
    name,
    prediction: pred[k],
    ...(ref ? { exact: ref[k] } : {}),
  }));
  const { charts, note } = runCharts({ axes: gridAxes(p), fields }, log);
  const figures = [];
  for (const ch of charts) figures.push({ ...await writeChart(out, ch.name, ch.spec), ...ch });
  const lines = [
    `# sketchpinn run: ${p.name}`,
    "",
    `${p.doc}`,
    "",
    `- adapter: ${m.adapter}`,
    `- network: ${c.sizes.join(", ")} (${c.activation}, ${
      c.init ?? "xavier"
    } init), optimizer ${c.optimizer}, lr ${c.lr} ×${c.decay} every ${c.decaySteps} steps${
      (c.average ?? 0) > 0
        ? `; the model is the parameter average (β = ${c.average} after a warm-up): the error, the losses and model.json are the average's`
        : ""
    }`,
    `- weighting: ${c.weighting}${
      isSketch(c.weighting)
        ? ` (k = ${c.k}${
          c.weighting === "jvp"
            ? ""
            : `, Δt = ${c.dt ?? (c.weighting === "hutch" ? DEFAULT_HUTCH_DT : DEFAULT_DT)}`
        }, β = ${emaBeta(c)})`
        : ""
    }, updated every ${c.every} step(s)${
      (c.causal ?? 0) > 0
        ? `; causal weights ε = ${c.causal} over ${c.chunks ?? DEFAULT_CHUNKS} time chunks`
        : ""
    }`,
    `- points: ${
      Object.entries(trainer.counts).map(([g, n]) => `${g} = ${n}`).join(", ")
    }, resampled every ${c.resample || "never"} step(s)`,
    `- steps: ${m.steps} in ${m.wall_s.toFixed(1)} s (${m.steps_per_s.toFixed(2)} steps/s)`,
    "",
    ...(m.note ? [m.note, ""] : []),
    "| metric | value |",
    "| --- | --- |",
    `| relative L2 error${names.length > 1 ? " (outputs stacked)" : ""} | ${
      m.rel_l2 === null
        ? "no reference (no exact or reference solution to compare with)"
        : fmt(m.rel_l2)
    } |`,
    ...(names.length > 1 && m.rel_l2_outputs
      ? Object.entries(m.rel_l2_outputs).map(([k, v]) => `| relative L2 error ${k} | ${fmt(v)} |`)
      : []),
    ...Object.entries(m.residual_rms).map(([g, v]) => `| rms residual ${g} | ${fmt(v)} |`),
    ...Object.entries(m.loss).map(([g, v]) =>
      `| loss ${g} (saved model, last points) | ${fmt(v)} |`
    ),
    ...Object.entries(m.weights).map(([g, v]) => `| λ ${g} | ${fmt(v)} |`),
    "",
    ...(note ? [`(${note})`, ""] : []),
    ...figures.flatMap((f) => [`![${f.name}](${f.name}.png)`, ""]),
  ];
  const md = lines.join("\n");
  // report.md last: a sweep counts a run finished once it follows metrics.json.
  await writeRunFile(out, "report.html", reportHtml(`sketchpinn run: ${p.name}`, md, figures));
  await writeRunFile(out, "report.md", md);
}
