/**
 * Tensor-product cubic interpolation on uniform grids (2-D and 3-D), for evaluating
 * the reference solvers' grid solutions at arbitrary points.
 *
 * @module
 */

/** A uniform grid: `shape[d]` nodes from `lo[d]` to `hi[d]`, row-major, last axis fastest. */
export interface UniformGrid {
  shape: number[];
  lo: number[];
  hi: number[];
}

/**
 * The 4 node indices and cubic Lagrange weights along one axis for coordinate x.
 * The stencil is shifted inward at the ends (one-sided there), so a point on the
 * boundary or a node reproduces the node value exactly; points outside are clamped.
 */
function stencil(x: number, n: number, lo: number, hi: number, w: Float64Array): number {
  if (n < 4) throw new RangeError(`cubic interpolation needs ≥ 4 nodes per axis, got ${n}`);
  const s = Math.min(Math.max(((x - lo) / (hi - lo)) * (n - 1), 0), n - 1);
  const base = Math.min(Math.max(Math.floor(s) - 1, 0), n - 4);
  const t = s - base; // position within nodes base..base+3, in [0, 3]
  w[0] = (-(t - 1) * (t - 2) * (t - 3)) / 6;
  w[1] = (t * (t - 2) * (t - 3)) / 2;
  w[2] = (-t * (t - 1) * (t - 3)) / 2;
  w[3] = (t * (t - 1) * (t - 2)) / 6;
  return base;
}

/**
 * Interpolates grid values (one Float64Array per output, all on `grid`) at `points`
 * (each with grid.shape.length coordinates) by tensor-product cubic Lagrange
 * interpolation: fourth-order accurate where the solution is smooth.
 */
export function interpolateCubic(
  grid: UniformGrid,
  values: Float64Array[],
  points: ArrayLike<number>[],
): Float64Array[] {
  const d = grid.shape.length;
  if (d !== 2 && d !== 3) throw new RangeError(`interpolation supports 2 or 3 axes, got ${d}`);
  const out = values.map(() => new Float64Array(points.length));
  const w = [new Float64Array(4), new Float64Array(4), new Float64Array(4)];
  const base = [0, 0, 0];
  const stride = grid.shape.map((_, k) => grid.shape.slice(k + 1).reduce((a, b) => a * b, 1));
  for (let p = 0; p < points.length; p++) {
    const x = points[p];
    for (let k = 0; k < d; k++) {
      base[k] = stencil(x[k], grid.shape[k], grid.lo[k], grid.hi[k], w[k]);
    }
    for (let o = 0; o < values.length; o++) {
      const v = values[o];
      let sum = 0;
      if (d === 2) {
        for (let a = 0; a < 4; a++) {
          const row = (base[0] + a) * stride[0] + base[1];
          sum += w[0][a] *
            (w[1][0] * v[row] + w[1][1] * v[row + 1] + w[1][2] * v[row + 2] +
              w[1][3] * v[row + 3]);
        }
      } else {
        for (let a = 0; a < 4; a++) {
          for (let b = 0; b < 4; b++) {
            const row = (base[0] + a) * stride[0] + (base[1] + b) * stride[1] + base[2];
            sum += w[0][a] * w[1][b] *
              (w[2][0] * v[row] + w[2][1] * v[row + 1] + w[2][2] * v[row + 2] +
                w[2][3] * v[row + 3]);
          }
        }
      }
      out[o][p] = sum;
    }
  }
  return out;
}
