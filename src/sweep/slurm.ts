/**
 * Slurm job arrays for sweeps: a batch script with one array task per unfinished
 * run (each runs `sweep task FILE --index $SLURM_ARRAY_TASK_ID`, which skips a
 * finished run and resumes an interrupted one, so a re-submitted array continues
 * where the last one stopped), `sbatch` to submit it, and `squeue`/`sacct` to see it.
 * At the time limit (or `scancel`) Slurm sends SIGTERM and, KillWait seconds later,
 * SIGKILL; `train` checkpoints on SIGTERM, so the next submission resumes the run.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../fsutil.ts";
import { cliArgs } from "./local.ts";

/** Resources and limits of the array. */
export interface SlurmOptions {
  /** Array indices to run (the unfinished runs), in increasing order. */
  indices: number[];
  /** Most array tasks running at once (`%` throttle); 0 = no limit. */
  throttle: number;
  /** Time limit per task (Slurm syntax: minutes, `HH:MM:SS`, `D-HH`). */
  time: string;
  /** CPUs per task. */
  cpus: number;
  /** GPUs per task (0 = none requested). */
  gpus: number;
  /** Partition; default: the cluster's default. */
  partition?: string;
  /** Job name. */
  name: string;
}

/** Single-quotes a word for bash. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** `0-3,5,7-8`: increasing indices as Slurm's `--array` ranges. */
export function arraySpec(indices: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < indices.length;) {
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] === indices[j] + 1) j++;
    parts.push(i === j ? `${indices[i]}` : `${indices[i]}-${indices[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * The batch script for a sweep. Paths are made absolute, so the script runs from any
 * folder; the task runs this Deno (`Deno.execPath()`) on this CLI, which on a cluster
 * means both must sit on a file system the compute nodes share.
 */
export function batchScript(file: string, dir: string, o: SlurmOptions): string {
  const abs = (p: string) => p.startsWith("/") ? p : `${Deno.cwd()}/${p}`;
  const sb = [
    `--job-name=${o.name}`,
    `--array=${arraySpec(o.indices)}${o.throttle > 0 ? `%${o.throttle}` : ""}`,
    `--time=${o.time}`,
    `--ntasks=1`,
    `--cpus-per-task=${o.cpus}`,
    ...(o.gpus > 0 ? [`--gpus-per-task=${o.gpus}`] : []),
    ...(o.partition ? [`--partition=${o.partition}`] : []),
    `--chdir=${Deno.cwd()}`,
    // One log per array task: %A is the array's job id, %a the task's index.
    `--output=${abs(dir)}/logs/%A_%a.log`,
  ];
  const cmd = [
    Deno.execPath(),
    ...cliArgs(["sweep", "task", abs(file), "--out", abs(dir)], true),
  ].map(shellQuote).join(" ");
  return [
    "#!/bin/bash",
    `# sketchpinn sweep ${file}: one array task per unfinished run (index = position in plan.json).`,
    `# Re-submit with \`sweep slurm ${file} --out ${dir} --submit\`: finished runs are left out`,
    "# and interrupted ones resume from their checkpoints.",
    ...sb.map((l) => `#SBATCH ${l}`),
    "",
    `exec ${cmd} --index "$SLURM_ARRAY_TASK_ID"`,
    "",
  ].join("\n");
}

/** Writes the batch script to `DIR/sweep.sbatch`; returns its path. */
export async function writeBatchScript(
  file: string,
  dir: string,
  o: SlurmOptions,
): Promise<string> {
  await Deno.mkdir(`${dir}/logs`, { recursive: true });
  const path = `${dir}/sweep.sbatch`;
  await writeFileAtomic(path, batchScript(file, dir, o));
  await Deno.chmod(path, 0o755);
  return path;
}

/** Runs a Slurm client command; undefined when it is not installed. */
async function slurmCommand(
  cmd: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string } | undefined> {
  try {
    const r = await new Deno.Command(cmd, { args, stdin: "null" }).output();
    const dec = new TextDecoder();
    return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Submits a batch script with `sbatch`; returns the job id and records it in `DIR/slurm.json`. */
export async function submit(dir: string, script: string): Promise<string> {
  const r = await slurmCommand("sbatch", ["--parsable", script]);
  if (!r) {
    throw new UserError(
      "--submit",
      "sbatch was not found; run on a Slurm login node, or drop --submit and copy the script there.",
    );
  }
  const id = r.stdout.trim().split(";")[0];
  if (r.code !== 0 || !/^\d+$/.test(id)) {
    throw new UserError(
      "--submit",
      `sbatch refused ${script}: ${
        (r.stderr.trim().split("\n").at(-1) ?? "").replace(/^sbatch: error: /, "")
      }; check the flags (--partition, --time, --gpus) against the cluster.`,
    );
  }
  const jobs = await submittedJobs(dir);
  await writeFileAtomic(`${dir}/slurm.json`, JSON.stringify({ jobs: [...jobs, id] }) + "\n");
  return id;
}

/** The job ids submitted for a sweep folder, oldest first. */
export async function submittedJobs(dir: string): Promise<string[]> {
  try {
    const j = JSON.parse(await Deno.readTextFile(`${dir}/slurm.json`));
    return Array.isArray(j.jobs) ? j.jobs.map(String) : [];
  } catch {
    return [];
  }
}

/**
 * States of a job's array tasks by index (`PENDING`, `RUNNING`, …) from `squeue`, or
 * from `sacct` once it left the queue (where accounting is on); undefined when
 * neither command exists.
 */
export async function arrayTaskStates(job: string): Promise<Map<number, string> | undefined> {
  const states = new Map<number, string>();
  const q = await slurmCommand("squeue", ["-h", "-r", "-j", job, "-o", "%i %T"]);
  if (!q) return undefined;
  const parse = (text: string) => {
    for (const line of text.split("\n")) {
      // squeue shows 12_3; a pending range folded as 12_[4-8] is unfolded by -r.
      const m = line.trim().match(/^\d+_(\d+)\s+(\w+)/);
      if (m) states.set(Number(m[1]), m[2]);
    }
  };
  if (q.code === 0) parse(q.stdout);
  if (states.size === 0) {
    const a = await slurmCommand("sacct", ["-n", "-P", "-X", "-j", job, "-o", "JobID,State"]);
    if (a?.code === 0) parse(a.stdout.replaceAll("|", " "));
  }
  return states;
}
