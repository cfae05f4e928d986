/**
 * Output transforms (hard constraints): the residuals `withTransform` rewrites in
 * the network's channels equal the residuals of u = a + b·N computed from u's own
 * derivatives (finite differences of a closed-form N), predictions map N to u, and
 * qtensor's hard variant meets its initial and boundary conditions whatever N is.
 */
import assert from "node:assert/strict";
import { channelIndex, channelsOf, E, evalExpr, type Expr } from "../src/problems/expr.ts";
import type { Problem } from "../src/problems/problem.ts";
import { validateProblem } from "../src/problems/mod.ts";
import { qtensorProblem } from "../src/problems/qtensor.ts";
import { applyTransform, diffInput, withTransform } from "../src/problems/transform.ts";
import { qtensorInitial } from "../src/solvers/qtensor.ts";
import { assertAllClose, assertClose } from "./assert_close.ts";

/** Two outputs N_k(x, y) in closed form. */
const N = [
  ([x, y]: readonly number[]) => Math.sin(x + 2 * y) + 0.3 * x * y,
  ([x, y]: readonly number[]) => Math.exp(0.5 * x - y) * Math.cos(y),
];
const a: Expr[] = [E.pow(E.x(0), 2), E.c(0)];
const b: Expr[] = [E.mul(E.x(0), E.x(1)), E.sin(E.mul(3, E.x(1)))];
const U = [
  (p: readonly number[]) => p[0] ** 2 + p[0] * p[1] * N[0](p),
  (p: readonly number[]) => Math.sin(3 * p[1]) * N[1](p),
];

/** ∂^order f / ∂x_i ∂x_j (j = i for order 2 pure) by central differences. */
function fd(f: (p: readonly number[]) => number, p: number[], i?: number, j?: number): number {
  const h = 1e-4;
  const at = (di: number, dj: number) => {
    const q = [...p];
    if (i !== undefined) q[i] += di * h;
    if (j !== undefined) q[j] += dj * h;
    return f(q);
  };
  if (i === undefined) return f(p);
  if (j === undefined) return (at(1, 0) - at(-1, 0)) / (2 * h);
  if (i === j) {
    const q = (s: number) => f(p.map((v, k) => k === i ? v + s * h : v));
    return (q(1) - 2 * q(0) + q(-1)) / (h * h);
  }
  return (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h * h);
}

/** N's channels for `set` at p, output-major (finite differences of N). */
function channels(set: ReturnType<typeof channelsOf>, p: number[]): number[] {
  const C = 1 + set.first.length + set.numSecond + (set.mixed?.length ?? 0);
  const ch = new Array<number>(2 * C).fill(0);
  for (let k = 0; k < 2; k++) {
    ch[k * C + channelIndex(set, { order: 0, dir: 0, out: k })] = N[k](p);
    for (const [s, d] of set.first.entries()) {
      ch[k * C + channelIndex(set, { order: 1, dir: d, out: k })] = fd(N[k], p, d);
      if (s < set.numSecond) {
        ch[k * C + channelIndex(set, { order: 2, dir: d, out: k })] = fd(N[k], p, d, d);
      }
    }
    for (const [i, j] of set.mixed ?? []) {
      ch[k * C + channelIndex(set, { order: 2, dir: i, dir2: j, out: k })] = fd(N[k], p, i, j);
    }
  }
  return ch;
}

const base = (residuals: Expr[]): Problem => ({
  name: "t2",
  inputs: ["x", "y"],
  outputs: ["u", "v"],
  domain: [[0, 1], [0, 1]],
  grid: [3, 3],
  sizes: [2, 8, 2],
  doc: "transform test",
  groups: residuals.map((residual, i) => ({
    name: `g${i}`,
    doc: "",
    residual,
    sampleDim: 2,
    sample: (u) => [...u],
    defaultN: 4,
  })),
});

Deno.test("diffInput: symbolic derivatives of input expressions match finite differences", () => {
  const e = E.mul(E.sin(E.mul(Math.PI, E.x(0))), E.exp(E.x(1)), E.pow(E.x(0), 3));
  const f = (p: readonly number[]) => evalExpr(e, p, [], { first: [], numSecond: 0 });
  for (const p of [[0.3, 0.7], [0.9, -0.2]]) {
    for (const i of [0, 1]) {
      const d = (q: readonly number[]) =>
        evalExpr(diffInput(e, i), q, [], { first: [], numSecond: 0 });
      assertClose(d(p), fd(f, p, i), { rtol: 1e-7, atol: 1e-9 });
      assertClose(
        evalExpr(diffInput(diffInput(e, i), 1 - i), p, [], { first: [], numSecond: 0 }),
        fd(f, p, i, 1 - i),
        { rtol: 1e-5, atol: 1e-6 },
      );
    }
  }
  assert.throws(() => diffInput(E.u(), 0), /must not read the network/);
});

