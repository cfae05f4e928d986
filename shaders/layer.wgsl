// The layer a per-layer dispatch works on, a member of the uniform struct of
// optim.wgsl and random.wgsl (joined in front of their sources as common.wgsl is;
// src/plan/layer_uniforms.ts layerFields fills it): flat offsets of W (row-major
// (out, in)) and b, the layer's sizes, its packed forward Wᵀ (in, ldf) then b
// (ldf) at packFOff, and its packed backward W (out, ldb) at packBOff (floats).
// Both structs place it at a multiple of 16 bytes, as uniform structs require.
struct Layer {
  flatW: u32,
  flatB: u32,
  fanIn: u32,
  fanOut: u32,
  packFOff: u32,
  ldf: u32,
  packBOff: u32,
  ldb: u32,
}
