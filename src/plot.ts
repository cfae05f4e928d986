/**
 * Pictures for training reports, returned as PNG bytes: heatmaps of a field on a
 * grid (one or several side by side) and line charts such as loss curves.
 *
 * Only rasterisation lives here (grid cells, anti-aliased lines, a 5×7 bitmap
 * font); fast-png does the encoding. Images are 8-bit RGB on white.
 *
 * @module
 */
// A full npm: specifier so that mod.ts imports without this package's deno.json.
// deno-lint-ignore no-import-prefix
import { encode } from "npm:fast-png@8.0.0";
import { check } from "./errors.ts";

/** An sRGB colour, each channel 0–255. */
export type Rgb = readonly [number, number, number];

/** Colormaps for heatmaps: two perceptually uniform ones and a diverging one for signed data. */
export type Colormap = "viridis" | "magma" | "coolwarm";

/** Options for {@linkcode heatmapPng}. */
export interface HeatmapOptions {
  /** Drawn above the image. */
  title?: string;
  /** Value mapped to the colormap's first colour; default the smallest finite value. */
  min?: number;
  /** Value mapped to the colormap's last colour; default the largest finite value. */
  max?: number;
  /** Default "viridis". */
  colormap?: Colormap;
  /** Pixels per grid cell; default the largest integer keeping the image within 400 px (at least 1). */
  scale?: number;
  /** Draw a colorbar with min, middle and max labels to the right; default true. */
  colorbar?: boolean;
  /** Names the column axis (left to right), drawn under the image. */
  xLabel?: string;
  /** Names the row axis (top to bottom), drawn up the left side. */
  yLabel?: string;
}

/** One panel of {@linkcode heatmapsPng}: a grid of values and how to draw it. */
export interface HeatmapPanel extends HeatmapOptions {
  /** Row-major values, `rows * cols` of them, as for {@linkcode heatmapPng}. */
  values: ArrayLike<number>;
}

/** One curve of {@linkcode lineChartPng}. */
export interface LineSeries {
  /** Shown in the legend. */
  name: string;
  /** x coordinates. */
  x: ArrayLike<number>;
  /** y coordinates (NaN leaves a gap). */
  y: ArrayLike<number>;
  /** Default: the next of ten distinct colours (matplotlib's tab10). */
  color?: Rgb;
}

/** Options for {@linkcode lineChartPng}. */
export interface LineChartOptions {
  /** Drawn above the chart. */
  title?: string;
  /** Logarithmic y axis, for loss curves; points with y ≤ 0 are skipped like NaN. */
  logY?: boolean;
  /** Image width in pixels; default 640. */
  width?: number;
  /** Image height in pixels; default 400. */
  height?: number;
  /** Names the x axis. */
  xLabel?: string;
  /** Names the y axis. */
  yLabel?: string;
}

/**
 * Draws a grid of values as a heatmap with a colorbar.
 *
 * Orientation: `values[r * cols + c]` is the cell in row `r`, column `c`; row 0 is
 * at the top and column 0 at the left, as in a matrix or an image. So a field
 * u(t, x) stored t-major (`values[i * nx + j] = u(t_i, x_j)`, rows = nt, cols = nx)
 * shows t running down the image and x across: pass `yLabel: "t"`, `xLabel: "x"`.
 * Store it x-major to put t across instead. NaN cells are grey; values outside
 * [min, max] take the end colours.
 *
 * @example Plot a 101×101 field
 * ```ts
 * import { heatmapPng } from "./plot.ts";
 * const n = 101;
 * const u = Float64Array.from({ length: n * n }, (_, k) => Math.sin(k / n / 10) * (k % n));
 * const png = heatmapPng(u, n, n, { title: "u(t, x)", yLabel: "t", xLabel: "x" });
 * await Deno.writeFile("/tmp/u.png", png);
 * ```
 */
export function heatmapPng(
  values: ArrayLike<number>,
  rows: number,
  cols: number,
  opts: HeatmapOptions = {},
): Uint8Array {
  const block = heatmapBlock({ ...opts, values }, rows, cols, "heatmapPng values");
  const cv = new Canvas(block.width, block.height);
  block.draw(cv, 0, 0);
  return cv.png();
}

