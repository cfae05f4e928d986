/**
 * Vega-Lite specs rendered headless: vega-lite compiles a spec to Vega, vega lays
 * it out and writes SVG, and `png.ts` turns the SVG into PNG.
 *
 * The PNG step and where its wasm and font come from: `png.ts`.
 *
 * @module
 */
// A full npm: specifier, not the import map's bare name: a program that imports
// mod.ts by path or URL has no access to this package's deno.json.
// deno-lint-ignore no-import-prefix
import * as vega from "npm:vega@6.4.0";
// deno-lint-ignore no-import-prefix
import { compile } from "npm:vega-lite@6.5.0";
import { FONT, renderPng } from "./png.ts";
import { useFontMetrics } from "./text_width.ts";
import { writeFileAtomic } from "../fsutil.ts";

export { FONT, fontData, renderPng } from "./png.ts";

/** A Vega-Lite spec (https://vega.github.io/vega-lite/), as plain JSON data. */
export type ChartSpec = { [key: string]: unknown };

/**
 * The house look, stored in each spec's `config` so a `.vl.json` file opened
 * elsewhere looks the same. Legends sit outside the plot (they never cover a
 * curve) and no label is cut short.
 */
export const CHART_CONFIG: ChartSpec = {
  font: `${FONT}, sans-serif`,
  background: "white",
  title: { fontSize: 14, fontWeight: "normal", anchor: "start", offset: 8 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", labelLimit: 0 },
  legend: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: "normal",
    labelLimit: 0,
    titleLimit: 0,
  },
  header: { labelFontSize: 12, titleFontSize: 12 },
  concat: { spacing: 24 },
};

/** Compiles a Vega-Lite spec to the Vega spec that draws it. */
export function toVega(spec: ChartSpec): vega.Spec {
  // A copy: Vega tags the data objects it is given, and the caller's spec stays as it was.
  return compile(structuredClone(spec) as unknown as Parameters<typeof compile>[0]).spec;
}

/**
 * Lays out and draws a Vega-Lite spec headless; returns the SVG text.
 *
 * @example A line chart as SVG
 * ```ts
 * import { lineChartSpec } from "./line.ts";
 * import { renderSvg } from "./render.ts";
 * const svg = await renderSvg(lineChartSpec([{ name: "loss", x: [1, 2, 3], y: [1, 0.1, 0.01] }], {
 *   logY: true,
 * }));
 * ```
 */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  useFontMetrics();
  const view = new vega.View(vega.parse(toVega(spec)), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** What {@linkcode writeChart} wrote. */
export interface WrittenChart {
  /** Base name of the files (`<name>.vl.json`, `<name>.svg`, `<name>.png`). */
  name: string;
  /** The Vega-Lite spec. */
  spec: ChartSpec;
  /** The SVG text. */
  svg: string;
  /** The PNG bytes. */
  png: Uint8Array;
}

/**
 * Renders `spec` and writes `<dir>/<name>.vl.json` (the spec, to restyle in any
 * Vega-Lite tool), `<name>.svg` and `<name>.png`.
 */
export async function writeChart(
  dir: string,
  name: string,
  spec: ChartSpec,
  scale = 2,
): Promise<WrittenChart> {
  const svg = await renderSvg(spec);
  const png = await renderPng(svg, scale);
  // Atomic writes: a run killed while drawing leaves the previous pictures whole.
  await writeFileAtomic(`${dir}/${name}.vl.json`, JSON.stringify(spec) + "\n");
  await writeFileAtomic(`${dir}/${name}.svg`, svg);
  await writeFileAtomic(`${dir}/${name}.png`, png);
  return { name, spec, svg, png };
}
