/**
 * Loads a saved model file and prints its NTK block traces and weights by every
 * estimator (exact, jvp, pc, hutch) on freshly sampled points.
 *
 * ```sh
 * deno run --allow-read --allow-env examples/ntk_weights.ts runs/wave-pc/model.json --k 16
 * ```
 *
 * Flags: `--n r=1024,u=256,ut=256` (points per group; default the problem's), `--k`
 * (directions of jvp and pc, probes of hutch; default 8), `--seed`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  Engine,
  loadModel,
  type NtkMethod,
  ntkWeights,
  Plan,
  resolveCounts,
  resolveProblem,
  samplePoints,
} from "../mod.ts";

const flag = { type: "string" } as const;
const { values: a, positionals } = parseArgs({
  options: { n: flag, k: flag, seed: flag },
  allowPositionals: true,
});
if (positionals.length !== 1) {
  console.error("usage: ntk_weights.ts MODEL.json [--n r=1024,u=256] [--k 8] [--seed 0]");
  Deno.exit(2);
}
const model = await loadModel(positionals[0]);
const problem = await resolveProblem(model.problem, positionals[0]);
const n = Object.fromEntries(
  (a.n ?? "").split(",").filter((s) => s).map((s) => s.split("=")).map(([g, v]) => [g, +v]),
);
const counts = resolveCounts(problem, n);
const k = Number(a.k ?? 8), seed = Number(a.seed ?? 0);

using engine = await Engine.create();
await using plan = await Plan.create(engine, {
  problem,
  sizes: model.sizes,
  activation: model.activation,
  counts,
  directions: Math.min(k, 16),
  tangents: true,
});
plan.setParams(model.params);
plan.setPoints(samplePoints(problem, counts, seed));
console.log(
  `${problem.name} [${model.sizes}] ${model.activation}, points ${JSON.stringify(counts)}`,
);
for (const method of ["exact", "jvp", "pc", "hutch"] as NtkMethod[]) {
  const { traces, weights } = await ntkWeights(plan, { method, k, seed });
  const cols = Object.keys(traces).map((g) =>
    `${g}: Tr K ${traces[g].toExponential(3)} λ ${weights[g].toPrecision(4)}`
  );
  // Sketches are unbiased but noisy: a block estimate can come out ≤ 0, and then
  // every weight falls back to 1.
  const note = Object.values(traces).some((t) => !(t > 0)) ? "  (a trace ≤ 0: raise --k)" : "";
  console.log(
    `${method.padEnd(5)} ${method === "exact" ? "     " : `k=${k}`.padEnd(5)} ${
      cols.join(" | ")
    }${note}`,
  );
}
