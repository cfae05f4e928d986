/**
 * Charts of a collected sweep: the error against each axis, and the error curves of
 * all runs in one chart. Building the chart data is kept apart from drawing it
 * ({@linkcode chartSpec} makes the Vega-Lite spec the picture code renders).
 *
 * @module
 */
import { lineChartSpec } from "../plot/line.ts";
import type { ChartSpec } from "../plot/render.ts";
import type { RunRow } from "./collect.ts";
import { type SettingValue, valueText } from "./plan.ts";

/** One line of a chart. */
export interface ChartSeries {
  /** Legend entry. */
  name: string;
  /** x coordinates. */
  x: number[];
  /** y coordinates (NaN: no value). */
  y: number[];
}

/** A chart's data and labels, independent of how it is drawn. */
export interface Chart {
  /** Output file name (PNG; the SVG and `.vl.json` spec sit beside it). */
  file: string;
  /** Drawn above the chart. */
  title: string;
  /** Names the x axis. */
  xLabel: string;
  /** Names the y axis. */
  yLabel: string;
  /** Logarithmic y axis. */
  logY: boolean;
  /** The category names at x = 0, 1, …, when the axis is not numeric. */
  categories?: string[];
  /** The lines. */
  series: ChartSeries[];
}

const same = (a: SettingValue | undefined, b: SettingValue | undefined) =>
  JSON.stringify(a) === JSON.stringify(b);

/**
 * Relative L2 error against `axis`: one line per combination of the other axes (its
 * runs in the axis' order) and, where `seed` is the only other axis, the mean over seeds.
 * Numeric axis values are used as x; other values are placed at 0, 1, ….
 */
export function errorAgainstAxis(axes: string[], runs: RunRow[], axis: string): Chart {
  const values: SettingValue[] = [];
  for (const r of runs) if (!values.some((v) => same(v, r.axes[axis]))) values.push(r.axes[axis]);
  const numeric = values.every((v) => typeof v === "number");
  const xOf = (v: SettingValue) => numeric ? v as number : values.findIndex((u) => same(u, v));
  const others = axes.filter((a) => a !== axis);
  const lines = new Map<string, RunRow[]>();
  for (const r of runs) {
    const key = others.map((a) => `${a} ${valueText(r.axes[a])}`).join(", ") || "rel. L2";
    lines.set(key, [...lines.get(key) ?? [], r]);
  }
  const series: ChartSeries[] = [...lines].map(([name, rows]) => ({
    name,
    x: rows.map((r) => xOf(r.axes[axis])),
    y: rows.map((r) => r.rel_l2 ?? NaN),
  }));
  // With seed the only other axis, the lines are the seeds: add their mean.
  if (others.length === 1 && others[0] === "seed") {
    const meanBy = values.map((v) => {
      const errs = runs.filter((r) => same(r.axes[axis], v) && r.rel_l2 !== null)
        .map((r) => r.rel_l2!);
      return errs.length ? errs.reduce((a, b) => a + b, 0) / errs.length : NaN;
    });
    series.push({ name: "mean over seeds", x: values.map(xOf), y: meanBy });
  }
  const categories = numeric ? undefined : values.map(valueText);
  return {
    file: `error_vs_${axis.replace(/[^A-Za-z0-9-]+/g, "-")}.png`,
    title: `rel. L2 error against ${axis}`,
    xLabel: axis,
    yLabel: "relative L2 error",
    logY: true,
    categories,
    series,
  };
}

/** Each run's relative L2 error over its training steps (from its log records). */
export function errorCurves(
  curves: { name: string; steps: number[]; rel_l2: (number | null)[] }[],
): Chart {
  return {
    file: "error_curves.png",
    title: "rel. L2 error of every run",
    xLabel: "step",
    yLabel: "relative L2 error",
    logY: true,
    series: curves.map((c) => ({ name: c.name, x: c.steps, y: c.rel_l2.map((v) => v ?? NaN) })),
  };
}

/** Reads the error curve of a run folder's log.jsonl (empty before the first log step). */
export async function readCurve(
  run: string,
): Promise<{ steps: number[]; rel_l2: (number | null)[] }> {
  const text = await Deno.readTextFile(`${run}/log.jsonl`).catch(() => "");
  const steps: number[] = [], rel: (number | null)[] = [];
  for (const line of text.split("\n")) {
    try {
      const r = JSON.parse(line);
      if (typeof r.step === "number") {
        steps.push(r.step);
        rel.push(typeof r.rel_l2 === "number" ? r.rel_l2 : null);
      }
    } catch { /* a line being written, or blank */ }
  }
  return { steps, rel_l2: rel };
}

/** The chart as a Vega-Lite spec (categories become the x axis' labels). */
export function chartSpec(c: Chart): ChartSpec {
  return lineChartSpec(c.series, {
    title: c.title,
    xLabel: c.xLabel,
    yLabel: c.yLabel,
    logY: c.logY,
    ...(c.categories ? { categories: c.categories } : {}),
  });
}
