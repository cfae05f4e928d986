/**
 * Float64 transforms and a tridiagonal solver for the reference solvers: a radix-2
 * complex FFT, and the sine (DST-I) and cosine (DCT-I) transforms that diagonalise
 * the second-difference operator with Dirichlet and Neumann ends. They make the
 * Poisson solves of the cavity solver exact and O(N² log N).
 *
 * @module
 */

/** A reusable radix-2 FFT of one power-of-two length (tables built once). */
export class Fft {
  /** The transform length (a power of two). */
  readonly n: number;
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;
  readonly #rev: Uint32Array;

  /** Builds the twiddle and bit-reversal tables for length `n`. */
  constructor(n: number) {
    if (n < 2 || (n & (n - 1)) !== 0) throw new RangeError(`FFT length ${n} is not a power of 2`);
    this.n = n;
    this.#cos = new Float64Array(n / 2);
    this.#sin = new Float64Array(n / 2);
    for (let k = 0; k < n / 2; k++) {
      this.#cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.#sin[k] = -Math.sin((2 * Math.PI * k) / n);
    }
    this.#rev = new Uint32Array(n);
    const bits = Math.log2(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.#rev[i] = r;
    }
  }

  /** In place: (re, im) ← Σ_j x_j e^{−2πi jk/n}. */
  transform(re: Float64Array, im: Float64Array): void {
    const n = this.n, rev = this.#rev;
    for (let i = 0; i < n; i++) {
      const j = rev[i];
      if (j > i) {
        let t = re[i];
        re[i] = re[j];
        re[j] = t;
        t = im[i];
        im[i] = im[j];
        im[j] = t;
      }
    }
    for (let size = 2; size <= n; size *= 2) {
      const half = size / 2, step = n / size;
      for (let start = 0; start < n; start += size) {
        for (let k = 0; k < half; k++) {
          const wr = this.#cos[k * step], wi = this.#sin[k * step];
          const a = start + k, b = a + half;
          const tr = re[b] * wr - im[b] * wi;
          const ti = re[b] * wi + im[b] * wr;
          re[b] = re[a] - tr;
          im[b] = im[a] - ti;
          re[a] += tr;
          im[a] += ti;
        }
      }
    }
  }
}

/**
 * Batched DST-I and DCT-I of length m along one axis of a row-major (rows × cols)
 * array. DST-I of m points (Dirichlet ends excluded) needs 2(m + 1) a power of two;
 * DCT-I of m points (ends included) needs 2(m − 1) a power of two.
 */
export class TrigTransform {
  readonly #fft: Fft;
  readonly #re: Float64Array;
  readonly #im: Float64Array;

  /** A transform of `m` points of the given kind. */
  constructor(readonly kind: "sin" | "cos", readonly m: number) {
    this.#fft = new Fft(kind === "sin" ? 2 * (m + 1) : 2 * (m - 1));
    this.#re = new Float64Array(this.#fft.n);
    this.#im = new Float64Array(this.#fft.n);
  }

  /**
   * In place on `m` values at data[offset + i·stride]:
   * sin: X_k = Σ_{j=1..m} x_j sin(πjk/(m+1)), k = 1..m;
   * cos: X_k = ½x_0 + ½(−1)^k x_{m−1} + Σ_{j=1..m−2} x_j cos(πjk/(m−1)).
   * Applying either twice gives the input times (m+1)/2 (sin) or (m−1)/2 (cos).
   */
  apply(data: Float64Array, offset: number, stride: number): void {
    this.applyPair(data, offset, -1, stride);
  }

  /**
   * {@linkcode TrigTransform.apply} on two sequences (at offsets a and b; b < 0: a
   * alone) with one complex FFT: both extensions are real and odd (sin) or even (cos),
   * so their FFTs are purely imaginary or real, and one in the real and one in the
   * imaginary part of the input separate exactly.
   */
  applyPair(data: Float64Array, a: number, b: number, stride: number): void {
    const m = this.m, re = this.#re, im = this.#im, n = this.#fft.n;
    if (this.kind === "sin") {
      // Odd extension [0, x_1..x_m, 0, −x_m..−x_1]: its FFT is −2i times the DST.
      re[0] =
        re[m + 1] =
        im[0] =
        im[m + 1] =
          0;
      for (let j = 0; j < m; j++) {
        const x = data[a + j * stride], y = b < 0 ? 0 : data[b + j * stride];
        re[j + 1] = x;
        re[n - 1 - j] = -x;
        im[j + 1] = y;
        im[n - 1 - j] = -y;
      }
      this.#fft.transform(re, im);
      for (let k = 0; k < m; k++) {
        data[a + k * stride] = -0.5 * im[k + 1];
        if (b >= 0) data[b + k * stride] = 0.5 * re[k + 1];
      }
    } else {
      // Even extension [x_0..x_{m−1}, x_{m−2}..x_1]: its FFT is twice the DCT-I.
      for (let j = 0; j < m; j++) {
        re[j] = data[a + j * stride];
        im[j] = b < 0 ? 0 : data[b + j * stride];
      }
      for (let j = 1; j < m - 1; j++) {
        re[n - j] = re[j];
        im[n - j] = im[j];
      }
      this.#fft.transform(re, im);
      for (let k = 0; k < m; k++) {
        data[a + k * stride] = 0.5 * re[k];
        if (b >= 0) data[b + k * stride] = 0.5 * im[k];
      }
    }
  }
}

/**
 * Solves a tridiagonal system in place (Thomas algorithm, no pivoting: the callers'
 * systems are diagonally dominant). lower[i]·x[i−1] + diag[i]·x[i] + upper[i]·x[i+1] = rhs[i];
 * `rhs` is overwritten by x, `scratch` (length ≥ n) by the eliminated upper diagonal.
 */
export function solveTridiagonal(
  lower: ArrayLike<number>,
  diag: ArrayLike<number>,
  upper: ArrayLike<number>,
  rhs: Float64Array,
  scratch: Float64Array,
  n: number,
): void {
  let b = diag[0];
  scratch[0] = upper[0] / b;
  rhs[0] /= b;
  for (let i = 1; i < n; i++) {
    b = diag[i] - lower[i] * scratch[i - 1];
    scratch[i] = upper[i] / b;
    rhs[i] = (rhs[i] - lower[i] * rhs[i - 1]) / b;
  }
  for (let i = n - 2; i >= 0; i--) rhs[i] -= scratch[i] * rhs[i + 1];
}
