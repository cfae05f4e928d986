/**
 * L-BFGS: the strong-Wolfe line search on known functions, the float64 reference
 * on Rosenbrock, and the GPU L-BFGS against the reference (same iterates to
 * float32 precision over the first iterations, through a wrapped history).
 */
import assert from "node:assert/strict";
import { strongWolfe } from "../src/line_search.ts";
import { lbfgs64, twoLoop } from "../src/reference/lbfgs64.ts";
import { lossAndGradient } from "../src/reference/mlp64.ts";
import { Lbfgs } from "../src/lbfgs.ts";
import { Plan } from "../src/plan.ts";
import { getProblem } from "../src/problems/mod.ts";
import { samplePoints } from "../src/points.ts";
import { f32ToBase64 } from "../src/lbfgs_state.ts";
import { gaussianAt } from "../src/random.ts";
import { assertRelInf, moduleEngine, testParams } from "./gpu_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test("strongWolfe: the accepted step satisfies both conditions, bracketing or not", async () => {
  // φ(α) = (α − a)⁴ − α: minimum past several doublings for large a, inside the
  // first trial for small a (zoom).
  for (const center of [0.05, 0.7, 6]) {
    const phi = (a: number) => ({ f: (a - center) ** 4 - a, df: 4 * (a - center) ** 3 - 1 });
    const at0 = phi(0);
    const r = await strongWolfe(phi, at0, 1, { c1: 1e-4, c2: 0.1 });
    assert.ok(r.ok, `center ${center}: not ok`);
    assert.ok(r.f <= at0.f + 1e-4 * r.alpha * at0.df, `center ${center}: no sufficient decrease`);
    assert.ok(Math.abs(r.df) <= 0.1 * Math.abs(at0.df), `center ${center}: curvature fails`);
    assert.ok(r.evals <= 10, `center ${center}: ${r.evals} evaluations`);
  }
});

Deno.test("strongWolfe: NaN counts as no decrease; an ascent-only φ returns α = 0", async () => {
  const nanPast = (a: number) =>
    a > 0.5 ? { f: NaN, df: NaN } : { f: (a - 0.3) ** 2, df: 2 * (a - 0.3) };
  const r = await strongWolfe(nanPast, nanPast(0), 1);
  assert.ok(r.ok && r.alpha > 0 && r.alpha <= 0.5, `alpha ${r.alpha}`);
  const up = (a: number) => ({ f: a * a + a * 1e-3, df: 2 * a + 1e-3 });
  const bad = await strongWolfe(up, { f: 0, df: -1 }, 1, { maxEvals: 8 });
  assert.equal(bad.ok, false);
  assert.equal(bad.alpha, 0);
});

Deno.test("lbfgs64 minimises the Rosenbrock function", async () => {
  const fg = (x: Float64Array) => {
    const [a, b] = x;
    return {
      f: (1 - a) ** 2 + 100 * (b - a * a) ** 2,
      g: Float64Array.of(-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)),
    };
  };
  const its = await lbfgs64(fg, [-1.2, 1], 60, 5);
  const x = its.at(-1)!.x;
  assert.ok(Math.abs(x[0] - 1) < 1e-6 && Math.abs(x[1] - 1) < 1e-6, `ended at ${x}`);
  for (let i = 1; i < its.length; i++) assert.ok(its[i].f <= its[i - 1].f, "f increased");
});

const engine = await moduleEngine();

