/** Direction chunks that would overflow one GPU binding are made smaller, not refused. */
import assert from "node:assert/strict";
import { Engine } from "../src/engine.ts";
import { Plan } from "../src/plan.ts";
import { getProblem } from "../src/problems/mod.ts";
import { xavierInit } from "../src/model.ts";
import { samplePoints } from "../src/points.ts";
import { estimateTraces } from "../src/ntk.ts";

Deno.test({
  name: "ntk: jvp directions are chunked to fit the adapter's binding limit",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    using engine = await Engine.create();
    const wave = getProblem("wave");
    const sizes = [2, 64, 1];
    const counts = { r: 64, u: 16, ut: 16 };
    const plan = await Plan.create(engine, {
      problem: wave,
      sizes,
      activation: "tanh",
      counts,
      directions: 16,
      tangents: true,
    });
    const perDirection = 4 * 64 * plan.batch.cols;
    const fit = Math.floor(engine.maxBinding / perDirection);
    assert.equal(plan.directions, Math.min(16, fit));
    plan.setParams(xavierInit(sizes, 1));
    plan.setPoints(samplePoints(wave, counts, 1));
    // k larger than a chunk: the estimate loops over chunks and stays finite and positive.
    const t = await estimateTraces(plan, { method: "jvp", k: plan.directions + 3, seed: 2 });
    assert.ok(Object.values(t).every((v) => Number.isFinite(v) && v > 0), JSON.stringify(t));
    await plan.dispose();
  },
});
