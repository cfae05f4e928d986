/**
 * Built-in problem "cavity": steady lid-driven cavity flow at Re = 100 on
 * (x, y) ∈ [0, 1]², outputs (u, v, p). No-slip walls, a uniform lid u = 1, v = 0 on
 * y = 1 (Ghia, Ghia & Shin 1982) and the pressure pinned to 0 at
 * {@linkcode CAVITY_PRESSURE_PIN}. There is no closed form: the reference is the
 * float64 stream function–vorticity solution of `src/solvers/cavity.ts` (257² nodes,
 * cached), interpolated to the evaluation grid.
 *
 * Inputs: [x, y]. Groups: "mx" = w·(u u_x + v u_y + p_x − (u_xx + u_yy)/Re), "my" =
 * w·(u v_x + v v_y + p_y − (v_xx + v_yy)/Re), "div" = w·(u_x + v_y) (interior); "bu" =
 * u − u_wall and "bv" = v on the four sides (u_wall = 1 on the lid y = 1, 0 on the
 * other walls); "p0" = p at the pin point. w is {@linkcode cavityCornerWeight}: 1
 * except within about δ = 0.05 of the lid's two corners, where the lid's jump makes
 * the solution singular (its gradients grow as 1/r, the residual's terms as 1/r²)
 * and w vanishes as r².
 *
 * @example
 * ```ts
 * import { cavity } from "./cavity.ts";
 * cavity.outputs; // ["u", "v", "p"]
 * ```
 *
 * @module
 */
import { E, type Expr } from "./expr.ts";
import {
  continuityResidual,
  FLOW_OUTPUTS,
  momentumDoc,
  momentumResidual,
} from "./navier_stokes.ts";
import { evaluationGrid, pictureFields, type Problem } from "./problem.ts";
import { CAVITY_PRESSURE_PIN, CAVITY_REFERENCE_N, cavityReference } from "../solvers/cavity.ts";

/** Reynolds number of the built-in cavity (the reference solver's default too). */
export const CAVITY_RE = 100;

const F = E.named(FLOW_OUTPUTS);

/** Width δ of the built-in cavity's corner weight ({@linkcode cavityCornerWeight}). */
export const CAVITY_CORNER_DELTA = 0.05;

/**
 * The weight w(x, y) = Π_c r_c² / (r_c² + δ²) of the cavity's interior residuals,
 * r_c the distance to the lid's corner (c, 1), c = 0, 1. The lid's velocity jumps
 * from 1 to 0 there, so the solution is singular: its velocity gradients grow as
 * 1/r and the momentum residual's terms as 1/r², and the mean square residual of
 * any smooth fit is dominated by the few points nearest the two corners. w is 1 to
 * within 1% per corner at r > 10δ from it, and the residual w·R of the true solution
 * stays bounded.
 * The equations, their solution and the boundary groups are unchanged; δ = 0 gives
 * w = 1.
 */
export function cavityCornerWeight(delta: number = CAVITY_CORNER_DELTA): Expr {
  if (delta === 0) return E.c(1);
  const x = E.x(0), y = E.x(1);
  const damp = (cx: number) => {
    const r2 = E.add(E.pow(E.sub(x, cx), 2), E.pow(E.sub(y, 1), 2));
    return E.div(r2, E.add(r2, delta * delta));
  };
  return E.mul(damp(0), damp(1));
}

/** A point on the boundary of [0, 1]² from [a, b]: each side with probability 1/4. */
function onBoundary([a, b]: readonly number[]): number[] {
  if (a < 0.25) return [0, b];
  if (a < 0.5) return [1, b];
  return a < 0.75 ? [b, 0] : [b, 1];
}

/** The wall's u: 1 on the lid y = 1 (its corners included, as in the solver), else 0. */
const wallU = ([, y]: readonly number[]) => y === 1 ? 1 : 0;

/**
 * The lid-driven cavity at Reynolds number `re` (default 100) whose reference comes
 * from the solver on `n` × `n` nodes (default 257, `CAVITY_REFERENCE_N`); `cavity` is
 * the default one. Tests use a coarse `n` to check the reference's wiring in
 * milliseconds. `cornerDelta` is δ of the interior residuals' corner weight
 * ({@linkcode cavityCornerWeight}; default 0.05, 0: unweighted, as before).
 */
