/**
 * `sweep`: a grid of trainings from one sweep file, on this machine (`run`) or as a
 * Slurm job array (`slurm`, whose tasks call `task`), their progress (`status`) and
 * their results as tables and charts (`collect`). Library code in src/sweep/.
 *
 * @module
 */
import { UserError } from "../src/errors.ts";
import { intFlag, parseFlags } from "./args.ts";
import { help, info, out } from "./common.ts";
import { checkConfigObject } from "./train.ts";
import { describeAdapter } from "../src/device.ts";
import {
  defaultSweepDir,
  type Plan,
  readPlan,
  readSweepFile,
  writePlan,
} from "../src/sweep/plan.ts";
import { planStates, runDir } from "../src/sweep/state.ts";
import { runSweep, trainRun } from "../src/sweep/local.ts";
import {
  arrayTaskStates,
  type SlurmOptions,
  submit,
  submittedJobs,
  writeBatchScript,
} from "../src/sweep/slurm.ts";
import {
  collect,
  collectJson,
  csvTable,
  markdownTable,
  resultsMarkdown,
  runsTable,
  seedsTable,
} from "../src/sweep/collect.ts";
import { chartSpec, errorAgainstAxis, errorCurves, readCurve } from "../src/sweep/charts.ts";
import { writeChart } from "../src/plot/render.ts";

/** `sweep --help`. */
export const HELP: string = `sweep run FILE [--out DIR] [--jobs J]
      train every configuration of sweep file FILE here, J at a time (default: 1 on a
      software adapter, else 2); finished runs are skipped, interrupted ones resumed
sweep slurm FILE [--out DIR] [--throttle 0] [--time 01:00:00] [--cpus 1] [--gpus 0]
      [--partition P] [--name NAME] [--submit]
      write DIR/sweep.sbatch, a Slurm job array with one task per unfinished run
      (--throttle: most tasks at once); --submit runs sbatch and prints the job id
sweep task FILE --index I [--out DIR]     train run I of the plan (what an array task runs)
sweep status FILE|DIR [--json]            each run's state (and its Slurm task's, if any)
sweep collect DIR|FILE [--json]           tables (results.md, results.csv) and charts in DIR
DIR defaults to sweeps/<file name>. A sweep file is JSON:
  {"base": {"steps": 2000, "sizes": [2,64,64,1]},
   "axes": {"weighting": ["none", "exact", "pc"], "seed": [0, 1, 2]},
   "configs": [{"name": "wave"}, {"name": "heat", "problem": "heat1d"}]}   (optional)
with \`train\` flag names without dashes; the runs are the configs × the product of the axes.`;

const FLAGS = {
  out: "string",
  jobs: "string",
  throttle: "string",
  time: "string",
  cpus: "string",
  gpus: "string",
  partition: "string",
  name: "string",
  submit: "boolean",
  index: "string",
  json: "boolean",
  help: "boolean",
} as const;

/** Which flags each subcommand takes (besides --out, --json, --help). */
const OWN: Record<string, string[]> = {
  run: ["jobs"],
  slurm: ["throttle", "time", "cpus", "gpus", "partition", "name", "submit"],
  task: ["index"],
  status: [],
  collect: [],
};

const checkSettings = (where: string, s: Record<string, unknown>) => checkConfigObject(where, s);

/** Plans FILE into its folder (plan.json and config files); returns the plan and folder. */
async function planned(file: string, outDir?: string): Promise<{ plan: Plan; dir: string }> {
  const plan = await readSweepFile(file, checkSettings);
  const dir = outDir ?? defaultSweepDir(file);
  try {
    await writePlan(dir, plan);
  } catch (e) {
    if (e instanceof UserError || !(e instanceof Error && e.name in Deno.errors)) throw e;
    throw new UserError(
      "--out",
      `Cannot write the sweep folder ${dir} (${e.message}); choose another --out.`,
    );
  }
  return { plan, dir };
}

/** A sweep folder, or the folder of a sweep file (planned if need be). */
async function sweepFolder(arg: string | undefined, outDir?: string) {
  if (arg === undefined && outDir === undefined) {
    throw new UserError(
      "sweep",
      "Give the sweep folder (or the sweep file), e.g. `sweep collect sweeps/wave`.",
    );
  }
  const isDir = arg !== undefined && await Deno.stat(arg).then((s) => s.isDirectory, () => false);
  if (arg === undefined || isDir) {
    const dir = arg ?? outDir!;
    return { dir, plan: await readPlan(dir) };
  }
  const dir = outDir ?? defaultSweepDir(arg);
  const onDisk = await readPlan(dir).catch(() => undefined);
  return onDisk ? { dir, plan: onDisk } : await planned(arg, outDir);
}

/** Trainings at once by default: the software adapter has only the CPU cores to share. */
async function defaultJobs(): Promise<number> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return 1;
  const r = describeAdapter(adapter);
  return r.isFallback || /llvmpipe|lavapipe|swiftshader/i.test(r.description) ? 1 : 2;
}

