/**
 * What the CLI does when things go wrong (design §5, style rule 7), each command
 * run as a child process:
 * - bad flags, config files, model files and points files end with exit code 2
 *   and one `error:` sentence naming the input, never a stack trace;
 * - a diverging run stops (or rolls back a bounded number of times) and keeps a
 *   readable model.json;
 * - N steps then `--resume` to 2N ends with the same parameters, bit for bit, as
 *   2N steps in one go;
 * - SIGINT checkpoints and exits 130, and the run resumes to completion;
 * - a corrupted checkpoint is refused without touching the run folder, and the
 *   atomic writer leaves no temporary files behind.
 */
import assert from "node:assert/strict";
import { loadModel, saveModel, xavierInit } from "../src/model.ts";
import { samplePoints } from "../src/points.ts";
import { wave } from "../src/problems/mod.ts";
import { DEFAULT_CONFIG } from "../src/train_config.ts";
import { assertExitOk, CLI, denoCommand, type Run, runDeno } from "./process.ts";

/** Flags of a tiny, fast training run. */
const SMALL = ["--sizes", "2,16,16,1", "--n", "r=64,u=32,ut=32", "--quiet"];

/** A CLI child process (spawned by the interrupt test). */
const command = (args: string[]) => denoCommand([...CLI, ...args]);

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** Runs `deno run cli/main.ts …args` from the repository root. */
const cli = (...args: string[]): Promise<Run> => runDeno([...CLI, ...args]);

/** Runs the CLI and asserts exit code 0, showing stderr otherwise. */
const ok = async (...args: string[]): Promise<Run> =>
  assertExitOk(await cli(...args), args.join(" "));

/**
 * Asserts the bad-input contract: exit code 2, no stack trace, and exactly one
 * `error:` line on stderr, the last one, containing `names`. Other stderr lines
 * may only be the adapter and "training …" header of `train`. Returns the line.
 */
function assertUserError(r: Run, names: string, label: string): string {
  const ctx = `${label}\nstderr:\n${r.stderr}`;
  assert.equal(r.code, 2, `exit code 2 expected, got ${r.code}: ${ctx}`);
  assert.ok(!r.stderr.includes("    at "), `stack trace on stderr: ${ctx}`);
  assert.ok(!r.stderr.includes("Uncaught"), `uncaught exception: ${ctx}`);
  const lines = r.stderr.split("\n").filter((l) => l.trim());
  const errors = lines.filter((l) => l.startsWith("error:"));
  assert.equal(errors.length, 1, `one error line expected: ${ctx}`);
  assert.equal(lines.at(-1), errors[0], `the error line comes last: ${ctx}`);
  for (const l of lines.slice(0, -1)) {
    assert.match(
      l,
      /^(sketchpinn: |training |The (loss|NTK weights) became)/,
      `stray line: ${ctx}`,
    );
  }
  assert.ok(errors[0].includes(names), `the message names ${names}: ${ctx}`);
  return errors[0];
}

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
async function listFiles(root: string, sub = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${root}/${sub}`)) {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await listFiles(root, rel));
    else out.push(rel);
  }
  return out;
}

const assertNoTmp = async (root: string) => {
  const tmp = (await listFiles(root)).filter((f) => f.includes(".tmp-"));
  assert.deepEqual(tmp, [], `temporary files left in ${root}`);
};

/** 30 gradient-descent steps at rate `lr` on the small network, checkpointed every 3 steps. */
const divergingTrain = (lr: string, onNan: "stop" | "rollback", out: string) =>
  cli(
    "train",
    ...SMALL,
    "--optimizer",
    "gd",
    "--lr",
    lr,
    "--steps",
    "30",
    "--log-every",
    "3",
    "--checkpoint-every",
    "3",
    "--on-nan",
    onNan,
    "--out",
    out,
  );

Deno.test("divergence with --on-nan stop exits 2 naming --lr and keeps a readable model", async () => {
  // Plain gradient descent with a huge rate overflows within a few steps; at
  // 1e12 before the first periodic checkpoint, at 1e6 after it.
  for (const [lr, lastGood] of [["1e12", 0], ["1e6", 3]] as const) {
    const out = `${dir}/diverge_${lr}`;
    const r = await divergingTrain(lr, "stop", out);
    const line = assertUserError(r, "--lr", `--lr ${lr}`);
    assert.match(line, /NaN\/Inf/);
    assert.ok(line.includes(`${out}/model.json`), line);
    const m = await loadModel(`${out}/model.json`); // finite params, else it throws
    assert.equal((m.state as { step: number }).step, lastGood, `--lr ${lr}: last good step`);
    await assertNoTmp(out);
  }
});

Deno.test("divergence with --on-nan rollback halves the rate a bounded number of times", async () => {
  const out = `${dir}/rollback`;
  const r = await divergingTrain("1e6", "rollback", out);
  const rollbacks = r.stderr.split("\n").filter((l) => l.includes("rolled back"));
  assert.ok(rollbacks.length >= 1 && rollbacks.length <= 3, r.stderr);
  // Each rollback lowers the rate further: ×0.5, ×0.25, ….
  const scales = rollbacks.map((l) => Number(l.match(/×([\d.e-]+)/)![1]));
  scales.forEach((s, i) => assert.equal(s, 0.5 ** (i + 1), `rollback ${i + 1}: ${rollbacks[i]}`));
  if (r.code === 0) {
    assert.equal(JSON.parse(await Deno.readTextFile(`${out}/metrics.json`)).steps, 30);
  } else {
    const line = assertUserError(r, "--lr", "rollback");
    assert.match(line, /rollbacks/);
    await loadModel(`${out}/model.json`);
  }
});

for (const [weighting, ...extra] of [["pc"], ["exact"], ["pc", "--average", "0.8"]]) {
  const tag = [weighting, ...extra].join(" ");
  Deno.test(`N steps then --resume to 2N equals 2N steps, bitwise (--weighting ${tag})`, async () => {
    const N = 6;
    const flags = [
      ...SMALL,
      "--weighting",
      weighting,
      ...extra,
      "--log-every",
      "3",
      "--checkpoint-every",
      "3",
    ];
    const name = [weighting, ...extra].join("_").replaceAll("-", "");
    const whole = `${dir}/whole_${name}`, split = `${dir}/split_${name}`;
    await ok("train", ...flags, "--steps", String(2 * N), "--out", whole);
    await ok("train", ...flags, "--steps", String(N), "--out", split);
    await ok("train", "--resume", split, "--steps", String(2 * N), "--quiet");
    const a = JSON.parse(await Deno.readTextFile(`${whole}/model.json`));
    const b = JSON.parse(await Deno.readTextFile(`${split}/model.json`));
    assert.equal(b.state.step, 2 * N);
    assert.deepEqual(b.params, a.params, "parameters");
    assert.deepEqual(b.state, a.state, "optimizer moments, weights and estimator state");
    if (extra.length) {
      // The model is the average; the state carries the optimizer's own parameters.
      assert.equal(b.state.raw.length, b.params.length);
      assert.notDeepEqual(b.state.raw, b.params);
    }
    const steps = (await Deno.readTextFile(`${split}/log.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l).step
    );
    assert.deepEqual(steps, [3, 6, 9, 12], "the resumed log continues the first one");
    await assertNoTmp(whole);
    await assertNoTmp(split);
  });
}

