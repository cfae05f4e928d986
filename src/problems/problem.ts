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
}

/** A PDE problem on a box domain with a known solution. */
export interface Problem {
  /** Name used in flags, files and reports. */
  name: string;
  /** Input names in order (wave: ["t", "x"]). */
  inputs: string[];
  /** Box domain, one [lo, hi] per input. */
  domain: [number, number][];
  /** Residual groups (boundary and initial conditions are groups too). */
  groups: GroupDef[];
  /** Exact solution, for the relative L2 error. */
  exact: (x: readonly number[]) => number;
  /** Evaluation grid points per input (wave: 101 × 101). */
  grid: number[];
  /** Default network sizes. */
  sizes: number[];
  /** Training defaults of this problem, where they differ from the global ones. */
  train?: TrainDefaults;
  /** One line for documentation and reports. */
  doc: string;
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
