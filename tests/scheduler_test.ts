/**
 * The planned training step: no allocation after the first step, one submit per
 * step, optimizer updates against the float64 reference, shared predictor buffers.
 */
import assert from "node:assert/strict";
import { DEFAULT_CONFIG, type TrainConfig, type Weighting } from "../src/train_config.ts";
import { Trainer } from "../src/trainer.ts";
import { xavierInit } from "../src/model.ts";
import type { TrainSettings } from "../src/settings.ts";
import { getProblem } from "../src/problems/mod.ts";
import { lossAndGradient } from "../src/reference/mlp64.ts";
import { assertAllClose } from "./assert_close.ts";
import { moduleEngine } from "./gpu_helpers.ts";
import { snapshot } from "../src/encoder.ts";

const engine = await moduleEngine();

const small = (weighting: Weighting, extra: Partial<TrainConfig> = {}): TrainSettings => ({
  ...DEFAULT_CONFIG,
  sizes: [2, 12, 10, 1],
  n: { r: 40, u: 20, ut: 12 },
  weighting,
  weights: weighting === "fixed" ? { r: 1, u: 3, ut: 2 } : {},
  k: 2,
  steps: 1000,
  // These tests were written for a plain Xavier network (wave recommends more).
  init: "xavier",
  average: 0,
  ...extra,
});

const opts = { sanitizeResources: false, sanitizeOps: false };

const stepCases: [Weighting, Partial<TrainConfig>][] = [
  ...(["fixed", "exact", "pc", "jvp", "hutch"] as const).map((
    w,
  ): [Weighting, Partial<TrainConfig>] => [w, {}]),
  ["pc", { causal: 1, chunks: 8, average: 0.9 }],
];

for (const [w, extra] of stepCases) {
  const tag = Object.keys(extra).length ? ` ${JSON.stringify(extra)}` : "";
  Deno.test({
    name: `scheduler: ${w}${tag} steps 2–50 allocate nothing and submit once each`,
    ...opts,
    fn: async () => {
      const t = await Trainer.create(engine, small(w, { resample: 7, ...extra }));
      await t.advance();
      await engine.device.queue.onSubmittedWorkDone();
      const pool0 = { ...engine.pool.stats }, c0 = snapshot(engine.counters);
      for (let i = 2; i <= 50; i++) await t.advance();
      await engine.device.queue.onSubmittedWorkDone();
      assert.equal(
        engine.pool.stats.created,
        pool0.created,
        "pool buffers created during steps 2–50",
      );
      assert.equal(
        engine.pool.stats.liveBytes,
        pool0.liveBytes,
        "live bytes changed during steps 2–50",
      );
      assert.equal(
        engine.counters.uniforms,
        c0.uniforms,
        "uniform buffers created during steps 2–50",
      );
      assert.equal(engine.counters.submits - c0.submits, 49, "submits per step");
      assert.equal(engine.counters.passes - c0.passes, 49, "compute passes per step");
      const l = await t.losses();
      assert.ok(
        Object.values(l.loss).every(Number.isFinite),
        `losses finite: ${JSON.stringify(l)}`,
      );
      await t.dispose();
    },
  });
}

Deno.test({
  name: "scheduler: the predictor–corrector step adds no activation buffers",
  ...opts,
  fn: async () => {
    const before = engine.pool.stats.liveBytes;
    const fixed = await Trainer.create(engine, small("fixed"));
    const fixedBytes = engine.pool.stats.liveBytes - before;
    await fixed.dispose();
    const b2 = engine.pool.stats.liveBytes;
    const pc = await Trainer.create(engine, small("pc", { k: 1 }));
    const pcBytes = engine.pool.stats.liveBytes - b2;
    await pc.dispose();
    // The predictor needs direction, packed-weight and residual rows, not a second
    // set of activations: much less than the activations themselves.
    const cols = pc.plan.batch.cols,
      acts = [2, 12, 10, 1].reduce((a, s) => a + 3 * (s + 1) * cols * 4, 0);
    assert.ok(
      pcBytes - fixedBytes < acts / 2,
      `pc adds ${pcBytes - fixedBytes} bytes, activations are ${acts}`,
    );
  },
});

for (const optimizer of ["adam", "gd"] as const) {
  Deno.test({
    name: `scheduler: one ${optimizer} step matches the float64 reference update`,
    ...opts,
    fn: async () => {
      const t = await Trainer.create(engine, small("fixed", { optimizer, lr: 1e-2, resample: 0 }));
      const cfg = t.config;
      const p0 = xavierInit(cfg.sizes, cfg.seed);
      const problem = getProblem("wave");
      const { gradient } = lossAndGradient(
        problem,
        cfg.sizes,
        cfg.activation,
        p0,
        t.points(),
        cfg.weights,
      );
      await t.advance();
      const p1 = await t.params();
      const expect = Float64Array.from(p0, (v, i) => {
        const g = gradient[i];
        if (optimizer === "gd") return v - cfg.lr * g;
        const m = (1 - cfg.beta1) * g, vv = (1 - cfg.beta2) * g * g;
        return v - cfg.lr * (m / (1 - cfg.beta1)) / (Math.sqrt(vv / (1 - cfg.beta2)) + cfg.eps);
      });
      // Adam's first step moves each parameter by ≈ lr·sign(g): compare the moves.
      const moved = Float64Array.from(p1, (v, i) => v - p0[i]);
      const want = Float64Array.from(expect, (v, i) => v - p0[i]);
      assertAllClose(moved, want, {
        rtol: 1e-3,
        atol: optimizer === "adam" ? 1e-4 * cfg.lr : 1e-7,
        name: optimizer,
      });
      await t.dispose();
    },
  });
}

Deno.test({
  name: "scheduler: training reduces the loss (fixed weights, 150 steps)",
  ...opts,
  fn: async () => {
    const t = await Trainer.create(engine, small("fixed", { lr: 3e-3, resample: 0 }));
    await t.advance();
    const first = (await t.losses()).total;
    for (let i = 0; i < 150; i++) await t.advance();
    const last = (await t.losses()).total;
    assert.ok(last < 0.5 * first, `loss ${first} → ${last}`);
    await t.dispose();
  },
});
