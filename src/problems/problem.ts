/**
 * Problem definitions: inputs, residual groups, samplers and exact solutions.
 *
 * A group's residual is r(x) = F(x, channels) − target(x): F is an
 * {@linkcode Expr} (compiled to WGSL and differentiated per channel), the target is
 * evaluated in float64 on the CPU when points are placed, so exact solutions and
 * source terms never lose precision to float32 transcendental functions.
 *
 * @module
 */
import { type ChannelSet, channelsOf, E, type Expr } from "./expr.ts";
import type { Init } from "../model.ts";
import type { Weighting } from "../train_config.ts";
import type { GridAxis } from "../plot/heatmap.ts";
import type { NamedChart } from "../plot/run_charts.ts";
import type { FourierSpec } from "../embedding.ts";
import type { OutputTransform } from "./transform.ts";

/** One residual group j with its point set X_j. */
export interface GroupDef {
  /** Group name used in flags and files (`r`, `u`, `ut`). */
  name: string;
  /** F_j(x, u, ∂u, ∂²u). */
  residual: Expr;
  /** Subtracted from F in float64; zero when absent. */
  target?: (x: readonly number[]) => number;
  /** Dimension of the unit cube `sample` maps from. */
  sampleDim: number;
  /** Maps a point of [0,1)^sampleDim to a point of this group's region. */
  sample: (u: readonly number[]) => number[];
  /** Default number of points. */
  defaultN: number;
  /** One line for documentation. */
  doc: string;
}

/**
 * Training settings a problem recommends in place of the global defaults (the
 * `train` command applies them; its flags and config files override them).
 */
export interface TrainDefaults {
  /** Optimizer steps. */
  steps?: number;
  /** Learning rate. */
  lr?: number;
  /** Steps between learning-rate decays. */
  decaySteps?: number;
  /** Initialisation of a new network. */
  init?: Init;
  /** β of the parameter average (the run's model is the average). */
  average?: number;
  /**
   * A second phase after the Adam steps: "lbfgs" runs `thenSteps` L-BFGS
   * iterations on a fixed point set (README "Optimizers"). A run that sets
   * `optimizer: "lbfgs"` itself skips it.
   */
  then?: "lbfgs" | "none";
  /** Iterations of the `then` phase. */
  thenSteps?: number;
  /** Points per group of the `then` phase's fixed point set (groups left out: the run's `n`). */
  thenN?: Record<string, number>;
  /** L-BFGS history: pairs kept (`--history`; absent: 20). */
  history?: number;
  /** Steps between NTK-weight updates (`--every`; absent: 1, every step). */
  every?: number;
  /** Fourier-feature inputs (`--fourier`; null or absent: the raw inputs). */
  fourier?: FourierSpec | null;
  /**
   * Loss weighting (`--weighting`; absent: the global default, pc). "fixed" is not
   * recommendable, as it needs weights per group.
   */
  weighting?: Exclude<Weighting, "fixed">;
}

/**
 * A problem's solution on its evaluation grid, one Float64Array per output, each
 * in {@linkcode evaluationGrid} order. A solver that ships with the project
 * computes it in float64 (and may cache it); a data file may supply it too.
 *
 * @example A reference from a float64 solver
 * ```ts ignore
 * const cavity: Problem = {
 *   // …
 *   reference: async () => {
 *     const { u, v, p } = await solveCavity({ re: 100, grid: [65, 65] }); // one array per output
 *     return [u, v, p];
 *   },
 * };
 * ```
 */
export type ReferenceSolution = () => Promise<Float64Array[]>;

/**
 * What a problem's own pictures are drawn from (see {@linkcode Problem.pictures}):
 * the run's prediction and the problem's solution on its evaluation grid.
 */
export interface PictureData {
  /** The evaluation grid's axes, one per input. */
  axes: GridAxis[];
  /** The network's outputs (float32 from the GPU), one array per output, in {@linkcode evaluationGrid} order. */
  prediction: ArrayLike<number>[];
  /** The exact or reference solution, same layout; null when the problem has neither. */
  solution: Float64Array[] | null;
  /** What `solution` is called in titles: "exact" or "reference". */
  solutionName: string;
}

/**
 * `d` as the field plots take it (src/plot/qtensor.ts, src/plot/cavity.ts): the
 * solution is their `reference`, named by `referenceName`.
 */
export const pictureFields = (d: PictureData): {
  axes: GridAxis[];
  prediction: ArrayLike<number>[];
  reference: Float64Array[] | null;
  referenceName: string;
} => ({
  axes: d.axes,
  prediction: d.prediction,
  reference: d.solution,
  referenceName: d.solutionName,
});

/**
 * A PDE problem on a box domain. Its error is measured against `exact` (a closed
 * form) or, where there is none, against `reference` (a float64 solution on the
 * evaluation grid); with neither, runs report residual norms only.
 */
