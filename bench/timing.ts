/**
 * How `bench` measures: the record one measurement makes, timing batches of GPU
 * submits (warm-up excluded, queue completion awaited inside the timed region),
 * the FLOPs of a training step, and timing a training step of one configuration
 * ({@linkcode benchStep}).
 *
 * Timing: many submits are timed back to back and the wall time divided by
 * their count, so the fixed latency of `onSubmittedWorkDone` (≈ 10 ms on Deno's
 * software adapter) does not dominate short kernels; steps are measured the way
 * training issues them.
 *
 * @module
 */
import type { Engine } from "../src/engine.ts";
import { DEFAULT_CONFIG, type Weighting } from "../src/train_config.ts";
import { isSketch } from "../src/weight_policy.ts";
import { Trainer } from "../src/trainer.ts";
import type { TrainSettings } from "../src/settings.ts";
import type { Problem } from "../src/problems/problem.ts";
import { countsSince, snapshot } from "../src/encoder.ts";
import type { StepCounts } from "./counts.ts";

/** One measurement (one JSON line of `bench --json`). */
export interface BenchRecord {
  /** Suite name: matmul, taylor, step, ntk, outputs, lbfgs, scaling or kernels. */
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
  /** Runs per timed batch (the batch's wall time is divided by it). */
  batch?: number;
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

/** The median of `xs` (for an even count the upper of the two middle values). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/**
 * Median, min and max of per-iteration wall milliseconds over `repeats` batches of
 * `batch` runs; with timestamp queries, also the median GPU time per run (the sum
 * of the GPU spans of the run's submits, non-positive spans discarded).
 */
export async function timeBatches(
  engine: Engine,
  run: () => void | Promise<void>,
  o: { warmup?: number; repeats?: number; batch?: number; minBatchMs?: number } = {},
): Promise<
  { median: number; min: number; max: number; repeats: number; batch: number; gpu?: number }
> {
  const warm = o.warmup ?? 2, repeats = o.repeats ?? 5, minBatchMs = o.minBatchMs ?? 0;
  const warm0 = performance.now();
  for (let i = 0; i < warm; i++) await run();
  await engine.device.queue.onSubmittedWorkDone();
  // Enough runs per batch that the batch lasts minBatchMs (timed from the warm-up):
  // the closing wait costs ≈ 10 ms on Deno (it settles when the device is next
  // polled), which batches of 5 added to every per-run figure (2 ms a step) and so
  // to the scaling fit's intercept, the fixed cost per step.
  const warmMs = (performance.now() - warm0) / warm;
  const batch = minBatchMs > 0 && warm > 0
    ? Math.max(o.batch ?? 5, Math.ceil(minBatchMs / warmMs))
    : o.batch ?? 5;
  const t: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) await run();
    await engine.device.queue.onSubmittedWorkDone();
    t.push((performance.now() - t0) / batch);
  }
  t.sort((a, b) => a - b);
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
    if (perRun.length) gpu = median(perRun);
  }
  return { median: median(t), min: t[0], max: t[t.length - 1], repeats, batch, gpu };
}

/** A timing's fields of a {@linkcode BenchRecord}. */
export function timingFields(t: Awaited<ReturnType<typeof timeBatches>>) {
  return {
    median_ms: t.median,
    min_ms: t.min,
    max_ms: t.max,
    repeats: t.repeats,
    batch: t.batch,
    gpu_ms: t.gpu,
  };
}

export const FLOPS_PER_STEP = (sizes: number[], cols: number) => {
  let f = 0;
  for (let l = 1; l < sizes.length; l++) f += 2 * sizes[l] * sizes[l - 1] * cols;
  return f;
};

/** Useful FLOPs of one training step: forward, backward products and weight gradients (3 products per layer). */
export function stepFlops(sizes: number[], cols: number): number {
  return 3 * FLOPS_PER_STEP(sizes, cols);
}

/** What every suite reads and writes: the engine, the records so far and how to emit one. */
export interface BenchContext {
  engine: Engine;
  records: BenchRecord[];
  quick: boolean;
  repeats: number;
  emit: (r: BenchRecord) => void;
  /** Step counts per weighting (the counts suite). */
  counts?: StepCounts[];
  /** The kernels suite's table (markdown). */
  kernels?: string;
}

/** The settings bench trains with: wave's defaults, no average, no resampling. */
export function trainConfig(
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

/** Shortest batch of timed steps, ms (`--quick`: the shorter one). */
export const STEP_BATCH_MS = 1000, STEP_BATCH_MS_QUICK = 400;

/** Times training steps of one configuration (weights updated every step). */
export async function stepRecord(
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
      minBatchMs: ctx.quick ? STEP_BATCH_MS_QUICK : STEP_BATCH_MS,
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
  /** Timed batches, each of at least 5 steps and 1 s, after 3 warm-up steps (default 5). */
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
