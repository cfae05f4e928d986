/**
 * The fused reductions of a training step (ntk.wgsl `stepSums`): one dispatch
 * gives the loss sums against the float64 reference, and the trace sums, EMA
 * state and weights that the separate kernels (group sums, finite differences,
 * ntkWeights) give, for exact traces, the predictor's finite differences
 * (forward and central) and JVP rows.
 *
 * Needs a WebGPU adapter: `Engine.create()` throws (and every test fails) without one.
 */
import { wave } from "../src/problems/wave.ts";
import * as ref from "../src/reference/mlp64.ts";
import { assertAllClose, assertClose } from "./assert_close.ts";
import { moduleEngine, wavePlan } from "./gpu_helpers.ts";
import type { Dispatch } from "../src/engine.ts";

const engine = await moduleEngine();

const test = (name: string, fn: () => void | Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

const sizes = [2, 13, 9, 1];
// Group sizes above the workgroup (256) exercise the strided sums.
const counts = { r: 300, u: 37, ut: 19 };
const K = 3;
const { plan, params, points } = await wavePlan(engine, {
  sizes,
  counts,
  directions: K,
  paramSeed: 5,
  pointSeed: 2,
});
const G = plan.G;

/** Sums, traces, EMA state and λ after `seqs`, from a zero EMA state. */
async function outputs(rows: number, ...seqs: Dispatch[][]) {
  engine.write(plan.b.ntkState, 0, new Float32Array(2 * G + 1));
  engine.write(plan.b.lossSums, 0, new Float32Array(G));
  engine.write(plan.b.traceSums, 0, new Float32Array(rows * G));
  engine.submit("fused", ...seqs);
  return {
    loss: await plan.read(plan.b.lossSums, 0, G),
    traces: await plan.read(plan.b.traceSums, 0, rows * G),
    state: await plan.read(plan.b.ntkState, 0, 2 * G + 1),
    lambda: await plan.read(plan.b.lambda, 0, G),
  };
}

function same(a: Awaited<ReturnType<typeof outputs>>, b: typeof a, what: string): void {
  for (const k of ["loss", "traces", "state", "lambda"] as const) {
    assertAllClose(a[k], b[k], { rtol: 1e-6, atol: 0, name: `${what}: ${k}` });
  }
}

test("stepSums: loss sums in one dispatch match the float64 reference", async () => {
  const out = await outputs(
    1,
    plan.forward,
    plan.residual,
    await plan.stepSumsSeq({
      traces: "none",
    }),
  );
  const { lossPerGroup } = ref.lossAndGradient(wave, sizes, "tanh", params, points);
  plan.batch.groups.forEach((g, i) => {
    assertClose(out.loss[i] / g.n, lossPerGroup[g.name], { rtol: 1e-4, name: `loss.${g.name}` });
  });
});

test("stepSums: exact traces and weights match the separate kernels and the reference", async () => {
  const core = [plan.forward, plan.residual, plan.backward, plan.gram];
  const fused = await outputs(1, ...core, await plan.stepSumsSeq({ traces: "exact", beta: 0.9 }));
  const separate = await outputs(
    1,
    ...core,
    plan.lossSums,
    plan.traceSums,
    await plan.ntkWeightsSeq(1, 1, 0.9),
  );
  same(fused, separate, "exact");
  const exact64 = ref.ntkTraces(wave, sizes, "tanh", params, points);
  plan.batch.groups.forEach((g, i) => {
    assertClose(fused.traces[i], exact64.traces[g.name], { rtol: 1e-3, name: `trace.${g.name}` });
    assertClose(fused.lambda[i], exact64.weights[g.name], { rtol: 1e-3, name: `λ.${g.name}` });
  });
});

for (const central of [false, true]) {
  test(`stepSums: predictor finite differences (${central ? "central" : "forward"}) fused`, async () => {
    const dt = 1e-2;
    plan.setRandom(7, 0, 0);
    const pre = [await plan.directionSeq(K, "gaussian"), await plan.predictorSeq(K, dt, central)];
    const main = [plan.forward, plan.residual];
    const fused = await outputs(
      K,
      ...pre,
      ...main,
      await plan.stepSumsSeq({ traces: "fd", rows: K, scale: 1 / K, beta: 0.99, dt, central }),
    );
    const separate = await outputs(
      K,
      ...pre,
      ...main,
      plan.lossSums,
      await plan.correctorTangentSeq(K, dt, central),
      await plan.ySumsSeq(K),
      await plan.ntkWeightsSeq(K, 1 / K, 0.99),
    );
    same(fused, separate, `fd ${central ? "central" : "forward"}`);
  });
}

test("stepSums: JVP rows fused", async () => {
  plan.setRandom(8, 0, 0);
  const seqs = [
    plan.forward,
    plan.residual,
    await plan.directionSeq(K, "gaussian"),
    await plan.jvpSeq(K),
  ];
  const fused = await outputs(
    K,
    ...seqs,
    await plan.stepSumsSeq({ traces: "y", rows: K, scale: 1 / K, beta: 0.5 }),
  );
  const separate = await outputs(
    K,
    ...seqs,
    plan.lossSums,
    await plan.ySumsSeq(K),
    await plan.ntkWeightsSeq(K, 1 / K, 0.5),
  );
  same(fused, separate, "jvp");
});
