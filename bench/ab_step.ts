/**
 * A/B of the training step between two checkouts of this repository in one Deno
 * process: each side's `Trainer.advance()` is timed in alternation (order
 * switching every round), at several N_r, and a straight line through each
 * side's ms/step against N_r gives the fixed cost per step (its intercept).
 *
 * ```sh
 * git worktree add --detach /tmp/old a03250a
 * deno run -A --v8-flags=--liftoff-only --config deno.json bench/ab_step.ts /tmp/old . \
 *   [--n 256,512,1024] [--rounds 6] [--batch 5] [--weighting fixed]
 * ```
 *
 * Prints one JSON line per side and N_r (wall and CPU time per step, min and
 * median; CPU time is the whole process's, llvmpipe's threads included), then
 * one line per side and fit (with two or more --n).
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { lineFit } from "./fixed_cost.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    n: { type: "string", default: "256,512,1024" },
    rounds: { type: "string", default: "6" },
    batch: { type: "string", default: "5" },
    weighting: { type: "string", default: "fixed" },
  },
});
if (positionals.length !== 2) {
  console.error("usage: bench/ab_step.ts OLD_CHECKOUT NEW_CHECKOUT [--n 256,512,1024] ...");
  Deno.exit(2);
}
const ns = values.n.split(",").map(Number);
const rounds = Number(values.rounds), batch = Number(values.batch);
const weighting = values.weighting;
const sides = ["old", "new"] as const;
// deno-lint-ignore no-explicit-any
const mods: Record<string, any> = {};
// deno-lint-ignore no-explicit-any
const engines: Record<string, any> = {};
for (const [i, side] of sides.entries()) {
  mods[side] = await import(pathToFileURL(resolve(positionals[i], "mod.ts")).href);
  engines[side] = await mods[side].Engine.create();
}
console.error(mods.new.adapterLine(engines.new.adapter));
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const out: { side: string; nr: number; [k: string]: number | string }[] = [];
for (const nr of ns) {
  const n = { r: nr, u: nr / 4, ut: nr / 4 };
  // deno-lint-ignore no-explicit-any
  const tr: Record<string, any> = {};
  for (const side of sides) {
    const M = mods[side];
    tr[side] = await M.Trainer.create(engines[side], {
      ...M.DEFAULT_CONFIG,
      problem: "wave",
      average: 0,
      sizes: [2, 128, 128, 128, 1],
      n,
      weighting,
      weights: weighting === "fixed" ? { r: 1, u: 10, ut: 10 } : {},
      k: 1,
      resample: 0,
      steps: 1 << 30,
    });
    for (let i = 0; i < 3; i++) await tr[side].advance();
    await engines[side].device.queue.onSubmittedWorkDone();
  }
  const wall: Record<string, number[]> = { old: [], new: [] };
  const cpu: Record<string, number[]> = { old: [], new: [] };
  for (let r = 0; r < rounds; r++) {
    for (const side of r % 2 ? ["new", "old"] : ["old", "new"]) {
      const c0 = process.cpuUsage(), t0 = performance.now();
      for (let i = 0; i < batch; i++) await tr[side].advance();
      await engines[side].device.queue.onSubmittedWorkDone();
      const c = process.cpuUsage(c0);
      wall[side].push((performance.now() - t0) / batch);
      cpu[side].push((c.user + c.system) / 1000 / batch);
    }
  }
  for (const side of sides) {
    await tr[side].dispose();
    const mid = Math.floor(rounds / 2);
    const rec = {
      side,
      nr,
      load1: Deno.loadavg()[0],
      wall_min: sorted(wall[side])[0],
      wall_med: sorted(wall[side])[mid],
      cpu_min: sorted(cpu[side])[0],
      cpu_med: sorted(cpu[side])[mid],
    };
    out.push(rec);
    console.log(JSON.stringify(rec));
  }
}
// A line needs two point counts: with one --n there is no fit.
for (const side of ns.length > 1 ? sides : []) {
  for (const key of ["wall_min", "wall_med", "cpu_min", "cpu_med"]) {
    const pts = out.filter((r) => r.side === side).map((r) => [r.nr, r[key] as number] as const);
    const { slope, intercept } = lineFit(pts);
    console.log(JSON.stringify({
      side,
      fit: key,
      intercept_ms: +intercept.toFixed(2),
      per_1k_points_ms: +(slope * 1000).toFixed(2),
    }));
  }
}
for (const side of sides) engines[side].dispose?.();
