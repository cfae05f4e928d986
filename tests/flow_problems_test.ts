/**
 * The built-in problems without a closed form, "cavity" and "qtensor": their
 * residual expressions are the PDEs written out by hand, their groups sample the
 * boundaries they document with the right targets, their reference hooks return the
 * solvers' solutions in evaluation-grid order, and the GPU engine's residuals, loss,
 * gradient and exact per-point norms at random parameters match the float64
 * reference engine (src/reference/mlp64.ts).
 *
 * The GPU tests need a WebGPU adapter: `Engine.create()` throws without one.
 */
import assert from "node:assert/strict";
import { channelCount, channelIndex, channelsOf, evalExpr } from "../src/problems/expr.ts";
import {
  cavity,
  CAVITY_CORNER_DELTA,
  cavityCornerWeight,
  cavityProblem,
} from "../src/problems/cavity.ts";
import { getProblem } from "../src/problems/mod.ts";
import { evaluationGrid, gridSolution, type Problem } from "../src/problems/problem.ts";
import { qtensor, qtensorProblem, qtensorSoft } from "../src/problems/qtensor.ts";
import { Plan } from "../src/plan.ts";
import { samplePoints } from "../src/points.ts";
import { gaussianAt } from "../src/random.ts";
import * as ref from "../src/reference/mlp64.ts";
import { CAVITY_PRESSURE_PIN, cavityReference } from "../src/solvers/cavity.ts";
import { QTENSOR_PARAMS, qtensorInitial, qtensorReference } from "../src/solvers/qtensor.ts";
import { assertRelInf, moduleEngine, testParams } from "./gpu_helpers.ts";
import { assertClose } from "./assert_close.ts";

/** Random channel values of every output: ch(k, order, dir) reads them by name. */
function randomChannels(p: Problem, group: string, seed: number) {
  const g = p.groups.find((g) => g.name === group)!;
  const set = channelsOf([g.residual]);
  const C = channelCount(set), m = p.outputs!.length;
  const values = Array.from({ length: m * C }, (_, i) => gaussianAt(seed, 5, 0, 0, i));
  const ch = (out: number, order: 0 | 1 | 2, dir = 0) =>
    values[out * C + channelIndex(set, { order, dir, out })];
  return { g, set, values, ch };
}

Deno.test("registry: cavity and qtensor are built-in, with their outputs and groups", () => {
  assert.equal(getProblem("cavity"), cavity);
  assert.equal(getProblem("qtensor"), qtensor);
  assert.equal(getProblem("qtensor-soft"), qtensorSoft);
  assert.deepEqual(cavity.outputs, ["u", "v", "p"]);
  assert.deepEqual(cavity.groups.map((g) => g.name), ["mx", "my", "div", "bu", "bv", "p0"]);
  assert.equal(cavity.sizes.at(-1), 3);
  assert.deepEqual(qtensor.inputs, ["t", "x", "y"]);
  assert.deepEqual(qtensor.outputs, ["Q1", "Q2"]);
  // The default imposes the conditions exactly; qtensor-soft has them as groups.
  assert.deepEqual(qtensor.groups.map((g) => g.name), ["r1", "r2"]);
  assert.equal(qtensor.transform?.doc, "Q = Q(0) + t² x(2 − x)y(2 − y)·N");
  assert.deepEqual(qtensorSoft.groups.map((g) => g.name), ["r1", "r2", "q1", "q2", "qt1", "qt2"]);
  assert.equal(qtensorSoft.transform, undefined);
  assert.deepEqual(qtensorSoft.outputs, ["Q1", "Q2"]);
  assert.equal(qtensor.sizes.at(-1), 2);
  assert.ok(!cavity.exact && cavity.reference && !qtensor.exact && qtensor.reference);
});

