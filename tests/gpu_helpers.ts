/**
 * Shared pieces of the GPU tests: a made-up d = 3 problem with nonlinear
 * residuals, test parameters with non-zero biases, deterministic test vectors and
 * the ∞-norm closeness check the engine's acceptance criteria are written in,
 * and the wave plan the NTK and fused-reduction tests share.
 *
 * @module
 */
import { E } from "../src/problems/expr.ts";
import type { Problem } from "../src/problems/problem.ts";
import { paramLayout, xavierInit } from "../src/model.ts";
import { gaussianAt } from "../src/random.ts";
import { assertAllClose } from "./assert_close.ts";
import { Engine } from "../src/engine.ts";
import type { Tuning } from "../src/tuning.ts";
import { Plan } from "../src/plan.ts";
import { type Points, samplePoints } from "../src/points.ts";
import { wave } from "../src/problems/wave.ts";

/**
 * d = 3 test problem. "r" reads all seven channels (u, three first and three pure
 * second derivatives) with a u³ term and products of channels; "s" has a channel
 * set whose first-derivative directions are [2, 0, 1] with only direction 2 owning
 * a second derivative; "b" reads u alone.
 */
export const cube3: Problem = {
  name: "cube3",
  inputs: ["x", "y", "z"],
  domain: [[0, 1], [0, 1], [0, 1]],
  doc: "test problem, d = 3",
  exact: () => 0,
  grid: [3, 3, 3],
  sizes: [3, 8, 1],
  groups: [
    {
      name: "r",
      doc: "u_xx + u_yy + u_zz + u_x u_y + sin(x) u_z + u³ − x y z",
      residual: E.add(
        E.d2u(0),
        E.d2u(1),
        E.d2u(2),
        E.mul(E.du(0), E.du(1)),
        E.mul(E.sin(E.x(0)), E.du(2)),
        E.pow(E.u(), 3),
      ),
      target: ([x, y, z]) => x * y * z,
      sampleDim: 3,
      sample: (u) => [...u],
      defaultN: 16,
    },
    {
      name: "s",
      doc: "u_zz + u u_x − z u_y² + u³",
      residual: E.add(
        E.sub(E.add(E.d2u(2), E.mul(E.du(0), E.u())), E.mul(E.x(2), E.pow(E.du(1), 2))),
        E.pow(E.u(), 3),
      ),
      sampleDim: 3,
      sample: (u) => [...u],
      defaultN: 16,
    },
    {
      name: "b",
      doc: "u − sin(y) on z = 0",
      residual: E.u(),
      target: ([, y]) => Math.sin(y),
      sampleDim: 2,
      sample: ([a, b]) => [a, b, 0],
      defaultN: 16,
    },
  ],
};

/**
 * Test system, d = 2, m = 2 (outputs u, v): mixed derivatives, residuals coupling
 * both outputs, two groups per output and a value-only group per output.
 */
export const sys2: Problem = {
  name: "sys2",
  inputs: ["x", "y"],
  outputs: ["u", "v"],
  domain: [[0, 1], [-1, 1]],
  doc: "test system, d = 2, m = 2",
  exact: ([x, y]) => [Math.sin(x + y), x * y],
  grid: [4, 5],
  sizes: [2, 8, 2],
  groups: [
    {
      name: "a",
      doc: "u_xy + v u_x − sin(x) v_yy + u³ − x",
      residual: E.add(
        E.d2(0, 1),
        E.mul(E.u(1), E.du(0)),
        E.neg(E.mul(E.sin(E.x(0)), E.d2u(1, 1))),
        E.pow(E.u(), 3),
      ),
      target: ([x]) => x,
      sampleDim: 2,
      sample: ([a, b]) => [a, 2 * b - 1],
      defaultN: 16,
    },
    {
      name: "b",
      doc: "v_xx + u v_y + u_xy v_xy",
      residual: E.add(E.d2u(0, 1), E.mul(E.u(), E.du(1, 1)), E.mul(E.d2(1, 0), E.d2(0, 1, 1))),
      sampleDim: 2,
      sample: ([a, b]) => [a, 2 * b - 1],
      defaultN: 16,
    },
    {
      name: "c",
      doc: "v − y on x = 0",
      residual: E.u(1),
      target: ([, y]) => y,
      sampleDim: 1,
      sample: ([a]) => [0, 2 * a - 1],
      defaultN: 8,
    },
    {
      name: "d",
      doc: "u on x = 1",
      residual: E.u(),
      sampleDim: 1,
      sample: ([a]) => [1, 2 * a - 1],
      defaultN: 8,
    },
  ],
};

