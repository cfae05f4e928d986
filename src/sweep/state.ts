/**
 * What a sweep's run folder says about its run, read from the files `train` writes
 * (metrics.json at the configured steps: finished; model.json with training state:
 * interrupted, resumable),
 * plus two files of the sweep's own: `sweep.lock` (a trainer is at work: its pid and
 * host) and `sweep_error.json` (the last attempt failed, and why).
 *
 * @module
 */
import { writeFileAtomic } from "../fsutil.ts";
import type { Plan, PlannedRun } from "./plan.ts";
import { phaseSteps, type TrainConfig } from "../train_config.ts";

/** The metrics.json fields a sweep reads (see `Metrics` in run.ts). */
export interface RunMetrics {
  /** Steps trained. */
  steps: number;
  /** Why a stopping rule (L-BFGS) ended the run before its last step, when one did. */
  stopped?: string;
  /** Wall time of the whole run, across resumptions. */
  wall_s: number;
  /** Relative L2 error; null for a problem without a reference solution. */
  rel_l2: number | null;
  /** Relative L2 error per output, for problems with several. */
  rel_l2_outputs?: Record<string, number | null> | (number | null)[];
  /** Final loss weights per group. */
  weights?: Record<string, number>;
  /** Final mean squared residual per group. */
  loss?: Record<string, number>;
  /** The adapter that ran it. */
  adapter?: string;
}

/** A run's state, from its folder. */
export type RunState =
  | { kind: "finished"; metrics: RunMetrics }
  | { kind: "running"; pid: number; host: string; step?: number }
  | { kind: "interrupted"; step: number }
  | { kind: "failed"; error: string; step?: number }
  | { kind: "pending" };

/** Who holds a run folder: written by the sweep before it starts a trainer there. */
export interface RunLock {
  /** The training process (or, for a moment, the sweep process starting it). */
  pid: number;
  /** The name of the machine it runs on (`hostname`). */
  host: string;
}

let host: Promise<string> | undefined;

/** This machine's name, from `hostname` (`Deno.hostname()` would need --allow-sys too). */
export function thisHost(): Promise<string> {
  host ??= new Deno.Command("hostname", { stdin: "null", stderr: "null" }).output()
    .then((r) => new TextDecoder().decode(r.stdout).trim() || "localhost", () => "localhost");
  return host;
}

/** The folder of a planned run. */
export const runDir = (dir: string, r: PlannedRun): string => `${dir}/runs/${r.name}`;

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch {
    return undefined;
  }
}

/** Whether process `pid` on this machine still runs (a zombie counts as ended). */
export async function processAlive(pid: number): Promise<boolean> {
  // Deno grants /proc reads only with --allow-all, so ask `cat` and the shell.
  const out = async (args: string[]) => {
    const r = await new Deno.Command(args[0], {
      args: args.slice(1),
      stdin: "null",
      stderr: "null",
    })
      .output();
    return r.code === 0 ? new TextDecoder().decode(r.stdout) : undefined;
  };
  const stat = await out(["cat", `/proc/${pid}/stat`]);
  // Field 3, after the parenthesised command name, is the state; Z = zombie.
  if (stat !== undefined) return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  // No such entry, or no /proc (macOS): `kill -0` sends no signal, it only checks.
  return await out(["sh", "-c", `kill -0 ${pid}`]) !== undefined;
}

/**
 * The live lock of a run folder, if any. A lock from another machine is taken as
 * stale: on a cluster a new array task for the same index means the old one ended
 * (Slurm runs one task per index), and nothing else on this machine can check it.
 */
export async function liveLock(run: string): Promise<RunLock | undefined> {
  const lock = await readJson<RunLock>(`${run}/sweep.lock`);
  if (!lock || typeof lock.pid !== "number") return undefined;
  if (lock.host !== await thisHost()) return undefined;
  return await processAlive(lock.pid) ? lock : undefined;
}

/**
 * Takes a run folder's lock for this process; returns false when a live process on
 * this machine holds it. Creating the file with `createNew` makes two sweeps that
 * race for the same run agree on one winner.
 */
