/**
 * Heatmaps of a field on an evenly spaced 2-D grid, as Vega-Lite specs.
 *
 * The cells are one raster image layer (a PNG data URL the size of the grid, drawn
 * without smoothing), not a rectangle per cell: a 101 × 101 grid costs a few
 * kilobytes instead of ten thousand SVG elements. The colour bar is Vega-Lite's
 * own gradient legend, fed by an invisible layer holding the colour domain; the
 * raster uses the same Vega colour scheme, so the two agree.
 *
 * @module
 */
// A full npm: specifier, not the import map's bare name: a program that imports
// mod.ts by path or URL has no access to this package's deno.json.
// deno-lint-ignore no-import-prefix
import * as vega from "npm:vega@6.4.0";
// deno-lint-ignore no-import-prefix
import { encode } from "npm:fast-png@8.0.0";
import { CHART_CONFIG, type ChartSpec } from "./render.ts";
import { check } from "../errors.ts";

/** Colour schemes for heatmaps: two perceptually uniform ones and a diverging one. */
export type Colormap = "viridis" | "magma" | "blueorange";

/** One axis of an evenly spaced grid: `n` points from `lo` to `hi` inclusive. */
export interface GridAxis {
  /** The input's name, shown as the axis title (`t`, `x`). */
  name: string;
  /** First grid point. */
  lo: number;
  /** Last grid point. */
  hi: number;
  /** Number of points (at least 1). */
  n: number;
}

/** A field on a 2-D grid and how to draw it; see {@linkcode heatmapSpec}. */
export interface Heatmap {
  /** The horizontal axis. */
  x: GridAxis;
  /** The vertical axis (its `lo` at the bottom). */
  y: GridAxis;
  /** `x.n * y.n` values, `values[i * y.n + j]` at (x_i, y_j): the evaluation grid's order. */
  values: ArrayLike<number>;
  /** Drawn above the panel. */
  title?: string;
  /** Titles the colour bar (the field's name and units, e.g. `u`). */
  label?: string;
  /** Default "viridis". */
  colormap?: Colormap;
  /** Colour domain; default the finite values' range. Values outside take the end colours. */
  domain?: [number, number];
  /** Panel size in pixels; default 220 × 220. */
  width?: number;
  /** See `width`. */
  height?: number;
}

const luts = new Map<Colormap, Uint8Array>();

/** 256 RGB entries sampled from Vega's own interpolator of the scheme. */
function lut(name: Colormap): Uint8Array {
  let t = luts.get(name);
  if (t) return t;
  const interp = vega.scheme(name) as unknown as (u: number) => string;
  t = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const m = /(\d+),\s*(\d+),\s*(\d+)/.exec(interp(i / 255));
    if (!m) throw new Error(`colour scheme ${name} gave ${interp(i / 255)}`);
    t.set([+m[1], +m[2], +m[3]], i * 3);
  }
  luts.set(name, t);
  return t;
}

