/**
 * The pipeline cache: compiles each kernel variant once (src/kernels.ts gives its
 * source) and keys it by kernel, specialisation constants, overrides, generated
 * regions and subgroup use — what changes the code — never by problem size.
 *
 * @module
 */
/// <reference types="npm:@webgpu/types@0.1.74" />
import {
  type KernelDef,
  type KernelName,
  KERNELS,
  kernelSource,
  MIN_SUBGROUP,
  type Variant,
} from "./kernels.ts";

/** A compiled kernel: its pipeline and bind group layout. */
export interface CompiledKernel {
  name: KernelName;
  label: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  def: KernelDef;
}

/** Caches pipelines by kernel and variant; counts compilations. */
export class PipelineCache {
  readonly #device: GPUDevice;
  readonly #cache = new Map<string, Promise<CompiledKernel>>();
  #enable?: Promise<boolean>;
  /** Number of pipelines compiled (cache misses). */
  compiled = 0;
  /**
   * The adapter's smallest subgroup size when the device has the `subgroups` feature
   * (the `reduce` kernels then sum with subgroup operations), else 0.
   */
  readonly subgroupMin: number;

  constructor(device: GPUDevice, subgroupMin = MIN_SUBGROUP) {
    this.#device = device;
    this.subgroupMin = device.features.has("subgroups") ? Math.max(MIN_SUBGROUP, subgroupMin) : 0;
  }

  /** Whether this device's compiler takes `enable subgroups;` (asked once). */
  #enableDirective(): Promise<boolean> {
    this.#enable ??= (async () => {
      const d = this.#device;
      d.pushErrorScope("validation");
      const m = d.createShaderModule({
        label: "Shader.subgroupsProbe",
        code: "enable subgroups;\n@compute @workgroup_size(1) fn probe() {}",
      });
      const info = await m.getCompilationInfo?.();
      const err = await d.popErrorScope();
      return !err && !(info?.messages ?? []).some((x) => x.type === "error");
    })();
    return this.#enable;
  }

  /** The pipeline of `name` for variant `v`, compiled once. */
  async get(name: KernelName, v: Variant = {}): Promise<CompiledKernel> {
    if (KERNELS[name].reduce && this.subgroupMin > 0 && v.subgroups === undefined) {
      v = { ...v, subgroups: { min: this.subgroupMin, enable: await this.#enableDirective() } };
    }
    const key = JSON.stringify([
      name,
      v.consts ?? {},
      v.overrides ?? {},
      v.regions ?? {},
      v.instances ?? null,
      v.subgroups ?? null,
    ]);
    let p = this.#cache.get(key);
    if (!p) {
      p = this.#compile(name, v);
      this.#cache.set(key, p);
      p.catch(() => this.#cache.delete(key));
    }
    return p;
  }

  async #compile(name: KernelName, v: Variant): Promise<CompiledKernel> {
    this.compiled++;
    const def: KernelDef = KERNELS[name];
    const code = kernelSource(name, v);
    const tag = Object.entries({ ...v.consts, ...v.overrides }).map(([k, x]) => `${k}=${x}`).join(
      ",",
    );
    const label = `Pipeline.${name}|${tag}`;
    const device = this.#device;
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ label: `Shader.${name}`, code });
    const info = await module.getCompilationInfo?.();
    const scopeErr = await device.popErrorScope();
    const errors = info?.messages.filter((m) => m.type === "error") ?? [];
    if (errors.length || scopeErr) {
      const where = errors.map((m) => `  ${m.lineNum}:${m.linePos} ${m.message}`).join("\n");
      const numbered = code.split("\n").map((l, i) => `${String(i + 1).padStart(4)} ${l}`).join(
        "\n",
      );
      throw new Error(
        `WGSL compile error in kernel ${name} (${label}):\n${
          where || scopeErr?.message
        }\n--- source ---\n${numbered}`,
      );
    }
    const entries: GPUBindGroupLayoutEntry[] = Object.entries(def.bindings).map(([b, kind]) => ({
      binding: Number(b),
      visibility: GPUShaderStage.COMPUTE,
      buffer: {
        type: kind === "uniform" ? "uniform" : kind === "read" ? "read-only-storage" : "storage",
      },
    }));
    const layout = device.createBindGroupLayout({ label: `${label}.layout`, entries });
    try {
      const pipeline = await device.createComputePipelineAsync({
        label,
        layout: device.createPipelineLayout({ label: `${label}.pl`, bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: def.entry, constants: v.overrides },
      });
      return { name, label, pipeline, layout, def };
    } catch (e) {
      throw new Error(
        `Pipeline creation failed for kernel ${name} (${label}): ${(e as Error).message}`,
      );
    }
  }
}
