/**
 * The GPU engine against the float64 reference (src/reference/mlp64.ts):
 * residuals, loss and gradient (with λ = 1 and with non-unit λ), exact per-point
 * gradient norms and traces, JVPs and VJPs with the adjoint identity
 * vᵀ(J s) = sᵀ(Jᵀ v), the GPU random generator against src/random.ts, and
 * resampling points into a planned evaluation.
 *
 * Needs a WebGPU adapter: `Engine.create()` throws (and every test fails) without one.
 */
import assert from "node:assert/strict";
import { Plan } from "../src/plan.ts";
import { estimateTraces } from "../src/ntk.ts";
import type { Activation } from "../src/model.ts";
import { type Counts, type Points, samplePoints } from "../src/points.ts";
import type { Problem } from "../src/problems/problem.ts";
import { heat1d, helmholtz2d, kleinGordon1d, poisson1d, wave } from "../src/problems/mod.ts";
import { gaussianAt, rademacherAt, Stream } from "../src/random.ts";
import * as ref from "../src/reference/mlp64.ts";
import { assertAllClose } from "./assert_close.ts";
import {
  assertRelInf,
  cube3,
  dot,
  flatten,
  gaussianVector,
  infNorm,
  moduleEngine,
  sys2,
  sys3x4,
  testParams,
} from "./gpu_helpers.ts";

/** Acceptance tolerances (relative in the ∞-norm, see assertRelInf). */
const TOL = { residual: 1e-4, loss: 1e-4, gradient: 1e-3, norms: 1e-3, jvp: 1e-4, adjoint: 1e-4 };

const engine = await moduleEngine();

