/**
 * Random Fourier features of the inputs (Tancik et al. 2020; Wang, Wang &
 * Perdikaris 2021), as jaxpi's `FourierEmbs` writes them:
 *
 *   γ(x) = [cos(B x̂), sin(B x̂)]  (then x̂ itself when `raw`),
 *
 * with B a fixed M × d matrix of N(0, σ²) entries drawn from the run's seed and x̂
 * the input mapped to [−1, 1] over the problem's domain: x̂_a = s_a x_a + o_a with
 * s_a = 2/(hi − lo), o_a = −(hi + lo)/(hi − lo). The map makes σ mean the same on
 * every domain, and centres the phases (on raw x ∈ [0, 1]ᵈ every feature starts at
 * the same value in the corner x = 0, as zero-bias hyperplanes did before
 * `--init centered`).
 *
 * B is not a parameter: the first dense layer reads γ and its derivative channels
 * as its input (they are closed form, see `embeddingWidth` and the reference in
 * `src/reference/embedding64.ts`), and the backward pass stops there. Model files
 * carry B, the domain map and `raw`, so a saved model evaluates the same anywhere.
 *
 * @module
 */
import { check, UserError } from "./errors.ts";
import { gaussianAt } from "./random.ts";

/** A fixed random Fourier embedding of the inputs. */
export interface FourierEmbedding {
  /** Kind tag (the only kind so far). */
  kind: "fourier";
  /** σ_B, the standard deviation B was drawn with (recorded; the features read B). */
  scale: number;
  /** B, M rows of d frequencies (applied to x̂). */
  B: number[][];
  /** The box x̂ maps to [−1, 1]: one [lo, hi] per input. */
  domain: [number, number][];
  /** Append x̂ itself after the features. */
  raw: boolean;
}

/** What a caller chooses: M features (cos and sin each), scale σ, and whether to keep x̂. */
export interface FourierSpec {
  /** Number of frequencies M (the embedding has 2M features, plus d with `raw`). */
  features: number;
  /** σ_B, the standard deviation of B's entries. */
  scale: number;
  /** Keep x̂ alongside the features (default false, as jaxpi). */
  raw?: boolean;
}

/** Most frequencies M: 2M features must fit the engine's widest layer. */
export const MAX_FOURIER_FEATURES = 256;

/** Stream tag of B's draws (apart from the initial weights' stream of the same seed). */
const EMBED_STREAM = 0xf0e1;

/** Width of the first dense layer's input: 2M, plus d with `raw`. */
export function embeddingWidth(e: FourierEmbedding): number {
  return 2 * e.B.length + (e.raw ? e.domain.length : 0);
}

/**
 * The dense network's widths: `sizes` ([d, W, …, m], as flags and files give
 * them) with the input width replaced by the embedding's.
 */
export function denseSizes(sizes: readonly number[], e?: FourierEmbedding): number[] {
  return e ? [embeddingWidth(e), ...sizes.slice(1)] : [...sizes];
}

/** Draws B (M × d, entries N(0, σ²)) from `seed` for inputs on `domain`. */
export function fourierEmbedding(
  spec: FourierSpec,
  domain: readonly (readonly [number, number])[],
  seed: number,
): FourierEmbedding {
  checkFourierSpec(spec, "--fourier");
  const d = domain.length;
  const B = Array.from(
    { length: spec.features },
    (_, f) =>
      Array.from({ length: d }, (_, a) => spec.scale * gaussianAt(seed, EMBED_STREAM, 0, f, a)),
  );
  return {
    kind: "fourier",
    scale: spec.scale,
    B,
    domain: domain.map(([lo, hi]) => [lo, hi]),
    raw: spec.raw ?? false,
  };
}

/** Throws a {@linkcode UserError} naming `input` unless `spec` is usable. */
export function checkFourierSpec(spec: FourierSpec, input: string): void {
  check(
    Number.isInteger(spec.features) && spec.features >= 1 &&
      spec.features <= MAX_FOURIER_FEATURES,
    input,
    `${input}: the number of frequencies M must be a whole number from 1 to ${MAX_FOURIER_FEATURES} (e.g. --fourier 64:1); got ${spec.features}.`,
  );
  check(
    Number.isFinite(spec.scale) && spec.scale > 0 && spec.scale <= 1000,
    input,
    `${input}: the scale σ must be a positive number up to 1000 (e.g. --fourier 64:1); got ${spec.scale}.`,
  );
}

