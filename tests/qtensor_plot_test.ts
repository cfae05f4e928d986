/**
 * The Q-tensor pictures (director field, largest eigenvalue over time) and the
 * problem pictures hook: the specs' data and encodings against fields whose
 * director and eigenvalue are known, PNGs that decode, and a hook's refusals.
 */
import assert from "node:assert/strict";
import { decode } from "fast-png";
import {
  directorAngle,
  directorGlyphs,
  eigenvalueOverTime,
  largestEigenvalue,
  qtensorPictures,
} from "../src/plot/qtensor.ts";
import { renderPng, renderSvg } from "../src/plot/render.ts";
import { problemCharts } from "../src/plot/run_charts.ts";
import { gridAxes } from "../src/plot/solution.ts";
import { qtensor } from "../src/problems/qtensor.ts";
import { heat1d } from "../src/problems/heat1d.ts";
import { evaluationGrid, type Problem } from "../src/problems/problem.ts";
import { UserError } from "../src/errors.ts";
import { lineChartSpec } from "../src/plot/line.ts";
import { runTraining } from "../src/run.ts";
import { assertAllClose } from "./assert_close.ts";
import { moduleEngine } from "./gpu_helpers.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

const axes = [
  { name: "t", lo: 0, hi: 1, n: 3 },
  { name: "x", lo: 0, hi: 2, n: 5 },
  { name: "y", lo: 0, hi: 2, n: 5 },
];

/** Q = s (2nnᵀ − I) with n at angle θ: Q1 = s cos 2θ, Q2 = s sin 2θ, on the grid above. */
function fields(
  s: (t: number, x: number, y: number) => number,
  th: (x: number, y: number) => number,
) {
  const q1: number[] = [], q2: number[] = [];
  for (
    const [t, x, y] of evaluationGrid({
      ...qtensor,
      grid: [3, 5, 5],
      domain: [[0, 1], [0, 2], [0, 2]],
    })
  ) {
    const v = s(t, x, y), a = th(x, y);
    q1.push(v * Math.cos(2 * a)), q2.push(v * Math.sin(2 * a));
  }
  return [Float64Array.from(q1), Float64Array.from(q2)];
}

// Zero on the boundary like the problem's Q; director angle 30° + 10° x.
const bump = (t: number, x: number, y: number) => (1 + t) * x * (2 - x) * y * (2 - y);
const angle = (x: number) => (30 + 10 * x) * Math.PI / 180;

Deno.test("director: the eigenvector of Q's largest eigenvalue, ±√(Q1² + Q2²)", () => {
  for (const th of [0, 0.3, 1.2, -0.7, Math.PI / 2]) {
    const q1 = 0.4 * Math.cos(2 * th), q2 = 0.4 * Math.sin(2 * th);
    const a = directorAngle(q1, q2);
    // Q n = s n for n = (cos a, sin a), s the largest eigenvalue.
    const s = largestEigenvalue([q1], [q2])[0];
    assertAllClose(
      [q1 * Math.cos(a) + q2 * Math.sin(a), q2 * Math.cos(a) - q1 * Math.sin(a)],
      [s * Math.cos(a), s * Math.sin(a)],
      { atol: 1e-15, rtol: 0, name: `θ = ${th}` },
    );
    assertAllClose([s], [0.4], { atol: 1e-15, rtol: 0 });
  }
});

Deno.test("director glyphs: centred on coarse grid points, at the director's angle, length ∝ eigenvalue, none where Q = 0", () => {
  const [q1, q2] = fields(bump, angle);
  const g = directorGlyphs(axes, q1, q2, 2, { sMax: 2 });
  // Only the 3 × 3 interior points have Q ≠ 0.
  assert.equal(g.length, 9);
  for (const p of g) {
    assertAllClose([(p.x1 + p.x2) / 2, (p.y1 + p.y2) / 2], [p.x, p.y], { atol: 1e-12, rtol: 0 });
    assertAllClose([Math.atan2(p.y2 - p.y1, p.x2 - p.x1)], [angle(p.x)], { atol: 1e-12, rtol: 0 });
    assertAllClose([p.s], [bump(1, p.x, p.y)], { atol: 1e-12, rtol: 0 });
    // Half-length 0.45 of the coarse spacing (0.5) at s = sMax.
    assertAllClose([Math.hypot(p.x2 - p.x1, p.y2 - p.y1) / 2], [0.225 * p.s / 2], {
      atol: 1e-12,
      rtol: 0,
    });
  }
  // Q zero up to rounding on the boundary (sin 2π ≈ −2.4e-16) draws no dot there either.
  const r1 = q1.map((v) => v === 0 ? 1e-16 : v), r2 = q2.map((v) => v === 0 ? -2e-16 : v);
  assert.equal(directorGlyphs(axes, r1, r2, 2, { sMax: 2 }).length, 9);
});

Deno.test("largest eigenvalue over time: max and mean over the domain per time", () => {
  const [q1, q2] = fields(bump, angle);
  const e = eigenvalueOverTime(axes, q1, q2);
  assert.deepEqual(e.t, [0, 0.5, 1]);
  assertAllClose(e.max, [1, 1.5, 2], { atol: 1e-12, rtol: 0 });
  // Mean of x(2−x)y(2−y) over the 5 × 5 nodes: (Σ_x x(2−x) / 5)² = (2.5 / 5)².
  assertAllClose(e.mean, [0.25, 0.375, 0.5], { atol: 1e-12, rtol: 0 });
});