const test = (name: string, fn: () => void | Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

interface Case {
  problem: Problem;
  sizes: number[];
  activation: Activation;
  counts: Counts;
}

// Widths are not multiples of the 8-row tile, point counts not multiples of the
// 16-point padding; 1 to 4 hidden layers, d = 1, 2, 3, both activations.
const CASES: Case[] = [
  { problem: poisson1d, sizes: [1, 13, 1], activation: "tanh", counts: { r: 37, u: 6 } },
  { problem: poisson1d, sizes: [1, 5, 30, 5, 1], activation: "sin", counts: { r: 21, u: 3 } },
  { problem: wave, sizes: [2, 13, 33, 1], activation: "tanh", counts: { r: 45, u: 19, ut: 11 } },
  {
    problem: wave,
    sizes: [2, 30, 13, 5, 30, 1],
    activation: "sin",
    counts: { r: 33, u: 17, ut: 5 },
  },
  { problem: heat1d, sizes: [2, 33, 1], activation: "sin", counts: { r: 50, u: 17 } },
  { problem: heat1d, sizes: [2, 5, 13, 5, 1], activation: "tanh", counts: { r: 29, u: 9 } },
  {
    problem: kleinGordon1d,
    sizes: [2, 30, 30, 1],
    activation: "tanh",
    counts: { r: 41, u: 23, ut: 7 },
  },
  {
    problem: kleinGordon1d,
    sizes: [2, 13, 1],
    activation: "sin",
    counts: { r: 19, u: 13, ut: 3 },
  },
  { problem: helmholtz2d, sizes: [2, 30, 13, 1], activation: "tanh", counts: { r: 35, u: 14 } },
  { problem: cube3, sizes: [3, 13, 30, 1], activation: "tanh", counts: { r: 27, s: 18, b: 7 } },
  {
    problem: cube3,
    sizes: [3, 33, 5, 13, 7, 1],
    activation: "sin",
    counts: { r: 23, s: 9, b: 31 },
  },
  { problem: cube3, sizes: [3, 5, 1], activation: "sin", counts: { r: 1, s: 5, b: 2 } },
  // Systems: m = 2 and 3 outputs, mixed derivatives, several groups per output, d = 4.
  {
    problem: sys2,
    sizes: [2, 13, 30, 2],
    activation: "tanh",
    counts: { a: 29, b: 17, c: 5, d: 3 },
  },
  { problem: sys2, sizes: [2, 5, 13, 2], activation: "sin", counts: { a: 7, b: 33, c: 2, d: 9 } },
  {
    problem: sys3x4,
    sizes: [4, 13, 30, 3],
    activation: "tanh",
    counts: { m: 21, n: 19, div: 6, bp: 5 },
  },
];

const label = (c: Case) =>
  `${c.problem.name} [${c.sizes}] ${c.activation} n=${JSON.stringify(c.counts)}`;
const names = (p: Problem) => p.groups.map((g) => g.name);

/** Non-unit loss weights: 3.5, 0.25, 7, 1.5 by group index. */
const lambdaFor = (p: Problem) =>
  Object.fromEntries(p.groups.map((g, i) => [g.name, [3.5, 0.25, 7, 1.5][i]]));

/** Residuals, per-group loss, loss and gradient of one evaluation against the reference. */
function checkEvaluation(
  c: Case,
  params: Float32Array,
  points: Points,
  ev: Awaited<ReturnType<Plan["evaluate"]>>,
  weights: Record<string, number>,
  tag: string,
): void {
  const { problem, sizes, activation } = c;
  const r64 = ref.residuals(problem, sizes, activation, params, points);
  for (const g of names(problem)) {
    assertRelInf(ev.residuals[g], r64[g], TOL.residual, `${tag} residuals.${g}`);
  }
  const lg = ref.lossAndGradient(problem, sizes, activation, params, points, weights);
  for (const g of names(problem)) {
    assertRelInf([ev.lossPerGroup[g]], [lg.lossPerGroup[g]], TOL.loss, `${tag} loss.${g}`);
  }
  assertRelInf([ev.loss], [lg.loss], TOL.loss, `${tag} loss`);
  assert.ok(ev.gradient, `${tag}: evaluate(true) returned no gradient`);
  assertRelInf(ev.gradient, lg.gradient, TOL.gradient, `${tag} gradient`);
}

for (const [ci, c] of CASES.entries()) {
  test(`engine vs reference: ${label(c)}`, async () => {
    const { problem, sizes, activation, counts } = c;
    const plan = await Plan.create(engine, { problem, sizes, activation, counts });
    try {
      const params = testParams(sizes, 10 + ci);
      const points = samplePoints(problem, counts, 20 + ci);
      plan.setParams(params);
      plan.setPoints(points);

      // (a) λ = 1, then non-unit λ.
      checkEvaluation(c, params, points, await plan.evaluate(true), {}, "λ=1");
      const lam = lambdaFor(problem);
      plan.setLambda(lam);
      checkEvaluation(c, params, points, await plan.evaluate(true), lam, "λ≠1");
      const noGrad = await plan.evaluate(false);
      assert.equal(noGrad.gradient, undefined);

      // (b) exact per-point norms ‖∇θ r_i‖² and block traces (independent of λ).
      const ex = await plan.exactNorms();
      const n64 = ref.perPointGradNorms(problem, sizes, activation, params, points);
      const t64 = ref.ntkTraces(problem, sizes, activation, params, points).traces;
      for (const g of names(problem)) {
        assertRelInf(ex.norms[g], n64[g], TOL.norms, `norms.${g}`);
        assertAllClose([ex.traces[g]], [t64[g]], { rtol: TOL.norms, name: `trace.${g}` });
      }
    } finally {
      await plan.dispose();
    }
  });
}

// (c) JVP and VJP against the reference, and the adjoint identity on the GPU.
const ADJOINT_CASES = [2, 3, 6, 9, 10, 13, 14].map((i) => CASES[i]);
for (const [ci, c] of ADJOINT_CASES.entries()) {
  test(`jvp, vjp and vᵀ(Js) = sᵀ(Jᵀv): ${label(c)}`, async () => {
    const { problem, sizes, activation, counts } = c;
    const k = 3;
    const plan = await Plan.create(engine, {
      problem,
      sizes,
      activation,
      counts,
      directions: 4,
      tangents: true,
    });
    try {
      const params = testParams(sizes, 40 + ci);
      const points = samplePoints(problem, counts, 50 + ci);
      plan.setParams(params);
      plan.setPoints(points);
      const lam = lambdaFor(problem);
      plan.setLambda(lam);
      const gs = names(problem);
      const v = Object.fromEntries(
        gs.map((g, gi) => [g, gaussianVector(counts[g], 60 + ci, gi)]),
      );
      const { y, directions } = await plan.jvp(k, 1234 + ci, 7, "gaussian");
      assert.equal(y.length, k);
      assert.equal(directions.length, k);
      const jtv = await plan.vjp(v);
      assertRelInf(
        jtv,
        ref.vjp(problem, sizes, activation, params, points, v),
        TOL.gradient,
        "vjp",
      );
      for (let j = 0; j < k; j++) {
        const y64 = ref.jvp(problem, sizes, activation, params, points, directions[j]);
        for (const g of gs) assertRelInf(y[j][g], y64[g], TOL.jvp, `jvp[${j}].${g}`);
        // vᵀ(J s) from the forward-mode kernels, sᵀ(Jᵀ v) from the backward kernels.
        const vJs = dot(flatten(v, gs), flatten(y[j], gs));
        const sJtv = dot(directions[j], jtv);
        assert.ok(
          Math.abs(vJs - sJtv) <= TOL.adjoint * Math.abs(sJtv),
          `adjoint[${j}]: vᵀ(Js) = ${vJs}, sᵀ(Jᵀv) = ${sJtv}, relative difference ${
            Math.abs(vJs - sJtv) / Math.abs(sJtv)
          } > ${TOL.adjoint}`,
        );
      }
      // vjp runs with λ = 1 and must restore λ for later evaluations.
      const ev = await plan.evaluate(true);
      checkEvaluation(c, params, points, ev, lam, "after vjp");
    } finally {
      await plan.dispose();
    }
  });
}

// (d) The GPU generator against src/random.ts.
{
  const problem = cube3, sizes = [3, 30, 30, 1], activation = "tanh" as const;
  const counts = { r: 5, s: 3, b: 2 };
  const K = 8;
  const planP = Plan.create(engine, {
    problem,
    sizes,
    activation,
    counts,
    directions: K,
    tangents: true,
  }).then((plan) => {
    plan.setParams(testParams(sizes, 3));
    plan.setPoints(samplePoints(problem, counts, 3));
    return plan;
  });

  test("random: GPU Gaussian directions equal gaussianAt, with N(0, 1) moments", async () => {
    const plan = await planP;
    const seed = 0xdeadbeef, step = 41;
    const { directions } = await plan.jvp(K, seed, step, "gaussian");
    const P = plan.net.paramCount;
    let sum = 0, sum2 = 0, maxErr = 0;
    for (let j = 0; j < K; j++) {
      const expected = Float64Array.from(
        { length: P },
        (_, p) => gaussianAt(seed, Stream.direction, step, j, p),
      );
      assertAllClose(directions[j], expected, { atol: 1e-5, rtol: 0, name: `direction ${j}` });
      for (let p = 0; p < P; p++) {
        maxErr = Math.max(maxErr, Math.abs(directions[j][p] - expected[p]));
        sum += directions[j][p];
        sum2 += directions[j][p] ** 2;
      }
    }
    const n = K * P, mean = sum / n, variance = sum2 / n - mean * mean;
    assert.ok(Math.abs(mean) < 4 / Math.sqrt(n), `mean ${mean} of ${n} Gaussian draws`);
    assert.ok(
      Math.abs(variance - 1) < 4 * Math.sqrt(2 / n),
      `variance ${variance} of ${n} Gaussian draws`,
    );
  });

  test("random: GPU Rademacher directions equal rademacherAt exactly", async () => {
    const plan = await planP;
    const seed = 77, step = 3;
    const { directions } = await plan.jvp(K, seed, step, "rademacher");
    const P = plan.net.paramCount;
    let sum = 0;
    for (let j = 0; j < K; j++) {
      const expected = Float64Array.from(
        { length: P },
        (_, p) => rademacherAt(seed, Stream.direction, step, j, p),
      );
      assert.deepEqual(Array.from(directions[j]), Array.from(expected), `direction ${j}`);
      sum += directions[j].reduce((a, b) => a + b, 0);
    }
    const n = K * P;
    assert.ok(Math.abs(sum / n) < 4 / Math.sqrt(n), `mean ${sum / n} of ${n} Rademacher draws`);
  });

  test("random: same (seed, step) repeats the stream; other seeds, steps, directions differ", async () => {
    const plan = await planP;
    const flat = async (seed: number, step: number) =>
      (await plan.jvp(K, seed, step, "gaussian")).directions;
    const a = await flat(5, 9);
    const b = await flat(5, 9);
    for (let j = 0; j < K; j++) assert.deepEqual(a[j], b[j], `direction ${j} repeated`);
    const corr = (x: Float32Array, y: Float32Array) => dot(x, y) / Math.sqrt(dot(x, x) * dot(y, y));
    const P = plan.net.paramCount, bound = 4 / Math.sqrt(P);
    for (
      const [what, other] of [["seed", await flat(6, 9)], ["step", await flat(5, 10)]] as const
    ) {
      for (let j = 0; j < K; j++) {
        const c = corr(a[j], other[j]);
        assert.ok(Math.abs(c) < bound, `other ${what}, direction ${j}: correlation ${c}`);
      }
    }
    for (let j = 1; j < K; j++) {
      const c = corr(a[0], a[j]);
      assert.ok(Math.abs(c) < bound, `directions 0 and ${j}: correlation ${c}`);
    }
  });

  test("random: a chunk's base direction offsets the counter; padding stays zero", async () => {
    // estimateTraces draws k > plan.directions in chunks with dirBase = j0.
    const plan = await planP;
    const seed = 31, step = 2, base = 5, kc = 3;
    plan.setRandom(seed, step, base);
    engine.submit("dirs", await plan.directionSeq(kc, "gaussian"));
    const packed = await plan.read(plan.b.dirs, 0, kc * plan.net.packedF);
    const flat = plan.unpackDirections(packed, kc);
    const P = plan.net.paramCount;
    for (let j = 0; j < kc; j++) {
      const expected = Float64Array.from(
        { length: P },
        (_, p) => gaussianAt(seed, Stream.direction, step, base + j, p),
      );
      assertAllClose(flat[j], expected, { atol: 1e-5, rtol: 0, name: `chunk direction ${j}` });
    }
    // Entries of the packed layout that hold no parameter (row padding) stay 0,
    // so a predictor step θ + Δt s never moves them.
    const used = new Set<number>();
    for (const l of plan.net.layers) {
      for (let r = 0; r < l.out; r++) {
        for (let c2 = 0; c2 <= l.in; c2++) used.add(l.fOff + c2 * l.ldf + r);
      }
    }
    for (let j = 0; j < kc; j++) {
      for (let q = 0; q < plan.net.packedF; q++) {
        if (!used.has(q)) {
          assert.equal(packed[j * plan.net.packedF + q], 0, `padding ${q} of direction ${j}`);
        }
      }
    }
  });

  test("random: Hutchinson residual noise equals rademacherAt on the residual stream", async () => {
    const plan = await planP;
    const seed = 99, step = 4;
    await estimateTraces(plan, { method: "hutch", k: 1, seed, step });
    const z = await plan.read(plan.b.noise, 0, plan.batch.points);
    for (const g of plan.batch.groups) {
      for (let i = 0; i < g.np; i++) {
        const expected = i < g.n ? rademacherAt(seed, Stream.residual, step, 0, g.pointOff + i) : 0;
        assert.equal(z[g.pointOff + i], expected, `noise ${g.name}[${i}]`);
      }
    }
  });
}

// (e) Resampling: a second setPoints (and setParams) must fully replace the first.
test("resampling: setPoints twice matches the reference for the second set", async () => {
  const problem = kleinGordon1d, sizes = [2, 13, 30, 1], activation = "tanh" as const;
  const counts = { r: 37, u: 21, ut: 6 };
  const c: Case = { problem, sizes, activation, counts };
  const plan = await Plan.create(engine, {
    problem,
    sizes,
    activation,
    counts,
    directions: 2,
    tangents: true,
  });
  try {
    const params = testParams(sizes, 8);
    const first = samplePoints(problem, counts, 1, 0);
    plan.setParams(params);
    plan.setPoints(first);
    const ev1 = await plan.evaluate(true);
    checkEvaluation(c, params, first, ev1, {}, "first points");
    await plan.exactNorms();
    await plan.jvp(2, 1, 0);

    const second = samplePoints(problem, counts, 1, 1);
    plan.setPoints(second);
    const ev2 = await plan.evaluate(true);
    checkEvaluation(c, params, second, ev2, {}, "second points");
    assert.ok(
      infNorm(flatten(ev1.residuals, ["r"]).map((v, i) => v - ev2.residuals.r[i])) > 1e-3,
      "the second point set should change the residuals",
    );
    const ex = await plan.exactNorms();
    const n64 = ref.perPointGradNorms(problem, sizes, activation, params, second);
    for (const g of names(problem)) assertRelInf(ex.norms[g], n64[g], TOL.norms, `norms.${g}`);
    const { y, directions } = await plan.jvp(2, 1, 0);
    const y64 = ref.jvp(problem, sizes, activation, params, second, directions[1]);
    for (const g of names(problem)) assertRelInf(y[1][g], y64[g], TOL.jvp, `jvp.${g}`);

    // New parameters on the same plan.
    const params2 = testParams(sizes, 9);
    plan.setParams(params2);
    checkEvaluation(c, params2, second, await plan.evaluate(true), {}, "second params");
  } finally {
    await plan.dispose();
  }
});
