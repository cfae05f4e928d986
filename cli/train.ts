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
import { dirname, resolve } from "node:path";
import { isProblemPath, wave } from "../src/problems/mod.ts";
import { INITS } from "../src/model.ts";
import {
  DEFAULT_CHUNKS,
  DEFAULT_CONFIG,
  emaBeta,
  type TrainConfig,
  WEIGHTINGS,
} from "../src/trainer.ts";
import { DEFAULT_DT, DEFAULT_HUTCH_DT } from "../src/ntk.ts";
import { FALLBACK_TRAIN_DEFAULTS, resolveSettings, type TrainSettings } from "../src/settings.ts";
import { loadRun, type Progress, runTraining } from "../src/run.ts";
import { help, info, out, problemFlag } from "./common.ts";

/** Run options of `train` that are not part of the training configuration. */
export const RUN_DEFAULTS = { checkpointEvery: 500, onNan: "stop" } as const;

/** `train --help`; its defaults are the default problem's (wave's) resolved settings. */
export const HELP: string = (() => {
  const w = wave.train ?? {};
  const n = wave.groups.map((g) => `${g.name}=${g.defaultN}`).join(",");
  const f = FALLBACK_TRAIN_DEFAULTS, d = DEFAULT_CONFIG;
  const inits = [w.init ?? f.init, ...INITS.filter((i) => i !== (w.init ?? f.init))];
  return `train [--problem wave|./my_pde.ts] [--sizes ${wave.sizes}] [--activation tanh|sin]
      [--init ${inits.join("|")}] [--optimizer adam|gd] [--lr ${w.lr ?? f.lr}] [--decay ${d.decay}]
      [--decay-steps ${w.decaySteps ?? f.decaySteps}] [--steps ${w.steps ?? f.steps}] [--n ${n}]
      [--resample ${d.resample}] [--sampler sobol|uniform] [--weighting ${
    [d.weighting, ...WEIGHTINGS.filter((x) => x !== d.weighting)].join("|")
  }]
      [--weights GROUP=W,… (--weighting fixed only)] [--k ${d.k} (jvp, pc, hutch)]
      [--dt ${DEFAULT_DT} (pc; hutch: ${DEFAULT_HUTCH_DT})] [--central (pc)]
      [--beta ${emaBeta(d)} (exact, gradnorm: ${
    emaBeta({ weighting: "exact" })
  })] [--every ${d.every}]
      [--causal 0 (ε; 0 = off)] [--chunks ${DEFAULT_CHUNKS} (with --causal)]
      [--average ${w.average ?? f.average} (β of a parameter EMA; 0 = off)] [--seed ${d.seed}]
      [--log-every ${d.logEvery}] [--checkpoint-every ${RUN_DEFAULTS.checkpointEvery}] [--on-nan ${RUN_DEFAULTS.onNan}|rollback]
      [--out runs/<problem>-<weighting>] [--config FILE] [--resume DIR] [--json] [--quiet]
Defaults shown are wave's, the default problem's. Another problem brings its own --sizes and
--n and may recommend --steps, --lr, --decay-steps, --init and --average (README, Problems);
where it does not: --steps ${f.steps}, --lr ${f.lr}, --decay-steps ${f.decaySteps}, --init ${f.init}, --average ${f.average}.
Flags override --config, which overrides the problem's recommendations.
--config FILE: a JSON object with these keys, spelt as the flags (decay-steps) or as in a run's
  config.json (decaySteps; also beta1, beta2, eps); a run's own config.json works. A module path
  in it is relative to the file.
--quiet: no banner and no progress on stderr (warnings, errors and the interrupt notice remain).
Ctrl-C (or SIGTERM) stops within a step, writes a checkpoint and prints the --resume command
(exit code 130); a second Ctrl-C quits at once (after the checkpoint if one is being written).`;
})();

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

/** Flags whose config key is spelt differently in a run's config.json (TrainConfig). */
const CAMEL: Record<string, string> = {
  decaySteps: "decay-steps",
  logEvery: "log-every",
  checkpointEvery: "checkpoint-every",
  onNan: "on-nan",
};

/** Config-file keys that set training options: flag names, and TrainConfig keys without a flag. */
const CONFIG_KEYS = [
  ...Object.keys(TRAIN_FLAGS).filter((k) =>
    !["config", "resume", "json", "help", "quiet"].includes(k)
  ),
  "beta1",
  "beta2",
  "eps",
];

