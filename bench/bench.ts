/**
 * `bench`: GPU benchmarks. Prints the adapter first, excludes pipeline
 * compilation and warm-up, waits for queue completion inside the timed region and
 * reports medians with the spread, next to GFLOP/s or points/s.
 *
 * Timing: many submits are timed back to back and the wall time divided by
 * their count, so the fixed latency of `onSubmittedWorkDone` (≈ 10 ms on Deno's
 * software adapter) does not dominate short kernels; steps are measured the way
 * training issues them.
 *
 * @module
 */
import { Engine } from "../src/engine.ts";
import { adapterLine, type AdapterReport } from "../src/device.ts";
import { UserError } from "../src/errors.ts";
import { bytesFlag, choiceFlag, intFlag, listFlag, mapFlag, parseFlags } from "../cli/args.ts";
import { DEFAULT_CONFIG, type Weighting } from "../src/train_config.ts";
import { isSketch } from "../src/weight_policy.ts";
import { Trainer } from "../src/trainer.ts";
import type { TrainSettings } from "../src/settings.ts";
import { checkDemand, engineLimits } from "../src/limits.ts";
import { validateSizes } from "../src/model.ts";
import { resolveCounts } from "../src/points.ts";
import { wave } from "../src/problems/mod.ts";
import { estimateTraces } from "../src/ntk.ts";
import type { Problem } from "../src/problems/problem.ts";
import { waveOutputs } from "./wave_outputs.ts";
import { writeFileAtomic } from "../src/fsutil.ts";
import { writeScalingCharts } from "./scaling_charts.ts";
import type { Dispatch } from "../src/engine.ts";
import { matmulDispatch, padRows } from "../src/matmul.ts";
import { lbfgsRecords } from "./lbfgs_bench.ts";
import { countsSince, snapshot } from "../src/encoder.ts";
import { countsTable, resultsFileName, type StepCounts, stepCounts } from "./counts.ts";
import { candidates, DEFAULT_TUNING, loadTuning, saveTuning, type Tuning } from "../src/tuning.ts";

/** One measurement (one JSON line of `bench --json`). */
export interface BenchRecord {
  /** Suite name: matmul, taylor, step, ntk, outputs, lbfgs or scaling. */
  suite: string;
  /** What was measured, e.g. "step fixed". */
  name: string;
  /** The measured configuration (sizes, points, weighting, …). */
  config: Record<string, unknown>;
  /** Median milliseconds per run. */
  median_ms: number;
  /** Fastest batch, milliseconds per run. */
  min_ms: number;
  /** Slowest batch, milliseconds per run. */
  max_ms: number;
  /** Timed batches. */
  repeats: number;
  /** Median GPU time per run from timestamp queries, where the adapter offers them. */
  gpu_ms?: number;
  /** Useful floating-point operations per second, in GFLOP/s (matrix products and steps). */
  gflops?: number;
  /** Collocation points processed per second (steps). */
  points_per_s?: number;
  /** Time relative to a baseline named in `note`. */
  ratio?: number;
  /** What `ratio` compares, or other remarks. */
  note?: string;
  /** Dispatches, compute passes and submits per step (steps only). */
  counts?: { dispatches: number; passes: number; submits: number };
}

/**
 * Median, min and max of per-iteration wall milliseconds over `repeats` batches of
 * `batch` runs; with timestamp queries, also the median GPU time per run (the sum
 * of the GPU spans of the run's submits, non-positive spans discarded).
 */
export async function timeBatches(
  engine: Engine,
  run: () => void | Promise<void>,
  o: { warmup?: number; repeats?: number; batch?: number } = {},
): Promise<{ median: number; min: number; max: number; repeats: number; gpu?: number }> {
  const warm = o.warmup ?? 2, repeats = o.repeats ?? 5, batch = o.batch ?? 5;
  for (let i = 0; i < warm; i++) await run();
  await engine.device.queue.onSubmittedWorkDone();
  const t: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) await run();
    await engine.device.queue.onSubmittedWorkDone();
    t.push((performance.now() - t0) / batch);
  }
  t.sort((a, b) => a - b);
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  let gpu: number | undefined;
  if (engine.hasTimestamps) {
    const perRun: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const spans = await engine.gpuTimed(async () => {
        await run();
      });
      if (spans.length && spans.every((x) => x !== null)) {
        perRun.push(spans.reduce((a, b) => a! + b!, 0)!);
      }
    }
    if (perRun.length) gpu = med(perRun);
  }
  return { median: med(t), min: t[0], max: t[t.length - 1], repeats, gpu };
}

