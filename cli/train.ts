/**
 * `train`: flags and config files resolved onto a training configuration, then one
 * {@linkcode runTraining} call with progress on stderr.
 *
 * @module
 */
import { UserError } from "../src/errors.ts";
import { choiceFlag, intFlag, listFlag, mapFlag, nearest, numFlag, parseFlags } from "./args.ts";
import { Engine } from "../src/engine.ts";
import { adapterLine } from "../src/device.ts";
import { isProblemPath, resolveProblem } from "../src/problems/mod.ts";
import { problemOutputs } from "../src/problems/problem.ts";
import { INITS, validateSizes } from "../src/model.ts";
import { resolveCounts } from "../src/points.ts";
import { DEFAULT_CONFIG, type TrainConfig, WEIGHTINGS } from "../src/trainer.ts";
import { loadRun, type Progress, runTraining } from "../src/run.ts";
import { checkWeightGroups, help, info, out, problemFlag } from "./common.ts";

/** `train --help`. */
export const HELP: string =
  `train [--problem wave|./my_pde.ts] [--sizes 2,128,128,128,1] [--activation tanh|sin]
      [--init xavier|centered]
      [--optimizer adam|gd] [--lr 3e-3] [--decay 0.9] [--decay-steps 1000] [--steps 4000]
      [--n r=1024,u=256,ut=256] [--resample 1] [--sampler sobol|uniform] [--weighting none|fixed|exact|jvp|pc|hutch|gradnorm]
      [--weights r=1,u=10] [--k 1] [--dt 1e-2] [--central] [--beta 0.99 (exact: 0.9)] [--every 1]
      [--causal 0 (ε; 0 = off)] [--chunks 32] [--average 0 (β of a parameter EMA; 0 = off)] [--seed 0]
      [--log-every 100] [--checkpoint-every 500] [--on-nan stop|rollback]
      [--out runs/<problem>-<weighting>] [--config FILE] [--resume DIR] [--json] [--quiet]
A problem may recommend its own --steps, --lr, --decay-steps, --init, --average and --n (wave:
18000 steps on r=256,u=64,ut=64, --init centered, --average 0.995); flags and --config override them.`;

/** Train flags and how each maps onto the configuration. */
const TRAIN_FLAGS = {
  problem: "string",
  sizes: "string",
  activation: "string",
  init: "string",
  optimizer: "string",
  lr: "string",
  decay: "string",
  "decay-steps": "string",
  steps: "string",
  n: "string",
  resample: "string",
  sampler: "string",
  weighting: "string",
  weights: "string",
  k: "string",
  dt: "string",
  central: "boolean",
  beta: "string",
  every: "string",
  causal: "string",
  chunks: "string",
  average: "string",
  seed: "string",
  "log-every": "string",
  "checkpoint-every": "string",
  "on-nan": "string",
  out: "string",
  config: "string",
  resume: "string",
  json: "boolean",
  quiet: "boolean",
  help: "boolean",
} as const;

/** The flags whose defaults a problem may recommend (`Problem.train`), with their config keys. */
const PROBLEM_TRAIN_FLAGS = [
  ["steps", "steps"],
  ["lr", "lr"],
  ["decay-steps", "decaySteps"],
  ["init", "init"],
  ["average", "average"],
] as const;

/** Config-file keys (flag names) that set training options. */
const CONFIG_KEYS = Object.keys(TRAIN_FLAGS).filter((k) =>
  !["config", "resume", "json", "help", "quiet"].includes(k)
);

