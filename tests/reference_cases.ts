/**
 * Shared fixtures of the float64 reference tests: wave and two made-up problems
 * (d = 1, d = 3), two systems, and parameters and points for each.
 */
import { E } from "../src/problems/expr.ts";
import type { Problem } from "../src/problems/problem.ts";
import { wave } from "../src/problems/wave.ts";
import { type Activation, paramLayout, xavierInit } from "../src/model.ts";
import { type Points, samplePoints } from "../src/points.ts";
import { gaussianAt } from "../src/random.ts";
import { sys2, sys3x4 } from "./gpu_helpers.ts";

// ---------------------------------------------------------------------------
// Test problems: wave (d = 2) and two made-up ones (d = 1, d = 3) whose residuals
// use every expression operation, nonlinear ∂F/∂channel, and channel sets where a
// first-derivative channel has no second-derivative partner.

export const line: Problem = {
  name: "line",
  inputs: ["x"],
  domain: [[-1, 1]],
  doc: "test problem, d = 1",
  exact: ([x]) => Math.sin(Math.PI * x),
  grid: [11],
  sizes: [1, 4, 4, 4, 1],
  groups: [
    {
      name: "r",
      doc: "u_xx + u³ + sin(x) u_x − f",
      residual: E.add(E.d2u(0), E.pow(E.u(), 3), E.mul(E.sin(E.x(0)), E.du(0))),
      target: ([x]) => Math.cos(3 * x),
      sampleDim: 1,
      sample: ([a]) => [2 * a - 1],
      defaultN: 5,
    },
    {
      name: "q",
      doc: "u / (2 + tanh u) + exp(−u) u_x",
      residual: E.add(
        E.div(E.u(), E.add(2, E.tanh(E.u()))),
        E.mul(E.exp(E.neg(E.u())), E.du(0)),
      ),
      sampleDim: 1,
      sample: ([a]) => [a],
      defaultN: 4,
    },
    {
      name: "b",
      doc: "u − 0.5 at x = ±1",
      residual: E.u(),
      target: () => 0.5,
      sampleDim: 1,
      sample: ([a]) => [a < 0.5 ? -1 : 1],
      defaultN: 2,
    },
  ],
};

export const cube: Problem = {
  name: "cube",
  inputs: ["x", "y", "z"],
  domain: [[0, 1], [0, 1], [0, 1]],
  doc: "test problem, d = 3",
  exact: () => 0,
  grid: [3, 3, 3],
  sizes: [3, 6, 5, 1],
  groups: [
    {
      name: "r",
      doc: "u_xx + u_yy + 0.5 u_z + u³ − x y",
      residual: E.add(E.d2u(0), E.d2u(1), E.mul(0.5, E.du(2)), E.pow(E.u(), 3)),
      target: ([x, y]) => x * y,
      sampleDim: 3,
      sample: (u) => [...u],
      defaultN: 5,
    },
    {
      name: "s",
      doc: "u_zz + u_x u + cos(u) − z u_y²  (channel set first = [2, 0, 1], one second)",
      residual: E.sub(
        E.add(E.d2u(2), E.mul(E.du(0), E.u()), E.cos(E.u())),
        E.mul(E.x(2), E.pow(E.du(1), 2)),
      ),
      sampleDim: 3,
      sample: (u) => [...u],
      defaultN: 4,
    },
    {
      name: "b",
      doc: "u − sin(y) on z = 0",
      residual: E.u(),
      target: ([, y]) => Math.sin(y),
      sampleDim: 2,
      sample: ([a, b]) => [a, b, 0],
      defaultN: 3,
    },
  ],
};

export interface Case {
  problem: Problem;
  sizes: number[];
  activation: Activation;
  params: Float64Array;
  points: Points;
  label: string;
}

/** Xavier weights plus non-zero biases, so bias gradients are exercised too. */
export function testParams(sizes: number[], seed: number): Float64Array {
  const p = Float64Array.from(xavierInit(sizes, seed));
  for (const lay of paramLayout(sizes).layers) {
    for (let o = 0; o < lay.out; o++) p[lay.b + o] = 0.3 * gaussianAt(seed, 77, 0, 1, lay.b + o);
  }
  return p;
}

export const gaussianVector = (n: number, seed: number, dir = 0): Float64Array =>
  Float64Array.from({ length: n }, (_, i) => gaussianAt(seed, 99, 0, dir, i));

function makeCases(): Case[] {
  const setups: [Problem, number[], Record<string, number>][] = [
    [wave, [2, 5, 4, 1], { r: 4, u: 3, ut: 3 }],
    [line, [1, 4, 4, 4, 1], { r: 5, q: 4, b: 2 }],
    [cube, [3, 6, 5, 1], { r: 4, s: 3, b: 3 }],
    [sys2, [2, 4, 3, 2], { a: 3, b: 2, c: 2, d: 1 }],
    [sys3x4, [4, 3, 4, 3], { m: 2, n: 2, div: 1, bp: 1 }],
  ];
  const cases: Case[] = [];
  setups.forEach(([problem, sizes, counts], k) => {
    for (const activation of ["tanh", "sin"] as const) {
      cases.push({
        problem,
        sizes,
        activation,
        params: testParams(sizes, 11 + k),
        points: samplePoints(problem, counts, 5 + k),
        label: `${problem.name} [${sizes}] ${activation}`,
      });
    }
  });
  return cases;
}

export const CASES = makeCases();

export const sumAbs = (xs: ArrayLike<number>): number =>
  Array.from(xs).reduce((s, v) => s + Math.abs(v), 0);

// ---------------------------------------------------------------------------
// The helper itself