/** A timing's fields of a {@linkcode BenchRecord}. */
function timingFields(t: Awaited<ReturnType<typeof timeBatches>>) {
  return { median_ms: t.median, min_ms: t.min, max_ms: t.max, repeats: t.repeats, gpu_ms: t.gpu };
}

/** The engine's product kernel on random n × n operands (bench/matmul suite). */
export async function squareMatmul(engine: Engine, n: number): Promise<Dispatch> {
  const lt = engine.storage("bench.lt", (n + 1) * padRows(n) * 4);
  const a = engine.storage("bench.a", n * n * 4);
  const z = engine.storage("bench.z", n * n * 4);
  const rnd = (len: number) =>
    Float32Array.from({ length: len }, (_, i) => Math.sin(i * 12.9898) * 0.5);
  engine.write(lt, 0, rnd(n * padRows(n)));
  engine.write(a, 0, rnd(n * n));
  return await matmulDispatch(engine, { M: n, K: n, N: n }, { lt, a, z }, `bench.matmul${n}`);
}

const FLOPS_PER_STEP = (sizes: number[], cols: number) => {
  let f = 0;
  for (let l = 1; l < sizes.length; l++) f += 2 * sizes[l] * sizes[l - 1] * cols;
  return f;
};

/** Useful FLOPs of one training step: forward, backward products and weight gradients (3 products per layer). */
export function stepFlops(sizes: number[], cols: number): number {
  return 3 * FLOPS_PER_STEP(sizes, cols);
}

interface BenchContext {
  engine: Engine;
  records: BenchRecord[];
  quick: boolean;
  repeats: number;
  emit: (r: BenchRecord) => void;
  /** Step counts per weighting (the counts suite). */
  counts?: StepCounts[];
}

async function suiteMatmul(ctx: BenchContext): Promise<void> {
  for (const n of ctx.quick ? [1024] : [512, 1024, 2048]) {
    const d = await squareMatmul(ctx.engine, n);
    const t = await timeBatches(ctx.engine, () => ctx.engine.submit("bench", [d]), {
      repeats: ctx.repeats,
      batch: n >= 2048 ? 1 : 3,
      warmup: 1,
    });
    ctx.emit({
      suite: "matmul",
      name: `${n}x${n}x${n}`,
      config: { M: n, K: n, N: n, tuning: ctx.engine.tuning },
      ...timingFields(t),
      gflops: (2 * n ** 3) / t.median / 1e6,
    });
  }
}

function trainConfig(
  sizes: number[],
  n: Record<string, number>,
  weighting: Weighting,
  k = 1,
): TrainSettings {
  return {
    ...DEFAULT_CONFIG,
    // The step as timed since the first results: no parameter average (wave recommends one).
    average: 0,
    sizes,
    n,
    weighting,
    weights: weighting === "fixed" ? { r: 1, u: 10, ut: 10 } : {},
    k,
    resample: 0,
    steps: 1 << 30,
  };
}

