import assert from "node:assert/strict";
import { fixedCost } from "../bench/suites.ts";
import type { BenchRecord } from "../bench/timing.ts";
import { assertClose } from "./assert_close.ts";

const step = (nr: number, median: number, min: number, gpu?: number): BenchRecord => ({
  suite: "scaling",
  name: `step N_r=${nr}`,
  config: { sizes: [2, 128, 128, 128, 1] },
  median_ms: median,
  min_ms: min,
  max_ms: median,
  repeats: 5,
  gpu_ms: gpu,
});

Deno.test("bench: the fixed cost per step is the intercept through N_r = 256 and 1024", () => {
  // median 4 + 0.07 N, minimum 3 + 0.06 N, GPU 2 + 0.075 N; the 4096 point is off the line.
  const r = fixedCost([
    step(256, 4 + 0.07 * 256, 3 + 0.06 * 256, 2 + 0.075 * 256),
    step(1024, 4 + 0.07 * 1024, 3 + 0.06 * 1024, 2 + 0.075 * 1024),
    step(4096, 1000, 1000, 1000),
  ]);
  assert.equal(r.name, "fixed cost per step");
  assertClose(r.median_ms, 4, { atol: 1e-9 });
  assertClose(r.min_ms, 3, { atol: 1e-9 });
  assertClose(r.gpu_ms!, 2, { atol: 1e-9 });
  assert.match(r.note!, /slope 70\.0 ms per 1000 N_r/);
  // Without timestamps there is no GPU intercept; without a point there is no fit.
  assert.equal(fixedCost([step(256, 20, 20), step(1024, 70, 70)]).gpu_ms, undefined);
  assert.throws(() => fixedCost([step(256, 20, 20)]), /no step at N_r=1024/);
});
