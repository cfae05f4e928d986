import assert from "node:assert/strict";
import { instantiate, specialize } from "../src/specialize.ts";
import { kernelSource } from "../src/kernels.ts";

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