/** Times training steps of one configuration (weights updated every step). */
async function stepRecord(
  ctx: BenchContext,
  sizes: number[],
  n: Record<string, number>,
  weighting: Weighting,
  k = 1,
  problem?: Problem,
): Promise<BenchRecord> {
  const config = trainConfig(sizes, n, weighting, k);
  const t = await Trainer.create(ctx.engine, problem ? { ...config, problem } : config);
  try {
    const timing = await timeBatches(ctx.engine, () => t.advance(), {
      repeats: ctx.repeats,
      batch: 5,
      warmup: 3,
    });
    const flops = stepFlops(sizes, t.plan.batch.cols);
    const points = Object.values(t.counts).reduce((a, b) => a + b, 0);
    const c0 = snapshot(ctx.engine.counters);
    await t.advance();
    const { dispatches, passes, submits } = countsSince(c0, ctx.engine.counters);
    return {
      suite: "step",
      name: `step ${weighting}${isSketch(weighting) ? ` k=${k}` : ""}`,
      config: { sizes, n: t.counts, weighting, k },
      ...timingFields(timing),
      gflops: flops / timing.median / 1e6,
      points_per_s: points / (timing.median / 1000),
      counts: { dispatches, passes, submits },
    };
  } finally {
    await t.dispose();
  }
}

/** Settings of {@linkcode benchStep}; every field has the `bench` default. */
export interface BenchStepOptions {
  /** Network sizes (default 2,128,128,128,1). */
  sizes?: number[];
  /** Points per group (default r=1024, u=256, ut=256). */
  n?: Record<string, number>;
  /** Weighting policy of the timed steps (default "fixed"). */
  weighting?: Weighting;
  /** Directions (jvp, pc) or probes (hutch) per weight update (default 1). */
  k?: number;
  /** Timed batches of 5 steps each, after 3 warm-up steps (default 5). */
  repeats?: number;
}

/**
 * Times training steps of the wave problem in one configuration, as
 * `bench --suite step` does: pipelines compiled before timing, queue completion
 * awaited inside the timed region; the record carries the median, min and max
 * milliseconds per step, GFLOP/s and points/s.
 */
export async function benchStep(engine: Engine, o: BenchStepOptions = {}): Promise<BenchRecord> {
  const ctx: BenchContext = {
    engine,
    records: [],
    quick: false,
    repeats: o.repeats ?? 5,
    emit: () => {},
  };
  const sizes = o.sizes ?? [2, 128, 128, 128, 1];
  const n = o.n ?? { r: 1024, u: 256, ut: 256 };
  return await stepRecord(ctx, sizes, n, o.weighting ?? "fixed", o.k ?? 1);
}

/** Dispatches, passes and submits per step for every weighting (nothing timed). */
async function suiteCounts(
  ctx: BenchContext,
  sizes: number[],
  n: Record<string, number>,
): Promise<void> {
  const rows = [];
  for (const w of ["none", "fixed", "exact", "pc", "jvp", "hutch", "gradnorm"] as const) {
    rows.push(await stepCounts(ctx.engine, sizes, n, w));
  }
  rows.push(await stepCounts(ctx.engine, sizes, n, "pc", 0.995));
  console.error(countsTable(rows));
  ctx.counts = rows;
}

async function suiteStep(
  ctx: BenchContext,
  sizes: number[],
  n: Record<string, number>,
  ws: Weighting[],
) {
  for (const w of ws) ctx.emit(await stepRecord(ctx, sizes, n, w));
}

/** Taylor-mode passes of one plan: forward, forward + backward, and k-direction JVPs. */
async function suiteTaylor(
  ctx: BenchContext,
  sizes: number[],
  n: Record<string, number>,
): Promise<void> {
  const t = await Trainer.create(ctx.engine, trainConfig(sizes, n, "jvp", 8));
  try {
    const p = t.plan, cols = p.batch.cols;
    const points = Object.values(t.counts).reduce((a, b) => a + b, 0);
    const fwdFlops = FLOPS_PER_STEP(sizes, cols);
    p.setRandom(1, 0, 0);
    const cases: [string, () => Promise<Dispatch[][]>, number][] = [
      ["forward", () => Promise.resolve([p.forward, p.residual]), fwdFlops],
      [
        "forward+backward",
        () => Promise.resolve([p.forward, p.residual, p.backward, p.weightGrad]),
        3 * fwdFlops,
      ],
      [
        "jvp k=8",
        async () => [await p.directionSeq(8, "gaussian"), await p.jvpSeq(8)],
        8 * 2 * fwdFlops,
      ],
    ];
    for (const [name, seqs, flops] of cases) {
      const s = await seqs();
      const r = await timeBatches(ctx.engine, () => ctx.engine.submit(name, ...s), {
        repeats: ctx.repeats,
        batch: 3,
      });
      ctx.emit({
        suite: "taylor",
        name,
        config: { sizes, n: t.counts, channels: p.batch.groups.map((g) => g.channels) },
        ...timingFields(r),
        gflops: flops / r.median / 1e6,
        points_per_s: points / (r.median / 1000),
      });
    }
  } finally {
    await t.dispose();
  }
}

