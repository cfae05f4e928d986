/** Training runs: the convergence diagnostics of the seed paper in log.jsonl and the report. */
import assert from "node:assert/strict";
import { runTraining } from "../src/run.ts";
import { averageBeta, DEFAULT_CONFIG, Trainer } from "../src/trainer.ts";
import { loadModel } from "../src/model.ts";
import { samplePoints } from "../src/points.ts";
import { evaluationGrid } from "../src/problems/problem.ts";
import { wave } from "../src/problems/mod.ts";
import { forwardChannels, lossAndGradient } from "../src/reference/mlp64.ts";
import type { LogRecord } from "../src/trainer.ts";
import { assertAllClose, assertClose } from "./assert_close.ts";
import { moduleEngine } from "./gpu_helpers.ts";

const engine = await moduleEngine();

Deno.test({
  name: "run: gradient descent with exact weights logs running averages of ‖R‖² and ‖∇L‖²",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const out = await Deno.makeTempDir();
    const { metrics } = await runTraining(engine, {
      ...DEFAULT_CONFIG,
      sizes: [2, 12, 12, 1],
      n: { r: 48, u: 16, ut: 16 },
      optimizer: "gd",
      lr: 1e-3,
      weighting: "exact",
      steps: 30,
      logEvery: 5,
    }, { out });
    assert.equal(metrics.steps, 30);
    const log: LogRecord[] = (await Deno.readTextFile(`${out}/log.jsonl`)).trim().split("\n").map((
      l,
    ) => JSON.parse(l));
    assert.equal(log.length, 6);
    let sr = 0, sg = 0;
    log.forEach((r, i) => {
      assert.ok(r.residual_sq! > 0 && r.grad_norm_sq! > 0, `step ${r.step}`);
      sr += r.residual_sq!;
      sg += r.grad_norm_sq!;
      assertClose(r.avg_residual_sq!, sr / (i + 1), { rtol: 1e-12 });
      assertClose(r.avg_grad_norm_sq!, sg / (i + 1), { rtol: 1e-12 });
      // The diagnostics are the training iterate's: its own losses (train_loss when
      // the model is the parameter average, which wave recommends).
      const own = r.train_loss ?? r.loss;
      assertClose(r.residual_sq!, Object.values(own).reduce((a, b) => a + b, 0), {
        rtol: 1e-12,
      });
    });
    const report = await Deno.readTextFile(`${out}/report.md`);
    assert.match(report, /convergence\.png/);
    assert.ok((await Deno.stat(`${out}/convergence.png`)).size > 1000);
    await Deno.remove(out, { recursive: true });
  },
});

Deno.test({
  name:
    "parameter average: the bias-corrected EMA of the raw parameters, and the model that is evaluated",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const beta = 0.7;
    await using t = await Trainer.create(engine, {
      ...DEFAULT_CONFIG,
      sizes: [2, 12, 12, 1],
      n: { r: 48, u: 16, ut: 16 },
      weighting: "none",
      lr: 1e-2,
      average: beta,
    });
    assert.deepEqual(await t.modelParams(), await t.params(), "the average starts at θ0");
    // Adam's bias correction: m_t = β m_(t−1) + (1 − β) θ_t from m_0 = 0, model m_t / (1 − β^t).
    const m = new Float64Array((await t.params()).length);
    for (let s = 1; s <= 6; s++) {
      await t.advance();
      const p = await t.params();
      for (let i = 0; i < p.length; i++) m[i] = beta * m[i] + (1 - beta) * p[i];
      const want = m.map((v) => v / (1 - beta ** s));
      const model = await t.modelParams();
      assertAllClose(model, want, { rtol: 1e-5, atol: 1e-7, name: `average after ${s} steps` });
      if (s === 1) assert.deepEqual(model, p, "after one step the average is θ1, not θ0");
    }
    const model = await t.modelParams();
    const raw = await t.params();
    assert.ok(raw.some((v, i) => Math.abs(v - model[i]) > 1e-4), "average equals θ");
    // The error is the average's: the grid prediction matches the float64 reference at it.
    const u = await t.predictGrid();
    const grid = evaluationGrid(wave);
    const want = grid.map((x) =>
      forwardChannels([2, 12, 12, 1], "tanh", model, x, { first: [], numSecond: 0 })[0]
    );
    assertAllClose(u, want, { rtol: 1e-4, atol: 1e-5, name: "grid prediction" });
  },
});

Deno.test("averageBeta: β_t = β(1 − β^(t−1))/(1 − β^t), 0 at the first update, → β", () => {
  assert.equal(averageBeta(0.995, 1), 0);
  assertClose(averageBeta(0.995, 2), 0.995 * 0.005 / (1 - 0.995 ** 2), { rtol: 1e-15 });
  assertClose(averageBeta(0.995, 1e6), 0.995, { rtol: 1e-15 });
});

Deno.test({
  name:
    "parameter average: metrics, the log and model.json agree (every figure is the saved model's)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const out = await Deno.makeTempDir();
    const { metrics } = await runTraining(engine, {
      ...DEFAULT_CONFIG,
      sizes: [2, 12, 12, 1],
      n: { r: 48, u: 16, ut: 16 },
      weighting: "exact",
      resample: 0,
      steps: 20,
      logEvery: 10,
      average: 0.995,
    }, { out, noReport: true });
    const log: LogRecord[] = (await Deno.readTextFile(`${out}/log.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l));
    const last = log.at(-1)!;
    assert.ok(last.train_loss, "the raw parameters' losses are kept, labelled train_loss");
    // The saved model evaluated on the run's points (resample 0: one point set) in float64.
    const model = await loadModel(`${out}/model.json`);
    const points = samplePoints(wave, { r: 48, u: 16, ut: 16 }, 0, 0, "sobol");
    const { lossPerGroup } = lossAndGradient(wave, model.sizes, "tanh", model.params, points, {});
    for (const g of ["r", "u", "ut"]) {
      assertClose(metrics.loss[g], lossPerGroup[g], { rtol: 1e-3, name: `metrics loss ${g}` });
      assertClose(last.loss[g], lossPerGroup[g], { rtol: 1e-3, name: `logged loss ${g}` });
    }
    assertClose(last.rel_l2!, metrics.rel_l2!, { rtol: 1e-6 });
    await Deno.remove(out, { recursive: true });
  },
});
