/**
 * NTK traces and weights on the GPU: the exact traces against the float64
 * reference and the full NTK, the weight identities, every stochastic estimator
 * against the exact traces (fixed seeds, 4 standard errors), the Hutchinson
 * estimator sample by sample against its float64 value, and the finite-difference
 * bias of the predictor-corrector estimator shrinking as O(Δt) (forward) and
 * O(Δt²) (central).
 *
 * Needs a WebGPU adapter: `Engine.create()` throws (and every test fails) without one.
 */
import assert from "node:assert/strict";
import { estimateTraces, type NtkOptions, ntkWeights, weightsFromTraces } from "../src/ntk.ts";
import { wave } from "../src/problems/wave.ts";
import { rademacherAt, Stream } from "../src/random.ts";
import * as ref from "../src/reference/mlp64.ts";
import { assertAllClose, assertClose } from "./assert_close.ts";
import { assertRelInf, moduleEngine, wavePlan } from "./gpu_helpers.ts";

const engine = await moduleEngine();

const test = (name: string, fn: () => void | Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

const problem = wave, activation = "tanh" as const;
const sizes = [2, 13, 9, 1];
const counts = { r: 23, u: 11, ut: 7 };
const GROUPS = ["r", "u", "ut"];
/** Directions per chunk; estimators asking for more run several chunks. */
const K = 8;
const { plan, params, points } = await wavePlan(engine, {
  sizes,
  counts,
  directions: K,
  paramSeed: 3,
  pointSeed: 1,
});
const exact64 = ref.ntkTraces(problem, sizes, activation, params, points);

/** λ_j ≥ 1 and Σ_j 1/λ_j = 1 (design §2). */
function assertWeightIdentities(weights: Record<string, number>, what: string): void {
  let inv = 0;
  for (const g of GROUPS) {
    assert.ok(weights[g] >= 1 - 1e-6, `${what}: λ_${g} = ${weights[g]} < 1`);
    inv += 1 / weights[g];
  }
  assertClose(inv, 1, { rtol: 1e-5, name: `${what}: Σ 1/λ` });
}

test("exact traces, means and weights: GPU vs reference", async () => {
  const gpu = await ntkWeights(plan, { method: "exact" });
  for (const g of GROUPS) {
    assertClose(gpu.traces[g], exact64.traces[g], { rtol: 1e-3, name: `trace.${g}` });
    assertClose(gpu.means[g], exact64.means[g], { rtol: 1e-3, name: `mean.${g}` });
    assertClose(gpu.weights[g], exact64.weights[g], { rtol: 1e-3, name: `weight.${g}` });
  }
  assertWeightIdentities(exact64.weights, "reference");
  assertWeightIdentities(gpu.weights, "GPU exact");
});

test("full NTK: block traces equal Σ per-point norms, on the GPU too", async () => {
  const { order, K: ntk } = ref.fullNtk(problem, sizes, activation, params, points);
  const n = order.length;
  const norms64 = ref.perPointGradNorms(problem, sizes, activation, params, points);
  const gpu = await plan.exactNorms();
  for (const g of GROUPS) {
    const diag = order.flatMap((o, i) => o.group === g ? [ntk[i * n + i]] : []);
    assertAllClose(diag, norms64[g], { rtol: 1e-12, name: `diag K.${g} vs reference norms` });
    assertRelInf(gpu.norms[g], diag, 1e-3, `diag K.${g} vs GPU norms`);
    const blockTrace = diag.reduce((a, b) => a + b, 0);
    assertClose(blockTrace, exact64.traces[g], { rtol: 1e-12, name: `Tr K_${g}${g}` });
    assertClose(gpu.traces[g], blockTrace, { rtol: 1e-3, name: `GPU Tr K_${g}${g}` });
  }
  let trace = 0;
  for (let i = 0; i < n; i++) trace += ntk[i * n + i];
  const sumNorms = GROUPS.reduce((s, g) => s + norms64[g].reduce((a, b) => a + b, 0), 0);
  assertClose(trace, sumNorms, { rtol: 1e-12, name: "Tr K" });
});

test("weights computed on the GPU (ntkWeightsSeq) from the exact traces", async () => {
  await plan.exactNorms();
  plan.engine.write(plan.b.ntkState, 0, new Float32Array(2 * plan.G + 1));
  plan.engine.submit("ntkWeights", await plan.ntkWeightsSeq(1, 1, 0));
  const lam = await plan.read(plan.b.lambda, 0, plan.G);
  const weights = Object.fromEntries(GROUPS.map((g, i) => [g, lam[i]]));
  for (const g of GROUPS) {
    assertClose(weights[g], exact64.weights[g], { rtol: 1e-3, name: `GPU λ_${g}` });
  }
  assertWeightIdentities(weights, "ntkWeightsSeq");
  plan.setLambda({});
});

test("weightsFromTraces: identities for unequal group sizes; degenerate traces give λ = 1", () => {
  const w = weightsFromTraces({ r: 5, u: 0.25, ut: 40 }, { r: 100, u: 3, ut: 7 });
  assertWeightIdentities(w.weights, "weightsFromTraces");
  assertClose(w.weights.r, (0.05 + 0.25 / 3 + 40 / 7) / 0.05, { rtol: 1e-12, name: "λ_r" });
  const d = weightsFromTraces({ r: 5, u: 0, ut: 1 }, { r: 1, u: 1, ut: 1 });
  assert.deepEqual(d.weights, { r: 1, u: 1, ut: 1 });
});

// Each stochastic estimator, averaged over `repeat` independent draws (steps),
// must lie within 4 standard errors of the exact traces; the standard error must
// be small enough (≤ 12% of the trace) for that to mean something.
const ESTIMATORS: [string, NtkOptions, number][] = [
  // k > K: two chunks per estimate, so the chunk offset of the counter is used.
  ["jvp gaussian", { method: "jvp", k: 12, seed: 101, kind: "gaussian" }, 70],
  ["jvp rademacher", { method: "jvp", k: 8, seed: 202, kind: "rademacher" }, 100],
  ["pc forward", { method: "pc", k: 8, seed: 303 }, 100],
  ["pc central", { method: "pc", k: 8, seed: 404, central: true }, 100],
  // Δt small: the step is Δt·Jᵀz with ‖Jᵀz‖ ≈ 30 here, see the per-sample test below.
  ["hutch", { method: "hutch", k: 4, seed: 505, dt: 1e-3 }, 60],
];
for (const [name, opts, repeat] of ESTIMATORS) {
  test(`${name}: mean of ${repeat} estimates within 4 standard errors of the exact traces`, async () => {
    const est = await ntkWeights(plan, opts, repeat);
    assert.ok(est.stderr, "ntkWeights with repeat > 1 returns standard errors");
    for (const g of GROUPS) {
      const exact = exact64.traces[g], se = est.stderr[g];
      const z = (est.traces[g] - exact) / se;
      assert.ok(
        se > 0 && se <= 0.12 * exact,
        `${name} ${g}: standard error ${se} not in (0, 0.12·${exact}]`,
      );
      assert.ok(
        Math.abs(z) <= 4,
        `${name} ${g}: estimate ${est.traces[g]} vs exact ${exact} is ${
          z.toFixed(2)
        } standard errors off (se ${se})`,
      );
    }
    assertWeightIdentities(est.weights, name);
  });
}

test("hutch: each sample equals z_jᵀ(K z)_j of the float64 NTK with the same z", async () => {
  const { order, K: ntk } = ref.fullNtk(problem, sizes, activation, params, points);
  const n = order.length;
  const pointOff = Object.fromEntries(plan.batch.groups.map((g) => [g.name, g.pointOff]));
  const seed = 9, dt = 1e-4;
  for (const step of [0, 1, 2]) {
    const gpu = await estimateTraces(plan, { method: "hutch", k: 1, seed, step, dt });
    // k = 1: the noise of step s is drawn with counter step·k + 0 = s.
    const z = order.map((o) =>
      rademacherAt(seed, Stream.residual, step, 0, pointOff[o.group] + o.index)
    );
    const est: Record<string, number> = { r: 0, u: 0, ut: 0 };
    const scale: Record<string, number> = { r: 0, u: 0, ut: 0 };
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        est[order[i].group] += z[i] * ntk[i * n + k] * z[k];
        scale[order[i].group] += Math.abs(ntk[i * n + k]);
      }
    }
    // Relative to Σ|K_ik| so that cancellation in a group's sum cannot make float32
    // rounding and the O(Δt) finite-difference error (≈ 5e-5 of it here) look large.
    for (const g of GROUPS) {
      assert.ok(
        Math.abs(gpu[g] - est[g]) <= 2e-3 * scale[g],
        `step ${step} ${g}: GPU ${gpu[g]} vs float64 ${est[g]} (scale ${scale[g]})`,
      );
    }
  }
});