async function suiteNtk(
  ctx: BenchContext,
  sizes: number[],
  n: Record<string, number>,
): Promise<void> {
  const base = await stepRecord(ctx, sizes, n, "fixed");
  ctx.emit(base);
  const cases: { method: "exact" | "jvp" | "pc" | "hutch"; k: number }[] = [
    { method: "exact", k: 1 },
    { method: "pc", k: 1 },
    { method: "jvp", k: 8 },
    { method: "hutch", k: 1 },
  ];
  for (const c of cases) {
    const w: Weighting = c.method;
    const t = await Trainer.create(ctx.engine, trainConfig(sizes, n, w, c.k));
    try {
      const timing = await timeBatches(ctx.engine, async () => {
        await estimateTraces(t.plan, { method: c.method, k: c.k, seed: 1 });
      }, { repeats: ctx.repeats, batch: 3, warmup: 1 });
      ctx.emit({
        suite: "ntk",
        name: `traces ${c.method} k=${c.k}`,
        config: { sizes, n: t.counts, method: c.method, k: c.k },
        ...timingFields(timing),
        ratio: timing.median / base.median_ms,
        note: "ratio = time / fixed-weight step; includes one readback of the traces",
      });
    } finally {
      await t.dispose();
    }
  }
  for (const w of ["exact", "pc"] as const) {
    const r = await stepRecord(ctx, sizes, n, w);
    ctx.emit({
      ...r,
      ratio: r.median_ms / base.median_ms,
      note: "ratio = step / fixed-weight step",
    });
  }
}

/**
 * The cost of outputs: a fixed-weight step of wave with one output against the
 * same network with 3 outputs carrying the same channels (bench/wave_outputs.ts).
 */
async function suiteOutputs(ctx: BenchContext, sizes: number[], n: Record<string, number>) {
  const one = await stepRecord(ctx, sizes, n, "fixed", 1, waveOutputs(1));
  ctx.emit({ ...one, suite: "outputs", name: "step m=1" });
  const m = 3;
  const many = await stepRecord(ctx, [...sizes.slice(0, -1), m], n, "fixed", 1, waveOutputs(m));
  ctx.emit({
    ...many,
    suite: "outputs",
    name: `step m=${m}`,
    ratio: many.median_ms / one.median_ms,
  });
}

async function suiteScaling(ctx: BenchContext, out?: string): Promise<void> {
  const ns = ctx.quick ? [256, 1024] : [256, 1024, 4096, 16384];
  const widths = ctx.quick ? [64, 128] : [64, 128, 256, 512];
  for (const nr of ns) {
    const r = await stepRecord(
      ctx,
      [2, 128, 128, 128, 1],
      { r: nr, u: nr / 4, ut: nr / 4 },
      "fixed",
    );
    ctx.emit({ ...r, suite: "scaling", name: `step N_r=${nr}` });
  }
  for (const w of widths) {
    const r = await stepRecord(ctx, [2, w, w, w, 1], { r: 1024, u: 256, ut: 256 }, "fixed");
    ctx.emit({ ...r, suite: "scaling", name: `step width=${w}` });
  }
  if (out) await writeScalingCharts(out, ctx.records);
}

/**
 * Times a training step (wave, [2,128,128,128,1], N_r = 1024) for each candidate
 * tuning and keeps the fastest for this adapter (cached; see src/tuning.ts).
 */
