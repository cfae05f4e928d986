/**
 * The typed kernel registry and the pipeline cache.
 *
 * Every kernel names its WGSL file, entry point and bindings; the cache keys a
 * compiled pipeline by kernel, specialisation constants, overrides and generated
 * regions — what changes the code — never by problem size.
 *
 * @module
 */
/// <reference types="npm:@webgpu/types@0.1.74" />
import commonSrc from "../shaders/common.wgsl" with { type: "text" };
import taylorSrc from "../shaders/taylor.wgsl" with { type: "text" };
import gradSrc from "../shaders/weight_grad.wgsl" with { type: "text" };
import residualSrc from "../shaders/residual.wgsl" with { type: "text" };
import ntkSrc from "../shaders/ntk.wgsl" with { type: "text" };
import gramSrc from "../shaders/gram.wgsl" with { type: "text" };
import groupsSrc from "../shaders/groups.wgsl" with { type: "text" };
import layerSrc from "../shaders/layer.wgsl" with { type: "text" };
import optimSrc from "../shaders/optim.wgsl" with { type: "text" };
import randomSrc from "../shaders/random.wgsl" with { type: "text" };
import causalSrc from "../shaders/causal.wgsl" with { type: "text" };
import lbfgsSrc from "../shaders/lbfgs.wgsl" with { type: "text" };
import embedSrc from "../shaders/embed.wgsl" with { type: "text" };
import { type Consts, type Instances, specialize } from "./specialize.ts";
import { unroll } from "./unroll.ts";

/** How a kernel uses a binding. */
export type BindingKind = "uniform" | "read" | "rw";

/** A registered kernel. */
export interface KernelDef {
  /** WGSL source of its family (common.wgsl is prepended when `common`). */
  source: string;
  entry: string;
  common: boolean;
  /** Whether groups.wgsl (a workgroup's group in a one-dispatch-for-every-group kernel) is prepended. */
  groups?: boolean;
  /** Whether layer.wgsl (the per-layer kernels' `Layer` uniform member) is prepended. */
  layer?: boolean;
  bindings: Record<number, BindingKind>;
}

const taylor = (entry: string, bindings: Record<number, BindingKind>): KernelDef => ({
  source: taylorSrc,
  entry,
  common: true,
  groups: true,
  bindings: { 0: "uniform", 1: "read", ...bindings },
});

/** Name of a registered kernel. */
export type KernelName =
  | "taylorForward"
  | "taylorBackward"
  | "taylorTangent"
  | "weightGrad"
  | "weightGradShared"
  | "residual"
  | "gramNorms"
  | "tangentResidual"
  | "groupSums"
  | "ntkWeights"
  | "stepSums"
  | "fdTangent"
  | "adam"
  | "gatherGradient"
  | "packWeights"
  | "perturb"
  | "directions"
  | "residualNoise"
  | "causalWeights"
  | "compactDots"
  | "compactSolve"
  | "compactCombine"
  | "lineStart"
  | "lineTrial"
  | "lineValues"
  | "pairUpdate"
  | "pairGramSum"
  | "embedFourier";

const lbfgs = (entry: string, bindings: Record<number, BindingKind>): KernelDef => ({
  source: lbfgsSrc,
  entry,
  common: false,
  bindings: { 0: "uniform", ...bindings },
});

