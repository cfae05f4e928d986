/**
 * The channel algebra of the float64 reference: the Taylor channels (value, ∂_a u,
 * ∂²_a u, mixed) of one point pushed forward through the MLP, reverse mode back
 * through them, and forward mode along a parameter direction, with the activation
 * rules each needs (design §3). Apart from `mlp64.ts`, which turns these into
 * residuals, losses and their derivatives per group: here nothing knows of
 * problems, groups or point sets, only of one network and one point.
 *
 * Channel order and layouts are those of `mlp64.ts`'s module documentation;
 * within a layer, arrays are channel-major (channel c's unit o at c·width + o).
 *
 * @module
 */
import { channelCount, type ChannelSet } from "../problems/expr.ts";
import { type Activation, type LayerLayout, paramLayout } from "../model.ts";
import { denseSizes, type FourierEmbedding } from "../embedding.ts";
import { embeddingChannels } from "./embedding64.ts";
import type { Params } from "./mlp64.ts";

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

/** One network: its layer layout, activation, float64 parameters and inputs. */
export interface Net {
  layers: LayerLayout[];
  count: number;
  act: Activation;
  p: Float64Array;
  /** Input dimension d. */
  d: number;
  /** Fixed input embedding (the first layer reads its channels). */
  embed?: FourierEmbedding;
}

/** A {@linkcode Net} from sizes and parameters, checking that they agree. */
export function makeNet(
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

// ---------------------------------------------------------------------------
// Forward through the channels, keeping what reverse mode needs

/**
 * Per layer l: its input channels a[l] (C × in, channel-major) and, for hidden
 * layers, the pre-activation channels z[l] (C × out) and σ', σ'', σ''' at z[l]_0.
 */
export interface Tape {
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
export function outputMajor(z: Float64Array, C: number): Float64Array {
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

/** The Taylor channels of point `x` through every layer, with what reverse mode needs. */
export function taylorForward(net: Net, x: readonly number[], set: ChannelSet): Tape {
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
export const outputs = (tape: Tape): Float64Array => outputMajor(tape.out, tape.C);

// ---------------------------------------------------------------------------
// Reverse mode through the channels

/**
 * Adds Σ_c seed_c ∂(output channel c)/∂θ to `grad` (accumulates; flat layout).
 * Rules of design §3, reverse mode.
 */
export function taylorBackward(
  net: Net,
  tape: Tape,
  seed: ArrayLike<number>,
  grad: Float64Array,
): void {
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
export function taylorTangent(
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