export async function tuneAdapter(
  engine: Engine,
  quick = false,
): Promise<{ tuning: Tuning; ms: number; results: { tuning: Tuning; ms: number }[] }> {
  const results: { tuning: Tuning; ms: number }[] = [];
  const all = candidates(engine.device.limits as unknown as Record<string, number>);
  for (const cand of quick ? all.slice(0, 4) : all) {
    engine.tuning = cand;
    const t = await Trainer.create(
      engine,
      trainConfig([2, 128, 128, 128, 1], { r: 1024, u: 256, ut: 256 }, "fixed"),
    );
    const r = await timeBatches(engine, () => t.advance(), { warmup: 2, repeats: 3, batch: 3 });
    await t.dispose();
    results.push({ tuning: cand, ms: r.median });
    console.error(`tune ${JSON.stringify(cand)}: ${r.median.toFixed(1)} ms/step`);
  }
  const best = results.reduce((a, b) => (b.ms < a.ms ? b : a));
  engine.tuning = best.tuning;
  const path = await saveTuning(engine.adapter, best.tuning, results);
  console.error(
    `tuning: ${JSON.stringify(best.tuning)} (${best.ms.toFixed(1)} ms/step)${
      path ? ` saved to ${path}` : ""
    }`,
  );
  return { ...best, results };
}

