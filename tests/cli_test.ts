/**
 * The CLI end to end, each command run as a child process the way a user runs it
 * (design §5): `init` → `points` → `eval --json` against the float64 reference
 * (with λ = 1 and with `--weights`), `ntk --json` (exact against the reference
 * traces and weights; jvp with `--repeat` carrying standard errors), `train
 * --json` writing the run folder and printing its metrics, human-readable output
 * without `--json`, progress on stderr only, and `--help` for every command.
 *
 * Small networks and point sets keep the whole file to seconds on a software
 * adapter; each child pays a process start and a GPU initialisation.
 */
import assert from "node:assert/strict";
import { loadModel, saveModel } from "../src/model.ts";
import { defaultLogEvery } from "../src/train_config.ts";
import type { Points } from "../src/points.ts";
import { wave } from "../src/problems/mod.ts";
import * as ref from "../src/reference/mlp64.ts";
import { assertRelInf, flatten, testParams } from "./gpu_helpers.ts";
import { assertExitOk, cli, type Run } from "./process.ts";

/** Tolerances, relative in the ∞-norm (‖gpu − ref‖∞ / max(1, ‖ref‖∞)). */
const TOL = { residual: 1e-4, loss: 1e-3, gradient: 1e-3, traces: 1e-3 };

const SIZES = "2,16,16,1";
const N = "r=64,u=32,ut=32";
const GROUPS = wave.groups.map((g) => g.name);

/** Runs the CLI and asserts exit code 0, showing stderr otherwise. */
const ok = async (...args: string[]): Promise<Run> =>
  assertExitOk(await cli(...args), args.join(" "));

/** Parses stdout as exactly one JSON document on one line. */
function oneJson(r: Run): Record<string, unknown> {
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 1, `stdout must be one JSON line, got:\n${r.stdout}`);
  return JSON.parse(lines[0]);
}

