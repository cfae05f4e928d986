/**
 * What a training step consists of: dispatches, compute passes and submits per
 * step for each weighting, counted by the engine's encoder as the step is
 * recorded (src/encoder.ts), with the dispatches of each kernel.
 *
 * @module
 */
import type { Engine } from "../src/engine.ts";
import type { AdapterReport } from "../src/device.ts";
import { countsSince, snapshot, type WorkCounts } from "../src/encoder.ts";
import type { Weighting } from "../src/train_config.ts";
import { Trainer } from "../src/trainer.ts";
import { trainConfig } from "./timing.ts";

/** Counts of one weighting's step. */
export interface StepCounts extends WorkCounts {
  /** The weighting of the counted step (weights updated every step). */
  weighting: Weighting;
  /** β of the parameter average, 0 without one. */
  average: number;
}

/**
 * Counts one training step of wave at `sizes` and `n` with weighting `w` (weights
 * updated that step), after a first step that compiles and plans everything.
 */
export async function stepCounts(
  engine: Engine,
  sizes: number[],
  n: Record<string, number>,
  w: Weighting,
  average = 0,
): Promise<StepCounts> {
  // The timed step's configuration, with the parameter average when asked for.
  const config = { ...trainConfig(sizes, n, w), average };
  const t = await Trainer.create(engine, config);
  try {
    await t.advance();
    const c0 = snapshot(engine.counters);
    await t.advance();
    await t.advance();
    return { weighting: w, average, ...countsSince(c0, engine.counters, 2) };
  } finally {
    await t.dispose();
  }
}

/** A markdown table of step counts: one row per weighting, then dispatches per kernel. */
export function countsTable(rows: StepCounts[]): string {
  const kernels = [...new Set(rows.flatMap((r) => Object.keys(r.byKernel)))];
  const head = `| weighting | dispatches | passes | submits | ${kernels.join(" | ")} |`;
  const rule = `| --- | ---: | ---: | ---: | ${kernels.map(() => "---:").join(" | ")} |`;
  const body = rows.map((r) =>
    `| ${r.weighting}${
      r.average ? ` + average` : ""
    } | ${r.dispatches} | ${r.passes} | ${r.submits} | ${
      kernels.map((k) => r.byKernel[k] ?? "").join(" | ")
    } |`
  );
  return [head, rule, ...body].join("\n");
}

/**
 * The name of a shareable results file for an adapter (`bench --suite gpu`):
 * `bench-<description>-<backend>.json`, lower case, other characters as dashes.
 */
export function resultsFileName(a: AdapterReport): string {
  const slug = `${a.description}-${a.backend}`.toLowerCase().replace(/[^a-z0-9.]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return `bench-${slug}.json`;
}
