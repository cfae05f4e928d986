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
import { type Activation, type LayerLayout, paramLayout } from "../model.ts";
import type { Points } from "../points.ts";
import { denseSizes, type FourierEmbedding } from "../embedding.ts";
import { embeddingChannels } from "./embedding64.ts";

/** Flat parameters (design §2 layout) in either precision; the reference reads them as float64. */
export type Params = Float64Array | Float32Array;

// ---------------------------------------------------------------------------
// Activations

/** σ and its first three derivatives at z, as [σ, σ', σ'', σ''']. */
function activationDerivs(act: Activation, z: number): [number, number, number, number] {
  if (act === "tanh") {
    const s = Math.tanh(z), s1 = 1 - s * s;
    return [s, s1, -2 * s * s1, s1 * (6 * s * s - 2)];
  }
  const s = Math.sin(z), c = Math.cos(z);
  return [s, c, -s, -c];
}

// ---------------------------------------------------------------------------
// Network description

interface Net {
  layers: LayerLayout[];
  count: number;
  act: Activation;
  p: Float64Array;
  /** Input dimension d. */
  d: number;
  /** Fixed input embedding (the first layer reads its channels). */
  embed?: FourierEmbedding;
}

function makeNet(
  sizes: readonly number[],
  act: Activation,
  params: Params,
  embed?: FourierEmbedding,
): Net {
  if (sizes.length < 2) {
    throw new Error(`sizes need at least an input and an output, got [${sizes}]`);
  }
  if (act !== "tanh" && act !== "sin") throw new Error(`unknown activation ${act}`);
  if (embed && embed.domain.length !== sizes[0]) {
    throw new Error(`the embedding takes ${embed.domain.length} inputs, sizes [${sizes}]`);
  }
  const { layers, count } = paramLayout(denseSizes(sizes, embed));
  if (params.length !== count) {
    throw new Error(`sizes [${sizes}] need ${count} parameters, got ${params.length}`);
  }
  return { layers, count, act, p: Float64Array.from(params), d: sizes[0], embed };
}

function checkInput(net: Net, x: readonly number[]): void {
  if (x.length !== net.d) {
    throw new Error(`point [${x}] has ${x.length} coordinates, the network takes ${net.d}`);
  }
}

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
// Forward through the channels, keeping what reverse mode needs

/**
 * Per layer l: its input channels a[l] (C × in, channel-major) and, for hidden
 * layers, the pre-activation channels z[l] (C × out) and σ', σ'', σ''' at z[l]_0.
 */
interface Tape {
  C: number;
  nf: number;
  ns: number;
  /** Mixed channel q: [channel of ∂_a, channel of ∂_b, own channel]. */
  mix: [number, number, number][];
  a: Float64Array[];
  z: Float64Array[];
  d1: Float64Array[];
  d2: Float64Array[];
  d3: Float64Array[];
  /** The output channels, C × m (channel-major, as every layer's z). */
  out: Float64Array;
}

/** Mixed channels of a set as [channel of ∂_a, channel of ∂_b, own channel]. */
function mixedChannels(set: ChannelSet): [number, number, number][] {
  const nf = set.first.length, base = 1 + nf + set.numSecond;
  return (set.mixed ?? []).map((
    [a, b],
    q,
  ) => [1 + set.first.indexOf(a), 1 + set.first.indexOf(b), base + q]);
}

/** Output channels C × m (channel-major) to the output-major order residuals read. */
function outputMajor(z: Float64Array, C: number): Float64Array {
  const m = z.length / C, ch = new Float64Array(z.length);
  for (let c = 0; c < C; c++) for (let k = 0; k < m; k++) ch[k * C + c] = z[c * m + k];
  return ch;
}

/** Output-major seeds (k·C + c) to the channel-major adjoint of the output layer. */
function channelMajor(seed: ArrayLike<number>, C: number): Float64Array {
  const m = seed.length / C, z = new Float64Array(seed.length);
  for (let c = 0; c < C; c++) for (let k = 0; k < m; k++) z[c * m + k] = seed[k * C + c];
  return z;
}

/** z_c = W a_c (+ b for c = 0), all channels. (C × out) */
function dense(net: Net, lay: LayerLayout, a: Float64Array, C: number): Float64Array {
  const { p } = net;
  const z = new Float64Array(C * lay.out);
  for (let c = 0; c < C; c++) {
    for (let o = 0; o < lay.out; o++) {
      let s = c === 0 ? p[lay.b + o] : 0;
      for (let k = 0; k < lay.in; k++) s += p[lay.w + o * lay.in + k] * a[c * lay.in + k];
      z[c * lay.out + o] = s;
    }
  }
  return z;
}

