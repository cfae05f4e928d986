/**
 * The tile-shape search's second stage (bench/tune.ts): which shapes it puts
 * together and which it times again in alternation.
 */
import assert from "node:assert/strict";
import { combineAxes, finalists, sameTuning, tuneAdapter, type TunedShape } from "../bench/tune.ts";
import { Engine } from "../src/engine.ts";
import {
  candidates,
  DEFAULT_TUNING,
  FEW_CORES_SOFTWARE_TUNING,
  loadTuning,
  type Tuning,
} from "../src/tuning.ts";

const D = DEFAULT_TUNING;
const timed = (t: Tuning, ms: number): TunedShape => ({ tuning: t, ms });

Deno.test("combineAxes: the fastest value of each axis among one-axis variants, put together", () => {
  const results = [
    timed(D, 137),
    timed(FEW_CORES_SOFTWARE_TUNING, 113), // differs on two axes: no axis takes it
    timed({ ...D, taylorWG: [32, 8] }, 93.6),
    timed({ ...D, taylorWG: [16, 16] }, 131),
    timed({ ...D, gradTile: [16, 16] }, 90.6),
    timed({ ...D, gradTile: [8, 4] }, 98.3),
    timed({ ...D, gradWG: 128 }, 95.5),
    timed({ ...D, slice: 32 }, 95.2),
    timed({ ...D, slice: 512 }, 104.1),
  ];
  const c = combineAxes(D, results);
  assert.deepEqual(c, { taylorWG: [32, 8], taylorTM: 8, gradTile: [16, 16], slice: 32 });
  // gradWG and gradShared come with their axis: the [8, 8] tile in 128 invocations loses to [16, 16].
  assert.ok(!("gradWG" in c) && !("gradShared" in c));
  // An axis whose variants all lose keeps the base's value.
  const slow = combineAxes(D, [timed(D, 90), timed({ ...D, slice: 32 }, 95)]);
  assert.ok(sameTuning(slow, D));
  // A weight-gradient shape staged in workgroup memory brings its own fields.
  const shared = {
    ...D,
    gradTile: [4, 4] as [number, number],
    gradShared: [8, 8] as [number, number],
  };
  assert.deepEqual(combineAxes(D, [timed(D, 90), timed(shared, 50)]), shared);
});

Deno.test("finalists: the combination, the adapter's default, then the fastest, each once", () => {
  const results = [
    timed(D, 100),
    timed({ ...D, slice: 32 }, 90),
    timed(FEW_CORES_SOFTWARE_TUNING, 80),
  ];
  const f = finalists({ ...D, slice: 32 }, FEW_CORES_SOFTWARE_TUNING, results);
  assert.deepEqual(f, [{ ...D, slice: 32 }, FEW_CORES_SOFTWARE_TUNING, D]);
  assert.equal(finalists(D, D, [timed(D, 1)]).length, 1);
});

Deno.test("sameTuning: absent and undefined fields alike, arrays by value", () => {
  assert.ok(sameTuning({ ...D, gradWG: undefined }, D));
  assert.ok(sameTuning({ ...D, taylorWG: [8, 8] }, D));
  assert.ok(!sameTuning({ ...D, gradWG: 64 }, D));
  // Every candidate differs from the others.
  const all = candidates();
  all.forEach((a, i) => all.forEach((b, j) => i !== j && assert.ok(!sameTuning(a, b))));
});

Deno.test({
  name: "tuneAdapter: both stages on the adapter, the winner set, cached, and one of the finalists",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const before = Deno.env.get("SKETCHPINN_CACHE");
    Deno.env.set("SKETCHPINN_CACHE", dir);
    using engine = await Engine.create();
    try {
      const cands: Tuning[] = [D, { ...D, slice: 32 }, { ...D, gradTile: [16, 16] }];
      const r = await tuneAdapter(engine, false, { rounds: 2, candidates: cands });
      const stage2 = r.results.filter((x) => x.stage === 2);
      // The combination (16 × 16 sums and slices of 32, or whichever values won) is timed
      // in the second stage with the untuned default and the three candidates.
      assert.equal(r.results.length - stage2.length, 3);
      assert.ok(stage2.length >= 3 && stage2.length <= 5);
      assert.ok(stage2.some((x) => sameTuning(x.tuning, combineAxes(D, r.results.slice(0, 3)))));
      assert.ok(stage2.every((x) => Number.isFinite(x.ms) && x.ms > 0));
      assert.ok(sameTuning(engine.tuning, r.tuning));
      assert.equal(r.ms, Math.min(...stage2.map((x) => x.ms)));
      assert.ok(sameTuning((await loadTuning(engine.adapter))!, r.tuning));
    } finally {
      if (before === undefined) Deno.env.delete("SKETCHPINN_CACHE");
      else Deno.env.set("SKETCHPINN_CACHE", before);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
