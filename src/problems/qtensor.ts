/**
 * Built-in problem "qtensor": the 2-D Q-tensor damped-wave system of liquid
 * crystals, Q = [[Q1, Q2], [Q2, −Q1]] on Ω = [0, 2]², t ∈ [0, T] (T = 1):
 *
 *   σ ∂_tt Q_i + ∂_t Q_i = M (L ΔQ_i − (a + 2c (Q1² + Q2²)) Q_i),  i = 1, 2,
 *
 * a = −0.2, c = 1, M = 1, L = 0.1, σ = 1 ({@linkcode QTENSOR_PARAMS}), Q = 0 on ∂Ω,
 * Q(0) = n nᵀ − ½|n|² I with n = (x(2 − x) y(2 − y), sin(πx) sin(πy/2)) and Q_t(0) = 0.
 * There is no closed form: the reference is the float64 finite-difference solution
 * of `src/solvers/qtensor.ts` (640² cells, cached) on the 11 × 41 × 41 evaluation grid.
 *
 * Inputs: [t, x, y]; outputs: [Q1, Q2]. The conditions are imposed exactly by an
 * output transform ({@linkcode QTensorConstraints}): Q = Q(0) + t² x(2 − x)y(2 − y)·N
 * meets the initial value, the initial velocity and the boundary whatever the network
 * N is, so the groups are "r1", "r2" = σ Q_tt + Q_t − M L ΔQ_i + M (a + 2c(Q1² +
 * Q2²)) Q_i (interior) alone. Built-in "qtensor-soft" is the seed paper's formulation,
 * with the conditions as groups: "q1", "q2" = Q_i − Q_i(0) on t = 0 (half the points)
 * and Q_i on ∂Ω (the other half); "qt1", "qt2" = ∂_t Q_i on t = 0. Each condition is
 * one group per component, because a group's residual is one number per point; the
 * initial value and the boundary share a group as wave's "u" does. Its runs also
 * draw the director field and the largest eigenvalue over time (`src/plot/qtensor.ts`).
 *
 * @example
 * ```ts
 * import { qtensor, qtensorProblem } from "./qtensor.ts";
 * qtensor.outputs; // ["Q1", "Q2"]
 * const longer = qtensorProblem({ T: 5 }); // a custom module may export this
 * const soft = qtensorProblem({}, "soft"); // the built-in "qtensor-soft"
 * ```
 *
 * @module
 */
import { E, type Expr } from "./expr.ts";
import { type GroupDef, pictureFields, type Problem } from "./problem.ts";
import { withTransform } from "./transform.ts";
import {
  QTENSOR_PARAMS,
  qtensorInitial,
  type QTensorParams,
  qtensorReference,
} from "../solvers/qtensor.ts";

/** Residual of component `k` (0: Q1, 1: Q2). */
function residual(k: 0 | 1, q: QTensorParams): Expr {
  const bulk = E.add(q.a, E.mul(2 * q.c, E.add(E.pow(E.u(0), 2), E.pow(E.u(1), 2))));
  return E.add(
    E.mul(q.sigma, E.d2u(0, k)),
    E.du(0, k),
    E.mul(-q.M * q.L, E.add(E.d2u(1, k), E.d2u(2, k))),
    E.mul(q.M, bulk, E.u(k)),
  );
}

/** Half the points on t = 0, the other half on the four sides of Ω (1/8 each). */
function initialOrBoundary([a, b, c]: readonly number[]): number[] {
  if (a < 0.5) return [0, 2 * b, 2 * c];
  const s = 2 * c;
  if (a < 0.625) return [b, 0, s];
  if (a < 0.75) return [b, 2, s];
  return a < 0.875 ? [b, s, 0] : [b, s, 2];
}

/**
 * The bubble x(2 − x)y(2 − y) (n's first component, zero on ∂Ω) and Q(0) = n nᵀ −
 * ½|n|² I as expressions over the inputs: Q1(0) = ½(n1² − n2²), Q2(0) = n1 n2.
 */
