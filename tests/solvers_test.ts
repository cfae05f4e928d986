/**
 * The float64 reference solvers: the lid-driven cavity against Ghia, Ghia & Shin
 * (1982) and by grid convergence, the Q-tensor system's order of convergence, and
 * the cache of reference solutions.
 */
import assert from "node:assert/strict";
import {
  cavityGrid,
  cavityReference,
  type CavitySolution,
  solveCavity,
} from "../src/solvers/cavity.ts";
import { interpolateCubic } from "../src/solvers/interp.ts";
import { GHIA_RE100_U, GHIA_RE100_V } from "../src/solvers/ghia.ts";
import { TrigTransform } from "../src/solvers/fft.ts";
import { assertAllClose } from "./assert_close.ts";
import { clearMemo, decodeArrays } from "../src/solvers/store.ts";
import {
  qtensorAt,
  qtensorInitial,
  qtensorReference,
  solveQTensor,
} from "../src/solvers/qtensor.ts";

const GHIA_U = GHIA_RE100_U, GHIA_V = GHIA_RE100_V;

const solutions = new Map<number, CavitySolution>();
/** One solve per grid size for the whole file (129² takes a few seconds here). */
function cavity(n: number): CavitySolution {
  if (!solutions.has(n)) solutions.set(n, solveCavity({ n }));
  return solutions.get(n)!;
}

/**
 * Max |a − b| over the nodes of the coarse n × n grid, b on a grid refined by 2^r,
 * except within 1/8 of the lid's corners (where u jumps from 1 to 0 and no grid converges).
 */
function coarseDiff(a: Float64Array, n: number, b: Float64Array, r: number): number {
  const m = (n - 1) * 2 ** r + 1, s = 2 ** r, h = 1 / (n - 1);
  let d = 0;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      if (j * h > 0.875 && (i * h < 0.125 || i * h > 0.875)) continue;
      d = Math.max(d, Math.abs(a[j * n + i] - b[j * s * m + i * s]));
    }
  }
  return d;
}

Deno.test("cavity: 129² centrelines within 0.02 of Ghia et al. (1982) at Re = 100", () => {
  const s = cavity(129), n = 129, mid = 64;
  let eu = 0, ev = 0;
  for (const [y, u] of GHIA_U) eu = Math.max(eu, Math.abs(s.u[Math.round(y * 128) * n + mid] - u));
  for (const [x, v] of GHIA_V) ev = Math.max(ev, Math.abs(s.v[mid * n + Math.round(x * 128)] - v));
  assert.ok(eu <= 0.02, `max |u − Ghia| on x = 0.5 is ${eu}`);
  assert.ok(ev <= 0.02, `max |v − Ghia| on y = 0.5 is ${ev}`);
  // The primary vortex: Ghia's ψ_min is −0.103423.
  const psiMin = Math.min(...s.psi);
  assert.ok(Math.abs(psiMin + 0.103423) < 2e-3, `ψ_min ${psiMin}`);
});

Deno.test("cavity: grid convergence 33² → 65² → 129² is about second order", () => {
  const [a, b, c] = [cavity(33), cavity(65), cavity(129)];
  for (const field of ["u", "v", "psi"] as const) {
    const e1 = coarseDiff(a[field], 33, b[field], 1), e2 = coarseDiff(a[field], 33, c[field], 2);
    // At second order the difference between successive grids shrinks by 4 (measured:
    // 3.7–4.2 for u, v and ψ).
    const fine = coarseDiff(b[field], 65, c[field], 1);
    assert.ok(fine < e1 / 3, `${field}: |65 − 129| ${fine} vs |33 − 65| ${e1}`);
    assert.ok(e2 < 1.5 * e1, `${field}: |33 − 129| ${e2} vs |33 − 65| ${e1}`);
  }
});