export function cavityProblem(
  opts: { re?: number; n?: number; cornerDelta?: number } = {},
): Problem {
  const re = opts.re ?? CAVITY_RE, n = opts.n ?? CAVITY_REFERENCE_N;
  const delta = opts.cornerDelta ?? CAVITY_CORNER_DELTA;
  // The interior residuals, weighted near the lid's corners (δ = 0: unweighted).
  const w = cavityCornerWeight(delta);
  const weighted = (r: Expr) => delta === 0 ? r : E.mul(w, r);
  const near = delta === 0 ? "" : ` · w (w: the corner weight, δ = ${delta})`;
  const problem: Problem = {
    name: (re === CAVITY_RE ? "cavity" : `cavity-re${re}`) +
      (delta === CAVITY_CORNER_DELTA ? "" : `-corner${delta}`),
    inputs: ["x", "y"],
    outputs: [...FLOW_OUTPUTS],
    domain: [[0, 1], [0, 1]],
    doc: `steady Navier–Stokes (u·∇)u + ∇p = Δu/${re}, ∇·u = 0 on (x,y) ∈ [0,1]², ` +
      "no-slip walls, lid u = 1, v = 0 on y = 1, p = 0 at (0.5, 0); inputs [x, y], outputs " +
      "[u, v, p]; groups mx, my (momentum), div, bu, bv (walls and lid), p0 (pressure pin); " +
      (delta === 0
        ? ""
        : `interior residuals weighted by w → 0 at the lid's corners (δ = ${delta}); `) +
      `reference: the float64 stream function–vorticity solver (${n}²)`,
    // Bicubic interpolation of the 257² solution (computed once per machine, then cached).
    reference: () => Promise.resolve(cavityReference(evaluationGrid(problem), { n, re })),
    grid: [101, 101],
    sizes: [2, 64, 64, 64, 3],
    groups: [
      {
        name: "mx",
        doc: `(${momentumDoc(0, re)})${near} in the interior`,
        residual: weighted(momentumResidual(0, re)),
        sampleDim: 2,
        sample: ([a, b]) => [a, b],
        defaultN: 512,
      },
      {
        name: "my",
        doc: `(${momentumDoc(1, re)})${near} in the interior`,
        residual: weighted(momentumResidual(1, re)),
        sampleDim: 2,
        sample: ([a, b]) => [a, b],
        defaultN: 512,
      },
      {
        name: "div",
        doc: `(u_x + v_y)${near} in the interior`,
        residual: weighted(continuityResidual()),
        sampleDim: 2,
        sample: ([a, b]) => [a, b],
        defaultN: 512,
      },
      {
        name: "bu",
        doc:
          "u − 1 on the lid y = 1, u on the walls x = 0, x = 1, y = 0 (each side 1/4 of the points)",
        residual: F.u("u"),
        target: wallU,
        sampleDim: 2,
        sample: onBoundary,
        defaultN: 256,
      },
      {
        name: "bv",
        doc: "v on the four sides (each 1/4 of the points)",
        residual: F.u("v"),
        sampleDim: 2,
        sample: onBoundary,
        defaultN: 256,
      },
      {
        name: "p0",
        doc: `p at the pin point (${
          CAVITY_PRESSURE_PIN.join(", ")
        }), where the reference has p = 0`,
        residual: F.u("p"),
        sampleDim: 0,
        sample: () => [...CAVITY_PRESSURE_PIN],
        defaultN: 1,
      },
    ],
    // As kovasznay: Adam for λ and a rough fit, then L-BFGS (README, Results). Exact
    // weights and 50 L-BFGS pairs reached Ghia's centrelines to within 0.037 in 13
    // minutes; pc and 20 pairs ended at 0.079 and 0.093 (before the corner weight).
    train: {
      steps: 1000,
      then: "lbfgs",
      thenSteps: 2200,
      init: "centered",
      average: 0.995,
      weighting: "exact",
      history: 50,
    },
    // The centreline velocities beside the reference and Ghia et al.'s values (at
    // Re = 100); loaded only when a run draws its pictures, as qtensor's.
    pictures: async (d) =>
      (await import("../plot/cavity.ts")).cavityPictures({
        ...pictureFields(d),
        ghia: re === CAVITY_RE,
      }),
  };
  return problem;
}

/**
 * Lid-driven cavity at Re = 100 on [0, 1]², outputs (u, v, p); reference from the
 * float64 solver on 257² nodes (see the module documentation for the groups).
 */
export const cavity: Problem = cavityProblem();
