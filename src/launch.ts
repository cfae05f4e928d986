/**
 * Kernel variants shared by plans and plain matrix products: the Taylor kernel
 * launch over several groups and the generated residual functions.
 *
 * @module
 */
import type { Variant } from "./kernels.ts";
import { type GroupLayout, tileVectors } from "./layout.ts";
import { type Problem, problemOutputs } from "./problems/problem.ts";
import { channelRefs, type ChannelSet, diffChannel, toWgsl } from "./problems/expr.ts";
import { UserError } from "./errors.ts";

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/** A Taylor kernel launch over several groups: variant, uniform group table and grid. */
export interface TaylorLaunch {
  variant: Variant;
  /** (np4, col4, first workgroup, 0) per group, for the uniform's `groups`. */
  groups: number[];
  ngroups: number;
  grid: [number, number, number];
}

/**
 * The Taylor kernel variant covering `groups` in one dispatch (shaders/taylor.wgsl):
 * one register-tile instance per distinct channel set, a generated `select`
 * region routing each group to its instance, and the grid for `rows` output rows.
 */
export function taylorLaunch(
  groups: readonly Pick<GroupLayout, "channels" | "set" | "np" | "col">[],
  rows: number,
  o: { tm: number; act: number; wg: [number, number]; z?: number },
): TaylorLaunch {
  if (groups.length > 8) {
    throw new UserError("problem", "A problem may have at most 8 residual groups.");
  }
  // Mixed channel m reads first-derivative channels MA and MB, 4 bits each at bit 4m.
  const keyOf = (g: (typeof groups)[number]) => {
    const mixed = (g.set.mixed ?? []).map((
      [a, b],
    ) => [g.set.first.indexOf(a), g.set.first.indexOf(b)]);
    const bits = (k: 0 | 1) => mixed.reduce((s, p, m) => s + p[k] * 16 ** m, 0);
    return [
      tileVectors(g.channels),
      g.set.first.length,
      g.set.numSecond,
      mixed.length,
      bits(0),
      bits(1),
    ]
      .join("/");
  };
  const keys = [...new Set(groups.map(keyOf))];
  const values = keys.map((k) => {
    const [TV, NF, NS, NM, MA, MB] = k.split("/").map(Number);
    return { TV, NF, NS, NM, MA, MB };
  });
  const inst = groups.map((g) => keys.indexOf(keyOf(g)));
  const call = (fn: string, extra: string) =>
    [
      `fn ${fn}Group(g: u32, gx: u32, r0: u32${extra ? ", j: u32" : ""}) {`,
      `  switch g {`,
      ...inst.map((i, g) => `    case ${g}u: { ${fn}_${i}(gx, r0, P.groups[${g}]${extra}); }`),
      `    default: {}`,
      `  }`,
      `}`,
    ].join("\n");
  const [wx, wy] = o.wg;
  const table: number[] = [];
  let x = 0;
  for (const g of groups) {
    table.push(g.np / 4, g.col / 4, x, 0);
    x += ceilDiv(g.np / 4 / tileVectors(g.channels), wx);
  }
  return {
    variant: {
      consts: { TM: o.tm, ACT: o.act },
      overrides: { WG_X: wx, WG_Y: wy },
      instances: { region: "tile", values },
      regions: {
        select: [call("forward", ""), call("backward", ""), call("tangent", ", j")].join("\n"),
      },
    },
    groups: table,
    ngroups: groups.length,
    grid: [x, ceilDiv(ceilDiv(rows, o.tm), wy), o.z ?? 1],
  };
}

/**
 * Residual function and its derivatives with respect to every channel of every
 * output of one group, as WGSL over `x: array<f32, 4>` and `ch: array<f32, m·C>`
 * (C channels per output, output-major; m = the problem's outputs). The
 * functions' names end in `suffix` (the residual kernel's instance of the group).
 */
export function residualWgsl(
  problem: Problem,
  group: number,
  set: ChannelSet,
  suffix = "",
): string {
  const g = problem.groups[group];
  const m = problemOutputs(problem).length;
  const refs = Array.from({ length: m }, (_, k) => channelRefs(set, k)).flat();
  const seeds = refs.map((r) => toWgsl(diffChannel(g.residual, r), set));
  const n = refs.length;
  return [
    `fn pdeResidual${suffix}(x: array<f32, 4>, ch: array<f32, ${n}>) -> f32 {`,
    `  return ${toWgsl(g.residual, set)};`,
    `}`,
    `fn pdeSeeds${suffix}(x: array<f32, 4>, ch: array<f32, ${n}>) -> array<f32, ${n}> {`,
    `  return array<f32, ${n}>(${seeds.join(", ")});`,
    `}`,
  ].join("\n");
}

/** The residual kernel's launch over every group: variant, uniform fields and workgroups. */
export interface ResidualLaunch {
  variant: Variant;
  /** Uniform fields of shaders/residual.wgsl's P but `ld`. */
  fields: { ngroups: number; groups: number[]; rows: number[]; scales: number[] };
  workgroups: number;
}

/**
 * The residual kernel covering every group in one dispatch (shaders/residual.wgsl):
 * one instance of its `group` region per group with that group's channel count and
 * generated residual, and a `select` region routing group g to instance g. Residuals
 * go to `resRow` + each group's point offset; `seeds` says whether seeds and α are
 * written.
 */
export function residualLaunch(
  problem: Problem,
  groups: readonly Pick<GroupLayout, "channels" | "set" | "np" | "n" | "col" | "pointOff">[],
  o: { resRow: number; seeds: boolean; wg: number },
): ResidualLaunch {
  const m = problemOutputs(problem).length;
  const regions: Record<string, string> = {
    select: [
      `fn residualGroup(g: u32, i: u32) {`,
      `  switch g {`,
      ...groups.map((_, g) => `    case ${g}u: { residual_${g}(i, g); }`),
      `    default: {}`,
      `  }`,
      `}`,
    ].join("\n"),
  };
  groups.forEach((g, gi) => regions[`pde_${gi}`] = residualWgsl(problem, gi, g.set, `_${gi}`));
  const fields = {
    ngroups: groups.length,
    groups: [] as number[],
    rows: [] as number[],
    scales: [] as number[],
  };
  let x = 0;
  for (const g of groups) {
    fields.groups.push(g.n, g.np, g.col, g.pointOff);
    fields.rows.push(o.resRow + g.pointOff, x, 0, 0);
    fields.scales.push(2 / g.n, 0, 0, 0);
    x += ceilDiv(g.np, o.wg);
  }
  return {
    variant: {
      consts: { M: m, WRITE_SEEDS: o.seeds ? 1 : 0 },
      overrides: { WG: o.wg },
      instances: {
        region: "group",
        values: groups.map((g) => ({ C: g.channels, NCH: m * g.channels })),
      },
      regions,
    },
    fields,
    workgroups: x,
  };
}