// [2,30,30,1]: 1051 parameters, more than one workgroup's stride (256).
for (const sizes of [[2, 10, 10, 1], [2, 30, 30, 1]]) {
  Deno.test({
    name:
      `GPU L-BFGS matches the float64 reference over 8 iterations (m = 3, weighted wave, [${sizes}])`,
    ...opts,
    fn: async () => {
      const problem = getProblem("wave");
      const counts = { r: 24, u: 12, ut: 8 };
      const weights = { r: 1, u: 3, ut: 2 };
      // The GPU holds the points in float32: give the reference the same values.
      const raw = samplePoints(problem, counts, 3);
      const points = Object.fromEntries(
        Object.entries(raw).map(([g, l]) => [g, l.map((x) => x.map(Math.fround))]),
      );
      const x0 = testParams(sizes, 5);
      const iters = 8, m = 3;
      const ref = await lbfgs64(
        (x) => {
          const r = lossAndGradient(problem, sizes, "tanh", x, points, weights);
          return { f: r.loss, g: r.gradient };
        },
        x0,
        iters,
        m,
      );
      await using plan = await Plan.create(engine, { problem, sizes, activation: "tanh", counts });
      plan.setParams(x0);
      plan.setPoints(points);
      plan.setLambda(weights);
      const lb = await Lbfgs.create(plan, { m });
      try {
        const f0 = await lb.restart();
        assert.ok(
          Math.abs(f0 - lossAndGradient(problem, sizes, "tanh", x0, points, weights).loss) <
            1e-5 * f0,
        );
        for (let i = 0; i < iters; i++) {
          const it = await lb.iterate();
          assert.equal(it.stop, null, `iteration ${i} stopped: ${it.stop}`);
          assert.equal(it.evals, ref[i].evals, `iteration ${i}: line-search evaluations`);
          const x = await plan.read(plan.b.params, 0, plan.net.paramCount);
          // Measured: at most 1.2e-6 after 8 iterations (float32 rounding, growing slowly).
          const tol = 1e-5;
          assertRelInf(x, ref[i].x, tol, `parameters after iteration ${i + 1}`);
          assert.ok(
            Math.abs(it.loss - ref[i].f) <= tol * ref[i].f + 1e-7,
            `iteration ${i + 1}: loss ${it.loss} vs ${ref[i].f}`,
          );
          assert.ok(Math.abs(it.alpha - ref[i].alpha) <= tol * 10 * ref[i].alpha, `alpha ${i + 1}`);
        }
        assert.ok(
          ref[iters - 1].f < 0.7 * f0,
          `the reference should descend: ${f0} → ${ref[iters - 1].f}`,
        );
      } finally {
        await lb.dispose();
      }
    },
  });
}

Deno.test({
  name:
    "GPU L-BFGS: iterations allocate nothing; one submit for the direction and the first trial, one per further trial, one for the pair",
  ...opts,
  fn: async () => {
    const problem = getProblem("wave");
    const sizes = [2, 10, 10, 1], counts = { r: 24, u: 12, ut: 8 };
    await using plan = await Plan.create(engine, { problem, sizes, activation: "tanh", counts });
    plan.setParams(testParams(sizes, 2));
    plan.setPoints(samplePoints(problem, counts, 1));
    const lb = await Lbfgs.create(plan, { m: 4 });
    try {
      await lb.restart();
      for (let i = 0; i < 2; i++) await lb.iterate();
      await engine.device.queue.onSubmittedWorkDone();
      const created = engine.pool.stats.created, uniforms = engine.counters.uniforms;
      const submits = engine.counters.submits, evals = lb.evals;
      let trials = 0;
      for (let i = 0; i < 6; i++) trials += (await lb.iterate()).evals;
      assert.equal(engine.pool.stats.created, created, "pool buffers created");
      assert.equal(engine.counters.uniforms, uniforms, "uniform buffers created");
      assert.equal(lb.evals - evals, trials, "every evaluation is a line-search trial");
      // With history the first trial (α = 1) rides in the direction's submit.
      assert.equal(engine.counters.submits - submits, 6 + trials, "submits");
    } finally {
      await lb.dispose();
    }
  },
});

