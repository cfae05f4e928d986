/**
 * Output transforms end to end: `predict` maps a hard-constrained qtensor network
 * to Q (against the float64 forward pass and the transform), a model trained
 * through another transform is refused by `predict` and `--resume`, and a run's
 * metrics measure the transformed outputs.
 *
 * The GPU tests need a WebGPU adapter: `Engine.create()` throws without one.
 */
import assert from "node:assert/strict";
import { loadModel, saveModel } from "../src/model.ts";
import { predict } from "../src/predict.ts";
import { evaluationGrid, gridSolution } from "../src/problems/problem.ts";
import { qtensor, qtensorProblem } from "../src/problems/qtensor.ts";
import * as ref from "../src/reference/mlp64.ts";
import { runTraining } from "../src/run.ts";
import { qtensorInitial } from "../src/solvers/qtensor.ts";
import { DEFAULT_CONFIG } from "../src/train_config.ts";
import { UserError } from "../src/errors.ts";
import { assertRelInf, moduleEngine, testParams } from "./gpu_helpers.ts";
import { assertExitOk, CLI, runDeno } from "./process.ts";

const engine = await moduleEngine();
const test = (name: string, fn: () => Promise<void> | void) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

const dir = await Deno.makeTempDir({ prefix: "sketchpinn_transform_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const sizes = [3, 12, 12, 2];
const params = testParams(sizes, 4);

test("predict: a hard-constrained qtensor model gives Q(0) + t² x(2 − x)y(2 − y)·N", async () => {
  const modelPath = `${dir}/q.json`;
  const doc = qtensor.transform!.doc;
  await saveModel(modelPath, {
    problem: "qtensor",
    sizes,
    activation: "tanh",
    params,
    transform: doc,
  });
  const xs = [[0, 0.4, 1.3], [0.5, 0.7, 1.9], [1, 1.2, 0.3], [0.25, 2, 0.6]];
  const listPath = `${dir}/list.json`;
  await Deno.writeTextFile(listPath, JSON.stringify(xs));
  const r = assertExitOk(
    await runDeno([...CLI, "predict", "--model", modelPath, "--points", listPath, "--json"]),
    "predict",
  );
  const got = JSON.parse(r.stdout).values as number[][];
  xs.forEach(([t, x, y], i) => {
    const n = ref.forwardChannels(sizes, "tanh", params, [t, x, y], { first: [], numSecond: 0 });
    const q0 = qtensorInitial(x, y), b = t * t * x * (2 - x) * y * (2 - y);
    assertRelInf(got[i], [q0[0] + b * n[0], q0[1] + b * n[1]], 1e-5, `point ${i}`);
  });
  // The library call maps the same way.
  const lib = await predict(engine, qtensor, { sizes, activation: "tanh", params }, xs);
  xs.forEach((_, i) => assertRelInf([lib[0][i], lib[1][i]], got[i], 1e-6, `library point ${i}`));
  // A model trained without the transform (the soft formulation's file) is refused.
  const plain = `${dir}/plain.json`;
  await saveModel(plain, { problem: "qtensor", sizes, activation: "tanh", params });
  const bad = await runDeno([...CLI, "predict", "--model", plain, "--points", listPath]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /plain\.json was trained through no output transform, but problem qtensor now has "Q = Q\(0\) \+ t² x\(2 − x\)y\(2 − y\)·N"; .*train it again/,
  );
  const soft = `${dir}/soft.json`;
  await saveModel(soft, {
    problem: "qtensor-soft",
    sizes,
    activation: "tanh",
    params,
    transform: doc,
  });
  const bad2 = await runDeno([...CLI, "predict", "--model", soft, "--points", listPath]);
  assert.equal(bad2.code, 2);
  assert.match(bad2.stderr, /but problem qtensor-soft now has no output transform/);
});

test("run: metrics measure the transformed outputs; the model records the transform; resume checks it", async () => {
  const problem = qtensorProblem({ T: 0.1 });
  const out = `${dir}/run`;
  const config = {
    ...DEFAULT_CONFIG,
    problem,
    sizes,
    n: { r1: 16, r2: 16 },
    weighting: "none" as const,
    steps: 6,
    then: "none" as const, // qtensor recommends an L-BFGS phase; this run checks the metrics only
    logEvery: 3,
    checkpointEvery: 3,
  };
  const { metrics } = await runTraining(engine, config, { out });
  const model = await loadModel(`${out}/model.json`);
  assert.equal(model.transform, problem.transform!.doc);
  // rel_l2 from the model's own predictions on the grid, mapped through the transform.
  const grid = evaluationGrid(problem);
  const [q1, q2] = await predict(engine, problem, model, grid);
  const [r1, r2] = (await gridSolution(problem, grid))!;
  let num = 0, den = 0;
  grid.forEach((_, i) => {
    num += (q1[i] - r1[i]) ** 2 + (q2[i] - r2[i]) ** 2;
    den += r1[i] ** 2 + r2[i] ** 2;
  });
  assertRelInf([metrics.rel_l2!], [Math.sqrt(num / den)], 1e-4, "rel_l2");
  // At t = 0 the prediction is Q(0) whatever the network learnt.
  grid.forEach(([t, x, y], i) => {
    if (t !== 0) return;
    const [a, b] = qtensorInitial(x, y);
    assertRelInf([q1[i], q2[i]], [a, b], 1e-6, `t = 0 at ${x}, ${y}`);
  });
  // A checkpoint that names another transform is not resumed; the program's own
  // problem object resumes it (a problem defined in a program, not a module).
  const text = await Deno.readTextFile(`${out}/model.json`);
  await Deno.writeTextFile(
    `${out}/model.json`,
    JSON.stringify({ ...JSON.parse(text), transform: "Q = N" }),
  );
  await assert.rejects(
    () => runTraining(engine, { ...config, steps: 9 }, { out, resume: true, noReport: true }),
    (e: unknown) => e instanceof UserError && /trained through "Q = N"/.test(e.message),
  );
  await Deno.writeTextFile(`${out}/model.json`, text);
  const more = await runTraining(engine, { ...config, steps: 9 }, {
    out,
    resume: true,
    noReport: true,
  });
  assert.equal(more.metrics.steps, 9);
  await assert.rejects(
    () =>
      runTraining(engine, { ...config, problem: qtensorProblem({ T: 0.2 }), steps: 12 }, {
        out,
        resume: true,
      }),
    (e: unknown) =>
      e instanceof UserError &&
      /trained on problem "qtensor-T0.1", not "qtensor-T0.2"/.test(e.message),
  );
});
