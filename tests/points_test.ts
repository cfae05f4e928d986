import assert from "node:assert/strict";
import { resolveCounts, samplePoints, sobolPoints } from "../src/points.ts";
import { UniformStream } from "../src/random.ts";
import { getProblem } from "../src/problems/mod.ts";

Deno.test("sobol: unshifted points are the Joe–Kuo sequence", () => {
  const zero = { next: () => 0 } as unknown as UniformStream;
  const p = sobolPoints(8, 3, zero).map((x) => x.map((v) => Math.round(v * 1000) / 1000));
  assert.deepEqual(p, [
    [0, 0, 0],
    [0.5, 0.5, 0.5],
    [0.75, 0.25, 0.25],
    [0.25, 0.75, 0.75],
    [0.375, 0.375, 0.625],
    [0.875, 0.875, 0.125],
    [0.625, 0.125, 0.875],
    [0.125, 0.625, 0.375],
  ]);
});

Deno.test("sobol: shifted points stay stratified in every dimension and pair", () => {
  const n = 256;
  const p = sobolPoints(n, 3, new UniformStream(7, 1));
  for (let d = 0; d < 3; d++) {
    const bins = new Array(16).fill(0);
    for (const x of p) bins[Math.floor(x[d] * 16)]++;
    assert.deepEqual(bins, new Array(16).fill(16), `dimension ${d}`);
  }
  // (0, m, 2)-net in the first two dimensions: every 16×16 box holds one point.
  const boxes = new Set(p.map((x) => `${Math.floor(x[0] * 16)},${Math.floor(x[1] * 16)}`));
  assert.equal(boxes.size, n);
});

Deno.test("samplePoints: reproducible per (seed, round), different across rounds and samplers", () => {
  const wave = getProblem("wave");
  const counts = resolveCounts(wave, { r: 64, u: 16, ut: 16 });
  for (const s of ["uniform", "sobol"] as const) {
    const a = samplePoints(wave, counts, 3, 2, s), b = samplePoints(wave, counts, 3, 2, s);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, samplePoints(wave, counts, 3, 3, s));
    for (const pt of a.r) assert.ok(pt.every((v) => v >= 0 && v <= 1));
  }
  assert.notDeepEqual(
    samplePoints(wave, counts, 3, 2, "uniform"),
    samplePoints(wave, counts, 3, 2, "sobol"),
  );
});