/**
 * Draws several heatmaps of the same grid shape side by side, left to right in
 * the order given, each with its own title, range and colorbar; e.g. prediction |
 * exact | |error|. Orientation and options are as for {@linkcode heatmapPng}.
 *
 * @example Prediction, exact solution and error
 * ```ts
 * import { heatmapsPng } from "./plot.ts";
 * const exact = Float64Array.from({ length: 50 * 50 }, (_, k) => Math.sin(k / 50));
 * const pred = exact.map((v) => v + 0.01);
 * const err = pred.map((v, k) => Math.abs(v - exact[k]));
 * const png = heatmapsPng([
 *   { title: "prediction", values: pred },
 *   { title: "exact", values: exact },
 *   { title: "|error|", values: err, colormap: "magma" },
 * ], 50, 50);
 * ```
 */
export function heatmapsPng(panels: HeatmapPanel[], rows: number, cols: number): Uint8Array {
  check(panels.length > 0, "heatmapsPng panels", "heatmapsPng got no panels; pass at least one.");
  const blocks = panels.map((p, i) => heatmapBlock(p, rows, cols, `heatmapsPng panel ${i} values`));
  const cv = new Canvas(
    blocks.reduce((w, b) => w + b.width, 0),
    Math.max(...blocks.map((b) => b.height)),
  );
  let x = 0;
  for (const b of blocks) {
    b.draw(cv, x, 0);
    x += b.width;
  }
  return cv.png();
}

/**
 * Draws curves on shared axes with tick labels, light grid lines and a legend.
 * Points where x or y is NaN (or y ≤ 0 with `logY`) are skipped, leaving a gap.
 *
 * @example A loss curve on a log scale
 * ```ts
 * import { lineChartPng } from "./plot.ts";
 * const step = Array.from({ length: 1000 }, (_, i) => i);
 * const loss = step.map((i) => Math.exp(-i / 200) + 1e-4);
 * const png = lineChartPng([{ name: "loss", x: step, y: loss }], {
 *   title: "training",
 *   logY: true,
 *   xLabel: "step",
 * });
 * ```
 */
