/**
 * The float64 reference against central finite differences, forward mode
 * against reverse mode, and the NTK quantities against each other.
 */
import assert from "node:assert/strict";
import {
  forwardChannels,
  fullNtk,
  jvp,
  lossAndGradient,
  ntkTraces,
  perPointGradNorms,
  residualGradients,
  residuals,
  vjp,
} from "../src/reference/mlp64.ts";
import {
  channelIndex,
  type ChannelRef,
  type ChannelSet,
  E,
  evalExpr,
} from "../src/problems/expr.ts";
import { exactOutput, groupChannels, type Problem } from "../src/problems/problem.ts";
import { wave } from "../src/problems/wave.ts";
import { type Activation, paramLayout, xavierInit } from "../src/model.ts";
import { type Points, samplePoints } from "../src/points.ts";
import { gaussianAt } from "../src/random.ts";
import { assertAllClose, assertClose } from "./assert_close.ts";
import { sys2, sys3x4 } from "./gpu_helpers.ts";

// ---------------------------------------------------------------------------
// Test problems: wave (d = 2) and two made-up ones (d = 1, d = 3) whose residuals
// use every expression operation, nonlinear ∂F/∂channel, and channel sets where a
// first-derivative channel has no second-derivative partner.

const line: Problem = {
  name: "line",
  inputs: ["x"],
  domain: [[-1, 1]],
  doc: "test problem, d = 1",
  exact: ([x]) => Math.sin(Math.PI * x),
  grid: [11],
  sizes: [1, 4, 4, 4, 1],
  groups: [
    {
      name: "r",
      doc: "u_xx + u³ + sin(x) u_x − f",
      residual: E.add(E.d2u(0), E.pow(E.u(), 3), E.mul(E.sin(E.x(0)), E.du(0))),
      target: ([x]) => Math.cos(3 * x),
      sampleDim: 1,
      sample: ([a]) => [2 * a - 1],
      defaultN: 5,
    },
    {
      name: "q",
      doc: "u / (2 + tanh u) + exp(−u) u_x",
      residual: E.add(
        E.div(E.u(), E.add(2, E.tanh(E.u()))),
        E.mul(E.exp(E.neg(E.u())), E.du(0)),
      ),
      sampleDim: 1,
      sample: ([a]) => [a],
      defaultN: 4,
    },
    {
      name: "b",
      doc: "u − 0.5 at x = ±1",
      residual: E.u(),
      target: () => 0.5,
      sampleDim: 1,
      sample: ([a]) => [a < 0.5 ? -1 : 1],
      defaultN: 2,
    },
  ],
};

const cube: Problem = {
  name: "cube",
  inputs: ["x", "y", "z"],
  domain: [[0, 1], [0, 1], [0, 1]],
  doc: "test problem, d = 3",
  exact: () => 0,
  grid: [3, 3, 3],
  sizes: [3, 6, 5, 1],
  groups: [
    {
      name: "r",
      doc: "u_xx + u_yy + 0.5 u_z + u³ − x y",
      residual: E.add(E.d2u(0), E.d2u(1), E.mul(0.5, E.du(2)), E.pow(E.u(), 3)),
      target: ([x, y]) => x * y,
      sampleDim: 3,
      sample: (u) => [...u],
      defaultN: 5,
    },
    {
      name: "s",
      doc: "u_zz + u_x u + cos(u) − z u_y²  (channel set first = [2, 0, 1], one second)",
      residual: E.sub(
        E.add(E.d2u(2), E.mul(E.du(0), E.u()), E.cos(E.u())),
        E.mul(E.x(2), E.pow(E.du(1), 2)),
      ),
      sampleDim: 3,
      sample: (u) => [...u],
      defaultN: 4,
    },
    {
      name: "b",
      doc: "u − sin(y) on z = 0",
      residual: E.u(),
      target: ([, y]) => Math.sin(y),
      sampleDim: 2,
      sample: ([a, b]) => [a, b, 0],
      defaultN: 3,
    },
  ],
};

