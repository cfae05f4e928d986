/** resvg's compiled wasm module, for `initWasm`. */
declare const resvgWasm: WebAssembly.Module;
export default resvgWasm;
