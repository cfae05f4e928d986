/**
 * The workgroup sums of ntk.wgsl (`groupSums`, `stepSums`) with subgroup operations
 * (shaders/subgroup.wgsl) and without. Deno's software adapters do not offer the
 * `subgroups` feature, so the engine keeps the tree there (checked here), and the
 * subgroup source is run in headless Chromium, whose SwiftShader adapter offers it
 * (tests/chromium.ts): both variants against float64 sums on groups longer and
 * shorter than the workgroup. Needs a WebGPU adapter in Deno and Chromium (installed
 * with apt-get as root where missing); fails with the reason otherwise.
 */
import assert from "node:assert/strict";
import { type KernelName, kernelSource, type Variant } from "../src/kernels.ts";
import { PipelineCache } from "../src/pipelines.ts";
import { gaussianAt } from "../src/random.ts";
import { assertAllClose } from "./assert_close.ts";
import { moduleEngine } from "./gpu_helpers.ts";
import { candidates, DEFAULT_TUNING, validTuning } from "../src/tuning.ts";
import { type BindingSpec, type KernelRun, runInChromium } from "./chromium.ts";

const engine = await moduleEngine();

const test = (name: string, fn: () => void | Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

// Three groups: longer than the workgroup (256), about it, and shorter.
const counts = [700, 300, 45];
const offsets = [0, 700, 1000];
const stride = 1045, rows = 2, G = counts.length;
const f32 = (x: number) => Math.fround(x);
const noise = (stream: number, n: number, positive = false) =>
  Array.from({ length: n }, (_, i) => {
    const v = gaussianAt(11, stream, 0, i, 0);
    return f32(positive ? Math.abs(v) + 0.1 : v);
  });
const res = noise(1, stride);
const lhs = noise(2, rows * stride, true);
const rhs = noise(3, stride);
const groups = counts.flatMap((n, g) => [offsets[g], n, n, 0]);

/** Σ over group g of row j of `v` (length rows × stride), of f(value, index in the row). */
function groupSum(v: number[], j: number, g: number, f: (x: number, i: number) => number) {
  let s = 0;
  for (let i = offsets[g]; i < offsets[g] + counts[g]; i++) s += f(v[j * stride + i], i);
  return s;
}

interface Case {
  name: KernelName;
  consts: Record<string, number>;
  bindings: BindingSpec[];
  workgroups: [number, number?];
  /** Expected float64 outputs by binding. */
  expect: Record<number, number[]>;
}

const zeros = (n: number) => new Array(n).fill(0);

/** A case of kernel `name`: its uniform `P` (binding 0) holding `uniform`, then `bindings`. */
function kernelCase(
  name: KernelName,
  uniform: Record<string, number>,
  bindings: BindingSpec[],
  expect: Record<number, number[]>,
  o: { consts?: Record<string, number>; workgroups?: [number, number?] } = {},
): Case {
  const bytes = [...new Uint8Array(engine.uniformBytes(name, uniform))];
  return {
    name,
    consts: o.consts ?? {},
    bindings: [{ binding: 0, kind: "uniform", type: "u8", data: bytes }, ...bindings],
    workgroups: o.workgroups ?? [1],
    expect,
  };
}

/** setWeights of ntk.wgsl from a zero state: traces, means and λ. */
function weights(rowSums: number[], scale: number) {
  const means = rowSums.map((s, g) => s * scale / counts[g]);
  const total = means.reduce((a, b) => a + b, 0);
  return {
    state: [...rowSums.map((s) => s * scale), ...means, 1],
    lambda: means.map((m) => total / m),
  };
}

function stepCase(fd: boolean): Case {
  const fdScale = fd ? 8 : 1, scale = 0.5;
  const value = (x: number, i: number) => fd ? ((x - rhs[i]) * fdScale) ** 2 : x;
  const sums = Array.from(
    { length: rows },
    (_, j) => counts.map((_, g) => groupSum(lhs, j, g, value)),
  );
  const rowSums = counts.map((_, g) => sums[0][g] + sums[1][g]);
  const w = weights(rowSums, scale);
  const uniform = { G, rows, rowStride: stride, rhsRows: 0, scale, beta: 0.9, fdScale };
  return kernelCase("stepSums", uniform, [
    { binding: 8, kind: "read", type: "u32", data: groups },
    { binding: 16, kind: "read", type: "f32", data: res },
    { binding: 17, kind: "read", type: "f32", data: lhs },
    { binding: 18, kind: "read", type: "f32", data: rhs },
    { binding: 19, kind: "rw", type: "f32", data: zeros(G) },
    { binding: 9, kind: "rw", type: "f32", data: zeros(rows * G) },
    { binding: 11, kind: "rw", type: "f32", data: zeros(2 * G + 1) },
    { binding: 12, kind: "rw", type: "f32", data: zeros(G) },
  ], {
    19: counts.map((_, g) => groupSum(res, 0, g, (x) => x * x)),
    9: sums.flat(),
    11: w.state,
    12: w.lambda,
  }, { consts: { TRACES: 1, SQUARE: fd ? 1 : 0, FD: fd ? 1 : 0 } });
}

function groupCase(): Case {
  const squares = Array.from(
    { length: rows },
    (_, j) => counts.map((_, g) => groupSum(lhs, j, g, (x) => x * x)),
  );
  return kernelCase(
    "groupSums",
    { G, rowStride: stride },
    [
      { binding: 7, kind: "read", type: "f32", data: lhs },
      { binding: 8, kind: "read", type: "u32", data: groups },
      { binding: 9, kind: "rw", type: "f32", data: zeros(rows * G) },
    ],
    { 9: squares.flat() },
    { consts: { SQUARE: 1 }, workgroups: [G, rows] },
  );
}

// The L-BFGS line and pair kernels: one workgroup over a flat vector of n values.
const n = 5000, m = 2, slot = 1;
const pos = (stream: number) => noise(stream, n, true);
const [g, q, x0, sv, g0, dv] = [4, 5, 6, 7, 8, 9].map(pos);
const params = x0.map((x, i) => f32(x + sv[i]));
const yv = sv.map((s, i) => f32(s + 0.3 * g0[i]));
const gradP = g0.map((x, i) => f32(x + yv[i]));
const dot = (a: number[], b: number[]) => a.reduce((t, x, i) => t + x * b[i], 0);
const scalLen = 8 + 2 * m;

/** An L-BFGS case: one workgroup, and the scalars (binding 4) zeroed and read back. */
const lbfgsCase = (
  name: KernelName,
  uniform: Record<string, number>,
  bindings: BindingSpec[],
  expect: Record<number, number[]>,
) =>
  kernelCase(name, uniform, [
    ...bindings,
    { binding: 4, kind: "rw", type: "f32", data: zeros(scalLen) },
  ], expect);

const lineStart = () =>
  lbfgsCase("lineStart", { count: n }, [
    { binding: 6, kind: "read", type: "f32", data: q.map((x) => -x) },
    { binding: 7, kind: "read", type: "f32", data: params },
    { binding: 5, kind: "read", type: "f32", data: g },
    { binding: 8, kind: "rw", type: "f32", data: zeros(n) },
    { binding: 9, kind: "rw", type: "f32", data: zeros(n) },
    { binding: 10, kind: "rw", type: "f32", data: zeros(n) },
  ], { 8: q, 4: [0, 0, dot(g, g), dot(g, q)] });

const lossSums = [3, 0.5, 0.25], lambda = [1, 4, 2];
const lineValues = () =>
  lbfgsCase("lineValues", { count: n, G }, [
    { binding: 13, kind: "read", type: "f32", data: lossSums },
    { binding: 14, kind: "read", type: "f32", data: lambda },
    { binding: 15, kind: "read", type: "u32", data: groups },
    { binding: 5, kind: "read", type: "f32", data: g },
    { binding: 11, kind: "read", type: "f32", data: dv },
  ], { 4: [lossSums.reduce((t, l, j) => t + lambda[j] * l / counts[j], 0), dot(g, dv)] });

function pairUpdate(): Case {
  const sy = dot(sv, yv), yy = dot(yv, yv);
  const scal = zeros(scalLen);
  [scal[4], scal[5], scal[6], scal[8 + slot]] = [sy / yy, sy, yy, 1 / sy];
  return lbfgsCase("pairUpdate", { count: n, m }, [
    { binding: 1, kind: "read", type: "u32", data: [2, slot, 0, 0] },
    { binding: 7, kind: "read", type: "f32", data: params },
    { binding: 16, kind: "read", type: "f32", data: x0 },
    { binding: 5, kind: "read", type: "f32", data: gradP },
    { binding: 17, kind: "read", type: "f32", data: g0 },
    { binding: 18, kind: "rw", type: "f32", data: zeros(2 * m * n) },
  ], { 4: scal });
}

const SUBGROUPS: Variant["subgroups"] = { min: 4, enable: true };

test("subgroups: Deno's adapter without the feature keeps the tree; naga parses the subgroup sums", async () => {
  const has = engine.device.features.has("subgroups");
  assert.equal(
    engine.cache.subgroupMin > 0,
    has,
    "subgroup sums exactly where the device has them",
  );
  assert.doesNotMatch(kernelSource("stepSums"), /subgroupAdd/);
  const sg = kernelSource("stepSums", { subgroups: { min: 4, enable: false } });
  assert.match(sg, /subgroupAdd/);
  // Kernels without workgroup sums take no subgroup code.
  assert.doesNotMatch(
    kernelSource("adam", { subgroups: SUBGROUPS }),
    /subgroupAdd|enable subgroups/,
  );
  // The subgroup source (without the directive Deno's naga refuses) compiles where the
  // device has the feature and is refused for the missing capability where it does not.
  const d = engine.device;
  d.pushErrorScope("validation");
  const info = await d.createShaderModule({ code: sg }).getCompilationInfo();
  await d.popErrorScope();
  const errors = info.messages.filter((m) => m.type === "error").map((m) => m.message).join("\n");
  if (has) assert.equal(errors, "");
  else assert.match(errors, /SUBGROUP/, `expected a missing-capability error, got: ${errors}`);
  // A cache on a device without the feature never asks for subgroup sums.
  assert.equal(new PipelineCache(d, 32).subgroupMin, has ? 32 : 0);
});

test("subgroups: every workgroup sum (NTK and L-BFGS kernels) in Chromium, tree and subgroups, matches float64", async () => {
  const cases = [
    stepCase(false),
    stepCase(true),
    groupCase(),
    lineStart(),
    lineValues(),
    pairUpdate(),
  ];
  const runs: KernelRun[] = cases.flatMap((c) =>
    [undefined, SUBGROUPS].map((subgroups) => ({
      code: kernelSource(c.name, { consts: c.consts, subgroups }),
      entry: c.name,
      bindings: c.bindings,
      workgroups: c.workgroups,
      read: Object.keys(c.expect).map(Number),
    }))
  );
  assert.match(runs[1].code, /^enable subgroups;/);
  const { adapter, outputs } = await runInChromium(runs);
  assert.ok(
    adapter.features.includes("subgroups"),
    `Chromium's adapter (${adapter.vendor}) offers no subgroups: ${adapter.features.join(", ")}`,
  );
  console.error(
    `Chromium adapter: ${adapter.vendor}, subgroup sizes ${adapter.subgroupMinSize}–${adapter.subgroupMaxSize}`,
  );
  cases.forEach((c, k) => {
    for (const [v, out] of [["tree", outputs[2 * k]], ["subgroups", outputs[2 * k + 1]]] as const) {
      for (const [b, want] of Object.entries(c.expect)) {
        assertAllClose(out[Number(b)].slice(0, want.length), want, {
          rtol: 1e-5,
          atol: 0,
          name: `${c.name} ${JSON.stringify(c.consts)} ${v}: binding ${b}`,
        });
      }
    }
  });
});

/** A device that only records the shader code it is given (for the cache's choices). */
function recordingDevice(features: string[], refuseEnable: boolean) {
  const codes: string[] = [];
  const device = {
    features: new Set(features),
    pushErrorScope() {},
    popErrorScope: () => Promise.resolve(null),
    createShaderModule({ code }: { code: string }) {
      codes.push(code);
      const refused = refuseEnable && code.startsWith("enable subgroups;");
      return {
        getCompilationInfo: () =>
          Promise.resolve({
            messages: refused ? [{ type: "error", message: "not yet supported" }] : [],
          }),
      };
    },
    createBindGroupLayout: () => ({}),
    createPipelineLayout: () => ({}),
    createComputePipelineAsync: () => Promise.resolve({}),
  };
  return { device: device as unknown as GPUDevice, codes };
}

test("subgroups: the pipeline cache takes them where offered, asks once for the directive, and a tuning can refuse them", async () => {
  for (const refuseEnable of [false, true]) {
    const { device, codes } = recordingDevice(["subgroups"], refuseEnable);
    const cache = new PipelineCache(device, 32);
    assert.equal(cache.subgroupMin, 32);
    await cache.get("stepSums", { consts: { TRACES: 1 } });
    await cache.get("lineStart");
    await cache.get("adam");
    await cache.get("stepSums", { consts: { TRACES: 1 }, subgroups: false });
    const [probe, step, line, adam, tree] = codes;
    assert.equal(codes.length, 5, "one directive probe, four kernels");
    assert.match(probe, /^enable subgroups;/);
    for (const c of [step, line]) {
      assert.match(c, /subgroupAdd/);
      assert.match(c, /const SG_MIN: u32 = 32u;/);
      assert.equal(c.startsWith("enable subgroups;"), !refuseEnable);
    }
    assert.doesNotMatch(adam, /subgroupAdd/);
    assert.doesNotMatch(tree, /subgroupAdd/);
    assert.match(tree, /partialSums\[li\] \+= partialSums\[li \+ h\]/);
  }
  const { device, codes } = recordingDevice([], false);
  await new PipelineCache(device, 32).get("stepSums");
  assert.equal(codes.length, 1);
  assert.doesNotMatch(codes[0], /subgroupAdd/);
  // The tuner times the tree against subgroup sums only where the adapter has them.
  const off = (f: string[]) => candidates(undefined, f).filter((t) => t.subgroups === false);
  assert.deepEqual(off(["subgroups"]), [{ ...DEFAULT_TUNING, subgroups: false }]);
  assert.deepEqual(off([]), []);
  assert.ok(validTuning({ ...DEFAULT_TUNING, subgroups: false }));
  assert.ok(!validTuning({ ...DEFAULT_TUNING, subgroups: true }));
});