interface Case {
  problem: Problem;
  sizes: number[];
  activation: Activation;
  params: Float64Array;
  points: Points;
  label: string;
}

/** Xavier weights plus non-zero biases, so bias gradients are exercised too. */
function testParams(sizes: number[], seed: number): Float64Array {
  const p = Float64Array.from(xavierInit(sizes, seed));
  for (const lay of paramLayout(sizes).layers) {
    for (let o = 0; o < lay.out; o++) p[lay.b + o] = 0.3 * gaussianAt(seed, 77, 0, 1, lay.b + o);
  }
  return p;
}

const gaussianVector = (n: number, seed: number, dir = 0): Float64Array =>
  Float64Array.from({ length: n }, (_, i) => gaussianAt(seed, 99, 0, dir, i));

function makeCases(): Case[] {
  const setups: [Problem, number[], Record<string, number>][] = [
    [wave, [2, 5, 4, 1], { r: 4, u: 3, ut: 3 }],
    [line, [1, 4, 4, 4, 1], { r: 5, q: 4, b: 2 }],
    [cube, [3, 6, 5, 1], { r: 4, s: 3, b: 3 }],
    [sys2, [2, 4, 3, 2], { a: 3, b: 2, c: 2, d: 1 }],
    [sys3x4, [4, 3, 4, 3], { m: 2, n: 2, div: 1, bp: 1 }],
  ];
  const cases: Case[] = [];
  setups.forEach(([problem, sizes, counts], k) => {
    for (const activation of ["tanh", "sin"] as const) {
      cases.push({
        problem,
        sizes,
        activation,
        params: testParams(sizes, 11 + k),
        points: samplePoints(problem, counts, 5 + k),
        label: `${problem.name} [${sizes}] ${activation}`,
      });
    }
  });
  return cases;
}

const CASES = makeCases();

const sumAbs = (xs: ArrayLike<number>): number =>
  Array.from(xs).reduce((s, v) => s + Math.abs(v), 0);

// ---------------------------------------------------------------------------
// The helper itself

Deno.test("assertAllClose reports the first bad index and NaNs", () => {
  assertAllClose([1, 2, 3], [1, 2 + 1e-12, 3], { rtol: 1e-10 });
  assert.throws(
    () => assertAllClose([1, 2.1, 3.5], [1, 2, 3], { rtol: 1e-3, name: "demo" }),
    /demo: .*max abs error 5\.000e-1.*first bad index 1/,
  );
  assert.throws(() => assertAllClose([1, NaN], [1, 2], { atol: 1 }), /first bad index 1/);
  assert.throws(() => assertAllClose([1], [1, 2]), /length/);
  assert.throws(() => assertClose(1, 1.01, { atol: 1e-3 }), /first bad index 0/);
  assertClose(1, 1.01, { atol: 0.02 });
});

// ---------------------------------------------------------------------------
// (1) Taylor channels against finite differences of the value channel

Deno.test("forwardChannels matches central finite differences in the inputs", () => {
  // One-output networks here; systems have their own test below.
  for (const c of CASES.filter((c) => c.sizes.at(-1) === 1)) {
    const d = c.sizes[0];
    const value = (x: number[]) =>
      forwardChannels(c.sizes, c.activation, c.params, x, { first: [], numSecond: 0 })[0];
    // Full set, and a reversed one with a first-only channel, to check the ordering.
    const sets: ChannelSet[] = [
      { first: [...Array(d).keys()], numSecond: d },
      { first: [...Array(d).keys()].reverse(), numSecond: 1 },
    ];
    const xs = [[0.31, -0.42, 0.77], [-0.6, 0.15, 0.05]].map((x) => x.slice(0, d));
    for (const x of xs) {
      for (const set of sets) {
        const ch = forwardChannels(c.sizes, c.activation, c.params, x, set);
        assert.equal(ch.length, 1 + set.first.length + set.numSecond);
        assertClose(ch[0], value(x), { rtol: 1e-15, name: `${c.label} value` });
        const shift = (dir: number, h: number) => x.map((v, k) => (k === dir ? v + h : v));
        const nf = set.first.length;
        for (let i = 0; i < nf; i++) {
          const dir = set.first[i];
          const h1 = 1e-4;
          const fd1 = (value(shift(dir, h1)) - value(shift(dir, -h1))) / (2 * h1);
          assertClose(ch[1 + i], fd1, { rtol: 1e-6, atol: 1e-6, name: `${c.label} ∂_${dir}u` });
          if (i < set.numSecond) {
            const h2 = 1e-3;
            const fd2 = (value(shift(dir, h2)) - 2 * value(x) + value(shift(dir, -h2))) / (h2 * h2);
            assertClose(ch[1 + nf + i], fd2, {
              rtol: 1e-5,
              atol: 1e-5,
              name: `${c.label} ∂²_${dir}u`,
            });
          }
        }
      }
    }
  }
});

