/** Training runs: the convergence diagnostics of the seed paper in log.jsonl and the report. */
import assert from "node:assert/strict";
import { averageBeta } from "../src/adam_phase.ts";
import { Trainer } from "../src/trainer.ts";
import { loadModel } from "../src/model.ts";
import { samplePoints } from "../src/points.ts";
import { evaluationGrid } from "../src/problems/problem.ts";
import { wave } from "../src/problems/mod.ts";
import { forwardChannels, lossAndGradient } from "../src/reference/mlp64.ts";
import { assertAllClose, assertClose } from "./assert_close.ts";
import { moduleEngine } from "./gpu_helpers.ts";
import { smallWave, tempRun } from "./small_run.ts";

const engine = await moduleEngine();

Deno.test({
  name: "run: gradient descent with exact weights logs running averages of ‖R‖² and ‖∇L‖²",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { out, metrics, log } = await tempRun(
      engine,
      smallWave({ optimizer: "gd", lr: 1e-3, weighting: "exact", steps: 30, logEvery: 5 }),
    );
    assert.equal(metrics.steps, 30);
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
    // The convergence chart plots the logged running means.
    const spec = JSON.parse(await Deno.readTextFile(`${out}/convergence.vl.json`));
    const grad = spec.data.values.filter((r: { series: string }) => r.series === "‖∇L‖²");
    assert.deepEqual(
      grad.map((r: { x: number; y: number }) => [r.x, r.y]),
      log.map((r) => [r.step, r.avg_grad_norm_sq]),
    );
    await Deno.remove(out, { recursive: true });
  },
});

Deno.test({
  name:
    "parameter average: a warmed-up EMA of the raw parameters from θ1, and the model that is evaluated",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const beta = 0.7;
    await using t = await Trainer.create(
      engine,
      smallWave({ weighting: "none", lr: 1e-2, average: beta }),
    );
    assert.deepEqual(await t.modelParams(), await t.params(), "the average starts at θ0");
    // The warm-up β_t = min(β, (t − 1)/(t + 9)) in float64 from the raw parameters;
    // β_t reaches β = 0.7 at t = 24.
    const avg = new Float64Array((await t.params()).length);
    for (let s = 1; s <= 30; s++) {
      await t.advance();
      const p = await t.params();
      const b = Math.min(beta, (s - 1) / (s + 9));
      for (let i = 0; i < p.length; i++) avg[i] = b * avg[i] + (1 - b) * p[i];
      const model = await t.modelParams();
      assertAllClose(model, avg, { rtol: 1e-5, atol: 1e-6, name: `average after ${s} steps` });
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

Deno.test("averageBeta: 0 at the first update, a window of about a tenth of the steps, then β", () => {
  assert.equal(averageBeta(0.995, 1), 0);
  assert.equal(averageBeta(0.995, 11), 0.5);
  assertClose(averageBeta(0.995, 300), 299 / 309, { rtol: 1e-15 });
  assert.equal(averageBeta(0.995, 1e6), 0.995);
});

Deno.test({
  name:
    "parameter average: metrics, the log and model.json agree (every figure is the saved model's)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { out, metrics, log } = await tempRun(
      engine,
      smallWave({ weighting: "exact", resample: 0, steps: 20, logEvery: 10, average: 0.995 }),
      { noReport: true },
    );
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
