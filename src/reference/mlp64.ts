/**
 * The float64 reference: the oracle GPU kernels are tested against.
 *
 * Plain JavaScript numbers, one point at a time, no batching and no GPU code, so
 * that every formula of design §3 and §4 can be read off directly:
 *
 * - Taylor channels forward (value, ∂_a u, ∂²_a u) through the MLP;
 * - hand-written reverse mode through the channels (loss gradient, per-point
 *   gradients ∇_θ r_i, vector–Jacobian products);
 * - hand-written forward mode along a parameter direction (Jacobian–vector products);
 * - the exact NTK (block traces, weights, the full matrix) from per-point gradients
 *   (`ntk64.ts`, re-exported here); Fourier-feature inputs (`embedding64.ts`).
 *
 * The channel algebra of one point (the passes through the network and the
 * activation rules) is in `taylor64.ts`; this file turns it into residuals,
 * losses and their derivatives over a problem's groups of points.
 *
 * Channel convention for a group with channel set `set` (C channels): index 0 is u,
 * index 1+i is ∂u/∂x_{set.first[i]}, index 1+|first|+s (s < set.numSecond) is
 * ∂²u/∂x_{set.first[s]}², then one index per mixed pair of `set.mixed` (design §8).
 * A network with m outputs has these C channels per output: arrays of channel
 * values are output-major (output k's channel c at k·C + c).
 *
 * @example Loss and gradient of a small wave network
 * ```ts
 * import { lossAndGradient } from "./mlp64.ts";
 * import { wave } from "../problems/wave.ts";
 * import { xavierInit } from "../model.ts";
 * import { samplePoints } from "../points.ts";
 *
 * const sizes = [2, 8, 8, 1];
 * const params = xavierInit(sizes, 1);
 * const points = samplePoints(wave, { r: 16, u: 8, ut: 8 }, 1);
 * const { loss, gradient } = lossAndGradient(wave, sizes, "tanh", params, points);
 * console.log(loss, gradient.length);
 * ```
 *
 * @module
 */
import {
  channelCount,
  channelRefs,
  type ChannelSet,
  diffChannel,
  evalExpr,
  type Expr,
} from "../problems/expr.ts";
import { groupChannels, type GroupDef, type Problem } from "../problems/problem.ts";
import type { Activation } from "../model.ts";
import type { Points } from "../points.ts";
import type { FourierEmbedding } from "../embedding.ts";
import {
  makeNet,
  outputMajor,
  outputs,
  taylorBackward,
  taylorForward,
  taylorTangent,
} from "./taylor64.ts";

/** Flat parameters (design §2 layout) in either precision; the reference reads them as float64. */
export type Params = Float64Array | Float32Array;

// ---------------------------------------------------------------------------
// Groups: a problem's residuals and their seeds at a point's output channels

/** A group's residual F, its channel set and ∂F/∂(output k, channel c) at k·C + c. */
interface GroupOps {
  g: GroupDef;
  set: ChannelSet;
  dF: Expr[];
  pts: number[][];
}

function groupOps(problem: Problem, points: Points, m: number): GroupOps[] {
  return problem.groups.map((g) => {
    const pts = points[g.name];
    if (!Array.isArray(pts) || pts.length === 0) {
      throw new Error(`points lack group "${g.name}" of problem ${problem.name} (or it is empty)`);
    }
    const set = groupChannels(g);
    const refs = Array.from({ length: m }, (_, k) => channelRefs(set, k)).flat();
    return { g, set, dF: refs.map((ref) => diffChannel(g.residual, ref)), pts };
  });
}

const residualAt = (o: GroupOps, x: readonly number[], ch: ArrayLike<number>): number =>
  evalExpr(o.g.residual, x, ch, o.set) - (o.g.target ? o.g.target(x) : 0);

const residualSeeds = (o: GroupOps, x: readonly number[], ch: ArrayLike<number>): Float64Array =>
  Float64Array.from(o.dF, (e) => evalExpr(e, x, ch, o.set));

// ---------------------------------------------------------------------------
// Public API

/**
 * The C channels of u at point `x` for channel set `set` (value, first, then
 * second derivatives; see the module documentation for the order).
 *
 * @example
 * ```ts
 * import { forwardChannels } from "./mlp64.ts";
 * import { xavierInit } from "../model.ts";
 * const sizes = [2, 4, 1];
 * // u, u_t, u_x, u_tt, u_xx at (t, x) = (0.3, 0.7)
 * const ch = forwardChannels(sizes, "tanh", xavierInit(sizes, 0), [0.3, 0.7], {
 *   first: [0, 1],
 *   numSecond: 2,
 * });
 * console.log(ch.length); // 5
 * ```
 */
export function forwardChannels(
  sizes: readonly number[],
  activation: Activation,
  params: Params,
  x: readonly number[],
  set: ChannelSet,
  embedding?: FourierEmbedding,
): Float64Array {
  const tape = taylorForward(makeNet(sizes, activation, params, embedding), x, set);
  return outputMajor(tape.out, tape.C);
}