export interface Problem {
  /** Name used in flags, files and reports. */
  name: string;
  /** Input names in order (wave: ["t", "x"]); at most 4. */
  inputs: string[];
  /** Output names in order (`["u", "v", "p"]`); one output `u` when absent. */
  outputs?: string[];
  /** Box domain, one [lo, hi] per input. */
  domain: [number, number][];
  /** Residual groups (boundary and initial conditions are groups too). */
  groups: GroupDef[];
  /**
   * Exact solution, for the relative L2 error: u at x (one output), or the
   * outputs at x in `outputs` order.
   */
  exact?: (x: readonly number[]) => number | number[];
  /** The solution on the evaluation grid where no closed form exists (see {@linkcode ReferenceSolution}). */
  reference?: ReferenceSolution;
  /** Evaluation grid points per input (wave: 101 × 101). */
  grid: number[];
  /** Default network sizes. */
  sizes: number[];
  /** Training defaults of this problem, where they differ from the global ones. */
  train?: TrainDefaults;
  /**
   * Hard constraints: the solution is u_k = offset_k + factor_k · N_k of the network N
   * (set by `withTransform`, which also rewrites the groups' residuals in N).
   */
  transform?: OutputTransform;
  /**
   * Pictures of this problem beyond every run's own (solution, loss,
   * convergence, weights), e.g. the director field of a liquid crystal: each run
   * writes them into its folder and report. Names must differ from those four.
   */
  pictures?: (d: PictureData) => NamedChart[] | Promise<NamedChart[]>;
  /** One line for documentation and reports. */
  doc: string;
}

/** The output names of a problem (`["u"]` when it names none). */
export const problemOutputs = (p: Problem): string[] => p.outputs ?? ["u"];

/** Output `k` of the problem's exact solution as a function of a point; undefined without `exact`. */
export function exactOutput(p: Problem, k = 0): ((x: readonly number[]) => number) | undefined {
  const exact = p.exact;
  if (!exact) return undefined;
  return (x) => {
    const v = exact(x);
    return typeof v === "number" ? v : v[k];
  };
}

/**
 * The problem's solution on its evaluation grid, one array per output: from
 * `exact` when given, else from `reference`; null when the problem has neither.
 */
export async function gridSolution(
  p: Problem,
  grid: readonly (readonly number[])[] = evaluationGrid(p),
): Promise<Float64Array[] | null> {
  const m = problemOutputs(p).length;
  if (p.exact) {
    const exact = p.exact;
    const out = Array.from({ length: m }, () => new Float64Array(grid.length));
    grid.forEach((x, i) => {
      const v = exact(x);
      const vs = typeof v === "number" ? [v] : v;
      for (let k = 0; k < m; k++) out[k][i] = vs[k];
    });
    return out;
  }
  if (!p.reference) return null;
  const ref = await p.reference();
  if (ref.length !== m || ref.some((a) => a.length !== grid.length)) {
    throw new Error(
      `problem ${p.name}: its reference must give ${m} arrays of ${grid.length} values (the evaluation grid), got ${ref.length} of ${
        ref.map((a) => a.length).join(", ")
      }`,
    );
  }
  return ref;
}

/** The channel set group `g` needs. */
export const groupChannels = (g: GroupDef): ChannelSet => channelsOf([g.residual]);

/** The evaluation grid of a problem, row-major over its inputs (last input fastest). */
export function evaluationGrid(p: Problem): number[][] {
  const axes = p.grid.map((n, i) => {
    const [lo, hi] = p.domain[i];
    return Array.from({ length: n }, (_, k) => lo + (hi - lo) * k / (n - 1));
  });
  let pts: number[][] = [[]];
  for (const axis of axes) pts = pts.flatMap((pt) => axis.map((v) => [...pt, v]));
  return pts;
}

/** The interior group `r` of a problem on (t, x) ∈ [0,1]², sampled uniformly. */
export function unitSquareInterior(
  doc: string,
  residual: Expr,
  target?: (x: readonly number[]) => number,
): GroupDef {
  return {
    name: "r",
    doc,
    residual,
    target,
    sampleDim: 2,
    sample: ([a, b]) => [a, b],
    defaultN: 1024,
  };
}

/** Group `u` on (t, x) ∈ [0,1]²: u − u_exact on t = 0 (half the points) and on x = 0, x = 1. */
export function initialBoundaryValues(exact: (x: readonly number[]) => number): GroupDef {
  return {
    name: "u",
    doc: "u − u_exact on t = 0 (half the points) and on x = 0, x = 1",
    residual: E.u(),
    target: exact,
    sampleDim: 2,
    sample: ([a, b]) => a < 0.5 ? [0, b] : [b, a < 0.75 ? 0 : 1],
    defaultN: 256,
  };
}

/** Group `ut` on (t, x) ∈ [0,1]²: u_t − ∂_t u_exact on t = 0. */
export function initialVelocity(exactT: (x: readonly number[]) => number): GroupDef {
  return {
    name: "ut",
    doc: "u_t − ∂_t u_exact on t = 0",
    residual: E.du(0),
    target: exactT,
    sampleDim: 1,
    sample: ([a]) => [0, a],
    defaultN: 256,
  };
}
