/**
 * Pictures of a 2-D Q-tensor field Q = [[Q1, Q2], [Q2, −Q1]] on a (t, x, y) grid,
 * the ones a liquid-crystal user reads: the director field and the largest
 * eigenvalue over time, for the prediction beside the reference.
 *
 * Q is symmetric and traceless, so its eigenvalues are ±s with s = √(Q1² + Q2²)
 * (the scalar order parameter, up to a factor) and the eigenvector of +s, the
 * director, is at the angle θ = ½ atan2(Q2, Q1): Q = s (2 n nᵀ − I) with
 * n = (cos θ, sin θ). A director is a line, not an arrow (n and −n are the same
 * state), so it is drawn as a short segment centred on its grid point.
 *
 * @module
 */
import { CHART_CONFIG, type ChartSpec } from "./render.ts";
import { type GridAxis, SCHEMA } from "./heatmap.ts";
import { lineLayer } from "./line.ts";
import type { NamedChart } from "./run_charts.ts";
import { check } from "../errors.ts";

/** Input to {@linkcode qtensorPictures}: Q1 and Q2 on a (t, x, y) grid. */
export interface QTensorFields {
  /** The grid's axes: t, x, y (y fastest in the value arrays). */
  axes: GridAxis[];
  /** The prediction's [Q1, Q2], each in the grid's row-major order. */
  prediction: ArrayLike<number>[];
  /** The reference's [Q1, Q2], same order; null draws the prediction alone. */
  reference: ArrayLike<number>[] | null;
  /** What the reference is called in titles; default "reference". */
  referenceName?: string;
  /** Times to draw the director field at; default the first, middle and last of the grid. */
  times?: number[];
  /** Glyphs per side of the domain (a coarse grid, so each stays readable); default 11. */
  glyphs?: number;
}

/** The largest eigenvalue √(Q1² + Q2²) of Q at each point. */
export function largestEigenvalue(q1: ArrayLike<number>, q2: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: q1.length }, (_, i) => Math.hypot(q1[i], q2[i]));
}

/** The director's angle to the x axis, in (−π/2, π/2]: the eigenvector of Q's largest eigenvalue. */
export const directorAngle = (q1: number, q2: number): number => Math.atan2(q2, q1) / 2;

/** One director glyph: a segment through (x, y) along the director. */
export interface DirectorGlyph {
  /** The grid point. */
  x: number;
  /** See `x`. */
  y: number;
  /** One end. */
  x1: number;
  /** See `x1`. */
  y1: number;
  /** The other end. */
  x2: number;
  /** See `x2`. */
  y2: number;
  /** The largest eigenvalue there. */
  s: number;
  /** The director's angle in degrees. */
  angle: number;
}

const axisValue = (a: GridAxis, k: number) =>
  a.n === 1 ? a.lo : a.lo + (a.hi - a.lo) * k / (a.n - 1);

/** Grid indices of about `count` evenly spaced points along `a` (ends included). */
function coarseIndices(a: GridAxis, count: number): number[] {
  if (a.n <= count) return Array.from({ length: a.n }, (_, k) => k);
  const ks = Array.from({ length: count }, (_, k) => Math.round(k * (a.n - 1) / (count - 1)));
  return [...new Set(ks)];
}

/**
 * The director glyphs of time slice `k` on a coarse subgrid: each is centred on
 * its point, at the director's angle, with half-length `half · s / sMax`, so the
 * longest glyph of the picture spans most of a coarse cell. Points with s below a
 * millionth of sMax (the boundary, where Q vanishes up to rounding: sin 2π is
 * 2.4e-16, not 0) have no director worth drawing and no glyph; a zero-length glyph
 * would still show as a dot.
 */
export function directorGlyphs(
  axes: GridAxis[],
  q1: ArrayLike<number>,
  q2: ArrayLike<number>,
  k: number,
  opts: { glyphs?: number; sMax: number },
): DirectorGlyph[] {
  const [, x, y] = axes;
  const xs = coarseIndices(x, opts.glyphs ?? 11), ys = coarseIndices(y, opts.glyphs ?? 11);
  // Most of a coarse cell's width (in x units; the panels are drawn square).
  const half = 0.45 * Math.min(
    (x.hi - x.lo) / Math.max(xs.length - 1, 1),
    (y.hi - y.lo) / Math.max(ys.length - 1, 1),
  );
  const out: DirectorGlyph[] = [];
  for (const i of xs) {
    for (const j of ys) {
      const idx = (k * x.n + i) * y.n + j;
      const s = Math.hypot(q1[idx], q2[idx]);
      if (!(opts.sMax > 0) || !(s > 1e-6 * opts.sMax)) continue;
      const th = directorAngle(q1[idx], q2[idx]), h = half * Math.min(1, s / opts.sMax);
      const px = axisValue(x, i), py = axisValue(y, j);
      const dx = h * Math.cos(th), dy = h * Math.sin(th);
      out.push({
        x: px,
        y: py,
        x1: px - dx,
        y1: py - dy,
        x2: px + dx,
        y2: py + dy,
        s,
        angle: th * 180 / Math.PI,
      });
    }
  }
  return out;
}

const fmt = (v: number) => String(Number(v.toPrecision(4)));

