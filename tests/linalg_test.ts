import assert from "node:assert/strict";
import { symmetricEigenvalues } from "../src/linalg.ts";
import { assertAllClose, assertClose } from "./assert_close.ts";

Deno.test("eigenvalues: known small matrices", () => {
  assertAllClose(symmetricEigenvalues([2, 1, 1, 2], 2), [1, 3], { rtol: 1e-14, atol: 1e-14 });
  assertAllClose(symmetricEigenvalues([5, 0, 0, 0, -1, 0, 0, 0, 2], 3), [-1, 2, 5], {
    atol: 1e-14,
  });
  // Tridiagonal 2,-1: eigenvalues 2 − 2cos(kπ/(n+1)).
  const n = 12, t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    t[i * n + i] = 2;
    if (i + 1 < n) t[i * n + i + 1] = t[(i + 1) * n + i] = -1;
  }
  const want = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1)))
    .sort((a, b) => a - b);
  assertAllClose(symmetricEigenvalues(t, n), want, { atol: 1e-12 });
});

Deno.test("eigenvalues: random Gram matrix keeps trace, Frobenius norm and positivity", () => {
  const n = 40, k = 25;
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  const b = Array.from({ length: n * k }, rnd);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += b[i * k + q] * b[j * k + q];
      a[i * n + j] = s;
    }
  }
  const ev = symmetricEigenvalues(a, n);
  let tr = 0, fro = 0;
  for (let i = 0; i < n; i++) tr += a[i * n + i];
  for (const v of a) fro += v * v;
  assertClose(ev.reduce((s, v) => s + v, 0), tr, { rtol: 1e-12 });
  assertClose(ev.reduce((s, v) => s + v * v, 0), fro, { rtol: 1e-12 });
  // Rank k: n − k eigenvalues vanish, the rest are positive.
  assert.ok(ev.slice(0, n - k).every((v) => Math.abs(v) < 1e-10), "null space");
  assert.ok(ev.slice(n - k).every((v) => v > 1e-6), "positive part");
});
