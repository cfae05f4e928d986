/**
 * The sketchpinn command line: `train`, `eval`, `ntk`, `init`, `points`, `bench`.
 *
 * Human-readable output by default, `--json` for machines; progress and
 * diagnostics go to stderr; exit code 0 on success, 2 on bad input.
 *
 * @module
 */
import { UserError } from "../src/errors.ts";
import { choiceFlag, intFlag, listFlag, mapFlag, nearest, numFlag, parseFlags } from "./args.ts";
import { Engine } from "../src/engine.ts";
import { adapterLine } from "../src/device.ts";
import { getProblem, isProblemPath, problems, resolveProblem } from "../src/problems/mod.ts";
import type { Problem } from "../src/problems/problem.ts";
import {
  initParams,
  INITS,
  loadModel,
  type Model,
  saveModel,
  validateSizes,
} from "../src/model.ts";
import { loadPoints, resolveCounts, samplePoints } from "../src/points.ts";
import { writeFileAtomic } from "../src/fsutil.ts";
import { symmetricEigenvalues } from "../src/linalg.ts";
import { Plan } from "../src/plan.ts";
import { DEFAULT_CONFIG, type TrainConfig, WEIGHTINGS } from "../src/trainer.ts";
import { loadRun, type Progress, runTraining } from "../src/run.ts";
import { defaultK, ntkWeights } from "../src/ntk.ts";
import { runBench } from "../bench/bench.ts";

const HELP: Record<string, string> = {
  "": `sketchpinn — PINN training with NTK loss weights on WebGPU

Commands (each also a deno task):
  train   train a problem (default: wave with predictor–corrector NTK weights)
  eval    residuals, loss and gradient of a model on a points file
  ntk     NTK block traces and weights of a model (exact, jvp, pc, hutch)
  init    write an initialised model file
  points  write a points file for a problem
  bench   GPU benchmarks

Run \`<command> --help\` for its flags. Problems: ${
    Object.keys(problems).join(", ")
  }, or the path of a module exporting one (--problem ./my_pde.ts).`,
  train: `train [--problem wave|./my_pde.ts] [--sizes 2,128,128,128,1] [--activation tanh|sin]
      [--init xavier|centered]
      [--optimizer adam|gd] [--lr 3e-3] [--decay 0.9] [--decay-steps 1000] [--steps 4000]
      [--n r=1024,u=256,ut=256] [--resample 1] [--sampler sobol|uniform] [--weighting none|fixed|exact|jvp|pc|hutch|gradnorm]
      [--weights r=1,u=10] [--k 1] [--dt 1e-2] [--central] [--beta 0.99 (exact: 0.9)] [--every 1]
      [--causal 0 (ε; 0 = off)] [--chunks 32] [--average 0 (β of a parameter EMA; 0 = off)] [--seed 0]
      [--log-every 100] [--checkpoint-every 500] [--on-nan stop|rollback]
      [--out runs/<problem>-<weighting>] [--config FILE] [--resume DIR] [--json] [--quiet]
A problem may recommend its own --steps, --lr, --decay-steps, --init, --average and --n (wave:
18000 steps on r=256,u=64,ut=64, --init centered, --average 0.995); flags and --config override them.`,
  eval: `eval --model M.json --points P.json [--weights r=1,u=10] [--json]`,
  ntk:
    `ntk --model M.json --points P.json [--method exact|jvp|pc|hutch] [--k K] [--dt D] [--central]
    [--kind gaussian|rademacher] [--seed S] [--repeat R] [--full SPECTRA.json] [--json]
    --full: the full NTK (≤ 4096 rows) and its eigenvalues per block, written to the file`,
  init:
    `init [--problem wave|./my_pde.ts] [--sizes 2,64,64,64,1] [--activation tanh|sin] [--init xavier|centered]
      [--seed 0] --out M.json
--init centered: Xavier-normal for inputs mapped to [-1, 1] over the domain, folded into the
first layer (its hyperplanes pass through the domain's centre); xavier: zero biases.`,
  points: `points [--problem wave|./my_pde.ts] [--n r=1024,u=256,ut=256] [--seed 0] --out P.json`,
  bench:
    `bench [--suite all|matmul|taylor|step|ntk|scaling] [--quick] [--sizes ..] [--n r=..,u=..,ut=..]
      [--weighting fixed|exact|pc|jvp] [--repeats N] [--baseline torch] [--compare old.json]
      [--out results.json] [--json]`,
};

