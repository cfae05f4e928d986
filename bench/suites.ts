/**
 * The `bench` suites, each timing one part of the data path on the wave problem:
 * matrix products (matmul), step counts (counts), Taylor-mode passes (taylor),
 * training steps (step), NTK trace estimates against a step (ntk), the cost of
 * outputs (outputs) and scaling in points and width (scaling). L-BFGS's suite is
 * bench/lbfgs_bench.ts; the tile-shape search is bench/tune.ts.
 *
 * @module
 */
import type { Dispatch, Engine } from "../src/engine.ts";
import type { Weighting } from "../src/train_config.ts";
import { Trainer } from "../src/trainer.ts";
import { estimateTraces } from "../src/ntk.ts";
import { matmulDispatch, padRows } from "../src/matmul.ts";
import { waveOutputs } from "./wave_outputs.ts";
import { writeScalingCharts } from "./scaling_charts.ts";
import { measureFixedCost } from "./fixed_cost.ts";
import { countsTable, stepCounts } from "./counts.ts";
import {
  type BenchContext,
  FLOPS_PER_STEP,
  STEP_BATCH_MS,
  STEP_BATCH_MS_QUICK,
  stepRecord,
  timeBatches,
  timingFields,
  trainConfig,
} from "./timing.ts";

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

/** Products of n × n matrices, in GFLOP/s. */
export async function suiteMatmul(ctx: BenchContext): Promise<void> {
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

/** Dispatches, passes and submits per step for every weighting (nothing timed). */
export async function suiteCounts(
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

/** One record per weighting: its training step, timed. */
export async function suiteStep(
  ctx: BenchContext,
  sizes: number[],
  n: Record<string, number>,
  ws: Weighting[],
) {
  for (const w of ws) ctx.emit(await stepRecord(ctx, sizes, n, w));
}

/** Taylor-mode passes of one plan: forward, forward + backward, and k-direction JVPs. */
export async function suiteTaylor(
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

/** Each estimator's traces and the exact and pc steps, as ratios to a fixed-weight step. */
export async function suiteNtk(
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
export async function suiteOutputs(ctx: BenchContext, sizes: number[], n: Record<string, number>) {
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

/** Fixed-weight steps over point counts and widths, and their charts when `out` is set. */
export async function suiteScaling(ctx: BenchContext, out?: string): Promise<void> {
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
  ctx.emit(
    await measureFixedCost(ctx, [2, 128, 128, 128, 1], {
      rounds: ctx.quick ? 3 : 7,
      batchMs: ctx.quick ? STEP_BATCH_MS_QUICK : STEP_BATCH_MS,
    }),
  );
  for (const w of widths) {
    const r = await stepRecord(ctx, [2, w, w, w, 1], { r: 1024, u: 256, ut: 256 }, "fixed");
    ctx.emit({ ...r, suite: "scaling", name: `step width=${w}` });
  }
  if (out) await writeScalingCharts(out, ctx.records);
}
