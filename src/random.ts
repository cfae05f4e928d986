/**
 * Philox4x32-10, the counter-based generator shared by the CPU (initialisation,
 * sampling, tests) and the GPU (`shaders/random.wgsl`), so both produce the same
 * stream for the same (seed, counter).
 *
 * @module
 */

const M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

/** High 32 bits of the 64-bit product of two u32 values (16-bit limbs, as in the WGSL). */
export function mulhi(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/** Philox4x32 with 10 rounds on counter (c0..c3) and key (k0, k1). */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
): [number, number, number, number] {
  let x0 = c0 >>> 0, x1 = c1 >>> 0, x2 = c2 >>> 0, x3 = c3 >>> 0;
  let key0 = k0 >>> 0, key1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, x0), lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2), lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  return [x0, x1, x2, x3];
}

/** A u32 word to a uniform number in (0, 1), exactly representable in float32. */
export const toUniform = (w: number): number => ((w >>> 8) + 0.5) / 16777216;

/** Stream tags keep unrelated uses of one seed apart (the key's second word). */
export const Stream = {
  init: 0x1a17,
  points: 0x9017,
  direction: 0xd1ec,
  residual: 0x4e51,
} as const;

/**
 * The standard normal drawn for (seed, step, direction, index) by Box–Muller on
 * words 0 and 1; the GPU generator returns the same value up to float32 rounding.
 */
export function gaussianAt(
  seed: number,
  stream: number,
  step: number,
  dir: number,
  index: number,
): number {
  const [a, b] = philox4x32(index, dir, step, 0, seed, stream);
  return Math.sqrt(-2 * Math.log(toUniform(a))) * Math.cos(2 * Math.PI * toUniform(b));
}

/** ±1 drawn for (seed, step, direction, index) from the top bit of word 0. */
export function rademacherAt(
  seed: number,
  stream: number,
  step: number,
  dir: number,
  index: number,
): number {
  const [a] = philox4x32(index, dir, step, 0, seed, stream);
  return a >>> 31 ? -1 : 1;
}

/** A sequential uniform generator over one Philox stream (for sampling points). */
export class UniformStream {
  #seed: number;
  #stream: number;
  #counter = 0;
  #buf: number[] = [];
  constructor(seed: number, stream: number) {
    this.#seed = seed >>> 0;
    this.#stream = stream >>> 0;
  }
  /** The next number in (0, 1). */
  next(): number {
    if (this.#buf.length === 0) {
      const w = philox4x32(this.#counter++, 0, 0, 0, this.#seed, this.#stream);
      this.#buf = w.map(toUniform).reverse();
    }
    return this.#buf.pop()!;
  }
}
