/**
 * The batched JVP sequence of a plan (design §4): k directions ride in the
 * dispatch's third grid dimension through one tangent forward per layer
 * (shaders/taylor.wgsl `taylorTangent`; the tangent buffers T0 and T1 alternate
 * by layer), then one tangent residual per group (shaders/ntk.wgsl) writes row j
 * of Y = J s_j. Apart from `ntk.ts` because it is the one estimator with its own
 * pass through the network and its own buffers; the others reuse the forward and
 * backward.
 *
 * @module
 */
/// <reference types="npm:@webgpu/types@0.1.74" />
import type { Dispatch } from "../engine.ts";
import type { PlanCore, UniformMaker } from "./core.ts";
import { ceilDiv, forwardFields, layerLaunch } from "./layers.ts";

/**
 * Y rows = J s_j along the k directions in b.dirs (needs a forward and residual
 * pass at θ first, for Z and the seeds, and the plan's tangent buffers).
 */
export async function jvpDispatches(
  p: PlanCore,
  uniform: UniformMaker,
  k: number,
): Promise<Dispatch[]> {
  const { net, batch, L, b } = p;
  const ld4 = batch.cols / 4;
  const rows = Math.max(...net.sizes.slice(1));
  const dirT4 = rows * ld4;
  const T = [b.T0, b.T1];
  const seq: Dispatch[] = [];
  for (let l = 1; l <= L; l++) {
    const t = layerLaunch(p, l, k);
    const u = uniform("taylorTangent", {
      ...forwardFields(p, l, t),
      dirW4: net.packedF / 4,
      dirT4,
      first: l === 1 ? 1 : 0,
    }, `tangent.l${l}`);
    seq.push(
      await p.engine.dispatch(
        "taylorTangent",
        t.variant,
        {
          0: u,
          1: b.packF,
          2: p.A[l - 1],
          8: b.dirs,
          9: T[(l + 1) % 2],
          6: p.Z[l],
          10: T[l % 2],
        },
        t.grid,
        `tangent.l${l}`,
      ),
    );
  }
  for (let gi = 0; gi < p.G; gi++) {
    const g = batch.groups[gi];
    const u = uniform("tangentResidual", {
      np4: g.np / 4,
      ld4: p.yStride / 4,
      col4: g.col / 4,
      pointOff4: g.pointOff / 4,
      rowStride: dirT4,
      M: p.outputs,
      ldU4: ld4,
    }, `tangentResidual.${g.name}`);
    seq.push(
      await p.engine.dispatch(
        "tangentResidual",
        { consts: { C: g.channels }, overrides: { WG: 64 } },
        { 0: u, 4: p.DZ[L], 5: T[L % 2], 6: b.Y },
        [ceilDiv(g.np / 4, 64), 1, k],
        `tangentResidual.${g.name}`,
      ),
    );
  }
  return seq;
}
