/**
 * Runs a sweep's trainings on this machine, each as a child `train` process (so a
 * training that crashes, or is killed, takes nothing else with it): `--config` for a
 * new run, `--resume` for one with a checkpoint; finished runs are skipped. Used by
 * `sweep run` (a pool of `jobs` trainings) and by `sweep task` (one Slurm array task).
 *
 * Kill safety: SIGTERM reaches a trainer from the sweep (on abort) or from the
 * terminal or Slurm directly; `train` then writes its checkpoint atomically and
 * exits, and the next attempt resumes it. A trainer that outlives a killed sweep
 * keeps its folder's lock, so a new sweep leaves that run alone.
 *
 * @module
 */
import type { Plan, PlannedRun } from "./plan.ts";
import {
  checkpointStep,
  clearFailure,
  liveLock,
  readMetrics,
  recordFailure,
  releaseLock,
  runDir,
  type RunLock,
  type RunMetrics,
  setLockPid,
  takeLock,
} from "./state.ts";

/** The CLI's entry module, run by child processes and by Slurm array tasks. */
export const CLI_MAIN: URL = new URL("../../cli/main.ts", import.meta.url);

/**
 * `deno` arguments that run the CLI with `args`: the flags and permissions the tasks grant and,
 * for a local checkout, its deno.json (its import map), whatever the working folder.
 */
export function cliArgs(args: string[], allowRun = false): string[] {
  const perms = ["--allow-read", "--allow-write", "--allow-env"];
  if (allowRun) perms.push("--allow-run");
  const config = CLI_MAIN.protocol === "file:"
    ? ["--config", new URL("../../deno.json", import.meta.url).pathname]
    : [];
  const main = CLI_MAIN.protocol === "file:" ? CLI_MAIN.pathname : CLI_MAIN.href;
  // Like the tasks: resvg, the only wasm, on V8's baseline compiler (see README, Pictures).
  return ["run", "--v8-flags=--liftoff-only", ...perms, ...config, main, ...args];
}

/** How one attempt at a run ended. */
export type Outcome =
  | { kind: "finished"; metrics: RunMetrics; skipped: boolean }
  | { kind: "interrupted" }
  | { kind: "failed"; error: string; exit: number }
  | { kind: "busy"; lock: RunLock };

/** Options of {@linkcode trainRun}. */
export interface TrainRunOptions {
  /** Aborting sends the trainer SIGTERM (it checkpoints and exits). */
  signal?: AbortSignal;
  /** Called with each progress line's step and total. */
  onStep?: (step: number, steps: number) => void;
  /** Called once the trainer started (`resumed`: from a checkpoint at `step`). */
  onStart?: (resumed: boolean, step: number) => void;
}

/**
 * Trains one planned run to the end in its folder (`DIR/runs/<name>`), resuming its
 * checkpoint if any. The trainer's stderr goes to `train.log` in the run folder.
 */
export async function trainRun(
  dir: string,
  r: PlannedRun,
  o: TrainRunOptions = {},
): Promise<Outcome> {
  const run = runDir(dir, r);
  const done = await readMetrics(run);
  if (done) return { kind: "finished", metrics: done, skipped: true };
  if (!await takeLock(run)) {
    const lock = await liveLock(run);
    if (lock) return { kind: "busy", lock };
    return { kind: "interrupted" };
  }
  try {
    if (o.signal?.aborted) return { kind: "interrupted" };
    await clearFailure(run);
    const step = await checkpointStep(run);
    const train = step !== undefined
      ? ["train", "--resume", run, "--json"]
      : ["train", "--config", `${dir}/configs/${r.name}.json`, "--out", run, "--json"];
    const child = new Deno.Command(Deno.execPath(), {
      args: cliArgs(train),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    await setLockPid(run, child.pid);
    o.onStart?.(step !== undefined, step ?? 0);
    const stop = () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already ended */ }
    };
    o.signal?.addEventListener("abort", stop);
    const lastLine = await pipeLog(child.stderr, `${run}/train.log`, o.onStep);
    const status = await child.status;
    o.signal?.removeEventListener("abort", stop);
    const metrics = status.code === 0 ? await readMetrics(run) : undefined;
    if (metrics) return { kind: "finished", metrics, skipped: false };
    // 130: `train` caught the signal and checkpointed; a signal before its handler
    // was installed ends it without one, and the next attempt starts afresh.
    if (status.code === 130 || status.signal || o.signal?.aborted) return { kind: "interrupted" };
    const error = status.code === 0
      ? `train ended without the run's metrics.json or report.md; see ${run}/train.log`
      : lastLine.replace(/^error:\s*/, "") || `train exited with code ${status.code}`;
    await recordFailure(run, error, status.code);
    return { kind: "failed", error, exit: status.code };
  } finally {
    await releaseLock(run);
  }
}

