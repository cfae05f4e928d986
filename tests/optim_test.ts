/**
 * The per-layer parameter kernels (shaders/optim.wgsl: adam, gatherGradient,
 * packWeights) on a network whose rows straddle workgroups, with several
 * weight-gradient slices per group and distinct λ: two Adam steps with the
 * parameter average against the float64 reference, the packed layouts against
 * the parameters, and the gathered gradient against the reference gradient.
 *
 * Needs a WebGPU adapter: `Engine.create()` throws (and every test fails) without one.
 */
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../src/train_config.ts";
import { Trainer } from "../src/trainer.ts";
import { xavierInit } from "../src/model.ts";
import { getProblem } from "../src/problems/mod.ts";
import { lossAndGradient } from "../src/reference/mlp64.ts";
import { averageBeta } from "../src/adam_phase.ts";
import { assertAllClose } from "./assert_close.ts";
import { moduleEngine } from "./gpu_helpers.ts";

const engine = await moduleEngine();
// Slices of 2 vec4: every group's gradient is the sum of several slices.
engine.tuning = { ...engine.tuning, slice: 2 };
const opts = { sanitizeResources: false, sanitizeOps: false };
// Layer 2's block is 70 × 21 (1470 elements, 23 workgroups of 64), layer 3's a
// single row of 71: rows cross workgroup boundaries, and no width is a multiple of 16.
const sizes = [2, 20, 70, 1];
const weights = { r: 1, u: 3, ut: 0.5 };

Deno.test({
  name: "optim: two Adam steps with several slices per group and the average match float64",
  ...opts,
  fn: async () => {
    const t = await Trainer.create(engine, {
      ...DEFAULT_CONFIG,
      sizes,
      n: { r: 40, u: 20, ut: 12 },
      weighting: "fixed",
      weights,
      init: "xavier",
      lr: 1e-2,
      resample: 0,
      average: 0.9,
      steps: 10,
    });
    const p = t.plan, cfg = t.config, problem = getProblem("wave");
    assert.ok(p.slices.length / 4 >= 3 * p.G, `${p.slices.length / 4} slices for ${p.G} groups`);
    const grad = (params: ArrayLike<number>) =>
      lossAndGradient(
        problem,
        sizes,
        cfg.activation,
        Float64Array.from(params),
        t.points(),
        weights,
      )
        .gradient;
    const p0 = Float64Array.from(xavierInit(sizes, cfg.seed));
    const { beta1: b1, beta2: b2, eps, lr } = cfg;
    const m = new Float64Array(p0.length), v = new Float64Array(p0.length);
    const stepRef = (from: ArrayLike<number>, g: Float64Array, k: number) =>
      Float64Array.from(from, (th, i) => {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        return th - lr * (m[i] / (1 - b1 ** k)) / (Math.sqrt(v[i] / (1 - b2 ** k)) + eps);
      });
    // Compares the GPU's move from `from` with the reference's (Adam moves each
    // parameter by about lr, so the moves are what is compared).
    const checkMove = (got: Float32Array, want: Float64Array, from: ArrayLike<number>, k: number) =>
      assertAllClose(
        Float64Array.from(got, (x, i) => x - from[i]),
        Float64Array.from(want, (x, i) => x - from[i]),
        { rtol: 1e-3, atol: 1e-4 * lr, name: `Adam step ${k}` },
      );

    await t.advance();
    const p1 = await t.params();
    checkMove(p1, stepRef(p0, grad(p0), 1), p0, 1);
    assert.deepEqual(
      await t.modelParams(),
      p1,
      "the average starts at the first step's parameters",
    );

    await t.advance();
    const p2 = await t.params();
    checkMove(p2, stepRef(p1, grad(p1), 2), p1, 2);
    const beta = averageBeta(cfg.average!, 2);
    assertAllClose(
      await t.modelParams(),
      Float64Array.from(p2, (th, i) => beta * p1[i] + (1 - beta) * th),
      { rtol: 1e-6, atol: 1e-7, name: "average" },
    );

    // The packed layouts hold exactly the new parameters.
    const packF = await p.read(p.b.packF, 0, p.net.packedF);
    const packB = await p.read(p.b.packB, 0, p.net.packedB);
    for (const lay of p.net.layers) {
      for (let r = 0; r < lay.out; r++) {
        assert.equal(packF[lay.fOff + lay.in * lay.ldf + r], p2[lay.b + r], "packed bias");
        for (let c = 0; c < lay.in; c++) {
          const w = p2[lay.w + r * lay.in + c];
          assert.equal(packF[lay.fOff + c * lay.ldf + r], w, `packF (${r}, ${c})`);
          assert.equal(packB[lay.bOff + r * lay.ldb + c], w, `packB (${r}, ${c})`);
        }
      }
    }

    // The gathered gradient (λ-weighted sum of the slices) at the new parameters.
    const { gradient } = await p.evaluate(true);
    assertAllClose(gradient!, grad(p2), { rtol: 1e-4, atol: 1e-5, name: "gathered gradient" });
    await t.dispose();
  },
});