/**
 * The input channels: a_0 = x, a_a = e_{first[a]}, a_aa = 0 (C × d), or the
 * embedding's channels (C × E, `embedding64.ts`).
 */
function inputChannels(net: Net, x: readonly number[], set: ChannelSet): Float64Array {
  if (net.embed) return embeddingChannels(net.embed, x, set);
  const d = x.length, C = channelCount(set);
  const a = new Float64Array(C * d);
  for (let k = 0; k < d; k++) a[k] = x[k];
  set.first.forEach((dir, i) => {
    if (!(dir >= 0 && dir < d)) {
      throw new Error(`derivative direction ${dir} outside the ${d} inputs`);
    }
    a[(1 + i) * d + dir] = 1;
  });
  return a;
}

function taylorForward(net: Net, x: readonly number[], set: ChannelSet): Tape {
  checkInput(net, x);
  const C = channelCount(set), nf = set.first.length, ns = set.numSecond;
  const mix = mixedChannels(set);
  const tape: Tape = {
    C,
    nf,
    ns,
    mix,
    a: [],
    z: [],
    d1: [],
    d2: [],
    d3: [],
    out: new Float64Array(C),
  };
  let a = inputChannels(net, x, set);
  const L = net.layers.length;
  for (let l = 0; l < L; l++) {
    const lay = net.layers[l], w = lay.out;
    tape.a.push(a);
    const z = dense(net, lay, a, C);
    if (l === L - 1) {
      tape.out = z;
      break;
    }
    const next = new Float64Array(C * w);
    const d1 = new Float64Array(w), d2 = new Float64Array(w), d3 = new Float64Array(w);
    for (let o = 0; o < w; o++) {
      const [s, s1, s2, s3] = activationDerivs(net.act, z[o]);
      d1[o] = s1, d2[o] = s2, d3[o] = s3;
      next[o] = s;
      for (let i = 0; i < nf; i++) next[(1 + i) * w + o] = s1 * z[(1 + i) * w + o];
      for (let q = 0; q < ns; q++) {
        const za = z[(1 + q) * w + o], zaa = z[(1 + nf + q) * w + o];
        next[(1 + nf + q) * w + o] = s2 * za * za + s1 * zaa;
      }
      for (const [ca, cb, cab] of mix) {
        next[cab * w + o] = s2 * z[ca * w + o] * z[cb * w + o] + s1 * z[cab * w + o];
      }
    }
    tape.z.push(z), tape.d1.push(d1), tape.d2.push(d2), tape.d3.push(d3);
    a = next;
  }
  return tape;
}

/** The output channels of a tape, output-major (what residuals read). */
const outputs = (tape: Tape): Float64Array => outputMajor(tape.out, tape.C);

// ---------------------------------------------------------------------------
// Reverse mode through the channels

/**
 * Adds Σ_c seed_c ∂(output channel c)/∂θ to `grad` (accumulates; flat layout).
 * Rules of design §3, reverse mode.
 */