/** Applies one setting (from a flag or a config file) to the config and run options. */
function applySetting(c: TrainConfig, run: RunSettings, key: string, raw: unknown): void {
  const v = Array.isArray(raw)
    ? raw.join(",")
    : typeof raw === "object" && raw !== null
    ? Object.entries(raw).map(([a, b]) => `${a}=${b}`).join(",")
    : String(raw);
  switch (key) {
    case "problem":
      // A module path is kept as given (config.json and model files store it) and
      // imported by the caller.
      c.problem = isProblemPath(v) ? v : problemFlag(v).name;
      break;
    case "sizes":
      c.sizes = listFlag(key, v);
      break;
    case "activation":
      c.activation = choiceFlag(key, v, ["tanh", "sin"] as const);
      break;
    case "init":
      c.init = choiceFlag(key, v, INITS);
      break;
    case "optimizer":
      c.optimizer = choiceFlag(key, v, ["adam", "gd"] as const);
      break;
    case "lr":
      c.lr = numFlag(key, v, { positive: true });
      break;
    case "decay":
      c.decay = numFlag(key, v, { lo: 0, hi: 1 });
      break;
    case "decay-steps":
      c.decaySteps = intFlag(key, v, 1);
      break;
    case "steps":
      c.steps = intFlag(key, v, 1);
      break;
    case "n":
      c.n = mapFlag(key, v, true);
      break;
    case "resample":
      c.resample = intFlag(key, v, 0);
      break;
    case "sampler":
      c.sampler = choiceFlag(key, v, ["uniform", "sobol"] as const);
      break;
    case "weighting":
      c.weighting = choiceFlag(key, v, WEIGHTINGS);
      break;
    case "weights":
      c.weights = mapFlag(key, v, false);
      break;
    case "k":
      c.k = intFlag(key, v, 1);
      break;
    case "dt":
      c.dt = numFlag(key, v, { positive: true });
      break;
    case "central":
      if (v !== "true" && v !== "false") {
        throw new UserError(
          "--central",
          `--central must be true or false; got ${JSON.stringify(raw)}.`,
        );
      }
      c.central = v === "true";
      break;
    case "beta":
      c.beta = numFlag(key, v, { lo: 0, hi: 0.9999 });
      break;
    case "every":
      c.every = intFlag(key, v, 1);
      break;
    case "causal":
      c.causal = numFlag(key, v, { lo: 0, hi: 1000 });
      break;
    case "chunks":
      c.chunks = intFlag(key, v, 1);
      break;
    case "average":
      c.average = numFlag(key, v, { lo: 0, hi: 0.99999 });
      break;
    case "seed":
      c.seed = intFlag(key, v, 0);
      break;
    case "log-every":
      c.logEvery = intFlag(key, v, 1);
      break;
    case "checkpoint-every":
      run.checkpointEvery = intFlag(key, v, 0);
      break;
    case "on-nan":
      run.onNan = choiceFlag(key, v, ["stop", "rollback"] as const);
      break;
    case "out":
      run.out = v;
      break;
  }
}

interface RunSettings {
  out?: string;
  checkpointEvery: number;
  onNan: "stop" | "rollback";
}

/**
 * Checks an object of training settings keyed by flag name (a `--config` file, or one
 * configuration of a sweep): every key known, every value of the right type and
 * range. `where` starts each error sentence ("Config file c.json").
 */
export function checkConfigObject(
  where: string,
  obj: Record<string, unknown>,
): void {
  for (const [k, v] of Object.entries(obj)) {
    if (!CONFIG_KEYS.includes(k)) {
      const near = nearest(k, CONFIG_KEYS);
      throw new UserError(
        "--config",
        `${where} has unknown key "${k}"${near ? `; did you mean "${near}"?` : "."}`,
      );
    }
    const ok = typeof v === "string" || typeof v === "number" || typeof v === "boolean" ||
      (Array.isArray(v) && v.every((x) => typeof x === "number")) ||
      (typeof v === "object" && v !== null && Object.values(v).every((x) => typeof x === "number"));
    if (!ok) {
      throw new UserError(
        "--config",
        `${where}: key "${k}" has a value of the wrong type (${JSON.stringify(v)}).`,
      );
    }
    try {
      applySetting(structuredClone(DEFAULT_CONFIG), { checkpointEvery: 0, onNan: "stop" }, k, v);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      throw new UserError("--config", `${where}, key "${k}": ${e.message}`);
    }
  }
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new UserError("--config", `Cannot read config file ${path}; check the path.`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      "--config",
      `Config file ${path} is not valid JSON (${(e as Error).message}).`,
    );
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new UserError(
      "--config",
      `Config file ${path} must hold a JSON object of flag names to values.`,
    );
  }
  checkConfigObject(`Config file ${path}`, obj as Record<string, unknown>);
  return obj as Record<string, unknown>;
}

function formatProgress(p: Progress): string {
  const w = 20, done = Math.round((p.step / p.steps) * w);
  const bar = "=".repeat(done) + " ".repeat(w - done);
  const loss = Object.entries(p.loss).map(([g, v]) => `${g}=${v.toExponential(2)}`).join(" ");
  const lam = Object.entries(p.weights).map(([g, v]) => `${g}=${v.toPrecision(3)}`).join(" ");
  const eta = Number.isFinite(p.etaSeconds)
    ? `${Math.floor(p.etaSeconds / 60)}m${Math.round(p.etaSeconds % 60)}s`
    : "?";
  return `step ${p.step}/${p.steps} [${bar}] loss ${loss} | λ ${lam} | err ${
    p.rel_l2?.toExponential(2) ?? "n/a"
  } | ${p.stepsPerSecond.toFixed(1)} it/s | ETA ${eta}`;
}