export function lineChartPng(series: LineSeries[], opts: LineChartOptions = {}): Uint8Array {
  const { width = 640, height = 400, logY = false } = opts;
  check(
    Number.isInteger(width) && Number.isInteger(height) && width >= 160 && height >= 120,
    "lineChartPng width/height",
    `lineChartPng needs integer width ≥ 160 and height ≥ 120; got ${width}×${height}.`,
  );
  series.forEach((s, k) =>
    check(
      s.x.length === s.y.length,
      `lineChartPng series "${s.name}"`,
      `Series "${s.name}" (index ${k}) has ${s.x.length} x values but ${s.y.length} y values; ` +
        "pass one y per x.",
    )
  );
  // Work in "axis space": y is log10(y) on a log axis, so ticks, padding and mapping are linear.
  const toAxisY = (y: number) => logY ? (y > 0 ? Math.log10(y) : NaN) : y;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i], y = toAxisY(s.y[i]);
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
    }
  }
  [x0, x1] = paddedRange(x0, x1, 0.02);
  [y0, y1] = paddedRange(y0, y1, 0.05);
  const xTicks = linearTicks(x0, x1, 6);
  const yTicks = logY ? logTicks(y0, y1) : linearTicks(y0, y1, 5);

  const titleH = opts.title ? lineHeight(TITLE_SCALE) + GAP : 0;
  const yLabelW = opts.yLabel ? lineHeight(TEXT_SCALE) + GAP : 0;
  const xLabelH = opts.xLabel ? lineHeight(TEXT_SCALE) + GAP : 0;
  const yTickW = Math.max(...yTicks.labels.map((l) => textWidth(l, TEXT_SCALE)));
  const left = PAD + yLabelW + yTickW + TICK + 3;
  const right = width - PAD - textWidth(xTicks.labels.at(-1)!, TEXT_SCALE) / 2;
  const top = PAD + titleH;
  const bottom = height - PAD - xLabelH - lineHeight(TEXT_SCALE) - TICK - 2;
  check(
    right - left >= 40 && bottom - top >= 40,
    "lineChartPng width/height",
    `A ${width}×${height} chart leaves no room to plot after labels; make it larger.`,
  );
  const px = (x: number) => left + (x - x0) / (x1 - x0) * (right - left);
  const py = (y: number) => bottom - (y - y0) / (y1 - y0) * (bottom - top);

  const cv = new Canvas(width, height);
  if (opts.title) {
    const w = textWidth(opts.title, TITLE_SCALE);
    cv.text(opts.title, clamp((left + right - w) / 2, PAD, width - PAD - w), PAD, TITLE_SCALE);
  }
  const tickH = lineHeight(TEXT_SCALE);
  xTicks.values.forEach((v, i) => {
    const x = Math.round(px(v)), label = xTicks.labels[i], w = textWidth(label, TEXT_SCALE);
    cv.fillRect(x, top, 1, bottom - top, GRID);
    cv.fillRect(x, bottom, 1, TICK, INK);
    cv.text(label, clamp(x - w / 2, 0, width - w), bottom + TICK + 2, TEXT_SCALE);
  });
  yTicks.values.forEach((v, i) => {
    const y = Math.round(py(v)), label = yTicks.labels[i];
    cv.fillRect(left, y, right - left, 1, GRID);
    cv.fillRect(left - TICK, y, TICK, 1, INK);
    cv.text(label, left - TICK - 3 - textWidth(label, TEXT_SCALE), y - tickH / 2 + 1, TEXT_SCALE);
  });
  if (opts.xLabel) {
    const w = textWidth(opts.xLabel, TEXT_SCALE);
    cv.text(opts.xLabel, (left + right - w) / 2, height - PAD - tickH, TEXT_SCALE);
  }
  if (opts.yLabel) {
    const h = textWidth(opts.yLabel, TEXT_SCALE);
    cv.text(opts.yLabel, PAD, (top + bottom + h) / 2, TEXT_SCALE, true);
  }
  cv.strokeRect(left, top, right - left, bottom - top, INK);

  cv.clip = [left + 1, top + 1, right, bottom];
  const colors = series.map((s, k) => s.color ?? PALETTE[k % PALETTE.length]);
  series.forEach((s, k) => {
    let prev: [number, number] | undefined, runLength = 0;
    const endRun = () => {
      // A lone point between gaps would otherwise be invisible.
      if (prev && runLength === 1) {
        line(cv, prev[0] - 1, prev[1], prev[0] + 1, prev[1], colors[k], 3);
      }
      prev = undefined;
      runLength = 0;
    };
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i], y = toAxisY(s.y[i]);
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        endRun();
        continue;
      }
      const p: [number, number] = [px(x), py(y)];
      if (prev) line(cv, prev[0], prev[1], p[0], p[1], colors[k], LINE_WIDTH);
      prev = p;
      runLength++;
    }
    endRun();
  });

  if (series.length > 0) {
    const rowH = lineHeight(TEXT_SCALE) + 4, swatch = 18;
    const w = swatch + Math.max(...series.map((s) => textWidth(s.name, TEXT_SCALE))) + 26;
    const h = rowH * series.length + 8;
    // Like matplotlib's loc="best": the corner hiding the fewest drawn curve pixels.
    const [xl, xr, yt, yb] = [left + 8, Math.max(left + 8, right - 8 - w), top + 8, bottom - 8 - h];
    const corners: [number, number][] = [[xr, yt], [xl, yt], [xr, yb], [xl, yb]];
    const [lx, ly] = corners.reduce((best, c) =>
      inkIn(cv, c, w, h) < inkIn(cv, best, w, h) ? c : best
    );
    cv.fillRect(lx, ly, w, h, WHITE);
    cv.strokeRect(lx, ly, w, h, LEGEND_EDGE);
    series.forEach((s, k) => {
      const y = ly + 5 + k * rowH;
      line(cv, lx + 6, y + rowH / 2 - 2, lx + 6 + swatch, y + rowH / 2 - 2, colors[k], LINE_WIDTH);
      cv.text(s.name, lx + swatch + 14, y, TEXT_SCALE);
    });
  }
  return cv.png();
}

/** How many pixels of the w×h box at (x, y) are neither background nor grid. */
function inkIn(cv: Canvas, [x, y]: [number, number], w: number, h: number): number {
  let n = 0;
  for (let j = Math.max(0, y); j < Math.min(cv.height, y + h); j++) {
    for (let i = Math.max(0, x); i < Math.min(cv.width, x + w); i++) {
      const o = (j * cv.width + i) * 3;
      const [r, g, b] = [cv.rgb[o], cv.rgb[o + 1], cv.rgb[o + 2]];
      if (!(r === g && g === b && r >= GRID[0])) n++;
    }
  }
  return n;
}

// ---------------------------------------------------------------------------
// Layout constants and colours.

