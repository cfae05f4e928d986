/**
 * Pictures: the Vega-Lite specs' data and encodings, the SVG's structure, and the
 * PNG's size, decoding and a few pixels whose colour the spec fixes (not a pixel
 * comparison against a stored image).
 */
import assert from "node:assert/strict";
import { decode } from "fast-png";
import * as vega from "vega";
import { type Heatmap, heatmapSpec, heatmapsSpec, valueDomain } from "../src/plot/heatmap.ts";
import { lineChartSpec } from "../src/plot/line.ts";
import { fontData, renderPng, renderSvg, toVega, writeChart } from "../src/plot/render.ts";
import { gridAxes, solutionSpec } from "../src/plot/solution.ts";
import { runCharts } from "../src/plot/run_charts.ts";
import { reportHtml } from "../src/plot/report.ts";
import { UserError } from "../src/errors.ts";
import type { LogRecord } from "../src/train_state.ts";
import vegaRuntime from "../src/plot/assets/vega.min.js.txt" with { type: "text" };

// deno-lint-ignore no-explicit-any
type Json = any;

const axis = (name: string, lo: number, hi: number, n: number) => ({ name, lo, hi, n });

/** The field on a grid, `values[i * ny + j] = f(x_i, y_j)`. */
function field(
  x: ReturnType<typeof axis>,
  y: ReturnType<typeof axis>,
  f: (a: number, b: number) => number,
) {
  const v = new Float64Array(x.n * y.n);
  for (let i = 0; i < x.n; i++) {
    for (let j = 0; j < y.n; j++) {
      v[i * y.n + j] = f(
        x.lo + (x.hi - x.lo) * i / (x.n - 1),
        y.lo + (y.hi - y.lo) * j / (y.n - 1),
      );
    }
  }
  return v;
}

function pngOf(bytes: Uint8Array) {
  assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], "PNG signature");
  return decode(bytes);
}

/** The data URL of the image layer, decoded. */
function raster(spec: Json) {
  const url: string = spec.layer[0].data.values[0].url;
  return decode(Uint8Array.from(atob(url.slice(22)), (c) => c.charCodeAt(0)));
}

Deno.test("heatmap: axes in the inputs' units, cells as one image, y up, colour bar on the domain", async () => {
  const x = axis("t", 0, 2, 101), y = axis("x", -1, 1, 51);
  const values = field(x, y, (t, xx) => t + 10 * xx);
  const spec: Json = heatmapSpec({ x, y, values, title: "u", label: "u" });
  const [img, bar] = spec.layer;
  assert.equal(img.mark.type, "image");
  assert.equal(img.encoding.x.title, "t");
  assert.equal(img.encoding.y.title, "x");
  // Cells are centred on the grid points: the image reaches half a spacing past them.
  assert.deepEqual(img.encoding.x.scale.domain, [-0.01, 2.01]);
  assert.deepEqual(img.encoding.y.scale.domain, [-1.02, 1.02]);
  assert.deepEqual(bar.encoding.color.scale.domain, [-10, 12]);
  assert.equal(bar.encoding.color.scale.scheme, "viridis");
  const r = raster(spec);
  assert.deepEqual([r.width, r.height], [101, 51]);
  // Row 0 of the image is the top, y = hi: there the field is largest at t = 2.
  const px = (
    row: number,
    col: number,
  ) => [...r.data.subarray((row * 101 + col) * 3, (row * 101 + col) * 3 + 3)];
  const lut = (u: number) => (vega.scheme("viridis") as unknown as (u: number) => string)(u);
  assert.equal(`rgb(${px(0, 100).join(", ")})`, lut(1), "top right is the maximum");
  assert.equal(`rgb(${px(50, 0).join(", ")})`, lut(0), "bottom left is the minimum");
  const svg = await renderSvg(spec);
  assert.equal((svg.match(/<image/g) ?? []).length, 1, "one image, not a rectangle per cell");
  assert.ok(svg.length < 60_000, `SVG of a 101 × 51 grid is small (${svg.length} bytes)`);
  for (const tick of ["0.0", "0.5", "1.0", "1.5", "2.0", "−1.0", "−0.5"]) {
    assert.ok(svg.includes(`>${tick}<`), `tick label ${tick}`);
  }
});

