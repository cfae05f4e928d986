/**
 * The convergence statement of adaptive NTK weights, shown: full-batch gradient
 * descent (`--optimizer gd`, constant step, points sampled once: `--resample 0`)
 * drives the running averages (1/T) Σ_t ‖R(θ_t)‖² and (1/T) Σ_t ‖∇L(θ_t)‖² to zero
 * while the weights change. Trains small networks on wave and qtensor with none,
 * exact and pc weights (one child `train` process each), reads the running averages
 * from each run's log.jsonl, fits their log–log slopes against the step and writes
 *
 * - `<out>/convergence.json`: every run's settings, series and fitted slopes;
 * - `<out>/convergence.md`: the slopes as a table;
 * - `<out>/convergence_<problem>.{png,svg,vl.json}`: both averages against the step, log–log.
 *
 * The chart data (series and labels) are built apart from the drawing, so another
 * charting back end can draw the same data.
 *
 * Usage: `deno task convergence [--steps 2000] [--every 10] [--out bench/results]
 * [--problems wave,qtensor-soft] [--weightings none,exact,pc] [--runs DIR] [--lr η] [--redraw]`
 * (`--lr` replaces every problem's GD step; `--redraw` draws the charts again from
 * `<out>/convergence.json` without training).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type LineChartOptions, lineChartSpec, type LineSeries } from "../src/plot/line.ts";
import { writeChart } from "../src/plot/render.ts";

/** Settings of one problem's runs: a small network on fixed points, and the GD step. */
interface Setup {
  sizes: string;
  n: string;
  lr: number;
}

/**
 * Small networks and point sets, chosen so that a run takes minutes on a software
 * adapter. One GD step for all weightings of a problem (1e-2, where the unweighted
 * loss decreases steadily in a 300-step pilot on wave), so that the weighted runs
 * show what a step too large for the weighted loss does (README).
 */
export const SETUPS: Record<string, Setup> = {
  wave: { sizes: "2,32,32,1", n: "r=256,u=64,ut=64", lr: 1e-2 },
  "qtensor-soft": { sizes: "3,32,32,2", n: "r1=128,r2=128,q1=64,q2=64,qt1=32,qt2=32", lr: 1e-2 },
};

/** One run's logged running averages. */
export interface ConvergenceRun {
  problem: string;
  weighting: string;
  sizes: string;
  n: string;
  lr: number;
  steps: number[];
  avgResidualSq: number[];
  avgGradNormSq: number[];
  /** Final weights of the groups. */
  weights: Record<string, number>;
  /** Least-squares slopes of log(average) against log(step) over the fitted range. */
  slopes: { residual: number; gradient: number };
  /** First step of the fitted range. */
  fitFrom: number;
}

/** Least-squares slope of log y against log x over the points with x ≥ from and y > 0. */
export function logLogSlope(x: readonly number[], y: readonly number[], from: number): number {
  const pts = x.map((v, i) => [v, y[i]]).filter(([a, b]) => a >= from && b > 0 && a > 0);
  const lx = pts.map(([a]) => Math.log(a)), ly = pts.map(([, b]) => Math.log(b));
  const mx = lx.reduce((s, v) => s + v, 0) / lx.length;
  const my = ly.reduce((s, v) => s + v, 0) / ly.length;
  let sxy = 0, sxx = 0;
  lx.forEach((v, i) => {
    sxy += (v - mx) * (ly[i] - my);
    sxx += (v - mx) ** 2;
  });
  return sxx > 0 ? sxy / sxx : NaN;
}

/** Reads a run folder's log.jsonl into a {@linkcode ConvergenceRun} (fit over the last 90% of steps). */
export function readRun(
  dir: string,
  meta: { problem: string; weighting: string } & Setup,
): ConvergenceRun {
  const lines = Deno.readTextFileSync(`${dir}/log.jsonl`).split("\n").filter((l) => l.trim());
  const recs = lines.map((l) => JSON.parse(l));
  const steps = recs.map((r) => r.step as number);
  const avgResidualSq = recs.map((r) => r.avg_residual_sq as number);
  const avgGradNormSq = recs.map((r) => r.avg_grad_norm_sq as number);
  // The first tenth is the transient before the averages settle into a power law.
  const fitFrom = Math.max(steps[0], 0.1 * steps[steps.length - 1]);
  return {
    ...meta,
    steps,
    avgResidualSq,
    avgGradNormSq,
    weights: recs[recs.length - 1].weights,
    slopes: {
      residual: logLogSlope(steps, avgResidualSq, fitFrom),
      gradient: logLogSlope(steps, avgGradNormSq, fitFrom),
    },
    fitFrom,
  };
}