/** The residuals r_i = F_j(x_i, channels) − target_j(x_i) of every group, per point. */
export function residuals(
  problem: Problem,
  sizes: readonly number[],
  activation: Activation,
  params: Params,
  points: Points,
  embedding?: FourierEmbedding,
): Record<string, Float64Array> {
  const net = makeNet(sizes, activation, params, embedding);
  const out: Record<string, Float64Array> = {};
  for (const o of groupOps(problem, points, sizes[sizes.length - 1])) {
    out[o.g.name] = Float64Array.from(
      o.pts,
      (x) => residualAt(o, x, outputs(taylorForward(net, x, o.set))),
    );
  }
  return out;
}

/**
 * The loss L = Σ_j λ_j (1/N_j) Σ_i r_i², the unweighted per-group means
 * (1/N_j) Σ_i r_i², and ∂L/∂θ (flat layout) by reverse mode. Missing weights are 1;
 * weights are constants (no gradient flows through them).
 */
export function lossAndGradient(
  problem: Problem,
  sizes: readonly number[],
  activation: Activation,
  params: Params,
  points: Points,
  weights: Record<string, number> = {},
  embedding?: FourierEmbedding,
): { loss: number; lossPerGroup: Record<string, number>; gradient: Float64Array } {
  const net = makeNet(sizes, activation, params, embedding);
  const gradient = new Float64Array(net.count);
  const lossPerGroup: Record<string, number> = {};
  let loss = 0;
  for (const o of groupOps(problem, points, sizes[sizes.length - 1])) {
    const lam = weights[o.g.name] ?? 1, N = o.pts.length;
    let sum = 0;
    for (const x of o.pts) {
      const tape = taylorForward(net, x, o.set);
      const ch = outputs(tape);
      const r = residualAt(o, x, ch);
      sum += r * r;
      // ∂L/∂(channel c) = λ (2/N) r ∂F/∂c
      const seed = residualSeeds(o, x, ch).map((v) => lam * (2 / N) * r * v);
      taylorBackward(net, tape, seed, gradient);
    }
    lossPerGroup[o.g.name] = sum / N;
    loss += lam * sum / N;
  }
  return { loss, lossPerGroup, gradient };
}

/** ∇_θ r_i for every point of every group (one array of length P per point), by reverse mode. */
export function residualGradients(
  problem: Problem,
  sizes: readonly number[],
  activation: Activation,
  params: Params,
  points: Points,
  embedding?: FourierEmbedding,
): Record<string, Float64Array[]> {
  const net = makeNet(sizes, activation, params, embedding);
  const out: Record<string, Float64Array[]> = {};
  for (const o of groupOps(problem, points, sizes[sizes.length - 1])) {
    out[o.g.name] = o.pts.map((x) => {
      const tape = taylorForward(net, x, o.set);
      const grad = new Float64Array(net.count);
      taylorBackward(net, tape, residualSeeds(o, x, outputs(tape)), grad);
      return grad;
    });
  }
  return out;
}

/**
 * Jᵀ v = Σ_i v_i ∇_θ r_i (flat layout) by one reverse pass per point; `v` holds one
 * weight per point of every group.
 */
export function vjp(
  problem: Problem,
  sizes: readonly number[],
  activation: Activation,
  params: Params,
  points: Points,
  v: Record<string, ArrayLike<number>>,
  embedding?: FourierEmbedding,
): Float64Array {
  const net = makeNet(sizes, activation, params, embedding);
  const grad = new Float64Array(net.count);
  for (const o of groupOps(problem, points, sizes[sizes.length - 1])) {
    const vj = v[o.g.name];
    if (!vj || vj.length !== o.pts.length) {
      throw new Error(`vjp needs ${o.pts.length} weights for group "${o.g.name}"`);
    }
    o.pts.forEach((x, i) => {
      const tape = taylorForward(net, x, o.set);
      taylorBackward(net, tape, residualSeeds(o, x, outputs(tape)).map((s) => vj[i] * s), grad);
    });
  }
  return grad;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
};

/**
 * J s: ṙ_i = ∇_θ r_i · s for every point, by forward-mode tangents through the
 * channels (independent of the reverse-mode code). `direction` is in the flat layout.
 */
export function jvp(
  problem: Problem,
  sizes: readonly number[],
  activation: Activation,
  params: Params,
  points: Points,
  direction: ArrayLike<number>,
  embedding?: FourierEmbedding,
): Record<string, Float64Array> {
  const net = makeNet(sizes, activation, params, embedding);
  if (direction.length !== net.count) {
    throw new Error(
      `direction has ${direction.length} entries, the network has ${net.count} parameters`,
    );
  }
  const dirP = Float64Array.from(direction);
  const out: Record<string, Float64Array> = {};
  for (const o of groupOps(problem, points, sizes[sizes.length - 1])) {
    out[o.g.name] = Float64Array.from(o.pts, (x) => {
      const { out, dout } = taylorTangent(net, dirP, x, o.set);
      const C = channelCount(o.set);
      return dot(residualSeeds(o, x, outputMajor(out, C)), outputMajor(dout, C));
    });
  }
  return out;
}

export { fullNtk, ntkTraces, perPointGradNorms } from "./ntk64.ts";