/** Runs `train`; returns the exit code. */
export async function cmdTrain(args: string[]): Promise<number> {
  const f = parseFlags("train", args, TRAIN_FLAGS);
  if (f.help) return help(HELP);
  const json = Boolean(f.json);
  const config: TrainConfig = structuredClone(DEFAULT_CONFIG);
  const run: RunSettings = { checkpointEvery: 500, onNan: "stop" };
  let resume = false;
  let saved: TrainConfig | undefined;
  if (typeof f.resume === "string") {
    saved = (await loadRun(f.resume)).config;
    Object.assign(config, saved);
    run.out = f.resume;
    resume = true;
  }
  const applied = new Set<string>();
  if (typeof f.config === "string") {
    const file = await readConfigFile(f.config);
    for (const [k, v] of Object.entries(file)) {
      try {
        applySetting(config, run, k, v);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        throw new UserError("--config", `Config file ${f.config}, key "${k}": ${e.message}`);
      }
      applied.add(k);
    }
  }
  for (const k of CONFIG_KEYS) {
    const v = f[k];
    if (v !== undefined) {
      applySetting(config, run, k, v);
      applied.add(k);
    }
  }
  if (resume) {
    if (run.out !== f.resume) {
      throw new UserError(
        "--out",
        `--resume continues the run in its own folder ${f.resume}; drop --out (or copy the folder and resume the copy).`,
      );
    }
    for (
      const [flag, key] of [["problem", "problem"], ["sizes", "sizes"], [
        "activation",
        "activation",
      ]] as const
    ) {
      if (applied.has(flag) && String(config[key]) !== String(saved![key])) {
        throw new UserError(
          `--${flag}`,
          `${f.resume} was trained with --${flag} ${
            saved![key]
          }; --resume cannot change it (drop --${flag}, or start a new run with another --out).`,
        );
      }
    }
  }
  const problem = await resolveProblem(config.problem);
  if (!resume) {
    // A new run takes the problem's recommended settings where no flag or config key set them.
    if (!applied.has("sizes")) config.sizes = [...problem.sizes];
    for (const [flag, key] of PROBLEM_TRAIN_FLAGS) {
      const v = problem.train?.[key];
      if (v !== undefined && !applied.has(flag)) Object.assign(config, { [key]: v });
    }
  }
  validateSizes(config.sizes, problem.inputs.length, "--sizes", problemOutputs(problem).length);
  resolveCounts(problem, config.n);
  checkWeightGroups(problem, problem.groups.map((g) => g.name), config.weights);
  if (config.weighting === "fixed" && Object.keys(config.weights).length === 0) {
    throw new UserError(
      "--weights",
      "--weighting fixed needs --weights, e.g. --weights r=1,u=10,ut=10.",
    );
  }
  run.out ??= `runs/${problem.name}-${config.weighting}`;
  const engine = await Engine.create();
  info(`sketchpinn: ${adapterLine(engine.adapter)}`);
  info(
    `training ${config.problem} [${
      config.sizes.join(",")
    }] ${config.activation}, ${config.weighting} weights, ${config.steps} steps → ${run.out}`,
  );
  const ctrl = new AbortController();
  const onSignal = () => ctrl.abort();
  for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, onSignal);
  try {
    const { metrics, interrupted } = await runTraining(engine, config, {
      problem,
      out: run.out,
      resume,
      checkpointEvery: run.checkpointEvery,
      onNan: run.onNan,
      signal: ctrl.signal,
      onProgress: f.quiet ? undefined : (p) => info(formatProgress(p)),
    });
    if (interrupted) {
      info(
        `Interrupted at step ${metrics.steps}; checkpoint written to ${run.out}/model.json. Resume with: deno task train --resume ${run.out}`,
      );
      return 130;
    }
    out(
      json,
      metrics,
      `done: ${metrics.steps} steps in ${metrics.wall_s.toFixed(1)} s, ${
        metrics.rel_l2 === null
          ? "no error (the problem has no exact nor reference solution)"
          : `relative L2 error ${metrics.rel_l2.toExponential(3)}${
            metrics.rel_l2_outputs && Object.keys(metrics.rel_l2_outputs).length > 1
              ? ` (${
                Object.entries(metrics.rel_l2_outputs).map(([k, v]) => `${k} ${v.toExponential(2)}`)
                  .join(", ")
              })`
              : ""
          }`
      }; report in ${run.out}/report.md`,
    );
    return 0;
  } finally {
    for (const s of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(s, onSignal);
    engine.dispose();
  }
}
