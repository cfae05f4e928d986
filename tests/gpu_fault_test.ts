/** GPU faults end in one sentence naming the GPU; a lost device is reported, not hung on. */
import assert from "node:assert/strict";
import { Engine } from "../src/engine.ts";
import { Plan } from "../src/plan.ts";
import { getProblem } from "../src/problems/mod.ts";
import { xavierInit } from "../src/model.ts";
import { samplePoints } from "../src/points.ts";
import { UserError } from "../src/errors.ts";

Deno.test({
  name: "gpu fault: an uncaptured validation error stops the next submit with a UserError",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    using engine = await Engine.create();
    const wave = getProblem("wave");
    const counts = { r: 16, u: 16, ut: 16 };
    const plan = await Plan.create(engine, {
      problem: wave,
      sizes: [2, 8, 1],
      activation: "tanh",
      counts,
    });
    plan.setParams(xavierInit([2, 8, 1], 0));
    plan.setPoints(samplePoints(wave, counts, 0));
    await plan.evaluate(false);
    // A destroyed buffer in a planned bind group is a validation error at submit.
    plan.b.res.destroy();
    engine.submit("faulty", plan.forward, plan.residual);
    await engine.device.queue.onSubmittedWorkDone();
    await new Promise((r) => setTimeout(r, 50));
    assert.throws(
      () => engine.submit("after", plan.forward),
      (e: unknown) =>
        e instanceof UserError && e.input === "GPU" && /GPU reported an error/.test(e.message),
    );
  },
});
