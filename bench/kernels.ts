/**
 * Where a step's GPU time goes, kernel by kernel (`bench --suite kernels`): the
 * step is profiled with every dispatch in a timed compute pass of its own
 * (`Engine.profileKernels`, src/profile.ts) at the given point counts and at a
 * quarter of them, and the straight line through the two gives each kernel's
 * share of the fixed cost per step (the intercept) and of the cost per point.
 *
 * @module
 */
import type { Engine } from "../src/engine.ts";
import type { Weighting } from "../src/train_config.ts";
import { Trainer } from "../src/trainer.ts";
import type { BenchContext, BenchRecord } from "./timing.ts";
import { median, trainConfig } from "./timing.ts";

/** One kernel's GPU time per step at two point counts. */
export interface KernelRow {
  /** Kernel name. */
  kernel: string;
  /** Dispatches per step. */
  dispatches: number;
  /** Median GPU ms per step at the smaller point count. */
  small: number;
  /** Median GPU ms per step at the larger one. */
  large: number;
  /** Intercept of the line through the two at N_r = 0, ms per step. */
  fixed: number;
}

/** A profile of one step configuration: per kernel, the median over `repeats` steps. */
export async function profileStep(
  engine: Engine,
  sizes: number[],
  n: Record<string, number>,
  weighting: Weighting,
  repeats: number,
): Promise<Map<string, { dispatches: number; ms: number }>> {
  const t = await Trainer.create(engine, trainConfig(sizes, n, weighting));
  try {
    // Compiles and plans everything, and warms the caches.
    for (let i = 0; i < 3; i++) await t.advance();
    const per: Map<string, { dispatches: number; ms: number[] }> = new Map();
    for (let r = 0; r < repeats; r++) {
      const p = await engine.profileKernels(() => t.advance());
      if (!p) throw new Error("this adapter has no timestamp queries: kernels cannot be timed");
      for (const k of p.kernels) {
        const e = per.get(k.kernel) ?? { dispatches: k.dispatches, ms: [] };
        e.ms.push(k.ms);
        per.set(k.kernel, e);
      }
    }
    return new Map([...per].map(([k, v]) => [k, { dispatches: v.dispatches, ms: median(v.ms) }]));
  } finally {
    await t.dispose();
  }
}

/** Each group's count divided by 4 (at least 1). */
export function quarter(n: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(n).map(([g, v]) => [g, Math.max(1, Math.round(v / 4))]));
}

/** Rows of the two profiles, largest fixed cost first; a kernel missing from one counts 0 there. */
export function kernelRows(
  small: Map<string, { dispatches: number; ms: number }>,
  large: Map<string, { dispatches: number; ms: number }>,
  nSmall: number,
  nLarge: number,
): KernelRow[] {
  const names = [...new Set([...small.keys(), ...large.keys()])];
  return names.map((kernel) => {
    const a = small.get(kernel)?.ms ?? 0, b = large.get(kernel)?.ms ?? 0;
    const slope = (b - a) / (nLarge - nSmall);
    return {
      kernel,
      dispatches: large.get(kernel)?.dispatches ?? small.get(kernel)!.dispatches,
      small: a,
      large: b,
      fixed: a - nSmall * slope,
    };
  }).sort((x, y) => y.fixed - x.fixed);
}

/** A markdown table of kernel rows with their sum. */
export function kernelTable(rows: KernelRow[], nSmall: number, nLarge: number): string {
  const f = (x: number) => x.toFixed(3);
  const sum = (k: "small" | "large" | "fixed") => rows.reduce((s, r) => s + r[k], 0);
  return [
    `| kernel | dispatches | GPU ms at N_r = ${nSmall} | at N_r = ${nLarge} | fixed (intercept) |`,
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.kernel} | ${r.dispatches} | ${f(r.small)} | ${f(r.large)} | ${f(r.fixed)} |`
    ),
    `| **sum** | ${rows.reduce((s, r) => s + r.dispatches, 0)} | ${f(sum("small"))} | ${
      f(sum("large"))
    } | ${f(sum("fixed"))} |`,
  ].join("\n");
}

/**
 * The kernels suite: the step of `weighting` profiled at `n` and at a quarter of
 * it; one record per kernel (its intercept as `median_ms`, both times in the
 * config) and the table on `ctx.kernels`.
 */
export async function suiteKernels(
  ctx: BenchContext,
  sizes: number[],
  n: Record<string, number>,
  weighting: Weighting,
): Promise<void> {
  const nq = quarter(n);
  const nSmall = nq.r ?? Object.values(nq)[0], nLarge = n.r ?? Object.values(n)[0];
  if (nSmall === nLarge) throw new Error("the kernels suite needs at least 2 residual points");
  const small = await profileStep(ctx.engine, sizes, nq, weighting, ctx.repeats);
  const large = await profileStep(ctx.engine, sizes, n, weighting, ctx.repeats);
  const rows = kernelRows(small, large, nSmall, nLarge);
  for (const r of rows) {
    const rec: BenchRecord = {
      suite: "kernels",
      name: `kernel ${r.kernel}`,
      config: {
        sizes,
        n,
        small: nq,
        weighting,
        dispatches: r.dispatches,
        gpu_ms: [r.small, r.large],
      },
      median_ms: r.fixed,
      min_ms: r.fixed,
      max_ms: r.fixed,
      repeats: ctx.repeats,
      note: `GPU ms per step: ${r.small.toFixed(3)} at N_r = ${nSmall}, ${
        r.large.toFixed(3)
      } at ${nLarge}; median_ms is the intercept (fixed cost)`,
    };
    ctx.emit(rec);
  }
  ctx.kernels = `Step (${weighting}) GPU time per kernel, one timed pass per dispatch:\n\n${
    kernelTable(rows, nSmall, nLarge)
  }`;
}
