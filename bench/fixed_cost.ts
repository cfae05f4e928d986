/**
 * The fixed cost per step (the part of a step's time that does not grow with
 * the points): fixed-weight steps at several N_r timed in alternation, round
 * after round, and a least-squares line through each round's times. Its
 * intercept is the fixed cost; the record gives the median over rounds.
 *
 * Timing the point counts minutes apart, as the scaling table does, let the
 * machine's drift into the fit: on a shared 2-core machine the same step varied
 * 10–20% between minutes, and the line through N_r = 256 and 1024 put the
 * intercept anywhere from −3 to 24 ms. In alternation every round sees the same
 * machine state at each N_r.
 *
 * @module
 */
import { Trainer } from "../src/trainer.ts";
import { type BenchContext, type BenchRecord, trainConfig } from "./timing.ts";

/** Least-squares line y = intercept + slope · x through the points. */
export function lineFit(pts: readonly (readonly [number, number])[]): {
  slope: number;
  intercept: number;
} {
  if (pts.length < 2) throw new Error("a line needs two points");
  const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
  const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
  const sxx = pts.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  const slope = pts.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / sxx;
  return { slope, intercept: my - slope * mx };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

/**
 * The record of the fixed cost from rounds of `[N_r, ms per step]` times: one line
 * per round; median, min and max over the rounds' intercepts, and the median slope.
 */
export function fixedCostRecord(
  rounds: (readonly [number, number])[][],
  sizes: number[],
): BenchRecord {
  const fits = rounds.map(lineFit);
  const b = fits.map((f) => f.intercept);
  const nrs = rounds[0].map((p) => p[0]);
  const perN = nrs.map((nr) => median(rounds.map((r) => r.find((p) => p[0] === nr)![1])));
  return {
    suite: "scaling",
    name: "fixed cost per step",
    config: { fit: `N_r = ${nrs.join(", ")}, alternating`, sizes, rounds: rounds.length },
    median_ms: median(b),
    min_ms: Math.min(...b),
    max_ms: Math.max(...b),
    repeats: rounds.length,
    note:
      `intercept of a least-squares line through N_r = ${nrs.join(", ")} timed in alternation, ` +
      `median over ${rounds.length} rounds; slope ${
        (1000 * median(fits.map((f) => f.slope))).toFixed(1)
      } ms per 1000 N_r; median step ${perN.map((v) => v.toFixed(1)).join(" / ")} ms`,
  };
}

/**
 * Measures the fixed cost per step of the fixed-weight step at `sizes`: one
 * trainer per N_r (u and ut at N_r / 4), then `rounds` rounds that each time a
 * batch of steps (at least `batchMs`) at every N_r, the order rotating.
 */
export async function measureFixedCost(
  ctx: BenchContext,
  sizes: number[],
  o: { nrs?: number[]; rounds?: number; batchMs?: number } = {},
): Promise<BenchRecord> {
  const nrs = o.nrs ?? [256, 512, 1024], rounds = o.rounds ?? 7, batchMs = o.batchMs ?? 1000;
  const trainers: Trainer[] = [];
  try {
    const batch: number[] = [];
    for (const nr of nrs) {
      const t = await Trainer.create(
        ctx.engine,
        trainConfig(sizes, { r: nr, u: nr / 4, ut: nr / 4 }, "fixed"),
      );
      trainers.push(t);
      for (let i = 0; i < 3; i++) await t.advance();
      await ctx.engine.device.queue.onSubmittedWorkDone();
      const t0 = performance.now();
      for (let i = 0; i < 3; i++) await t.advance();
      await ctx.engine.device.queue.onSubmittedWorkDone();
      batch.push(Math.max(3, Math.ceil(batchMs / ((performance.now() - t0) / 3))));
    }
    const out: [number, number][][] = [];
    for (let r = 0; r < rounds; r++) {
      const round: [number, number][] = [];
      for (let k = 0; k < nrs.length; k++) {
        const i = (k + r) % nrs.length;
        const t0 = performance.now();
        for (let s = 0; s < batch[i]; s++) await trainers[i].advance();
        await ctx.engine.device.queue.onSubmittedWorkDone();
        round.push([nrs[i], (performance.now() - t0) / batch[i]]);
      }
      out.push(round.sort((a, b) => a[0] - b[0]));
    }
    return fixedCostRecord(out, sizes);
  } finally {
    for (const t of trainers) await t.dispose();
  }
}
