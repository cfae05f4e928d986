/**
 * The step-time scaling charts of `bench` (against N_r and against width), built
 * from its records with the same picture code as training runs. Run on its own to
 * redraw them from a results file:
 *
 * ```sh
 * deno run --allow-read --allow-write bench/scaling_charts.ts bench/results/llvmpipe.json
 * ```
 *
 * @module
 */
import { lineChartSpec } from "../src/plot/line.ts";
import { writeChart } from "../src/plot/render.ts";
import type { NamedChart } from "../src/plot/run_charts.ts";

/** The fields of a bench record the charts read. */
interface ScalingRecord {
  suite: string;
  name: string;
  median_ms: number;
}

/** `[value, median ms]` of the scaling records named `step <key>=<value>`, by value. */
function points(records: ScalingRecord[], key: string): [number, number][] {
  const re = new RegExp(`^step ${key}=(\\d+)$`);
  return records.flatMap((r) => {
    const m = r.suite === "scaling" ? re.exec(r.name) : null;
    return m ? [[Number(m[1]), r.median_ms] as [number, number]] : [];
  }).sort((a, b) => a[0] - b[0]);
}

/** The two charts (`scaling_n`, `scaling_width`) from a run's scaling records. */
export function scalingCharts(records: ScalingRecord[]): NamedChart[] {
  const opts = { yLabel: "step time (ms)", logX: true, logY: true, width: 420, height: 260 };
  const chart = (key: string, name: string, title: string, xLabel: string): NamedChart => {
    const p = points(records, key);
    return {
      name,
      caption: title,
      spec: lineChartSpec([{
        name: "fixed-weight step (median)",
        x: p.map((q) => q[0]),
        y: p.map((q) => q[1]),
      }], { ...opts, title, xLabel }),
    };
  };
  return [
    chart(
      "N_r",
      "scaling_n",
      "Step time against N_r ([2,128,128,128,1], N_u = N_ut = N_r/4)",
      "N_r (residual points)",
    ),
    chart("width", "scaling_width", "Step time against width ([2,w,w,w,1], N_r = 1024)", "width w"),
  ];
}

/**
 * Writes the scaling charts beside a results file `X.json`: `X.scaling_n.png`,
 * `.svg`, `.vl.json` and the same for `scaling_width`.
 */
export async function writeScalingCharts(out: string, records: ScalingRecord[]): Promise<void> {
  const slash = out.lastIndexOf("/");
  const dir = slash >= 0 ? out.slice(0, slash) || "/" : ".";
  const base = out.slice(slash + 1).replace(/\.json$/, "");
  for (const c of scalingCharts(records)) await writeChart(dir, `${base}.${c.name}`, c.spec);
}

if (import.meta.main) {
  const file = Deno.args[0];
  if (!file) {
    console.error(
      "usage: deno run --allow-read --allow-write bench/scaling_charts.ts RESULTS.json",
    );
    Deno.exit(2);
  }
  const { records } = JSON.parse(await Deno.readTextFile(file));
  await writeScalingCharts(file, records);
}