function initialExprs(): { bubble: Expr; q0: [Expr, Expr] } {
  const bubble = E.mul(E.x(1), E.sub(2, E.x(1)), E.x(2), E.sub(2, E.x(2)));
  const n2 = E.mul(E.sin(E.mul(Math.PI, E.x(1))), E.sin(E.mul(Math.PI / 2, E.x(2))));
  return {
    bubble,
    q0: [E.mul(0.5, E.sub(E.pow(bubble, 2), E.pow(n2, 2))), E.mul(bubble, n2)],
  };
}

/**
 * How the initial and boundary conditions are imposed: "hard" (the default: Q = Q(0)
 * + t² x(2 − x)y(2 − y)·N meets all three; groups r1, r2 only), "boundary" (Q = x(2 −
 * x)y(2 − y)·N vanishes on ∂Ω; the initial conditions stay groups, on t = 0 only) or
 * "soft" (groups q1, q2, qt1, qt2, as the seed paper).
 */
export type QTensorConstraints = "soft" | "boundary" | "hard";

/** How each variant imposes the conditions, and its groups (problem docs). */
const CONDITIONS: Record<QTensorConstraints, string> = {
  hard: "Q = Q(0) + t²x(2−x)y(2−y)·N meets the conditions exactly; groups r1, r2 (residuals)",
  boundary: "Q = x(2−x)y(2−y)·N vanishes on ∂Ω; groups r1, r2 (residuals), q1, q2 " +
    "(initial value), qt1, qt2 (initial velocity)",
  soft: "groups r1, r2 (residuals), q1, q2 (initial value and boundary), qt1, qt2 " +
    "(initial velocity)",
};

/**
 * The Q-tensor problem with parameters `params` (missing ones from
 * {@linkcode QTENSOR_PARAMS}) and its conditions imposed as `constraints` says;
 * `qtensor` is the default one (T = 1, hard). The reference is computed for these
 * parameters (and cached per parameter set). The name says what differs from the
 * default: "qtensor-soft", "qtensor-T5", "qtensor-boundary-T5".
 */