/** Appends a child's stderr to `path`, reporting progress lines; returns its last line. */
async function pipeLog(
  stream: ReadableStream<Uint8Array>,
  path: string,
  onStep?: (step: number, steps: number) => void,
): Promise<string> {
  const file = await Deno.open(path, { create: true, append: true });
  let last = "", pending = "";
  try {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      await file.write(new TextEncoder().encode(chunk));
      const lines = (pending + chunk).split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        if (line.trim()) last = line.trim();
        const m = line.match(/^step (\d+)\/(\d+)/);
        if (m) onStep?.(Number(m[1]), Number(m[2]));
      }
    }
  } finally {
    file.close();
  }
  return pending.trim() || last;
}

/** Options of {@linkcode runSweep}. */
export interface SweepRunOptions {
  /** Trainings at once. */
  jobs: number;
  /** Aborting stops starting runs and interrupts the running ones (they checkpoint). */
  signal?: AbortSignal;
  /** Progress and events, one line each (stderr in the CLI). */
  log?: (line: string) => void;
  /** Least seconds between two overall progress lines. */
  progressEvery?: number;
}

/** What {@linkcode runSweep} did. */
export interface SweepSummary {
  /** Runs finished now or before. */
  finished: number;
  /** Runs that failed, with the trainer's last error line. */
  failed: { name: string; error: string }[];
  /** Runs another live process on this machine is training. */
  busy: { name: string; lock: RunLock }[];
  /** True when the sweep was stopped before the end. */
  interrupted: boolean;
}

/** Runs every unfinished run of `plan` in `dir`, `jobs` at a time. */
export async function runSweep(dir: string, plan: Plan, o: SweepRunOptions): Promise<SweepSummary> {
  const log = o.log ?? (() => {});
  const total = plan.runs.length;
  const summary: SweepSummary = { finished: 0, failed: [], busy: [], interrupted: false };
  const queue: PlannedRun[] = [];
  for (const r of plan.runs) {
    if (await readMetrics(runDir(dir, r))) summary.finished++;
    else queue.push(r);
  }
  log(
    `sweep ${dir}: ${total} runs, ${summary.finished} finished before, ${queue.length} to run, ${o.jobs} at a time`,
  );
  const running = new Map<string, { step: number; steps: number }>();
  let lastProgress = 0;
  const progress = (force = false) => {
    const now = performance.now();
    if (!force && now - lastProgress < (o.progressEvery ?? 10) * 1000) return;
    lastProgress = now;
    const parts = [...running].map(([n, p]) => `${n} ${p.step}/${p.steps || "?"}`);
    log(
      `[${summary.finished}/${total} finished${
        summary.failed.length ? `, ${summary.failed.length} failed` : ""
      }] running: ${parts.join(", ") || "none"}`,
    );
  };
  const worker = async () => {
    while (queue.length > 0 && !o.signal?.aborted) {
      const r = queue.shift()!;
      running.set(r.name, { step: 0, steps: 0 });
      const outcome = await trainRun(dir, r, {
        signal: o.signal,
        onStart: (resumed, step) =>
          log(`${r.name}: ${resumed ? `resuming from step ${step}` : "started"}`),
        onStep: (step, steps) => {
          running.set(r.name, { step, steps });
          progress();
        },
      });
      running.delete(r.name);
      if (outcome.kind === "finished") {
        summary.finished++;
        const m = outcome.metrics;
        log(
          `[${summary.finished}/${total}] ${r.name}: finished, ${m.steps} steps in ${
            m.wall_s.toFixed(1)
          } s, rel. L2 ${m.rel_l2 === null ? "n/a" : m.rel_l2.toExponential(3)}`,
        );
      } else if (outcome.kind === "failed") {
        summary.failed.push({ name: r.name, error: outcome.error });
        log(`${r.name}: failed: ${outcome.error}`);
      } else if (outcome.kind === "busy") {
        summary.busy.push({ name: r.name, lock: outcome.lock });
        log(`${r.name}: left alone, process ${outcome.lock.pid} is training it`);
      } else {
        log(`${r.name}: interrupted; its checkpoint is kept for the next run`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.jobs) }, worker));
  summary.interrupted = Boolean(o.signal?.aborted) && summary.finished < total;
  return summary;
}
