/**
 * GPU memory layouts: packed weights and the column layout of a batch of groups.
 *
 * @module
 */
import { channelCount, type ChannelSet } from "./problems/expr.ts";
import { groupChannels, type Problem } from "./problems/problem.ts";
import { paramLayout } from "./model.ts";
import type { Counts } from "./points.ts";

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** Packed weight layouts of one layer (float offsets, all multiples of 4). */
export interface PackedLayer {
  /** Input width. */
  in: number;
  /** Output width. */
  out: number;
  /** Flat offsets (design §2). */
  w: number;
  /** Flat offset of b. */
  b: number;
  /** Forward layout: Wᵀ (in, ldf) then b (ldf) at fOff. */
  fOff: number;
  /** Row stride of the forward layout (out padded to 8). */
  ldf: number;
  /** Backward layout: W (out, ldb) at bOff. */
  bOff: number;
  /** Row stride of the backward layout (in padded to 8). */
  ldb: number;
}

/** Packed layouts of a network and its layer table (two vec4<u32> per layer). */
export interface NetLayout {
  /** Layer widths. */
  sizes: number[];
  /** Layout of each dense layer. */
  layers: PackedLayer[];
  /** Parameters P in the flat layout. */
  paramCount: number;
  /** Floats of the packed forward layout. */
  packedF: number;
  /** Floats of the packed backward layout. */
  packedB: number;
  /** Two vec4<u32> per layer: (w, b, in, out), (fOff, ldf, bOff, ldb). */
  table: Uint32Array;
}

/** Row tile of the Taylor kernels; packed rows are padded to it. */
export const ROW_TILE = 16;

/** Computes the packed layouts for sizes [d, W…, 1]. */
export function netLayout(sizes: readonly number[]): NetLayout {
  const { layers: flat, count } = paramLayout(sizes);
  let f = 0, b = 0;
  const layers = flat.map((l) => {
    const ldf = roundUp(l.out, ROW_TILE), ldb = roundUp(l.in, ROW_TILE);
    const lay = { ...l, fOff: f, ldf, bOff: b, ldb };
    f += (l.in + 1) * ldf;
    b += l.out * ldb;
    return lay;
  });
  const table = new Uint32Array(layers.length * 8);
  layers.forEach((l, i) => table.set([l.w, l.b, l.in, l.out, l.fOff, l.ldf, l.bOff, l.ldb], 8 * i));
  return { sizes: [...sizes], layers, paramCount: count, packedF: f, packedB: b, table };
}

/** Points per invocation are 4·TV; TV keeps an invocation's tile near 16 columns. */
export const tileVectors = (channels: number): number =>
  channels === 1 ? 4 : channels === 2 ? 2 : 1;

/** Padding unit of every group's point count (and so of every column offset). */
export const POINT_PAD = 16;

/** One group's place in the batch's matrices. */
export interface GroupLayout {
  /** Group name. */
  name: string;
  /** Channels the group's residual reads. */
  set: ChannelSet;
  /** Channels C. */
  channels: number;
  /** Real points N_j. */
  n: number;
  /** Padded points (multiple of 16). */
  np: number;
  /** First column in the activation matrices. */
  col: number;
  /** First index in per-point arrays. */
  pointOff: number;
}

/** Column layout of all groups of a problem for given point counts. */
export interface BatchLayout {
  /** Layout of each group, in the problem's order. */
  groups: GroupLayout[];
  /** Total columns = row length of every activation matrix. */
  cols: number;
  /** Total padded points = length of every per-point array. */
  points: number;
  /** Largest channel count. */
  maxChannels: number;
}

/** Lays the groups of `problem` out with `counts` points each. */
export function batchLayout(problem: Problem, counts: Counts): BatchLayout {
  let col = 0, pointOff = 0;
  const groups = problem.groups.map((g) => {
    const set = groupChannels(g);
    const channels = channelCount(set);
    const n = counts[g.name];
    const np = roundUp(n, POINT_PAD);
    const lay = { name: g.name, set, channels, n, np, col, pointOff };
    col += channels * np;
    pointOff += np;
    return lay;
  });
  return {
    groups,
    cols: col,
    points: pointOff,
    maxChannels: Math.max(...groups.map((g) => g.channels)),
  };
}
