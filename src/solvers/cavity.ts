/**
 * Steady lid-driven cavity flow (float64, CPU): the reference of the `cavity`
 * problem, which has no closed form.
 *
 * Ω = [0, 1]², no-slip walls, a uniform lid u = 1, v = 0 on y = 1 (as in Ghia, Ghia
 * & Shin 1982), Reynolds number Re (default 100). Stream function–vorticity form
 * (u = ψ_y, v = −ψ_x, ω = v_x − u_y = −Δψ) on an n × n node grid, second-order
 * central differences everywhere:
 *
 * - ω is marched to steady state in pseudo-time by Peaceman–Rachford ADI (convection
 *   and diffusion implicit along one axis per half step, one tridiagonal solve per
 *   grid line), with Thom's second-order-accurate wall vorticity
 *   ω_wall = −2ψ_adjacent/h² (− 2U/h on the lid);
 * - after each step Δψ = −ω is solved exactly (sine transform along x, tridiagonal
 *   along y), so ψ and ω never drift apart.
 *
 * The pressure is the least-squares fit of ∇p to the momentum equations (a pressure
 * Poisson equation with their Neumann data; see {@linkcode pressure}), pinned to
 * p = 0 at {@linkcode CAVITY_PRESSURE_PIN} (0.5, 0), the middle of the bottom wall.
 * At the two lid corners the velocity jumps, so ω and p are singular there (as in
 * every solution of this problem).
 *
 * @module
 */
import { solveTridiagonal, TrigTransform } from "./fft.ts";
import { CAVITY_PRESSURE_PIN, pressure } from "./cavity_pressure.ts";
import { interpolateCubic } from "./interp.ts";
import { cachedArrays } from "./store.ts";
import { UserError } from "../errors.ts";

export { CAVITY_PRESSURE_PIN };

/** Options of {@linkcode solveCavity}. */
export interface CavityOptions {
  /** Nodes per side, 2^k + 1 (33, 65, 129, 257, …). Default 129. */
  n?: number;
  /** Reynolds number U·1/ν. Default 100. */
  re?: number;
  /** Pseudo-time step of the ADI iteration. Default min(0.1, 5.12/(n − 1)). */
  dt?: number;
  /**
   * Under-relaxation α of the wall vorticity (ω_wall ← α·Thom + (1 − α)·ω_wall).
   * Lagging Thom's condition is unstable once ν·dt/h² exceeds about 1; relaxing it
   * by α ≈ 0.6·h²/(ν·dt) (the default, at most 1) keeps large pseudo-time steps stable.
   */
  wallRelax?: number;
  /** Stop when max|Δω| per unit pseudo-time ≤ tol · max|ω| (default 1e-8). */
  tol?: number;
  /** Iteration cap (default 50000); reaching it throws. */
  maxSteps?: number;
}

/** A steady cavity solution on an n × n node grid; arrays are row-major with x fastest (index j·n + i). */
export interface CavitySolution {
  n: number;
  re: number;
  /** Stream function, vorticity, velocity and pressure at the nodes (x_i = i/(n−1), y_j = j/(n−1)). */
  psi: Float64Array;
  omega: Float64Array;
  u: Float64Array;
  v: Float64Array;
  p: Float64Array;
  /** Pseudo-time steps taken, the step used and the final relative change. */
  steps: number;
  dt: number;
  change: number;
}

/**
 * Default pseudo-time step. Measured at Re = 100: dt = 0.1 converged on 129² and
 * 0.05 diverged on 257² (whatever the wall relaxation), 0.02 converged there.
 */
function defaultDt(n: number): number {
  return Math.min(0.1, 5.12 / (n - 1));
}

/** Solves Δψ = −ω in the interior with ψ = 0 on the walls (exact for the 5-point stencil). */
class StreamSolver {
  readonly #n: number;
  readonly #dst: TrigTransform;
  readonly #work: Float64Array;
  readonly #lam: Float64Array;
  readonly #lower: Float64Array;
  readonly #upper: Float64Array;
  readonly #diag: Float64Array;
  readonly #col: Float64Array;
  readonly #scratch: Float64Array;