Deno.test("heatmap: the PNG shows the cells where the axes put them, under the axes", async () => {
  const x = axis("x", 0, 1, 2), y = axis("y", 0, 1, 2);
  // Bottom-left cell lowest, top-right highest.
  const spec = heatmapSpec({ x, y, values: [0, 1, 2, 3], width: 100, height: 100 });
  const png = pngOf(await renderPng(await renderSvg(spec), 1));
  assert.equal(png.channels, 3);
  const lut = vega.scheme("viridis") as unknown as (u: number) => string;
  /** Bounding box [x0, y0, x1, y1] of the pixels of colour `css`. */
  const box = (css: string) => {
    const b = [Infinity, Infinity, -1, -1];
    for (let i = 0; i < png.width * png.height; i++) {
      if (`rgb(${[...png.data.subarray(i * 3, i * 3 + 3)].join(", ")})` !== css) continue;
      const px = i % png.width, py = Math.floor(i / png.width);
      b[0] = Math.min(b[0], px), b[1] = Math.min(b[1], py);
      b[2] = Math.max(b[2], px), b[3] = Math.max(b[3], py);
    }
    return b;
  };
  const lo = box(lut(0)), hi = box(lut(1));
  // Each cell is a quarter of the 100 × 100 plot (the axis line may cover one row).
  for (const b of [lo, hi]) {
    assert.ok(b[2] - b[0] >= 48 && b[2] - b[0] <= 50 && b[3] - b[1] >= 48, `cell ${b}`);
  }
  assert.ok(lo[0] < hi[0] && lo[1] > hi[1], "minimum bottom left, maximum top right");
  assert.ok(Math.abs(lo[0] - (hi[0] - 50)) <= 1, `${lo[0]} vs ${hi[0]}`);
});

Deno.test("heatmaps: panels in order, each with its own colour bar; NaN and flat fields draw", async () => {
  const x = axis("x", 0, 1, 5), y = axis("y", 0, 1, 4);
  const panels: Heatmap[] = [
    { x, y, values: field(x, y, () => 2), title: "flat" },
    { x, y, values: field(x, y, (a) => a < 0.5 ? NaN : a), title: "holes", colormap: "magma" },
  ];
  const spec: Json = heatmapsSpec(panels, { title: "two" });
  assert.deepEqual(spec.concat.map((p: Json) => p.title), ["flat", "holes"]);
  assert.equal(spec.resolve.scale.color, "independent");
  assert.deepEqual(spec.concat[0].layer[1].encoding.color.scale.domain, [1, 3]);
  assert.deepEqual(valueDomain([NaN, Infinity]), [0, 1]);
  // A 1001 × 1001 grid is drawn from a raster of at most 440 pixels a side.
  const big = axis("x", 0, 1, 1001);
  const fine = raster(heatmapSpec({ x: big, y: big, values: field(big, big, (a, b) => a * b) }));
  assert.deepEqual([fine.width, fine.height], [440, 440]);
  assert.deepEqual(valueDomain([0, 0, 0]), [0, 1], "a zero error field starts the scale");
  const png = pngOf(await renderPng(await renderSvg(spec)));
  assert.ok(png.width > 400 && png.height > 200, `${png.width} × ${png.height}`);
});

Deno.test("heatmap: a value count that does not fit the grid is a user error naming the fix", () => {
  const x = axis("x", 0, 1, 3), y = axis("y", 0, 1, 3);
  assert.throws(() => heatmapSpec({ x, y, values: [1, 2, 3] }), (e) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /3 values but a 3 × 3 grid needs 9/);
    return true;
  });
  assert.throws(() => lineChartSpec([{ name: "a", x: [1, 2], y: [1] }]), UserError);
});

