/**
 * What a plan will allocate, computed from its shape alone (sizes, point counts,
 * directions, channels per group) before anything is sampled or allocated, and
 * what lives beside it (the evaluation grid, a full NTK); src/limits.ts checks
 * it against the adapter's limits and a memory budget.
 *
 * The buffer list mirrors `Plan`'s allocation (src/plan/buffers.ts, plan/embed.ts,
 * plan/ntk.ts, plan/optim.ts) and is tested against the buffer pool's own
 * counters, so the two cannot drift apart silently.
 *
 * @module
 */
import { netLayout, POINT_PAD } from "./layout.ts";
import { channelCount } from "./problems/expr.ts";
import { groupChannels, type Problem } from "./problems/problem.ts";

/** One residual group of a plan: its name, channels per point and point count. */
export interface GroupShape {
  /** Group name. */
  name: string;
  /** Channels its residual reads (value, first and second derivatives). */
  channels: number;
  /** Points N_j. */
  n: number;
}

/** Everything the size of a plan's buffers depends on. */
export interface PlanShape {
  /** Layer widths [d, W…, m]; the output width m is the last entry. */
  sizes: readonly number[];
  /** The residual groups, in the problem's order. */
  groups: readonly GroupShape[];
  /** Directions per JVP / predictor chunk (0: none). */
  directions?: number;
  /** Tangent activations for the JVP kernels. */
  tangents?: boolean;
  /** Column slice of the weight gradients, in vec4 (default 128). */
  sliceVec4?: number;
  /** The parameter average's buffer (`--average`). */
  average?: boolean;
  /** Causal chunk weights (`--causal`). */
  causal?: boolean;
  /** The binding limit the plan shrinks its tangent chunk to (as `Plan` does). */
  maxBinding?: number;
}

/** One GPU buffer of an estimate. */
export interface BufferEstimate {
  /** The plan's label of the buffer (A1, partial, T0, …). */
  label: string;
  /** What it holds, in a user's words. */
  what: string;
  /** Bytes requested. */
  bytes: number;
  /** Bytes allocated: the pool rounds up to a power of two, and binds the whole buffer. */
  allocated: number;
}

/** What a command will allocate. */
export interface ResourceEstimate {
  /** Every GPU buffer. */
  buffers: BufferEstimate[];
  /** Sum of the allocated GPU bytes. */
  gpuBytes: number;
  /** Host arrays built from the same counts (points, uploads, the slice table). */
  hostBytes: number;
}

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;
const sizeClass = (n: number) => Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(1, n))));
/** Row stride of multi-row per-point arrays (as in src/plan/core.ts). */
const rowStride = (points: number) => Math.ceil(points / 64) * 64;

/** The shape of a plan of `problem` with `counts` points per group. */
export function planShape(
  problem: Problem,
  sizes: readonly number[],
  counts: Record<string, number>,
  o: Omit<PlanShape, "sizes" | "groups"> = {},
): PlanShape {
  const groups = problem.groups.map((g) => ({
    name: g.name,
    channels: channelCount(groupChannels(g)),
    n: counts[g.name],
  }));
  return { sizes, groups, ...o };
}

/** Binary bytes as "512.0 MiB". */
export function formatBytes(b: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) (b /= 1024), i++;
  return i === 0 ? `${b} bytes` : `${b.toFixed(1)} ${units[i]}`;
}