/** Test system, d = 4 (t, x, y, z), m = 3 (u, v, p), with mixed and pure second derivatives. */
export const sys3x4: Problem = {
  name: "sys3x4",
  inputs: ["t", "x", "y", "z"],
  outputs: ["u", "v", "p"],
  domain: [[0, 1], [0, 1], [0, 1], [0, 1]],
  doc: "test system, d = 4, m = 3",
  grid: [2, 2, 2, 2],
  sizes: [4, 8, 3],
  groups: [
    {
      name: "m",
      doc: "u_t + u u_x + v u_y + p_x − (u_xx + u_yy + u_zz)/10 + u_xz",
      residual: E.add(
        E.du(0),
        E.mul(E.u(), E.du(1)),
        E.mul(E.u(1), E.du(2)),
        E.du(1, 2),
        E.mul(-0.1, E.add(E.d2u(1), E.d2u(2), E.d2u(3))),
        E.d2(1, 3),
      ),
      sampleDim: 4,
      sample: (u) => [...u],
      defaultN: 16,
    },
    {
      name: "n",
      doc: "v_yz + p_y u − v_tt + v_tx p",
      residual: E.add(
        E.d2(2, 3, 1),
        E.mul(E.du(2, 2), E.u()),
        E.neg(E.d2u(0, 1)),
        E.mul(E.d2(0, 1, 1), E.u(2)),
      ),
      target: ([t, x, y, z]) => t + x * y - z,
      sampleDim: 4,
      sample: (u) => [...u],
      defaultN: 16,
    },
    {
      name: "div",
      doc: "u_x + v_y + p_z",
      residual: E.add(E.du(1), E.du(2, 1), E.du(3, 2)),
      sampleDim: 4,
      sample: (u) => [...u],
      defaultN: 16,
    },
    {
      name: "bp",
      doc: "p − sin(x) on z = 0",
      residual: E.u(2),
      target: ([, x]) => Math.sin(x),
      sampleDim: 3,
      sample: ([a, b, c]) => [a, b, c, 0],
      defaultN: 8,
    },
  ],
};

/** Xavier weights plus non-zero biases, so bias gradients and tangents are exercised. */
export function testParams(sizes: number[], seed: number): Float32Array {
  const p = xavierInit(sizes, seed);
  for (const lay of paramLayout(sizes).layers) {
    for (let o = 0; o < lay.out; o++) p[lay.b + o] = 0.3 * gaussianAt(seed, 77, 0, 1, lay.b + o);
  }
  return p;
}

/** A deterministic standard-normal test vector (not the engine's direction stream). */
export const gaussianVector = (n: number, seed: number, dir = 0): Float64Array =>
  Float64Array.from({ length: n }, (_, i) => gaussianAt(seed, 99, 0, dir, i));

/** ‖v‖∞. */
export const infNorm = (v: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
};

/** Σ a_i b_i in float64. */
export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/**
 * The acceptance criterion of the engine: ‖actual − expected‖∞ / max(1, ‖expected‖∞)
 * ≤ tol. Reported through {@linkcode assertAllClose} (max errors, first bad index).
 */
export function assertRelInf(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  name: string,
): void {
  assertAllClose(actual, expected, { rtol: 0, atol: tol * Math.max(1, infNorm(expected)), name });
}

/** The groups' values of a per-group record concatenated in `names` order. */
export function flatten(rec: Record<string, ArrayLike<number>>, names: string[]): Float64Array {
  return Float64Array.from(names.flatMap((n) => Array.from(rec[n])));
}

/**
 * The engine a test module shares. Its device is destroyed when the module
 * unloads, so no device outlives the module that made it and none is left for
 * the process's exit to tear down.
 */
export async function moduleEngine(tuning?: Tuning): Promise<Engine> {
  const engine = await Engine.create(undefined, tuning);
  globalThis.addEventListener("unload", () => engine.dispose());
  return engine;
}

/**
 * A wave plan with tangents and `directions` directions per chunk (tanh), its
 * parameters (`testParams(sizes, paramSeed)`) and points (`samplePoints(wave,
 * counts, pointSeed)`) set: the fixture of the NTK and fused-reduction tests.
 */
export async function wavePlan(
  engine: Engine,
  o: {
    sizes: number[];
    counts: Record<string, number>;
    directions: number;
    paramSeed: number;
    pointSeed: number;
  },
): Promise<{ plan: Plan; params: Float32Array; points: Points }> {
  const plan = await Plan.create(engine, {
    problem: wave,
    sizes: o.sizes,
    activation: "tanh",
    counts: o.counts,
    directions: o.directions,
    tangents: true,
  });
  const params = testParams(o.sizes, o.paramSeed);
  const points = samplePoints(wave, o.counts, o.pointSeed);
  plan.setParams(params);
  plan.setPoints(points);
  return { plan, params, points };
}
