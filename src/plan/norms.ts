/**
 * The exact per-point gradient norms ‖∇_θ r_i‖² of a plan by the channel-Gram
 * identities (shaders/gram.wgsl), after one backward pass: one dispatch per layer
 * covers every group, with one instance of the kernel per channel count and a
 * generated `gramGroup` switch choosing a group's instance. Apart from `core.ts`
 * because only the exact NTK traces read it; the estimators never do.
 *
 * @module
 */
/// <reference types="npm:@webgpu/types@0.1.74" />
import type { Dispatch } from "../engine.ts";
import type { PlanCore, UniformMaker } from "./core.ts";
import { ceilDiv } from "./layers.ts";

/** Per layer, the Gram norms of its weights accumulated into b.norms (layer 1 overwrites). */
export async function gramSeq(p: PlanCore, uniform: UniformMaker): Promise<Dispatch[]> {
  const { net, batch, L, b } = p;
  const ld4 = batch.cols / 4;
  const seq: Dispatch[] = [];
  // One dispatch per layer covers every group (one instance per channel count).
  const chans = [...new Set(batch.groups.map((g) => g.channels))];
  const table: number[] = [];
  let x = 0;
  for (const g of batch.groups) {
    table.push(g.np / 4, g.col / 4, g.pointOff / 4, x);
    x += ceilDiv(g.np / 4, 64);
  }
  const select = [
    `fn gramGroup(g: u32, pv: u32) {`,
    `  switch g {`,
    ...batch.groups.map((g, gi) =>
      `    case ${gi}u: { gram_${chans.indexOf(g.channels)}(pv, P.groups[${gi}]); }`
    ),
    `    default: {}`,
    `  }`,
    `}`,
  ].join("\n");
  for (let l = 1; l <= L; l++) {
    const lay = net.layers[l - 1];
    const u = uniform("gramNorms", {
      M: lay.out,
      K1: lay.in + 1,
      ld4,
      accumulate: l > 1 ? 1 : 0,
      ngroups: p.G,
      groups: table,
    }, `gram.l${l}`);
    seq.push(
      await p.engine.dispatch(
        "gramNorms",
        {
          overrides: { WG: 64 },
          instances: { region: "group", values: chans.map((C) => ({ C })) },
          regions: { select },
        },
        { 0: u, 1: p.DZ[l], 2: p.A[l - 1], 3: b.norms },
        [x],
        `gram.l${l}`,
      ),
    );
  }
  return seq;
}

/** Runs forward, residual, backward and the Gram norms; reads the norms and their group sums. */
export async function exactNormsOf(
  p: PlanCore,
): Promise<{ norms: Record<string, Float32Array>; traces: Record<string, number> }> {
  p.engine.submit("exactNorms", p.forward, p.residual, p.backward, p.gram, p.traceSums);
  const norms = p.perGroup(await p.read(p.b.norms, 0, p.batch.points));
  const sums = await p.read(p.b.traceSums, 0, p.G);
  return {
    norms,
    traces: Object.fromEntries(p.batch.groups.map((g, i) => [g.name, sums[i]])),
  };
}
