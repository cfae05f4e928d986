/**
 * Output names in expressions (`E.named`) and the shared Navier–Stokes residuals:
 * named channel helpers build the same expressions as the indexed ones, an unknown
 * name is refused with the known ones, the momentum and continuity residuals are
 * the equations written out, Kovasznay's closed form satisfies them (float64
 * central differences), and the built-in flows use them. CPU only.
 */
import assert from "node:assert/strict";
import {
  channelCount,
  channelIndex,
  channelsOf,
  E,
  evalExpr,
  type Expr,
} from "../src/problems/expr.ts";
import {
  continuityResidual,
  FLOW_OUTPUTS,
  momentumDoc,
  momentumResidual,
} from "../src/problems/navier_stokes.ts";
import { kovasznay, kovasznayExact } from "../src/problems/kovasznay.ts";
import { cavity, cavityCornerWeight, cavityProblem } from "../src/problems/cavity.ts";
import { resolveProblem } from "../src/problems/mod.ts";
import { UserError } from "../src/errors.ts";
import { assertClose } from "./assert_close.ts";

Deno.test("E.named: channel helpers take output names or indices and build E's expressions", () => {
  const F = E.named(["u", "v", "p"]);
  assert.deepEqual(F.u("v"), E.u(1));
  assert.deepEqual(F.u("u"), E.u());
  assert.deepEqual(F.du(1, "p"), E.du(1, 2));
  assert.deepEqual(F.d2u(0, "v"), E.d2u(0, 1));
  assert.deepEqual(F.d2(1, 0, "p"), E.d2(0, 1, 2));
  assert.deepEqual(F.du(0, 2), E.du(0, 2), "indices still work");
  assert.deepEqual(F.u(), E.u(0), "output 0 by default");
  assert.deepEqual(F.add(F.mul(2, F.u("v")), 0), E.mul(2, E.u(1)), "the other builders are E's");
  assert.throws(() => F.u("w" as "u"), /output "w" is not one of the outputs u, v, p/);
});

Deno.test("a custom module naming its outputs: E.named's error is one sentence naming the module", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const mod = new URL("../mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/bad.ts`,
      `import { E } from "${mod}";\nconst F = E.named(["u", "v"]);\nexport default { residual: F.u("q" as "u") };\n`,
    );
    await assert.rejects(
      () => resolveProblem(`${dir}/bad.ts`, "--problem"),
      (e: unknown) =>
        e instanceof UserError && /Cannot import problem module/.test(e.message) &&
        /output "q" is not one of the outputs u, v/.test(e.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Channel values of (u, v, p) at `x` from central differences of `f` (float64). */
function channelsFromField(
  f: (x: readonly number[]) => number[],
  x: readonly number[],
  set: ReturnType<typeof channelsOf>,
): number[] {
  const h = 1e-4, C = channelCount(set);
  const at = (dx: number, dy: number) => f([x[0] + dx, x[1] + dy]);
  const ch = new Array(3 * C).fill(0);
  for (let k = 0; k < 3; k++) {
    const put = (order: 0 | 1 | 2, dir: number, v: number) => {
      const i = channelIndex(set, { order, dir });
      if (i >= 0) ch[k * C + i] = v;
    };
    const e = (d: number) => (d === 0 ? [h, 0] : [0, h]) as [number, number];
    put(0, 0, at(0, 0)[k]);
    for (const d of [0, 1]) {
      const [a, b] = e(d);
      put(1, d, (at(a, b)[k] - at(-a, -b)[k]) / (2 * h));
      put(2, d, (at(a, b)[k] - 2 * at(0, 0)[k] + at(-a, -b)[k]) / (h * h));
    }
  }
  return ch;
}

Deno.test("navier_stokes: momentum and continuity residuals are the equations; Kovasznay flow satisfies them", () => {
  const re = 20;
  const residuals = [momentumResidual(0, re), momentumResidual(1, re), continuityResidual()];
  const set = channelsOf(residuals);
  const C = channelCount(set);
  // Written out by hand over random channel values.
  const vals = Array.from({ length: 3 * C }, (_, i) => Math.sin(1.7 * i + 0.3) * (1 + i % 3));
  const ch = (k: number, order: 0 | 1 | 2, dir = 0) =>
    vals[k * C + channelIndex(set, { order, dir })];
  for (const k of [0, 1] as const) {
    const want = ch(0, 0) * ch(k, 1, 0) + ch(1, 0) * ch(k, 1, 1) + ch(2, 1, k) -
      (ch(k, 2, 0) + ch(k, 2, 1)) / re;
    assertClose(evalExpr(residuals[k], [0, 0], vals, set), want, { rtol: 1e-12 });
  }
  assertClose(evalExpr(residuals[2], [0, 0], vals, set), ch(0, 1, 0) + ch(1, 1, 1), {
    rtol: 1e-12,
  });
  // The closed form makes every residual vanish (to the differences' error), while
  // its terms are O(1–10): a wrong sign or index would leave O(1).
  for (const x of [[-0.3, 0.1], [0.2, 0.7], [0.9, 1.3], [0.5, -0.4]]) {
    const field = channelsFromField(kovasznayExact, x, set);
    for (const r of residuals) {
      assert.ok(Math.abs(evalExpr(r, x, field, set)) < 1e-5, `residual at [${x}]`);
    }
    // At another Reynolds number the same field is no solution.
    assert.ok(Math.abs(evalExpr(momentumResidual(0, 10), x, field, set)) > 1e-2);
  }
});

Deno.test("navier_stokes: kovasznay and cavity build their groups from the shared residuals", () => {
  assert.deepEqual(FLOW_OUTPUTS, ["u", "v", "p"]);
  const group = (p: typeof cavity, name: string) => p.groups.find((g) => g.name === name)!;
  // The cavity's interior residuals carry its corner weight (cornerDelta 0: none).
  const w = cavityCornerWeight();
  for (
    const [p, re, weigh] of [
      [kovasznay, 20, (r: Expr) => r],
      [cavity, 100, (r: Expr) => E.mul(w, r)],
      [cavityProblem({ n: 33, cornerDelta: 0 }), 100, (r: Expr) => r],
    ] as const
  ) {
    assert.deepEqual(p.outputs, ["u", "v", "p"]);
    assert.deepEqual(group(p, "mx").residual, weigh(momentumResidual(0, re)));
    assert.deepEqual(group(p, "my").residual, weigh(momentumResidual(1, re)));
    assert.deepEqual(group(p, "div").residual, weigh(continuityResidual()));
  }
  assert.equal(momentumDoc(0, "Re"), "u u_x + v u_y + p_x − (u_xx + u_yy)/Re");
  assert.equal(momentumDoc(1, 100), "u v_x + v v_y + p_y − (v_xx + v_yy)/100");
  assert.equal(
    group(kovasznay, "my").doc,
    "u v_x + v v_y + p_y − (v_xx + v_yy)/Re, in the interior",
  );
  assert.deepEqual(group(kovasznay, "bp").residual, E.u(2));
  assert.deepEqual(group(cavity, "bv").residual, E.u(1));
});