/** Applies one setting (from a flag or a config file) to the config and run options. */
function applySetting(
  c: TrainSettings,
  run: RunSettings,
  key: string,
  raw: unknown,
  base: string,
): void {
  if ((key === "n" || key === "weights") && isEmptyObject(raw)) {
    c[key] = {};
    return;
  }
  const v = Array.isArray(raw)
    ? raw.join(",")
    : typeof raw === "object" && raw !== null
    ? Object.entries(raw).map(([a, b]) => `${a}=${b}`).join(",")
    : String(raw);
  switch (key) {
    case "problem":
      // A module path resolves against the directory it was given in (a config
      // file's folder for a config file); files store it relative to themselves.
      c.problem = !isProblemPath(v)
        ? problemFlag(v).name
        : v.startsWith("file:")
        ? v
        : resolve(base, v);
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
    case "beta1":
    case "beta2":
      c[key] = numFlag(key, v, { lo: 0, hi: 0.9999 });
      break;
    case "eps":
      c.eps = numFlag(key, v, { positive: true });
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

const isEmptyObject = (v: unknown) =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;

interface RunSettings {
  out?: string;
  checkpointEvery: number;
  onNan: "stop" | "rollback";
}

/**
 * Checks an object of training settings keyed by flag name (a `--config` file, or one
 * configuration of a sweep): every key known, every value of the right type and
 * range. `where` starts each error sentence ("Config file c.json"). Keys may be
 * spelt as the flags or as a run's config.json (decaySteps); returns the object
 * keyed by flag name.
 */
export function checkConfigObject(
  where: string,
  obj: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(obj)) {
    // A run's config.json spells some keys as TrainConfig does (decaySteps).
    const k = CAMEL[key] ?? key;
    if (!CONFIG_KEYS.includes(k)) {
      const near = nearest(key, [...CONFIG_KEYS, ...Object.keys(CAMEL)]);
      throw new UserError(
        "--config",
        `${where} has unknown key "${key}"${near ? `; did you mean "${near}"?` : "."}`,
      );
    }
    const ok = typeof v === "string" || typeof v === "number" || typeof v === "boolean" ||
      (Array.isArray(v) && v.every((x) => typeof x === "number")) ||
      (typeof v === "object" && v !== null && Object.values(v).every((x) => typeof x === "number"));
    if (!ok) {
      throw new UserError(
        "--config",
        `${where}: key "${key}" has a value of the wrong type (${JSON.stringify(v)}).`,
      );
    }
    try {
      applySetting({}, { checkpointEvery: 0, onNan: "stop" }, k, v, Deno.cwd());
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      throw new UserError("--config", `${where}, key "${key}": ${e.message}`);
    }
    out[k] = v;
  }
  return out;
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
  return checkConfigObject(`Config file ${path}`, obj as Record<string, unknown>);
}

function formatProgress(p: Progress): string {
  const w = 20, done = Math.round((p.step / p.steps) * w);
  const bar = "=".repeat(done) + " ".repeat(w - done);
  const loss = Object.entries(p.loss).map(([g, v]) => `${g}=${v.toExponential(2)}`).join(" ");
  const lam = Object.entries(p.weights).map(([g, v]) => `${g}=${v.toPrecision(3)}`).join(" ");
  const eta = Number.isFinite(p.etaSeconds)
    ? `${Math.floor(p.etaSeconds / 60)}m${Math.round(p.etaSeconds % 60)}s`
    : "?";
  const err = p.rel_l2 === undefined ? "n/a (no reference)" : p.rel_l2.toExponential(2);
  return `step ${p.step}/${p.steps} [${bar}] loss ${loss} | λ ${lam} | err ${err} | ${
    p.stepsPerSecond.toFixed(1)
  } it/s | ETA ${eta}`;
}

/** Flags that only some weightings read, and which: giving one to another weighting is an error. */
const WEIGHTING_FLAGS: Record<string, readonly string[]> = {
  k: ["jvp", "pc", "hutch"],
  dt: ["pc", "hutch"],
  central: ["pc"],
  beta: ["exact", "jvp", "pc", "hutch", "gradnorm"],
  every: ["exact", "jvp", "pc", "hutch", "gradnorm"],
};

/** Throws for command-line flags that the resolved configuration would silently ignore. */
function checkIgnoredFlags(flags: Set<string>, c: TrainConfig): void {
  for (const [flag, users] of Object.entries(WEIGHTING_FLAGS)) {
    if (flags.has(flag) && !users.includes(c.weighting)) {
      throw new UserError(
        `--${flag}`,
        `--${flag} applies only to --weighting ${
          users.join(", ")
        }, so --weighting ${c.weighting} would ignore it: drop --${flag} or change --weighting.`,
      );
    }
  }
  if (flags.has("chunks") && !((c.causal ?? 0) > 0)) {
    throw new UserError(
      "--chunks",
      "--chunks sets the time chunks of causal weights: add --causal EPS or drop --chunks.",
    );
  }
}

/** Runs `train`; returns the exit code. */
export async function cmdTrain(args: string[]): Promise<number> {
  const f = parseFlags("train", args, TRAIN_FLAGS);
  if (f.help) return help(HELP);
  const json = Boolean(f.json), quiet = Boolean(f.quiet);
  const settings: TrainSettings = {};
  const run: RunSettings = { ...RUN_DEFAULTS };
  let resume = false;
  let saved: TrainConfig | undefined;
  if (typeof f.resume === "string") {
    saved = (await loadRun(f.resume)).config;
    Object.assign(settings, structuredClone(saved));
    run.out = f.resume;
    resume = true;
  }
  const applied = new Set<string>();
  if (typeof f.config === "string") {
    const file = await readConfigFile(f.config);
    for (const [k, v] of Object.entries(file)) {
      try {
        applySetting(settings, run, k, v, dirname(resolve(f.config)));
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        throw new UserError("--config", `Config file ${f.config}, key "${k}": ${e.message}`);
      }
      applied.add(k);
    }
  }
  const typed = new Set<string>();
  for (const k of CONFIG_KEYS) {
    const v = f[k];
    if (v !== undefined) {
      applySetting(settings, run, k, v, Deno.cwd());
      applied.add(k);
      typed.add(k);
    }
  }
  if (resume) {
    if (run.out !== f.resume) {
      throw new UserError(
        "--out",
        `--resume continues the run in its own folder ${f.resume}; drop --out (or copy the folder and resume the copy).`,
      );
    }
    for (const key of ["problem", "sizes", "activation"] as const) {
      if (applied.has(key) && String(settings[key]) !== String(saved![key])) {
        throw new UserError(
          `--${key}`,
          `${f.resume} was trained with --${key} ${
            saved![key]
          }; --resume cannot change it (drop --${key}, or start a new run with another --out).`,
        );
      }
    }
  }
  const { config, problem } = await resolveSettings(settings);
  checkIgnoredFlags(typed, config);
  run.out ??= `runs/${problem.name}-${config.weighting}`;
  const engine = await Engine.create();
  if (!quiet) {
    info(`sketchpinn: ${adapterLine(engine.adapter)}`);
    info(
      `training ${problem.name} [${
        config.sizes.join(",")
      }] ${config.activation}, ${config.weighting} weights, ${config.steps} steps → ${run.out}`,
    );
  }
  const ctrl = new AbortController();
  let signals = 0, saving = false, quitAfterSave = false;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      info(
        `\nStopping: finishing this step, then writing a checkpoint to ${run.out}/model.json (Ctrl-C again to quit at once).`,
      );
      ctrl.abort();
    } else if (saving) {
      info("Quitting as soon as the checkpoint is written.");
      quitAfterSave = true;
    } else {
      info(`Quit; the last checkpoint in ${run.out}/model.json is kept.`);
      Deno.exit(130);
    }
  };
  for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, onSignal);
  try {
    const { metrics, interrupted } = await runTraining(engine, { ...config, problem }, {
      out: run.out,
      resume,
      checkpointEvery: run.checkpointEvery,
      onNan: run.onNan,
      signal: ctrl.signal,
      onSaving: (v) => {
        saving = v;
        if (!v && quitAfterSave) {
          info(`Quit; checkpoint written to ${run.out}/model.json.`);
          Deno.exit(130);
        }
      },
      onProgress: quiet ? undefined : (p) => info(formatProgress(p)),
    });
    if (interrupted) {
      info(
        `Interrupted at step ${metrics.steps}; checkpoint written to ${run.out}/model.json. Resume with: deno task train --resume ${run.out}`,
      );
      return 130;
    }
    const err = metrics.rel_l2 === null
      ? "no reference solution (the problem's exact solution is zero on its grid)"
      : `relative L2 error ${metrics.rel_l2.toExponential(3)}`;
    out(
      json,
      metrics,
      `done: ${metrics.steps} steps in ${
        metrics.wall_s.toFixed(1)
      } s, ${err}; report in ${run.out}/report.md`,
    );
    return 0;
  } finally {
    for (const s of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(s, onSignal);
    engine.dispose();
  }
}
