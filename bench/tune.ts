/**
 * The tile-shape search: `bench`'s first run on an adapter, `--retune` and
 * `--suite gpu` time a training step (wave, [2,128,128,128,1], N_r = 1024) for
 * every candidate of src/tuning.ts and cache the fastest for the adapter.
 *
 * Two stages. The first times each candidate once, one after another: the
 * candidates vary one axis at a time (Taylor shape, weight-gradient shape,
 * split-K slice) away from the defaults. The second puts the fastest value of
 * each axis together (a shape no single candidate had), and times it, the
 * adapter's untuned default and the first stage's three fastest in
 * alternation, round after round; the best median wins. Timed once and in
 * sequence, the first stage's figures carry the machine's drift: on a shared
 * 2-core machine the same defaults timed 137 ms first and their one-axis
 * variants 95–104 ms minutes later, so a choice by the first stage alone was
 * partly a choice by the clock.
 *
 * @module
 */
import type { Engine } from "../src/engine.ts";
import {
  candidates,
  DEFAULT_TUNING,
  defaultTuning,
  saveTuning,
  type Tuning,
} from "../src/tuning.ts";
import { Trainer } from "../src/trainer.ts";
import { median, timeBatches, trainConfig } from "./timing.ts";

/** A candidate and its time per step (ms); `stage` 2 times are medians over alternating rounds. */
export interface TunedShape {
  tuning: Tuning;
  ms: number;
  stage?: 2;
}

/** The axes of a tuning, each the fields one kernel family reads. */
const AXES: Record<string, (t: Tuning) => Partial<Tuning>> = {
  taylor: (t) => ({ taylorWG: t.taylorWG, taylorTM: t.taylorTM }),
  grad: (t) => ({ gradTile: t.gradTile, gradWG: t.gradWG, gradShared: t.gradShared }),
  slice: (t) => ({ slice: t.slice }),
  sums: (t) => ({ subgroups: t.subgroups }),
};

/** The same shape (fields left out and `undefined` alike). */
export function sameTuning(a: Partial<Tuning>, b: Partial<Tuning>): boolean {
  const key = (t: Partial<Tuning>) =>
    JSON.stringify(Object.entries(t).filter(([, v]) => v !== undefined).sort());
  return key(a) === key(b);
}

/**
 * For each axis, the value of the fastest timed candidate that equals `base` on
 * every other axis (`base` itself counts), put together into one tuning.
 */
export function combineAxes(base: Tuning, results: readonly TunedShape[]): Tuning {
  let out: Partial<Tuning> = {};
  for (const [name, axis] of Object.entries(AXES)) {
    const others = Object.entries(AXES).filter(([n]) => n !== name).map(([, f]) => f);
    const along = results.filter((r) => others.every((f) => sameTuning(f(r.tuning), f(base))));
    const best = along.reduce<TunedShape | null>((a, b) => (!a || b.ms < a.ms ? b : a), null);
    out = { ...out, ...axis(best ? best.tuning : base) };
  }
  for (const k of Object.keys(out) as (keyof Tuning)[]) {
    if (out[k] === undefined) delete out[k];
  }
  return out as Tuning;
}

/** The shapes of the second stage: the combination, the default, then the fastest, no repeats. */
export function finalists(
  combined: Tuning,
  fallback: Tuning,
  results: readonly TunedShape[],
  top = 3,
): Tuning[] {
  const ranked = [...results].sort((a, b) => a.ms - b.ms).slice(0, top).map((r) => r.tuning);
  const out: Tuning[] = [];
  for (const t of [combined, fallback, ...ranked]) {
    if (!out.some((o) => sameTuning(o, t))) out.push(t);
  }
  return out;
}

const tuneConfig = () => trainConfig([2, 128, 128, 128, 1], { r: 1024, u: 256, ut: 256 }, "fixed");

/**
 * Searches the candidates' shapes for `engine`'s adapter, sets and caches the
 * fastest (`quick`: the first four candidates, one stage; `o.candidates`: these
 * instead of src/tuning.ts's, for tests).
 */
export async function tuneAdapter(
  engine: Engine,
  quick = false,
  o: { rounds?: number; candidates?: Tuning[] } = {},
): Promise<{ tuning: Tuning; ms: number; results: TunedShape[] }> {
  const results: TunedShape[] = [];
  const all = o.candidates ??
    candidates(engine.device.limits as unknown as Record<string, number>, [
      ...engine.device.features,
    ]);
  for (const cand of quick ? all.slice(0, 4) : all) {
    engine.tuning = cand;
    const t = await Trainer.create(engine, tuneConfig());
    const r = await timeBatches(engine, () => t.advance(), { warmup: 2, repeats: 3, batch: 3 });
    await t.dispose();
    results.push({ tuning: cand, ms: r.median });
    console.error(`tune ${JSON.stringify(cand)}: ${r.median.toFixed(1)} ms/step`);
  }
  let best = results.reduce((a, b) => (b.ms < a.ms ? b : a));
  if (!quick) {
    const finals = await alternate(
      engine,
      finalists(combineAxes(DEFAULT_TUNING, results), defaultTuning(engine.adapter), results),
      o.rounds ?? 5,
    );
    results.push(...finals);
    best = finals.reduce((a, b) => (b.ms < a.ms ? b : a));
  }
  engine.tuning = best.tuning;
  const path = await saveTuning(engine.adapter, best.tuning, results);
  console.error(
    `tuning: ${JSON.stringify(best.tuning)} (${best.ms.toFixed(1)} ms/step)${
      path ? ` saved to ${path}` : ""
    }`,
  );
  return { ...best, results };
}

/** Medians of `shapes` timed in alternation: each round a batch of 3 steps per shape, the order reversed every other round. */
async function alternate(engine: Engine, shapes: Tuning[], rounds: number): Promise<TunedShape[]> {
  const trainers: Trainer[] = [];
  try {
    for (const s of shapes) {
      // The plan reads the shapes as it builds its sequences: set them before each use.
      engine.tuning = s;
      const t = await Trainer.create(engine, tuneConfig());
      trainers.push(t);
      for (let i = 0; i < 2; i++) await t.advance();
    }
    const times: number[][] = shapes.map(() => []);
    for (let r = 0; r < rounds; r++) {
      const order = shapes.map((_, i) => i);
      if (r % 2) order.reverse();
      for (const i of order) {
        engine.tuning = shapes[i];
        await engine.device.queue.onSubmittedWorkDone();
        const t0 = performance.now();
        for (let k = 0; k < 3; k++) await trainers[i].advance();
        await engine.device.queue.onSubmittedWorkDone();
        times[i].push((performance.now() - t0) / 3);
      }
    }
    return shapes.map((tuning, i) => {
      const ms = median(times[i]);
      console.error(`tune, alternating ${JSON.stringify(tuning)}: ${ms.toFixed(1)} ms/step`);
      return { tuning, ms, stage: 2 as const };
    });
  } finally {
    for (const t of trainers) await t.dispose();
  }
}