Deno.test("forwardChannels: every output's mixed and pure channels match finite differences", () => {
  // m = 3 outputs, d = 4 inputs, every mixed pair.
  const sizes = [4, 5, 6, 3];
  const params = testParams(sizes, 21);
  for (const activation of ["tanh", "sin"] as const) {
    const set: ChannelSet = {
      first: [2, 0, 1, 3],
      numSecond: 2,
      mixed: [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]],
    };
    const C = 1 + 4 + 2 + 6;
    const value = (x: number[]) =>
      forwardChannels(sizes, activation, params, x, { first: [], numSecond: 0 });
    const x = [0.31, -0.42, 0.77, 0.1];
    const ch = forwardChannels(sizes, activation, params, x, set);
    assert.equal(ch.length, 3 * C);
    const shift = (dirs: [number, number][]) =>
      x.map((v, k) => v + dirs.reduce((s, [d, h]) => s + (d === k ? h : 0), 0));
    for (let k = 0; k < 3; k++) {
      const u = (dirs: [number, number][]) => value(shift(dirs))[k];
      const tag = `${activation} output ${k}`;
      assertClose(ch[k * C], u([]), { rtol: 1e-15, name: `${tag} value` });
      set.first.forEach((dir, i) => {
        const h = 1e-4;
        const fd = (u([[dir, h]]) - u([[dir, -h]])) / (2 * h);
        assertClose(ch[k * C + 1 + i], fd, { rtol: 1e-6, atol: 1e-6, name: `${tag} ∂_${dir}` });
      });
      for (let i = 0; i < set.numSecond; i++) {
        const dir = set.first[i], h = 1e-3;
        const fd = (u([[dir, h]]) - 2 * u([]) + u([[dir, -h]])) / (h * h);
        assertClose(ch[k * C + 5 + i], fd, { rtol: 1e-5, atol: 1e-5, name: `${tag} ∂²_${dir}` });
      }
      set.mixed!.forEach(([a, b], q) => {
        const h = 1e-3;
        const fd = (u([[a, h], [b, h]]) - u([[a, h], [b, -h]]) - u([[a, -h], [b, h]]) +
          u([[a, -h], [b, -h]])) / (4 * h * h);
        assertClose(ch[k * C + 7 + q], fd, { rtol: 1e-5, atol: 1e-5, name: `${tag} ∂_${a}∂_${b}` });
      });
    }
  }
});

Deno.test("forwardChannels takes float32 params and rejects a wrong input dimension", () => {
  const sizes = [2, 5, 4, 1];
  const p32 = xavierInit(sizes, 3);
  const set = { first: [0, 1], numSecond: 2 };
  assertAllClose(
    forwardChannels(sizes, "tanh", p32, [0.2, 0.4], set),
    forwardChannels(sizes, "tanh", Float64Array.from(p32), [0.2, 0.4], set),
    { rtol: 0, name: "f32 vs f64 params" },
  );
  assert.throws(() => forwardChannels(sizes, "tanh", p32, [0.2], set), /coordinates/);
  assert.throws(
    () => forwardChannels(sizes, "tanh", p32.subarray(1), [0.2, 0.4], set),
    /parameters/,
  );
});

