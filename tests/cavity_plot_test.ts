/**
 * The cavity's centreline picture: the interpolated centrelines against fields
 * whose values there are known, the spec's panels, series and Ghia et al.'s
 * points, a PNG that decodes, and the problem's pictures hook. CPU only.
 */
import assert from "node:assert/strict";
import { decode } from "fast-png";
import { cavityPictures, centreline } from "../src/plot/cavity.ts";
import { renderPng, renderSvg } from "../src/plot/render.ts";
import { problemCharts } from "../src/plot/run_charts.ts";
import { gridAxes } from "../src/plot/solution.ts";
import { cavity, cavityProblem } from "../src/problems/cavity.ts";
import { evaluationGrid } from "../src/problems/problem.ts";
import { GHIA_RE100_U, GHIA_RE100_V } from "../src/solvers/ghia.ts";
import { assertAllClose } from "./assert_close.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

/** f on an nx × ny grid over [0, 1]² (y fastest), with its axes. */
function field(nx: number, ny: number, f: (x: number, y: number) => number) {
  const axes = [{ name: "x", lo: 0, hi: 1, n: nx }, { name: "y", lo: 0, hi: 1, n: ny }];
  const values = new Float64Array(nx * ny);
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) values[i * ny + j] = f(i / (nx - 1), j / (ny - 1));
  }
  return { axes, values };
}

Deno.test("cavity centrelines: on a grid line and between two, exact for a bilinear field", () => {
  const f = (x: number, y: number) => 2 * x + 3 * y + x * y;
  const { axes, values } = field(5, 9, f);
  // x = 0.5 is a grid line of the 5-point axis; y = 0.3 lies between two of the 9-point one.
  const v = centreline(axes, values, 0, 0.5);
  assertAllClose(v.s, [0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1], { atol: 1e-15 });
  assertAllClose(v.values, v.s.map((y) => f(0.5, y)), { atol: 1e-12, rtol: 0 });
  const h = centreline(axes, values, 1, 0.3);
  assertAllClose(h.s, [0, 0.25, 0.5, 0.75, 1], { atol: 1e-15 });
  assertAllClose(h.values, h.s.map((x) => f(x, 0.3)), { atol: 1e-12, rtol: 0 });
  // The domain's edges are lines too.
  assertAllClose(centreline(axes, values, 0, 1).values, v.s.map((y) => f(1, y)), { atol: 1e-12 });
});

Deno.test("cavity pictures: two panels, prediction and reference curves, Ghia's 17 points each, a PNG that decodes", async () => {
  const u = field(11, 11, (x, y) => y * y - x), v = field(11, 11, (x, y) => x * (1 - x) + y);
  const p = field(11, 11, () => 0);
  const ref = [u.values.map((a) => 2 * a), v.values, p.values];
  const charts = cavityPictures({
    axes: u.axes,
    prediction: [u.values, v.values, p.values],
    reference: ref,
  });
  assert.deepEqual(charts.map((c) => c.name), ["centrelines"]);
  const spec: Json = charts[0].spec;
  assert.equal(spec.hconcat.length, 2);
  const [left, right] = spec.hconcat;
  assert.equal(left.title, "u on the vertical centreline x = 0.5");
  assert.equal(right.title, "v on the horizontal centreline y = 0.5");
  const rows = (panel: Json, series: string) =>
    panel.layer.flatMap((l: Json) => l.data.values).filter((r: Json) => r.series === series);
  // u(0.5, y) = y² − 0.5 against y; the reference is twice that; v(x, 0.5) = x(1 − x) + 0.5.
  const pu = rows(left, "prediction");
  assertAllClose(pu.map((r: Json) => r.y), pu.map((r: Json) => r.x ** 2 - 0.5), { atol: 1e-12 });
  const ru = rows(left, "reference");
  assertAllClose(ru.map((r: Json) => r.y), ru.map((r: Json) => 2 * (r.x ** 2 - 0.5)), {
    atol: 1e-12,
  });
  const pv = rows(right, "prediction");
  assertAllClose(pv.map((r: Json) => r.y), pv.map((r: Json) => r.x * (1 - r.x) + 0.5), {
    atol: 1e-12,
  });
  // Ghia's tables as published: (y, u) on the left, (x, v) on the right.
  const gu = rows(left, "Ghia et al. (1982)"), gv = rows(right, "Ghia et al. (1982)");
  assert.deepEqual(gu.map((r: Json) => [r.x, r.y]), GHIA_RE100_U);
  assert.deepEqual(gv.map((r: Json) => [r.x, r.y]), GHIA_RE100_V);
  assert.deepEqual(left.layer[0].encoding.color.sort, [
    "prediction",
    "reference",
    "Ghia et al. (1982)",
  ]);
  const png = decode(await renderPng(await renderSvg(spec), 1));
  assert.ok(png.width > 600 && png.height > 250, `${png.width} × ${png.height}`);
  // Without a reference, and without Ghia's points (another Re): the prediction alone.
  const alone: Json = cavityPictures({
    axes: u.axes,
    prediction: [u.values, v.values, p.values],
    reference: null,
    ghia: false,
  })[0].spec;
  assert.equal(alone.hconcat[0].layer.length, 2, "a line and its points, no Ghia layer");
  assert.deepEqual(alone.hconcat[0].encoding.color.sort, ["prediction"]);
  assert.throws(
    () => cavityPictures({ axes: u.axes, prediction: [u.values], reference: null }),
    /must hold u and v with 121 values each/,
  );
});

Deno.test("cavity pictures hook: the built-in draws its centrelines, with Ghia's points at Re = 100 only", async () => {
  const grid = evaluationGrid(cavity);
  const wave = () => new Float64Array(grid.length).map((_, i) => Math.sin(i));
  const data = {
    axes: gridAxes(cavity),
    prediction: [wave(), wave(), wave()],
    solution: [wave(), wave(), wave()],
    solutionName: "reference",
  };
  const charts = await problemCharts(cavity, data);
  assert.deepEqual(charts.map((c) => c.name), ["centrelines"]);
  assert.match(charts[0].caption, /Ghia, Ghia & Shin \(1982\), Re = 100/);
  const re400 = await problemCharts(cavityProblem({ re: 400, n: 33 }), data);
  assert.doesNotMatch(re400[0].caption, /Ghia/);
});