Deno.test({
  name:
    "GPU L-BFGS: the compact-form direction equals the float64 two-loop recursion (wrapped history, a pair left out)",
  ...opts,
  fn: async () => {
    const problem = getProblem("wave");
    const sizes = [2, 30, 30, 1], counts = { r: 24, u: 12, ut: 8 };
    await using plan = await Plan.create(engine, { problem, sizes, activation: "tanh", counts });
    const P = plan.net.paramCount, m = 5, k = 4, newest = 1;
    const x = testParams(sizes, 4);
    const points = samplePoints(problem, counts, 2);
    plan.setParams(x);
    plan.setPoints(points);
    plan.setLambda({ r: 1, u: 1, ut: 1 });
    const lb = await Lbfgs.create(plan, { m });
    try {
      // Pairs y = A s + noise with A = diag(1 + i mod 7): positive curvature, except
      // the second oldest, whose y is flipped (sᵀy < 0: left out, ρ = 0).
      const hist = new Float32Array(2 * m * P), scal = new Float32Array(8 + 2 * m);
      const chrono = [...Array(k).keys()].map((c) => (newest + m - (k - 1 - c)) % m);
      const S: Float64Array[] = [], Y: Float64Array[] = [], rho: number[] = [];
      let gamma = 1;
      for (const [c, slot] of chrono.entries()) {
        const s = new Float64Array(P), y = new Float64Array(P);
        for (let i = 0; i < P; i++) {
          s[i] = Math.fround(0.01 * gaussianAt(9, c, 0, 1, i));
          y[i] = Math.fround(
            (c === 1 ? -1 : 1) * (1 + (i % 7)) * s[i] + 1e-3 * gaussianAt(9, c, 1, 1, i),
          );
        }
        hist.set(s, slot * P);
        hist.set(y, (m + slot) * P);
        const sy = s.reduce((a, v, i) => a + v * y[i], 0);
        const yy = y.reduce((a, v) => a + v * v, 0);
        const r = sy > 1e-10 * yy ? 1 / sy : 0;
        scal[8 + slot] = r;
        if (r) gamma = sy / yy;
        S.push(s), Y.push(y), rho.push(r);
      }
      // A stale slot (not among the k stored) holds large values that must not leak in.
      const stale = (newest + 1) % m;
      hist.fill(1e6, stale * P, (stale + 1) * P);
      scal[4] = gamma;
      await lb.restore({ k, newest, hist: f32ToBase64(hist), scal: f32ToBase64(scal) });
      assert.deepEqual(rho.map((r) => r === 0), [false, true, false, false]);
      const g = lossAndGradient(problem, sizes, "tanh", x, points, { r: 1, u: 1, ut: 1 }).gradient;
      const want = twoLoop(g, S, Y, rho, Math.fround(gamma));
      assertRelInf(await lb.direction(), want, 1e-4, "direction −Hg");
      // Without history the direction is −g.
      lb.resetHistory();
      assertRelInf(await lb.direction(), g.map((v) => -v), 1e-5, "direction −g");
    } finally {
      await lb.dispose();
    }
  },
});

Deno.test({
  name: "GPU L-BFGS: a history over the binding limit is refused naming --history and what fits",
  ...opts,
  fn: async () => {
    // A width whose 1000-pair history exceeds this adapter's binding limit.
    const w = Math.ceil(Math.sqrt(engine.maxBinding / 8000)) + 8;
    const sizes = [2, w, w, 1];
    await using plan = await Plan.create(engine, {
      problem: getProblem("wave"),
      sizes,
      activation: "tanh",
      counts: { r: 8, u: 4, ut: 4 },
    });
    const P = plan.net.paramCount, fits = Math.floor(engine.maxBinding / (8 * P));
    assert.ok(fits < 1000, `${fits} pairs fit`);
    await assert.rejects(
      () => Lbfgs.create(plan, { m: 1000 }),
      (e: Error) => {
        assert.equal(e.name, "UserError");
        assert.equal((e as Error & { input: string }).input, "--history");
        assert.match(
          e.message,
          new RegExp(
            `^--history 1000 needs .* binding limit; the most that fits is --history ${fits}\\.$`,
          ),
        );
        return true;
      },
    );
    // What the message offers is accepted.
    const lb = await Lbfgs.create(plan, { m: fits });
    await lb.dispose();
  },
});
