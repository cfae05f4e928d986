/**
 * Corrupt and hostile files, and a seeded property test over malformed command
 * lines: every case ends in exit code 0 or 2, at most three lines on stderr and
 * no stack trace. The commands run in this process through `main` (the same
 * code a process runs, minus start-up); a sample is spawned as real processes.
 */
import assert from "node:assert/strict";
import { main } from "../cli/main.ts";
import { saveModel, xavierInit } from "../src/model.ts";
import { samplePoints } from "../src/points.ts";
import { getProblem } from "../src/problems/mod.ts";
import { CLI, ROOT, runDeno, tinyWaveFlags } from "./process.ts";

/** What one command did. */
interface Outcome {
  code: number | null;
  stderr: string[];
  thrown?: unknown;
}

/** Runs the CLI's `main` in this process, capturing its console output. */
async function inProcess(args: string[]): Promise<Outcome> {
  const stderr: string[] = [];
  const { error, log } = console;
  console.error = (...a: unknown[]) => stderr.push(...a.map(String).join(" ").split("\n"));
  console.log = () => {};
  try {
    return { code: await main(args), stderr };
  } catch (thrown) {
    return { code: null, stderr, thrown };
  } finally {
    console.error = error;
    console.log = log;
  }
}

/** The property: exit 0 or 2, ≤ 3 stderr lines, no stack trace, and one error line on 2. */
function assertContract(o: Outcome, label: string): void {
  const ctx = `${label}\nstderr:\n${o.stderr.join("\n")}${o.thrown ? `\nthrown: ${o.thrown}` : ""}`;
  assert.ok(o.code === 0 || o.code === 2, `exit code ${o.code}: ${ctx}`);
  const lines = o.stderr.filter((l) => l.trim());
  assert.ok(lines.length <= 3, `more than 3 stderr lines: ${ctx}`);
  assert.ok(!lines.some((l) => /^\s+at |Uncaught/.test(l)), `stack trace: ${ctx}`);
  if (o.code === 2) assert.equal(lines.filter((l) => l.startsWith("error:")).length, 1, ctx);
}

/** mulberry32, seeded: a failing case can be replayed from its index. */
function rng(seed: number) {
  const next = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}
type Rng = ReturnType<typeof rng>;