  constructor(n: number) {
    const m = n - 2, h = 1 / (n - 1);
    this.#n = n;
    this.#dst = new TrigTransform("sin", m);
    this.#work = new Float64Array(m * m);
    this.#lam = new Float64Array(m);
    for (let k = 0; k < m; k++) {
      this.#lam[k] = (2 * Math.cos((Math.PI * (k + 1)) / (m + 1)) - 2) / (h * h);
    }
    this.#lower = new Float64Array(m).fill(1 / (h * h));
    this.#upper = new Float64Array(m).fill(1 / (h * h));
    this.#diag = new Float64Array(m);
    this.#col = new Float64Array(m);
    this.#scratch = new Float64Array(m);
  }

  solve(omega: Float64Array, psi: Float64Array): void {
    const n = this.#n, m = n - 2, w = this.#work, h2 = 1 / ((n - 1) * (n - 1));
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < m; i++) w[j * m + i] = -omega[(j + 1) * n + i + 1];
    }
    this.#rows(w, m);
    for (let k = 0; k < m; k++) {
      // Mode k along x: ψ_{j+1} − 2ψ_j + ψ_{j−1} + h²λ_k ψ_j = h² f_j, all scaled by 1/h².
      this.#diag.fill(-2 / h2 + this.#lam[k]);
      for (let j = 0; j < m; j++) this.#col[j] = w[j * m + k];
      solveTridiagonal(this.#lower, this.#diag, this.#upper, this.#col, this.#scratch, m);
      for (let j = 0; j < m; j++) w[j * m + k] = this.#col[j];
    }
    this.#rows(w, m);
    const scale = 2 / (m + 1);
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < m; i++) psi[(j + 1) * n + i + 1] = scale * w[j * m + i];
    }
  }

  /** Sine transform of every row of the m × m array w, two rows per FFT. */
  #rows(w: Float64Array, m: number): void {
    for (let j = 0; j < m; j += 2) this.#dst.applyPair(w, j * m, j + 1 < m ? (j + 1) * m : -1, 1);
  }
}

/**
 * Thom's wall vorticity from ψ (ψ = 0 on the walls, the lid moving at u = 1), blended
 * with the previous wall values by `alpha`. Corners: the mean of both neighbours.
 */
function wallVorticity(psi: Float64Array, omega: Float64Array, n: number, alpha = 1): void {
  const h = 1 / (n - 1), c = -2 / (h * h), top = (n - 1) * n, b = 1 - alpha;
  for (let k = 1; k < n - 1; k++) {
    omega[k] = alpha * c * psi[n + k] + b * omega[k]; // bottom
    omega[top + k] = alpha * (c * psi[top - n + k] - 2 / h) + b * omega[top + k]; // lid
    omega[k * n] = alpha * c * psi[k * n + 1] + b * omega[k * n]; // left
    omega[k * n + n - 1] = alpha * c * psi[k * n + n - 2] + b * omega[k * n + n - 1]; // right
  }
  omega[0] = 0.5 * (omega[1] + omega[n]);
  omega[n - 1] = 0.5 * (omega[n - 2] + omega[2 * n - 1]);
  omega[top] = 0.5 * (omega[top + 1] + omega[top - n]);
  omega[top + n - 1] = 0.5 * (omega[top + n - 2] + omega[top - 1]);
}

/**
 * One Peaceman–Rachford ADI step of ω_t + u ω_x + v ω_y = ν Δω over the interior,
 * with the wall values of `omega` held fixed. Writes the new interior into `omega`.
 */
