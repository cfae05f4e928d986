/**
 * `bench --suite lbfgs`: the cost of one L-BFGS iteration (direction by the
 * two-loop recursion, strong-Wolfe line search, history update) against one
 * full-batch loss-and-gradient evaluation on the same plan.
 *
 * @module
 */
import type { Engine } from "../src/engine.ts";
import { Plan } from "../src/plan.ts";
import { Lbfgs } from "../src/lbfgs.ts";
import { getProblem } from "../src/problems/mod.ts";
import { initParams } from "../src/model.ts";
import { resolveCounts, samplePoints } from "../src/points.ts";
import { type BenchRecord, timeBatches } from "./timing.ts";

/**
 * Two records on the wave problem: the full-batch evaluation, and the L-BFGS
 * iteration with its ratio to it. The iterations are timed after `warm` of them
 * (the history is full by then for m ≤ warm), from a centred initialisation.
 */
export async function lbfgsRecords(
  engine: Engine,
  sizes: number[],
  n: Record<string, number>,
  o: { m?: number; repeats?: number; warm?: number } = {},
): Promise<BenchRecord[]> {
  const problem = getProblem("wave");
  const counts = resolveCounts(problem, n);
  const m = o.m ?? 20;
  await using plan = await Plan.create(engine, { problem, sizes, activation: "tanh", counts });
  plan.setParams(initParams(sizes, 0, "centered", problem.domain));
  plan.setPoints(samplePoints(problem, counts, 0, 0, "sobol"));
  const lb = await Lbfgs.create(plan, { m });
  try {
    await lb.restart();
    const config = { sizes, n: counts, m };
    const evalT = await timeBatches(engine, async () => {
      await lb.evaluate();
    }, { repeats: o.repeats ?? 5, batch: 5 });
    for (let i = 0; i < (o.warm ?? m); i++) await lb.iterate();
    const e0 = lb.evals;
    let iters = 0;
    const iterT = await timeBatches(engine, async () => {
      await lb.iterate();
      iters++;
    }, { repeats: o.repeats ?? 5, batch: 3, warmup: 0 });
    const evalsPer = (lb.evals - e0) / iters;
    const fields = (t: typeof evalT) => ({
      median_ms: t.median,
      min_ms: t.min,
      max_ms: t.max,
      repeats: t.repeats,
      gpu_ms: t.gpu,
    });
    return [
      {
        suite: "lbfgs",
        name: "loss+gradient (full batch)",
        config,
        ...fields(evalT),
        note: "one submit and a one-float readback",
      },
      {
        suite: "lbfgs",
        name: `lbfgs iteration m=${m}`,
        config: { ...config, evals_per_iteration: evalsPer },
        ...fields(iterT),
        ratio: iterT.median / evalT.median,
        note: `ratio = iteration (line search included, ${
          evalsPer.toFixed(2)
        } evaluations each on average) / full-batch loss and gradient`,
      },
    ];
  } finally {
    await lb.dispose();
  }
}