// Finite-difference bias of pc, measured against the JVP with the same directions
// (same seed, step and kind), so the sampling noise cancels exactly.
const DTS = [4e-2, 2e-2, 1e-2, 5e-3];
const RATIO = { forward: [1.5, 2.6], central: [3, 5.2] } as const;

/** Successive ratios err(Δt_i) / err(Δt_{i+1}) must lie in `range`. */
function assertRatios(errs: number[], range: readonly [number, number], what: string): void {
  const ratios = errs.slice(1).map((e, i) => errs[i] / e);
  for (const r of ratios) {
    assert.ok(
      r >= range[0] && r <= range[1],
      `${what}: ratios ${ratios.map((x) => x.toFixed(2))} of errors ${
        errs.map((x) => x.toExponential(2))
      } over Δt = ${DTS} not all in [${range}]`,
    );
  }
}

for (const kind of ["gaussian", "rademacher"] as const) {
  test(`pc ${kind}: tangent error ‖y_pc − J s‖ is O(Δt) forward and O(Δt²) central`, async () => {
    const seed = 21, step = 3;
    const { y } = await plan.jvp(K, seed, step, kind);
    for (const central of [false, true]) {
      const errs: number[] = [];
      for (const dt of DTS) {
        await estimateTraces(plan, { method: "pc", k: K, seed, step, kind, dt, central });
        const Y = await plan.read(plan.b.Y, 0, K * plan.yStride);
        let e2 = 0;
        for (let j = 0; j < K; j++) {
          const fd = plan.perGroup(Y, j);
          for (const g of GROUPS) {
            for (let i = 0; i < fd[g].length; i++) e2 += (fd[g][i] - y[j][g][i]) ** 2;
          }
        }
        errs.push(Math.sqrt(e2));
      }
      assertRatios(
        errs,
        RATIO[central ? "central" : "forward"],
        `${kind} ${central ? "central" : "forward"}`,
      );
    }
  });
}

// On the traces the central bias is O(Δt²) sample by sample. The forward bias is
// Δt·(1/k)Σ_s Σ_i (J_i s)(sᵀ∇²r_i s) + O(Δt²): its first-order coefficient is a
// zero-mean random number (odd moments of s vanish) that can be arbitrarily close
// to 0 for a fixed sample, so per-group trace ratios of the forward scheme are not
// asserted; the tangent test above covers its O(Δt) behaviour.
test("pc central: trace bias vs jvp with the same directions is O(Δt²) per group", async () => {
  for (const kind of ["gaussian", "rademacher"] as const) {
    const seed = 11, step = 0;
    const jvp = await estimateTraces(plan, { method: "jvp", k: K, seed, step, kind });
    const diffs: Record<string, number[]> = { r: [], u: [], ut: [] };
    for (const dt of DTS) {
      const pc = await estimateTraces(plan, {
        method: "pc",
        k: K,
        seed,
        step,
        kind,
        dt,
        central: true,
      });
      for (const g of GROUPS) diffs[g].push(Math.abs(pc[g] - jvp[g]));
    }
    for (const g of GROUPS) assertRatios(diffs[g], RATIO.central, `${kind} trace ${g}`);
  }
});
