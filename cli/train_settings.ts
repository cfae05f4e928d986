/**
 * `train`'s flags and config files onto {@linkcode TrainSettings}: one setter for
 * both (a config file may spell keys as the flags or as a run's config.json), and
 * the check that no command-line flag is one the chosen weighting would ignore.
 *
 * @module
 */
import { resolve } from "node:path";
import { existsSync } from "node:fs";
import { UserError } from "../src/errors.ts";
import { bytesFlag, choiceFlag, intFlag, listFlag, mapFlag, nearest, numFlag } from "./args.ts";
import { quote, readJsonFile } from "../src/fsutil.ts";
import { checkDirections } from "../src/limits.ts";
import { isProblemPath } from "../src/problems/mod.ts";
import { INITS } from "../src/model.ts";
import { checkFourierSpec, type FourierSpec, parseFourierSpec } from "../src/embedding.ts";
import { type TrainConfig, WEIGHTINGS } from "../src/train_config.ts";
import type { TrainSettings } from "../src/settings.ts";
import { problemFlag } from "./common.ts";

/** Train flags and how each maps onto the configuration. */
export const TRAIN_FLAGS = {
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
  fourier: "string",
  then: "string",
  "then-steps": "string",
  "then-n": "string",
  "then-refresh": "string",
  "then-resample": "string",
  history: "string",
  seed: "string",
  "log-every": "string",
  "checkpoint-every": "string",
  "on-nan": "string",
  out: "string",
  "max-memory": "string",
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
  thenSteps: "then-steps",
  thenN: "then-n",
  thenRefresh: "then-refresh",
  thenResample: "then-resample",
};

/** Config-file keys that set training options: flag names, and TrainConfig keys without a flag. */
export const CONFIG_KEYS = [
  ...Object.keys(TRAIN_FLAGS).filter((k) =>
    !["config", "resume", "json", "help", "quiet"].includes(k)
  ),
  "beta1",
  "beta2",
  "eps",
];

/** Applies one setting (from a flag or a config file) to the config and run options. */
export function applySetting(
  c: TrainSettings,
  run: RunSettings,
  key: string,
  raw: unknown,
  base: string,
): void {
  if (key === "fourier") {
    c.fourier = fourierSetting(raw);
    return;
  }
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
      // file's folder for a config file: a run's config.json stores it relative
      // to the run); files store it relative to themselves. A config file written
      // with a path relative to where train runs (older runs, sweeps) still works.
      if (!isProblemPath(v)) c.problem = problemFlag(v).name;
      else if (v.startsWith("file:")) c.problem = v;
      else {
        const beside = resolve(base, v);
        c.problem = existsSync(beside) || !existsSync(v) ? beside : resolve(v);
      }
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
      c.optimizer = choiceFlag(key, v, ["adam", "gd", "lbfgs"] as const);
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
      c.k = checkDirections(intFlag(key, v, 1));
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
    case "then":
      c.then = choiceFlag(key, v, ["lbfgs", "none"] as const);
      break;
    case "then-steps":
      c.thenSteps = intFlag(key, v, 0);
      break;
    case "then-n":
      c.thenN = mapFlag(key, v, true);
      break;
    case "then-refresh":
      c.thenRefresh = intFlag(key, v, 0);
      break;
    case "then-resample":
      c.thenResample = intFlag(key, v, 0);
      break;
    case "history":
      c.history = intFlag(key, v, 1);
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
    case "max-memory":
      run.maxMemory = bytesFlag(key, v);
      break;
  }
}

/**
 * `--fourier M:σ[:raw]` or `off`, or in a config file the same string, null, or
 * a run's config.json object `{ "features": M, "scale": σ, "raw": … }`.
 */
function fourierSetting(raw: unknown): FourierSpec | null {
  if (raw === null) return null;
  if (typeof raw === "string") return parseFourierSpec(raw);
  const o = raw as Record<string, unknown>;
  if (
    typeof o === "object" && !Array.isArray(o) && typeof o.features === "number" &&
    typeof o.scale === "number" && (o.raw === undefined || typeof o.raw === "boolean") &&
    Object.keys(o).every((k) => ["features", "scale", "raw"].includes(k))
  ) {
    const spec: FourierSpec = { features: o.features, scale: o.scale };
    if (o.raw) spec.raw = true;
    checkFourierSpec(spec, "--fourier");
    return spec;
  }
  throw new UserError(
    "--fourier",
    `--fourier takes M:σ or M:σ:raw (e.g. 64:1), off, or {"features": M, "scale": σ}; got ${
      quote(JSON.stringify(raw) ?? String(raw), 40)
    }.`,
  );
}

const isEmptyObject = (v: unknown) =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;

export interface RunSettings {
  out?: string;
  /** Memory budget (`--max-memory`), in bytes. */
  maxMemory?: number;
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
        `${where} has unknown key "${quote(key, 40)}"${near ? `; did you mean "${near}"?` : "."}`,
      );
    }
    const ok = k === "fourier" || typeof v === "string" || typeof v === "number" ||
      typeof v === "boolean" ||
      (Array.isArray(v) && v.every((x) => typeof x === "number")) ||
      (typeof v === "object" && v !== null && Object.values(v).every((x) => typeof x === "number"));
    if (!ok) {
      throw new UserError(
        "--config",
        `${where}: key "${key}" has a value of the wrong type (${quote(JSON.stringify(v), 40)}).`,
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

export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let obj: unknown;
  try {
    obj = await readJsonFile(path, `Config file ${path}`, "fix the file or drop --config");
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    throw new UserError("--config", e.message);
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new UserError(
      "--config",
      `Config file ${path} must hold a JSON object of flag names to values.`,
    );
  }
  return checkConfigObject(`Config file ${path}`, obj as Record<string, unknown>);
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
export function checkIgnoredFlags(flags: Set<string>, c: TrainConfig): void {
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
