/**
 * The built-in problems: each exact solution satisfies every group's residual
 * (channels from float64 finite differences of `exact`), a wrong solution does
 * not, samplers stay in the domain and boundary groups sample the faces they
 * document, and unknown names end in a {@linkcode UserError}.
 */
import assert from "node:assert/strict";
import { UserError } from "../src/errors.ts";
import {
  channelCount,
  channelIndex,
  type ChannelSet,
  channelsOf,
  evalExpr,
} from "../src/problems/expr.ts";
import { getProblem, problems } from "../src/problems/mod.ts";
import type { GroupDef, Problem } from "../src/problems/problem.ts";
import { samplePoints } from "../src/points.ts";

type Fn = (x: readonly number[]) => number;
type VecFn = (x: readonly number[]) => number[];

// Step sizes of the brief; fourth-order stencils make the truncation error
// (h⁴/30 f⁽⁵⁾, h⁴/90 f⁽⁶⁾) negligible even for wave's cos(8πt) mode, where a
// second-order stencil at h = 1e-3 would be off by ~0.2 in u_tt. Round-off stays
// near ε|u|/h² ≈ 1e-9.
const H1 = 1e-4, H2 = 1e-3;

const shifted = (x: readonly number[], dir: number, s: number) =>
  x.map((v, i) => i === dir ? v + s : v);

/** ∂f/∂x_dir by the fourth-order central stencil. */
function fd1(f: Fn, x: readonly number[], dir: number, h = H1): number {
  const at = (s: number) => f(shifted(x, dir, s * h));
  return (-at(2) + 8 * at(1) - 8 * at(-1) + at(-2)) / (12 * h);
}

/** ∂²f/∂x_dir² by the fourth-order central stencil. */
function fd2(f: Fn, x: readonly number[], dir: number, h = H2): number {
  const at = (s: number) => f(shifted(x, dir, s * h));
  return (-at(2) + 16 * at(1) - 30 * at(0) + 16 * at(-1) - at(-2)) / (12 * h * h);
}

/** ∂²f/∂x_a∂x_b by the fourth-order stencil of ∂_b applied to the fourth-order ∂_a. */
function fdMixed(f: Fn, x: readonly number[], a: number, b: number, h = H2): number {
  return fd1((y) => fd1(f, y, a, h), x, b, h);
}

/**
 * The channels of `set` for every output of F (a vector function) at x, placed
 * where the kernels put them: C per output, output-major.
 */
function channelsAt(F: VecFn, x: readonly number[], set: ChannelSet): number[] {
  const C = channelCount(set), m = F(x).length;
  const ch = new Array<number>(m * C).fill(NaN);
  for (let k = 0; k < m; k++) {
    const f: Fn = (y) => F(y)[k];
    ch[k * C + channelIndex(set, { order: 0, dir: 0 })] = f(x);
    for (const dir of set.first) {
      ch[k * C + channelIndex(set, { order: 1, dir })] = fd1(f, x, dir);
      const i2 = channelIndex(set, { order: 2, dir });
      if (i2 >= 0) ch[k * C + i2] = fd2(f, x, dir);
    }
    for (const [a, b] of set.mixed ?? []) {
      ch[k * C + channelIndex(set, { order: 2, dir: a, dir2: b })] = fdMixed(f, x, a, b);
    }
  }
  assert.ok(ch.every(Number.isFinite), "every channel of the set was filled");
  return ch;
}

/** Every output of a problem's exact solution at x. */
const exactAll = (p: Problem): VecFn => (x) => {
  const v = p.exact!(x);
  return typeof v === "number" ? [v] : v;
};

/**
 * r = F(x, channels of f) − target(x), and the tolerance 1e-4 · (1 + |target| +
 * largest |channel|), the scale of the terms the residual cancels.
 */
function residualAt(g: GroupDef, f: VecFn, x: readonly number[]): { r: number; tol: number } {
  const set = channelsOf([g.residual]);
  const ch = channelsAt(f, x, set);
  const target = g.target ? g.target(x) : 0;
  const r = evalExpr(g.residual, x, ch, set) - target;
  const scale = 1 + Math.abs(target) + Math.max(...ch.map(Math.abs));
  return { r, tol: 1e-4 * scale };
}

/** Points of the additive-recurrence (R_d) low-discrepancy sequence in [0,1)^d. */
function unitPoints(d: number, n: number): number[][] {
  // phi_d is the root of x^(d+1) = x + 1; alpha_i = phi_d^-(i+1).
  let phi = 2;
  for (let k = 0; k < 50; k++) phi = (1 + phi) ** (1 / (d + 1));
  const alpha = Array.from({ length: d }, (_, i) => phi ** -(i + 1));
  return Array.from({ length: n }, (_, k) => alpha.map((a) => (0.5 + (k + 1) * a) % 1));
}

