/**
 * The weight-gradient side of a plan: the column slices the per-point loss
 * gradients are summed over, the per-slice weight-gradient dispatches (their tile
 * shapes come from `engine.tuning`), the gather of the slices into the flat
 * gradient and the packing of flat parameters into the kernels' layouts. Apart
 * from `core.ts` because it is where the tuning meets the plan: the kernels'
 * tiles and slices change here without touching the buffers or the Taylor passes.
 *
 * @module
 */
/// <reference types="npm:@webgpu/types@0.1.74" />
import type { Dispatch } from "../engine.ts";
import type { BatchLayout, PackedLayer } from "../layout.ts";
import { GRAD_CHUNK, layerTiles } from "../tuning.ts";
import type { PlanCore, UniformMaker } from "./core.ts";
import { ceilDiv } from "./layers.ts";
import { layerFields } from "./layer_uniforms.ts";

/**
 * Weight-gradient slices, (first vec4, end vec4, group, 0) each: every group's
 * columns cut into runs of at most `sliceLen` vec4.
 */
export function gradientSlices(batch: BatchLayout, sliceLen: number): Uint32Array {
  const sl: number[] = [];
  batch.groups.forEach((g, gi) => {
    const c0 = g.col / 4, c1 = (g.col + g.channels * g.np) / 4;
    for (let c = c0; c < c1; c += sliceLen) sl.push(c, Math.min(c1, c + sliceLen), gi, 0);
  });
  return Uint32Array.from(sl);
}

/** Per-slice weight gradients of every layer, scaled by each point's loss factor α. */
export async function weightGradSeq(p: PlanCore, uniform: UniformMaker): Promise<Dispatch[]> {
  const { net, batch, L, b } = p;
  const ld4 = batch.cols / 4, P = net.paramCount, nslices = p.slices.length / 4;
  const seq: Dispatch[] = [];
  const gwg = p.engine.tuning.gradWG ?? 64;
  const shared = p.engine.tuning.gradShared;
  for (let l = 1; l <= L; l++) {
    const lay = net.layers[l - 1];
    const [TM, TK] = layerTiles(p.engine.tuning, lay.out).gradTile;
    // Register kernel: one invocation per TM × TK tile; shared: one workgroup per block of SR × SK tiles.
    const [bm, bk] = shared ? [TM * shared[0], TK * shared[1]] : [TM, TK];
    const tilesK = ceilDiv(lay.in + 1, bk);
    const u = uniform("weightGrad", {
      M: lay.out,
      K1: lay.in + 1,
      ld4,
      outOff: lay.w,
      partStride: P,
      tilesK,
    }, `weightGrad.l${l}`);
    seq.push(
      await p.engine.dispatch(
        shared ? "weightGradShared" : "weightGrad",
        shared
          ? { consts: { TM, TK, SR: shared[0], SK: shared[1], CT: GRAD_CHUNK } }
          : { consts: { TM, TK }, overrides: { WG: gwg } },
        { 0: u, 1: p.DZ[l], 2: p.A[l - 1], 3: b.alpha, 4: b.slices, 5: b.partial },
        [ceilDiv(ceilDiv(lay.out, bm) * tilesK, shared ? 1 : gwg), nslices],
        `weightGrad.l${l}`,
      ),
    );
  }
  return seq;
}

/** Invocations per workgroup of the per-parameter kernels (adam, gatherGradient, packWeights). */
export const PARAM_WG = 64;

/**
 * Each group's run of slices, (first, end, 0, 0) for up to 8 groups (the
 * per-parameter kernels' `groups` field; absent groups are empty runs).
 */
export function groupSliceRanges(slices: Uint32Array): number[] {
  const r = new Array<number>(32).fill(0);
  for (let s = 0; s < slices.length / 4; s++) {
    const g = slices[4 * s + 2];
    if (r[4 * g + 1] === 0) r[4 * g] = s;
    r[4 * g + 1] = s + 1;
  }
  return r;
}

/** Workgroups of one layer's per-parameter dispatch: one invocation per element of its (out, in + 1) block. */
export const layerWorkgroups = (lay: PackedLayer): number =>
  ceilDiv(lay.out * (lay.in + 1), PARAM_WG);

/** The per-layer uniforms {@linkcode gatherDispatch} and {@linkcode packDispatch} read. */
export function gatherUniforms(p: PlanCore, uniform: UniformMaker, label: string): GPUBuffer[] {
  return p.net.layers.map((lay, i) =>
    uniform("gatherGradient", {
      count: p.net.paramCount,
      groups: groupSliceRanges(p.slices),
      ...layerFields(lay),
    }, `${label}.l${i + 1}`)
  );
}

/** Sums the slices into the flat gradient b.grad, each group's weighted by `lambda` (one dispatch per layer). */
export function gatherDispatch(
  p: PlanCore,
  us: GPUBuffer[],
  lambda: GPUBuffer,
  label: string,
): Promise<Dispatch[]> {
  const b = p.b;
  return Promise.all(p.net.layers.map((lay, i) =>
    p.engine.dispatch(
      "gatherGradient",
      { consts: { GROUPS: p.G }, overrides: { WG: PARAM_WG } },
      { 0: us[i], 2: b.partial, 4: lambda, 9: b.grad },
      [layerWorkgroups(lay)],
      `${label}.l${i + 1}`,
    )
  ));
}

/** Packs the flat parameters in `flat` into the forward and backward layouts (one dispatch per layer). */
export function packDispatch(
  p: PlanCore,
  us: GPUBuffer[],
  flat: GPUBuffer,
  packF: GPUBuffer,
  packB: GPUBuffer,
  label: string,
): Promise<Dispatch[]> {
  return Promise.all(p.net.layers.map((lay, i) =>
    p.engine.dispatch(
      "packWeights",
      { overrides: { WG: PARAM_WG } },
      { 0: us[i], 10: flat, 7: packF, 8: packB },
      [layerWorkgroups(lay)],
      `${label}.l${i + 1}`,
    )
  ));
}
