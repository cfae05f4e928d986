/**
 * PNG plots: decoded with fast-png and checked by where the colormap's end
 * colours and the series colours land, plus the inputs that must not throw.
 */
import assert from "node:assert/strict";
import { decode } from "fast-png";
import { heatmapPng, heatmapsPng, lineChartPng, type Rgb } from "../src/plot.ts";
import { UserError } from "../src/errors.ts";

const VIRIDIS_FIRST: Rgb = [68, 1, 84];
const VIRIDIS_MID: Rgb = [33, 144, 140];
const VIRIDIS_LAST: Rgb = [253, 231, 37];
const MAGMA_FIRST: Rgb = [0, 0, 4];
const COOLWARM_FIRST: Rgb = [59, 76, 192];
const NAN_GREY: Rgb = [128, 128, 128];

interface Image {
  width: number;
  height: number;
  at(x: number, y: number): Rgb;
}

function open(png: Uint8Array): Image {
  const img = decode(png);
  assert.equal(img.depth, 8);
  const ch = img.channels;
  return {
    width: img.width,
    height: img.height,
    at: (x, y) => {
      const o = (y * img.width + x) * ch;
      return [img.data[o], img.data[o + 1], img.data[o + 2]];
    },
  };
}

const same = (a: Rgb, b: Rgb) => a[0] === b[0] && a[1] === b[1] && a[2] === b[2];

/** Every pixel of exactly colour `c`, in column-major order (leftmost first, then topmost). */
function pixelsOf(img: Image, c: Rgb): [number, number][] {
  const out: [number, number][] = [];
  for (let x = 0; x < img.width; x++) {
    for (let y = 0; y < img.height; y++) if (same(img.at(x, y), c)) out.push([x, y]);
  }
  return out;
}

/** Leftmost, then topmost pixel of colour `c`: a heatmap's top-left when that cell has it. */
function firstOf(img: Image, c: Rgb): [number, number] {
  const p = pixelsOf(img, c)[0];
  assert.ok(p, `colour ${c} does not appear`);
  return p;
}

function grid(rows: number, cols: number, f: (r: number, c: number) => number): Float64Array {
  return Float64Array.from({ length: rows * cols }, (_, k) => f(Math.floor(k / cols), k % cols));
}

Deno.test("heatmap: a gradient puts the first colour at the min corner and the last at the max corner", () => {
  const n = 101;
  const img = open(heatmapPng(grid(n, n, (r, c) => r + c), n, n));
  const s = 3; // default: the largest scale keeping 101 cells within 400 px
  const [x0, y0] = firstOf(img, VIRIDIS_FIRST);
  assert.ok(img.width > n * s && img.height > n * s);
  assert.deepEqual(img.at(x0 + s - 1, y0 + s - 1), VIRIDIS_FIRST, "top-left cell is s×s");
  assert.deepEqual(img.at(x0 + n * s - 1, y0 + n * s - 1), VIRIDIS_LAST, "bottom-right is max");
  assert.deepEqual(img.at(x0 + n * s - 1, y0), VIRIDIS_MID, "top-right is half way");
  assert.deepEqual(img.at(x0, y0 + n * s - 1), VIRIDIS_MID, "bottom-left is half way");
  assert.ok(!same(img.at(x0 + n * s, y0), VIRIDIS_MID), "image ends after cols·scale pixels");
});

Deno.test("heatmap: row 0 is at the top and column 0 at the left", () => {
  const [rows, cols, s] = [40, 60, 6];
  const byRow = open(heatmapPng(grid(rows, cols, (r) => r), rows, cols));
  const [x0, y0] = firstOf(byRow, VIRIDIS_FIRST);
  for (let x = x0; x < x0 + cols * s; x++) {
    assert.deepEqual(byRow.at(x, y0), VIRIDIS_FIRST, "whole top row is row 0 (min)");
    assert.deepEqual(byRow.at(x, y0 + rows * s - 1), VIRIDIS_LAST, "bottom row is max");
  }
  const byCol = open(heatmapPng(grid(rows, cols, (_, c) => c), rows, cols));
  const [x1, y1] = firstOf(byCol, VIRIDIS_FIRST);
  for (let y = y1; y < y1 + rows * s; y++) {
    assert.deepEqual(byCol.at(x1, y), VIRIDIS_FIRST, "left column is column 0 (min)");
    assert.deepEqual(byCol.at(x1 + cols * s - 1, y), VIRIDIS_LAST, "right column is max");
  }
});

Deno.test("heatmap: the colorbar runs from max at the image top to min at its bottom", () => {
  const [rows, cols] = [50, 50];
  const img = open(heatmapPng(grid(rows, cols, (r, c) => r * c), rows, cols));
  const [x0, y0] = firstOf(img, VIRIDIS_FIRST);
  const imgH = rows * 8;
  // The colorbar is the right-most place the max colour appears.
  const last = pixelsOf(img, VIRIDIS_LAST);
  const barX = last.at(-1)![0];
  assert.ok(barX > x0 + cols * 8, "colorbar is right of the image");
  const barTop = Math.min(...last.filter(([x]) => x === barX).map(([, y]) => y));
  assert.equal(barTop, y0);
  assert.deepEqual(img.at(barX, y0 + imgH - 1), VIRIDIS_FIRST);
  const without = open(
    heatmapPng(grid(rows, cols, (r, c) => r * c), rows, cols, { colorbar: false }),
  );
  assert.ok(without.width < img.width);
  assert.equal(pixelsOf(without, VIRIDIS_LAST).at(-1)![0], x0 + cols * 8 - 1);
});