const PAD = 10;
const GAP = 6;
const TICK = 4;
const BAR_WIDTH = 16;
const LINE_WIDTH = 2;
const TITLE_SCALE = 3;
const TEXT_SCALE = 2;
const WHITE: Rgb = [255, 255, 255];
const INK: Rgb = [40, 40, 40];
const GRID: Rgb = [228, 228, 228];
const LEGEND_EDGE: Rgb = [190, 190, 190];
const NAN_RGB: Rgb = [128, 128, 128];
const PALETTE = hexColors("1f77b4 ff7f0e 2ca02c d62728 9467bd 8c564b e377c2 7f7f7f bcbd22 17becf");

// Colormaps as evenly spaced anchors, linearly interpolated: viridis and magma are
// their 9-step tables (anchors exact), coolwarm is Moreland's diverging map.
const COLORMAPS: Record<Colormap, Rgb[]> = {
  viridis: hexColors("440154 472d7b 3b528b 2c728e 21908c 27ad81 5dc863 aadc32 fde725"),
  magma: hexColors("000004 1d1147 51127c 822681 b63679 e65164 fb8861 fec287 fcfdbf"),
  coolwarm: hexColors("3b4cc0 8db0fe dddddd f49a7b b40426"),
};

function hexColors(list: string): Rgb[] {
  const byte = (h: string, i: number) => parseInt(h.slice(i, i + 2), 16);
  return list.split(" ").map((h): Rgb => [byte(h, 0), byte(h, 2), byte(h, 4)]);
}

