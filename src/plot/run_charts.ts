/**
 * The pictures of a training run, as named Vega-Lite specs: the solution on the
 * evaluation grid, the losses and error, the convergence diagnostics of the seed
 * paper and the loss weights, each against the step.
 *
 * @module
 */
import type { ChartSpec } from "./render.ts";
import { lineChartSpec } from "./line.ts";
import { type SolutionData, solutionSpec } from "./solution.ts";
import type { LogRecord } from "../train_state.ts";

/** A picture to write: its file base name, a caption and its spec. */
export interface NamedChart {
  /** Base name of the files (`solution` → solution.png, solution.svg, solution.vl.json). */
  name: string;
  /** One line saying what the picture shows. */
  caption: string;
  /** The Vega-Lite spec. */
  spec: ChartSpec;
}

/** The log's values of `get` per step, NaN where a record lacks it. */
const series = (log: LogRecord[], get: (r: LogRecord) => number | undefined) =>
  log.map((r) => get(r) ?? NaN);

/**
 * The charts of a run: `solution` (when the grid has a picture; else `note` says
 * why), and with a non-empty log `loss`, `convergence` and `weights`.
 */
export function runCharts(
  solution: SolutionData,
  log: LogRecord[],
): { charts: NamedChart[]; note?: string } {
  const charts: NamedChart[] = [];
  const sol = solutionSpec(solution);
  if (sol.spec) {
    const compared = solution.fields.some((f) => f.exact);
    charts.push({
      name: "solution",
      caption: compared
        ? "prediction, exact solution and absolute error on the evaluation grid"
        : "prediction on the evaluation grid (no reference to compare with)",
      spec: sol.spec,
    });
  }
  if (log.length > 0) {
    const steps = log.map((r) => r.step);
    const groups = Object.keys(log[0].loss);
    const step = { xLabel: "step", logY: true, zeroX: true };
    charts.push({
      name: "loss",
      caption: "mean squared residual per group and the relative L2 error",
      spec: lineChartSpec([
        ...groups.map((g) => ({ name: `loss ${g}`, x: steps, y: series(log, (r) => r.loss[g]) })),
        // Without a reference there is no error to draw.
        ...(log.some((r) => Number.isFinite(r.rel_l2))
          ? [{ name: "relative L2 error", x: steps, y: series(log, (r) => r.rel_l2) }]
          : []),
      ], { title: "Losses and error", ...step }),
    });
    charts.push({
      name: "convergence",
      caption:
        "running means over the logged steps of the unweighted residual (Σ over groups of mean r²) and of ‖∇L‖²",
      spec: lineChartSpec([
        { name: "Σ over groups of mean r²", x: steps, y: series(log, (r) => r.avg_residual_sq) },
        { name: "‖∇L‖²", x: steps, y: series(log, (r) => r.avg_grad_norm_sq) },
      ], { title: "Convergence: running means over logged steps", ...step }),
    });
    charts.push({
      name: "weights",
      caption: "loss weights λ per group",
      spec: lineChartSpec(
        groups.map((g) => ({ name: `λ ${g}`, x: steps, y: series(log, (r) => r.weights[g]) })),
        { title: "Loss weights", ...step },
      ),
    });
  }
  return { charts, ...(sol.reason ? { note: sol.reason } : {}) };
}
