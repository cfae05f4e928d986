/**
 * `bench`: GPU benchmarks. Prints the adapter first, excludes pipeline
 * compilation and warm-up, waits for queue completion inside the timed region and
 * reports medians with the spread, next to GFLOP/s or points/s. This module reads
 * the flags, checks the configuration against the adapter, runs the chosen suites
 * (bench/suites.ts, bench/lbfgs_bench.ts; timing in bench/timing.ts) and writes
 * the results (bench/report.ts).
 *
 * @module
 */
import { Engine } from "../src/engine.ts";
import { UserError } from "../src/errors.ts";
import { bytesFlag, choiceFlag, intFlag, listFlag, mapFlag, parseFlags } from "../cli/args.ts";
import { checkDemand, engineLimits } from "../src/limits.ts";
import { validateSizes } from "../src/model.ts";
import { resolveCounts } from "../src/points.ts";
import { wave } from "../src/problems/mod.ts";
import { writeFileAtomic } from "../src/fsutil.ts";
import { lbfgsRecords } from "./lbfgs_bench.ts";
import { countsTable, resultsFileName } from "./counts.ts";
import { defaultTuning, loadTuning } from "../src/tuning.ts";
import type { BenchContext, BenchRecord } from "./timing.ts";
import {
  suiteCounts,
  suiteMatmul,
  suiteNtk,
  suiteOutputs,
  suiteScaling,
  suiteStep,
  suiteTaylor,
} from "./suites.ts";
import { tuneAdapter } from "./tune.ts";
import { suiteKernels } from "./kernels.ts";
import { adapterText, compareRecords, gitCommit, table, torchComparison } from "./report.ts";
import { jaxjsComparison } from "./baselines/jaxjs.ts";

/** What `bench` uses where a flag is not given. */
export const BENCH_DEFAULTS = {
  suite: "all",
  sizes: [2, 128, 128, 128, 1],
  n: { r: 1024, u: 256, ut: 256 },
  weighting: "fixed",
  repeats: 5,
  quickRepeats: 3,
  threshold: 0.1,
} as const;
const B = BENCH_DEFAULTS;