/** Colour at t ∈ [0, 1] along the anchors; t = 0 and t = 1 give the end anchors exactly. */
function colormapRgb(anchors: Rgb[], t: number): Rgb {
  const f = clamp(t, 0, 1) * (anchors.length - 1);
  const i = Math.min(Math.floor(f), anchors.length - 2), w = f - i;
  const [a, b] = [anchors[i], anchors[i + 1]];
  const mix = (k: number) => Math.round(a[k] + (b[k] - a[k]) * w);
  return [mix(0), mix(1), mix(2)];
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

// ---------------------------------------------------------------------------
// Heatmap layout, shared by heatmapPng and heatmapsPng.

interface Block {
  width: number;
  height: number;
  draw(cv: Canvas, ox: number, oy: number): void;
}

function heatmapBlock(panel: HeatmapPanel, rows: number, cols: number, input: string): Block {
  check(
    Number.isInteger(rows) && Number.isInteger(cols) && rows > 0 && cols > 0,
    input,
    `Grid shape ${rows}×${cols} is not valid; pass positive integer rows and cols.`,
  );
  const { values, title, xLabel, yLabel, colorbar = true } = panel;
  check(
    values.length === rows * cols,
    input,
    `${input} has ${values.length} entries but a ${rows}×${cols} grid needs ${rows * cols}; ` +
      "pass rows·cols values in row-major order.",
  );
  const scale = panel.scale ?? Math.max(1, Math.floor(400 / Math.max(rows, cols)));
  check(
    Number.isInteger(scale) && scale >= 1,
    `${input} scale`,
    `Heatmap scale ${scale} is not valid; pass a positive integer.`,
  );
  let [lo, hi] = [Infinity, -Infinity];
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) [lo, hi] = [Math.min(lo, values[i]), Math.max(hi, values[i])];
  }
  if (lo > hi) [lo, hi] = [0, 1]; // no finite values: an all-grey image with some range
  [lo, hi] = [panel.min ?? lo, panel.max ?? hi];
  check(
    lo <= hi,
    `${input} min/max`,
    `Heatmap min ${lo} exceeds max ${hi}; pass min ≤ max.`,
  );
  const anchors = COLORMAPS[panel.colormap ?? "viridis"];
  check(
    anchors !== undefined,
    `${input} colormap`,
    `Unknown colormap "${panel.colormap}"; use one of ${Object.keys(COLORMAPS).join(", ")}.`,
  );
  // A constant field maps to the middle colour rather than dividing by zero.
  const toT = (v: number) => hi > lo ? (v - lo) / (hi - lo) : 0.5;

  const barLabels = formatValues([hi, (lo + hi) / 2, lo]);
  const [imgW, imgH] = [cols * scale, rows * scale];
  const imgX = PAD + (yLabel ? lineHeight(TEXT_SCALE) + GAP : 0);
  const imgY = PAD + (title ? lineHeight(TITLE_SCALE) + GAP : 0);
  const barX = imgX + imgW + 2 * GAP;
  const labelX = barX + BAR_WIDTH + TICK + GAP;
  const width = Math.max(
    colorbar
      ? labelX + Math.max(...barLabels.map((l) => textWidth(l, TEXT_SCALE))) + PAD
      : imgX + imgW + PAD,
    textWidth(title ?? "", TITLE_SCALE) + 2 * PAD,
    imgX + textWidth(xLabel ?? "", TEXT_SCALE) + PAD,
  );
  const yLabelH = textWidth(yLabel ?? "", TEXT_SCALE);
  const height = Math.max(
    imgY + imgH + (xLabel ? GAP + lineHeight(TEXT_SCALE) : 0) + PAD,
    imgY + yLabelH + PAD,
  );

  const draw = (cv: Canvas, ox: number, oy: number) => {
    if (title) {
      const w = textWidth(title, TITLE_SCALE);
      cv.text(
        title,
        ox + clamp(imgX + (imgW - w) / 2, PAD, width - PAD - w),
        oy + PAD,
        TITLE_SCALE,
      );
    }
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const v = values[r * cols + c];
        const rgb = Number.isNaN(v) ? NAN_RGB : colormapRgb(anchors, toT(v));
        cv.fillRect(ox + imgX + c * scale, oy + imgY + r * scale, scale, scale, rgb);
      }
    }
    cv.strokeRect(ox + imgX - 1, oy + imgY - 1, imgW + 1, imgH + 1, INK);
    if (yLabel) {
      const bottom = imgY + Math.max(imgH + yLabelH, 2 * yLabelH) / 2;
      cv.text(yLabel, ox + PAD, oy + bottom, TEXT_SCALE, true);
    }
    if (xLabel) {
      const w = textWidth(xLabel, TEXT_SCALE);
      const x = clamp(imgX + (imgW - w) / 2, imgX, width - PAD - w);
      cv.text(xLabel, ox + x, oy + imgY + imgH + GAP, TEXT_SCALE);
    }
    if (!colorbar) return;
    for (let y = 0; y < imgH; y++) {
      const rgb = colormapRgb(anchors, imgH > 1 ? 1 - y / (imgH - 1) : 0.5);
      cv.fillRect(ox + barX, oy + imgY + y, BAR_WIDTH, 1, rgb);
    }
    cv.strokeRect(ox + barX - 1, oy + imgY - 1, BAR_WIDTH + 1, imgH + 1, INK);
    barLabels.forEach((label, i) => {
      const y = oy + imgY + Math.round(i * (imgH - 1) / 2);
      cv.fillRect(ox + barX + BAR_WIDTH, y, TICK, 1, INK);
      cv.text(label, ox + labelX, y - (GLYPH_H * TEXT_SCALE) / 2 + 1, TEXT_SCALE);
    });
  };
  return { width, height, draw };
}

// ---------------------------------------------------------------------------
// Ticks and number formatting.

interface Ticks {
  values: number[];
  labels: string[];
}

/** [lo, hi] widened by `frac` of its span on each side; a point or empty range gets a unit span. */
function paddedRange(lo: number, hi: number, frac: number): [number, number] {
  if (!(lo <= hi)) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * frac;
  return [lo - pad, hi + pad];
}

/** Ticks at multiples of a 1-2-5 step, about `target` of them, inside [lo, hi]. */
function linearTicks(lo: number, hi: number, target: number): Ticks {
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * 0.999)!;
  const values: number[] = [];
  for (let k = Math.ceil(lo / step); k * step <= hi && values.length < 50; k++) {
    values.push(k * step);
  }
  return { values, labels: formatTicks(values, step) };
}

/** Ticks for a log10 axis spanning [lo, hi] (in log10 units): decades, else 1-2-5 steps. */
function logTicks(lo: number, hi: number): Ticks {
  const decades: number[] = [];
  for (let k = Math.ceil(lo); k <= hi; k++) decades.push(k);
  let values = decades;
  if (decades.length >= 2) {
    const every = Math.ceil(decades.length / 6);
    values = decades.filter((k) => ((k % every) + every) % every === 0);
  } else {
    values = [];
    for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
      for (const m of [1, 2, 5]) {
        const t = k + Math.log10(m);
        if (t >= lo && t <= hi) values.push(t);
      }
    }
    if (values.length < 2) {
      // Less than a factor 2 of range: linear ticks on the values themselves.
      const lin = linearTicks(10 ** lo, 10 ** hi, 4);
      return { values: lin.values.map(Math.log10), labels: lin.labels };
    }
  }
  const plain = values.every((t) => t >= -2 && t < 4);
  const labels = plain || decades.length < 2
    ? formatValues(values.map((t) => 10 ** t))
    : values.map((k) => `1e${k}`);
  return { values, labels };
}