Deno.test("cavity: mass conservation and the momentum equations with the pressure", () => {
  const n = 129, s = cavity(n), h = 1 / (n - 1), nu = 1 / s.re;
  const grid = { shape: [n, n], lo: [0, 0], hi: [1, 1] };
  // Net flux through lines off the grid nodes, through the interpolant (Simpson, 2001
  // points): within 0.2% of the one-way flux |ψ_min| ≈ 0.1.
  const simpson = (f: Float64Array) =>
    f.reduce((acc, v, k) => acc + v * (k === 0 || k === f.length - 1 ? 1 : k % 2 ? 4 : 2), 0) /
    (3 * (f.length - 1));
  const ts = Array.from({ length: 2001 }, (_, k) => k / 2000);
  for (const c of [0.3712, 0.5, 0.8133]) {
    const [uAcross] = interpolateCubic(grid, [s.u], ts.map((y) => [y, c]));
    const [, vAcross] = interpolateCubic(grid, [s.u, s.v], ts.map((x) => [c, x]));
    assert.ok(Math.abs(simpson(uAcross)) < 2e-4, `flux through x = ${c}: ${simpson(uAcross)}`);
    assert.ok(Math.abs(simpson(vAcross)) < 2e-4, `flux through y = ${c}: ${simpson(vAcross)}`);
  }
  // Momentum residual (u·∇)u + ∇p − νΔu by central differences, away from the lid's corners.
  const residual = (sol: CavitySolution, m: number): number => {
    const { u, v, p } = sol, k = 1 / (m - 1);
    let r = 0;
    for (let j = 1; j < m - 1; j++) {
      for (let i = 1; i < m - 1; i++) {
        if (j * k > 0.8) continue;
        const c = j * m + i, d = (a: Float64Array, o: number) => (a[c + o] - a[c - o]) / (2 * k);
        const lap = (a: Float64Array) =>
          (a[c + 1] + a[c - 1] + a[c + m] + a[c - m] - 4 * a[c]) / (k * k);
        r = Math.max(
          r,
          Math.abs(u[c] * d(u, 1) + v[c] * d(u, m) + d(p, 1) - nu * lap(u)),
          Math.abs(u[c] * d(v, 1) + v[c] * d(v, m) + d(p, m) - nu * lap(v)),
        );
      }
    }
    return r;
  };
  const r65 = residual(cavity(65), 65), r129 = residual(s, n);
  assert.ok(r129 < 0.015, `momentum residual on 129²: ${r129}`);
  assert.ok(r129 < r65 / 3, `momentum residual 65² ${r65} → 129² ${r129}`);
  // Pinned at (0.5, 0).
  assert.equal(s.p[Math.round(0.5 / h)], 0);
});