export function qtensorProblem(
  params: Partial<QTensorParams> = {},
  constraints: QTensorConstraints = "hard",
): Problem {
  const q: QTensorParams = { ...QTENSOR_PARAMS, ...params };
  const { bubble, q0 } = initialExprs();
  const names = ["Q1", "Q2"];
  const soft = constraints === "soft", hard = constraints === "hard";
  const valueGroup = (k: 0 | 1): GroupDef =>
    soft
      ? {
        name: `q${k + 1}`,
        doc: `${names[k]} − ${names[k]}(0) on t = 0 (half the points), ${
          names[k]
        } on x = 0, 2 and y = 0, 2 (the other half)`,
        residual: E.u(k),
        // The initial value vanishes on ∂Ω, so it is the target on the sides as well.
        target: ([t, x, y]) => t === 0 ? qtensorInitial(x, y)[k] : 0,
        sampleDim: 3,
        sample: (u) => initialOrBoundary(u).map((v, i) => i === 0 ? v * q.T : v),
        defaultN: 64,
      }
      : {
        name: `q${k + 1}`,
        doc: `${names[k]} − ${names[k]}(0) on t = 0`,
        residual: E.u(k),
        target: ([_t, x, y]) => qtensorInitial(x, y)[k],
        sampleDim: 2,
        sample: ([a, b]) => [0, 2 * a, 2 * b],
        defaultN: 32,
      };
  const problem: Problem = {
    name: [
      "qtensor",
      ...(hard ? [] : [constraints]),
      ...(q.T === QTENSOR_PARAMS.T ? [] : [`T${q.T}`]),
    ]
      .join("-"),
    inputs: ["t", "x", "y"],
    outputs: names,
    domain: [[0, q.T], [0, 2], [0, 2]],
    doc:
      `σQ_tt + Q_t = M(LΔQ − (a + 2c(Q1² + Q2²))Q) for Q = (Q1, Q2) on (t,x,y) ∈ [0,${q.T}]×[0,2]², ` +
      `a = ${q.a}, c = ${q.c}, M = ${q.M}, L = ${q.L}, σ = ${q.sigma}; Q = 0 on ∂Ω, ` +
      "Q(0) = nnᵀ − ½|n|²I, n = (x(2−x)y(2−y), sin(πx)sin(πy/2)), Q_t(0) = 0; inputs [t, x, y], " +
      `outputs [Q1, Q2]; ${CONDITIONS[constraints]}; ` +
      "reference: the float64 finite-difference solver (640²)",
    // The solver samples (t, x, y) row-major with y fastest: evaluationGrid's order.
    reference: () => {
      const ref = qtensorReference({ params: q, samples: { nt: 11, nx: 41 } });
      return Promise.resolve(ref.outputs);
    },
    grid: [11, 41, 41],
    // Chosen by measurement (README, Results): width 48 reached the same error
    // after 2100 steps at 2.5× the time; L-BFGS after Adam beat Adam alone.
    sizes: [3, 32, 32, 32, 2],
    groups: [
      ...([0, 1] as const).map((k): GroupDef => ({
        name: `r${k + 1}`,
        doc: `σ ∂_tt ${names[k]} + ∂_t ${names[k]} − M L Δ${names[k]} + M (a + 2c(Q1² + Q2²)) ${
          names[k]
        } in the interior`,
        residual: residual(k, q),
        sampleDim: 3,
        sample: ([a, b, c]) => [a * q.T, 2 * b, 2 * c],
        defaultN: 128,
      })),
      ...(hard ? [] : [valueGroup(0), valueGroup(1)]),
      ...(hard ? [] : [0, 1] as const).map((k): GroupDef => ({
        name: `qt${k + 1}`,
        doc: `∂_t ${names[k]} on t = 0 (at rest)`,
        residual: E.du(0, k),
        sampleDim: 2,
        sample: ([a, b]) => [0, 2 * a, 2 * b],
        defaultN: 32,
      })),
    ],
    // 4000 Adam steps on fresh points, then L-BFGS on one fixed, larger set (a fixed
    // set of twice the points was overfitted: README). With the conditions exact,
    // 4000 iterations on 16× the points cut the error by a third in under 15 minutes,
    // and exact weights beat none on each of seeds 0–2 in pc's wall time (pc lost to
    // none on average; README, "Q-tensor at its defaults"). The variants keep the
    // budget and weighting they were measured at: 2000 iterations on 4× the points, pc.
    train: {
      init: "centered",
      average: 0.995,
      steps: 4000,
      then: "lbfgs",
      ...(hard ? { thenSteps: 4000, thenN: { r1: 2048, r2: 2048 }, weighting: "exact" as const } : {
        thenSteps: 2000,
        thenN: { r1: 512, r2: 512, q1: 256, q2: 256, qt1: 128, qt2: 128 },
      }),
    },
    // Loaded when a run draws its pictures: the charting code stays out of the
    // problem's import graph (points, init and eval need none of it).
    pictures: async (d) => (await import("../plot/qtensor.ts")).qtensorPictures(pictureFields(d)),
  };
  if (soft) return problem;
  if (constraints === "boundary") {
    return withTransform(problem, { factor: [bubble, bubble], doc: "Q = x(2 − x)y(2 − y)·N" });
  }
  const factor = E.mul(E.pow(E.x(0), 2), bubble);
  return withTransform(problem, {
    offset: q0,
    factor: [factor, factor],
    doc: "Q = Q(0) + t² x(2 − x)y(2 − y)·N",
  });
}

/** The built-in Q-tensor problem, T = 1, conditions imposed exactly. */
export const qtensor: Problem = qtensorProblem();

/** Built-in "qtensor-soft": the seed paper's formulation, every condition a group. */
export const qtensorSoft: Problem = qtensorProblem({}, "soft");
