/**
 * Line charts (loss curves, weights, solutions of 1-input problems, scaling
 * plots) as Vega-Lite specs, with tooltips on every data point.
 *
 * @module
 */
import { CHART_CONFIG, type ChartSpec } from "./render.ts";
import { SCHEMA } from "./heatmap.ts";
import { check } from "../errors.ts";

/** One curve of {@linkcode lineChartSpec}. */
export interface LineSeries {
  /** Shown in the legend and tooltips. */
  name: string;
  /** x coordinates. */
  x: ArrayLike<number>;
  /** y coordinates (NaN, ±Inf, and values ≤ 0 on a log axis, leave a gap). */
  y: ArrayLike<number>;
}

/** Options for {@linkcode lineChartSpec}. */
export interface LineChartOptions {
  /** Drawn above the chart. */
  title?: string;
  /** Titles the x axis. */
  xLabel?: string;
  /** Titles the y axis. */
  yLabel?: string;
  /** Logarithmic y axis (loss curves). */
  logY?: boolean;
  /** Logarithmic x axis (scaling plots). */
  logX?: boolean;
  /** Start a linear x axis at 0 (step axes: a single log point is not drawn on a ±0.4 axis). */
  zeroX?: boolean;
  /** Names for x = 0, 1, …: the x axis shows them instead of numbers (a categorical axis). */
  categories?: string[];
  /** Plot size in pixels; default 480 × 280. */
  width?: number;
  /** See `width`. */
  height?: number;
}

/**
 * Tick values of a log axis over [lo, hi]: 1, 2, 5 × 10^k, or only the powers of
 * ten when that would crowd the axis (Vega's own log ticks overlapped their labels).
 */
export function logTicks(lo: number, hi: number): number[] {
  if (!(lo > 0 && hi >= lo)) return [];
  const all: number[] = [], powers: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** k).toPrecision(1));
      if (v < lo * (1 - 1e-9) || v > hi * (1 + 1e-9)) continue;
      all.push(v);
      if (m === 1) powers.push(v);
    }
  }
  if (all.length <= 7) return all.length >= 2 ? all : [];
  return powers.length >= 2 ? powers : all.filter((_, i) => i % 3 === 0);
}

/** Explicit ticks for a log axis, when {@linkcode logTicks} finds at least two. */
function logAxis(lo: number, hi: number) {
  const values = logTicks(lo, hi);
  return values.length ? { axis: { values, format: "~g" } } : {};
}

/** Up to this many points per curve are drawn as visible dots; more only carry tooltips. */
const VISIBLE_POINTS = 40;

/**
 * The panel of a line chart, without `config`, for use inside a concatenation;
 * {@linkcode lineChartSpec} wraps it as a chart on its own.
 */
export function lineLayer(series: LineSeries[], o: LineChartOptions = {}): ChartSpec {
  const rows: { series: string; x: number; y: number | null }[] = [];
  let xlo = Infinity, xhi = -Infinity, ylo = Infinity, yhi = -Infinity;
  let most = 0;
  for (const s of series) {
    check(
      s.x.length === s.y.length,
      "line series",
      `Curve "${s.name}" has ${s.x.length} x values but ${s.y.length} y values; pass one y per x.`,
    );
    let count = 0;
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i], y = s.y[i];
      if (!Number.isFinite(x) || (o.logX && x <= 0)) continue;
      const ok = Number.isFinite(y) && !(o.logY && y <= 0);
      // null breaks the line: a gap, not a jump across a missing value.
      rows.push({ series: s.name, x, y: ok ? y : null });
      if (ok) {
        count++;
        xlo = Math.min(xlo, x),
          xhi = Math.max(xhi, x),
          ylo = Math.min(ylo, y),
          yhi = Math.max(yhi, y);
      }
    }
    most = Math.max(most, count);
  }
  const x = {
    field: "x",
    type: "quantitative",
    title: o.xLabel ?? "x",
    // Log axes end at the data (a few pixels of padding keep end dots whole), not at
    // the next power of ten.
    scale: o.logX ? { type: "log", nice: false, padding: 8 } : { zero: o.zeroX ?? false },
    // Vega's default (one tick per 40 px) crowded step labels ("280300").
    ...(o.logX ? logAxis(xlo, xhi) : { axis: { tickCount: Math.round((o.width ?? 480) / 90) } }),
  };
  if (o.categories) {
    const n = o.categories.length;
    Object.assign(x, {
      scale: { domain: [-0.5, n - 0.5], zero: false, nice: false },
      axis: {
        values: o.categories.map((_, i) => i),
        labelExpr: `${JSON.stringify(o.categories)}[datum.value]`,
        grid: false,
      },
    });
  }
  const y = {
    field: "y",
    type: "quantitative",
    title: o.yLabel ?? "",
    scale: o.logY ? { type: "log", nice: false, padding: 8 } : { zero: false },
    ...(o.logY ? logAxis(ylo, yhi) : {}),
  };
  const color = {
    field: "series",
    type: "nominal",
    title: null,
    sort: series.map((s) => s.name),
    legend: series.length > 1 ? { orient: "right" } : null,
  };
  return {
    ...(o.title ? { title: o.title } : {}),
    width: o.width ?? 480,
    height: o.height ?? 280,
    data: { values: rows },
    encoding: { x, y, color },
    layer: [
      { mark: { type: "line", strokeWidth: 1.8 } },
      {
        // Dots carry the tooltips; on long curves they are invisible until hovered.
        mark: {
          type: "point",
          filled: true,
          size: most <= VISIBLE_POINTS ? 36 : 60,
          opacity: most <= VISIBLE_POINTS ? 1 : 0,
        },
        transform: [{ filter: "datum.y !== null" }],
        encoding: {
          tooltip: [
            { field: "series", type: "nominal", title: "curve" },
            { field: "x", type: "quantitative", title: o.xLabel ?? "x", format: ".4~g" },
            {
              field: "y",
              type: "quantitative",
              title: o.yLabel || "value",
              format: o.logY ? ".3e" : ".4~g",
            },
          ],
        },
      },
    ],
  };
}

/**
 * A line chart of one or more curves, legend outside the plot.
 *
 * @example Loss curves on a log axis
 * ```ts
 * import { lineChartSpec } from "./line.ts";
 * import { renderSvg } from "./render.ts";
 * const steps = [100, 200, 300];
 * const spec = lineChartSpec([
 *   { name: "loss r", x: steps, y: [1, 0.1, 0.02] },
 *   { name: "loss u", x: steps, y: [0.5, 0.05, 0.01] },
 * ], { title: "losses", xLabel: "step", logY: true, zeroX: true });
 * const svg = await renderSvg(spec);
 * ```
 */
export function lineChartSpec(series: LineSeries[], opts: LineChartOptions = {}): ChartSpec {
  return { $schema: SCHEMA, config: CHART_CONFIG, ...lineLayer(series, opts) };
}
