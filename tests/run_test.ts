/** Training runs: the convergence diagnostics of the seed paper in log.jsonl and the report. */
import assert from "node:assert/strict";
import { runTraining } from "../src/run.ts";
import { DEFAULT_CONFIG, Trainer } from "../src/trainer.ts";
import { evaluationGrid } from "../src/problems/problem.ts";
import { wave } from "../src/problems/mod.ts";
import { forwardChannels } from "../src/reference/mlp64.ts";
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
      assertClose(r.residual_sq!, Object.values(r.loss).reduce((a, b) => a + b, 0), {
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
  name: "parameter average: the EMA of the raw parameters, and the model that is evaluated",
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
    const avg = Float64Array.from(await t.params());
    assert.deepEqual(await t.modelParams(), await t.params(), "the average starts at θ0");
    for (let s = 0; s < 6; s++) {
      await t.advance();
      const p = await t.params();
      for (let i = 0; i < p.length; i++) avg[i] = beta * avg[i] + (1 - beta) * p[i];
    }
    const model = await t.modelParams();
    assertAllClose(model, avg, { rtol: 1e-5, atol: 1e-7, name: "average" });
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
