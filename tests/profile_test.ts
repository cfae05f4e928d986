/**
 * Per-kernel GPU time (`Engine.profileKernels`, `bench --suite kernels`): a
 * profiled step times every dispatch the counting encoder counts, and computes the
 * same parameters as an unprofiled one (its passes are split, nothing else).
 *
 * Needs a WebGPU adapter with timestamp queries: `Engine.create()` throws without
 * an adapter, and the tests below fail when it has no timestamps.
 */
import assert from "node:assert/strict";
import { kernelRows, kernelTable, profileStep, quarter } from "../bench/kernels.ts";
import { stepCounts } from "../bench/counts.ts";
import { trainConfig } from "../bench/timing.ts";
import { Trainer } from "../src/trainer.ts";
import { moduleEngine } from "./gpu_helpers.ts";

const engine = await moduleEngine();
const sizes = [2, 12, 10, 1];
const n = { r: 40, u: 20, ut: 12 };
const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  ...opts,
  name: "profile: every dispatch of a pc step is timed, under its kernel's name",
  fn: async () => {
    assert.ok(engine.hasTimestamps, "this adapter has no timestamp queries");
    const counts = await stepCounts(engine, sizes, n, "pc");
    const prof = await profileStep(engine, sizes, n, "pc", 2);
    const timed = Object.fromEntries([...prof].map(([k, v]) => [k, v.dispatches]));
    assert.deepEqual(timed, counts.byKernel);
    const total = [...prof.values()].reduce((s, v) => s + v.ms, 0);
    assert.ok(total > 0, `a step's kernels took ${total} ms`);
    for (const [k, v] of prof) assert.ok(v.ms >= 0 && Number.isFinite(v.ms), `${k}: ${v.ms}`);
  },
});

Deno.test({
  ...opts,
  name: "profile: a profiled step computes the same parameters, bit for bit",
  fn: async () => {
    const config = { ...trainConfig(sizes, n, "exact"), seed: 3 };
    const a = await Trainer.create(engine, config), b = await Trainer.create(engine, config);
    try {
      for (let i = 0; i < 3; i++) {
        await a.advance();
        const p = await engine.profileKernels(() => b.advance());
        assert.ok(p && p.kernels.length > 0);
      }
      assert.deepEqual(await b.params(), await a.params());
    } finally {
      await a.dispose();
      await b.dispose();
    }
  },
});

Deno.test("profile: each kernel's intercept is the line through the two point counts", () => {
  assert.deepEqual(quarter({ r: 1024, u: 256, ut: 2 }), { r: 256, u: 64, ut: 1 });
  const small = new Map([["a", { dispatches: 2, ms: 3 }], ["b", { dispatches: 1, ms: 1 }]]);
  const large = new Map([["a", { dispatches: 2, ms: 9 }], ["c", { dispatches: 4, ms: 2 }]]);
  const rows = kernelRows(small, large, 256, 1024);
  // a: slope 6/768 → intercept 3 − 2 = 1; b: 1 → 0, intercept 1 + 1/3; c: 0 → 2, intercept −2/3.
  assert.deepEqual(rows.map((r) => r.kernel), ["b", "a", "c"]);
  assert.ok(Math.abs(rows[0].fixed - 4 / 3) < 1e-12);
  assert.ok(Math.abs(rows[1].fixed - 1) < 1e-12);
  assert.ok(Math.abs(rows[2].fixed + 2 / 3) < 1e-12);
  assert.equal(rows[2].dispatches, 4);
  const md = kernelTable(rows, 256, 1024);
  assert.match(md, /\| \*\*sum\*\* \| 7 \| 4\.000 \| 11\.000 \| 1\.667 \|/);
});
