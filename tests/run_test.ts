/** Training runs: the convergence diagnostics of the seed paper in log.jsonl and the report. */
import assert from "node:assert/strict";
import { runTraining } from "../src/run.ts";
import { DEFAULT_CONFIG } from "../src/trainer.ts";
import type { LogRecord } from "../src/trainer.ts";
import { assertClose } from "./assert_close.ts";
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