/** Runs bench/baselines/torch_wave.py when a python3 with torch exists; null otherwise. */
export async function torchBaseline(
  sizes: number[],
  n: Record<string, number>,
): Promise<Record<string, unknown> | null> {
  const script = new URL("./baselines/torch_wave.py", import.meta.url).pathname;
  for (const py of ["/usr/bin/python3", "python3"]) {
    try {
      const probe = await new Deno.Command(py, {
        args: ["-c", "import torch"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (!probe.success) continue;
      const res = await new Deno.Command(py, {
        args: [
          script,
          "--sizes",
          sizes.join(","),
          "--n",
          Object.entries(n).map(([g, v]) => `${g}=${v}`).join(","),
          "--json",
        ],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      if (!res.success) return null;
      return JSON.parse(new TextDecoder().decode(res.stdout));
    } catch {
      continue;
    }
  }
  return null;
}

function table(records: BenchRecord[]): string {
  const rows = records.map((r) =>
    `| ${r.suite} | ${r.name} | ${r.median_ms.toFixed(2)} | ${r.min_ms.toFixed(2)}–${
      r.max_ms.toFixed(2)
    } | ${r.gpu_ms?.toFixed(2) ?? "–"} | ${r.gflops?.toFixed(2) ?? ""} | ${
      r.points_per_s ? Math.round(r.points_per_s).toLocaleString("en") : ""
    } | ${r.ratio?.toFixed(3) ?? ""} |`
  );
  return [
    "| suite | name | median ms | min–max ms | GPU ms | GFLOP/s | points/s | ratio |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n");
}

async function gitCommit(): Promise<string> {
  try {
    // The engine's own commit, wherever the command runs from (deno task enters
    // the user's directory).
    const here = new URL(".", import.meta.url);
    const r = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      ...(here.protocol === "file:" ? { cwd: here.pathname } : {}),
      stdout: "piped",
      stderr: "null",
    })
      .output();
    return r.success ? new TextDecoder().decode(r.stdout).trim() : "unknown";
  } catch {
    return "unknown";
  }
}

function adapterText(a: AdapterReport): string {
  const l = a.limits;
  return [
    `adapter: ${adapterLine(a)}`,
    `  limits: storage binding ${
      (l.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)
    } MiB, buffer ${
      (l.maxBufferSize / 2 ** 20).toFixed(0)
    } MiB, ${l.maxStorageBuffersPerShaderStage} storage buffers/stage, workgroup ≤ ${l.maxComputeInvocationsPerWorkgroup} invocations, ${l.maxComputeWorkgroupStorageSize} B shared`,
    `  features: ${
      a.features.filter((f) => ["timestamp-query", "shader-f16", "subgroups"].includes(f)).join(
        ", ",
      ) || "none of timestamp-query, shader-f16, subgroups"
    }`,
  ].join("\n");
}

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
      `bench [--suite all|matmul|taylor|step|ntk|outputs|lbfgs|scaling|counts|gpu] [--quick] [--sizes ${B.sizes}] [--n ${
        Object.entries(B.n).map(([g, v]) => `${g}=${v}`).join(",")
      }]\n` +
        `      [--weighting fixed|exact|pc|jvp|hutch|none] [--repeats ${B.repeats} (--quick: ${B.quickRepeats})] [--baseline torch]\n` +
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
      "gpu",
    ] as const,
  );
  const sizes = typeof f.sizes === "string" ? listFlag("sizes", f.sizes) : [...B.sizes];
  const n = typeof f.n === "string" ? mapFlag("n", f.n, true) : { ...B.n };
  const repeats = f.repeats !== undefined
    ? intFlag("repeats", f.repeats as string, 1)
    : (f.quick ? B.quickRepeats : B.repeats);
  const threshold = f.threshold !== undefined ? Number(f.threshold) : B.threshold;
  if (f.baseline !== undefined) choiceFlag("baseline", f.baseline as string, ["torch"] as const);
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
  const sketch = suite === "step" ? stepWeighting : "jvp";
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
      engine.tuning === DEFAULT_TUNING ? " (defaults)" : ""
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
    if (everything || suite === "taylor") await suiteTaylor(ctx, sizes, n);
    if (everything) await suiteStep(ctx, sizes, n, ["fixed"]);
    if (everything || suite === "ntk") await suiteNtk(ctx, sizes, n);
    if (everything || suite === "outputs") await suiteOutputs(ctx, sizes, n);
    if (everything || suite === "lbfgs") {
      for (const r of await lbfgsRecords(engine, sizes, n, { repeats })) ctx.emit(r);
    }
    if (everything && !f.quick || suite === "scaling") {
      await suiteScaling(ctx, out);
    }
    let baseline: Record<string, unknown> | null = null;
    if (f.baseline === "torch") {
      baseline = await torchBaseline(sizes, n);
      if (!baseline) {
        console.error(
          "baseline: no python3 with torch found (apt-get install python3-torch); skipped.",
        );
      } else {
        const res = baseline.results as Record<string, { median_ms: number }>;
        const mine = (name: string) => records.find((r) => r.name === name)?.median_ms;
        const ratios = {
          "fixed step / torch step": mine("step fixed") && res.step
            ? mine("step fixed")! / res.step.median_ms
            : null,
          "exact-weighted step / torch step_exact": mine("step exact") && res.step_exact
            ? mine("step exact")! / res.step_exact.median_ms
            : null,
          "jvp k=8 traces / torch jvp_sketch_k8": mine("traces jvp k=8") && res.jvp_sketch_k8
            ? mine("traces jvp k=8")! / res.jvp_sketch_k8.median_ms
            : null,
        };
        console.error(`baseline torch ${baseline.torch} (${baseline.threads} threads):`);
        for (const [k, v] of Object.entries(res)) {
          console.error(`  ${k.padEnd(16)} ${v.median_ms.toFixed(2)} ms`);
        }
        for (const [k, v] of Object.entries(ratios)) {
          if (v !== null) console.error(`  ratio ${k}: ${v.toFixed(3)}`);
        }
        baseline = { ...baseline, ratios };
        if (json) console.log(JSON.stringify({ suite: "baseline", name: "torch", ...baseline }));
      }
    }
    if (compare) {
      let regressions = 0;
      for (const r of records) {
        const old = compare.records.find((o) => o.suite === r.suite && o.name === r.name);
        if (!old) continue;
        const ratio = r.median_ms / old.median_ms;
        const flag = ratio > 1 + threshold
          ? "  REGRESSION"
          : ratio < 1 - threshold
          ? "  faster"
          : "";
        if (flag.includes("REG")) regressions++;
        console.error(
          `compare ${r.suite}/${r.name}: ${old.median_ms.toFixed(2)} → ${
            r.median_ms.toFixed(2)
          } ms (×${ratio.toFixed(3)})${flag}`,
        );
      }
      console.error(`${regressions} regression(s) beyond ${(threshold * 100).toFixed(0)}%`);
    }
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
        }`,
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
