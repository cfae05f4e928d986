/**
 * The solution picture of a run: named fields on the evaluation grid (the
 * network's prediction of each output, with its exact or reference values),
 * drawn according to the number of inputs:
 * - 1 input: prediction and exact against the input, and the absolute error;
 * - 2 inputs: heatmaps prediction | exact | error, first input across, second up;
 * - 3 inputs: the same at a few values of the first input (t slices).
 * One row per field.
 *
 * @module
 */
import { CHART_CONFIG, type ChartSpec } from "./render.ts";
import { type GridAxis, type Heatmap, heatmapLayer, SCHEMA, valueDomain } from "./heatmap.ts";
import { lineLayer } from "./line.ts";
import { check } from "../errors.ts";

/** One field on the evaluation grid, e.g. one output of the network. */
export interface GridField {
  /** The field's name (`u`, or an output's name). */
  name: string;
  /** The network's values, in the grid's row-major order (last input fastest). */
  prediction: ArrayLike<number>;
  /** The values to compare with, same order; absent: the prediction alone. */
  exact?: ArrayLike<number>;
  /** What `exact` is called in titles; default "exact" (e.g. "reference" for a numerical one). */
  exactName?: string;
}

/** Input to {@linkcode solutionSpec}. */
export interface SolutionData {
  /** The grid, one axis per input in input order. */
  axes: GridAxis[];
  /** The fields to draw, one row each. */
  fields: GridField[];
  /** Values of the first input at which a 3-input grid is sliced; default its first, middle and last. */
  slices?: number[];
}

/** The grid index nearest each wanted value of `a` (deduplicated, ascending). */
function sliceIndices(a: GridAxis, wanted?: number[]): number[] {
  const at = (v: number) =>
    a.n === 1
      ? 0
      : Math.min(a.n - 1, Math.max(0, Math.round((v - a.lo) / (a.hi - a.lo) * (a.n - 1))));
  const ks = wanted ? wanted.map(at) : [0, Math.floor((a.n - 1) / 2), a.n - 1];
  return [...new Set(ks)].sort((p, q) => p - q);
}

const axisValue = (a: GridAxis, k: number) =>
  a.n === 1 ? a.lo : a.lo + (a.hi - a.lo) * k / (a.n - 1);
const fmt = (v: number) => String(Number(v.toPrecision(4)));

function absError(p: ArrayLike<number>, e: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: p.length }, (_, i) => Math.abs(p[i] - e[i]));
}

/** Prediction | exact | error heatmaps of one 2-D field, on a shared colour domain. */
function heatmapRow(
  x: GridAxis,
  y: GridAxis,
  f: GridField,
  pred: ArrayLike<number>,
  exact: ArrayLike<number> | undefined,
  suffix: string,
): Heatmap[] {
  // One domain spans both, so neither is clipped to the other's range.
  const domain = valueDomain(pred, ...(exact ? [exact] : []));
  const ex = f.exactName ?? "exact";
  const panels: Heatmap[] = [
    { x, y, values: pred, title: `${f.name}: prediction${suffix}`, label: f.name, domain },
  ];
  if (exact) {
    panels.push(
      { x, y, values: exact, title: `${f.name}: ${ex}${suffix}`, label: f.name, domain },
      {
        x,
        y,
        values: absError(pred, exact),
        title: `${f.name}: |prediction − ${ex}|${suffix}`,
        label: `|error|`,
        colormap: "magma",
      },
    );
  }
  return panels;
}

/** The values of a 3-input field at first-input index k (a 2-D slice, row-major). */
function slice(values: ArrayLike<number>, k: number, n1: number, n2: number): Float64Array {
  const off = k * n1 * n2;
  return Float64Array.from({ length: n1 * n2 }, (_, i) => values[off + i]);
}

/**
 * The solution picture's spec, or `null` with the reason when the grid has no
 * picture (no inputs, or more than 3).
 */
export function solutionSpec(d: SolutionData): { spec: ChartSpec | null; reason?: string } {
  const { axes, fields } = d;
  const size = axes.reduce((p, a) => p * a.n, 1);
  for (const f of fields) {
    for (const [what, v] of [["prediction", f.prediction], ["exact", f.exact]] as const) {
      check(
        !v || v.length === size,
        "solution field",
        `Field ${f.name} has ${v?.length} ${what} values but the grid has ${size} points; pass one per grid point.`,
      );
    }
  }
  if (axes.length === 0 || axes.length > 3) {
    return {
      spec: null,
      reason:
        `no solution picture: the problem has ${axes.length} inputs, and pictures show 1 to 3 (3 as slices).`,
    };
  }
  let rows: ChartSpec[];
  if (axes.length === 1) {
    const [a] = axes, xs = Array.from({ length: a.n }, (_, k) => axisValue(a, k));
    rows = fields.map((f) => ({
      hconcat: [
        lineLayer([
          { name: "prediction", x: xs, y: f.prediction },
          ...(f.exact ? [{ name: f.exactName ?? "exact", x: xs, y: f.exact }] : []),
        ], { title: `${f.name}(${a.name})`, xLabel: a.name, yLabel: f.name, width: 360 }),
        ...(f.exact
          ? [lineLayer([{ name: "|error|", x: xs, y: absError(f.prediction, f.exact) }], {
            title: `|prediction − ${f.exactName ?? "exact"}|`,
            xLabel: a.name,
            yLabel: `|error|`,
            logY: true,
            width: 360,
          })]
          : []),
      ],
      resolve: { scale: { color: "independent", y: "independent" } },
    }));
  } else if (axes.length === 2) {
    const [x, y] = axes;
    rows = fields.map((f) => ({
      hconcat: heatmapRow(x, y, f, f.prediction, f.exact, "").map(heatmapLayer),
      resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
    }));
  } else {
    // (t, x, y): slices at a few times; x across, y up, as for a 2-input problem.
    const [t, x, y] = axes;
    const ks = sliceIndices(t, d.slices);
    rows = fields.flatMap((f) =>
      ks.map((k) => ({
        hconcat: heatmapRow(
          x,
          y,
          f,
          slice(f.prediction, k, x.n, y.n),
          f.exact && slice(f.exact, k, x.n, y.n),
          `, ${t.name} = ${fmt(axisValue(t, k))}`,
        ).map(heatmapLayer),
        resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
      }))
    );
  }
  return {
    spec: {
      $schema: SCHEMA,
      config: CHART_CONFIG,
      vconcat: rows,
      resolve: { scale: { color: "independent" }, legend: { color: "independent" } },
    },
  };
}

/** The grid axes of a problem's evaluation grid (`grid` points over `domain`, per input). */
export function gridAxes(
  p: { inputs: string[]; domain: [number, number][]; grid: number[] },
): GridAxis[] {
  return p.inputs.map((name, i) => ({
    name,
    lo: p.domain[i][0],
    hi: p.domain[i][1],
    n: p.grid[i] ?? 1,
  }));
}