/** Aborts on SIGINT/SIGTERM while `body` runs. */
async function withSignals<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctrl = new AbortController();
  const onSignal = () => ctrl.abort();
  for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, onSignal);
  try {
    return await body(ctrl.signal);
  } finally {
    for (const s of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(s, onSignal);
  }
}

/** Runs `sweep`; returns the exit code. */
export async function cmdSweep(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === "--help" || sub === "help") return help(HELP);
  if (!Object.hasOwn(OWN, sub)) {
    throw new UserError(
      sub,
      `Unknown sweep command "${sub}"; use one of ${
        Object.keys(OWN).join(", ")
      } (see \`sweep --help\`).`,
    );
  }
  if (sub !== "collect" && Deno.permissions.querySync({ name: "run" }).state !== "granted") {
    throw new UserError(
      "--allow-run",
      `\`sweep ${sub}\` starts trainings and Slurm commands as processes; run it with --allow-run (\`deno task sweep\` does).`,
    );
  }
  const positional = rest[0] !== undefined && !rest[0].startsWith("--") ? rest[0] : undefined;
  const f = parseFlags(`sweep ${sub}`, positional ? rest.slice(1) : rest, FLAGS);
  if (f.help) return help(HELP);
  for (const k of Object.keys(f)) {
    if (!["out", "json", "help", ...OWN[sub]].includes(k)) {
      throw new UserError(
        `--${k}`,
        `\`sweep ${sub}\` does not take --${k} (see \`sweep --help\`).`,
      );
    }
  }
  const json = Boolean(f.json), outDir = f.out as string | undefined;
  if (sub === "status" || sub === "collect") {
    const { dir, plan } = await sweepFolder(positional, outDir);
    return sub === "status" ? await status(dir, plan, json) : await collectCmd(dir, plan, json);
  }
  if (!positional) {
    throw new UserError(
      "FILE",
      `Give the sweep file: \`sweep ${sub} FILE\` (see \`sweep --help\`).`,
    );
  }
  // Flags are checked before the plan is written, so a mistake leaves no folder behind.
  const jobsFlag = f.jobs !== undefined ? intFlag("jobs", f.jobs as string, 1) : undefined;
  const slurmOpts = sub === "slurm" ? { ...slurmFlags(f), submit: Boolean(f.submit) } : undefined;
  if (sub === "task" && f.index === undefined) {
    throw new UserError("--index", "`sweep task` needs --index I (the array index).");
  }
  const index = sub === "task" ? intFlag("index", f.index as string, 0) : 0;
  const { plan, dir } = await planned(positional, outDir);
  if (sub === "task") return await task(dir, plan, index);
  if (slurmOpts) return await slurm(positional, dir, plan, slurmOpts, json);
  const jobs = jobsFlag ?? await defaultJobs();
  const s = await withSignals((signal) =>
    runSweep(dir, plan, { jobs, signal, log: info, progressEvery: 10 })
  );
  const total = plan.runs.length;
  out(
    json,
    { dir, total, ...s },
    s.interrupted
      ? `interrupted: ${s.finished}/${total} runs finished; run the same command again to continue`
      : `${s.finished}/${total} runs finished${
        s.failed.length
          ? `, ${s.failed.length} failed (${s.failed.map((x) => x.name).join(", ")})`
          : ""
      }${
        s.busy.length ? `, ${s.busy.length} trained by another process` : ""
      }; tables and charts: sweep collect ${dir}`,
  );
  return s.interrupted ? 130 : s.finished === total ? 0 : 1;
}

async function task(dir: string, plan: Plan, i: number): Promise<number> {
  const r = plan.runs[i];
  if (!r) {
    throw new UserError(
      "--index",
      `--index ${i} is past the plan's ${plan.runs.length} runs (0 to ${plan.runs.length - 1}).`,
    );
  }
  info(`sweep task ${i}: ${r.name} in ${runDir(dir, r)}`);
  const o = await withSignals((signal) =>
    trainRun(dir, r, {
      signal,
      onStart: (resumed, step) => info(resumed ? `resuming from step ${step}` : "starting"),
    })
  );
  if (o.kind === "finished") {
    info(`${r.name}: ${o.skipped ? "already finished" : "finished"}, rel. L2 ${o.metrics.rel_l2}`);
    return 0;
  }
  if (o.kind === "interrupted") {
    info(`${r.name}: interrupted; its checkpoint is kept, re-submit to resume`);
    return 130;
  }
  info(
    o.kind === "failed"
      ? `${r.name}: failed: ${o.error}`
      : `${r.name}: process ${o.lock.pid} is training it`,
  );
  return 1;
}

type SlurmFlags = Omit<SlurmOptions, "indices" | "name"> & { name?: string };

