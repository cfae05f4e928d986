/**
 * The 2-D Q-tensor damped-wave system (float64, CPU): the reference of the
 * `qtensor` problem, which has no closed form.
 *
 * Q = [[Q1, Q2], [Q2, −Q1]] on Ω = [0, 2]², t ∈ [0, T]. In 2-D the b-term of the
 * Landau–de Gennes bulk energy vanishes and each component obeys
 *
 *   σ ∂_tt Q_i + ∂_t Q_i = M (L ΔQ_i − (a + 2c (Q1² + Q2²)) Q_i),  i = 1, 2,
 *
 * with Q = 0 on ∂Ω, Q(0) = n nᵀ − ½|n|² I for n = (x(2 − x) y(2 − y), sin(πx) sin(πy/2)),
 * i.e. Q1 = ½(n1² − n2²), Q2 = n1 n2, and Q_t(0) = 0 (at rest, compatible with the
 * boundary condition, so the solution is smooth and the scheme second order).
 *
 * Method: the 5-point Laplacian on an nx × nx cell grid (h = 2/nx) and the central
 * (leapfrog) scheme in time with the damping term centred,
 *
 *   σ (Q⁺ − 2Q + Q⁻)/Δt² + (Q⁺ − Q⁻)/(2Δt) = F(Q),
 *
 * explicit in the nonlinear term; the first step Q¹ = Q⁰ + Δt²/(2σ) F(Q⁰) uses
 * Q_t(0) = 0. Both are second order, stable for Δt ≤ h/(√2 √(ML/σ)) (the default
 * Δt ≈ h is under half of that; the time error is then far below the space error).
 *
 * @module
 */
import { interpolateCubic } from "./interp.ts";
import { cachedArrays } from "./store.ts";
import { check } from "../errors.ts";

/** Coefficients of the system (defaults: a = −0.2, b = 1, c = 1, M = 1, L = 0.1, σ = 1, T = 1). */
export interface QTensorParams {
  a: number;
  /** The b-term vanishes in 2-D; kept so that a parameter set states it. */
  b: number;
  c: number;
  M: number;
  L: number;
  sigma: number;
  /** Final time. */
  T: number;
}

/** The problem's parameters. */
export const QTENSOR_PARAMS: Readonly<QTensorParams> = {
  a: -0.2,
  b: 1,
  c: 1,
  M: 1,
  L: 0.1,
  sigma: 1,
  T: 1,
};

/** The initial value (Q1, Q2) at (x, y): Q = n nᵀ − ½|n|² I. */
export function qtensorInitial(x: number, y: number): [number, number] {
  const n1 = x * (2 - x) * y * (2 - y), n2 = Math.sin(Math.PI * x) * Math.sin((Math.PI * y) / 2);
  return [0.5 * (n1 * n1 - n2 * n2), n1 * n2];
}

/** Options of {@linkcode solveQTensor}. */
export interface QTensorOptions {
  /** Cells per side (h = 2/nx); (samples.nx − 1) must divide it. Default 160. */
  nx?: number;
  /** Time steps to T; (samples.nt − 1) must divide it. Default {@linkcode defaultSteps} (Δt ≈ h). */
  steps?: number;
  /** Parameters; missing ones from {@linkcode QTENSOR_PARAMS}. */
  params?: Partial<QTensorParams>;
  /** Initial value (Q1, Q2) at (x, y); default {@linkcode qtensorInitial}. It must vanish on ∂Ω. */
  initial?: (x: number, y: number) => [number, number];
  /** Output grid: nt equally spaced times in [0, T] and nx × nx nodes on [0, 2]². Default 11 × 41 × 41. */
  samples?: { nt: number; nx: number };
}

/** A solution sampled on an output grid [nt, nx, nx] (t, x, y), row-major, y fastest. */
export interface QTensorSolution {
  /** The output grid's shape [nt, nx, nx]. */
  grid: number[];
  /** [Q1, Q2] on the output grid. */
  outputs: Float64Array[];
  /** Solver cells per side, steps, Δt and wall time in ms. */
  nx: number;
  steps: number;
  dt: number;
  wallMs: number;
  params: QTensorParams;
}

/** Steps for Δt ≈ h = 2/nx, rounded up to a multiple of nt − 1 so every output time is a step. */
export function defaultSteps(nx: number, T: number, nt: number): number {
  return Math.ceil((nx * T) / 2 / (nt - 1)) * (nt - 1);
}