/** The chart of one problem's runs: series over the step with log–log axes, ready for any line-chart drawer. */
export function chartData(problem: string, runs: ConvergenceRun[]): {
  series: LineSeries[];
  options: LineChartOptions;
} {
  const series = runs.filter((r) => r.problem === problem).flatMap((r) => [
    {
      name: `${r.weighting} avg |R|^2 (slope ${r.slopes.residual.toFixed(2)})`,
      x: r.steps,
      y: r.avgResidualSq,
    },
    {
      name: `${r.weighting} avg |grad L|^2 (slope ${r.slopes.gradient.toFixed(2)})`,
      x: r.steps,
      y: r.avgGradNormSq,
    },
  ]);
  return {
    series,
    options: {
      title: `${problem}: running averages under full-batch GD`,
      xLabel: "step",
      yLabel: "running average",
      logX: true,
      logY: true,
    },
  };
}

/** Writes `convergence_<problem>.{vl.json,svg,png}` for each problem of `runs` into `dir`. */
export async function drawCharts(dir: string, runs: ConvergenceRun[]): Promise<void> {
  for (const problem of new Set(runs.map((r) => r.problem))) {
    const c = chartData(problem, runs);
    await writeChart(dir, `convergence_${problem}`, lineChartSpec(c.series, c.options));
  }
}

/** The slopes as a Markdown table. */
export function slopeTable(runs: ConvergenceRun[]): string {
  const rows = runs.map((r) =>
    `| ${r.problem} | ${r.weighting} | ${r.lr} | ${r.steps.at(-1)} | ${
      r.avgResidualSq.at(-1)!.toExponential(2)
    } | ${r.slopes.residual.toFixed(2)} | ${r.avgGradNormSq.at(-1)!.toExponential(2)} | ${
      r.slopes.gradient.toFixed(2)
    } | ${Object.values(r.weights).map((w) => w.toFixed(2)).join(", ")} |`
  );
  return [
    "| problem | weighting | GD step | steps | avg ‖R‖² | slope | avg ‖∇L‖² | slope | final λ |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows,
  ].join("\n");
}

async function train(
  dir: string,
  problem: string,
  weighting: string,
  s: Setup,
  steps: number,
  every: number,
) {
  const args = [
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    new URL("../cli/main.ts", import.meta.url).pathname,
    "train",
    "--problem",
    problem,
    "--optimizer",
    "gd",
    "--lr",
    String(s.lr),
    "--decay",
    "1",
    "--resample",
    "0",
    "--sizes",
    s.sizes,
    "--n",
    s.n,
    "--steps",
    String(steps),
    "--weighting",
    weighting,
    "--average",
    "0",
    "--then",
    "none",
    "--log-every",
    String(every),
    "--checkpoint-every",
    "0",
    "--out",
    dir,
    "--quiet",
    "--json",
  ];
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(
      `train ${problem} ${weighting} failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      steps: { type: "string", default: "2000" },
      every: { type: "string", default: "10" },
      out: { type: "string", default: "bench/results" },
      runs: { type: "string", default: "runs/convergence" },
      problems: { type: "string", default: "wave,qtensor-soft" },
      weightings: { type: "string", default: "none,exact,pc" },
      lr: { type: "string" },
      redraw: { type: "boolean", default: false },
    },
  });
  if (values.redraw) {
    // Charts again from <out>/convergence.json, without training.
    const saved = JSON.parse(Deno.readTextFileSync(`${values.out}/convergence.json`));
    await drawCharts(values.out, saved);
    Deno.exit(0);
  }
  const steps = Number(values.steps), every = Number(values.every);
  const runs: ConvergenceRun[] = [];
  const problems = values.problems.split(",");
  for (const problem of problems) {
    const setup = SETUPS[problem];
    if (!setup) {
      throw new Error(`--problems: no setup for ${problem}; known: ${Object.keys(SETUPS)}`);
    }
    const s = values.lr === undefined ? setup : { ...setup, lr: Number(values.lr) };
    for (const weighting of values.weightings.split(",")) {
      const dir = `${values.runs}/${problem}-${weighting}`;
      const t0 = performance.now();
      try {
        await train(dir, problem, weighting, s, steps, every);
      } catch (e) {
        // A diverged run (NaN) is a finding, not a reason to lose the others.
        console.error(String((e as Error).message).split("\n").slice(0, 3).join(" "));
        continue;
      }
      const run = readRun(dir, { problem, weighting, ...s });
      runs.push(run);
      console.error(
        `${problem} ${weighting}: ${((performance.now() - t0) / 1000).toFixed(0)} s, slopes ` +
          `${run.slopes.residual.toFixed(2)} (R), ${run.slopes.gradient.toFixed(2)} (grad)`,
      );
    }
  }
  Deno.mkdirSync(values.out, { recursive: true });
  Deno.writeTextFileSync(`${values.out}/convergence.json`, JSON.stringify(runs, null, 1) + "\n");
  Deno.writeTextFileSync(`${values.out}/convergence.md`, slopeTable(runs) + "\n");
  await drawCharts(values.out, runs);
  console.log(slopeTable(runs));
}