/** Low-discrepancy points of the problem's domain box. */
const domainPoints = (p: Problem, n: number): number[][] =>
  unitPoints(p.inputs.length, n).map((u) =>
    u.map((v, i) => p.domain[i][0] + v * (p.domain[i][1] - p.domain[i][0]))
  );

/**
 * Test points per group: its own sampled points plus points spread over the whole
 * domain, since residuals are defined anywhere (points files may hold any points).
 */
function testPoints(p: Problem): Map<GroupDef, number[][]> {
  const own = samplePoints(p, Object.fromEntries(p.groups.map((g) => [g.name, 48])), 11);
  const anywhere = domainPoints(p, 32);
  return new Map(p.groups.map((g) => [g, [...own[g.name], ...anywhere]]));
}

const entries = Object.entries(problems);
// Problems with a closed form; cavity and qtensor (no closed form, a
// solver's reference) have their own tests in flow_problems_test.ts.
const flowProblems = ["cavity", "qtensor", "qtensor-soft"];
const scalarEntries = entries.filter(([key]) => !flowProblems.includes(key));

Deno.test("registry: names, shapes and kernel limits are consistent", () => {
  assert.deepEqual(Object.keys(problems).sort(), [
    "cavity",
    "heat1d",
    "helmholtz2d",
    "klein-gordon1d",
    "kovasznay",
    "poisson1d",
    "qtensor",
    "qtensor-soft",
    "wave",
  ]);
  for (const [key, p] of entries) {
    const d = p.inputs.length;
    assert.equal(p.name, key, `${key}: registry key is the problem name`);
    assert.equal(getProblem(key), p);
    assert.equal(p.domain.length, d, `${key}: one domain interval per input`);
    assert.equal(p.grid.length, d, `${key}: one grid size per input`);
    assert.equal(p.sizes[0], d, `${key}: first size is the input dimension`);
    assert.equal(p.sizes.at(-1), (p.outputs ?? ["u"]).length, `${key}: one output per name`);
    assert.ok(d >= 1 && d <= 4, `${key}: 1 to 4 inputs`);
    assert.ok(p.doc.length > 0, `${key}: documented`);
    for (const [lo, hi] of p.domain) assert.ok(lo < hi, `${key}: domain interval ordered`);
    assert.ok(p.grid.every((n) => Number.isInteger(n) && n >= 2), `${key}: grid sizes`);
    const names = p.groups.map((g) => g.name);
    assert.equal(new Set(names).size, names.length, `${key}: group names are unique`);
    const interior = key === "kovasznay" || key === "cavity"
      ? "mx"
      : key.startsWith("qtensor")
      ? "r1"
      : "r";
    assert.ok(names.includes(interior), `${key}: has an interior residual group "${interior}"`);
    for (const g of p.groups) {
      const set = channelsOf([g.residual]);
      assert.ok(channelCount(set) <= 15, `${key}.${g.name}: at most 15 channels`);
      assert.ok(set.first.every((dir) => dir >= 0 && dir < d), `${key}.${g.name}: directions`);
      assert.ok(Number.isInteger(g.defaultN) && g.defaultN > 0, `${key}.${g.name}: defaultN`);
      assert.ok(g.doc.length > 0, `${key}.${g.name}: documented`);
    }
  }
});

for (const [key, p] of scalarEntries) {
  Deno.test(`${key}: the exact solution satisfies every group's residual`, () => {
    for (const [g, pts] of testPoints(p)) {
      for (const x of pts) {
        const { r, tol } = residualAt(g, exactAll(p), x);
        assert.ok(
          Math.abs(r) <= tol,
          `${key}.${g.name} at [${x.join(", ")}]: |r| = ${Math.abs(r)} > ${tol}`,
        );
      }
    }
  });

  Deno.test(`${key}: a wrong solution leaves every group's residual clearly nonzero`, () => {
    const coef = [7, 3, 5];
    const wrong: VecFn = (x) =>
      exactAll(p)(x).map((u, k) =>
        u + 0.1 * Math.sin(1 + k + x.reduce((s, v, i) => s + coef[i] * v, 0))
      );
    for (const [g, pts] of testPoints(p)) {
      // Worst ratio |r| / tol over the group's points: the exact-solution test
      // would fail on this solution by that factor.
      const worst = Math.max(
        ...pts.map((x) => {
          const { r, tol } = residualAt(g, wrong, x);
          return Math.abs(r) / tol;
        }),
      );
      assert.ok(worst > 100, `${key}.${g.name}: wrong solution gives |r|/tol only ${worst}`);
    }
  });
}

