/** Every shader file compiles on its own with its default constants (the WebGPU compiler is the judge). */
import assert from "node:assert/strict";
import { type KernelName, KERNELS, kernelSource } from "../src/kernels.ts";
import { moduleEngine } from "./gpu_helpers.ts";

const engine = await moduleEngine();

Deno.test({
  name: "shaders: every kernel's unspecialised source compiles and has its entry point",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    for (const name of Object.keys(KERNELS) as KernelName[]) {
      const code = kernelSource(name);
      assert.match(code, new RegExp(`fn ${KERNELS[name].entry}\\(`), name);
      engine.device.pushErrorScope("validation");
      const module = engine.device.createShaderModule({ label: `test.${name}`, code });
      const info = await module.getCompilationInfo();
      const err = await engine.device.popErrorScope();
      const errors = info.messages.filter((m) => m.type === "error").map((m) =>
        `${m.lineNum}:${m.linePos} ${m.message}`
      );
      assert.deepEqual(errors, [], `${name}: ${errors.join("; ")}`);
      assert.equal(err, null, `${name}: ${err?.message}`);
    }
  },
});

Deno.test({
  name: "shaders: a compile error names the kernel and gives line:column",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await assert.rejects(
      () =>
        engine.cache.get("residual", {
          regions: { pde_V: "fn pdeResidual_V(x: array<f32, 3>) -> f32 { return y; }" },
        }),
      (e: Error) =>
        /WGSL compile error in kernel residual/.test(e.message) && /\d+:\d+/.test(e.message),
    );
  },
});