Deno.test("cavity: cavityReference interpolates the grid and uses the cache folder", async () => {
  const dir = await Deno.makeTempDir();
  const old = Deno.env.get("SKETCHPINN_CACHE");
  Deno.env.set("SKETCHPINN_CACHE", `${dir}/cache`);
  try {
    clearMemo();
    const pts = [[0.5, 0.5], [0.25, 0.75], [0.1, 0.9], [0.5, 0], [0.5, 1]];
    const first = cavityReference(pts, { n: 33 });
    const file = `${dir}/cache/cavity-re100-n33-v1.bin`;
    const bytes = await Deno.readFile(file);
    // At grid nodes the interpolant is the grid value.
    const direct = solveCavity({ n: 33 });
    assert.equal(first[0][0], direct.u[16 * 33 + 16]);
    assert.equal(first[2][3], 0);
    assert.equal(first[0][4], 1);
    // A second process (memo cleared) reads the same numbers from the file.
    clearMemo();
    const again = cavityReference(pts, { n: 33 });
    assert.deepEqual(again, first);
    // A truncated or non-finite file is recomputed and rewritten.
    const key = { solver: "cavity", version: 1, n: 33, re: 100, tol: 1e-8 };
    const lengths = [33 * 33, 33 * 33, 33 * 33];
    assert.ok(decodeArrays(bytes, key, lengths));
    assert.equal(decodeArrays(bytes, { ...key, re: 200 }, lengths), null);
    await Deno.writeFile(file, bytes.subarray(0, bytes.length - 8));
    clearMemo();
    assert.deepEqual(cavityReference(pts, { n: 33 }), first);
    assert.ok(decodeArrays(await Deno.readFile(file), key, lengths));
    const bad = bytes.slice();
    new DataView(bad.buffer).setFloat64(bad.length - 8, NaN, true);
    assert.equal(decodeArrays(bad, key, lengths), null);
    await Deno.writeFile(file, bad);
    clearMemo();
    assert.deepEqual(cavityReference(pts, { n: 33 }), first);
    assert.ok(decodeArrays(await Deno.readFile(file), key, lengths));
    // The figures of the solve travel with the file.
    const grid = cavityGrid({ n: 33 });
    assert.ok(grid.steps > 0 && grid.wallMs > 0, `steps ${grid.steps}, wall ${grid.wallMs} ms`);
    // No writable cache folder: it still computes.
    Deno.env.set("SKETCHPINN_CACHE", `${file}/not-a-dir`);
    clearMemo();
    assert.deepEqual(cavityReference(pts, { n: 33 }), first);
  } finally {
    if (old === undefined) Deno.env.delete("SKETCHPINN_CACHE");
    else Deno.env.set("SKETCHPINN_CACHE", old);
    clearMemo();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("interpolateCubic reproduces cubics in 2-D and 3-D, also at the walls", () => {
  const f2 = (x: number, y: number) => 1 + x - 2 * y + x * y * y - 3 * x ** 3 + y ** 3 * x ** 2;
  const n = 9, vals = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vals[i * n + j] = f2(i / 8, j / 8);
  const pts = [[0, 0], [1, 1], [0.013, 0.97], [0.51, 0.33], [0.99, 0.002]];
  const [got] = interpolateCubic({ shape: [n, n], lo: [0, 0], hi: [1, 1] }, [vals], pts);
  pts.forEach(([x, y], k) => assert.ok(Math.abs(got[k] - f2(x, y)) < 1e-12, `at ${x}, ${y}`));
  const f3 = (t: number, x: number, y: number) => t ** 3 - t * x * y + 2 * y ** 3 * x - 1;
  const v3 = new Float64Array(5 * 9 * 9);
  for (let a = 0; a < 5; a++) {
    for (let i = 0; i < 9; i++) {
      for (let j = 0; j < 9; j++) v3[(a * 9 + i) * 9 + j] = f3(a / 4, (2 * i) / 8, (2 * j) / 8);
    }
  }
  const p3 = [[0, 0, 0], [1, 2, 2], [0.37, 1.21, 0.05], [0.9, 0.33, 1.7]];
  const [g3] = interpolateCubic({ shape: [5, 9, 9], lo: [0, 0, 0], hi: [1, 2, 2] }, [v3], p3);
  p3.forEach(([t, x, y], k) =>
    assert.ok(Math.abs(g3[k] - f3(t, x, y)) < 1e-12, `at ${t}, ${x}, ${y}`)
  );
});

/** Relative L2 difference of two output sets on the same grid (stacked over components). */
function relL2(a: Float64Array[], b: Float64Array[]): number {
  let num = 0, den = 0;
  a.forEach((x, k) => x.forEach((v, i) => (num += (v - b[k][i]) ** 2, den += b[k][i] ** 2)));
  return Math.sqrt(num / den);
}

Deno.test("qtensor: second order in time (Δt = 1/40, 1/80, 1/160 on 80²)", () => {
  const [a, b, c] = [40, 80, 160].map((steps) => solveQTensor({ nx: 80, steps }).outputs);
  const ratio = relL2(a, b) / relL2(b, c);
  assert.ok(ratio > 3.6 && ratio < 4.4, `time refinement ratio ${ratio} (order 2: 4)`);
});

Deno.test("qtensor: second order in space (40², 80², 160²), reduced by the initial value's incompatibility", () => {
  const grids = [40, 80, 160];
  // A smooth initial value with ΔQ(0) = 0 on ∂Ω (compatible with Q = 0 there at second order).
  const initial = (x: number, y: number): [number, number] => [
    0.6 * Math.sin(Math.PI * x) * Math.sin((Math.PI * y) / 2),
    0.4 * Math.sin((Math.PI * x) / 2) * Math.sin(Math.PI * y),
  ];
  const [a, b, c] = grids.map((nx) => solveQTensor({ nx, steps: 160, initial }).outputs);
  const smooth = relL2(a, b) / relL2(b, c);
  assert.ok(smooth > 3.6 && smooth < 4.4, `compatible initial value: ratio ${smooth} (order 2: 4)`);
  // The problem's own initial value has ΔQ(0) ≠ 0 on ∂Ω while Q_tt = 0 there: fronts
  // of discontinuous Q_tt leave the boundary, and the order in L2 drops to about 1.7.
  const [p, q, r] = grids.map((nx) => solveQTensor({ nx, steps: 160 }).outputs);
  const own = relL2(p, q) / relL2(q, r);
  assert.ok(own > 2.8 && own < 4.4, `the problem's initial value: ratio ${own}`);
});

Deno.test("qtensor: initial value, boundary and boundedness on the evaluation grid", () => {
  const s = solveQTensor({ nx: 80 });
  assert.deepEqual(s.grid, [11, 41, 41]);
  const plane = 41 * 41;
  for (let i = 0; i < 41; i++) {
    for (let j = 0; j < 41; j++) {
      const [q1, q2] = qtensorInitial(i * 0.05, j * 0.05);
      const wall = i === 0 || j === 0 || i === 40 || j === 40;
      assert.ok(Math.abs(s.outputs[0][i * 41 + j] - (wall ? 0 : q1)) < 1e-15);
      assert.ok(Math.abs(s.outputs[1][i * 41 + j] - (wall ? 0 : q2)) < 1e-15);
      for (let k = 1; k < 11; k++) {
        const o = k * plane + i * 41 + j;
        if (wall) assert.ok(s.outputs[0][o] === 0 && s.outputs[1][o] === 0);
        // Eigenvalues ±√(Q1² + Q2²) stay within the initial range (damped, a < 0 pulls toward √(−a/2c)).
        assert.ok(Math.hypot(s.outputs[0][o], s.outputs[1][o]) < 1);
      }
    }
  }
});

Deno.test("qtensor: qtensorReference and qtensorAt (T = 0.1, cached)", async () => {
  const dir = await Deno.makeTempDir();
  const old = Deno.env.get("SKETCHPINN_CACHE");
  Deno.env.set("SKETCHPINN_CACHE", dir);
  try {
    clearMemo();
    const ref = qtensorReference({ params: { T: 0.1 } });
    assert.deepEqual(ref.grid, [11, 41, 41]);
    assert.equal(ref.nx, 640);
    const direct = solveQTensor({ nx: 640, steps: 40, params: { T: 0.1 } });
    assert.deepEqual(ref.outputs, direct.outputs);
    assert.ok((await Deno.stat(`${dir}/qtensor-T0.1-11x41-v1.bin`)).isFile);
    // Its figures: the solve's wall time and the difference to the 320² grid.
    assert.ok(ref.wallMs > 0);
    assert.equal(ref.coarser.nx, 320);
    assert.ok(ref.coarser.max > 0 && ref.coarser.max < 1e-3, `coarser ${ref.coarser.max}`);
    // At evaluation-grid nodes the interpolant returns the reference; between them it is smooth.
    const pts = [[0.05, 0.5, 1.25], [0.1, 1, 1], [0, 0.3, 0.7]];
    const at = qtensorAt(pts, { params: { T: 0.1 } });
    const idx = (t: number, x: number, y: number) =>
      Math.round(t / 0.01) * 1681 + Math.round(x / 0.05) * 41 + Math.round(y / 0.05);
    pts.forEach(([t, x, y], k) => {
      assert.ok(Math.abs(at[0][k] - ref.outputs[0][idx(t, x, y)]) < 1e-12);
      assert.ok(Math.abs(at[1][k] - ref.outputs[1][idx(t, x, y)]) < 1e-12);
    });
  } finally {
    if (old === undefined) Deno.env.delete("SKETCHPINN_CACHE");
    else Deno.env.set("SKETCHPINN_CACHE", old);
    clearMemo();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("solvers: bad options are UserErrors naming the option", async () => {
  const { UserError } = await import("../src/errors.ts");
  assert.throws(() => solveCavity({ n: 100 }), (e) => e instanceof UserError && e.input === "n");
  assert.throws(() => solveQTensor({ nx: 50 }), (e) => e instanceof UserError && e.input === "nx");
  assert.throws(
    () => solveQTensor({ nx: 40, steps: 15 }),
    (e) => e instanceof UserError && e.input === "steps",
  );
  // Δt far beyond the stability limit h/(√2·√(ML/σ)) diverges and says so.
  assert.throws(
    () => solveQTensor({ nx: 40, steps: 10, params: { T: 20 } }),
    (e) => e instanceof UserError && e.input === "steps",
  );
});

Deno.test("sine and cosine transforms match their sums, alone and in pairs", () => {
  for (const [kind, m] of [["sin", 15], ["cos", 17]] as const) {
    const x = Float64Array.from({ length: 2 * m }, (_, i) => Math.sin(3.7 * i) + 0.1 * i);
    const direct = new Float64Array(2 * m);
    for (let r = 0; r < 2; r++) {
      for (let k = 0; k < m; k++) {
        let sum = 0;
        for (let j = 0; j < m; j++) {
          const v = x[r * m + j];
          sum += kind === "sin"
            ? v * Math.sin((Math.PI * (j + 1) * (k + 1)) / (m + 1))
            : v * Math.cos((Math.PI * j * k) / (m - 1)) * (j === 0 || j === m - 1 ? 0.5 : 1);
        }
        direct[r * m + k] = sum;
      }
    }
    const t = new TrigTransform(kind, m);
    const single = x.slice(), pair = x.slice();
    t.apply(single, 0, 1);
    t.apply(single, m, 1);
    t.applyPair(pair, 0, m, 1);
    assertAllClose(single, direct, { atol: 1e-12, name: `${kind} alone` });
    assertAllClose(pair, direct, { atol: 1e-12, name: `${kind} in pairs` });
  }
});