/**
 * Parses `M:σ` or `M:σ:raw` (the `--fourier` flag); `off` (or `none`) gives null,
 * so a problem's recommendation can be turned off.
 */
export function parseFourierSpec(text: string, input = "--fourier"): FourierSpec | null {
  const t = text.trim();
  if (t === "off" || t === "none") return null;
  const parts = t.split(":");
  const m = /^\d+$/.test(parts[0] ?? "") ? Number(parts[0]) : NaN;
  const s = parts[1] !== undefined && parts[1].trim() !== "" ? Number(parts[1]) : NaN;
  if (
    parts.length < 2 || parts.length > 3 || Number.isNaN(m) || Number.isNaN(s) ||
    (parts.length === 3 && parts[2] !== "raw")
  ) {
    throw new UserError(
      input,
      `${input} takes M:σ or M:σ:raw (e.g. 64:1 for 64 frequencies of scale 1, or off); got "${
        t.slice(0, 40)
      }".`,
    );
  }
  const spec: FourierSpec = { features: m, scale: s, ...(parts.length === 3 ? { raw: true } : {}) };
  checkFourierSpec(spec, input);
  return spec;
}

/** The spec as the flag spells it (`64:1`, `64:1:raw`). */
export function formatFourierSpec(spec: FourierSpec): string {
  return `${spec.features}:${spec.scale}${spec.raw ? ":raw" : ""}`;
}

/**
 * Validates a model file's `embedding` field (`path` names the file); `d` is the
 * problem's input count.
 */
export function embeddingFromValue(value: unknown, path: string, d: number): FourierEmbedding {
  const fix = "write it with `init` or `train`, or remove the field for a plain network";
  const e = value as Record<string, unknown>;
  check(
    typeof e === "object" && e !== null && e.kind === "fourier",
    path,
    `Model file ${path} has an "embedding" that is not {"kind": "fourier", …}; ${fix}.`,
  );
  const B = e.B as unknown[];
  check(
    Array.isArray(B) && B.length >= 1 && B.length <= MAX_FOURIER_FEATURES &&
      B.every((row) =>
        Array.isArray(row) && row.length === d &&
        row.every((v) => typeof v === "number" && Number.isFinite(v))
      ),
    path,
    `Model file ${path}: "embedding.B" must be 1 to ${MAX_FOURIER_FEATURES} rows of ${d} finite numbers (one per input); ${fix}.`,
  );
  const domain = e.domain as unknown[];
  check(
    Array.isArray(domain) && domain.length === d &&
      domain.every((iv) =>
        Array.isArray(iv) && iv.length === 2 && iv.every((v) => Number.isFinite(v)) &&
        (iv[1] as number) > (iv[0] as number)
      ),
    path,
    `Model file ${path}: "embedding.domain" must hold ${d} intervals [lo, hi] with lo < hi; ${fix}.`,
  );
  check(
    typeof e.scale === "number" && Number.isFinite(e.scale) &&
      (e.raw === undefined || typeof e.raw === "boolean"),
    path,
    `Model file ${path}: "embedding" needs "scale" as a number and "raw" as true or false; ${fix}.`,
  );
  return {
    kind: "fourier",
    scale: e.scale as number,
    B: (B as number[][]).map((row) => [...row]),
    domain: (domain as [number, number][]).map(([lo, hi]) => [lo, hi]),
    raw: (e.raw as boolean | undefined) ?? false,
  };
}

/**
 * The features' phases as frequencies in the raw inputs: B x̂ = Ω x + φ with
 * Ω_fa = B_fa s_a and φ_f = Σ_a B_fa o_a (float64; the GPU kernel reads them).
 */
export function embeddingPhases(e: FourierEmbedding): { omega: number[][]; phi: number[] } {
  const s = e.domain.map(([lo, hi]) => 2 / (hi - lo));
  const o = e.domain.map(([lo, hi]) => -(hi + lo) / (hi - lo));
  return {
    omega: e.B.map((row) => row.map((b, a) => b * s[a])),
    phi: e.B.map((row) => row.reduce((acc, b, a) => acc + b * o[a], 0)),
  };
}
