import assert from "node:assert/strict";
import { fixedCostRecord, lineFit } from "../bench/fixed_cost.ts";
import { assertClose } from "./assert_close.ts";

Deno.test("bench: lineFit is the least-squares line", () => {
  const f = lineFit([[0, 1], [1, 3], [2, 5]]);
  assertClose(f.slope, 2, { atol: 1e-12 });
  assertClose(f.intercept, 1, { atol: 1e-12 });
  // Off-line points: the fit through (0,0), (1,1), (2,0) is y = 1/3.
  const g = lineFit([[0, 0], [1, 1], [2, 0]]);
  assertClose(g.slope, 0, { atol: 1e-12 });
  assertClose(g.intercept, 1 / 3, { atol: 1e-12 });
  assert.throws(() => lineFit([[1, 1]]), /two points/);
});

Deno.test("bench: the fixed cost per step is the median over rounds of each round's intercept", () => {
  // Rounds on lines 4 + 0.07 N, 6 + 0.07 N and 2 + 0.08 N: intercepts 4, 6, 2.
  const round = (b: number, s: number) =>
    [256, 512, 1024].map((n) => [n, b + s * n] as [number, number]);
  const r = fixedCostRecord([round(4, 0.07), round(6, 0.07), round(2, 0.08)], [2, 8, 1]);
  assert.equal(r.name, "fixed cost per step");
  assertClose(r.median_ms, 4, { atol: 1e-9 });
  assertClose(r.min_ms, 2, { atol: 1e-9 });
  assertClose(r.max_ms, 6, { atol: 1e-9 });
  assert.equal(r.repeats, 3);
  assert.match(r.note!, /slope 70\.0 ms per 1000 N_r/);
  assert.match(r.note!, /N_r = 256, 512, 1024/);
  // A drifting machine: each round is on its own line, the fit stays per round.
  const drift = [round(3, 0.07), round(3, 0.09), round(3, 0.11)];
  assertClose(fixedCostRecord(drift, [2, 8, 1]).median_ms, 3, { atol: 1e-9 });
});
