/** The full NTK from the GPU (per-point gradients + the engine's product kernel) vs float64. */
import assert from "node:assert/strict";
import { Plan } from "../src/plan.ts";
import { getProblem } from "../src/problems/mod.ts";
import { xavierInit } from "../src/model.ts";
import { samplePoints } from "../src/points.ts";
import { fullNtk } from "../src/reference/mlp64.ts";
import { symmetricEigenvalues } from "../src/linalg.ts";
import { assertAllClose } from "./assert_close.ts";
import { moduleEngine } from "./gpu_helpers.ts";

const engine = await moduleEngine();

Deno.test({
  name: "fullNtk: K on the GPU matches the float64 reference, with its block spectra",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    for (
      const [name, sizes, counts] of [
        ["wave", [2, 17, 11, 1], { r: 29, u: 10, ut: 7 }],
        ["klein-gordon1d", [2, 9, 1], { r: 21, u: 5, ut: 3 }],
      ] as const
    ) {
      const problem = getProblem(name);
      const params = xavierInit(sizes, 5);
      for (let i = 0; i < params.length; i++) params[i] += 0.02 * Math.sin(i);
      const points = samplePoints(problem, counts, 1);
      const plan = await Plan.create(engine, {
        problem,
        sizes: [...sizes],
        activation: "sin",
        counts,
      });
      plan.setParams(params);
      plan.setPoints(points);
      const gpu = await plan.fullNtk();
      const ref = fullNtk(problem, [...sizes], "sin", params, points);
      assert.deepEqual(gpu.order, ref.order);
      const scale = Math.max(...Array.from(ref.K, Math.abs));
      assertAllClose(gpu.K, ref.K, { atol: 1e-5 * scale, rtol: 0, name: `K ${name}` });
      const n = ref.order.length;
      const eg = symmetricEigenvalues(gpu.K, n), er = symmetricEigenvalues(ref.K, n);
      assertAllClose(eg, er, { atol: 1e-4 * scale, rtol: 0, name: `spectrum ${name}` });
      await assert.rejects(() => plan.fullNtk(10), /limited to 10 rows/);
      await plan.dispose();
    }
  },
});