/** Tick labels with as many decimals as the step needs, so neighbours differ; one style for all. */
function formatTicks(values: number[], step: number): string[] {
  const big = Math.max(...values.map(Math.abs));
  const stepExp = Math.floor(Math.log10(step) + 1e-9);
  const exponent = big >= 1e5 || big < 1e-2;
  return values.map((v) => {
    if (Math.abs(v) < step * 1e-6) return "0";
    if (!exponent) return v.toFixed(Math.max(0, -stepExp));
    const digits = clamp(Math.floor(Math.log10(Math.abs(v))) - stepExp, 0, 4);
    return trimExponent(v.toExponential(digits));
  });
}

/**
 * Three significant digits; all in exponent form when the largest magnitude is
 * outside [0.01, 10⁴), so a colorbar never reads "0.02" above "1e-2".
 */
function formatValues(values: number[]): string[] {
  const big = Math.max(...values.map(Math.abs).filter(Number.isFinite));
  const exponent = big >= 1e4 || big < 1e-2;
  return values.map((v) => {
    if (!Number.isFinite(v)) return String(v);
    if (Math.abs(v) <= big * 1e-9) return "0"; // e.g. the midpoint of [-1, 1] after rounding
    return exponent ? trimExponent(v.toExponential(2)) : String(Number(v.toPrecision(3)));
  });
}

/** "1.50e+4" → "1.5e4", "1.00e-3" → "1e-3". */
function trimExponent(s: string): string {
  return s.replace(/\.?0+e/, "e").replace("e+", "e");
}

// ---------------------------------------------------------------------------
// Canvas, lines and text.

class Canvas {
  readonly rgb: Uint8Array;
  /** Drawing outside [x0, x1) × [y0, y1) is dropped; lines use it to stay inside the plot area. */
  clip: [number, number, number, number];

  constructor(readonly width: number, readonly height: number) {
    this.rgb = new Uint8Array(width * height * 3).fill(255);
    this.clip = [0, 0, width, height];
  }

  /** Mixes `alpha` of colour `c` into pixel (x, y); alpha 1 writes `c` exactly. */
  blend(x: number, y: number, c: Rgb, alpha = 1): void {
    const [x0, y0, x1, y1] = this.clip;
    if (!(x >= x0 && x < x1 && y >= y0 && y < y1)) return;
    const i = (y * this.width + x) * 3;
    for (let k = 0; k < 3; k++) {
      this.rgb[i + k] = Math.round(this.rgb[i + k] + (c[k] - this.rgb[i + k]) * alpha);
    }
  }

  fillRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    [x, y] = [Math.round(x), Math.round(y)];
    for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) this.blend(i, j, c);
  }

  /** 1-px outline whose corners are (x, y) and (x + w, y + h), both inclusive. */
  strokeRect(x: number, y: number, w: number, h: number, c: Rgb): void {
    this.fillRect(x, y, w + 1, 1, c);
    this.fillRect(x, y + h, w + 1, 1, c);
    this.fillRect(x, y, 1, h + 1, c);
    this.fillRect(x + w, y, 1, h + 1, c);
  }

  /**
   * Draws `s` with the bitmap font, each font pixel a `scale`×`scale` square.
   * Horizontal text has its top-left at (x, y). Rotated text (`up`) reads bottom
   * to top with the glyph tops facing left; (x, y) is then its bottom-left.
   */
  text(s: string, x: number, y: number, scale: number, up = false, c: Rgb = INK): void {
    [x, y] = [Math.round(x), Math.round(y)];
    [...s].forEach((ch, n) => {
      const rows = GLYPHS.get(ch) ?? (ch === " " ? [] : GLYPHS.get("?")!);
      rows.forEach((bits, gy) => {
        for (let gx = 0; gx < GLYPH_W; gx++) {
          if (!(bits & (1 << (GLYPH_W - 1 - gx)))) continue;
          const along = (n * ADVANCE + gx) * scale;
          if (up) this.fillRect(x + gy * scale, y - along - scale, scale, scale, c);
          else this.fillRect(x + along, y + gy * scale, scale, scale, c);
        }
      });
    });
  }

  png(): Uint8Array {
    return encode({
      width: this.width,
      height: this.height,
      data: this.rgb,
      channels: 3,
      depth: 8,
    });
  }
}