Deno.test("heatmap: scale, min/max and colormap options", () => {
  const img = open(heatmapPng(new Float64Array(12).fill(5), 3, 4, { scale: 2, min: 0, max: 10 }));
  const [x0, y0] = firstOf(img, VIRIDIS_MID);
  assert.deepEqual(img.at(x0 + 7, y0 + 5), VIRIDIS_MID);
  assert.ok(!same(img.at(x0 + 8, y0), VIRIDIS_MID), "4 columns at scale 2 are 8 px");
  assert.ok(!same(img.at(x0, y0 + 6), VIRIDIS_MID), "3 rows at scale 2 are 6 px");

  const clamped = open(heatmapPng([-5, 0, 1, 9], 2, 2, { min: 0, max: 1 }));
  const [cx, cy] = firstOf(clamped, VIRIDIS_FIRST);
  const s = 200; // 400 px / 2 cells
  assert.deepEqual(clamped.at(cx + s, cy), VIRIDIS_FIRST, "values below min take the first colour");
  assert.deepEqual(
    clamped.at(cx + s, cy + s),
    VIRIDIS_LAST,
    "values above max take the last colour",
  );

  for (const [colormap, first] of [["magma", MAGMA_FIRST], ["coolwarm", COOLWARM_FIRST]] as const) {
    const img = open(heatmapPng(grid(10, 10, (r, c) => r + c), 10, 10, { colormap }));
    assert.ok(pixelsOf(img, first).length >= 40 * 40, `${colormap} draws its first colour`);
  }
});

Deno.test("heatmap: title and labels make room instead of covering the image", () => {
  const values = grid(20, 20, (r, c) => r - c);
  const plain = open(heatmapPng(values, 20, 20));
  const labelled = open(
    heatmapPng(values, 20, 20, { title: "u(t, x)", xLabel: "x", yLabel: "t" }),
  );
  assert.ok(labelled.height > plain.height && labelled.width > plain.width);
  const [px, py] = firstOf(plain, VIRIDIS_LAST);
  const [lx, ly] = firstOf(labelled, VIRIDIS_LAST);
  assert.ok(lx > px && ly > py, "image moved right and down");
  assert.equal(pixelsOf(labelled, VIRIDIS_LAST).length, pixelsOf(plain, VIRIDIS_LAST).length);
});

Deno.test("heatmap: constant, NaN and infinite inputs do not throw", () => {
  const constant = open(heatmapPng(new Float64Array(25).fill(3), 5, 5));
  assert.ok(pixelsOf(constant, VIRIDIS_MID).length > 0, "a constant field is the middle colour");
  const allNaN = open(heatmapPng(new Float64Array(25).fill(NaN), 5, 5));
  assert.ok(pixelsOf(allNaN, NAN_GREY).length > 0, "NaN cells are grey");
  const mixed = grid(5, 5, (r, c) => (r === c ? NaN : r === 0 ? Infinity : r + c));
  open(heatmapPng(mixed, 5, 5, { title: "mixed" }));
  open(heatmapPng([1e-12, 2e-12], 1, 2));
  open(heatmapPng([-3e7, 4e9], 2, 1));
  open(heatmapPng([7], 1, 1));
});

Deno.test("heatmap: bad shapes and ranges are user errors naming the fix", () => {
  assert.throws(() => heatmapPng([1, 2, 3], 2, 2), (e) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /3 entries but a 2×2 grid needs 4/);
    return true;
  });
  assert.throws(() => heatmapPng([], 0, 3), UserError);
  assert.throws(() => heatmapPng([1, 2], 1, 2, { min: 2, max: 1 }), UserError);
  assert.throws(() => heatmapPng([1, 2], 1, 2, { scale: 0.5 }), UserError);
  assert.throws(() => heatmapsPng([], 2, 2), UserError);
});

Deno.test("heatmapsPng: panels sit side by side in the order given", () => {
  const [rows, cols] = [30, 30];
  const values = grid(rows, cols, (r, c) => r + c);
  const single = open(heatmapPng(values, rows, cols, { title: "exact" }));
  const img = open(heatmapsPng(
    [
      { title: "prediction", values },
      { title: "exact", values, colormap: "magma" },
      { title: "|error|", values: values.map((v) => v * 1e-3), colormap: "coolwarm" },
    ],
    rows,
    cols,
  ));
  assert.equal(img.height, single.height);
  assert.ok(img.width >= 3 * rows * 13, "three images of 30 cells at scale 13");
  const xs = [VIRIDIS_FIRST, MAGMA_FIRST, COOLWARM_FIRST].map((c) => firstOf(img, c));
  assert.ok(xs[0][0] < xs[1][0] && xs[1][0] < xs[2][0], `left to right: ${xs.join(" ")}`);
  assert.ok(xs.every(([, y]) => y === xs[0][1]), "panel images share their top edge");
});