/** Every buffer a plan of `shape` allocates, and the host arrays built beside them. */
export function estimatePlan(shape: PlanShape): ResourceEstimate {
  const net = netLayout(shape.sizes);
  const sizes = shape.sizes, L = sizes.length - 1, P = net.paramCount, G = shape.groups.length;
  const d = sizes[0];
  const slice = shape.sliceVec4 ?? 128;
  let cols = 0, points = 0, nslices = 0;
  for (const g of shape.groups) {
    const np = roundUp(g.n, POINT_PAD);
    nslices += Math.ceil((g.channels * np) / 4 / slice);
    cols += g.channels * np;
    points += np;
  }
  const buffers: BufferEstimate[] = [];
  const add = (label: string, floats: number, what = label) => {
    const bytes = Math.max(16, roundUp(floats * 4, 16));
    buffers.push({ label, what, bytes, allocated: sizeClass(bytes) });
  };
  const act = "the activations (points × channels × width)";
  for (let l = 0; l < L; l++) add(`A${l}`, (sizes[l] + 1) * cols, act);
  for (let l = 1; l <= L; l++) {
    add(`Z${l}`, sizes[l] * cols, act);
    add(`DZ${l}`, sizes[l] * cols, act);
  }
  add("groups", 4 * G);
  add("slices", 4 * nslices);
  add("params", P);
  add("moments", 2 * P);
  add("packF", net.packedF);
  add("packB", net.packedB);
  add("packP", net.packedF);
  add("lambda", G);
  add("ntkState", 2 * G + 1);
  add("partial", nslices * P, "the weight-gradient slices (points × channels × parameters)");
  add("grad", P);
  add("pts", 8 * points); // two vec4 per point: up to 4 inputs, then the target
  add("alpha", cols);
  add("res", points);
  add("norms", points);
  add("lossSums", G);
  let k = shape.directions ?? 0;
  if (k > 0 && shape.tangents && shape.maxBinding) {
    const tangentBytes = 4 * Math.max(...sizes.slice(1)) * cols;
    k = Math.min(k, Math.max(1, Math.floor(shape.maxBinding / tangentBytes)));
  }
  add("traceSums", Math.max(1, k) * G);
  add("dummy", 4);
  if (k > 0) {
    const ys = rowStride(points);
    add("dirs", k * net.packedF, "the parameter directions (directions × parameters)");
    for (const l of ["resP", "resQ", "Y"]) {
      add(l, k * ys, "the perturbed residuals (directions × points)");
    }
    add("noise", points);
    add("packV", net.packedF);
    add("packScratch", net.packedB);
    if (shape.tangents) {
      const rows = Math.max(...sizes.slice(1));
      const what = "the JVP tangents (directions × points × channels × width)";
      add("T0", k * rows * cols, what);
      add("T1", k * rows * cols, what);
    }
  }
  if (shape.causal) add("causal", 2 * 64);
  if (shape.average) add("average", P);
  // Host side: the sampled points as JS arrays (≈ 64 + 8d bytes each), the points
  // (8 floats each) and input-channel uploads, and the slice table built in the
  // plan's constructor.
  const n = shape.groups.reduce((a, g) => a + g.n, 0);
  const hostBytes = n * (64 + 8 * d) + 32 * points + 4 * (d + 1) * cols + 48 * nslices;
  return { buffers, gpuBytes: buffers.reduce((a, b) => a + b.allocated, 0), hostBytes };
}

/** Several estimates that live at the same time (a training plan and its grid plan). */
export function combine(...es: ResourceEstimate[]): ResourceEstimate {
  return {
    buffers: es.flatMap((e) => e.buffers),
    gpuBytes: es.reduce((a, e) => a + e.gpuBytes, 0),
    hostBytes: es.reduce((a, e) => a + e.hostBytes, 0),
  };
}

/** The largest buffer of an estimate. */
export function largest(e: ResourceEstimate): BufferEstimate {
  return e.buffers.reduce((a, b) => (b.allocated > a.allocated ? b : a));
}

/** A plan (and what lives beside it) described by the settings a user chooses. */
export interface PlanDemand {
  /** The problem (its groups' channels). */
  problem: Problem;
  /** Layer widths [d, W…, m]. */
  sizes: readonly number[];
  /** Points per group. */
  counts: Record<string, number>;
  /** Other plan settings (directions, tangents, slices, average, causal). */
  options?: Omit<PlanShape, "sizes" | "groups">;
  /** Points of an evaluation-grid plan (one value channel) allocated beside it. */
  grid?: number;
  /** Other memory that scales with nothing the knobs change (a file's text, a full NTK). */
  extra?: (sizes: readonly number[], counts: Record<string, number>) => ResourceEstimate;
  /** How the point counts are written in messages (default `--n r=…`). */
  showCounts?: (counts: Record<string, number>) => string;
  /** The input named for the point counts (default `--n`). */
  countsInput?: string;
  /** The input named for the sizes (default `--sizes`). */
  sizesInput?: string;
  /** How the sizes are written in messages (default `--sizes 2,…`). */
  showSizes?: (sizes: readonly number[]) => string;
}

const EMPTY: ResourceEstimate = { buffers: [], gpuBytes: 0, hostBytes: 0 };

/** The estimate of a demand at given sizes and counts. */
export function estimateDemand(
  d: PlanDemand,
  sizes: readonly number[] = d.sizes,
  counts: Record<string, number> = d.counts,
): ResourceEstimate {
  const main = estimatePlan(planShape(d.problem, sizes, counts, d.options));
  const grid = d.grid
    ? estimatePlan({ sizes, groups: [{ name: "grid", channels: 1, n: d.grid }] })
    : EMPTY;
  return combine(main, grid, d.extra?.(sizes, counts) ?? EMPTY);
}
