/**
 * What a finished run reports: metrics.json's fields ({@linkcode Metrics}) and the
 * report — the pictures (prediction, solution, loss and weight curves) and
 * report.md and report.html built from the metrics and the log.
 *
 * @module
 */
import type { Trainer } from "./trainer.ts";
import { DEFAULT_CHUNKS } from "./train_config.ts";
import { emaBeta, isSketch } from "./weight_policy.ts";
import type { LogRecord } from "./train_state.ts";
import { writeRunFile } from "./run_files.ts";
import { writeChart } from "./plot/render.ts";
import { problemCharts, runCharts } from "./plot/run_charts.ts";
import { gridAxes } from "./plot/solution.ts";
import { reportHtml } from "./plot/report.ts";
import { problemOutputs } from "./problems/problem.ts";
import { DEFAULT_DT, DEFAULT_HUTCH_DT } from "./ntk.ts";

/** What a run reports at the end (metrics.json, design §5). */
export interface Metrics {
  /** Problem name, or module path relative to the run folder (as in config.json). */
  problem: string;
  /** Steps trained. */
  steps: number;
  /** Wall-clock seconds of training (resumed runs add up). */
  wall_s: number;
  /**
   * ‖u_θ − u‖₂ / ‖u‖₂ on the evaluation grid over all outputs stacked, u being the
   * exact or reference solution; null when the problem has neither.
   */
  rel_l2: number | null;
  /** The same per output (by name); null when the problem has no solution to compare with. */
  rel_l2_outputs: Record<string, number> | null;
  /** Root mean square residual per group at the end: what the run can report without a solution. */
  residual_rms: Record<string, number>;
  /** Present when no error can be computed: says why. */
  note?: string;
  /** Mean r² per group of the saved model on the last points (what `eval` gives). */
  loss: Record<string, number>;
  /** Loss weights λ per group at the end. */
  weights: Record<string, number>;
  /** The adapter that ran it (one line). */
  adapter: string;
  /** The weighting policy. */
  weighting: string;
  /** Training steps per second in this session. */
  steps_per_s: number;
  /** Why the run ended before its last step (an L-BFGS stopping rule), when it did. */
  stopped?: string;
}

const fmt = (v: number | null) => v !== null && Number.isFinite(v) ? v.toExponential(3) : String(v);

/** What metrics.json and report.md say when a problem has no exact solution nor reference. */
export const NO_SOLUTION =
  "The problem has no exact solution nor reference solution, so no error can be computed; the residual norms (residual_rms, loss) are what the run reports.";

/** Writes the run's pictures, report.html and report.md (last) to `out`. */
export async function writeReport(
  trainer: Trainer,
  m: Metrics,
  log: LogRecord[],
  out: string,
): Promise<void> {
  const p = trainer.problem, c = trainer.config;
  // One field per output: prediction, and the exact or reference solution where there is one.
  const pred = await trainer.predictOutputs();
  const ref = await trainer.gridSolution();
  const names = problemOutputs(p);
  // A numerical reference is titled as one ("u: reference"), not as an exact solution.
  const solutionName = p.exact ? "exact" : "reference";
  const fields = names.map((name, k) => ({
    name,
    prediction: pred[k],
    ...(ref ? { exact: ref[k], exactName: solutionName } : {}),
  }));
  const { charts, note } = runCharts({ axes: gridAxes(p), fields }, log);
  // The problem's own pictures (qtensor: the director field and the largest eigenvalue).
  const own = await problemCharts(p, {
    axes: gridAxes(p),
    prediction: pred,
    solution: ref,
    solutionName,
  });
  const figures = [];
  for (const ch of [...charts, ...own]) {
    figures.push({ ...await writeChart(out, ch.name, ch.spec), ...ch });
  }
  const lines = [
    `# sketchpinn run: ${p.name}`,
    "",
    `${p.doc}`,
    "",
    `- adapter: ${m.adapter}`,
    `- network: ${c.sizes.join(", ")} (${c.activation}, ${
      c.init ?? "xavier"
    } init), optimizer ${c.optimizer}, lr ${c.lr} ×${c.decay} every ${c.decaySteps} steps${
      (c.average ?? 0) > 0
        ? `; the model is the parameter average (β = ${c.average} after a warm-up): the error, the losses and model.json are the average's`
        : ""
    }`,
    `- weighting: ${c.weighting}${
      isSketch(c.weighting)
        ? ` (k = ${c.k}${
          c.weighting === "jvp"
            ? ""
            : `, Δt = ${c.dt ?? (c.weighting === "hutch" ? DEFAULT_HUTCH_DT : DEFAULT_DT)}`
        }, β = ${emaBeta(c)})`
        : ""
    }, updated every ${c.every} step(s)${
      (c.causal ?? 0) > 0
        ? `; causal weights ε = ${c.causal} over ${c.chunks ?? DEFAULT_CHUNKS} time chunks`
        : ""
    }`,
    `- points: ${
      Object.entries(trainer.counts).map(([g, n]) => `${g} = ${n}`).join(", ")
    }, resampled every ${c.resample || "never"} step(s)`,
    `- steps: ${m.steps} in ${m.wall_s.toFixed(1)} s (${m.steps_per_s.toFixed(2)} steps/s)`,
    "",
    ...(m.note ? [m.note, ""] : []),
    "| metric | value |",
    "| --- | --- |",
    `| relative L2 error${names.length > 1 ? " (outputs stacked)" : ""} | ${
      m.rel_l2 === null
        ? "no reference (no exact or reference solution to compare with)"
        : fmt(m.rel_l2)
    } |`,
    ...(names.length > 1 && m.rel_l2_outputs
      ? Object.entries(m.rel_l2_outputs).map(([k, v]) => `| relative L2 error ${k} | ${fmt(v)} |`)
      : []),
    ...Object.entries(m.residual_rms).map(([g, v]) => `| rms residual ${g} | ${fmt(v)} |`),
    ...Object.entries(m.loss).map(([g, v]) =>
      `| loss ${g} (saved model, last points) | ${fmt(v)} |`
    ),
    ...Object.entries(m.weights).map(([g, v]) => `| λ ${g} | ${fmt(v)} |`),
    "",
    ...(note ? [`(${note})`, ""] : []),
    ...figures.flatMap((f) => [`![${f.name}](${f.name}.png)`, ""]),
  ];
  const md = lines.join("\n");
  // report.md last: a sweep counts a run finished once it follows metrics.json.
  await writeRunFile(out, "report.html", reportHtml(`sketchpinn run: ${p.name}`, md, figures));
  await writeRunFile(out, "report.md", md);
}
