/**
 * `bench --suite lbfgs`: the cost of one L-BFGS iteration (direction by the
 * compact form, strong-Wolfe line search, history update) against one
 * full-batch loss-and-gradient evaluation on the same plan, for m = 20 and 100
 * pairs (`--quick`: 20).
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
 * Records on the wave problem: the full-batch evaluation, and for each history
 * length m the L-BFGS iteration with its ratio to it. The iterations are timed
 * after `warm` of them (default m: the history is full by then), from a centred
 * initialisation.
 */
export async function lbfgsRecords(
  engine: Engine,
  sizes: number[],
  n: Record<string, number>,
  o: { ms?: number[]; repeats?: number; warm?: number } = {},
): Promise<BenchRecord[]> {
  const problem = getProblem("wave");
  const counts = resolveCounts(problem, n);
  await using plan = await Plan.create(engine, { problem, sizes, activation: "tanh", counts });
  const points = samplePoints(problem, counts, 0, 0, "sobol");
  const fields = (t: Awaited<ReturnType<typeof timeBatches>>) => ({
    median_ms: t.median,
    min_ms: t.min,
    max_ms: t.max,
    repeats: t.repeats,
    gpu_ms: t.gpu,
  });
  const out: BenchRecord[] = [];
  let evalMs = NaN;
  for (const m of o.ms ?? [20]) {
    plan.setParams(initParams(sizes, 0, "centered", problem.domain));
    plan.setPoints(points);
    const lb = await Lbfgs.create(plan, { m });
    try {
      await lb.restart();
      const config = { sizes, n: counts, m };
      if (!out.length) {
        const evalT = await timeBatches(engine, async () => {
          await lb.evaluate();
        }, { repeats: o.repeats ?? 5, batch: 5 });
        evalMs = evalT.median;
        out.push({
          suite: "lbfgs",
          name: "loss+gradient (full batch)",
          config: { sizes, n: counts },
          ...fields(evalT),
          note: "one submit and a one-float readback",
        });
      }
      for (let i = 0; i < (o.warm ?? m); i++) await lb.iterate();
      const e0 = lb.evals;
      let iters = 0;
      const iterT = await timeBatches(engine, async () => {
        await lb.iterate();
        iters++;
      }, { repeats: o.repeats ?? 5, batch: 3, warmup: 0 });
      const evalsPer = (lb.evals - e0) / iters;
      out.push({
        suite: "lbfgs",
        name: `lbfgs iteration m=${m}`,
        config: { ...config, evals_per_iteration: evalsPer },
        ...fields(iterT),
        ratio: iterT.median / evalMs,
        note: `ratio = iteration (line search included, ${
          evalsPer.toFixed(2)
        } evaluations each on average) / full-batch loss and gradient`,
      });
    } finally {
      await lb.dispose();
    }
  }
  return out;
}