/** Faces a boundary group samples: [input index, "lo" | "hi", expected fraction of points]. */
type Face = [number, "lo" | "hi", number];
const timeBoundary: Face[] = [[0, "lo", 0.5], [1, "lo", 0.25], [1, "hi", 0.25]];
const initial: Face[] = [[0, "lo", 1]];
const boundaryFaces: Record<string, Record<string, Face[]>> = {
  wave: { u: timeBoundary, ut: initial },
  poisson1d: { u: [[0, "lo", 0.5], [0, "hi", 0.5]] },
  heat1d: { u: timeBoundary },
  helmholtz2d: {
    u: [[0, "lo", 0.25], [0, "hi", 0.25], [1, "lo", 0.25], [1, "hi", 0.25]],
  },
  "klein-gordon1d": { u: timeBoundary, ut: initial },
  kovasznay: {
    bu: [[1, "lo", 1.5 / 7], [1, "hi", 1.5 / 7], [0, "lo", 2 / 7], [0, "hi", 2 / 7]],
    bv: [[1, "lo", 1.5 / 7], [1, "hi", 1.5 / 7], [0, "lo", 2 / 7], [0, "hi", 2 / 7]],
    bp: [[0, "hi", 1]],
  },
};

/** Interior groups of each problem (all others are boundary groups). */
const interiorGroups: Record<string, string[]> = { kovasznay: ["mx", "my", "div"] };

/** A stratified grid over [0,1)^d plus the cube's corners, ends and the branch thresholds. */
function samplerInputs(d: number): number[][] {
  const n = d === 1 ? 4096 : 64;
  const axis = Array.from({ length: n }, (_, k) => (k + 0.5) / n);
  let grid: number[][] = [[]];
  for (let i = 0; i < d; i++) grid = grid.flatMap((pt) => axis.map((v) => [...pt, v]));
  const edges = [0, 0.25, 0.5, 0.75, 1 - 2 ** -53];
  let extra: number[][] = [[]];
  for (let i = 0; i < d; i++) extra = extra.flatMap((pt) => edges.map((v) => [...pt, v]));
  return [...grid, ...extra];
}

Deno.test("samplers map into the domain; boundary groups sample their faces", () => {
  for (const [key, p] of scalarEntries) {
    const faces = boundaryFaces[key];
    assert.ok(faces, `${key}: the test lists its boundary groups`);
    for (const g of p.groups) {
      const us = samplerInputs(g.sampleDim);
      const pts = us.map((u) => g.sample(u));
      for (const x of pts) {
        assert.equal(x.length, p.inputs.length, `${key}.${g.name}: point dimension`);
        x.forEach((v, i) => {
          const [lo, hi] = p.domain[i];
          assert.ok(
            Number.isFinite(v) && v >= lo && v <= hi,
            `${key}.${g.name}: [${x.join(", ")}] leaves the domain in ${p.inputs[i]}`,
          );
        });
      }
      const gf = faces[g.name];
      if (!gf) {
        assert.ok(
          (interiorGroups[key] ?? ["r"]).includes(g.name),
          `${key}.${g.name}: a boundary group the test does not list`,
        );
        // Interior sampler: spans the box.
        p.domain.forEach(([lo, hi], i) => {
          const vs = pts.map((x) => x[i]);
          assert.ok(
            Math.min(...vs) - lo < 0.05 * (hi - lo) && hi - Math.max(...vs) < 0.05 * (hi - lo),
          );
        });
        continue;
      }
      const value = (i: number, side: "lo" | "hi") => p.domain[i][side === "lo" ? 0 : 1];
      const counts = gf.map(() => 0);
      pts.forEach((x, k) => {
        const on = gf.findIndex(([i, side]) => x[i] === value(i, side));
        assert.ok(on >= 0, `${key}.${g.name}: [${x.join(", ")}] is on none of its faces`);
        if (k < pts.length - 5 ** g.sampleDim) counts[on]++;
      });
      const total = counts.reduce((s, c) => s + c, 0);
      gf.forEach(([i, side, frac], f) => {
        const face = `${p.inputs[i]} = ${value(i, side)}`;
        assert.ok(
          Math.abs(counts[f] / total - frac) < 0.02,
          `${key}.${g.name}: ${face} gets ${counts[f] / total} of the points, expected ${frac}`,
        );
        // Along the face, every other coordinate spans its interval.
        const onFace = pts.filter((x) => x[i] === value(i, side));
        p.domain.forEach(([lo, hi], j) => {
          if (j === i) return;
          const vs = onFace.map((x) => x[j]);
          assert.ok(
            Math.min(...vs) - lo < 0.05 * (hi - lo) && hi - Math.max(...vs) < 0.05 * (hi - lo),
            `${key}.${g.name}: ${face} does not span ${p.inputs[j]} ∈ [${lo}, ${hi}]`,
          );
        });
      });
    }
  }
});

Deno.test("getProblem: an unknown name is a UserError naming every problem", () => {
  for (const name of ["nope", "constructor", "__proto__", "Wave"]) {
    assert.throws(
      () => getProblem(name),
      (e: unknown) => {
        assert.ok(e instanceof UserError, `${name}: throws a UserError`);
        assert.equal(e.input, "--problem");
        assert.ok(e.message.includes(`"${name}"`), `${name}: message names the input`);
        for (const known of Object.keys(problems)) {
          assert.ok(e.message.includes(known), `${name}: message lists ${known}`);
        }
        return true;
      },
    );
  }
});
