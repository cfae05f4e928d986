/**
 * The float64 reference of the Fourier embedding's channels (`src/embedding.ts`):
 * what the first dense layer reads in place of the raw inputs.
 *
 * With θ_f = Σ_a B_fa x̂_a and x̂_a = s_a x_a + o_a, so ∂θ_f/∂x_a = ω_fa = B_fa s_a:
 *
 *   value   cos θ,            sin θ,            x̂_a
 *   ∂_a     −ω_a sin θ,       ω_a cos θ,        s_a e_a
 *   ∂_aa    −ω_a² cos θ,      −ω_a² sin θ,      0
 *   ∂_ab    −ω_a ω_b cos θ,   −ω_a ω_b sin θ,   0
 *
 * (rows 0..M−1 the cosines, M..2M−1 the sines, then x̂ when `raw`).
 *
 * @module
 */
import { channelCount, type ChannelSet } from "../problems/expr.ts";
import { embeddingWidth, type FourierEmbedding } from "../embedding.ts";

/**
 * The embedding's C channels at point `x` for channel set `set` (C × E,
 * channel-major: channel c's features at c·E), in the channel order of
 * `mlp64.ts` (value, first, pure second, mixed).
 *
 * @example Value and ∂_x channels of a one-frequency embedding
 * ```ts
 * import { embeddingChannels } from "./embedding64.ts";
 * const e = { kind: "fourier" as const, scale: 1, B: [[0.5]], domain: [[0, 1]] as [number, number][], raw: false };
 * const ch = embeddingChannels(e, [0.25], { first: [0], numSecond: 0 });
 * console.log(ch.length); // 4: (cos, sin) of the value, then of ∂_x
 * ```
 */
export function embeddingChannels(
  e: FourierEmbedding,
  x: readonly number[],
  set: ChannelSet,
): Float64Array {
  const d = e.domain.length, M = e.B.length, E = embeddingWidth(e), C = channelCount(set);
  if (x.length !== d) {
    throw new Error(`point [${x}] has ${x.length} coordinates, the embedding takes ${d}`);
  }
  const s = e.domain.map(([lo, hi]) => 2 / (hi - lo));
  const xh = x.map((v, a) =>
    s[a] * v - (e.domain[a][1] + e.domain[a][0]) / (e.domain[a][1] - e.domain[a][0])
  );
  // Channel c as [first direction, second direction] (-1: none).
  const kinds: [number, number][] = [[-1, -1]];
  for (const a of set.first) kinds.push([a, -1]);
  for (let q = 0; q < set.numSecond; q++) kinds.push([set.first[q], set.first[q]]);
  for (const [a, b] of set.mixed ?? []) kinds.push([a, b]);
  const out = new Float64Array(C * E);
  for (let f = 0; f < M; f++) {
    const theta = e.B[f].reduce((acc, b, a) => acc + b * xh[a], 0);
    const c0 = Math.cos(theta), s0 = Math.sin(theta);
    const w = e.B[f].map((b, a) => b * s[a]);
    kinds.forEach(([a, b], c) => {
      let cv: number, sv: number;
      if (a < 0) [cv, sv] = [c0, s0];
      else if (b < 0) [cv, sv] = [-w[a] * s0, w[a] * c0];
      else [cv, sv] = [-w[a] * w[b] * c0, -w[a] * w[b] * s0];
      out[c * E + f] = cv;
      out[c * E + M + f] = sv;
    });
  }
  if (e.raw) {
    kinds.forEach(([a, b], c) => {
      for (let k = 0; k < d; k++) {
        out[c * E + 2 * M + k] = a < 0 ? xh[k] : b < 0 && k === a ? s[k] : 0;
      }
    });
  }
  return out;
}
