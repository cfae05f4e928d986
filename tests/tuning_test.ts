/** Every tuning candidate computes the same numbers (against the float64 reference). */
import assert from "node:assert/strict";
import { Plan } from "../src/plan.ts";
import { describeAdapter, pickAdapter } from "../src/device.ts";
import {
  adapterKey,
  candidates,
  DEFAULT_TUNING,
  defaultTuning,
  FEW_CORES,
  FEW_CORES_SOFTWARE_TUNING,
  gradSharedBytes,
  layerTiles,
  loadTuning,
  saveTuning,
  TUNING_VERSION,
  validTuning,
} from "../src/tuning.ts";
import { getProblem } from "../src/problems/mod.ts";
import { xavierInit } from "../src/model.ts";
import { samplePoints } from "../src/points.ts";
import { lossAndGradient, perPointGradNorms, residuals } from "../src/reference/mlp64.ts";
import { assertAllClose } from "./assert_close.ts";
import { moduleEngine } from "./gpu_helpers.ts";

const engine = await moduleEngine(DEFAULT_TUNING);
const wave = getProblem("wave");
// 64 rows in the first layer: the 16-row Taylor tiles apply to layers of at least 64 rows.
const sizes = [2, 64, 19, 1];
const counts = { r: 37, u: 13, ut: 9 };
const params = xavierInit(sizes, 4);
for (let i = 0; i < params.length; i++) params[i] += 0.03 * Math.cos(3 * i);
const points = samplePoints(wave, counts, 2);
const ref = {
  res: residuals(wave, sizes, "tanh", params, points),
  grad: lossAndGradient(wave, sizes, "tanh", params, points).gradient,
  norms: perPointGradNorms(wave, sizes, "tanh", params, points),
};
const scale = (xs: ArrayLike<number>) => Math.max(1, ...Array.from(xs, Math.abs));

Deno.test("tuning: candidates are valid and distinct", () => {
  const all = candidates();
  assert.ok(all.every(validTuning));
  assert.equal(new Set(all.map((c) => JSON.stringify(c))).size, all.length);
  assert.ok(!validTuning({ taylorWG: [8, 8], taylorTM: 7, gradTile: [8, 4], slice: 128 }));
});

Deno.test("tuning: a software adapter on few cores defaults to the larger tiles", () => {
  assert.equal(defaultTuning({ isFallback: true }, 2), FEW_CORES_SOFTWARE_TUNING);
  assert.equal(defaultTuning({ isFallback: true }, FEW_CORES), FEW_CORES_SOFTWARE_TUNING);
  assert.equal(defaultTuning({ isFallback: true }, FEW_CORES + 1), DEFAULT_TUNING);
  assert.equal(defaultTuning({ isFallback: false }, 2), DEFAULT_TUNING);
  assert.ok(candidates().some((c) => c === FEW_CORES_SOFTWARE_TUNING));
});

Deno.test("tuning: layers narrower than 64 rows take at most 8-row Taylor and 8 × 8 gradient tiles", () => {
  const t = FEW_CORES_SOFTWARE_TUNING;
  assert.deepEqual(layerTiles(t, 64), { taylorTM: 16, gradTile: [32, 16] });
  assert.deepEqual(layerTiles(t, 63), { taylorTM: 8, gradTile: [8, 8] });
  assert.deepEqual(layerTiles(DEFAULT_TUNING, 12), { taylorTM: 8, gradTile: [8, 8] });
  assert.deepEqual(layerTiles({ ...DEFAULT_TUNING, taylorTM: 4, gradTile: [4, 16] }, 12), {
    taylorTM: 4,
    gradTile: [4, 8],
  });
});

for (const cand of candidates()) {
  Deno.test({
    name: `tuning ${JSON.stringify(cand)} matches the reference`,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      engine.tuning = cand;
      const plan = await Plan.create(engine, { problem: wave, sizes, activation: "tanh", counts });
      plan.setParams(params);
      plan.setPoints(points);
      const ev = await plan.evaluate(true);
      const { norms } = await plan.exactNorms();
      for (const g of Object.keys(counts)) {
        assertAllClose(ev.residuals[g], ref.res[g], {
          atol: 1e-4 * scale(ref.res[g]),
          rtol: 0,
          name: `r ${g}`,
        });
        assertAllClose(norms[g], ref.norms[g], { rtol: 1e-3, atol: 1e-6, name: `norms ${g}` });
      }
      assertAllClose(ev.gradient!, ref.grad, {
        atol: 1e-3 * scale(ref.grad),
        rtol: 0,
        name: "gradient",
      });
      await plan.dispose();
    },
  });
}

