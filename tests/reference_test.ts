/**
 * The float64 reference against central finite differences, forward mode
 * against reverse mode, and the NTK quantities against each other.
 */
import assert from "node:assert/strict";
import {
  forwardChannels,
  jvp,
  lossAndGradient,
  residualGradients,
  residuals,
  vjp,
} from "../src/reference/mlp64.ts";
import type { ChannelSet } from "../src/problems/expr.ts";
import { xavierInit } from "../src/model.ts";
import { assertAllClose, assertClose } from "./assert_close.ts";
import { CASES, gaussianVector, sumAbs, testParams } from "./reference_cases.ts";

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