/**
 * An anti-aliased line `width` px thick between real pixel coordinates (pixel
 * centres at integers). For each step along the major axis it covers the span
 * [c − h, c + h] across it, blending each pixel by the fraction it overlaps.
 */
function line(
  cv: Canvas,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  c: Rgb,
  width: number,
): void {
  const steep = Math.abs(y1 - y0) > Math.abs(x1 - x0);
  if (steep) [x0, y0, x1, y1] = [y0, x0, y1, x1];
  if (x0 > x1) [x0, y0, x1, y1] = [x1, y1, x0, y0];
  const slope = x1 > x0 ? (y1 - y0) / (x1 - x0) : 0;
  // Measured across the line rather than along the minor axis, so diagonals are as heavy as flats.
  const h = (width / 2) * Math.hypot(1, slope);
  for (let u = Math.round(x0); u <= Math.round(x1); u++) {
    const centre = y0 + slope * (u - x0);
    for (let v = Math.round(centre - h); v <= Math.round(centre + h); v++) {
      const cover = Math.min(v + 0.5, centre + h) - Math.max(v - 0.5, centre - h);
      if (cover <= 0) continue;
      if (steep) cv.blend(v, u, c, Math.min(cover, 1));
      else cv.blend(u, v, c, Math.min(cover, 1));
    }
  }
}

// 5×7 bitmap font: per glyph, one hex byte per row (top first, bit 4 = leftmost
// column); an eighth byte is a descender row. Unknown characters draw as "?".
const GLYPH_W = 5;
const GLYPH_H = 7;
const ADVANCE = 6;
const FONT = `
0 0e11131519110e 1 040c040404040e 2 0e11010204081f 3 1f02040201110e 4 02060a121f0202
5 1f101e0101110e 6 0608101e11110e 7 1f010204080808 8 0e11110e11110e 9 0e11110f01020c
A 0e11111f111111 B 1e11111e11111e C 0e11101010110e D 1c12111111121c E 1f10101e10101f
F 1f10101e101010 G 0e11101711110f H 1111111f111111 I 0e04040404040e J 0702020202120c
K 11121418141211 L 1010101010101f M 111b1515111111 N 11111915131111 O 0e11111111110e
P 1e11111e101010 Q 0e11111115120d R 1e11111e141211 S 0f10100e01011e T 1f040404040404
U 1111111111110e V 11111111110a04 W 1111111515150a X 11110a040a1111 Y 1111110a040404
Z 1f01020408101f a 00000e010f110f b 1010161911111e c 00000e1010110e d 01010d1311110f
e 00000e111f100e f 0609081c080808 g 00000f11110f010e h 10101619111111 i 04000c0404040e
j 020006020202120c k 10101214181412 l 0c04040404040e m 00001a15151111 n 00001619111111
o 00000e1111110e p 00001e11111e1010 q 00000f11110f0101 r 00001619101010 s 00000e100e011e
t 08081c08080906 u 0000111111130d v 00001111110a04 w 0000111115150a x 0000110a040a11
y 00001111110f010e z 00001f0204081f . 00000000000c0c - 0000001f000000 + 0004041f040400
: 000c0c000c0c00 = 00001f001f0000 ( 02040808080402 ) 08040202020408 / 00010204081000
_ 0000000000001f | 04040404040404 , 000000000c0408 [ 0e08080808080e ] 0e02020202020e
^ 040a1100000000 * 0004150e150400 ? 0e110102040004 % 18190204081303 < 02040810080402
> 08040201020408
`;
const GLYPHS = new Map<string, number[]>();
{
  const tokens = FONT.trim().split(/\s+/);
  for (let i = 0; i < tokens.length; i += 2) {
    GLYPHS.set(tokens[i], tokens[i + 1].match(/../g)!.map((h) => parseInt(h, 16)));
  }
}

function lineHeight(scale: number): number {
  return (GLYPH_H + 1) * scale;
}

function textWidth(s: string, scale: number): number {
  return s.length > 0 ? ([...s].length * ADVANCE - 1) * scale : 0;
}
