/**
 * A line search satisfying the strong Wolfe conditions (Nocedal & Wright,
 * Algorithms 3.5 and 3.6, with safeguarded cubic interpolation in the zoom).
 *
 * It only sees φ(α) = f(x + α d) and φ'(α) = ∇f(x + α d)ᵀd, so the GPU L-BFGS
 * and the float64 reference share it: the scalar decisions are the same code,
 * and the tests compare what differs, the vector arithmetic.
 *
 * @module
 */

/** The value and slope of φ at a step length. */
export interface LineValue {
  /** φ(α) = f(x + α d). */
  f: number;
  /** φ'(α) = ∇f(x + α d)ᵀ d. */
  df: number;
}

/** Constants of the strong Wolfe conditions and the evaluation budget. */
export interface WolfeOptions {
  /** Sufficient decrease: φ(α) ≤ φ(0) + c1 α φ'(0). Default 1e-4. */
  c1?: number;
  /** Curvature: |φ'(α)| ≤ c2 |φ'(0)|. Default 0.9 (the usual quasi-Newton choice). */
  c2?: number;
  /** Most evaluations of φ. Default 20. */
  maxEvals?: number;
}

/** Outcome of {@linkcode strongWolfe}. */
export interface LineResult extends LineValue {
  /** Accepted step length (0 when no step decreased φ). */
  alpha: number;
  /** Evaluations of φ spent. */
  evals: number;
  /** True when both strong Wolfe conditions hold at `alpha`. */
  ok: boolean;
}

interface Pt extends LineValue {
  a: number;
}

/** The minimiser of the cubic through (lo, hi) with their slopes, kept inside the bracket. */
function cubicStep(lo: Pt, hi: Pt): number {
  const d1 = lo.df + hi.df - 3 * (lo.f - hi.f) / (lo.a - hi.a);
  const disc = d1 * d1 - lo.df * hi.df;
  const width = hi.a - lo.a;
  const mid = lo.a + width / 2;
  if (!(disc >= 0)) return mid;
  const d2 = Math.sign(width) * Math.sqrt(disc);
  const a = hi.a - width * (hi.df + d2 - d1) / (hi.df - lo.df + 2 * d2);
  // Too close to an end (or not finite): bisect, so the bracket keeps shrinking.
  const lo10 = Math.min(lo.a, hi.a) + 0.1 * Math.abs(width);
  const hi10 = Math.max(lo.a, hi.a) - 0.1 * Math.abs(width);
  return Number.isFinite(a) && a >= lo10 && a <= hi10 ? a : mid;
}

/**
 * A step length along a descent direction satisfying the strong Wolfe conditions.
 * `phi(α)` evaluates the function and its slope; `at0` is φ(0), φ'(0) (φ'(0) < 0);
 * `alpha1` the first trial. A non-finite φ counts as no decrease. When the budget
 * runs out, the best step with sufficient decrease is returned with `ok` false
 * (α = 0 when there is none).
 */
export async function strongWolfe(
  phi: (alpha: number) => Promise<LineValue> | LineValue,
  at0: LineValue,
  alpha1: number,
  o: WolfeOptions = {},
): Promise<LineResult> {
  const c1 = o.c1 ?? 1e-4, c2 = o.c2 ?? 0.9, maxEvals = o.maxEvals ?? 20;
  let evals = 0;
  const at = async (a: number): Promise<Pt> => {
    evals++;
    const v = await phi(a);
    return { a, f: Number.isFinite(v.f) ? v.f : Infinity, df: v.df };
  };
  const armijo = (p: Pt) => p.f <= at0.f + c1 * p.a * at0.df;
  const curvature = (p: Pt) => Math.abs(p.df) <= -c2 * at0.df;
  const done = (p: Pt, ok: boolean): LineResult => ({
    alpha: p.a,
    f: p.f,
    df: p.df,
    evals,
    ok,
  });

  const zoom = async (lo: Pt, hi: Pt): Promise<LineResult> => {
    while (evals < maxEvals) {
      const p = await at(cubicStep(lo, hi));
      if (!armijo(p) || p.f >= lo.f) hi = p;
      else {
        if (curvature(p)) return done(p, true);
        if (p.df * (hi.a - lo.a) >= 0) hi = lo;
        lo = p;
      }
      if (Math.abs(hi.a - lo.a) <= 1e-12 * Math.max(1, lo.a)) break;
    }
    return done(lo, false);
  };

  let prev: Pt = { a: 0, ...at0 };
  let a = alpha1;
  for (let i = 1;; i++) {
    const p = await at(a);
    if (!armijo(p) || (i > 1 && p.f >= prev.f)) return await zoom(prev, p);
    if (curvature(p)) return done(p, true);
    if (p.df >= 0) return await zoom(p, prev);
    if (evals >= maxEvals) return done(p, false);
    prev = p;
    a *= 2;
  }
}