const dir = await Deno.makeTempDir({ prefix: "sketchpinn_hostile_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const wave = getProblem("wave");
const model = `${dir}/model.json`, points = `${dir}/points.json`, run = `${dir}/run`;
await saveModel(model, {
  problem: "wave",
  sizes: [2, 8, 1],
  activation: "tanh",
  params: xavierInit([2, 8, 1], 0),
});
await Deno.writeTextFile(points, JSON.stringify(samplePoints(wave, { r: 8, u: 4, ut: 4 }, 0)));
const TRAIN = [...tinyWaveFlags("r=16,u=8,ut=8"), "--log-every", "1", "--quiet"];
assert.equal((await inProcess(["train", ...TRAIN, "--steps", "2", "--out", run])).code, 0);
const texts = {
  model: await Deno.readTextFile(model),
  points: await Deno.readTextFile(points),
  checkpoint: await Deno.readTextFile(`${run}/model.json`),
  config: JSON.stringify({ steps: 2, sizes: [2, 8, 1], n: { r: 16, u: 8, ut: 8 } }),
};

/** Replaces a random number or value inside `v` (depth first) by `by`. */
function mutate(v: unknown, r: Rng, by: unknown): unknown {
  if (Array.isArray(v) && v.length > 0) {
    const i = r.int(v.length), c = [...v];
    c[i] = r.next() < 0.5 ? by : mutate(v[i], r, by);
    return c;
  }
  if (typeof v === "object" && v !== null) {
    const keys = Object.keys(v);
    if (keys.length === 0) return by;
    const k = r.pick(keys), c = { ...v } as Record<string, unknown>;
    c[k] = r.next() < 0.4 ? by : mutate(c[k], r, by);
    return c;
  }
  return by;
}

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const WRONG: unknown[] = [null, "NaN", "", -1, 0, 1e308, true, [], {}, [[1, 2]], "x".repeat(5000)];

/** A hostile variant of `text` (a JSON file), chosen by `r`. */
function hostileText(text: string, r: Rng): string | Uint8Array {
  switch (r.int(7)) {
    case 0:
      return text.slice(0, r.int(text.length)); // truncated
    case 1:
      return ""; // empty
    case 2:
      return Uint8Array.from({ length: 1 + r.int(400) }, () => r.int(256)); // binary
    case 3: // deeply nested, at the top or in a field
      return r.next() < 0.5 ? nested(50_000) : text.replace(/\[/, nested(20_000) + ",[");
    case 4: // NaN and infinities: JSON has no NaN, so they arrive as 1e999, null or strings
      return JSON.stringify(mutate(JSON.parse(text), r, r.pick([null, "NaN", 1e999, -1e999])))
        .replaceAll("Infinity", "1e999");
    case 5:
      return JSON.stringify(mutate(JSON.parse(text), r, r.pick(WRONG))); // wrong-typed
    default:
      return text.replace(/"[a-z]+":/, `"${r.pick(["format", "sizes", "state", "q", ""])}":`);
  }
}

let fileNo = 0;
/** Writes `content` to a new file in the temp dir; returns its path. */
async function put(content: string | Uint8Array, ext = ".json"): Promise<string> {
  const path = `${dir}/f${fileNo++}${ext}`;
  if (typeof content === "string") await Deno.writeTextFile(path, content);
  else await Deno.writeFile(path, content);
  return path;
}

/** A run folder whose checkpoint (or config) is `content`. */
async function runWith(file: "model.json" | "config.json", content: string | Uint8Array) {
  const d = `${dir}/run${fileNo++}`;
  await Deno.mkdir(d);
  await Deno.writeTextFile(`${d}/config.json`, await Deno.readTextFile(`${run}/config.json`));
  await Deno.writeTextFile(`${d}/model.json`, texts.checkpoint);
  if (typeof content === "string") await Deno.writeTextFile(`${d}/${file}`, content);
  else await Deno.writeFile(`${d}/${file}`, content);
  return d;
}

Deno.test("hostile files end in exit code 2 and one sentence naming the file", async (t) => {
  const huge = `${dir}/huge.json`;
  await Deno.writeTextFile(huge, "[");
  await Deno.truncate(huge, 300 * 2 ** 20); // sparse: costs no disk
  const poisson = await put(
    JSON.stringify(samplePoints(getProblem("poisson1d"), { r: 4, u: 2 }, 0)),
  );
  const cases: [string, string[], string][] = [
    ["huge model file", ["eval", "--model", huge, "--points", points], huge],
    ["huge points file", ["eval", "--model", model, "--points", huge], huge],
    ["a device as a model file", ["eval", "--model", "/dev/zero", "--points", points], "/dev/zero"],
    ["a folder as a points file", ["eval", "--model", model, "--points", dir], dir],
    ["points file of another problem", ["eval", "--model", model, "--points", poisson], poisson],
  ];
  const m = JSON.parse(texts.model);
  const other = await put(JSON.stringify({ ...m, problem: "poisson1d" }));
  cases.push(["model whose sizes disagree with its problem", [
    "eval",
    "--model",
    other,
    "--points",
    points,
  ], other]);
  const v2 = await put(JSON.stringify({ ...m, format: "sketchpinn-mlp-v2" }));
  cases.push(["model of another format version", ["eval", "--model", v2, "--points", points], v2]);
  const ck = JSON.parse(texts.checkpoint);
  const oldState = await runWith("model.json", JSON.stringify({ ...ck, state: { step: 2 } }));
  cases.push(["checkpoint of another state layout", ["train", "--resume", oldState], oldState]);
  const r = rng(7);
  for (let i = 0; i < 12; i++) {
    const kind = ["model", "points", "config", "checkpoint"][i % 4] as keyof typeof texts;
    const text = hostileText(texts[kind], r);
    if (kind === "checkpoint") {
      const d = await runWith("model.json", text);
      cases.push([`hostile checkpoint ${i}`, ["train", "--resume", d], d]);
    } else {
      const f = await put(text);
      const args = kind === "model"
        ? ["eval", "--model", f, "--points", points]
        : kind === "points"
        ? ["eval", "--model", model, "--points", f]
        : ["train", ...TRAIN, "--steps", "2", "--config", f, "--out", `${dir}/never`];
      cases.push([`hostile ${kind} file ${i}`, args, f]);
    }
  }
  const mod = async (src: string) => await put(src, ".ts");
  for (
    const [what, src] of [
      ["syntax error", "export default {"],
      ["throws on import", 'throw new Error("boom\\nsecond line");'],
      ["exports a number", "export default 42;"],
      ["exports a wrong-typed problem", 'export default { name: 1, inputs: "t" };'],
      ["binary", "\u0000\u0001\u00ff"],
    ]
  ) {
    const f = await mod(src);
    cases.push([`problem module: ${what}`, ["train", ...TRAIN, "--problem", f, "--steps", "1"], f]);
  }
  for (const [name, args, names] of cases) {
    await t.step(name, async () => {
      const o = await inProcess(args);
      assertContract(o, `${name}: ${args.join(" ")}`);
      assert.equal(o.code, 2, `${name}: exit code`);
      const line = o.stderr.find((l) => l.startsWith("error:"))!;
      assert.ok(line.includes(names), `${name}: the message names ${names}: ${line}`);
    });
  }
});

/** Tokens a fuzzed flag value is drawn from; none is a valid, long-running setting. */
const TOKENS = [
  "",
  " ",
  "-1",
  "0",
  "NaN",
  "Infinity",
  "1e400",
  "-0",
  "0x10",
  "abc",
  "2,8",
  "2,8,1,",
  ",",
  "r=",
  "=5",
  "r=1e12",
  "r=-3",
  "u=1.5",
  "r=16,u=8,ut=8,q=1",
  "\u0000",
  "é",
  "😀",
  "--",
  "-",
  "x".repeat(3000),
  "../../nope",
  "/dev/zero",
  "/",
  "null",
  "[]",
  "{}",
  "2,0,1",
  "3,8,1",
  "2,8,2",
  "1e-300",
  "9".repeat(40),
  "r=99999999999999",
  "k=1",
  "wave",
  "poisson1d",
];
/** Values aimed at each flag's limits (counts beyond the machine, wrong groups, …). */
const AIMED: Record<string, string[]> = {
  "--sizes": ["2,100000,1", "2,512,512,512,512,512,512,512,512,512,1", "2,8,1e3", "2,-8,1"],
  "--n": ["r=1000000000000,u=10,ut=10", "r=99999999999999", "r=0", "u=1.5", "q=1", "r=2e9"],
  "--steps": ["0", "-3", "2.5"],
  "--lr": ["0", "-1", "1e999", "1e-400"],
  "--k": ["100000000", "0", "4097"],
  "--dt": ["0", "1e999"],
  "--beta": ["1", "-0.1"],
  "--weighting": ["jvp", "hutch", "fixed", "exact", "pcc"],
  "--problem": ["wav", "./nope.ts", "file:///nope.ts", "poisson1d"],
  "--weights": ["r=1,u=10", "q=1", "r=-1"],
  "--activation": ["relu", "sin"],
  "--seed": ["-1", "1.5"],
  "--every": ["0"],
  "--chunks": ["0", "65", "100000"],
  "--causal": ["-1", "1e9", "0.5"],
  "--average": ["1", "0.5", "-1"],
  "--decay": ["2", "-1"],
  "--max-memory": ["1MiB", "5x", "0", "1TiB", "1.5G"],
  "--method": ["foo", "hutch", "jvp"],
  "--repeat": ["0", "100000", "2"],
  "--kind": ["rademacher", "cauchy"],
  "--full": ["/", `/dev/full`, "nope/x.json"],
  "--on-nan": ["ignore", "rollback"],
  "--sampler": ["sobol", "halton"],
  "--init": ["centered", "he"],
  "--out": ["/", "/dev/null", "/proc/nope/run"],
  "--resume": ["/", "/nonexistent", "/dev/null"],
  "--model": ["/dev/zero", "/", "/nonexistent.json"],
  "--points": ["/dev/zero", "/", "/nonexistent.json"],
  "--config": ["/dev/zero", "/", "/nonexistent.json"],
  "--stpes": ["3"],
  "--json": ["true"],
};
const FLAGS = Object.keys(AIMED);
const valueFor = (r: Rng, flag: string) =>
  AIMED[flag] && r.next() < 0.6 ? r.pick(AIMED[flag]) : r.pick(TOKENS);

/** A valid base command (cheap to run), then 1–3 seeded mutations. */
async function fuzzCase(r: Rng, i: number): Promise<string[]> {
  const bases = [
    () => ["train", ...TRAIN, "--steps", "2", "--out", `${dir}/fz${i}`],
    () => ["eval", "--model", model, "--points", points],
    () => ["ntk", "--model", model, "--points", points, "--method", r.pick(["exact", "pc", "jvp"])],
    () => ["init", "--problem", "wave", "--sizes", "2,8,1", "--out", `${dir}/fz${i}.json`],
    () => ["points", "--problem", "wave", "--n", "r=8,u=4,ut=4", "--out", `${dir}/fz${i}.json`],
    () => ["train", "--resume", run, "--steps", "3", "--quiet"],
  ];
  const args = r.pick(bases)();
  for (let m = 1 + r.int(3); m > 0; m--) {
    const at = 1 + r.int(args.length - 1);
    switch (r.int(7) % 6 === 5 ? 1 : r.int(6)) {
      case 0: { // a flag's value replaced
        const flags = args.flatMap((a, j) => a.startsWith("--") && j + 1 < args.length ? [j] : []);
        if (flags.length) {
          const j = r.pick(flags);
          args[j + 1] = valueFor(r, args[j]);
        }
        break;
      }
      case 1: { // a flag with a value aimed at its limits, or a random one
        const flag = r.pick(FLAGS);
        args.push(flag, valueFor(r, flag));
        break;
      }
      case 2: // a value dropped
        args.splice(at, 1);
        break;
      case 3: // a stray word
        args.splice(at, 0, r.pick(TOKENS));
        break;
      case 4: { // a file argument replaced by a hostile file
        const kind = r.pick(["model", "points", "config", "checkpoint"] as const);
        const text = hostileText(texts[kind], r);
        const flag = {
          model: "--model",
          points: "--points",
          config: "--config",
          checkpoint: "--resume",
        }[kind];
        args.push(
          flag,
          kind === "checkpoint" ? await runWith("model.json", text) : await put(text),
        );
        break;
      }
      default: // the command name itself
        if (r.next() < 0.3) args[0] = r.pick(["trian", "", "help", "--help", "bench2"]);
    }
  }
  // Never a long run: a fuzzed --steps, --repeat or --k that parses as a large count is capped.
  for (const f of ["--steps", "--repeat", "--k"]) {
    args.forEach((a, j) => {
      if (a === f && Number(args[j + 1]) > 8) args[j + 1] = "3";
    });
  }
  return args;
}

const CASES = 300;

Deno.test(`property: ${CASES} malformed command lines exit 0 or 2 with ≤ 3 stderr lines`, async () => {
  const r = rng(20261130);
  const codes: Record<string, number> = {};
  // Fuzzed relative paths (--out 0, --out -1) land in the temp dir, not the repository.
  const cwd = Deno.cwd();
  Deno.chdir(dir);
  try {
    for (let i = 0; i < CASES; i++) {
      const args = await fuzzCase(r, i);
      const o = await inProcess(args);
      assertContract(o, `case ${i}: ${JSON.stringify(args)}`);
      codes[String(o.code)] = (codes[String(o.code)] ?? 0) + 1;
    }
  } finally {
    Deno.chdir(cwd);
  }
  console.log(`exit codes: ${JSON.stringify(codes)}`);
  assert.ok((codes["2"] ?? 0) > CASES / 2, "most cases are refused");
});

Deno.test("property, as processes: a seeded sample of the cases keeps the contract", async () => {
  const r = rng(99);
  for (let i = 0; i < 8; i++) {
    const args = await fuzzCase(r, 1000 + i);
    // A process's arguments cannot hold a NUL byte.
    if (args.some((a) => a.includes("\0"))) continue;
    const p = await runDeno([...CLI.slice(0, -1), `${ROOT}cli/main.ts`, ...args], dir);
    assertContract(
      { code: p.code, stderr: p.stderr.split("\n") },
      `process ${i}: ${JSON.stringify(args)}`,
    );
  }
});