Deno.test("withTransform: every channel kind of u rewritten in N matches u's own derivatives", () => {
  // One residual per channel kind of each output, and a nonlinear mix of them.
  const residuals: Expr[] = [];
  for (const k of [0, 1]) {
    residuals.push(
      E.u(k),
      E.du(0, k),
      E.du(1, k),
      E.d2u(0, k),
      E.d2u(1, k),
      E.d2(0, 1, k),
    );
  }
  residuals.push(E.add(E.mul(E.u(0), E.du(0, 1)), E.pow(E.d2u(1, 1), 2), E.d2(0, 1, 0)));
  const want = [0, 1].flatMap((k) => [
    (p: number[]) => U[k](p),
    (p: number[]) => fd(U[k], p, 0),
    (p: number[]) => fd(U[k], p, 1),
    (p: number[]) => fd(U[k], p, 0, 0),
    (p: number[]) => fd(U[k], p, 1, 1),
    (p: number[]) => fd(U[k], p, 0, 1),
  ]);
  want.push((p) => U[0](p) * fd(U[1], p, 0) + fd(U[1], p, 1, 1) ** 2 + fd(U[0], p, 0, 1));
  const hard = withTransform(base(residuals), { offset: a, factor: b, doc: "test" });
  assert.equal(hard.transform?.doc, "test");
  for (const p of [[0.2, 0.6], [0.75, 0.35]]) {
    hard.groups.forEach((g, i) => {
      const set = channelsOf([g.residual]);
      const got = evalExpr(g.residual, p, channels(set, p), set);
      assertClose(got, want[i](p), { rtol: 2e-5, atol: 2e-5 });
    });
  }
});

Deno.test("withTransform: refuses a group the transform satisfies, a second transform, bad parts", () => {
  const p = base([E.u(0), E.u(1)]);
  assert.throws(
    () => withTransform(p, { factor: [0, 1], doc: "u = 0" }),
    /group "g0" of problem t2 holds exactly under the output transform "u = 0"; leave it out/,
  );
  const hard = withTransform(p, { factor: [1, 1], doc: "id" });
  assert.throws(() => withTransform(hard, { factor: [1, 1], doc: "id" }), /already has/);
  assert.throws(() => withTransform(p, { factor: [1], doc: "one" }), /one offset and one factor/);
  assert.throws(
    () => withTransform(p, { factor: [E.u(), 1], doc: "reads N" }),
    /must not read the network/,
  );
});

Deno.test("applyTransform: maps network outputs to u pointwise; identity without a transform", () => {
  const p = withTransform(base([E.du(0, 0), E.du(0, 1)]), { offset: a, factor: b, doc: "t" });
  const pts = [[0.5, 0.25], [1, 2]];
  const raw = [Float32Array.of(2, -1), Float32Array.of(0.5, 4)];
  const [u, v] = applyTransform(p, pts, raw);
  assertAllClose(Array.from(u), [0.25 + 0.125 * 2, 1 + 2 * -1], { rtol: 1e-7 });
  assertAllClose(Array.from(v), [Math.sin(0.75) * 0.5, Math.sin(6) * 4], { rtol: 1e-6 });
  const plain = base([E.u()]);
  assert.equal(applyTransform(plain, pts, raw), raw);
});

Deno.test("qtensor (hard): Q(0) on t = 0, 0 on ∂Ω and Q_t(0) = 0 whatever the network; groups r1, r2", () => {
  const hard = qtensorProblem();
  assert.deepEqual(hard.groups.map((g) => g.name), ["r1", "r2"]);
  const pts = [[0, 0.3, 1.1], [0, 1.7, 0.4], [0.6, 0, 0.9], [0.2, 2, 1.3], [0.9, 0.5, 2]];
  const raw = [Float32Array.of(3, -2, 5, 1, 7), Float32Array.of(-4, 6, 2, -8, 3)];
  const [q1, q2] = applyTransform(hard, pts, raw);
  for (const [i, [t, x, y]] of pts.entries()) {
    const want = t === 0 ? qtensorInitial(x, y) : [0, 0];
    assertAllClose([q1[i], q2[i]], want, { atol: 1e-6 });
  }
  // ∂_t Q at t = 0 rewritten in N: no term survives at t = 0 for any channel values.
  const dt = withTransform(
    { ...qtensorProblem({}, "soft"), groups: [qtensorProblem({}, "soft").groups[4]] },
    hard.transform!,
  ).groups[0].residual;
  const set = channelsOf([dt]);
  const ch = [1.5, -2.5, 0.7, 3.1, 2.2, -0.4, 1.9, 0.8];
  for (const [x, y] of [[0.3, 1.1], [1.4, 0.6]]) {
    assertClose(evalExpr(dt, [0, x, y], ch, set), 0, { atol: 1e-12 });
  }
  const boundary = qtensorProblem({}, "boundary");
  assert.deepEqual(boundary.groups.map((g) => g.name), ["r1", "r2", "q1", "q2", "qt1", "qt2"]);
});

Deno.test("validateProblem: a module's transform is checked, naming the part at fault", () => {
  const good = withTransform(base([E.du(0, 0), E.du(1, 1)]), { factor: b, doc: "t" });
  assert.equal(validateProblem(good, "m.ts"), good);
  const bad = (transform: unknown) => () =>
    validateProblem({ ...good, transform } as Problem, "m.ts");
  assert.throws(
    bad({ factor: b }),
    /"transform" must be an output transform made by withTransform/,
  );
  assert.throws(
    bad({ factor: [1], doc: "t" }),
    /"transform.factor" must give one expression per output \(2\)/,
  );
  assert.throws(
    bad({ factor: [1, E.u(1)], doc: "t" }),
    /"transform.factor\[1\]" reads the network; it must be a function of the inputs/,
  );
  assert.throws(
    bad({ factor: [1, 1], offset: [E.x(5), 0], doc: "t" }),
    /"transform.offset\[0\]" reads input 5/,
  );
});