Deno.test("tuning: the cache keeps entries of this kernel version only", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/tuning.json`;
  const before = Deno.env.get("SKETCHPINN_CACHE");
  Deno.env.set("SKETCHPINN_CACHE", dir);
  try {
    const a = engine.adapter;
    const mine = { ...DEFAULT_TUNING, slice: 32 };
    assert.equal(await saveTuning(a, mine, []), path);
    assert.deepEqual(await loadTuning(a), mine);
    const all = JSON.parse(await Deno.readTextFile(path));
    const key = Object.keys(all)[0];
    assert.equal(all[key].version, TUNING_VERSION);
    // An entry measured with older kernels (no or another version) is ignored.
    delete all[key].version;
    await Deno.writeTextFile(path, JSON.stringify(all));
    assert.equal(await loadTuning(a), null);
    all[key].version = TUNING_VERSION - 1;
    await Deno.writeTextFile(path, JSON.stringify(all));
    assert.equal(await loadTuning(a), null);
  } finally {
    if (before === undefined) Deno.env.delete("SKETCHPINN_CACHE");
    else Deno.env.set("SKETCHPINN_CACHE", before);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tuning: entries are kept apart by backend and limits, not the description alone", async () => {
  const dir = await Deno.makeTempDir();
  const before = Deno.env.get("SKETCHPINN_CACHE");
  Deno.env.set("SKETCHPINN_CACHE", dir);
  try {
    const gl = { ...engine.adapter, backend: "gl" };
    const vulkan = { ...gl, backend: "vulkan" };
    const otherLimits = { ...gl, limits: { ...gl.limits, maxComputeInvocationsPerWorkgroup: 1 } };
    const otherFeatures = { ...gl, features: [...gl.features, "shader-f16"].sort() };
    assert.notEqual(adapterKey(gl), adapterKey(vulkan));
    assert.notEqual(adapterKey(gl), adapterKey(otherLimits));
    assert.notEqual(adapterKey(gl), adapterKey(otherFeatures));
    const glTuning = { ...DEFAULT_TUNING, slice: 32 };
    const vkTuning = { ...DEFAULT_TUNING, taylorWG: [16, 4] as [number, number] };
    await saveTuning(gl, glTuning, []);
    assert.equal(await loadTuning(vulkan), null, "GL's tuning is not applied to Vulkan");
    assert.equal(await loadTuning(otherLimits), null, "nor to other limits");
    await saveTuning(vulkan, vkTuning, []);
    assert.deepEqual(await loadTuning(gl), glTuning);
    assert.deepEqual(await loadTuning(vulkan), vkTuning);
  } finally {
    if (before === undefined) Deno.env.delete("SKETCHPINN_CACHE");
    else Deno.env.set("SKETCHPINN_CACHE", before);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tuning: candidates the device cannot run are left out", () => {
  const small = candidates({
    maxComputeInvocationsPerWorkgroup: 128,
    maxComputeWorkgroupSizeX: 128,
    maxComputeWorkgroupSizeY: 128,
  });
  assert.ok(small.length < candidates().length && small.length > 0);
  for (const t of small) {
    assert.ok(t.taylorWG[0] * t.taylorWG[1] <= 128 && (t.gradWG ?? 64) <= 128, JSON.stringify(t));
  }
  assert.deepEqual(small[0], DEFAULT_TUNING);
  // Shared-memory weight gradients need their operand tiles to fit the workgroup memory.
  const sharedOf = (l: Record<string, number>) =>
    candidates(l).filter((t) => t.gradShared).map((t) => t.gradShared);
  assert.deepEqual(sharedOf({ maxComputeWorkgroupStorageSize: 8192 }), [[8, 8]]);
  assert.deepEqual(sharedOf({ maxComputeWorkgroupStorageSize: 8191 }), []);
  assert.deepEqual(sharedOf({ maxComputeInvocationsPerWorkgroup: 32 }), []);
  assert.equal(
    gradSharedBytes({ ...DEFAULT_TUNING, gradTile: [4, 4], gradShared: [16, 16] }),
    16384,
  );
  assert.ok(!validTuning({ ...DEFAULT_TUNING, gradShared: [8] }));
});

Deno.test("adapter choice: an explicit DENO_WEBGPU_BACKEND is honoured and named", async () => {
  const before = Deno.env.get("DENO_WEBGPU_BACKEND");
  Deno.env.set("DENO_WEBGPU_BACKEND", "gl");
  try {
    const { adapter, backend, notice } = await pickAdapter();
    assert.ok(adapter, "GL offers an adapter here");
    assert.equal(backend, "gl");
    assert.equal(notice, undefined);
  } finally {
    if (before === undefined) Deno.env.delete("DENO_WEBGPU_BACKEND");
    else Deno.env.set("DENO_WEBGPU_BACKEND", before);
  }
  const auto = await pickAdapter();
  assert.ok(auto.adapter);
  // Deno's own choice stands for hardware; a software adapter on Linux is GL's.
  if (describeAdapter(auto.adapter).isFallback && Deno.build.os === "linux") {
    assert.equal(auto.backend, "gl");
  }
  assert.equal(Deno.env.get("DENO_WEBGPU_BACKEND"), before, "the environment is restored");
});