Deno.test("lineChart: long data, a legend beside the plot, tooltips, gaps for NaN and log ≤ 0", async () => {
  const xs = Array.from({ length: 100 }, (_, i) => (i + 1) * 10);
  const spec: Json = lineChartSpec([
    { name: "loss r", x: xs, y: xs.map((s) => (s === 500 ? NaN : 1 / s)) },
    { name: "loss u", x: xs, y: xs.map((s) => (s === 600 ? 0 : 2 / s)) },
  ], { title: "Losses", xLabel: "step", logY: true, zeroX: true });
  assert.equal(spec.data.values.length, 200);
  const gaps = spec.data.values.filter((r: Json) => r.y === null);
  assert.deepEqual(gaps.map((r: Json) => [r.series, r.x]), [["loss r", 500], ["loss u", 600]]);
  assert.equal(spec.encoding.y.scale.type, "log");
  assert.equal(spec.encoding.x.scale.zero, true);
  assert.equal(spec.encoding.color.legend.orient, "right");
  assert.deepEqual(spec.layer.map((l: Json) => l.mark.type), ["line", "point"]);
  assert.ok(spec.layer[1].encoding.tooltip.length === 3);
  assert.equal(spec.layer[1].mark.opacity, 0, "100 points per curve: dots only carry tooltips");
  const svg = await renderSvg(spec);
  assert.ok(svg.includes(">Losses<") && svg.includes(">loss u<") && svg.includes(">step<"));
  const png = pngOf(await renderPng(svg));
  assert.ok(png.width >= 1000 && png.height >= 600, `scale 2: ${png.width} × ${png.height}`);
});

Deno.test("lineChart: one log point sits on an axis from 0 to its step, drawn as a dot", async () => {
  const spec: Json = lineChartSpec([{ name: "loss r", x: [50], y: [0.2] }], {
    xLabel: "step",
    logY: true,
    zeroX: true,
  });
  assert.equal(spec.layer[1].mark.opacity, 1);
  const view = new vega.View(vega.parse(toVega(spec)), { renderer: "none" });
  await view.runAsync();
  assert.deepEqual(view.scale("x").domain(), [0, 50]);
  view.finalize();
});

Deno.test("lineChart: categories label the x axis by name", async () => {
  const spec: Json = lineChartSpec([{ name: "seed 0", x: [0, 1, 2], y: [0.5, 0.02, 0.01] }], {
    xLabel: "weighting",
    logY: true,
    categories: ["none", "exact", "pc"],
  });
  assert.deepEqual(spec.encoding.x.axis.values, [0, 1, 2]);
  assert.deepEqual(spec.encoding.x.scale.domain, [-0.5, 2.5]);
  const svg = await renderSvg(spec);
  for (const name of ["none", "exact", "pc"]) assert.ok(svg.includes(`>${name}<`), name);
});

const axes2 = [axis("t", 0, 1, 11), axis("x", 0, 1, 21)];

Deno.test("solution: 2 inputs give prediction | exact | error on one colour domain per field", () => {
  const exact = field(axes2[0], axes2[1], (t, x) => Math.sin(Math.PI * x) * Math.cos(t));
  const prediction = exact.map((v) => 3 * v); // beyond the exact range: must not be clipped
  const { spec } = solutionSpec({ axes: axes2, fields: [{ name: "u", prediction, exact }] });
  const row = (spec as Json).vconcat[0].hconcat;
  assert.deepEqual(row.map((p: Json) => p.title), [
    "u: prediction",
    "u: exact",
    "u: |prediction − exact|",
  ]);
  const dom = (p: Json) => p.layer[1].encoding.color.scale.domain;
  assert.deepEqual(dom(row[0]), dom(row[1]));
  assert.deepEqual(dom(row[0]), valueDomain(prediction));
  assert.equal(row[2].layer[1].encoding.color.scale.scheme, "magma");
  assert.equal(row[0].layer[0].encoding.x.title, "t", "first input across");
});

