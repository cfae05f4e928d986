/**
 * The Taylor launch helpers of a plan: which kernel variant, grid and uniform
 * fields a layer's forward, tangent and backward dispatches use. Apart from the
 * plan classes because every sequence that runs the layers (the core's forward and
 * backward, the predictor's forward, the JVP tangents) reads them, and they are
 * plain functions of the layouts and `engine.tuning`.
 *
 * @module
 */
import type { UniformValues } from "../engine.ts";
import type { Activation } from "../model.ts";
import { type TaylorLaunch, taylorLaunch } from "../launch.ts";
import type { PlanCore } from "./core.ts";
import { layerTiles } from "../tuning.ts";

const ACT_CODE: Record<Activation, number> = { tanh: 0, sin: 1 };
/** Ceiling of a / b. */
export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/**
 * The Taylor kernel variant for layer `l` (1-based): one dispatch covers every
 * group, each with a register tile for its own channel set (shaders/taylor.wgsl).
 */
export function layerLaunch(p: PlanCore, l: number, z = 1): TaylorLaunch {
  const out = l === p.L;
  const rows = p.net.layers[l - 1].out;
  const [wx, wy] = p.engine.tuning.taylorWG;
  const tm = out && rows <= 4 ? 4 : layerTiles(p.engine.tuning, rows).taylorTM;
  return taylorLaunch(p.batch.groups, rows, {
    tm,
    act: out ? 2 : ACT_CODE[p.activation],
    wg: [wx, wy],
    z,
  });
}

/** Uniform fields of layer `l` (1-based) read through the packed forward weights. */
export function forwardFields(p: PlanCore, l: number, t: TaylorLaunch): UniformValues {
  const lay = p.net.layers[l - 1];
  return {
    M: lay.out,
    K: lay.in,
    ld4: p.batch.cols / 4,
    wOff4: lay.fOff / 4,
    ldw4: lay.ldf / 4,
    bOff4: (lay.fOff + lay.in * lay.ldf) / 4,
    ngroups: t.ngroups,
    groups: t.groups,
  };
}

/**
 * Uniform fields of the backward pass from layer `l + 1` into layer `l` (1-based),
 * read through the packed backward weights of layer l + 1.
 */
export function backwardFields(p: PlanCore, l: number, t: TaylorLaunch): UniformValues {
  const next = p.net.layers[l]; // layer l+1 (0-based index l)
  return {
    M: next.in,
    K: next.out,
    ld4: p.batch.cols / 4,
    wOff4: next.bOff / 4,
    ldw4: next.ldb / 4,
    ngroups: t.ngroups,
    groups: t.groups,
  };
}