/** One director panel: rule marks on the domain, square, axes in the inputs' units. */
function directorPanel(axes: GridAxis[], glyphs: DirectorGlyph[], title: string): ChartSpec {
  const [, x, y] = axes;
  const scale = (a: GridAxis) => ({ domain: [a.lo, a.hi], nice: false, zero: false });
  return {
    title,
    width: 220,
    height: Math.round(220 * (y.hi - y.lo) / (x.hi - x.lo)),
    data: { values: glyphs },
    // aria off: a description per glyph would nearly double the SVG.
    mark: { type: "rule", strokeWidth: 2, strokeCap: "round", color: "#1f3b73", aria: false },
    encoding: {
      x: { field: "x1", type: "quantitative", title: x.name, scale: scale(x) },
      y: { field: "y1", type: "quantitative", title: y.name, scale: scale(y) },
      x2: { field: "x2" },
      y2: { field: "y2" },
      tooltip: [
        { field: "x", type: "quantitative", title: x.name, format: ".3~g" },
        { field: "y", type: "quantitative", title: y.name, format: ".3~g" },
        { field: "s", type: "quantitative", title: "largest eigenvalue", format: ".3e" },
        { field: "angle", type: "quantitative", title: "director angle (°)", format: ".1f" },
      ],
    },
  };
}

/** The time indices nearest each wanted time (deduplicated, ascending). */
function timeIndices(t: GridAxis, wanted?: number[]): number[] {
  const at = (v: number) =>
    t.n === 1
      ? 0
      : Math.min(t.n - 1, Math.max(0, Math.round((v - t.lo) / (t.hi - t.lo) * (t.n - 1))));
  const ks = wanted ? wanted.map(at) : [0, Math.floor((t.n - 1) / 2), t.n - 1];
  return [...new Set(ks)].sort((p, q) => p - q);
}

/** Max and mean over the domain of the largest eigenvalue, per time of the grid. */
export function eigenvalueOverTime(
  axes: GridAxis[],
  q1: ArrayLike<number>,
  q2: ArrayLike<number>,
): { t: number[]; max: number[]; mean: number[] } {
  const [t, x, y] = axes, per = x.n * y.n;
  const s = largestEigenvalue(q1, q2);
  const out = { t: [] as number[], max: [] as number[], mean: [] as number[] };
  for (let k = 0; k < t.n; k++) {
    let mx = 0, sum = 0;
    for (let i = k * per; i < (k + 1) * per; i++) mx = Math.max(mx, s[i]), sum += s[i];
    out.t.push(axisValue(t, k)), out.max.push(mx), out.mean.push(sum / per);
  }
  return out;
}

/**
 * The Q-tensor pictures: `director` (the director field at the first, middle
 * and last time, prediction beside reference, glyph length ∝ the largest
 * eigenvalue on one scale for all panels) and `eigenvalue` (the largest
 * eigenvalue's maximum and mean over the domain against time, prediction and
 * reference). Q1 and Q2 themselves (prediction, reference, error) are the run's
 * `solution` picture.
 */
export function qtensorPictures(d: QTensorFields): NamedChart[] {
  check(
    d.axes.length === 3,
    "Q-tensor pictures",
    `Q-tensor pictures need a (t, x, y) grid, got ${d.axes.length} axes; pass t, x and y.`,
  );
  const size = d.axes.reduce((p, a) => p * a.n, 1);
  const fields = [["prediction", d.prediction], ["reference", d.reference ?? []]] as const;
  for (const [what, f] of fields) {
    check(
      (what === "reference" && !d.reference) ||
        (f.length === 2 && f.every((a) => a.length === size)),
      "Q-tensor pictures",
      `The ${what} must be [Q1, Q2] with ${size} values each (the grid's points); pass both components.`,
    );
  }
  const refName = d.referenceName ?? "reference";
  const sources = [
    { name: "prediction", q: d.prediction },
    ...(d.reference ? [{ name: refName, q: d.reference }] : []),
  ];
  const t = d.axes[0], ks = timeIndices(t, d.times);
  // One length scale over every panel, so glyphs compare across times and sources.
  let sMax = 0;
  for (const src of sources) {
    for (const k of ks) {
      const per = d.axes[1].n * d.axes[2].n;
      for (let i = k * per; i < (k + 1) * per; i++) {
        sMax = Math.max(sMax, Math.hypot(src.q[0][i], src.q[1][i]));
      }
    }
  }
  const rows = ks.map((k) => ({
    hconcat: sources.map((src) =>
      directorPanel(
        d.axes,
        directorGlyphs(d.axes, src.q[0], src.q[1], k, { glyphs: d.glyphs, sMax }),
        `director, ${src.name}, ${t.name} = ${fmt(axisValue(t, k))}`,
      )
    ),
  }));
  const director: ChartSpec = { $schema: SCHEMA, config: CHART_CONFIG, vconcat: rows };
  const curves = sources.map((src) => ({
    src,
    e: eigenvalueOverTime(d.axes, src.q[0], src.q[1]),
  }));
  const eigen: ChartSpec = {
    $schema: SCHEMA,
    config: CHART_CONFIG,
    ...lineLayer(
      curves.flatMap(({ src, e }) => [
        { name: `max over Ω, ${src.name}`, x: e.t, y: e.max },
        { name: `mean over Ω, ${src.name}`, x: e.t, y: e.mean },
      ]),
      {
        title: "Largest eigenvalue of Q, √(Q1² + Q2²)",
        xLabel: t.name,
        yLabel: "largest eigenvalue",
        zeroX: true,
      },
    ),
  };
  const lengthNote = `glyph length ∝ the largest eigenvalue (longest: ${sMax.toExponential(2)})`;
  return [
    {
      name: "director",
      caption: `director field (eigenvector of Q's largest eigenvalue) at ${
        ks.map((k) => `${t.name} = ${fmt(axisValue(t, k))}`).join(", ")
      }, prediction${d.reference ? ` and ${refName}` : ""}; ${lengthNote}`,
      spec: director,
    },
    {
      name: "eigenvalue",
      caption: `largest eigenvalue of Q over time (max and mean over the domain), prediction${
        d.reference ? ` and ${refName}` : ""
      }`,
      spec: eigen,
    },
  ];
}