/** `bench` command; returns the exit code. */
export async function runBench(args: string[]): Promise<number> {
  const f = parseFlags("bench", args, {
    suite: "string",
    quick: "boolean",
    sizes: "string",
    n: "string",
    weighting: "string",
    repeats: "string",
    baseline: "string",
    compare: "string",
    out: "string",
    threshold: "string",
    retune: "boolean",
    "max-memory": "string",
    json: "boolean",
    help: "boolean",
  });
  if (f.help) {
    console.log(
      `bench [--suite all|matmul|taylor|step|ntk|outputs|lbfgs|scaling|counts|kernels|gpu] [--quick] [--sizes ${B.sizes}] [--n ${
        Object.entries(B.n).map(([g, v]) => `${g}=${v}`).join(",")
      }]\n` +
        `      [--weighting fixed|exact|pc|jvp|hutch|none] [--repeats ${B.repeats} (--quick: ${B.quickRepeats})] [--baseline torch|jaxjs]\n` +
        `      [--compare old.json] [--threshold ${B.threshold}] [--retune] [--out results.json] [--max-memory SIZE]\n      [--json]\n` +
        "Tile shapes are searched on the first run on an adapter (or with --retune) and kept in\n" +
        "tuning.json inside the cache folder: $SKETCHPINN_CACHE, else $XDG_CACHE_HOME/sketchpinn or\n" +
        "~/.cache/sketchpinn.",
    );
    return 0;
  }
  const suite = choiceFlag(
    "suite",
    (f.suite as string) ?? B.suite,
    [
      "all",
      "matmul",
      "taylor",
      "step",
      "ntk",
      "outputs",
      "lbfgs",
      "scaling",
      "counts",
      "kernels",
      "gpu",
    ] as const,
  );
  const sizes = typeof f.sizes === "string" ? listFlag("sizes", f.sizes) : [...B.sizes];
  const n = typeof f.n === "string" ? mapFlag("n", f.n, true) : { ...B.n };
  const repeats = f.repeats !== undefined
    ? intFlag("repeats", f.repeats as string, 1)
    : (f.quick ? B.quickRepeats : B.repeats);
  const threshold = f.threshold !== undefined ? Number(f.threshold) : B.threshold;
  if (f.baseline !== undefined) {
    choiceFlag("baseline", f.baseline as string, ["torch", "jaxjs"] as const);
  }
  let compare: { records: BenchRecord[] } | undefined;
  if (typeof f.compare === "string") {
    try {
      compare = JSON.parse(await Deno.readTextFile(f.compare));
      if (!Array.isArray(compare?.records)) throw new Error("no records");
    } catch {
      throw new UserError(
        "--compare",
        `Cannot read benchmark results from ${f.compare}; give a file written by bench --out.`,
      );
    }
  }
  // Every suite times the wave problem: its sizes, counts and memory are checked
  // before anything is allocated.
  validateSizes(sizes, wave.inputs.length);
  const counts = resolveCounts(wave, n);
  const stepWeighting = choiceFlag(
    "weighting",
    (f.weighting as string) ?? "fixed",
    ["none", "fixed", "exact", "pc", "jvp", "hutch"] as const,
  );
  const sketch = suite === "step" || suite === "kernels" ? stepWeighting : "jvp";
  const engine = await Engine.create();
  try {
    engine.maxMemory = typeof f["max-memory"] === "string"
      ? bytesFlag("max-memory", f["max-memory"])
      : undefined;
    checkDemand({
      problem: wave,
      sizes,
      counts,
      options: {
        directions: ["jvp", "pc", "hutch"].includes(sketch) ? (sketch === "jvp" ? 8 : 1) : 0,
        tangents: sketch === "jvp",
        sliceVec4: engine.tuning.slice,
        maxBinding: engine.maxBinding,
      },
    }, engineLimits(engine));
  } catch (e) {
    engine.dispose();
    throw e;
  }
  const json = Boolean(f.json);
  console.error(adapterText(engine.adapter));
  // Tile shapes: searched on the first run on an adapter (or with --retune), then cached.
  // Counting alone times nothing, so it needs no search.
  // The gpu suite is what a GPU owner runs once: a fresh search, every suite, and a
  // results file named after the adapter (bench/gpu.ts).
  const everything = suite === "all" || suite === "gpu";
  const out = typeof f.out === "string"
    ? f.out
    : suite === "gpu"
    ? resultsFileName(engine.adapter)
    : undefined;
  let tuned: Awaited<ReturnType<typeof tuneAdapter>> | undefined;
  if (f.retune || suite === "gpu" || suite !== "counts" && !(await loadTuning(engine.adapter))) {
    tuned = await tuneAdapter(engine, Boolean(f.quick));
  }
  console.error(
    `tuning: ${JSON.stringify(engine.tuning)}${
      engine.tuning === defaultTuning(engine.adapter) ? " (defaults)" : ""
    }`,
  );
  const records: BenchRecord[] = [];
  const ctx: BenchContext = {
    engine,
    records,
    quick: Boolean(f.quick),
    repeats,
    emit: (r) => {
      records.push(r);
      if (json) console.log(JSON.stringify(r));
      else {
        console.error(
          `${r.suite.padEnd(8)} ${r.name.padEnd(28)} ${r.median_ms.toFixed(2).padStart(9)} ms` +
            (r.gpu_ms ? ` (GPU ${r.gpu_ms.toFixed(2)} ms)` : "") +
            (r.gflops ? `  ${r.gflops.toFixed(2)} GFLOP/s` : "") +
            (r.ratio ? `  ratio ${r.ratio.toFixed(3)}` : ""),
        );
      }
    },
  };
  try {
    if (everything || suite === "counts") await suiteCounts(ctx, sizes, n);
    if (everything || suite === "matmul") await suiteMatmul(ctx);
    if (suite === "step") {
      const w = choiceFlag(
        "weighting",
        (f.weighting as string) ?? B.weighting,
        ["none", "fixed", "exact", "pc", "jvp", "hutch"] as const,
      );
      await suiteStep(ctx, sizes, n, [w]);
    }
    if (suite === "kernels" || suite === "gpu") {
      await suiteKernels(ctx, sizes, n, suite === "kernels" ? stepWeighting : "fixed");
      if (!json) console.error(`\n${ctx.kernels}\n`);
    }
    if (everything || suite === "taylor") await suiteTaylor(ctx, sizes, n);
    if (everything) await suiteStep(ctx, sizes, n, ["fixed"]);
    if (everything || suite === "ntk") await suiteNtk(ctx, sizes, n);
    if (everything || suite === "outputs") await suiteOutputs(ctx, sizes, n);
    if (everything || suite === "lbfgs") {
      const ms = f.quick ? [20] : [20, 100];
      for (const r of await lbfgsRecords(engine, sizes, n, { ms, repeats })) ctx.emit(r);
    }
    if (everything && !f.quick || suite === "scaling") {
      await suiteScaling(ctx, out);
    }
    const baseline = f.baseline === "torch"
      ? await torchComparison(records, sizes, n, json)
      : f.baseline === "jaxjs"
      ? await jaxjsComparison(records, sizes, n, repeats, json)
      : null;
    if (compare) compareRecords(records, compare.records, threshold);
    const result = {
      adapter: engine.adapter,
      deno: Deno.version.deno,
      commit: await gitCommit(),
      date: new Date().toISOString(),
      records,
      counts: ctx.counts,
      tuning: { chosen: engine.tuning, search: tuned?.results },
      baseline,
    };
    if (out) {
      await writeFileAtomic(out, JSON.stringify(result, null, 2) + "\n");
      await writeFileAtomic(
        out.replace(/\.json$/, "") + ".md",
        `${adapterText(engine.adapter)}\n\n${table(records)}\n${
          ctx.counts ? `\nPer step:\n\n${countsTable(ctx.counts)}\n` : ""
        }${ctx.kernels ? `\n${ctx.kernels}\n` : ""}`,
      );
      console.error(`wrote ${out}`);
    }
    if (!json) console.log(table(records));
    return 0;
  } finally {
    engine.dispose();
  }
}

if (import.meta.main) {
  Deno.exit(await runBench(Deno.args));
}