function taylorBackward(net: Net, tape: Tape, seed: ArrayLike<number>, grad: Float64Array): void {
  const { C, nf, ns, mix } = tape, { p } = net;
  // The last layer is linear, so the output adjoint is its z̄ directly. (C × m)
  let zbar = channelMajor(seed, C);
  for (let l = net.layers.length - 1; l >= 0; l--) {
    const lay = net.layers[l], a = tape.a[l];
    for (let o = 0; o < lay.out; o++) {
      grad[lay.b + o] += zbar[o];
      for (let k = 0; k < lay.in; k++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += zbar[c * lay.out + o] * a[c * lay.in + k];
        grad[lay.w + o * lay.in + k] += s;
      }
    }
    if (l === 0) break;
    // ā_c = Wᵀ z̄_c, then through the activation of layer l − 1.
    const w = lay.in;
    const abar = new Float64Array(C * w);
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < w; k++) {
        let s = 0;
        for (let o = 0; o < lay.out; o++) s += p[lay.w + o * lay.in + k] * zbar[c * lay.out + o];
        abar[c * w + k] = s;
      }
    }
    const z = tape.z[l - 1], d1 = tape.d1[l - 1], d2 = tape.d2[l - 1], d3 = tape.d3[l - 1];
    zbar = new Float64Array(C * w);
    for (let k = 0; k < w; k++) {
      let z0 = d1[k] * abar[k];
      for (let i = 0; i < nf; i++) {
        const za = z[(1 + i) * w + k], aba = abar[(1 + i) * w + k];
        z0 += d2[k] * za * aba;
        let zi = d1[k] * aba;
        if (i < ns) {
          const zaa = z[(1 + nf + i) * w + k], abaa = abar[(1 + nf + i) * w + k];
          z0 += (d3[k] * za * za + d2[k] * zaa) * abaa;
          zi += 2 * d2[k] * za * abaa;
          zbar[(1 + nf + i) * w + k] = d1[k] * abaa;
        }
        zbar[(1 + i) * w + k] = zi;
      }
      // Mixed channels (design §8): their adjoint feeds z̄, z̄_a and z̄_b.
      for (const [ca, cb, cab] of mix) {
        const za = z[ca * w + k], zb = z[cb * w + k], abab = abar[cab * w + k];
        z0 += (d3[k] * za * zb + d2[k] * z[cab * w + k]) * abab;
        zbar[ca * w + k] += d2[k] * zb * abab;
        zbar[cb * w + k] += d2[k] * za * abab;
        zbar[cab * w + k] = d1[k] * abab;
      }
      zbar[k] = z0;
    }
  }
}

// ---------------------------------------------------------------------------
// Forward mode along a parameter direction

/**
 * The output channels and their tangents along the parameter direction `dir`
 * (flat layout). Rules of design §3, forward mode.
 */
function taylorTangent(
  net: Net,
  dirP: Float64Array,
  x: readonly number[],
  set: ChannelSet,
): { out: Float64Array; dout: Float64Array } {
  checkInput(net, x);
  const C = channelCount(set), nf = set.first.length, ns = set.numSecond, { p } = net;
  const mix = mixedChannels(set);
  let a = inputChannels(net, x, set);
  let da = new Float64Array(a.length);
  const L = net.layers.length;
  for (let l = 0; l < L; l++) {
    const lay = net.layers[l], w = lay.out;
    const z = dense(net, lay, a, C);
    // ż_c = Ẇ a_c + W ȧ_c (+ ḃ for c = 0)
    const dz = new Float64Array(C * w);
    for (let c = 0; c < C; c++) {
      for (let o = 0; o < w; o++) {
        let s = c === 0 ? dirP[lay.b + o] : 0;
        for (let k = 0; k < lay.in; k++) {
          const wi = lay.w + o * lay.in + k;
          s += dirP[wi] * a[c * lay.in + k] + p[wi] * da[c * lay.in + k];
        }
        dz[c * w + o] = s;
      }
    }
    if (l === L - 1) return { out: z, dout: dz };
    const next = new Float64Array(C * w), dnext = new Float64Array(C * w);
    for (let o = 0; o < w; o++) {
      const [s, s1, s2, s3] = activationDerivs(net.act, z[o]);
      const dz0 = dz[o];
      next[o] = s;
      dnext[o] = s1 * dz0;
      for (let i = 0; i < nf; i++) {
        const za = z[(1 + i) * w + o], dza = dz[(1 + i) * w + o];
        next[(1 + i) * w + o] = s1 * za;
        dnext[(1 + i) * w + o] = s2 * dz0 * za + s1 * dza;
        if (i < ns) {
          const zaa = z[(1 + nf + i) * w + o], dzaa = dz[(1 + nf + i) * w + o];
          next[(1 + nf + i) * w + o] = s2 * za * za + s1 * zaa;
          dnext[(1 + nf + i) * w + o] = s3 * dz0 * za * za + 2 * s2 * za * dza + s2 * dz0 * zaa +
            s1 * dzaa;
        }
      }
      for (const [ca, cb, cab] of mix) {
        const za = z[ca * w + o], zb = z[cb * w + o], zab = z[cab * w + o];
        const dza = dz[ca * w + o], dzb = dz[cb * w + o];
        next[cab * w + o] = s2 * za * zb + s1 * zab;
        dnext[cab * w + o] = s3 * dz0 * za * zb + s2 * (dza * zb + za * dzb + dz0 * zab) +
          s1 * dz[cab * w + o];
      }
    }
    a = next;
    da = dnext;
  }
  throw new Error("unreachable: a network has at least one layer");
}

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
