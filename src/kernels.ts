/**
 * The typed kernel registry: every kernel names its WGSL file, entry point and
 * bindings, and {@linkcode kernelSource} gives the source a variant compiles from
 * (src/pipelines.ts compiles and caches it).
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
import reduceSrc from "../shaders/reduce.wgsl" with { type: "text" };
import subgroupSrc from "../shaders/subgroup.wgsl" with { type: "text" };
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
  /**
   * Whether reduce.wgsl (workgroup sums: `blockSum`) is prepended, or subgroup.wgsl
   * where the device has subgroups ({@linkcode Variant.subgroups}).
   */
  reduce?: boolean;
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

const ntk = (entry: string, bindings: Record<number, BindingKind>): KernelDef => ({
  source: ntkSrc,
  entry,
  common: false,
  reduce: true,
  bindings: { 0: "uniform", ...bindings },
});

const lbfgs = (entry: string, bindings: Record<number, BindingKind>): KernelDef => ({
  source: lbfgsSrc,
  entry,
  common: false,
  reduce: true,
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
  tangentResidual: ntk("tangentResidual", { 4: "read", 5: "read", 6: "rw" }),
  groupSums: ntk("groupSums", { 7: "read", 8: "read", 9: "rw" }),
  ntkWeights: ntk("ntkWeights", { 8: "read", 10: "read", 11: "rw", 12: "rw" }),
  stepSums: ntk("stepSums", {
    8: "read",
    16: "read",
    17: "read",
    18: "read",
    19: "rw",
    9: "rw",
    11: "rw",
    12: "rw",
  }),
  fdTangent: ntk("fdTangent", { 13: "read", 14: "read", 15: "rw" }),
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

/** WebGPU's smallest subgroup size: an adapter's `subgroupMinSize` is at least this. */
export const MIN_SUBGROUP = 4;

/** What selects a compiled variant of a kernel. */
export interface Variant {
  consts?: Consts;
  overrides?: Record<string, number>;
  regions?: Record<string, string>;
  instances?: Instances;
  /**
   * Subgroup reductions (set by {@linkcode PipelineCache} for `reduce` kernels on a
   * device with the `subgroups` feature): `min` is the adapter's smallest subgroup
   * size, `enable` whether the source opens with `enable subgroups;` (WGSL asks for
   * it and Chromium's compiler requires it; the naga of Deno 2.9.6 rejects it and
   * takes subgroup builtins without it). `false` keeps the tree (a tuning's choice).
   */
  subgroups?: { min: number; enable: boolean } | false;
}

/** The `Layer` struct (shaders/layer.wgsl) that the per-layer kernels' uniform holds. */
export const LAYER_STRUCT_WGSL: string = layerSrc;

/** The source a kernel compiles from, after specialisation. */
export function kernelSource(name: KernelName, v: Variant = {}): string {
  const k: KernelDef = KERNELS[name];
  const sg = k.reduce && v.subgroups ? v.subgroups : undefined;
  const src = [
    sg?.enable ? "enable subgroups;" : "",
    k.common ? commonSrc : "",
    k.groups ? groupsSrc : "",
    k.layer ? layerSrc : "",
    k.reduce
      ? (sg ? specialize(subgroupSrc, { SG_MIN: Math.max(MIN_SUBGROUP, sg.min) }) : reduceSrc)
      : "",
    k.source,
  ].join("\n");
  return unroll(specialize(src, v.consts, v.regions, v.instances));
}
