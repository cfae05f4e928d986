// @ts-self-types="./resvg_wasm.d.ts"
// resvg's wasm from its npm package as a compiled WebAssembly.Module. A source
// phase import needs no flags and no file path, so it works from a JSR import
// too. It sits in a JS file because TypeScript does not parse the syntax yet,
// and names the package in full like every npm import of the source (the same
// version as deno.json's "@resvg/resvg-wasm"; a test checks): a program that
// imports mod.ts by path or URL has no access to this package's deno.json.
// deno-lint-ignore no-import-prefix
import source resvgWasm from "npm:@resvg/resvg-wasm@2.6.2/index_bg.wasm";

export default resvgWasm;