export async function takeLock(run: string): Promise<boolean> {
  await Deno.mkdir(run, { recursive: true });
  const path = `${run}/sweep.lock`;
  const text = JSON.stringify({ pid: Deno.pid, host: await thisHost() } satisfies RunLock);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await Deno.writeTextFile(path, text, { createNew: true });
      return true;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      if (await liveLock(run)) return false;
      await Deno.remove(path).catch(() => {});
    }
  }
  return false;
}

/** Records the training process as the lock's holder (it outlives a killed sweep). */
export async function setLockPid(run: string, pid: number): Promise<void> {
  await writeFileAtomic(
    `${run}/sweep.lock`,
    JSON.stringify({ pid, host: await thisHost() } satisfies RunLock),
  );
}

/** Releases a run folder's lock. */
export async function releaseLock(run: string): Promise<void> {
  await Deno.remove(`${run}/sweep.lock`).catch(() => {});
}

/** Records a failed attempt (cleared when the next attempt starts). */
export async function recordFailure(run: string, error: string, exit: number): Promise<void> {
  await writeFileAtomic(`${run}/sweep_error.json`, JSON.stringify({ error, exit }) + "\n");
}

/** Clears a failure record before a new attempt. */
export async function clearFailure(run: string): Promise<void> {
  await Deno.remove(`${run}/sweep_error.json`).catch(() => {});
}

/** The training step of a run folder's checkpoint, if it holds one `--resume` accepts. */
export async function checkpointStep(run: string): Promise<number | undefined> {
  const model = await readJson<{ state?: { step?: unknown } }>(`${run}/model.json`);
  const step = model?.state?.step;
  const config = await Deno.stat(`${run}/config.json`).then(() => true, () => false);
  return config && typeof step === "number" ? step : undefined;
}

/** The last logged step in a run folder's log.jsonl. */
async function loggedStep(run: string): Promise<number | undefined> {
  const text = await Deno.readTextFile(`${run}/log.jsonl`).catch(() => "");
  const last = text.trimEnd().split("\n").at(-1);
  try {
    return last ? JSON.parse(last).step : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads a run's metrics.json; undefined unless the run finished. `train` writes
 * metrics.json when interrupted too, so finished means all of config.json's steps (both
 * phases with an L-BFGS phase) or a stopping rule's end;
 * and it writes the pictures and then report.md (atomically) after metrics.json, so
 * a run killed while drawing them counts as unfinished and its resume redraws them.
 */
export async function readMetrics(run: string): Promise<RunMetrics | undefined> {
  const m = await readJson<RunMetrics>(`${run}/metrics.json`);
  const config = await readJson<TrainConfig>(`${run}/config.json`);
  // With an L-BFGS phase the run has more steps than `steps`; a stopping rule may end it early.
  const steps = config && typeof config.steps === "number" ? phaseSteps(config).total : undefined;
  const report = await Deno.stat(`${run}/report.md`).then(() => true, () => false);
  const done = m && typeof m.steps === "number" &&
    ((typeof steps === "number" && m.steps >= steps) || typeof m.stopped === "string");
  return done && report ? m : undefined;
}

/** The state of one planned run. */
export async function runState(dir: string, r: PlannedRun): Promise<RunState> {
  const run = runDir(dir, r);
  const metrics = await readMetrics(run);
  if (metrics) return { kind: "finished", metrics };
  const lock = await liveLock(run);
  if (lock) return { kind: "running", ...lock, step: await loggedStep(run) };
  const step = await checkpointStep(run);
  const failure = await readJson<{ error: string }>(`${run}/sweep_error.json`);
  if (failure) return { kind: "failed", error: failure.error, step };
  return step !== undefined ? { kind: "interrupted", step } : { kind: "pending" };
}

/** The states of all runs of a plan, in plan order. */
export function planStates(dir: string, plan: Plan): Promise<RunState[]> {
  return Promise.all(plan.runs.map((r) => runState(dir, r)));
}
