/**
 * NTK estimator study: for wave at widths × point counts, each estimator's cost
 * relative to one training step (forward + backward) and its error against the
 * exact traces for several k. Writes JSON and a markdown table.
 *
 *   deno run -A bench/ntk_study.ts [--quick] [--repeats 3] [--out bench/results/ntk_study]
 *
 * Error: for each group the root-mean-square over repeats of (T̂_j − T_j)/T_j;
 * the table shows the largest over groups, and the same for the weights λ_j.
 *
 * @module
 */
import { Engine } from "../src/engine.ts";
import { adapterLine } from "../src/device.ts";
import { DEFAULT_CONFIG, type Weighting } from "../src/train_config.ts";
import { Trainer } from "../src/trainer.ts";
import { estimateTraces, type NtkMethod, weightsFromTraces } from "../src/ntk.ts";
import { timeBatches } from "./timing.ts";
import { writeFileAtomic } from "../src/fsutil.ts";
import { parseArgs } from "node:util";

interface Row {
  width: number;
  n_r: number;
  method: NtkMethod;
  k: number;
  step_ms: number;
  estimator_ms: number;
  ratio: number;
  trace_rel_err: number;
  weight_rel_err: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: { quick: { type: "boolean" }, repeats: { type: "string" }, out: { type: "string" } },
});
const quick = Boolean(values.quick);
const repeats = Number(values.repeats ?? 3);
const outBase = values.out ?? "bench/results/ntk_study";
const widths = quick ? [64, 128] : [64, 128, 256];
const nrs = quick ? [256, 1024] : [256, 1024, 4096];
const ks = quick ? [1, 4, 16] : [1, 4, 16, 64];

const engine = await Engine.create();
console.error(`adapter: ${adapterLine(engine.adapter)}`);
const rows: Row[] = [];

for (const width of widths) {
  for (const nr of nrs) {
    const cfg = (weighting: Weighting, k = 1) => ({
      ...DEFAULT_CONFIG,
      sizes: [2, width, width, width, 1],
      n: { r: nr, u: nr / 4, ut: nr / 4 },
      weighting,
      weights: (weighting === "fixed" ? { r: 1, u: 1, ut: 1 } : {}) as Record<string, number>,
      // The study's step as first measured: Xavier init, no parameter average.
      init: "xavier" as const,
      average: 0,
      k,
      resample: 0,
      steps: 1 << 30,
    });
    const fixed = await Trainer.create(engine, cfg("fixed"));
    const step = await timeBatches(engine, () => fixed.advance(), {
      repeats: 3,
      batch: 3,
      warmup: 2,
    });
    const counts = fixed.counts;
    const exact = await estimateTraces(fixed.plan, { method: "exact" });
    const exactW = weightsFromTraces(exact, counts).weights;
    const exactT = await timeBatches(engine, async () => {
      await estimateTraces(fixed.plan, { method: "exact" });
    }, { repeats: 3, batch: 1, warmup: 1 });
    rows.push({
      width,
      n_r: nr,
      method: "exact",
      k: 0,
      step_ms: step.median,
      estimator_ms: exactT.median,
      ratio: exactT.median / step.median,
      trace_rel_err: 0,
      weight_rel_err: 0,
    });
    const params = await fixed.params();
    await fixed.dispose();
    for (const method of ["jvp", "pc", "hutch"] as const) {
      for (const k of ks) {
        const t = await Trainer.create(engine, cfg(method, k));
        t.setParams(params);
        const run = (seed: number) => estimateTraces(t.plan, { method, k, seed, step: seed });
        const time = await timeBatches(engine, async () => {
          await run(99);
        }, { repeats: k >= 64 ? 1 : 2, batch: 1, warmup: 1 });
        let te = 0, we = 0;
        const sqT: Record<string, number> = {}, sqW: Record<string, number> = {};
        for (let r = 0; r < repeats; r++) {
          const est = await run(r);
          const w = weightsFromTraces(est, counts).weights;
          for (const g of Object.keys(exact)) {
            sqT[g] = (sqT[g] ?? 0) + ((est[g] - exact[g]) / exact[g]) ** 2 / repeats;
            sqW[g] = (sqW[g] ?? 0) + ((w[g] - exactW[g]) / exactW[g]) ** 2 / repeats;
          }
        }
        te = Math.sqrt(Math.max(...Object.values(sqT)));
        we = Math.sqrt(Math.max(...Object.values(sqW)));
        rows.push({
          width,
          n_r: nr,
          method,
          k,
          step_ms: step.median,
          estimator_ms: time.median,
          ratio: time.median / step.median,
          trace_rel_err: te,
          weight_rel_err: we,
        });
        console.error(
          `width ${width} N_r ${nr} ${method} k=${k}: ${time.median.toFixed(1)} ms (${
            (time.median / step.median).toFixed(2)
          }× step), trace err ${(100 * te).toFixed(1)}%, weight err ${(100 * we).toFixed(1)}%`,
        );
        await t.dispose();
      }
    }
  }
}

const md = [
  `NTK estimator study on ${
    adapterLine(engine.adapter)
  }; wave, [2, W, W, W, 1], N_u = N_ut = N_r/4;`,
  `errors are RMS over ${repeats} draws, largest over groups; times include one readback.`,
  "",
  "| width | N_r | method | k | step ms | estimator ms | × step | trace error | weight error |",
  "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map((r) =>
    `| ${r.width} | ${r.n_r} | ${r.method} | ${r.k || ""} | ${r.step_ms.toFixed(1)} | ${
      r.estimator_ms.toFixed(1)
    } | ${r.ratio.toFixed(2)} | ${(100 * r.trace_rel_err).toFixed(1)}% | ${
      (100 * r.weight_rel_err).toFixed(1)
    }% |`
  ),
].join("\n");
await Deno.mkdir(outBase.replace(/\/[^/]*$/, ""), { recursive: true });
await writeFileAtomic(
  `${outBase}.json`,
  JSON.stringify({ adapter: engine.adapter, repeats, rows }, null, 2) + "\n",
);
await writeFileAtomic(`${outBase}.md`, md + "\n");
console.log(md);
engine.dispose();