function adiStep(
  psi: Float64Array,
  omega: Float64Array,
  half: Float64Array,
  nu: number,
  dt: number,
  n: number,
  lines: {
    lower: Float64Array;
    diag: Float64Array;
    upper: Float64Array;
    rhs: Float64Array;
    scratch: Float64Array;
  },
): void {
  const h = 1 / (n - 1), r = dt / 2, m = n - 2;
  const d = nu / (h * h), a = 1 / (2 * h);
  const { lower, diag, upper, rhs, scratch } = lines;
  half.set(omega);
  // Half step 1: implicit along x (rows), explicit along y.
  for (let j = 1; j < n - 1; j++) {
    for (let i = 1; i < n - 1; i++) {
      const c = j * n + i;
      const u = (psi[c + n] - psi[c - n]) * a, v = -(psi[c + 1] - psi[c - 1]) * a;
      const k = i - 1;
      lower[k] = -r * (u * a + d);
      diag[k] = 1 + 2 * r * d;
      upper[k] = -r * (-u * a + d);
      rhs[k] = omega[c] +
        r *
          (-v * a * (omega[c + n] - omega[c - n]) +
            d * (omega[c + n] - 2 * omega[c] + omega[c - n]));
    }
    rhs[0] -= lower[0] * omega[j * n];
    rhs[m - 1] -= upper[m - 1] * omega[j * n + n - 1];
    solveTridiagonal(lower, diag, upper, rhs, scratch, m);
    for (let k = 0; k < m; k++) half[j * n + k + 1] = rhs[k];
  }
  // Half step 2: implicit along y (columns), explicit along x from the half-step values.
  for (let i = 1; i < n - 1; i++) {
    for (let j = 1; j < n - 1; j++) {
      const c = j * n + i;
      const u = (psi[c + n] - psi[c - n]) * a, v = -(psi[c + 1] - psi[c - 1]) * a;
      const k = j - 1;
      lower[k] = -r * (v * a + d);
      diag[k] = 1 + 2 * r * d;
      upper[k] = -r * (-v * a + d);
      rhs[k] = half[c] +
        r * (-u * a * (half[c + 1] - half[c - 1]) + d * (half[c + 1] - 2 * half[c] + half[c - 1]));
    }
    rhs[0] -= lower[0] * omega[i];
    rhs[m - 1] -= upper[m - 1] * omega[(n - 1) * n + i];
    solveTridiagonal(lower, diag, upper, rhs, scratch, m);
    for (let k = 0; k < m; k++) omega[(k + 1) * n + i] = rhs[k];
  }
}

/** Checks n = 2^k + 1 ≥ 9 (the transforms need power-of-two lengths). */
function checkN(n: number): void {
  const k = Math.log2(n - 1);
  if (!Number.isInteger(n) || n < 9 || !Number.isInteger(k)) {
    throw new UserError(
      "n",
      `The cavity grid size n = ${n} is not 2^k + 1 ≥ 9; pass e.g. 129 or 257.`,
    );
  }
}

/** Computes the steady cavity flow; see the module documentation for the method. */
export function solveCavity(opts: CavityOptions = {}): CavitySolution {
  const n = opts.n ?? 129, re = opts.re ?? 100, tol = opts.tol ?? 1e-8;
  checkN(n);
  if (!(re > 0 && Number.isFinite(re))) {
    throw new UserError("re", `The Reynolds number re = ${re} is not positive; pass e.g. 100.`);
  }
  const dt = opts.dt ?? defaultDt(n), maxSteps = opts.maxSteps ?? 50000, nu = 1 / re;
  const alpha = opts.wallRelax ?? Math.min(1, (0.6 / (nu * dt)) / ((n - 1) * (n - 1)));
  const psi = new Float64Array(n * n), omega = new Float64Array(n * n);
  const prev = new Float64Array(n * n), half = new Float64Array(n * n);
  const m = n - 2;
  const lines = {
    lower: new Float64Array(m),
    diag: new Float64Array(m),
    upper: new Float64Array(m),
    rhs: new Float64Array(m),
    scratch: new Float64Array(m),
  };
  const stream = new StreamSolver(n);
  wallVorticity(psi, omega, n, 1);
  let steps = 0, change = Infinity;
  while (steps < maxSteps) {
    prev.set(omega);
    adiStep(psi, omega, half, nu, dt, n, lines);
    stream.solve(omega, psi);
    wallVorticity(psi, omega, n, alpha);
    steps++;
    let maxDiff = 0, maxAbs = 0;
    for (let c = 0; c < n * n; c++) {
      maxDiff = Math.max(maxDiff, Math.abs(omega[c] - prev[c]));
      maxAbs = Math.max(maxAbs, Math.abs(omega[c]));
    }
    change = maxDiff / (dt * maxAbs);
    if (!Number.isFinite(change)) {
      throw new UserError(
        "dt",
        `The cavity solver diverged at step ${steps} with dt = ${dt}; pass a smaller dt.`,
      );
    }
    if (change <= tol) break;
  }
  if (change > tol) {
    throw new UserError(
      "maxSteps",
      `The cavity solver did not reach tol ${tol} in ${maxSteps} steps (change ${change}); raise maxSteps or tol.`,
    );
  }
  const { u, v } = velocities(psi, n);
  const p = pressure(u, v, omega, n, nu);
  return { n, re, psi, omega, u, v, p, steps, dt, change };
}