Deno.test("cavity: the momentum and continuity residuals are the Navier–Stokes equations, times the corner weight", () => {
  const re = 100, x = [0.3, 0.6];
  // w at x by hand: Π_c r_c²/(r_c² + δ²) over the lid's corners (0, 1) and (1, 1).
  const r0 = 0.3 ** 2 + 0.4 ** 2, r1 = 0.7 ** 2 + 0.4 ** 2, d2 = CAVITY_CORNER_DELTA ** 2;
  const w = (r0 / (r0 + d2)) * (r1 / (r1 + d2));
  for (const [p, scale] of [[cavity, w], [cavityProblem({ n: 33, cornerDelta: 0 }), 1]] as const) {
    for (let seed = 0; seed < 5; seed++) {
      for (const [group, k] of [["mx", 0], ["my", 1]] as const) {
        const { g, set, values, ch } = randomChannels(p, group, seed);
        const [U, V, P] = [0, 1, 2];
        const want = ch(U, 0) * ch(k, 1, 0) + ch(V, 0) * ch(k, 1, 1) + ch(P, 1, k) -
          (ch(k, 2, 0) + ch(k, 2, 1)) / re;
        assertClose(evalExpr(g.residual, x, values, set), scale * want, { rtol: 1e-12 });
      }
      const { g, set, values, ch } = randomChannels(p, "div", seed);
      assertClose(evalExpr(g.residual, x, values, set), scale * (ch(0, 1, 0) + ch(1, 1, 1)), {
        rtol: 1e-12,
      });
    }
  }
  assert.equal(cavityProblem({ n: 33, cornerDelta: 0 }).name, "cavity-corner0");
});

Deno.test("cavity: the corner weight vanishes at the lid's corners only", () => {
  const w = cavityCornerWeight(), none: number[] = [];
  const at = (x: number, y: number) => evalExpr(w, [x, y], none, channelsOf([]));
  assert.equal(at(0, 1), 0);
  assert.equal(at(1, 1), 0);
  // Half at r = δ from a corner (times the other corner's factor, at 1 − δ); within 1%
  // of 1 per corner beyond 10δ from it (2% for both); 1 with δ = 0.
  const d = CAVITY_CORNER_DELTA, far = (1 - d) ** 2 / ((1 - d) ** 2 + d * d);
  assertClose(at(d, 1), 0.5 * far, { rtol: 1e-12 });
  for (const [x, y] of [[0.5, 1], [0, 0.5], [0.5, 0.5], [1, 0], [0.6, 0.4]]) {
    assert.ok(at(x, y) >= 0.98 && at(x, y) <= 1, `w(${x}, ${y}) = ${at(x, y)}`);
  }
  assert.equal(evalExpr(cavityCornerWeight(0), [0, 1], none, channelsOf([])), 1);
});

Deno.test("qtensor: r1 and r2 are the damped-wave system written out", () => {
  const { a, c, M, L, sigma } = QTENSOR_PARAMS;
  for (let seed = 0; seed < 5; seed++) {
    for (const k of [0, 1]) {
      const { g, set, values, ch } = randomChannels(qtensorSoft, `r${k + 1}`, seed);
      const s = ch(0, 0) ** 2 + ch(1, 0) ** 2;
      const want = sigma * ch(k, 2, 0) + ch(k, 1, 0) -
        M * (L * (ch(k, 2, 1) + ch(k, 2, 2)) - (a + 2 * c * s) * ch(k, 0));
      assertClose(evalExpr(g.residual, [0.5, 1, 1], values, set), want, { rtol: 1e-12 });
    }
  }
  // Another parameter set reaches the residual (a custom module's T = 5, say).
  const other = qtensorProblem({ L: 0.5, T: 5 }, "soft");
  assert.deepEqual(other.domain[0], [0, 5]);
  assert.equal(other.name, "qtensor-soft-T5");
  assert.equal(qtensorProblem({ T: 5 }).name, "qtensor-T5");
  assert.equal(qtensorProblem({}, "boundary").name, "qtensor-boundary");
  const { g, set, values, ch } = randomChannels(other, "r1", 9);
  const s = ch(0, 0) ** 2 + ch(1, 0) ** 2;
  const want = ch(0, 2, 0) + ch(0, 1, 0) - (0.5 * (ch(0, 2, 1) + ch(0, 2, 2)) - (-0.2 + 2 * s) *
      ch(0, 0));
  assertClose(evalExpr(g.residual, [0.5, 1, 1], values, set), want, { rtol: 1e-12 });
});