/** Integrates the system; see the module documentation for the method. */
export function solveQTensor(opts: QTensorOptions = {}): QTensorSolution {
  const params = { ...QTENSOR_PARAMS, ...opts.params };
  const { a, c, M, L, sigma, T } = params;
  const nx = opts.nx ?? 160, samples = opts.samples ?? { nt: 11, nx: 41 };
  const steps = opts.steps ?? defaultSteps(nx, T, samples.nt);
  check(T > 0 && Number.isFinite(T), "T", `The final time T = ${T} is not positive; pass e.g. 1.`);
  check(
    Number.isInteger(samples.nt) && samples.nt >= 2 && Number.isInteger(samples.nx) &&
      samples.nx >= 2,
    "samples",
    `The output grid ${samples.nt} × ${samples.nx}² needs integers ≥ 2; pass e.g. { nt: 11, nx: 41 }.`,
  );
  check(
    Number.isInteger(nx) && nx > 0 && nx % (samples.nx - 1) === 0,
    "nx",
    `The solver grid nx = ${nx} is not a multiple of ${
      samples.nx - 1
    } (the output grid's cells); pass e.g. ${4 * (samples.nx - 1)}.`,
  );
  check(
    Number.isInteger(steps) && steps > 0 && steps % (samples.nt - 1) === 0,
    "steps",
    `The step count ${steps} is not a multiple of ${samples.nt - 1} (the output times); pass e.g. ${
      10 * (samples.nt - 1)
    }.`,
  );
  const t0 = performance.now(), initial = opts.initial ?? qtensorInitial;
  const h = 2 / nx, dt = T / steps, n = nx + 1, N = n * n;
  const stride = nx / (samples.nx - 1), every = steps / (samples.nt - 1);
  const plane = samples.nx * samples.nx;
  const out = [new Float64Array(samples.nt * plane), new Float64Array(samples.nt * plane)];
  const record = (q1: Float64Array, q2: Float64Array, k: number): void => {
    for (let i = 0; i < samples.nx; i++) {
      for (let j = 0; j < samples.nx; j++) {
        // Arrays are indexed i·n + j with x = i·h, y = j·h: (t, x, y) order, y fastest.
        const g = i * stride * n + j * stride, o = k * plane + i * samples.nx + j;
        out[0][o] = q1[g];
        out[1][o] = q2[g];
      }
    }
  };
  let prev1 = new Float64Array(N), prev2 = new Float64Array(N);
  let cur1 = new Float64Array(N), cur2 = new Float64Array(N);
  let next1 = new Float64Array(N), next2 = new Float64Array(N);
  for (let i = 1; i < nx; i++) {
    for (let j = 1; j < nx; j++) [prev1[i * n + j], prev2[i * n + j]] = initial(i * h, j * h);
  }
  const ml = (M * L) / (h * h);
  // F(Q) at interior node g for both components; the walls stay 0.
  const force = (q1: Float64Array, q2: Float64Array, g: number, f: Float64Array): void => {
    const s = M * (a + 2 * c * (q1[g] * q1[g] + q2[g] * q2[g]));
    f[0] = ml * (q1[g + 1] + q1[g - 1] + q1[g + n] + q1[g - n] - 4 * q1[g]) - s * q1[g];
    f[1] = ml * (q2[g + 1] + q2[g - 1] + q2[g + n] + q2[g - n] - 4 * q2[g]) - s * q2[g];
  };
  const f = new Float64Array(2);
  record(prev1, prev2, 0);
  // First step from rest: Q¹ = Q⁰ + Δt²/(2σ) F(Q⁰).
  const first = (dt * dt) / (2 * sigma);
  for (let i = 1; i < nx; i++) {
    for (let j = 1; j < nx; j++) {
      const g = i * n + j;
      force(prev1, prev2, g, f);
      cur1[g] = prev1[g] + first * f[0];
      cur2[g] = prev2[g] + first * f[1];
    }
  }
  if (every === 1) record(cur1, cur2, 1);
  const A = sigma / (dt * dt), B = 1 / (2 * dt), inv = 1 / (A + B);
  for (let step = 2; step <= steps; step++) {
    for (let i = 1; i < nx; i++) {
      for (let j = 1; j < nx; j++) {
        const g = i * n + j;
        force(cur1, cur2, g, f);
        next1[g] = inv * (f[0] + A * (2 * cur1[g] - prev1[g]) + B * prev1[g]);
        next2[g] = inv * (f[1] + A * (2 * cur2[g] - prev2[g]) + B * prev2[g]);
      }
    }
    [prev1, cur1, next1] = [cur1, next1, prev1];
    [prev2, cur2, next2] = [cur2, next2, prev2];
    if (step % every === 0) record(cur1, cur2, step / every);
  }
  for (const o of out) {
    for (const v of o) {
      check(
        Number.isFinite(v),
        "steps",
        `The Q-tensor solver diverged with Δt = ${dt}; pass more steps.`,
      );
    }
  }
  const grid = [samples.nt, samples.nx, samples.nx];
  return { grid, outputs: out, nx, steps, dt, wallMs: performance.now() - t0, params };
}