// ---------------------------------------------------------------------------
// (2) Loss gradient against central differences in every parameter

Deno.test("lossAndGradient matches central finite differences in every parameter", () => {
  for (const c of CASES) {
    const weights = Object.fromEntries(c.problem.groups.map((g, j) => [g.name, 0.5 + 1.3 * j]));
    const { loss, lossPerGroup, gradient } = lossAndGradient(
      c.problem,
      c.sizes,
      c.activation,
      c.params,
      c.points,
      weights,
    );
    // The loss from its definition on the residuals.
    const res = residuals(c.problem, c.sizes, c.activation, c.params, c.points);
    let expectLoss = 0;
    for (const g of c.problem.groups) {
      const r = res[g.name];
      const mean = r.reduce((s, v) => s + v * v, 0) / r.length;
      assertClose(lossPerGroup[g.name], mean, { rtol: 1e-14, name: `${c.label} loss ${g.name}` });
      expectLoss += weights[g.name] * mean;
    }
    assertClose(loss, expectLoss, { rtol: 1e-14, name: `${c.label} loss` });
    assert.ok(loss > 0, `${c.label}: loss should be positive for a random network`);

    const h = 1e-6;
    const fd = new Float64Array(c.params.length);
    for (let k = 0; k < c.params.length; k++) {
      const p = Float64Array.from(c.params);
      p[k] = c.params[k] + h;
      const up = lossAndGradient(c.problem, c.sizes, c.activation, p, c.points, weights).loss;
      p[k] = c.params[k] - h;
      const down = lossAndGradient(c.problem, c.sizes, c.activation, p, c.points, weights).loss;
      fd[k] = (up - down) / (2 * h);
    }
    assertAllClose(gradient, fd, { rtol: 1e-6, atol: 1e-6, name: `${c.label} gradient` });
    assert.ok(sumAbs(gradient) > 1e-3, `${c.label}: gradient should not vanish`);
  }
});

Deno.test("lossAndGradient defaults every weight to 1", () => {
  const c = CASES[0];
  const ones = Object.fromEntries(c.problem.groups.map((g) => [g.name, 1]));
  const a = lossAndGradient(c.problem, c.sizes, c.activation, c.params, c.points);
  const b = lossAndGradient(c.problem, c.sizes, c.activation, c.params, c.points, ones);
  assert.equal(a.loss, b.loss);
  assertAllClose(a.gradient, b.gradient, { rtol: 0 });
  assert.throws(
    () => lossAndGradient(c.problem, c.sizes, c.activation, c.params, { r: [[0.1, 0.2]] }),
    /lack group "u"/,
  );
});

// ---------------------------------------------------------------------------
// (3) Forward mode against finite differences and against reverse mode

Deno.test("jvp matches central differences of the residuals and residualGradients·s", () => {
  for (const c of CASES) {
    const s = gaussianVector(c.params.length, 1);
    const Js = jvp(c.problem, c.sizes, c.activation, c.params, c.points, s);
    const h = 1e-6;
    const along = (t: number) =>
      residuals(c.problem, c.sizes, c.activation, c.params.map((v, k) => v + t * s[k]), c.points);
    const up = along(h), down = along(-h);
    const grads = residualGradients(c.problem, c.sizes, c.activation, c.params, c.points);
    for (const g of c.problem.groups) {
      const fd = up[g.name].map((v, i) => (v - down[g.name][i]) / (2 * h));
      assertAllClose(Js[g.name], fd, {
        rtol: 1e-6,
        atol: 1e-6,
        name: `${c.label} jvp ${g.name} vs fd`,
      });
      const viaGrad = grads[g.name].map((gr) => gr.reduce((acc, v, k) => acc + v * s[k], 0));
      assertAllClose(Js[g.name], viaGrad, {
        rtol: 1e-10,
        atol: 1e-10,
        name: `${c.label} jvp ${g.name} vs ∇r·s`,
      });
      assert.ok(sumAbs(Js[g.name]) > 1e-6, `${c.label}: J s of group ${g.name} should not vanish`);
    }
  }
});