/** `sweep slurm`'s flags, checked before anything is written. */
function slurmFlags(f: Record<string, string | boolean | undefined>): SlurmFlags {
  const time = (f.time as string | undefined) ?? "01:00:00";
  if (!/^(\d+-)?\d+(:\d+){0,2}$/.test(time)) {
    throw new UserError(
      "--time",
      `--time must be Slurm time such as 90, 01:30:00 or 1-00; got "${time}".`,
    );
  }
  const partition = f.partition as string | undefined, name = f.name as string | undefined;
  for (const [flag, v] of [["partition", partition], ["name", name]]) {
    if (v !== undefined && !/^[\w.+-]+$/.test(v)) {
      throw new UserError(`--${flag}`, `--${flag} must be a plain name such as gpu; got "${v}".`);
    }
  }
  return {
    time,
    throttle: f.throttle !== undefined ? intFlag("throttle", f.throttle as string, 0) : 0,
    cpus: f.cpus !== undefined ? intFlag("cpus", f.cpus as string, 1) : 1,
    gpus: f.gpus !== undefined ? intFlag("gpus", f.gpus as string, 0) : 0,
    partition,
    name,
  };
}

async function slurm(
  file: string,
  dir: string,
  plan: Plan,
  o: SlurmFlags & { submit: boolean },
  json: boolean,
): Promise<number> {
  const states = await planStates(dir, plan);
  const indices = plan.runs.filter((_, i) => states[i].kind !== "finished").map((r) => r.index);
  if (indices.length === 0) {
    out(
      json,
      { dir, script: null, job: null, indices },
      `all ${plan.runs.length} runs finished; nothing to submit`,
    );
    return 0;
  }
  const script = await writeBatchScript(file, dir, {
    ...o,
    indices,
    name: o.name ?? `sketchpinn-${dir.split("/").filter(Boolean).pop()}`,
  });
  const job = o.submit ? await submit(dir, script) : null;
  out(
    json,
    { dir, script, job, indices },
    job
      ? `submitted job ${job}: ${indices.length} array tasks (${script}); logs in ${dir}/logs`
      : `wrote ${script} (${indices.length} array tasks); submit with \`sbatch ${script}\` or --submit`,
  );
  return 0;
}

async function status(dir: string, plan: Plan, json: boolean): Promise<number> {
  const states = await planStates(dir, plan);
  const job = (await submittedJobs(dir)).at(-1);
  const slurmStates = job ? await arrayTaskStates(job) : undefined;
  const rows = plan.runs.map((r, i) => {
    const s = states[i];
    return {
      index: r.index,
      name: r.name,
      state: s.kind,
      step: s.kind === "finished" ? s.metrics.steps : "step" in s ? s.step ?? null : null,
      rel_l2: s.kind === "finished" ? s.metrics.rel_l2 : null,
      ...(s.kind === "failed" ? { error: s.error } : {}),
      ...(slurmStates ? { slurm: slurmStates.get(r.index) ?? null } : {}),
    };
  });
  const counts: Record<string, number> = {};
  for (const r of rows) counts[r.state] = (counts[r.state] ?? 0) + 1;
  const table = [
    ["index", "run", "state", "step", "rel. L2", ...(slurmStates ? [`slurm job ${job}`] : [])],
    ...rows.map((r) => [
      String(r.index),
      r.name,
      r.state + ("error" in r ? ` (${r.error})` : ""),
      r.step === null ? "" : String(r.step),
      r.rel_l2 === null ? "" : r.rel_l2.toExponential(3),
      ...(slurmStates ? [r.slurm ?? "not queued"] : []),
    ]),
  ];
  const summary = Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ");
  out(json, { dir, job: job ?? null, counts, runs: rows }, `${markdownTable(table)}\n${summary}`);
  return 0;
}

async function collectCmd(dir: string, plan: Plan, json: boolean): Promise<number> {
  const c = await collect(dir, plan);
  const charts = [
    ...plan.axes.filter((a) => new Set(c.runs.map((r) => JSON.stringify(r.axes[a]))).size > 1)
      .map((a) => errorAgainstAxis(plan.axes, c.runs, a)),
    errorCurves(
      await Promise.all(
        plan.runs.map(async (r) => ({ name: r.name, ...await readCurve(runDir(dir, r)) })),
      ),
    ),
  ];
  for (const chart of charts) {
    await writeChart(dir, chart.file.replace(/\.png$/, ""), chartSpec(chart));
  }
  const md = resultsMarkdown(c, plan.file, charts.map((ch) => ch.file));
  await Deno.writeTextFile(`${dir}/results.md`, md);
  await Deno.writeTextFile(
    `${dir}/results.csv`,
    csvTable(runsTable(c, true)),
  );
  if (c.seeds.length) await Deno.writeTextFile(`${dir}/results_seeds.csv`, csvTable(seedsTable(c)));
  info(
    `wrote ${dir}/results.md, results.csv${c.seeds.length ? ", results_seeds.csv" : ""} and ${
      charts.map((ch) => ch.file).join(", ")
    }`,
  );
  out(
    json,
    collectJson(c),
    c.seeds.length ? markdownTable(seedsTable(c)) : markdownTable(runsTable(c)),
  );
  return 0;
}
