/**
 * Systems (networks with several outputs) end to end: `eval` and `predict` on a
 * kovasznay model against the float64 reference, runs with a closed-form
 * solution (stacked and per-output errors, one picture per output), with a
 * `reference` hook in place of `exact`, and without any solution (no error,
 * residual norms and a note), problem validation of outputs, the full NTK and
 * the pc and Hutchinson estimators on a system, and bitwise resume of a system
 * with pc weights, causal weights and the parameter average.
 */
import assert from "node:assert/strict";
import { saveModel } from "../src/model.ts";
import { samplePoints } from "../src/points.ts";
import { kovasznay, validateProblem } from "../src/problems/mod.ts";
import { evaluationGrid, gridSolution, type Problem } from "../src/problems/problem.ts";
import { E } from "../src/problems/expr.ts";
import { runTraining } from "../src/run.ts";
import { NO_SOLUTION } from "../src/run_report.ts";
import { DEFAULT_CONFIG } from "../src/train_config.ts";
import { UserError } from "../src/errors.ts";
import * as ref from "../src/reference/mlp64.ts";
import { assertRelInf, flatten, moduleEngine, sys2, testParams } from "./gpu_helpers.ts";
import { assertAllClose } from "./assert_close.ts";
import { Plan } from "../src/plan.ts";
import { estimateTraces } from "../src/ntk.ts";
import { rademacherAt, Stream } from "../src/random.ts";
import { assertExitOk, CLI, runDeno } from "./process.ts";

const engine = await moduleEngine();
const test = (name: string, fn: () => Promise<void> | void) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