// ---------------------------------------------------------------------------
// (4) Adjoint identity vᵀ(J s) = sᵀ(Jᵀ v), no ε

Deno.test("vjp and jvp satisfy the adjoint identity; vjp is Σ v_i ∇r_i; gradient is a vjp", () => {
  for (const c of CASES) {
    const s = gaussianVector(c.params.length, 2);
    const v: Record<string, Float64Array> = {};
    c.problem.groups.forEach((g, j) => {
      v[g.name] = gaussianVector(c.points[g.name].length, 3, 1 + j);
    });
    const Js = jvp(c.problem, c.sizes, c.activation, c.params, c.points, s);
    const JTv = vjp(c.problem, c.sizes, c.activation, c.params, c.points, v);
    let lhs = 0, scale = 0;
    for (const g of c.problem.groups) {
      Js[g.name].forEach((y, i) => {
        lhs += v[g.name][i] * y;
        scale += Math.abs(v[g.name][i] * y);
      });
    }
    const rhs = JTv.reduce((acc, w, k) => acc + w * s[k], 0);
    assertClose(lhs, rhs, { rtol: 1e-12, atol: 1e-13 * scale, name: `${c.label} vᵀJs = sᵀJᵀv` });
    assert.ok(Math.abs(lhs) > 1e-8, `${c.label}: vᵀJs should not vanish`);

    // Jᵀv as the weighted sum of the per-point gradients.
    const grads = residualGradients(c.problem, c.sizes, c.activation, c.params, c.points);
    const sum = new Float64Array(c.params.length);
    for (const g of c.problem.groups) {
      grads[g.name].forEach((gr, i) => gr.forEach((x, k) => (sum[k] += v[g.name][i] * x)));
    }
    assertAllClose(JTv, sum, { rtol: 1e-12, atol: 1e-13 * sumAbs(sum), name: `${c.label} Jᵀv` });

    // ∂L/∂θ = Jᵀ v with v_i = λ_j (2/N_j) r_i.
    const weights = Object.fromEntries(c.problem.groups.map((g, j) => [g.name, 2 - 0.4 * j]));
    const res = residuals(c.problem, c.sizes, c.activation, c.params, c.points);
    const seeds = Object.fromEntries(
      c.problem.groups.map((g) => [
        g.name,
        res[g.name].map((r) => weights[g.name] * (2 / res[g.name].length) * r),
      ]),
    );
    const { gradient } = lossAndGradient(
      c.problem,
      c.sizes,
      c.activation,
      c.params,
      c.points,
      weights,
    );
    const viaVjp = vjp(c.problem, c.sizes, c.activation, c.params, c.points, seeds);
    assertAllClose(gradient, viaVjp, {
      rtol: 1e-12,
      atol: 1e-14 * sumAbs(viaVjp),
      name: `${c.label} ∇L`,
    });
  }
});

// ---------------------------------------------------------------------------
// (5) Exact NTK: traces, weights, full matrix, checked against forward mode