Deno.test("SIGINT checkpoints and exits 130; the run then resumes to completion", async () => {
  const out = `${dir}/interrupted`;
  const child = command([
    "train",
    ...SMALL,
    "--steps",
    "1000000",
    "--log-every",
    "3",
    "--checkpoint-every",
    "3",
    "--out",
    out,
  ]).spawn();
  const output = child.output();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const log = await Deno.readTextFile(`${out}/log.jsonl`).catch(() => "");
    if (log.includes("\n")) break;
    assert.ok(Date.now() < deadline, "no log line within 60 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGINT");
  const { code, stderr } = await output;
  const err = decode(stderr);
  assert.equal(code, 130, err);
  assert.match(err, /--resume/);
  assert.ok(!err.includes("    at "), err);
  const m = await loadModel(`${out}/model.json`);
  const step = (m.state as { step: number }).step;
  assert.ok(step > 0, `checkpoint at step ${step}`);
  await ok("train", "--resume", out, "--steps", String(step + 4), "--quiet");
  const done = await loadModel(`${out}/model.json`);
  assert.equal((done.state as { step: number }).step, step + 4);
  assert.equal(JSON.parse(await Deno.readTextFile(`${out}/metrics.json`)).steps, step + 4);
  await assertNoTmp(out);
});

Deno.test("a corrupted checkpoint or a conflicting --resume leaves the run folder as it was", async () => {
  const out = `${dir}/corrupt`;
  await ok("train", ...SMALL, "--steps", "3", "--log-every", "3", "--out", out);
  await assertNoTmp(out);
  const good = await Deno.readFile(`${out}/model.json`);
  const config = await Deno.readTextFile(`${out}/config.json`);
  const kept = `${dir}/kept_model.json`;
  await Deno.writeFile(kept, good);

  // A flag that would change the network is refused before anything is written.
  let r = await cli("train", "--resume", out, "--sizes", "2,8,1", "--steps", "6");
  assertUserError(r, "--sizes", "--resume with other sizes");
  assert.equal(await Deno.readTextFile(`${out}/config.json`), config);
  assert.deepEqual(await Deno.readFile(`${out}/model.json`), good);

  // A torn checkpoint (as a crash without the atomic writer would leave).
  await Deno.truncate(`${out}/model.json`, Math.floor(good.length / 2));
  r = await cli("train", "--resume", out, "--steps", "6");
  const line = assertUserError(r, `${out}/model.json`, "truncated checkpoint");
  assert.match(line, /not valid JSON/);
  assert.equal(await Deno.readTextFile(`${out}/config.json`), config);
  assert.equal((await Deno.stat(`${out}/model.json`)).size, Math.floor(good.length / 2));
  assert.deepEqual(await Deno.readFile(kept), good, "the copy kept elsewhere is untouched");

  // A checkpoint whose training state was damaged (null reads as 0 otherwise).
  const damaged = JSON.parse(new TextDecoder().decode(good));
  damaged.state.moments[0] = null;
  await Deno.writeTextFile(`${out}/model.json`, JSON.stringify(damaged));
  r = await cli("train", "--resume", out, "--steps", "6");
  assertUserError(r, `${out}/model.json`, "damaged state");
  assert.equal(await Deno.readTextFile(`${out}/config.json`), config);
  await assertNoTmp(out);
});
