/**
 * The cavity pressure from a converged velocity and vorticity field.
 *
 * @module
 */
import { TrigTransform } from "./fft.ts";

/** The point (x, y) where the reference pressure is pinned to 0: the middle of the bottom wall. */
export const CAVITY_PRESSURE_PIN: readonly [number, number] = [0.5, 0];

/** ∂a/∂x and ∂a/∂y on all nodes: central inside, second-order one-sided on the walls. */
function gradient(a: Float64Array, n: number): { dx: Float64Array; dy: Float64Array } {
  const h2 = 2 / (n - 1), dx = new Float64Array(n * n), dy = new Float64Array(n * n);
  const d = (at: (k: number) => number, k: number): number =>
    k === 0
      ? (-3 * at(0) + 4 * at(1) - at(2)) * ((n - 1) / 2)
      : k === n - 1
      ? (3 * at(n - 1) - 4 * at(n - 2) + at(n - 3)) * ((n - 1) / 2)
      : (at(k + 1) - at(k - 1)) / h2;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      dx[j * n + i] = d((q) => a[j * n + q], i);
      dy[j * n + i] = d((q) => a[q * n + i], j);
    }
  }
  return { dx, dy };
}

/**
 * The pressure on all nodes, pinned to 0 at {@linkcode CAVITY_PRESSURE_PIN}: the
 * least-squares fit of ∇p to the momentum equations' G = −(u·∇)u + νΔu, with
 * νΔu = ν(−ω_y, ω_x), over the grid's edges (edge differences p_b − p_a against h
 * times the mean of G at both ends, edges along a wall weighted ½). Its normal
 * equations are the pressure Poisson equation Δp = ∇·G with ∂p/∂n = G·n in the
 * ghost-node form, and unlike a Poisson solve with separately computed Neumann data
 * they are always consistent: the singular lid corners (where ω and p blow up) stay
 * local instead of shifting the source everywhere. Solved exactly by cosine transforms.
 */
export function pressure(
  u: Float64Array,
  v: Float64Array,
  omega: Float64Array,
  n: number,
  nu: number,
): Float64Array {
  const h = 1 / (n - 1), gu = gradient(u, n), gv = gradient(v, n), gw = gradient(omega, n);
  const gx = new Float64Array(n * n), gy = new Float64Array(n * n), f = new Float64Array(n * n);
  for (let c = 0; c < n * n; c++) {
    gx[c] = -(u[c] * gu.dx[c] + v[c] * gu.dy[c]) - nu * gw.dy[c];
    gy[c] = -(u[c] * gv.dx[c] + v[c] * gv.dy[c]) + nu * gw.dx[c];
  }
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const c = j * n + i;
      if (i < n - 1) {
        const g = (j === 0 || j === n - 1 ? 0.5 : 1) * 0.5 * (gx[c] + gx[c + 1]);
        f[c] += g;
        f[c + 1] -= g;
      }
      if (j < n - 1) {
        const g = (i === 0 || i === n - 1 ? 0.5 : 1) * 0.5 * (gy[c] + gy[c + n]);
        f[c] += g;
        f[c + n] -= g;
      }
    }
  }
  // Divide by h times the node's weight (1 inside, ½ on a wall, ¼ in a corner): the
  // ghost-node Neumann operator D of the cosine transform.
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      const w = (i === 0 || i === n - 1 ? 0.5 : 1) * (j === 0 || j === n - 1 ? 0.5 : 1);
      f[j * n + i] /= h * w;
    }
  }
  const dct = new TrigTransform("cos", n);
  const rows = () => {
    for (let j = 0; j < n; j += 2) dct.applyPair(f, j * n, j + 1 < n ? (j + 1) * n : -1, 1);
  };
  const cols = () => {
    for (let i = 0; i < n; i += 2) dct.applyPair(f, i, i + 1 < n ? i + 1 : -1, n);
  };
  rows();
  cols();
  const lam = new Float64Array(n);
  for (let k = 0; k < n; k++) lam[k] = (2 * Math.cos((Math.PI * k) / (n - 1)) - 2) / (h * h);
  // The constant mode is the null space (its coefficient of f is zero up to rounding).
  for (let l = 0; l < n; l++) {
    for (let k = 0; k < n; k++) {
      f[l * n + k] = k + l === 0 ? 0 : f[l * n + k] / (lam[k] + lam[l]);
    }
  }
  cols();
  rows();
  const scale = (2 / (n - 1)) ** 2;
  const pin = Math.round(CAVITY_PRESSURE_PIN[1] * (n - 1)) * n +
    Math.round(CAVITY_PRESSURE_PIN[0] * (n - 1));
  const p0 = f[pin] * scale;
  for (let c = 0; c < n * n; c++) f[c] = f[c] * scale - p0;
  return f;
}