Deno.test("ntkTraces weights satisfy λ ≥ 1 and Σ 1/λ = 1; fullNtk agrees with forward mode", () => {
  for (const c of CASES) {
    const { traces, means, weights } = ntkTraces(
      c.problem,
      c.sizes,
      c.activation,
      c.params,
      c.points,
    );
    const norms = perPointGradNorms(c.problem, c.sizes, c.activation, c.params, c.points);
    let invSum = 0, traceSum = 0;
    for (const g of c.problem.groups) {
      const N = c.points[g.name].length;
      assert.ok(traces[g.name] > 0, `${c.label}: trace of ${g.name} should be positive`);
      assertClose(means[g.name], traces[g.name] / N, { rtol: 1e-15 });
      assertClose(traces[g.name], norms[g.name].reduce((a, b) => a + b, 0), { rtol: 1e-14 });
      assert.ok(weights[g.name] >= 1, `${c.label}: λ_${g.name} = ${weights[g.name]} < 1`);
      invSum += 1 / weights[g.name];
      traceSum += traces[g.name];
    }
    assertClose(invSum, 1, { rtol: 1e-14, name: `${c.label} Σ 1/λ` });

    const { order, K } = fullNtk(c.problem, c.sizes, c.activation, c.params, c.points);
    const n = order.length;
    assert.equal(K.length, n * n);
    assert.deepEqual(
      order.map((o) => o.group),
      c.problem.groups.flatMap((g) => c.points[g.name].map(() => g.name)),
    );
    let trace = 0;
    for (let i = 0; i < n; i++) trace += K[i * n + i];
    assertClose(trace, traceSum, { rtol: 1e-13, name: `${c.label} trace(K)` });

    // Independent of reverse mode: column p of J is J e_p, so K = Σ_p (J e_p)(J e_p)ᵀ.
    const P = c.params.length, Kf = new Float64Array(n * n);
    for (let p = 0; p < P; p++) {
      const e = new Float64Array(P);
      e[p] = 1;
      const Je = jvp(c.problem, c.sizes, c.activation, c.params, c.points, e);
      const col = order.map((o) => Je[o.group][o.index]);
      for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) Kf[i * n + k] += col[i] * col[k];
    }
    const scale = Math.max(...K);
    assertAllClose(K, Kf, {
      rtol: 1e-11,
      atol: 1e-12 * scale,
      name: `${c.label} K vs forward mode`,
    });
  }
});

Deno.test("ntkTraces weights equal the trace ratios of design §2 on a hand-checked example", () => {
  const c = CASES[0];
  const { means, weights } = ntkTraces(c.problem, c.sizes, c.activation, c.params, c.points);
  const { r, u, ut } = means;
  assertClose(weights.r, (r + u + ut) / r, { rtol: 1e-15 });
  assertClose(weights.u, (r + u + ut) / u, { rtol: 1e-15 });
  assertClose(weights.ut, (r + u + ut) / ut, { rtol: 1e-15 });
});

// ---------------------------------------------------------------------------
// (6) The wave problem's residuals vanish on its exact solution

/** u, u_t, u_x, u_tt, u_xx of the exact wave solution, differentiated by hand. */
function waveExactDerivs(t: number, x: number, speed = 2): Record<string, number> {
  // u = sin(πx) cos(cπt) + 0.5 sin(4πx) cos(4cπt), c the wave speed (2 in the problem).
  const pi = Math.PI, w1 = speed * pi, w2 = 4 * speed * pi;
  const s1 = Math.sin(pi * x),
    s2 = Math.sin(4 * pi * x),
    c1 = Math.cos(w1 * t),
    c2 = Math.cos(w2 * t);
  return {
    u: s1 * c1 + 0.5 * s2 * c2,
    u_t: -w1 * s1 * Math.sin(w1 * t) - 0.5 * w2 * s2 * Math.sin(w2 * t),
    u_x: pi * Math.cos(pi * x) * c1 + 2 * pi * Math.cos(4 * pi * x) * c2,
    u_tt: -w1 * w1 * s1 * c1 - 0.5 * w2 * w2 * s2 * c2,
    u_xx: -pi * pi * s1 * c1 - 8 * pi * pi * s2 * c2,
  };
}

function waveChannels(set: ChannelSet, dv: Record<string, number>): Float64Array {
  const ch = new Float64Array(1 + set.first.length + set.numSecond);
  const put = (ref: ChannelRef, v: number) => {
    const i = channelIndex(set, ref);
    if (i >= 0) ch[i] = v;
  };
  put({ order: 0, dir: 0 }, dv.u);
  put({ order: 1, dir: 0 }, dv.u_t);
  put({ order: 1, dir: 1 }, dv.u_x);
  put({ order: 2, dir: 0 }, dv.u_tt);
  put({ order: 2, dir: 1 }, dv.u_xx);
  return ch;
}