/** Sampled points of every group of `p` (sobol and uniform), 400 each. */
function sampled(p: Problem): Record<string, number[][]> {
  const counts = Object.fromEntries(p.groups.map((g) => [g.name, 400]));
  const a = samplePoints(p, counts, 3), b = samplePoints(p, counts, 4, 0, "sobol");
  return Object.fromEntries(p.groups.map((g) => [g.name, [...a[g.name], ...b[g.name]]]));
}

const fraction = (pts: number[][], f: (x: number[]) => boolean) =>
  pts.filter(f).length / pts.length;

Deno.test("cavity: interior groups fill the square, walls and lid get the right targets, p0 is the pin", () => {
  const pts = sampled(cavity);
  const inside = (x: number[]) => x.every((v) => v >= 0 && v <= 1);
  for (const g of ["mx", "my", "div"]) assert.ok(pts[g].every(inside), g);
  const bu = cavity.groups.find((g) => g.name === "bu")!;
  for (const name of ["bu", "bv"]) {
    const ps = pts[name];
    assert.ok(ps.every((x) => inside(x) && x.some((v) => v === 0 || v === 1)), `${name} on ∂Ω`);
    // Each side gets a quarter of the points.
    for (const side of [(x: number[]) => x[0] === 0, (x: number[]) => x[0] === 1]) {
      assert.ok(Math.abs(fraction(ps, side) - 0.25) < 0.05, `${name}: a vertical wall`);
    }
    assert.ok(Math.abs(fraction(ps, (x) => x[1] === 1 && x[0] > 0 && x[0] < 1) - 0.25) < 0.05);
  }
  for (const x of pts.bu) assert.equal(bu.target!(x), x[1] === 1 ? 1 : 0, `bu target at ${x}`);
  assert.equal(cavity.groups.find((g) => g.name === "bv")!.target, undefined, "v = 0 everywhere");
  assert.ok(
    pts.p0.every((x) => x[0] === CAVITY_PRESSURE_PIN[0] && x[1] === CAVITY_PRESSURE_PIN[1]),
  );
});

Deno.test("qtensor-soft: value groups hold Q(0) on t = 0 and 0 on ∂Ω; qt groups lie on t = 0", () => {
  const pts = sampled(qtensorSoft);
  const inDomain = (x: number[]) =>
    x.every((v, i) => v >= qtensorSoft.domain[i][0] && v <= qtensorSoft.domain[i][1]);
  for (const [name, pts_] of Object.entries(pts)) assert.ok(pts_.every(inDomain), name);
  for (const k of [0, 1]) {
    const g = qtensorSoft.groups.find((g) => g.name === `q${k + 1}`)!;
    const ps = pts[g.name];
    assert.ok(Math.abs(fraction(ps, (x) => x[0] === 0) - 0.5) < 0.05, `${g.name}: half at t = 0`);
    for (const x of ps) {
      const onSide = x[1] === 0 || x[1] === 2 || x[2] === 0 || x[2] === 2;
      assert.ok(x[0] === 0 || onSide, `${g.name}: [${x}] is neither initial nor boundary`);
      const want = x[0] === 0 ? qtensorInitial(x[1], x[2])[k] : 0;
      assert.equal(g.target!(x), want);
    }
    // The sides span the time interval.
    const sideTimes = ps.filter((x) => x[0] > 0).map((x) => x[0]);
    assert.ok(Math.max(...sideTimes) > 0.95 && Math.min(...sideTimes) < 0.05);
    assert.ok(pts[`qt${k + 1}`].every((x) => x[0] === 0), `qt${k + 1} on t = 0`);
  }
  // Q(0) vanishes on ∂Ω, so the two targets agree where t = 0 meets a side.
  for (const s of [0, 0.3, 1.7, 2]) {
    for (const [x, y] of [[0, s], [2, s], [s, 0], [s, 2]]) {
      assert.ok(qtensorInitial(x, y).every((v) => Math.abs(v) < 1e-15));
    }
  }
});

