/**
 * A run's `report.html`: one self-contained file (no network needed to open it)
 * with the report's text and its pictures. Each picture is inline SVG, so the page
 * reads without scripts; with scripts on, Vega's runtime (embedded from
 * `assets/vega.min.js.txt`, Vega's own browser build) redraws it from the
 * compiled spec with tooltips on the data points.
 *
 * @module
 */
// A full npm: specifier, not the import map's bare name: a program that imports
// mod.ts by path or URL has no access to this package's deno.json.
// deno-lint-ignore no-import-prefix
import { Marked } from "npm:marked@18.2.1";
import vegaRuntime from "./assets/vega.min.js.txt" with { type: "text" };
import { toVega, type WrittenChart } from "./render.ts";

/** A picture for the page: what {@linkcode writeChart} returned and a caption. */
export interface Figure extends Pick<WrittenChart, "name" | "spec" | "svg"> {
  /** One line under the picture. */
  caption?: string;
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** JSON that cannot end the `<script>` element it sits in. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");

const STYLE = `body{font-family:"DejaVu Sans",Verdana,sans-serif;max-width:1200px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}figure{margin:2em 0;overflow-x:auto}
figcaption{color:#555;font-size:.9em}code{background:#f4f4f4;padding:0 .2em}`;

// Replaces each static picture by a live Vega view of the same spec; the view's
// default tooltip handler shows a point's fields in the browser's own tooltip.
const BOOT = `for (const fig of document.querySelectorAll("figure[data-spec]")) {
  const spec = JSON.parse(document.getElementById(fig.dataset.spec).textContent);
  const box = fig.querySelector(".chart");
  const view = new vega.View(vega.parse(spec), { renderer: "svg", hover: true });
  view.initialize(document.createElement("div")).runAsync().then(() => {
    box.replaceChildren(view.container());
  });
}`;

/**
 * The page: `markdown` rendered to HTML, where an image `![…](NAME.png)` of a
 * figure named NAME becomes that figure; figures not named in the text follow
 * at the end.
 */
export function reportHtml(title: string, markdown: string, figures: Figure[]): string {
  let body = new Marked().parse(markdown, { async: false }) as string;
  const placed = new Set<string>();
  const figureHtml = (f: Figure, i: number) =>
    `<figure id="fig-${
      escapeHtml(f.name)
    }" data-spec="spec-${i}"><div class="chart">${f.svg}</div>${
      f.caption ? `<figcaption>${escapeHtml(f.caption)}</figcaption>` : ""
    }</figure>\n<script type="application/json" id="spec-${i}">${
      scriptJson(toVega(f.spec))
    }</script>`;
  figures.forEach((f, i) => {
    const img = new RegExp(`(<p>)?<img src="${f.name.replace(/\W/g, "\\$&")}\\.png"[^>]*>(</p>)?`);
    if (img.test(body)) {
      body = body.replace(img, () => figureHtml(f, i));
      placed.add(f.name);
    }
  });
  const rest = figures.map((f, i) => placed.has(f.name) ? "" : figureHtml(f, i)).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
${body}
${rest}
<script>${vegaRuntime.replace(/<\/script/gi, "<\\/script")}</script>
<script>${BOOT}</script>
</body></html>
`;
}
