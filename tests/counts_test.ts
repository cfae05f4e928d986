/**
 * What a training step consists of, counted by the engine's encoder: the fused
 * step records every weighting in one compute pass and one submit, with the
 * dispatches the README's step table lists.
 *
 * Needs a WebGPU adapter: `Engine.create()` throws (and every test fails) without one.
 */
import assert from "node:assert/strict";
import { resultsFileName, stepCounts } from "../bench/counts.ts";
import { trainConfig } from "../bench/timing.ts";
import { countsSince, snapshot } from "../src/encoder.ts";
import { Trainer } from "../src/trainer.ts";
import { moduleEngine } from "./gpu_helpers.ts";

const engine = await moduleEngine();
const sizes = [2, 12, 10, 1]; // L = 3 layers
const n = { r: 40, u: 20, ut: 12 };

// forward L + residual 1 + backward L−1 + weight gradients L + sums 1 + optimizer L
const BASE = 3 + 1 + 2 + 3 + 1 + 3;
const expected = {
  fixed: BASE,
  exact: BASE + 3, // Gram norms, one per layer
  pc: BASE + 3 + 1 + 3 + 1, // directions per layer, perturbation, predictor forward and residual
  jvp: BASE + 3 + 3 + 3, // directions per layer, tangent forward per layer, tangent residual per group
} as const;

for (const [w, dispatches] of Object.entries(expected)) {
  Deno.test({
    name: `counts: a ${w} step is ${dispatches} dispatches in one pass and one submit`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const c = await stepCounts(engine, sizes, n, w as keyof typeof expected);
      assert.equal(c.dispatches, dispatches, JSON.stringify(c.byKernel));
      assert.equal(c.passes, 1);
      assert.equal(c.submits, 1);
      assert.equal(c.byKernel.stepSums, 1, "one reduction");
    },
  });
}

Deno.test({
  name: "counts: the parameter average adds no dispatch",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const plain = await stepCounts(engine, sizes, n, "pc");
    const avg = await stepCounts(engine, sizes, n, "pc", 0.99);
    assert.equal(avg.dispatches, plain.dispatches);
    assert.equal(avg.byKernel.adam, 3, "one optimizer dispatch per layer");
  },
});

Deno.test({
  name: "counts: with --every 3 only every third pc step runs the predictor; λ holds in between",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const t = await Trainer.create(engine, { ...trainConfig(sizes, n, "pc"), every: 3 });
    try {
      const perStep: number[] = [], lambdas: string[] = [];
      for (let s = 0; s < 7; s++) {
        const c0 = snapshot(engine.counters);
        await t.advance();
        perStep.push(countsSince(c0, engine.counters, 1).dispatches);
        lambdas.push(JSON.stringify((await t.losses()).weights));
      }
      const u = expected.pc, f = expected.fixed;
      assert.deepEqual(perStep, [u, f, f, u, f, f, u]);
      // λ changes on update steps only (0, 3, 6).
      assert.equal(lambdas[1], lambdas[0]);
      assert.equal(lambdas[2], lambdas[0]);
      assert.notEqual(lambdas[3], lambdas[2]);
      assert.equal(lambdas[4], lambdas[3]);
      assert.equal(lambdas[5], lambdas[3]);
      assert.notEqual(lambdas[6], lambdas[5]);
    } finally {
      await t.dispose();
    }
  },
});

Deno.test("counts: results files are named after the adapter and backend", () => {
  const name = resultsFileName({
    ...engine.adapter,
    description: "NVIDIA GeForce RTX 4090/PCIe/SSE2",
    backend: "vulkan",
  });
  assert.equal(name, "bench-nvidia-geforce-rtx-4090-pcie-sse2-vulkan.json");
});
