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
import type { PictureData, Problem } from "../problems/problem.ts";
import { UserError } from "../errors.ts";

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
        ? `prediction, ${
          solution.fields.find((f) => f.exact)?.exactName === "reference"
            ? "reference solution"
            : "exact solution"
        } and absolute error on the evaluation grid`
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

/** The names of every run's own pictures; a problem's pictures take other names. */
export const RUN_CHART_NAMES: readonly string[] = ["solution", "loss", "convergence", "weights"];

/**
 * The problem's own pictures (its `pictures` hook; none without one), checked:
 * distinct names of letters, digits, `_` or `-` that no run picture uses, each
 * with a spec object.
 */
export async function problemCharts(problem: Problem, data: PictureData): Promise<NamedChart[]> {
  if (!problem.pictures) return [];
  const charts = await problem.pictures(data);
  const seen = new Set<string>(RUN_CHART_NAMES);
  for (const c of Array.isArray(charts) ? charts : [null]) {
    const name = (c as NamedChart | null)?.name;
    if (
      typeof name !== "string" || !/^[\w-]+$/.test(name) || seen.has(name) ||
      typeof c?.spec !== "object" || c.spec === null
    ) {
      throw new UserError(
        "--problem",
        `Problem ${problem.name}: "pictures" must return a list of { name, caption, spec } with distinct file names (letters, digits, _ or -) other than ${
          RUN_CHART_NAMES.join(", ")
        }, but gave ${typeof name === "string" ? `"${name}"` : "an entry without one"}.`,
      );
    }
    seen.add(name);
  }
  return charts;
}