const dir = await Deno.makeTempDir({ prefix: "sketchpinn_cli_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const modelPath = `${dir}/model.json`, pointsPath = `${dir}/points.json`;
await ok("init", "--sizes", SIZES, "--seed", "3", "--out", modelPath);
await ok("points", "--n", N, "--seed", "5", "--out", pointsPath);
const points: Points = JSON.parse(await Deno.readTextFile(pointsPath));

// A second model with non-zero biases and the sin activation, so the comparison
// exercises bias gradients and the other activation too.
const sinModelPath = `${dir}/model_sin.json`;
await saveModel(sinModelPath, {
  problem: "wave",
  sizes: [2, 16, 16, 1],
  activation: "sin",
  params: testParams([2, 16, 16, 1], 11),
});

Deno.test("init and points write the requested files", async () => {
  const m = await loadModel(modelPath);
  assert.equal(m.problem, "wave");
  assert.deepEqual(m.sizes, [2, 16, 16, 1]);
  assert.equal(m.activation, "tanh");
  assert.deepEqual(Object.keys(points).sort(), [...GROUPS].sort());
  assert.deepEqual(GROUPS.map((g) => points[g].length), [64, 32, 32]);
  for (const g of GROUPS) for (const p of points[g]) assert.equal(p.length, 2);
});

for (
  const [name, path, weights] of [
    ["λ = 1, init's model", modelPath, {}],
    ["--weights r=2,u=10, sin model with biases", sinModelPath, { r: 2, u: 10 }],
  ] as const
) {
  Deno.test(`eval --json matches the float64 reference (${name})`, async () => {
    const args = ["eval", "--model", path, "--points", pointsPath, "--json"];
    if (Object.keys(weights).length) args.push("--weights", "r=2,u=10");
    const out = oneJson(await ok(...args)) as {
      residuals: Record<string, number[]>;
      loss: number;
      gradient: number[];
    };
    assert.deepEqual(Object.keys(out.residuals).sort(), [...GROUPS].sort());
    assert.equal(typeof out.loss, "number");
    assert.ok(Array.isArray(out.gradient));
    const m = await loadModel(path);
    const r = ref.residuals(wave, m.sizes, m.activation, m.params, points);
    const lg = ref.lossAndGradient(wave, m.sizes, m.activation, m.params, points, weights);
    for (const g of GROUPS) assert.equal(out.residuals[g].length, points[g].length);
    assertRelInf(
      flatten(out.residuals, GROUPS),
      flatten(r, GROUPS),
      TOL.residual,
      "residuals",
    );
    assertRelInf([out.loss], [lg.loss], TOL.loss, "loss");
    assertRelInf(out.gradient, lg.gradient, TOL.gradient, "gradient");
  });
}

Deno.test("ntk --method exact --json matches the reference traces and weights", async () => {
  const out = oneJson(
    await ok("ntk", "--model", sinModelPath, "--points", pointsPath, "--method", "exact", "--json"),
  ) as {
    method: string;
    traces: Record<string, number>;
    means: Record<string, number>;
    weights: Record<string, number>;
  };
  assert.equal(out.method, "exact");
  const m = await loadModel(sinModelPath);
  const e = ref.ntkTraces(wave, m.sizes, m.activation, m.params, points);
  for (const key of ["traces", "means", "weights"] as const) {
    assert.deepEqual(Object.keys(out[key]).sort(), [...GROUPS].sort(), key);
    // Relative per entry: traces can be far above 1.
    for (const g of GROUPS) {
      assertRelInf([out[key][g] / e[key][g]], [1], TOL.traces, `${key}.${g}`);
    }
  }
});

Deno.test("ntk --method jvp --k 8 --repeat 3 --json reports standard errors", async () => {
  const out = oneJson(
    await ok(
      "ntk",
      "--model",
      modelPath,
      "--points",
      pointsPath,
      "--method",
      "jvp",
      "--k",
      "8",
      "--repeat",
      "3",
      "--json",
    ),
  ) as Record<string, Record<string, number>> & { method: string };
  assert.equal(out.method, "jvp");
  for (const key of ["traces", "means", "weights", "stderr"]) {
    assert.deepEqual(Object.keys(out[key]).sort(), [...GROUPS].sort(), key);
  }
  for (const g of GROUPS) {
    assert.ok(out.traces[g] > 0, `trace ${g}`);
    assert.ok(Number.isFinite(out.stderr[g]) && out.stderr[g] >= 0, `stderr ${g}`);
    // The spread of three k = 8 estimates is far below the trace itself.
    assert.ok(out.stderr[g] < out.traces[g], `stderr ${g} below the trace`);
  }
});

Deno.test("train --json writes the run folder and prints its metrics", async () => {
  const out = `${dir}/run`;
  const r = await ok(
    "train",
    "--sizes",
    SIZES,
    "--n",
    N,
    "--then",
    "none",
    "--steps",
    "6",
    "--log-every",
    "3",
    "--checkpoint-every",
    "3",
    "--out",
    out,
    "--json",
  );
  const metrics = oneJson(r);
  for (const k of ["problem", "steps", "wall_s", "rel_l2", "loss", "weights"]) {
    assert.ok(k in metrics, `metrics lack "${k}"`);
  }
  assert.equal(metrics.problem, "wave");
  assert.equal(metrics.steps, 6);
  assert.ok(Number.isFinite(metrics.rel_l2 as number));
  assert.deepEqual(Object.keys(metrics.loss as object).sort(), [...GROUPS].sort());
  assert.deepEqual(Object.keys(metrics.weights as object).sort(), [...GROUPS].sort());
  // Printed metrics are the content of metrics.json.
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${out}/metrics.json`)), metrics);
  const config = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
  assert.deepEqual(config.sizes, [2, 16, 16, 1]);
  const log = (await Deno.readTextFile(`${out}/log.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.deepEqual(log.map((l) => l.step), [3, 6]);
  const model = await loadModel(`${out}/model.json`);
  assert.equal((model.state as { step: number }).step, 6);
  assert.ok((await Deno.readTextFile(`${out}/report.md`)).startsWith("# sketchpinn run"));
  for (const name of ["solution", "loss", "convergence", "weights"]) {
    const bytes = await Deno.readFile(`${out}/${name}.png`);
    assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${name}.png is a PNG`);
    assert.match(await Deno.readTextFile(`${out}/${name}.svg`), /^<svg/);
    assert.ok(JSON.parse(await Deno.readTextFile(`${out}/${name}.vl.json`)).$schema);
  }
  const html = await Deno.readTextFile(`${out}/report.html`);
  assert.equal((html.match(/<figure/g) ?? []).length, 4, "report.html holds the four pictures");
  // Progress went to stderr, never to stdout.
  assert.match(r.stderr, /step 3\/6/);
  assert.match(r.stderr, /step 6\/6/);
  assert.doesNotMatch(r.stdout, /step \d/);
});

Deno.test("human-readable output (no --json) is not JSON", async () => {
  const runs = [
    await ok("eval", "--model", modelPath, "--points", pointsPath),
    await ok("ntk", "--model", modelPath, "--points", pointsPath),
    await ok("init", "--sizes", SIZES, "--out", `${dir}/m2.json`),
    await ok("points", "--n", N, "--out", `${dir}/p2.json`),
    await ok(
      "train",
      "--sizes",
      SIZES,
      "--n",
      N,
      "--then",
      "none",
      "--steps",
      "2",
      "--out",
      `${dir}/run_text`,
    ),
  ];
  for (const r of runs) {
    assert.ok(r.stdout.trim().length > 0, "prints something");
    assert.throws(() => JSON.parse(r.stdout), SyntaxError, `not JSON:\n${r.stdout}`);
  }
  assert.match(runs[0].stdout, /loss/);
  assert.match(runs[1].stdout, /NTK traces/);
  assert.match(runs[4].stdout, /relative L2 error/);
  assert.doesNotMatch(runs[4].stdout, /step \d+\/2/, "progress stays on stderr");
  assert.match(runs[4].stderr, /step 2\/2/);
  // Without --log-every a short run logs often enough to draw curves (here every step).
  const log = (await Deno.readTextFile(`${dir}/run_text/log.jsonl`)).trim().split("\n");
  assert.deepEqual(log.map((l) => JSON.parse(l).step), [1, 2]);
  assert.deepEqual([1, 99, 100, 300, 5000, 18000].map(defaultLogEvery), [1, 1, 2, 6, 100, 100]);
});

Deno.test("--help exits 0 for every command", async () => {
  for (const cmd of ["train", "eval", "ntk", "init", "points", "bench", "sweep"]) {
    const r = await ok(cmd, "--help");
    assert.ok(r.stdout.includes(cmd), `${cmd} --help names the command`);
  }
  for (const args of [["--help"], ["help"], []]) {
    const r = await ok(...args);
    assert.match(r.stdout, /Commands/);
  }
});

Deno.test("--backend: a bad value is exit code 2 naming the flag; gl is accepted", async () => {
  const bad = await cli("ntk", "--backend", "vulkn", "--model", modelPath, "--points", pointsPath);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--backend must be one of auto, gl, vulkan.*did you mean vulkan/);
  assert.doesNotMatch(bad.stderr, /\bat .*\.ts:\d+/);
  const r = await ok("ntk", "--backend=gl", "--model", modelPath, "--points", pointsPath, "--json");
  assert.ok(JSON.parse(r.stdout.trim().split("\n").at(-1)!).traces);
});