const dir = await Deno.makeTempDir({ prefix: "sketchpinn_sys_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const sizes = [2, 16, 16, 3];
const params = testParams(sizes, 7);
const modelPath = `${dir}/kov.json`;
await saveModel(modelPath, { problem: "kovasznay", sizes, activation: "tanh", params });

test("eval: kovasznay residuals and gradient match the float64 reference", async () => {
  const counts = { mx: 40, my: 33, div: 17, bu: 9, bv: 12, bp: 5 };
  const points = samplePoints(kovasznay, counts, 3);
  const pointsPath = `${dir}/kov_points.json`;
  await Deno.writeTextFile(pointsPath, JSON.stringify(points));
  const r = assertExitOk(
    await runDeno([...CLI, "eval", "--model", modelPath, "--points", pointsPath, "--json"]),
    "eval",
  );
  const got = JSON.parse(r.stdout);
  const r64 = ref.residuals(kovasznay, sizes, "tanh", params, points);
  const names = Object.keys(counts);
  assertRelInf(flatten(got.residuals, names), flatten(r64, names), 1e-4, "residuals");
  const lg = ref.lossAndGradient(kovasznay, sizes, "tanh", params, points);
  assertRelInf(got.gradient, lg.gradient, 1e-3, "gradient");
});

test("predict: every output at listed points and at a points file's points", async () => {
  const xs = [[0, 0], [-0.5, 1.5], [0.7, -0.2], [1, 0.3]];
  const listPath = `${dir}/list.json`;
  await Deno.writeTextFile(listPath, JSON.stringify(xs));
  const r = assertExitOk(
    await runDeno([...CLI, "predict", "--model", modelPath, "--points", listPath, "--json"]),
    "predict",
  );
  const got = JSON.parse(r.stdout);
  assert.deepEqual(got.outputs, ["u", "v", "p"]);
  assert.equal(got.values.length, xs.length);
  xs.forEach((x, i) => {
    const want = ref.forwardChannels(sizes, "tanh", params, x, { first: [], numSecond: 0 });
    assertRelInf(got.values[i], want, 1e-5, `point ${i}`);
  });
  // A points file: its groups in file order.
  const filePath = `${dir}/groups.json`;
  await Deno.writeTextFile(filePath, JSON.stringify({ bp: [xs[3]], mx: [xs[0], xs[1]] }));
  const f = assertExitOk(
    await runDeno([...CLI, "predict", "--model", modelPath, "--points", filePath, "--json"]),
    "predict file",
  );
  const rows = JSON.parse(f.stdout).values;
  assert.equal(rows.length, 3);
  assertRelInf(rows[0], got.values[3], 1e-6, "first row is bp's point");
  assertRelInf(rows[2], got.values[1], 1e-6, "last row is mx's second point");
  // A point of the wrong dimension is exit code 2 and one sentence.
  await Deno.writeTextFile(listPath, JSON.stringify([[0, 0, 0]]));
  const bad = await runDeno([...CLI, "predict", "--model", modelPath, "--points", listPath]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /point 0 must be a list of 2 finite numbers/);
});

test("run: kovasznay reports the stacked and per-output errors and draws every output", async () => {
  const out = `${dir}/kov_run`;
  const { metrics } = await runTraining(engine, {
    ...DEFAULT_CONFIG,
    problem: "kovasznay",
    sizes,
    n: { mx: 32, my: 32, div: 32, bu: 16, bv: 16, bp: 8 },
    weighting: "exact",
    steps: 4,
    then: "none", // kovasznay recommends an L-BFGS phase; this run checks the metrics only
    logEvery: 2,
  }, { out });
  assert.deepEqual(Object.keys(metrics.rel_l2_outputs!), ["u", "v", "p"]);
  const o = Object.values(metrics.rel_l2_outputs!);
  assert.ok(o.every((v) => v > 0 && Number.isFinite(v)));
  // The stacked error lies between the smallest and largest per-output ones.
  assert.ok(metrics.rel_l2! >= Math.min(...o) && metrics.rel_l2! <= Math.max(...o));
  assert.ok((await Deno.stat(`${out}/solution.png`)).size > 1000);
  assert.match(await Deno.readTextFile(`${out}/report.md`), /relative L2 error p/);
});

/** sys2 with its closed form given as a `reference` on the grid instead of `exact`. */
const withReference: Problem = {
  ...sys2,
  exact: undefined,
  reference: () => gridSolution(sys2).then((s) => s!),
};

test("run: a reference solution scores the run as the closed form does", async () => {
  const cfg = {
    ...DEFAULT_CONFIG,
    sizes: [2, 8, 2],
    n: { a: 16, b: 16, c: 8, d: 8 },
    weighting: "none" as const,
    steps: 3,
    logEvery: 3,
  };
  const a = await runTraining(engine, { ...cfg, problem: sys2 }, { out: `${dir}/exact` });
  const b = await runTraining(engine, { ...cfg, problem: withReference }, { out: `${dir}/ref` });
  assert.ok(a.metrics.rel_l2! > 0);
  assert.equal(b.metrics.rel_l2, a.metrics.rel_l2);
  assert.deepEqual(b.metrics.rel_l2_outputs, a.metrics.rel_l2_outputs);
  assert.equal(
    evaluationGrid(sys2).length,
    (await gridSolution(withReference))![1].length,
  );
});

test("run: without exact nor reference, metrics carry no error and say why", async () => {
  const out = `${dir}/none`;
  const { metrics } = await runTraining(engine, {
    ...DEFAULT_CONFIG,
    problem: { ...sys2, exact: undefined },
    sizes: [2, 8, 2],
    n: { a: 16, b: 16, c: 8, d: 8 },
    weighting: "pc",
    steps: 3,
    logEvery: 3,
  }, { out });
  assert.equal(metrics.rel_l2, null);
  assert.equal(metrics.rel_l2_outputs, null);
  assert.equal(metrics.note, NO_SOLUTION);
  assert.deepEqual(Object.keys(metrics.residual_rms), ["a", "b", "c", "d"]);
  const saved = JSON.parse(await Deno.readTextFile(`${out}/metrics.json`));
  assert.equal(saved.rel_l2, null);
  assert.match(await Deno.readTextFile(`${out}/report.md`), /no error can be computed/);
  assert.ok((await Deno.stat(`${out}/solution.png`)).size > 500);
});

test("validateProblem: outputs, output indices and the exact solution's shape", () => {
  const base = { ...sys2 } as Record<string, unknown>;
  const bad = (p: Record<string, unknown>, re: RegExp) =>
    assert.throws(() => validateProblem(p, "test.ts"), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, re);
      return true;
    });
  validateProblem(base, "test.ts");
  validateProblem({ ...base, exact: undefined }, "test.ts");
  bad({ ...base, outputs: ["u", "u"] }, /"outputs" must list distinct output names/);
  bad({ ...base, sizes: [2, 8, 1] }, /output count 2/);
  bad({ ...base, exact: () => 1 }, /an array of the 2 outputs/);
  bad({
    ...base,
    groups: [{ ...sys2.groups[0], residual: E.du(0, 2) }],
  }, /reads output 2, but the problem has outputs 0 to 1/);
  bad({ ...base, reference: 3 }, /"reference" must be an async function/);
});