Deno.test("solution: a numerical reference is titled as one, in the panels and the caption", () => {
  const exact = field(axes2[0], axes2[1], (t, x) => x * t);
  const fields = [{ name: "u", prediction: exact, exact, exactName: "reference" }];
  const { charts } = runCharts({ axes: axes2, fields }, []);
  const sol = charts.find((c) => c.name === "solution")!;
  assert.equal(
    sol.caption,
    "prediction, reference solution and absolute error on the evaluation grid",
  );
  assert.deepEqual((sol.spec as Json).vconcat[0].hconcat.map((p: Json) => p.title), [
    "u: prediction",
    "u: reference",
    "u: |prediction − reference|",
  ]);
  const closed = runCharts({ axes: axes2, fields: [{ name: "u", prediction: exact, exact }] }, []);
  assert.match(closed.charts[0].caption, /exact solution/);
});

Deno.test("solution: 1 input is drawn against x, 3 inputs as t slices, 4 inputs say why not", () => {
  const a = axis("x", 0, 1, 5);
  const one: Json = solutionSpec({
    axes: [a],
    fields: [{ name: "u", prediction: [0, 1, 2, 3, 4], exact: [0, 1, 2, 3, 5] }],
  }).spec;
  const curves = one.vconcat[0].hconcat[0];
  assert.equal(curves.encoding.x.title, "x");
  assert.deepEqual(curves.data.values.slice(0, 5).map((r: Json) => r.x), [0, 0.25, 0.5, 0.75, 1]);
  const axes3 = [axis("t", 0, 2, 5), axis("x", 0, 1, 3), axis("y", 0, 1, 4)];
  const n = 5 * 3 * 4;
  const pred = Float64Array.from({ length: n }, (_, i) => i);
  const three: Json = solutionSpec({
    axes: axes3,
    fields: [{ name: "u", prediction: pred, exact: pred, exactName: "reference" }],
  }).spec;
  assert.deepEqual(three.vconcat.map((r: Json) => r.hconcat[0].title), [
    "u: prediction, t = 0",
    "u: prediction, t = 1",
    "u: prediction, t = 2",
  ]);
  assert.equal(three.vconcat[1].hconcat[1].title, "u: reference, t = 1");
  // The slice at t index 2 holds values 24..35.
  assert.deepEqual(three.vconcat[1].hconcat[0].layer[1].encoding.color.scale.domain, [24, 35]);
  const four = solutionSpec({
    axes: [...axes3, axis("z", 0, 1, 2)],
    fields: [{ name: "u", prediction: new Float64Array(n * 2) }],
  });
  assert.equal(four.spec, null);
  assert.match(four.reason!, /4 inputs/);
  assert.throws(
    () => solutionSpec({ axes: axes3, fields: [{ name: "u", prediction: [1, 2] }] }),
    UserError,
  );
  assert.deepEqual(gridAxes({ inputs: ["t", "x"], domain: [[0, 1], [-1, 1]], grid: [3, 5] }), [
    axis("t", 0, 1, 3),
    axis("x", -1, 1, 5),
  ]);
});

function fakeLog(steps: number[]): LogRecord[] {
  return steps.map((s, i) => ({
    step: s,
    wall_s: i,
    loss: { r: 1 / s, u: 0.5 / s },
    total: 1.5 / s,
    weights: { r: 1, u: 2 + i },
    rel_l2: 1 / Math.sqrt(s),
    avg_residual_sq: 1 / s,
    avg_grad_norm_sq: 10 / s,
  }));
}