Deno.test("wave residuals vanish on the exact solution and not on a wrong one", () => {
  const pts = [[0.13, 0.37], [0.5, 0.25], [0.91, 0.66], [0, 0.42], [0.27, 0], [0.64, 1]];
  // The hand derivatives first, against finite differences of wave.exact.
  for (const [t, x] of pts.slice(0, 3)) {
    const dv = waveExactDerivs(t, x), h = 1e-5, h2 = 1e-3;
    const f = (a: number, b: number) => exactOutput(wave)!([a, b]);
    assertClose(dv.u, f(t, x), { rtol: 1e-14, atol: 1e-15 });
    assertClose(dv.u_t, (f(t + h, x) - f(t - h, x)) / (2 * h), { rtol: 1e-7, atol: 1e-7 });
    assertClose(dv.u_x, (f(t, x + h) - f(t, x - h)) / (2 * h), { rtol: 1e-7, atol: 1e-7 });
    assertClose(dv.u_tt, (f(t + h2, x) - 2 * f(t, x) + f(t - h2, x)) / (h2 * h2), {
      rtol: 1e-4,
      atol: 1e-3,
    });
    assertClose(dv.u_xx, (f(t, x + h2) - 2 * f(t, x) + f(t, x - h2)) / (h2 * h2), {
      rtol: 1e-4,
      atol: 1e-3,
    });
  }
  for (const g of wave.groups) {
    const set = groupChannels(g);
    for (const pt of pts) {
      const ch = waveChannels(set, waveExactDerivs(pt[0], pt[1]));
      const r = evalExpr(g.residual, pt, ch, set) - (g.target ? g.target(pt) : 0);
      assertClose(r, 0, { atol: 1e-10, name: `wave ${g.name} at [${pt}]` });
    }
  }
  // A solution of u_tt = u_xx (speed 1) must leave a residual in "r", so the check can fail.
  const r = wave.groups.find((g) => g.name === "r")!;
  const set = groupChannels(r);
  assert.deepEqual(set, { first: [0, 1], numSecond: 2 });
  const wrong = evalExpr(
    r.residual,
    pts[0],
    waveChannels(set, waveExactDerivs(0.13, 0.37, 1)),
    set,
  );
  assert.ok(
    Math.abs(wrong) > 1,
    `wrong-speed solution should not satisfy the wave equation (${wrong})`,
  );
});

Deno.test("centered init: the first layer is Xavier's on inputs mapped to [-1, 1], folded", () => {
  const sizes = [2, 9, 5, 1];
  const domain: [number, number][] = [[0, 1], [-2, 6]];
  const plain = xavierInit(sizes, 4), centered = xavierInit(sizes, 4, domain);
  const [first] = paramLayout(sizes).layers;
  // Layers after the first are untouched.
  assert.deepEqual(centered.slice(first.b + first.out), plain.slice(first.b + first.out));
  for (const x of [[0, -2], [1, 6], [0.5, 2], [0.25, -1]]) {
    const xi = x.map((v, a) => 2 * (v - domain[a][0]) / (domain[a][1] - domain[a][0]) - 1);
    for (let o = 0; o < first.out; o++) {
      let zc = centered[first.b + o], zp = 0;
      for (let a = 0; a < 2; a++) {
        zc += centered[first.w + o * 2 + a] * x[a];
        zp += plain[first.w + o * 2 + a] * xi[a];
      }
      assertClose(zc, zp, { rtol: 1e-5, atol: 1e-6 });
    }
  }
  // The fold moved the biases off zero (at the centre, (0.5, 2), every z is 0).
  assert.ok(centered.slice(first.b, first.b + first.out).some((b) => Math.abs(b) > 1e-3));
  assert.throws(() => xavierInit(sizes, 4, [[0, 1]]), /2 inputs/);
});
