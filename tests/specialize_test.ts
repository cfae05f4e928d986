import assert from "node:assert/strict";
import { instantiate, specialize } from "../src/specialize.ts";
import { kernelSource } from "../src/kernels.ts";
import { evalConst, unroll } from "../src/unroll.ts";
import { taylorLaunch } from "../src/launch.ts";

const src = `const TM: u32 = 8u;
const SCALE: f32 = 1.0;
// BEGIN body
fn f() -> f32 { return 1.0; }
// END body
// BEGIN tile
const TV_V: u32 = 1u;
fn tile_V() -> u32 { return TV_V * TM; }
// END tile
`;

Deno.test("specialize: replaces constants and regions, and refuses unknown names", () => {
  const out = specialize(src, { TM: 16, SCALE: 0.5 }, { body: "fn f() -> f32 { return 2.0; }" });
  assert.match(out, /const TM: u32 = 16u;/);
  assert.match(out, /const SCALE: f32 = 0.5;/);
  assert.match(out, /return 2\.0;/);
  assert.doesNotMatch(out, /return 1\.0;/);
  assert.throws(() => specialize(src, { NOPE: 1 }), /no `const NOPE/);
  assert.throws(() => specialize(src, {}, { nope: "" }), /no region "nope"/);
  assert.throws(() => specialize(src, { TM: 1.5 }), /whole number/);
  assert.throws(() => specialize(src, { TM: -1 }), /whole number/);
});

Deno.test("specialize: instances copy a region per variant with renamed identifiers", () => {
  const out = instantiate(src, { region: "tile", values: [{ TV: 1 }, { TV: 4 }] });
  assert.match(out, /const TV_0: u32 = 1u;/);
  assert.match(out, /const TV_1: u32 = 4u;/);
  assert.match(out, /fn tile_0\(\) -> u32 \{ return TV_0 \* TM; \}/);
  assert.match(out, /fn tile_1\(\) -> u32 \{ return TV_1 \* TM; \}/);
  assert.doesNotMatch(out, /_V\b/);
  assert.throws(() => instantiate(src, { region: "tile", values: [] }), /at least one instance/);
});

Deno.test("specialize: every shader file stays valid on its own (defaults present)", () => {
  // The unspecialised sources keep their default constants and regions.
  const taylor = kernelSource("taylorForward");
  assert.match(taylor, /const TV_V: u32 = 1u;/);
  assert.match(taylor, /\/\/ BEGIN select/);
  assert.match(kernelSource("residual"), /\/\/ BEGIN pde/);
});

Deno.test("unroll: constant bounds, nested loops and start values; unmarked loops stay", () => {
  assert.equal(evalConst("1u + NF_0 * (2u + 1u)", { NF_0: 3 }), 10);
  assert.equal(evalConst("TM / 4u - 1u", { TM: 8 }), 1);
  assert.equal(evalConst("7u % 4u", {}), 3);
  assert.throws(() => evalConst("K + 1u", {}), /K in "K \+ 1u" is not a known constant/);
  const src = `const N: u32 = 2u;
const M: u32 = N + 1u;
fn f() {
  var acc: array<f32, 6>;
  // unroll
  for (var i = 0u; i < N; i++) {
    let x = f32(i);
    for (var j = 1u; j < M; j++) {
      acc[i * 3u + j] = x;
    }
  }
  for (var k = 0u; k < 3u; k++) {
    acc[k] = 2.0;
  }
}
`;
  const out = unroll(src);
  const stores = [...out.matchAll(/acc\[(\d)u \* 3u \+ (\d)u\] = x;/g)].map((m) => m[1] + m[2]);
  assert.deepEqual(stores, ["01", "02", "11", "12"]);
  // Each iteration is its own block, so its `let`s do not collide.
  assert.equal([...out.matchAll(/let x = f32\((\d)u\);/g)].length, 2);
  assert.match(out, /for \(var k = 0u; k < 3u; k\+\+\)/);
  assert.doesNotMatch(out, /\/\/ unroll|for \(var [ij]/);
  assert.throws(() => unroll("// unroll\nloop { break; }\n"), /must precede/);
});

Deno.test("unroll: the Taylor kernels index their register tiles by constants only", () => {
  const t = taylorLaunch(
    [{ channels: 5, set: { first: [0, 1], numSecond: 2 }, np: 64, col: 0 }],
    128,
    { tm: 8, act: 0, wg: [8, 8] },
  );
  for (const k of ["taylorForward", "taylorBackward", "taylorTangent"] as const) {
    const s = kernelSource(k, t.variant);
    assert.doesNotMatch(s, /\/\/ unroll\n/);
    // Every acc index is a const-expression of literals and consts (no loop counter).
    for (const m of s.replace(/\/\/.*$/gm, "").matchAll(/acc\[([^\]]+)\]/g)) {
      assert.match(m[1], /^[\d u*+()A-Z_]+$/, m[1]);
    }
  }
});