/** Version of the reference's numbers: bump it when a change alters them, so caches recompute. */
export const QTENSOR_SOLVER_VERSION = 1;

/**
 * Solver grid of the reference: 640 cells per side (h = 1/320), Δt = h. Richardson
 * extrapolation does not pay here: the initial value is incompatible with the
 * boundary condition at second order (ΔQ(0) ≠ 0 on ∂Ω while Q_tt = 0 there), so the
 * spatial error converges at order ≈ 1.7 (relative L2) rather than 2.
 */
export const QTENSOR_REFERENCE_NX = 640;

/** The reference of {@linkcode qtensorReference}, with its figures. */
export interface QTensorReference {
  /** [nt, nx, nx] = [11, 41, 41] by default: times k·T/10 and x, y = 0, 0.05, …, 2. */
  grid: number[];
  /** [Q1, Q2] on the grid, (t, x, y) row-major, y fastest. */
  outputs: Float64Array[];
  /** Solver cells per side and time step. */
  nx: number;
  dt: number;
  params: QTensorParams;
  /** Wall time (ms) of the solve (an earlier process's when the reference came from the cache). */
  wallMs: number;
  /**
   * Difference on the output grid to the solution on half as many cells per side (with
   * its default Δt ≈ h), computed with the reference: max |ΔQ| and relative L2 (Q1, Q2 stacked).
   * The error against the next finer grid measured about 2.4× smaller (README).
   */
  coarser: { nx: number; max: number; relL2: number };
}

/**
 * The Q-tensor reference on an output grid (default the evaluation grid 11 × 41 × 41):
 * the solution on {@linkcode QTENSOR_REFERENCE_NX} cells per side, computed once per
 * machine with its figures and kept in the cache folder
 * (`qtensor-T<T>-<nt>x<ns>-v<version>.bin`).
 */
export function qtensorReference(
  opts: { params?: Partial<QTensorParams>; samples?: { nt: number; nx: number } } = {},
): QTensorReference {
  const params = { ...QTENSOR_PARAMS, ...opts.params };
  const samples = opts.samples ?? { nt: 11, nx: 41 };
  const nx = QTENSOR_REFERENCE_NX;
  const steps = defaultSteps(nx, params.T, samples.nt);
  const key = { solver: "qtensor", version: QTENSOR_SOLVER_VERSION, params, samples, nx };
  const size = samples.nt * samples.nx * samples.nx;
  const { arrays, meta } = cachedArrays(
    `qtensor-T${params.T}-${samples.nt}x${samples.nx}-v${QTENSOR_SOLVER_VERSION}.bin`,
    key,
    [size, size],
    () => {
      const fine = solveQTensor({ nx, steps, params, samples });
      const coarse = solveQTensor({ nx: nx / 2, params, samples });
      let max = 0, num = 0, den = 0;
      fine.outputs.forEach((f, k) =>
        f.forEach((v, i) => {
          const d = v - coarse.outputs[k][i];
          max = Math.max(max, Math.abs(d));
          num += d * d;
          den += v * v;
        })
      );
      const coarser = { nx: nx / 2, max, relL2: Math.sqrt(num / den) };
      return { arrays: fine.outputs, meta: { wallMs: fine.wallMs, coarser } };
    },
  );
  const grid = [samples.nt, samples.nx, samples.nx];
  const coarser = meta.coarser as QTensorReference["coarser"];
  return {
    grid,
    outputs: arrays,
    nx,
    dt: params.T / steps,
    params,
    wallMs: Number(meta.wallMs),
    coarser,
  };
}

/**
 * The reference [Q1, Q2] at arbitrary (t, x, y) points: tricubic interpolation of the
 * reference on a 41-time × 161 × 161 grid (cached like {@linkcode qtensorReference};
 * 17 MB). Measured interpolation error at T = 1: 7.2e-5 (max; relative L2 1.1e-5),
 * about the reference's own (1.0e-3 at T = 5, where its times are 0.125 apart);
 * on the evaluation grid prefer {@linkcode qtensorReference}'s values.
 */
export function qtensorAt(
  points: number[][],
  opts: { params?: Partial<QTensorParams> } = {},
): Float64Array[] {
  const ref = qtensorReference({ params: opts.params, samples: { nt: 41, nx: 161 } });
  const T = ref.params.T;
  return interpolateCubic({ shape: ref.grid, lo: [0, 0, 0], hi: [T, 2, 2] }, ref.outputs, points);
}