Deno.test("qtensor pictures: director panels per time and source, eigenvalue curves, PNGs that decode", async () => {
  const [q1, q2] = fields(bump, angle);
  const [r1, r2] = fields((t, x, y) => 1.1 * bump(t, x, y), angle);
  const charts = qtensorPictures({ axes, prediction: [q1, q2], reference: [r1, r2] });
  assert.deepEqual(charts.map((c) => c.name), ["director", "eigenvalue"]);
  const dir: Json = charts[0].spec;
  assert.equal(dir.vconcat.length, 3, "t = 0, T/2, T");
  const panel = dir.vconcat[2].hconcat[1];
  assert.equal(panel.title, "director, reference, t = 1");
  assert.equal(panel.mark.type, "rule");
  assert.deepEqual(
    ["x", "y", "x2", "y2"].map((c) => panel.encoding[c].field),
    ["x1", "y1", "x2", "y2"],
  );
  assert.deepEqual(panel.encoding.x.scale.domain, [0, 2]);
  // One length scale for all panels: the reference at t = T holds the longest glyph.
  const longest = Math.max(
    ...panel.data.values.map((p: Json) => Math.hypot(p.x2 - p.x1, p.y2 - p.y1)),
  );
  assertAllClose([longest], [0.45], { atol: 1e-12, rtol: 0 });
  const eig: Json = charts[1].spec;
  assert.deepEqual(eig.encoding.color.sort, [
    "max over Ω, prediction",
    "mean over Ω, prediction",
    "max over Ω, reference",
    "mean over Ω, reference",
  ]);
  const maxRef = eig.data.values.filter((r: Json) => r.series === "max over Ω, reference");
  assertAllClose(maxRef.map((r: Json) => r.y), [1.1, 1.65, 2.2], { atol: 1e-12, rtol: 0 });
  for (const c of charts) {
    const png = decode(await renderPng(await renderSvg(c.spec), 1));
    assert.ok(png.width > 300 && png.height > 200, `${c.name}: ${png.width} × ${png.height}`);
  }
  // Without a reference: the prediction alone.
  const alone = qtensorPictures({ axes, prediction: [q1, q2], reference: null });
  assert.equal((alone[0].spec as Json).vconcat[0].hconcat.length, 1);
  assert.equal((alone[1].spec as Json).encoding.color.sort.length, 2);
});

Deno.test("problem pictures hook: qtensor's director and eigenvalue; refusals name the problem", async () => {
  const grid = evaluationGrid(qtensor);
  const zero = () => new Float64Array(grid.length).map((_, i) => Math.sin(i));
  const data = {
    axes: gridAxes(qtensor),
    prediction: [zero(), zero()],
    solution: [zero(), zero()],
    solutionName: "reference",
  };
  const charts = await problemCharts(qtensor, data);
  assert.deepEqual(charts.map((c) => c.name), ["director", "eigenvalue"]);
  assert.deepEqual(await problemCharts(heat1d, data), []);
  for (const name of ["loss", "bad name", ""]) {
    const p: Problem = { ...heat1d, pictures: () => [{ name, caption: "", spec: {} }] };
    await assert.rejects(
      () => problemCharts(p, data),
      (e) => e instanceof UserError && e.message.startsWith("Problem heat1d:"),
    );
  }
  const twice: Problem = {
    ...heat1d,
    pictures: () => [{ name: "a", caption: "", spec: {} }, { name: "a", caption: "", spec: {} }],
  };
  await assert.rejects(() => problemCharts(twice, data), UserError);
});

Deno.test({
  name: "run: a problem's pictures are written beside the run's own and placed in its reports",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const out = await Deno.makeTempDir();
    let seen: { predictions: number; solution: string } | undefined;
    const problem: Problem = {
      ...heat1d,
      name: "heat1d-pictured",
      pictures: (d) => {
        seen = { predictions: d.prediction.length, solution: d.solutionName };
        // u at t = 1 against x, from the data the hook is given.
        const [t, x] = d.axes, last = (t.n - 1) * x.n;
        const xs = Array.from({ length: x.n }, (_, i) => x.lo + (x.hi - x.lo) * i / (x.n - 1));
        return [{
          name: "final",
          caption: "u at the last time",
          spec: lineChartSpec([
            { name: "prediction", x: xs, y: Array.from(d.prediction[0]).slice(last) },
            { name: d.solutionName, x: xs, y: d.solution![0].subarray(last) },
          ]),
        }];
      },
    };
    await runTraining(await moduleEngine(), {
      problem,
      sizes: [2, 8, 1],
      n: { r: 16, u: 8 },
      steps: 2,
      logEvery: 2,
    }, { out });
    assert.deepEqual(seen, { predictions: 1, solution: "exact" });
    decode(await Deno.readFile(`${out}/final.png`));
    assert.match(await Deno.readTextFile(`${out}/report.md`), /!\[final\]\(final\.png\)/);
    assert.match(await Deno.readTextFile(`${out}/report.html`), /id="fig-final"/);
    assert.match(
      await Deno.readTextFile(`${out}/report.html`),
      /exact solution and absolute error/,
    );
    // The same problem scored against a numerical reference: titled as one.
    const { exact: _exact, ...rest } = heat1d;
    const referenced: Problem = {
      ...rest,
      name: "heat1d-referenced",
      reference: () =>
        Promise.resolve([
          Float64Array.from(evaluationGrid(heat1d), (x) => heat1d.exact!(x) as number),
        ]),
      pictures: problem.pictures,
    };
    await runTraining(await moduleEngine(), {
      problem: referenced,
      sizes: [2, 8, 1],
      n: { r: 16, u: 8 },
      steps: 2,
      logEvery: 2,
    }, { out: `${out}/referenced` });
    assert.equal(seen!.solution, "reference");
    const html = await Deno.readTextFile(`${out}/referenced/report.html`);
    assert.match(html, /prediction, reference solution and absolute error/);
    assert.match(await Deno.readTextFile(`${out}/referenced/solution.svg`), /u: reference/);
    await Deno.remove(out, { recursive: true });
  },
});
