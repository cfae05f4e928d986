/**
 * Causal residual weights (shaders/causal.wgsl): the chunk losses and weights and
 * the weighted gradient against the float64 reference, the settings' checks, and
 * a training run logging the weights.
 *
 * Needs a WebGPU adapter: `Engine.create()` throws (and every test fails) without one.
 */
import assert from "node:assert/strict";
import { Plan } from "../src/plan.ts";
import { samplePoints } from "../src/points.ts";
import { heat1d, poisson1d, wave } from "../src/problems/mod.ts";
import * as ref from "../src/reference/mlp64.ts";
import { causalSettings } from "../src/train_config.ts";
import { UserError } from "../src/errors.ts";
import { assertAllClose } from "./assert_close.ts";
import { assertRelInf, infNorm, moduleEngine, testParams } from "./gpu_helpers.ts";
import { smallWave, tempRun } from "./small_run.ts";

const engine = await moduleEngine();

const test = (name: string, fn: () => void | Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

/** Chunk losses and weights of points `pts` (time = input `ti` on [0,1]) with residuals `r`. */
function causalRef(pts: number[][], r: ArrayLike<number>, ti: number, m: number, eps: number) {
  const sums = new Float64Array(m), counts = new Float64Array(m);
  const chunk = pts.map((x) => Math.min(Math.floor(Math.max(x[ti], 0) * m), m - 1));
  chunk.forEach((k, i) => {
    sums[k] += r[i] * r[i];
    counts[k]++;
  });
  const losses = Array.from(sums, (s, k) => s / Math.max(counts[k], 1));
  let before = 0;
  const weights = losses.map((l) => {
    const w = Math.exp(-eps * before);
    before += l;
    return w;
  });
  return { losses, weights, chunk };
}

for (
  const [problem, sizes, counts, chunks] of [
    [wave, [2, 16, 13, 1], { r: 203, u: 21, ut: 9 }, 8],
    [heat1d, [2, 11, 1], { r: 77, u: 30 }, 64],
  ] as const
) {
  test(`causal weights and weighted gradient vs reference: ${problem.name} [${sizes}] M=${chunks}`, async () => {
    const plan = await Plan.create(engine, {
      problem,
      sizes: [...sizes],
      activation: "tanh",
      counts,
    });
    try {
      const params = testParams([...sizes], 3);
      const points = samplePoints(problem, counts, 5);
      plan.setParams(params);
      plan.setPoints(points);
      const r64 = ref.residuals(problem, sizes, "tanh", params, points);
      const first = problem.groups[0].name;
      const ti = problem.inputs.indexOf("t");
      // ε from the data, so that the weights fall well below 1 across the chunks.
      const total = r64[first].reduce((a, v) => a + v * v, 0) / r64[first].length;
      const eps = 3 / (chunks * total);
      const want = causalRef(points[first], r64[first], ti, chunks, eps);
      assert.ok(want.weights.at(-1)! < 0.3, `weights span too little (${want.weights.at(-1)})`);

      const causal = await plan.causalSeq({ group: first, timeIndex: ti, chunks, eps });
      engine.submit(
        "causal.test",
        plan.forward,
        plan.residual,
        causal,
        plan.backward,
        plan.weightGrad,
        plan.gather,
      );
      const got = await plan.readCausal();
      assertAllClose(got.losses, want.losses, { rtol: 1e-4, atol: 1e-6, name: "chunk losses" });
      assertAllClose(got.weights, want.weights, { rtol: 1e-4, atol: 1e-7, name: "chunk weights" });

      // ∇ of Σ_j (1/N_j) Σ_i w_i r_i² (w = 1 outside the first group) by the reference VJP.
      const v = Object.fromEntries(
        Object.entries(r64).map(([g, r]) => [
          g,
          Array.from(
            r,
            (ri, i) => (2 / r.length) * ri * (g === first ? want.weights[want.chunk[i]] : 1),
          ),
        ]),
      );
      const expected = ref.vjp(problem, sizes, "tanh", params, points, v);
      const grad = await plan.read(plan.b.grad, 0, plan.net.paramCount);
      assertRelInf(grad, expected, 1e-3, "causal gradient");
      // The weights matter: the unweighted gradient is far from it.
      const plain = ref.lossAndGradient(problem, sizes, "tanh", params, points).gradient;
      const diff = infNorm(plain.map((p, i) => p - expected[i]));
      assert.ok(diff > 1e-2 * Math.max(1, infNorm(expected)), `weights changed little (${diff})`);
    } finally {
      await plan.dispose();
    }
  });
}

test("causal settings: off by default, first group and time input, clear errors", () => {
  assert.equal(causalSettings({}, wave), null);
  assert.equal(causalSettings({ causal: 0 }, wave), null);
  assert.deepEqual(causalSettings({ causal: 2 }, wave), {
    group: "r",
    timeIndex: 0,
    chunks: 32,
    eps: 2,
  });
  const bad = (c: { causal?: number; chunks?: number }, p: typeof wave, input: string) =>
    assert.throws(
      () => causalSettings(c, p),
      (e: unknown) => e instanceof UserError && e.input === input,
    );
  bad({ causal: 1 }, poisson1d, "--causal");
  bad({ causal: -1 }, wave, "--causal");
  bad({ causal: 1, chunks: 65 }, wave, "--chunks");
  bad({ causal: 1, chunks: 0 }, wave, "--chunks");
});

test("run: causal weights logged per chunk, 1 for the first chunk, non-increasing", async () => {
  const { out, log } = await tempRun(
    engine,
    smallWave({
      n: { r: 64, u: 16, ut: 16 },
      weighting: "none",
      steps: 10,
      logEvery: 5,
      causal: 50,
      chunks: 4,
    }),
  );
  assert.equal(log.length, 2);
  for (const r of log) {
    const w = r.causal_weights!;
    assert.equal(w.length, 4);
    assert.equal(w[0], 1);
    for (let k = 1; k < 4; k++) assert.ok(w[k] <= w[k - 1] && w[k] > 0, `step ${r.step}: ${w}`);
  }
  const config = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
  assert.equal(config.causal, 50);
});