const RED: Rgb = [255, 0, 0];
const BLUE: Rgb = [0, 0, 255];

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

Deno.test("lineChart: series colours are drawn across the plot area where the data go", () => {
  const x = Array.from({ length: 101 }, (_, i) => i / 10);
  const img = open(lineChartPng([
    { name: "rising", x, y: x, color: RED },
    { name: "falling", x, y: x.map((v) => 10 - v), color: BLUE },
  ], { title: "two lines", xLabel: "x", yLabel: "y" }));
  assert.equal(img.width, 640);
  assert.equal(img.height, 400);
  for (const [color, rising] of [[RED, true], [BLUE, false]] as const) {
    const px = pixelsOf(img, color);
    assert.ok(px.length > 300, `${color} drawn (${px.length} px)`);
    const xs = px.map(([x]) => x);
    assert.ok(Math.max(...xs) - Math.min(...xs) > img.width / 2, "spans the plot");
    const leftY = median(px.filter(([x]) => x < img.width / 3).map(([, y]) => y));
    const rightY = median(px.filter(([x]) => x > (2 * img.width) / 3).map(([, y]) => y));
    assert.ok(rising ? leftY > rightY + 100 : rightY > leftY + 100, `${color} slope`);
  }
});

Deno.test("lineChart: default colours are distinct and the size is configurable", () => {
  const x = [0, 1, 2, 3];
  const img = open(lineChartPng([
    { name: "a", x, y: [0, 1, 0, 1] },
    { name: "b", x, y: [1, 2, 1, 2] },
    { name: "c", x, y: [2, 3, 2, 3] },
  ], { width: 800, height: 500 }));
  assert.equal(img.width, 800);
  assert.equal(img.height, 500);
  for (const c of [[31, 119, 180], [255, 127, 14], [44, 160, 44]] as Rgb[]) {
    assert.ok(pixelsOf(img, c).length > 100, `default colour ${c} drawn`);
  }
});

Deno.test("lineChart: log scale skips zeros, negatives and NaN without throwing", () => {
  const x = Array.from({ length: 50 }, (_, i) => i);
  const y = x.map((i) => (i % 10 === 0 ? 0 : i % 7 === 0 ? -1 : i === 25 ? NaN : 10 ** (-i / 10)));
  const img = open(lineChartPng([{ name: "loss", x, y, color: RED }], { logY: true }));
  assert.ok(pixelsOf(img, RED).length > 200);
  // Nothing plottable at all, on both kinds of axis.
  open(lineChartPng([{ name: "bad", x: [0, 1, 2], y: [0, -1, NaN] }], { logY: true }));
  open(lineChartPng([{ name: "nan", x: [NaN, 1], y: [1, NaN] }]));
  // Less than a decade, a single decade, and huge ranges.
  open(lineChartPng([{ name: "narrow", x: [0, 1], y: [0.021, 0.022] }], { logY: true }));
  open(lineChartPng([{ name: "wide", x: [0, 1, 2], y: [1e-30, 1, 1e30] }], { logY: true }));
});

Deno.test("lineChart: NaN leaves a gap, lone points still show, degenerate input does not throw", () => {
  const gap = open(lineChartPng([
    { name: "gap", x: [0, 1, 2, 3, 4, 5], y: [0, 1, NaN, NaN, 1, 0], color: RED },
  ]));
  const red = pixelsOf(gap, RED).map(([x]) => x);
  const [lo, hi] = [Math.min(...red), Math.max(...red)];
  const middle = red.filter((x) => x > lo + (hi - lo) * 0.45 && x < lo + (hi - lo) * 0.55);
  assert.equal(middle.length, 0, "no red between the two runs");
  // The legend swatch is red too, so compare against the same chart without the points.
  const dots = (y: number[]) => lineChartPng([{ name: "dots", x: [0, 1, 2], y, color: RED }]);
  const withDots = pixelsOf(open(dots([1, NaN, 3])), RED).length;
  const withoutDots = pixelsOf(open(dots([NaN, NaN, NaN])), RED).length;
  assert.ok(withDots >= withoutDots + 6, "isolated points are drawn as dots");
  open(lineChartPng([]));
  open(lineChartPng([{ name: "empty", x: [], y: [] }]));
  open(lineChartPng([{ name: "flat", x: [1, 1, 1], y: [2, 2, 2] }], { title: "flat" }));
  open(lineChartPng([{ name: "big", x: [0, 1e9], y: [-1e-9, 1e-9] }]));
});

Deno.test("lineChart: mismatched series and tiny sizes are user errors", () => {
  assert.throws(
    () => lineChartPng([{ name: "loss", x: [1, 2, 3], y: [1, 2] }]),
    /"loss" \(index 0\) has 3 x values but 2 y values/,
  );
  assert.throws(() => lineChartPng([], { width: 50 }), UserError);
  assert.throws(() => lineChartPng([], { height: 100.5 }), UserError);
});