/** Writes one line to stderr. */
function info(msg: string): void {
  console.error(msg);
}

function out(json: boolean, obj: unknown, text: string): void {
  console.log(json ? JSON.stringify(obj) : text);
}

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

/** The problem named by `--problem`, or one sentence naming the flag and the choices. */
function problemFlag(v: string) {
  return getProblem(choiceFlag("problem", v, Object.keys(problems)));
}

/** `--problem`: a built-in name (with a suggestion when misspelt) or a module path. */
async function problemArg(v: string): Promise<Problem> {
  return isProblemPath(v) ? await resolveProblem(v) : problemFlag(v);
}

/** Throws unless every group named by `--weights` is one of the problem's. */
function checkWeightGroups(problem: { name: string }, groups: string[], weights: object): void {
  for (const g of Object.keys(weights)) {
    if (!groups.includes(g)) {
      throw new UserError(
        "--weights",
        `--weights names group "${g}", which problem ${problem.name} lacks; its groups are ${
          groups.join(", ")
        }.`,
      );
    }
  }
}

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
  for (const [k, v] of Object.entries(obj)) {
    if (!CONFIG_KEYS.includes(k)) {
      const near = nearest(k, CONFIG_KEYS);
      throw new UserError(
        "--config",
        `Config file ${path} has unknown key "${k}"${near ? `; did you mean "${near}"?` : "."}`,
      );
    }
    const ok = typeof v === "string" || typeof v === "number" || typeof v === "boolean" ||
      (Array.isArray(v) && v.every((x) => typeof x === "number")) ||
      (typeof v === "object" && v !== null && Object.values(v).every((x) => typeof x === "number"));
    if (!ok) {
      throw new UserError(
        "--config",
        `Config file ${path}: key "${k}" has a value of the wrong type (${JSON.stringify(v)}).`,
      );
    }
  }
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
    p.rel_l2?.toExponential(2)
  } | ${p.stepsPerSecond.toFixed(1)} it/s | ETA ${eta}`;
}

async function cmdTrain(args: string[]): Promise<number> {
  const f = parseFlags("train", args, TRAIN_FLAGS);
  if (f.help) return help("train");
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
  validateSizes(config.sizes, problem.inputs.length);
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
      `done: ${metrics.steps} steps in ${metrics.wall_s.toFixed(1)} s, relative L2 error ${
        metrics.rel_l2.toExponential(3)
      }; report in ${run.out}/report.md`,
    );
    return 0;
  } finally {
    for (const s of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(s, onSignal);
    engine.dispose();
  }
}

async function modelAndPoints(f: Record<string, string | boolean | undefined>) {
  if (typeof f.model !== "string") {
    throw new UserError("--model", "Give the model file with --model M.json (`init` writes one).");
  }
  if (typeof f.points !== "string") {
    throw new UserError(
      "--points",
      "Give the points file with --points P.json (`points` writes one).",
    );
  }
  const model: Model = await loadModel(f.model);
  if (!isProblemPath(model.problem) && !Object.hasOwn(problems, model.problem)) {
    throw new UserError(
      f.model,
      `Model file ${f.model} names unknown problem "${model.problem}"; choose one of ${
        Object.keys(problems).join(", ")
      }.`,
    );
  }
  const problem = await resolveProblem(model.problem, f.model);
  validateSizes(model.sizes, problem.inputs.length, f.model);
  const points = await loadPoints(problem, f.points);
  return { model, problem, points };
}

async function cmdEval(args: string[]): Promise<number> {
  const f = parseFlags("eval", args, {
    model: "string",
    points: "string",
    weights: "string",
    json: "boolean",
    help: "boolean",
  });
  if (f.help) return help("eval");
  const { model, problem, points } = await modelAndPoints(f);
  const weights = typeof f.weights === "string" ? mapFlag("weights", f.weights, false) : {};
  checkWeightGroups(problem, Object.keys(points), weights);
  const engine = await Engine.create();
  try {
    const counts = Object.fromEntries(Object.entries(points).map(([g, p]) => [g, p.length]));
    const plan = await Plan.create(engine, {
      problem,
      sizes: model.sizes,
      activation: model.activation,
      counts,
    });
    plan.setParams(model.params);
    plan.setPoints(points);
    plan.setLambda(weights);
    const ev = await plan.evaluate(true);
    const result = {
      residuals: Object.fromEntries(
        Object.entries(ev.residuals).map(([g, r]) => [g, Array.from(r)]),
      ),
      loss: ev.loss,
      lossPerGroup: ev.lossPerGroup,
      gradient: Array.from(ev.gradient!),
    };
    const gnorm = Math.sqrt(ev.gradient!.reduce((a, v) => a + v * v, 0));
    out(
      Boolean(f.json),
      result,
      [
        `loss ${ev.loss.toExponential(6)}`,
        ...Object.entries(ev.lossPerGroup).map(([g, v]) =>
          `  ${g}: mean r² = ${v.toExponential(6)} (${points[g].length} points)`
        ),
        `gradient: ${ev.gradient!.length} parameters, ‖g‖ = ${gnorm.toExponential(6)}`,
      ].join("\n"),
    );
    await plan.dispose();
    return 0;
  } finally {
    engine.dispose();
  }
}

async function cmdNtk(args: string[]): Promise<number> {
  const f = parseFlags("ntk", args, {
    model: "string",
    points: "string",
    method: "string",
    k: "string",
    dt: "string",
    central: "boolean",
    kind: "string",
    seed: "string",
    repeat: "string",
    full: "string",
    json: "boolean",
    help: "boolean",
  });
  if (f.help) return help("ntk");
  const method = choiceFlag(
    "method",
    (f.method as string) ?? "exact",
    ["exact", "jvp", "pc", "hutch"] as const,
  );
  const k = f.k !== undefined ? intFlag("k", f.k as string, 1) : defaultK(method);
  const dt = f.dt !== undefined ? numFlag("dt", f.dt as string, { positive: true }) : undefined;
  const seed = f.seed !== undefined ? intFlag("seed", f.seed as string, 0) : 0;
  const repeat = f.repeat !== undefined ? intFlag("repeat", f.repeat as string, 1) : 1;
  const kind = choiceFlag(
    "kind",
    (f.kind as string) ?? "gaussian",
    ["gaussian", "rademacher"] as const,
  );
  const { model, problem, points } = await modelAndPoints(f);
  const engine = await Engine.create();
  try {
    const counts = Object.fromEntries(Object.entries(points).map(([g, p]) => [g, p.length]));
    const directions = method === "jvp" || method === "pc"
      ? Math.min(k, 16)
      : method === "hutch"
      ? 1
      : 0;
    const plan = await Plan.create(engine, {
      problem,
      sizes: model.sizes,
      activation: model.activation,
      counts,
      directions,
      tangents: method === "jvp",
    });
    plan.setParams(model.params);
    plan.setPoints(points);
    const r = await ntkWeights(
      plan,
      { method, k, dt, seed, kind, central: Boolean(f.central) },
      repeat,
    );
    const result: Record<string, unknown> = { method, ...r };
    if (typeof f.full === "string") {
      const spectra = await fullSpectra(plan);
      await writeFileAtomic(f.full, JSON.stringify(spectra));
      result.spectra = Object.fromEntries(
        Object.entries(spectra.blocks).map((
          [g, b],
        ) => [g, { trace: b.trace, top: b.eigenvalues.slice(0, 5) }]),
      );
      info(`full NTK (${spectra.rows} rows): spectra per block written to ${f.full}`);
      for (const [g, b] of Object.entries(spectra.blocks)) {
        info(
          `  ${g}: trace ${b.trace.toExponential(4)}, largest eigenvalues ${
            b.eigenvalues.slice(0, 3).map((v) => v.toExponential(3)).join(", ")
          }, smallest ${b.eigenvalues.at(-1)!.toExponential(3)}`,
        );
      }
    }
    out(
      Boolean(f.json),
      result,
      [
        `NTK traces (${method}${method === "exact" ? "" : `, k = ${k}`}${
          repeat > 1 ? `, ${repeat} repeats` : ""
        }):`,
        ...Object.keys(r.traces).map((g) =>
          `  ${g}: Tr K = ${r.traces[g].toExponential(5)}${
            r.stderr ? ` ± ${r.stderr[g].toExponential(2)}` : ""
          }, mean ${r.means[g].toExponential(5)}, λ = ${r.weights[g].toPrecision(6)}`
        ),
      ].join("\n"),
    );
    await plan.dispose();
    return 0;
  } finally {
    engine.dispose();
  }
}

/** The full NTK's eigenvalues per diagonal block (descending), and K itself when small. */
async function fullSpectra(plan: Plan) {
  const { order, K } = await plan.fullNtk();
  const n = order.length;
  const blocks: Record<string, { n: number; trace: number; eigenvalues: number[] }> = {};
  for (const g of plan.batch.groups) {
    const idx = order.flatMap((o, i) => (o.group === g.name ? [i] : []));
    const m = idx.length, sub = new Float64Array(m * m);
    idx.forEach((i, a) => idx.forEach((j, b) => (sub[a * m + b] = K[i * n + j])));
    let trace = 0;
    for (let a = 0; a < m; a++) trace += sub[a * m + a];
    blocks[g.name] = {
      n: m,
      trace,
      eigenvalues: Array.from(symmetricEigenvalues(sub, m)).reverse(),
    };
  }
  return { rows: n, blocks, order, ...(n <= 1024 ? { K: Array.from(K) } : {}) };
}

async function cmdInit(args: string[]): Promise<number> {
  const f = parseFlags("init", args, {
    problem: "string",
    sizes: "string",
    activation: "string",
    init: "string",
    seed: "string",
    out: "string",
    json: "boolean",
    help: "boolean",
  });
  if (f.help) return help("init");
  const problemName = (f.problem as string) ?? "wave";
  const problem = await problemArg(problemName);
  const sizes = typeof f.sizes === "string" ? listFlag("sizes", f.sizes) : [...problem.sizes];
  validateSizes(sizes, problem.inputs.length);
  const activation = choiceFlag(
    "activation",
    (f.activation as string) ?? "tanh",
    ["tanh", "sin"] as const,
  );
  const seed = f.seed !== undefined ? intFlag("seed", f.seed as string, 0) : 0;
  if (typeof f.out !== "string") {
    throw new UserError("--out", "Give the model file to write with --out M.json.");
  }
  const init = choiceFlag("init", (f.init as string) ?? "xavier", INITS);
  const params = initParams(sizes, seed, init, problem.domain);
  const path = f.out;
  // A module path is stored as given, so `eval` and `ntk` can import it again.
  const stored = isProblemPath(problemName) ? problemName : problem.name;
  await writing(path, () => saveModel(path, { problem: stored, sizes, activation, params }));
  out(
    Boolean(f.json),
    { out: f.out, params: params.length },
    `wrote ${f.out} (${params.length} parameters)`,
  );
  return 0;
}

async function cmdPoints(args: string[]): Promise<number> {
  const f = parseFlags("points", args, {
    problem: "string",
    n: "string",
    seed: "string",
    out: "string",
    json: "boolean",
    help: "boolean",
  });
  if (f.help) return help("points");
  const problem = await problemArg((f.problem as string) ?? "wave");
  const counts = resolveCounts(problem, typeof f.n === "string" ? mapFlag("n", f.n, true) : {});
  const seed = f.seed !== undefined ? intFlag("seed", f.seed as string, 0) : 0;
  if (typeof f.out !== "string") {
    throw new UserError("--out", "Give the points file to write with --out P.json.");
  }
  const path = f.out;
  await writing(
    path,
    () => writeFileAtomic(path, JSON.stringify(samplePoints(problem, counts, seed))),
  );
  out(
    Boolean(f.json),
    { out: f.out, counts },
    `wrote ${f.out} (${Object.entries(counts).map(([g, n]) => `${g}=${n}`).join(", ")})`,
  );
  return 0;
}

/** Runs `write`, turning a file-system failure into one sentence naming `--out`. */
async function writing(path: string, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (e) {
    // Any file-system refusal (missing folder, permissions, a folder in the way,
    // a device or pipe that cannot be renamed over) is the user's path to fix.
    if (!(e instanceof Error) || !("code" in e || e.name in Deno.errors)) throw e;
    throw new UserError(
      "--out",
      `Cannot write ${path} (${
        e.message.split(":")[0]
      }); give a regular file in a folder that exists and is writable.`,
    );
  }
}

function help(cmd: string): number {
  console.log(HELP[cmd] ?? HELP[""]);
  return 0;
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  train: cmdTrain,
  eval: cmdEval,
  ntk: cmdNtk,
  init: cmdInit,
  points: cmdPoints,
  bench: runBench,
};

/** Runs the CLI on `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  if (!cmd || cmd === "--help" || cmd === "help") return help("");
  const run = COMMANDS[cmd];
  try {
    if (!run) {
      const near = nearest(cmd, Object.keys(COMMANDS));
      throw new UserError(
        cmd,
        `Unknown command "${cmd}"${near ? `; did you mean \`${near}\`?` : ""} Commands: ${
          Object.keys(COMMANDS).join(", ")
        }.`,
      );
    }
    return await run(rest);
  } catch (e) {
    if (e instanceof UserError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