/** The finite values' [min, max], widened when empty or flat so a scale has extent. */
export function valueDomain(...arrays: ArrayLike<number>[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  if (lo > hi) return [0, 1];
  // Rounding noise on a constant field is flat too.
  if (hi - lo <= 1e-12 * Math.max(Math.abs(lo), Math.abs(hi))) {
    // All zero (an error field where the fit is exact): [0, 1], zero at the scale's start.
    if (lo === 0 && hi === 0) return [0, 1];
    const d = Math.abs(lo) / 2;
    return [lo - d, hi + d];
  }
  return [lo, hi];
}

/** Most pixels a side of a heatmap's raster (a PNG panel is 440 device pixels wide). */
const MAX_RASTER = 440;

/**
 * The cells as a PNG data URL, one pixel per grid point (up to 440 a side, beyond
 * which the grid is sampled): image row 0 is the top
 * (y = hi), column 0 the left (x = lo). NaN cells are light grey.
 */
export function rasterDataUrl(h: Heatmap, domain: [number, number]): string {
  const nx = h.x.n, ny = h.y.n, table = lut(h.colormap ?? "viridis");
  const [lo, hi] = domain;
  // A finer grid than the PNG shows (440 device pixels a panel) is sampled down.
  const w = Math.min(nx, MAX_RASTER), ht = Math.min(ny, MAX_RASTER);
  const rgb = new Uint8Array(w * ht * 3);
  for (let r = 0; r < ht; r++) {
    const j = ny - 1 - Math.floor((r + 0.5) * ny / ht);
    for (let c = 0; c < w; c++) {
      const i = Math.floor((c + 0.5) * nx / w);
      const v = h.values[i * ny + j], o = (r * w + c) * 3;
      if (Number.isNaN(v)) {
        rgb.set([211, 211, 211], o);
        continue;
      }
      const u = Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
      const k = Math.round(u * 255) * 3;
      rgb[o] = table[k], rgb[o + 1] = table[k + 1], rgb[o + 2] = table[k + 2];
    }
  }
  const png = encode({ width: w, height: ht, data: rgb, channels: 3 });
  let bin = "";
  for (let i = 0; i < png.length; i += 0x8000) {
    bin += String.fromCharCode(...png.subarray(i, i + 0x8000));
  }
  return `data:image/png;base64,${btoa(bin)}`;
}

/** A cell of a grid point reaches half a spacing past it, so the end cells are whole. */
function cellExtent(a: GridAxis): [number, number] {
  const half = a.n > 1 ? (a.hi - a.lo) / (a.n - 1) / 2 : Math.max(Math.abs(a.lo), 1) / 2;
  return [a.lo - half, a.hi + half];
}

/**
 * The panel of one heatmap, without `config`, for use inside a concatenation;
 * {@linkcode heatmapSpec} wraps it as a chart on its own.
 */
export function heatmapLayer(h: Heatmap): ChartSpec {
  check(
    h.values.length === h.x.n * h.y.n && h.x.n >= 1 && h.y.n >= 1,
    "heatmap values",
    `Heatmap "${
      h.title ?? ""
    }" has ${h.values.length} values but a ${h.x.n} × ${h.y.n} grid needs ${
      h.x.n * h.y.n
    }; pass one value per grid point.`,
  );
  const domain = h.domain ?? valueDomain(h.values);
  const [x0, x1] = cellExtent(h.x), [y0, y1] = cellExtent(h.y);
  const axis = (a: GridAxis, d: [number, number]) => ({
    field: a === h.x ? "x0" : "y0",
    type: "quantitative",
    title: a.name,
    scale: { domain: d, nice: false, zero: false },
    axis: { grid: false, tickCount: 5 },
  });
  const label = h.label ?? "value";
  return {
    ...(h.title ? { title: h.title } : {}),
    width: h.width ?? 220,
    height: h.height ?? 220,
    layer: [
      {
        data: { values: [{ url: rasterDataUrl(h, domain), x0, x1, y0, y1 }] },
        // aria off: its description would repeat the data URL in the SVG.
        mark: { type: "image", aspect: false, smooth: false, aria: false },
        encoding: {
          url: { field: "url", type: "nominal" },
          x: axis(h.x, [x0, x1]),
          x2: { field: "x1" },
          y: axis(h.y, [y0, y1]),
          y2: { field: "y1" },
        },
      },
      {
        data: { values: domain.map((v) => ({ v })) },
        mark: { type: "rect", opacity: 0, aria: false },
        encoding: {
          color: {
            field: "v",
            type: "quantitative",
            title: label,
            scale: { scheme: h.colormap ?? "viridis", domain, nice: false, zero: false },
            legend: { gradientLength: Math.round((h.height ?? 220) * 0.8), tickCount: 5 },
          },
        },
      },
    ],
    resolve: { scale: { x: "shared", y: "shared" } },
  };
}

/**
 * A heatmap of a field on a 2-D grid with axis ticks in the inputs' own units and
 * a colour bar; y grows upwards.
 *
 * @example u(t, x) on a 101 × 101 grid, t across, x up
 * ```ts
 * import { heatmapSpec } from "./heatmap.ts";
 * import { renderSvg } from "./render.ts";
 * const n = 101, x = { name: "t", lo: 0, hi: 1, n }, y = { name: "x", lo: 0, hi: 1, n };
 * const values = Float64Array.from({ length: n * n }, (_, k) => Math.sin(k / n) * (k % n) / n);
 * const svg = await renderSvg(heatmapSpec({ x, y, values, title: "u(t, x)", label: "u" }));
 * ```
 */
export function heatmapSpec(h: Heatmap): ChartSpec {
  return { $schema: SCHEMA, config: CHART_CONFIG, ...heatmapLayer(h) };
}

/**
 * Several heatmaps in a row (or in rows of `columns`), each with its own colour
 * bar; e.g. prediction | exact | error sharing one colour `domain`.
 */
export function heatmapsSpec(
  panels: Heatmap[],
  opts: { title?: string; columns?: number } = {},
): ChartSpec {
  return {
    $schema: SCHEMA,
    config: CHART_CONFIG,
    ...(opts.title ? { title: opts.title } : {}),
    columns: opts.columns ?? panels.length,
    concat: panels.map(heatmapLayer),
    resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
  };
}

/** The Vega-Lite JSON schema the specs follow. */
export const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