Deno.test("run pictures: files of every kind and a self-contained report.html with live charts", async () => {
  const dir = await Deno.makeTempDir();
  const exact = field(axes2[0], axes2[1], (t, x) => t * x);
  const { charts } = runCharts(
    { axes: axes2, fields: [{ name: "u", prediction: exact.map((v) => v + 0.01), exact }] },
    fakeLog([6, 12, 18]),
  );
  assert.deepEqual(charts.map((c) => c.name), ["solution", "loss", "convergence", "weights"]);
  const loss: Json = charts[1].spec;
  assert.deepEqual(loss.encoding.color.sort, ["loss r", "loss u", "relative L2 error"]);
  assert.deepEqual(
    loss.data.values.filter((r: Json) => r.series === "loss u").map((r: Json) => r.y),
    [0.5 / 6, 0.5 / 12, 0.5 / 18],
  );
  const figures = [];
  for (const c of charts) figures.push({ ...await writeChart(dir, c.name, c.spec), ...c });
  for (const c of charts) {
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/${c.name}.vl.json`)), c.spec);
    assert.match(await Deno.readTextFile(`${dir}/${c.name}.svg`), /^<svg/);
    pngOf(await Deno.readFile(`${dir}/${c.name}.png`));
  }
  const html = reportHtml("run", "# run\n\ntext\n\n![loss](loss.png)\n", figures);
  assert.equal((html.match(/<figure/g) ?? []).length, 4);
  assert.ok(
    html.indexOf('id="fig-loss"') < html.indexOf('id="fig-solution"'),
    "placed in the text",
  );
  assert.ok(html.includes(vegaRuntime.slice(0, 200)), "Vega's runtime is inline");
  // Nothing is loaded from elsewhere: no src= or href= outside data URLs and anchors.
  assert.doesNotMatch(html, /\ssrc="(?!data:)/);
  assert.doesNotMatch(html, /<link\b/);
  const specs = [
    ...html.matchAll(/<script type="application\/json" id="spec-(\d+)">(.*?)<\/script>/gs),
  ];
  assert.equal(specs.length, 4);
  const vg = JSON.parse(specs.find((m) => m[1] === "1")![2]);
  assert.ok(JSON.stringify(vg).includes('"tooltip"'), "the compiled spec keeps tooltips");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("assets: DejaVu Sans, and the Vega runtime and resvg wasm of the versions in deno.json", async () => {
  const font = fontData();
  // TrueType: sfnt version 0x00010000; the name table spells the family.
  assert.deepEqual([...font.subarray(0, 4)], [0, 1, 0, 0]);
  assert.ok(new TextDecoder("utf-16be").decode(font).includes("DejaVu Sans"));
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const version = String(config.imports.vega).split("@").pop();
  assert.ok(vegaRuntime.includes(`version="${version}"`), `vega.min.js.txt is Vega ${version}`);
  // The source names npm packages in full; each at the version deno.json maps.
  for (
    const f of ["render.ts", "heatmap.ts", "png.ts", "report.ts", "text_width.ts", "resvg_wasm.js"]
  ) {
    const src = await Deno.readTextFile(new URL(`../src/plot/${f}`, import.meta.url));
    for (const m of src.matchAll(/"npm:(@?[^@"]+)@([^/"]+)[^"]*"/g)) {
      assert.equal(`npm:${m[1]}@${m[2]}`, config.imports[m[1]], `${f} imports ${m[1]}`);
    }
  }
});

Deno.test("png: paths drawn at opacity 0 are left out of the raster, nothing visible is", async () => {
  const { dropInvisible } = await import("../src/plot/png.ts");
  const hidden = '<path d="M0,0h220v220h-220Z" fill="rgb(68, 1, 84)" opacity="0"/>';
  const faint = '<path d="M0,0h9v9h-9Z" fill="red" opacity="0.05"/>';
  const plain = '<path d="M0,0h9v9h-9Z" fill="red" fill-opacity="0"/>';
  assert.equal(dropInvisible(`<g>${hidden}${faint}${plain}</g>`), `<g>${faint}${plain}</g>`);
  // A heatmap's colour legend comes from such a panel-sized invisible rect (the costly part).
  const n = 5, axis = { name: "x", lo: 0, hi: 1, n };
  const svg = await renderSvg(
    heatmapSpec({ x: axis, y: { ...axis, name: "y" }, values: new Float64Array(n * n).fill(1) }),
  );
  assert.match(svg, /<path d="M0,0h220v220h-220Z"[^>]*opacity="0"\/>/);
  assert.doesNotMatch(dropInvisible(svg), /opacity="0"\//);
});