/** Every kernel of the engine. */
export const KERNELS: Record<KernelName, KernelDef> = {
  compactDots: lbfgs("compactDots", { 1: "read", 2: "read", 5: "read", 21: "rw" }),
  compactSolve: lbfgs("compactSolve", { 1: "read", 4: "rw", 22: "read", 19: "rw" }),
  compactCombine: lbfgs("compactCombine", { 2: "read", 5: "read", 20: "read", 3: "rw" }),
  lineStart: lbfgs("lineStart", {
    6: "read",
    7: "read",
    5: "read",
    8: "rw",
    9: "rw",
    10: "rw",
    4: "rw",
  }),
  lineTrial: lbfgs("lineTrial", { 16: "read", 11: "read", 12: "rw" }),
  lineValues: lbfgs("lineValues", {
    13: "read",
    14: "read",
    15: "read",
    5: "read",
    11: "read",
    4: "rw",
  }),
  pairUpdate: lbfgs("pairUpdate", {
    1: "read",
    7: "read",
    16: "read",
    5: "read",
    17: "read",
    18: "rw",
    4: "rw",
  }),
  pairGramSum: lbfgs("pairGramSum", { 1: "read", 22: "read", 19: "rw" }),
  taylorForward: taylor("taylorForward", { 2: "read", 3: "rw", 4: "rw" }),
  taylorBackward: taylor("taylorBackward", { 5: "read", 6: "read", 7: "rw" }),
  taylorTangent: taylor("taylorTangent", { 2: "read", 8: "read", 9: "read", 6: "read", 10: "rw" }),
  weightGrad: {
    source: gradSrc,
    entry: "weightGrad",
    common: false,
    bindings: { 0: "uniform", 1: "read", 2: "read", 3: "read", 4: "read", 5: "rw" },
  },
  weightGradShared: {
    source: gradSrc,
    entry: "weightGradShared",
    common: false,
    bindings: { 0: "uniform", 1: "read", 2: "read", 3: "read", 4: "read", 5: "rw" },
  },
  residual: {
    source: residualSrc,
    entry: "residual",
    common: false,
    groups: true,
    bindings: { 0: "uniform", 1: "read", 2: "read", 3: "rw", 4: "rw", 5: "rw" },
  },
  embedFourier: {
    source: embedSrc,
    entry: "embedFourier",
    common: false,
    bindings: { 0: "uniform", 1: "read", 2: "read", 3: "read", 4: "rw" },
  },
  causalWeights: {
    source: causalSrc,
    entry: "causalWeights",
    common: false,
    bindings: { 0: "uniform", 1: "read", 2: "read", 3: "rw", 4: "rw" },
  },
  gramNorms: {
    source: gramSrc,
    entry: "gramNorms",
    common: false,
    groups: true,
    bindings: { 0: "uniform", 1: "read", 2: "read", 3: "rw" },
  },
  tangentResidual: {
    source: ntkSrc,
    entry: "tangentResidual",
    common: false,
    bindings: { 0: "uniform", 4: "read", 5: "read", 6: "rw" },
  },
  groupSums: {
    source: ntkSrc,
    entry: "groupSums",
    common: false,
    bindings: { 0: "uniform", 7: "read", 8: "read", 9: "rw" },
  },
  ntkWeights: {
    source: ntkSrc,
    entry: "ntkWeights",
    common: false,
    bindings: { 0: "uniform", 8: "read", 10: "read", 11: "rw", 12: "rw" },
  },
  stepSums: {
    source: ntkSrc,
    entry: "stepSums",
    common: false,
    bindings: {
      0: "uniform",
      8: "read",
      16: "read",
      17: "read",
      18: "read",
      19: "rw",
      9: "rw",
      11: "rw",
      12: "rw",
    },
  },
  fdTangent: {
    source: ntkSrc,
    entry: "fdTangent",
    common: false,
    bindings: { 0: "uniform", 13: "read", 14: "read", 15: "rw" },
  },
  adam: {
    source: optimSrc,
    entry: "adam",
    common: false,
    layer: true,
    bindings: {
      0: "uniform",
      2: "read",
      4: "read",
      5: "rw",
      6: "rw",
      7: "rw",
      8: "rw",
      14: "rw",
    },
  },
  gatherGradient: {
    source: optimSrc,
    entry: "gatherGradient",
    common: false,
    layer: true,
    bindings: { 0: "uniform", 2: "read", 4: "read", 9: "rw" },
  },
  packWeights: {
    source: optimSrc,
    entry: "packWeights",
    common: false,
    layer: true,
    bindings: { 0: "uniform", 10: "read", 7: "rw", 8: "rw" },
  },
  perturb: {
    source: optimSrc,
    entry: "perturb",
    common: false,
    layer: true,
    bindings: { 0: "uniform", 11: "read", 12: "read", 13: "rw" },
  },
  directions: {
    source: randomSrc,
    entry: "directions",
    common: false,
    layer: true,
    bindings: { 0: "uniform", 2: "rw" },
  },
  residualNoise: {
    source: randomSrc,
    entry: "residualNoise",
    common: false,
    layer: true,
    bindings: { 0: "uniform", 3: "read", 4: "rw", 5: "rw" },
  },
};

/** What selects a compiled variant of a kernel. */
export interface Variant {
  consts?: Consts;
  overrides?: Record<string, number>;
  regions?: Record<string, string>;
  instances?: Instances;
}

/** The `Layer` struct (shaders/layer.wgsl) that the per-layer kernels' uniform holds. */
export const LAYER_STRUCT_WGSL: string = layerSrc;

/** The source a kernel compiles from, after specialisation. */
export function kernelSource(name: KernelName, v: Variant = {}): string {
  const k: KernelDef = KERNELS[name];
  const src = [
    k.common ? commonSrc : "",
    k.groups ? groupsSrc : "",
    k.layer ? layerSrc : "",
    k.source,
  ].join("\n");
  return unroll(specialize(src, v.consts, v.regions, v.instances));
}

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
  /** Number of pipelines compiled (cache misses). */
  compiled = 0;

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** The pipeline of `name` for variant `v`, compiled once. */
  get(name: KernelName, v: Variant = {}): Promise<CompiledKernel> {
    const key = JSON.stringify([
      name,
      v.consts ?? {},
      v.overrides ?? {},
      v.regions ?? {},
      v.instances ?? null,
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