/** Node velocities: central differences of ψ inside, the wall values on the walls (the whole top row is lid). */
export function velocities(psi: Float64Array, n: number): { u: Float64Array; v: Float64Array } {
  const a = (n - 1) / 2, u = new Float64Array(n * n), v = new Float64Array(n * n);
  for (let j = 1; j < n - 1; j++) {
    for (let i = 1; i < n - 1; i++) {
      const c = j * n + i;
      u[c] = (psi[c + n] - psi[c - n]) * a;
      v[c] = -(psi[c + 1] - psi[c - 1]) * a;
    }
  }
  for (let i = 0; i < n; i++) u[(n - 1) * n + i] = 1;
  return { u, v };
}

/** Version of the solver's output: bump it when a change alters the numbers, so caches recompute. */
export const CAVITY_SOLVER_VERSION = 1;

/** Grid of the reference solution: 257 × 257 nodes (h = 1/256). */
export const CAVITY_REFERENCE_N = 257;

/** The cavity reference on its grid, with the figures of the run that computed it. */
export interface CavityGrid {
  n: number;
  re: number;
  u: Float64Array;
  v: Float64Array;
  p: Float64Array;
  /** Pseudo-time steps and wall time (ms) of the solve (an earlier process's when cached). */
  steps: number;
  wallMs: number;
}

/**
 * The reference solution's u, v and p on its n × n grid, computed once per machine
 * and kept in the cache folder (`cavity-re<Re>-n<n>-v<version>.bin`).
 */
export function cavityGrid(opts: { n?: number; re?: number } = {}): CavityGrid {
  const n = opts.n ?? CAVITY_REFERENCE_N, re = opts.re ?? 100, tol = 1e-8;
  checkN(n);
  const key = { solver: "cavity", version: CAVITY_SOLVER_VERSION, n, re, tol };
  const { arrays: [u, v, p], meta } = cachedArrays(
    `cavity-re${re}-n${n}-v${CAVITY_SOLVER_VERSION}.bin`,
    key,
    [n * n, n * n, n * n],
    () => {
      const t0 = performance.now();
      const s = solveCavity({ n, re, tol });
      return { arrays: [s.u, s.v, s.p], meta: { steps: s.steps, wallMs: performance.now() - t0 } };
    },
  );
  return { n, re, u, v, p, steps: Number(meta.steps), wallMs: Number(meta.wallMs) };
}

/**
 * The cavity reference [u, v, p] at (x, y) points of [0, 1]² (others are clamped to
 * it): bicubic interpolation of {@linkcode cavityGrid}'s solution, computed or loaded
 * from the cache on the first call.
 */
export function cavityReference(
  points: number[][],
  opts: { n?: number; re?: number } = {},
): Float64Array[] {
  const { n, u, v, p } = cavityGrid(opts);
  // Grid arrays are indexed j·n + i (y slow, x fast): interpolate at (y, x).
  const swapped = points.map(([x, y]) => [y, x]);
  return interpolateCubic({ shape: [n, n], lo: [0, 0], hi: [1, 1] }, [u, v, p], swapped);
}
