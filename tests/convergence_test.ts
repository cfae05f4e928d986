/**
 * The convergence experiment's analysis (bench/convergence.ts): log–log slopes of
 * power laws, reading running averages from a run's log.jsonl, and the chart data.
 */
import assert from "node:assert/strict";
import { chartData, logLogSlope, readRun, slopeTable } from "../bench/convergence.ts";
import { assertClose } from "./assert_close.ts";

Deno.test("logLogSlope recovers power laws and ignores points before the fit range", () => {
  const x = Array.from({ length: 50 }, (_, i) => 10 * (i + 1));
  assertClose(logLogSlope(x, x.map((v) => 3 * v ** -0.5), 0), -0.5, { rtol: 1e-12 });
  assertClose(logLogSlope(x, x.map((v) => v ** -1), 0), -1, { rtol: 1e-12 });
  // A transient before `from` does not change the slope; zeros are skipped.
  const y = x.map((v) => (v < 100 ? 1e6 : 2 * v ** -0.8));
  y[30] = 0;
  assertClose(logLogSlope(x, y, 100), -0.8, { rtol: 1e-12 });
});

Deno.test("readRun fits the running averages of log.jsonl; chartData keeps them per problem", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const lines = Array.from({ length: 20 }, (_, i) => {
      const step = 10 * (i + 1);
      return JSON.stringify({
        step,
        weights: { r: 1.5, u: 4 },
        avg_residual_sq: 5 * step ** -0.3,
        avg_grad_norm_sq: 7 * step ** -1,
      });
    });
    Deno.writeTextFileSync(`${dir}/log.jsonl`, lines.join("\n") + "\n");
    const run = readRun(dir, {
      problem: "wave",
      weighting: "pc",
      sizes: "2,8,1",
      n: "r=4",
      lr: 0.1,
    });
    assert.equal(run.fitFrom, 20);
    assertClose(run.slopes.residual, -0.3, { rtol: 1e-9 });
    assertClose(run.slopes.gradient, -1, { rtol: 1e-9 });
    assert.deepEqual(run.weights, { r: 1.5, u: 4 });
    const c = chartData("wave", [run, { ...run, problem: "qtensor" }]);
    assert.equal(c.series.length, 2);
    assert.equal(c.series[0].x[1], 20);
    assert.ok(c.options.logX && c.options.logY);
    assert.ok(c.series[1].name.includes("slope -1.00"));
    assert.ok(slopeTable([run]).includes("| wave | pc | 0.1 | 200 |"));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
