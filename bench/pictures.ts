/**
 * Times writing a run's pictures and report.html: the same calls as `src/run_report.ts`
 * on the wave problem's 101 × 101 grid with a made-up prediction and a made-up
 * 50-point log (no GPU needed). Prints wall and CPU milliseconds per picture.
 *
 * ```sh
 * deno run --v8-flags=--liftoff-only --allow-read --allow-write --allow-env bench/pictures.ts [--scale 2]
 * ```
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { runCharts } from "../src/plot/run_charts.ts";
import { gridAxes } from "../src/plot/solution.ts";
import { writeChart } from "../src/plot/render.ts";
import { reportHtml } from "../src/plot/report.ts";
import { getProblem } from "../src/problems/mod.ts";
import { evaluationGrid, exactOutput } from "../src/problems/problem.ts";
import type { LogRecord } from "../src/train_state.ts";

const { values } = parseArgs({ options: { scale: { type: "string", default: "2" } } });
const scale = Number(values.scale);
const p = getProblem("wave");
const exact = Float64Array.from(evaluationGrid(p), exactOutput(p)!);
const prediction = Float32Array.from(exact, (v, i) => 0.9 * v + 0.05 * Math.sin(i));
const log: LogRecord[] = Array.from({ length: 50 }, (_, i) => {
  const s = 6 * (i + 1), decay = Math.exp(-s / 100);
  return {
    step: s,
    wall_s: s / 10,
    loss: { r: decay * (1 + 0.3 * Math.sin(s)), u: 0.1 * decay, ut: 0.01 * decay },
    total: decay,
    weights: { r: 1, u: 10 + s, ut: 100 - s / 10 },
    rel_l2: 1 - s / 600,
    avg_residual_sq: decay,
    avg_grad_norm_sq: 100 * decay,
  };
});
const out = await Deno.makeTempDir({ prefix: "sketchpinn-pictures-" });
const cpu = (c: { user: number; system: number }) => ((c.user + c.system) / 1000).toFixed(0);
const t0 = performance.now(), c0 = process.cpuUsage();
const { charts } = runCharts(
  { axes: gridAxes(p), fields: [{ name: "u", prediction, exact }] },
  log,
);
const figures = [];
for (const ch of charts) {
  const t = performance.now(), c = process.cpuUsage();
  figures.push({ ...await writeChart(out, ch.name, ch.spec, scale), ...ch });
  console.log(
    `${ch.name}: ${(performance.now() - t).toFixed(0)} ms wall, ${cpu(process.cpuUsage(c))} ms CPU`,
  );
}
const md = `# pictures\n\n${figures.map((f) => `![${f.name}](${f.name}.png)`).join("\n\n")}\n`;
await Deno.writeTextFile(`${out}/report.html`, reportHtml("pictures", md, figures));
console.log(
  `all pictures and report.html: ${(performance.now() - t0).toFixed(0)} ms wall, ${
    cpu(process.cpuUsage(c0))
  } ms CPU (files in ${out})`,
);
