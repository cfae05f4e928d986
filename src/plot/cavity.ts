/**
 * The picture a lid-driven cavity user reads first: the velocity on the two
 * centrelines, u(½, y) against y and v(x, ½) against x, for the prediction beside
 * the reference and Ghia, Ghia & Shin's published values (Re = 100).
 *
 * @module
 */
import { CHART_CONFIG, type ChartSpec } from "./render.ts";
import { type GridAxis, SCHEMA } from "./heatmap.ts";
import { lineLayer, type LineSeries } from "./line.ts";
import type { NamedChart } from "./run_charts.ts";
import { check } from "../errors.ts";
import { GHIA_RE100_U, GHIA_RE100_V } from "../solvers/ghia.ts";

/** Input to {@linkcode cavityPictures}: (u, v, p) on an (x, y) grid. */
export interface CavityFields {
  /** The grid's axes: x, y (y fastest in the value arrays). */
  axes: GridAxis[];
  /** The prediction's [u, v, p], each in the grid's row-major order. */
  prediction: ArrayLike<number>[];
  /** The reference's [u, v, p], same order; null draws the prediction alone. */
  reference: ArrayLike<number>[] | null;
  /** What the reference is called in the legend; default "reference". */
  referenceName?: string;
  /** Draw Ghia et al.'s Re = 100 values (default true; false at another Re). */
  ghia?: boolean;
}

/** The grid coordinates of an axis. */
const coords = (a: GridAxis) =>
  Array.from({ length: a.n }, (_, i) => a.n === 1 ? a.lo : a.lo + (i * (a.hi - a.lo)) / (a.n - 1));

/**
 * A field on the line x = `x0` (`across` 0: its values against y) or y = `x0`
 * (`across` 1: against x), linearly interpolated between the two grid lines
 * around `x0`.
 */
export function centreline(
  axes: GridAxis[],
  f: ArrayLike<number>,
  across: 0 | 1,
  x0: number,
): { s: number[]; values: number[] } {
  const [ax, ay] = axes, a = axes[across];
  const h = a.n > 1 ? (a.hi - a.lo) / (a.n - 1) : 1;
  const k = Math.min(Math.max(Math.floor((x0 - a.lo) / h), 0), Math.max(a.n - 2, 0));
  const w = a.n > 1 ? (x0 - (a.lo + k * h)) / h : 0;
  const at = (i: number, j: number) => f[i * ay.n + j];
  const other = axes[1 - across];
  const values = Array.from({ length: other.n }, (_, m) => {
    const lo = across === 0 ? at(k, m) : at(m, k);
    if (w === 0) return lo;
    const hi = across === 0 ? at(k + 1, m) : at(m, k + 1);
    return (1 - w) * lo + w * hi;
  });
  return { s: coords(across === 0 ? ay : ax), values };
}

/** One panel: the curves as lines, Ghia's values as open circles in the same legend. */
function panel(
  curves: LineSeries[],
  ghia: [number, number][] | null,
  title: string,
  xLabel: string,
  yLabel: string,
): ChartSpec {
  const lines = lineLayer(curves, { title, xLabel, yLabel, width: 380, height: 300 });
  if (!ghia) return lines;
  const name = "Ghia et al. (1982)";
  const { title: _t, width, height, ...layered } = lines;
  // One legend order for both layers (Vega-Lite unions their colour domains).
  const sort = [...curves.map((c) => c.name), name];
  const encoding = layered.encoding as Record<string, Record<string, unknown>>;
  return {
    title,
    width,
    height,
    layer: [
      { ...layered, encoding: { ...encoding, color: { ...encoding.color, sort } } },
      {
        data: { values: ghia.map(([s, v]) => ({ series: name, x: s, y: v })) },
        mark: { type: "point", filled: false, size: 50, strokeWidth: 1.6 },
        encoding: {
          x: { field: "x", type: "quantitative" },
          y: { field: "y", type: "quantitative" },
          color: { field: "series", type: "nominal", sort },
          tooltip: [
            { field: "series", type: "nominal", title: "source" },
            { field: "x", type: "quantitative", title: xLabel, format: ".4~g" },
            { field: "y", type: "quantitative", title: yLabel, format: ".5~g" },
          ],
        },
      },
    ],
  };
}

/**
 * The cavity's own picture, `centrelines`: u(½, y) against y and v(x, ½) against
 * x, prediction, reference and (at Re = 100) Ghia et al.'s 17 values per line.
 */
export function cavityPictures(d: CavityFields): NamedChart[] {
  check(
    d.axes.length === 2,
    "cavity pictures",
    `The grid must have 2 axes (x, y); got ${d.axes.length}.`,
  );
  const size = d.axes[0].n * d.axes[1].n;
  for (const [what, f] of [["prediction", d.prediction], ["reference", d.reference]] as const) {
    if (f === null) continue;
    check(
      f.length >= 2 && f.slice(0, 2).every((a) => a.length === size),
      "cavity pictures",
      `The ${what} must hold u and v with ${size} values each (the grid's points).`,
    );
  }
  const refName = d.referenceName ?? "reference";
  const sources = [
    { name: "prediction", q: d.prediction },
    ...(d.reference ? [{ name: refName, q: d.reference }] : []),
  ];
  const [xName, yName] = d.axes.map((a) => a.name);
  const along = (k: 0 | 1) =>
    sources.map((src) => {
      // u on the vertical line x = ½ (against y); v on the horizontal line y = ½.
      const c = centreline(d.axes, src.q[k], k === 0 ? 0 : 1, 0.5);
      return { name: src.name, x: c.s, y: c.values };
    });
  const showGhia = d.ghia ?? true;
  const spec: ChartSpec = {
    $schema: SCHEMA,
    config: CHART_CONFIG,
    hconcat: [
      panel(
        along(0),
        showGhia ? GHIA_RE100_U : null,
        `u on the vertical centreline ${xName} = 0.5`,
        yName,
        "u",
      ),
      panel(
        along(1),
        showGhia ? GHIA_RE100_V : null,
        `v on the horizontal centreline ${yName} = 0.5`,
        xName,
        "v",
      ),
    ],
  };
  return [{
    name: "centrelines",
    caption: `u(0.5, ${yName}) and v(${xName}, 0.5): prediction${
      d.reference ? `, ${refName}` : ""
    }${showGhia ? " and Ghia, Ghia & Shin (1982), Re = 100" : ""}`,
    spec,
  }];
}
