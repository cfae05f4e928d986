/**
 * The float64 reference's NTK quantities against each other and forward mode,
 * the wave residuals on the exact solution, and the centred first layer.
 */
import assert from "node:assert/strict";
import { fullNtk, jvp, ntkTraces, perPointGradNorms } from "../src/reference/mlp64.ts";
import { channelIndex, type ChannelRef, type ChannelSet, evalExpr } from "../src/problems/expr.ts";
import { exactOutput, groupChannels } from "../src/problems/problem.ts";
import { wave } from "../src/problems/wave.ts";
import { paramLayout, xavierInit } from "../src/model.ts";
import { assertAllClose, assertClose } from "./assert_close.ts";
import { CASES } from "./reference_cases.ts";

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