test("sys2: full NTK, pc against jvp with the same directions, and hutch against float64", async () => {
  const problem = sys2, sizes2 = [2, 9, 7, 2], activation = "tanh" as const;
  const counts = { a: 11, b: 9, c: 5, d: 3 };
  const params2 = testParams(sizes2, 4);
  const points = samplePoints(problem, counts, 6);
  await using plan = await Plan.create(engine, {
    problem,
    sizes: sizes2,
    activation,
    counts,
    directions: 4,
    tangents: true,
  });
  plan.setParams(params2);
  plan.setPoints(points);
  const { order, K } = ref.fullNtk(problem, sizes2, activation, params2, points);
  const gpu = await plan.fullNtk();
  const scale = Math.max(...Array.from(K, Math.abs));
  assertAllClose(gpu.K, K, { atol: 1e-5 * scale, rtol: 0, name: "full NTK" });
  // pc (central, small Δt) and jvp draw the same directions for the same seed and step.
  const jvp = await estimateTraces(plan, { method: "jvp", k: 4, seed: 8, step: 2 });
  const pc = await estimateTraces(plan, {
    method: "pc",
    k: 4,
    seed: 8,
    step: 2,
    dt: 1e-3,
    central: true,
  });
  for (const g of Object.keys(counts)) {
    assertAllClose([pc[g]], [jvp[g]], { rtol: 1e-2, name: `pc vs jvp ${g}` });
  }
  // One Hutchinson sample equals z_jᵀ(K z)_j of the float64 NTK with the same z.
  const seed = 9, dt = 1e-4;
  const h = await estimateTraces(plan, { method: "hutch", k: 1, seed, step: 0, dt });
  const off = Object.fromEntries(plan.batch.groups.map((g) => [g.name, g.pointOff]));
  const z = order.map((o) => rademacherAt(seed, Stream.residual, 0, 0, off[o.group] + o.index));
  const n = order.length;
  const est: Record<string, number> = {}, mag: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const g = order[i].group;
    for (let k = 0; k < n; k++) {
      est[g] = (est[g] ?? 0) + z[i] * K[i * n + k] * z[k];
      mag[g] = (mag[g] ?? 0) + Math.abs(K[i * n + k]);
    }
  }
  for (const g of Object.keys(counts)) {
    assert.ok(Math.abs(h[g] - est[g]) <= 2e-3 * mag[g], `hutch ${g}: ${h[g]} vs ${est[g]}`);
  }
});

test("run: a system resumed from a checkpoint ends bit for bit as an uninterrupted run", async () => {
  // --resume finds a problem again through its module file.
  const module = `${dir}/sys3x4.ts`;
  await Deno.writeTextFile(
    module,
    `export { sys3x4 as problem } from ${
      JSON.stringify(new URL("./gpu_helpers.ts", import.meta.url).href)
    };\n`,
  );
  const cfg = {
    ...DEFAULT_CONFIG,
    problem: module,
    sizes: [4, 8, 8, 3],
    n: { m: 16, n: 16, div: 8, bp: 8 },
    weighting: "pc" as const,
    causal: 0.5,
    chunks: 4,
    average: 0.9,
    steps: 6,
    logEvery: 3,
  };
  const whole = `${dir}/whole`, split = `${dir}/split`;
  await runTraining(engine, cfg, { out: whole, noReport: true });
  await runTraining(engine, { ...cfg, steps: 3 }, { out: split, noReport: true });
  await runTraining(engine, cfg, { out: split, resume: true, noReport: true });
  const a = JSON.parse(await Deno.readTextFile(`${whole}/model.json`));
  const b = JSON.parse(await Deno.readTextFile(`${split}/model.json`));
  assert.deepEqual(b.params, a.params);
  // The second call continued the first (a fresh start would log step 3 again).
  const steps = (await Deno.readTextFile(`${split}/log.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l).step
  );
  assert.deepEqual(steps, [3, 6]);
});