Deno.test("reference hooks: the solvers' solutions in evaluation-grid order", async () => {
  // Coarse solver settings keep this in milliseconds; the hooks are those of the built-ins.
  const cav = cavityProblem({ n: 33 });
  const grid = evaluationGrid(cav);
  const [u, v, p] = (await gridSolution(cav, grid))!;
  assert.deepEqual([u, v, p], cavityReference(grid, { n: 33 }));
  // Lid u = 1, no slip on the walls (below the lid corners, where the bicubic
  // interpolation between a wall node and the corner's u = 1 overshoots), v = 0 on ∂Ω.
  grid.forEach(([x, y], i) => {
    if (y === 1) assertClose(u[i], 1, { atol: 1e-12 });
    else if (y === 0 || ((x === 0 || x === 1) && y < 0.9)) assertClose(u[i], 0, { atol: 1e-12 });
    if (x === 0 || x === 1 || y === 0 || y === 1) assertClose(v[i], 0, { atol: 1e-12 });
    if (x === 0.5 && y === 0) assertClose(p[i], 0, { atol: 1e-12 });
  });
  const short = qtensorProblem({ T: 0.1 });
  const qgrid = evaluationGrid(short);
  const [q1, q2] = (await gridSolution(short, qgrid))!;
  const want = qtensorReference({ params: { T: 0.1 } }).outputs;
  assert.deepEqual([q1, q2], want);
  qgrid.forEach(([t, x, y], i) => {
    if (t !== 0) return;
    const [a, b] = qtensorInitial(x, y);
    assertClose(q1[i], a, { atol: 1e-12 });
    assertClose(q2[i], b, { atol: 1e-12 });
  });
});

// ---------------------------------------------------------------------------
// GPU engine against the float64 reference at random parameters.

const engine = await moduleEngine();
const gpuTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

/** Widths off the 8-row tile, counts off the 16-point padding. */
const CASES: {
  problem: Problem;
  sizes: number[];
  counts: Record<string, number>;
  label?: string;
}[] = [
  {
    problem: cavity,
    sizes: [2, 13, 9, 3],
    counts: { mx: 21, my: 17, div: 9, bu: 11, bv: 7, p0: 1 },
  },
  {
    problem: qtensorSoft,
    sizes: [3, 11, 13, 2],
    counts: { r1: 19, r2: 13, q1: 9, q2: 17, qt1: 5, qt2: 3 },
  },
  {
    // Hard constraints: the residuals read the transform's input expressions too.
    problem: qtensor,
    sizes: [3, 11, 13, 2],
    counts: { r1: 19, r2: 13 },
  },
  {
    problem: qtensorProblem({}, "boundary"),
    sizes: [3, 9, 2],
    counts: { r1: 11, r2: 7, q1: 5, q2: 9, qt1: 3, qt2: 6 },
    label: "qtensor (hard boundary)",
  },
];

for (const [ci, { problem, sizes, counts, label }] of CASES.entries()) {
  gpuTest(
    `${label ?? problem.name}: engine residuals, loss, gradient and norms match the reference`,
    async () => {
      const plan = await Plan.create(engine, { problem, sizes, activation: "tanh", counts });
      try {
        const params = testParams(sizes, 70 + ci);
        const points = samplePoints(problem, counts, 80 + ci);
        plan.setParams(params);
        plan.setPoints(points);
        const lambda = Object.fromEntries(problem.groups.map((g, i) => [g.name, 0.5 + i]));
        plan.setLambda(lambda);
        const ev = await plan.evaluate(true);
        const r64 = ref.residuals(problem, sizes, "tanh", params, points);
        const lg = ref.lossAndGradient(problem, sizes, "tanh", params, points, lambda);
        for (const g of problem.groups.map((g) => g.name)) {
          assertRelInf(ev.residuals[g], r64[g], 1e-4, `residuals.${g}`);
          assertRelInf([ev.lossPerGroup[g]], [lg.lossPerGroup[g]], 1e-4, `loss.${g}`);
        }
        assertRelInf([ev.loss], [lg.loss], 1e-4, "loss");
        assertRelInf(ev.gradient!, lg.gradient, 1e-3, "gradient");
        const ex = await plan.exactNorms();
        const n64 = ref.perPointGradNorms(problem, sizes, "tanh", params, points);
        for (const g of problem.groups.map((g) => g.name)) {
          assertRelInf(ex.norms[g], n64[g], 1e-3, `norms.${g}`);
        }
      } finally {
        await plan.dispose();
      }
    },
  );
}
