/**
 * What the CLI does with bad input (design §5, style rule 7), each command run as
 * a child process: bad flags, config files, model files and points files end with
 * exit code 2 and one `error:` sentence naming the input, never a stack trace.
 */
import assert from "node:assert/strict";
import { saveModel, xavierInit } from "../src/model.ts";
import { samplePoints } from "../src/points.ts";
import { wave } from "../src/problems/mod.ts";
import { DEFAULT_CONFIG } from "../src/train_config.ts";
import { assertUserError, cli, type Run, SMALL_WAVE_FLAGS as SMALL } from "./process.ts";

const dir = await Deno.makeTempDir({ prefix: "sketchpinn_rel_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

/** Writes `value` as JSON (or a string as is) to `dir/name`; returns the path. */
async function file(name: string, value: unknown): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
}

// Good inputs, and bad ones made from them.
const sizes = [2, 16, 16, 1];
const params = Array.from(xavierInit(sizes, 0));
const goodModel = {
  format: "sketchpinn-mlp-v1",
  problem: "wave",
  sizes,
  activation: "tanh",
  params,
};
const model = `${dir}/model.json`;
await saveModel(model, { ...goodModel, activation: "tanh", params: Float32Array.from(params) });
const goodPoints = samplePoints(wave, { r: 16, u: 8, ut: 8 }, 0);
const points = await file("points.json", goodPoints);
const withParam = (i: number, v: unknown) => params.map((p, j) => j === i ? v : p);

const files = {
  cfgMalformed: await file("cfg_malformed.json", '{"steps": 3,'),
  cfgUnknown: await file("cfg_unknown.json", { stpes: 3 }),
  cfgWrongType: await file("cfg_wrong_type.json", { steps: [1, 2] }),
  cfgNotObject: await file("cfg_array.json", [1, 2]),
  cfgCentral: await file("cfg_central.json", { central: "yes" }),
  cfgProblem: await file("cfg_problem.json", { problem: "wav" }),
  modelNotJson: await file("m_not_json.json", "not json"),
  modelFormat: await file("m_format.json", { ...goodModel, format: "mlp-v0" }),
  modelCount: await file("m_count.json", { ...goodModel, params: params.slice(1) }),
  modelNanString: await file("m_nan_string.json", { ...goodModel, params: withParam(5, "NaN") }),
  modelNanNull: await file("m_nan_null.json", { ...goodModel, params: withParam(5, null) }),
  modelProblem: await file("m_problem.json", { ...goodModel, problem: "wav" }),
  modelActivation: await file("m_activation.json", { ...goodModel, activation: "relu" }),
  modelInputDim: await file("m_input_dim.json", {
    ...goodModel,
    sizes: [3, 16, 16, 1],
    params: Array.from(xavierInit([3, 16, 16, 1], 0)),
  }),
  pointsDim: await file("p_dim.json", { ...goodPoints, r: [[0.1, 0.2, 0.3]] }),
  pointsEmpty: await file("p_empty.json", { ...goodPoints, u: [] }),
  pointsUnknown: await file("p_unknown.json", { ...goodPoints, q: [[0.1, 0.2]] }),
  pointsNull: await file("p_null.json", { ...goodPoints, r: [[0.1, null]] }),
  pointsString: await file("p_string.json", { ...goodPoints, ut: [[0, "0.5"]] }),
  pointsMissing: await file("p_missing.json", { r: goodPoints.r, u: goodPoints.u }),
  pointsNotJson: await file("p_not_json.json", "{"),
};
// A folder with a config but no checkpoint, and an empty one.
const noCheckpoint = `${dir}/no_checkpoint`;
await Deno.mkdir(noCheckpoint);
await Deno.writeTextFile(`${noCheckpoint}/config.json`, JSON.stringify(DEFAULT_CONFIG));
const emptyDir = `${dir}/empty`;
await Deno.mkdir(emptyDir);

/** A bad input: the arguments, and what the message must contain. */
interface BadCase {
  args: string[];
  names: string;
  match?: RegExp;
}

/** `train` with tiny settings, so a case that wrongly succeeds still ends quickly. */
const train = (...bad: string[]) => [
  "train",
  ...SMALL,
  "--steps",
  "2",
  "--out",
  `${dir}/never`,
  ...bad,
];
const evalWith = (m: string, p: string) => ["eval", "--model", m, "--points", p];

const BAD: Record<string, BadCase> = {
  "unknown flag, with a suggestion": {
    args: train("--stpes", "3"),
    names: "--stpes",
    match: /did you mean --steps\?/,
  },
  "flag without its value": { args: ["train", "--lr"], names: "--lr" },
  "stray argument": { args: train("fast"), names: '"fast"' },
  "--steps abc": { args: train("--steps", "abc"), names: "--steps" },
  "--steps 0": { args: train("--steps", "0"), names: "--steps" },
  "--lr -1": { args: train("--lr", "-1"), names: "--lr", match: /> 0; got "-1"/ },
  "--lr 0": { args: train("--lr", "0"), names: "--lr" },
  "--k 0": { args: train("--k", "0"), names: "--k" },
  "--dt 0": { args: train("--dt", "0"), names: "--dt" },
  "--dt -1": { args: train("--dt", "-1"), names: "--dt", match: /got "-1"/ },
  "--sizes 2,0,1": { args: train("--sizes", "2,0,1"), names: "--sizes" },
  "--sizes 2,x,1": { args: train("--sizes", "2,x,1"), names: "--sizes" },
  "--sizes 2,1000,1 (width beyond 512)": {
    args: train("--sizes", "2,1000,1"),
    names: "--sizes",
    match: /512/,
  },
  "--sizes 3,16,1 for wave (input dimension)": {
    args: train("--sizes", "3,16,1"),
    names: "--sizes",
    match: /input dimension 2/,
  },
  "--sizes 2,16,2 (two outputs)": { args: train("--sizes", "2,16,2"), names: "--sizes" },
  "--sizes 2,1 (no hidden layer)": { args: train("--sizes", "2,1"), names: "--sizes" },
  "--activation relu": { args: train("--activation", "relu"), names: "--activation" },
  "--optimizer sgd": { args: train("--optimizer", "sgd"), names: "--optimizer" },
  "--weighting foo": { args: train("--weighting", "foo"), names: "--weighting" },
  "--problem wav": { args: train("--problem", "wav"), names: "--problem", match: /wave/ },
  "--n r=0": { args: train("--n", "r=0"), names: "--n" },
  "--n q=5 (unknown group)": { args: train("--n", "q=5"), names: "--n", match: /r, u, ut/ },
  "--weights r=abc": { args: train("--weights", "r=abc"), names: "--weights" },
  "--weights q=2 (unknown group)": {
    args: train("--weighting", "fixed", "--weights", "q=2"),
    names: "--weights",
  },
  "--weighting fixed without --weights": {
    args: train("--weighting", "fixed"),
    names: "--weights",
  },
  "--beta 1.5": { args: train("--beta", "1.5"), names: "--beta" },
  "--decay 2": { args: train("--decay", "2"), names: "--decay" },
  "--on-nan ignore": { args: train("--on-nan", "ignore"), names: "--on-nan" },
  "point count beyond the adapter's limits": {
    args: train("--n", "r=50000000"),
    names: "--n",
    match: /limit/,
  },
  "config: missing file": { args: train("--config", `${dir}/none.json`), names: "none.json" },
  "config: malformed JSON": { args: train("--config", files.cfgMalformed), names: "cfg_malformed" },
  "config: unknown key, with a suggestion": {
    args: train("--config", files.cfgUnknown),
    names: "cfg_unknown",
    match: /did you mean "steps"/,
  },
  "config: wrong type": {
    args: train("--config", files.cfgWrongType),
    names: "cfg_wrong_type",
    match: /steps/,
  },
  "config: not an object": { args: train("--config", files.cfgNotObject), names: "cfg_array" },
  "config: boolean key with a string": {
    args: train("--config", files.cfgCentral),
    names: "cfg_central",
    match: /central/,
  },
  "config: unknown problem": { args: train("--config", files.cfgProblem), names: "cfg_problem" },
  "model: missing file": { args: evalWith(`${dir}/missing.json`, points), names: "missing.json" },
  "model: not JSON": { args: evalWith(files.modelNotJson, points), names: "m_not_json" },
  "model: wrong format tag": { args: evalWith(files.modelFormat, points), names: "m_format" },
  "model: params count mismatch": {
    args: evalWith(files.modelCount, points),
    names: "m_count",
    match: /336/,
  },
  'model: NaN param ("NaN")': { args: evalWith(files.modelNanString, points), names: "m_nan_s" },
  "model: NaN param (null)": { args: evalWith(files.modelNanNull, points), names: "m_nan_null" },
  "model: unknown problem": { args: evalWith(files.modelProblem, points), names: "m_problem" },
  "model: wrong activation": {
    args: evalWith(files.modelActivation, points),
    names: "m_activation",
  },
  "model: input dimension of another problem": {
    args: evalWith(files.modelInputDim, points),
    names: "m_input_dim",
  },
  "points: missing file": { args: evalWith(model, `${dir}/nope.json`), names: "nope.json" },
  "points: not JSON": { args: evalWith(model, files.pointsNotJson), names: "p_not_json" },
  "points: wrong dimension": { args: evalWith(model, files.pointsDim), names: "p_dim" },
  "points: empty group": { args: evalWith(model, files.pointsEmpty), names: "p_empty" },
  "points: unknown group": { args: evalWith(model, files.pointsUnknown), names: "p_unknown" },
  "points: NaN coordinate (null)": { args: evalWith(model, files.pointsNull), names: "p_null" },
  "points: NaN coordinate (string)": {
    args: evalWith(model, files.pointsString),
    names: "p_string",
  },
  "points: missing group": {
    args: evalWith(model, files.pointsMissing),
    names: "p_missing",
    match: /"ut"/,
  },
  "eval without --model": { args: ["eval", "--points", points], names: "--model" },
  "eval --weights q=1": {
    args: [...evalWith(model, points), "--weights", "q=1"],
    names: "--weights",
  },
  "ntk --method foo": {
    args: ["ntk", "--model", model, "--points", points, "--method", "foo"],
    names: "--method",
  },
  "ntk --repeat 0": {
    args: ["ntk", "--model", model, "--points", points, "--repeat", "0"],
    names: "--repeat",
  },
  "init --out into a missing folder": {
    args: ["init", "--out", `${dir}/missing_dir/m.json`],
    names: "missing_dir/m.json",
  },
  "unknown command, with a suggestion": {
    args: ["trian"],
    names: "trian",
    match: /did you mean `train`/,
  },
  "--resume of an empty folder": { args: ["train", "--resume", emptyDir], names: "--resume" },
  "--resume of a folder without a checkpoint": {
    args: ["train", "--resume", noCheckpoint],
    names: `${noCheckpoint}/model.json`,
  },
};

Deno.test("bad inputs end in exit code 2 and one error sentence naming the input", async (t) => {
  assert.ok(Object.keys(BAD).length >= 30);
  // Start the children a few at a time; check them one by one, in table order.
  const entries = Object.entries(BAD);
  const results: Promise<Run>[] = [];
  const running = new Set<Promise<unknown>>();
  for (const [, c] of entries) {
    while (running.size >= 6) await Promise.race(running);
    const p = cli(...c.args);
    results.push(p);
    const done = p.finally(() => running.delete(done));
    running.add(done);
  }
  for (const [i, [name, c]] of entries.entries()) {
    await t.step(name, async () => {
      const line = assertUserError(await results[i], c.names, `${name}: ${c.args.join(" ")}`);
      if (c.match) assert.match(line, c.match);
    });
  }
});

/** The run folder's files, recursively, relative to `root`. */
