// Parameter updates and weight packing. adam, gatherGradient and packWeights run
// one dispatch per layer, one invocation per element of the layer's gradient
// block; perturb one invocation per packed vec4.
//
// The uniform P names the dispatch's layer (P.layer, shaders/layer.wgsl): flat
// offsets of W and b, its sizes and its packed forward and backward layouts.
// Why per layer: with the layer's offsets uniform, llvmpipe reads them once per
// workgroup; a per-parameter search of a layer table in a storage buffer read
// them once per invocation and was most of the optimizer's time on a CPU.
// A layer's gradient block in `partial` is (out, in+1) row-major at offset flatW
// (weight_grad.wgsl), the bias in column `in`; the slices' blocks are P.count apart.
//
// adam: g = Σ_slices λ[group(slice)] partial[slice]; Adam (MODE 0) or gradient
//   descent (MODE 1) on params; rewrites both packed layouts; with AVERAGE = 1 also
//   the parameter average avg ← β avg + (1 − β) θ (β = P.scale) of the new θ, as
//   a separate pass over the parameters would (one dispatch fewer per layer).
//   0 uniform P; 2 read partial; 4 read lambda; 5 rw params; 6 rw moments (m then v);
//   7 rw packF; 8 rw packB; 14 rw avg
// gatherGradient: the same g, written in the flat layout.
//   0 uniform P; 2 read partial; 4 read lambda; 9 rw grad
// packWeights: packed layouts from flat params (after an upload).
//   0 uniform P; 10 read paramsIn; 7 rw packF; 8 rw packB
// perturb: packDst = packSrc + scale · dirs[dirOff…] over the packed forward layout.
//   0 uniform P; 11 read packSrc; 12 read dirsIn; 13 rw packDst

const MODE: u32 = 0u;
const AVERAGE: u32 = 0u;
// Residual groups a plan may have (src/launch.ts), and this plan's (a constant, so
// that the group loop below unrolls to G copies and no empty ones).
const MAX_GROUPS: u32 = 8u;
const GROUPS: u32 = 8u;
override WG: u32 = 64u;

struct Params {
  count: u32,
  pad1: u32,
  pad2: u32,
  dirOff: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  bc1: f32,
  bc2: f32,
  scale: f32,
  pad0: f32,
  // The layer of this dispatch (adam, gatherGradient, packWeights; layer.wgsl).
  layer: Layer,
  // (first slice, end slice, 0, 0) per group; the slices are ordered by group.
  groups: array<vec4<u32>, 8>,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(2) var<storage, read> partial: array<f32>;
@group(0) @binding(4) var<storage, read> lambda: array<f32>;
@group(0) @binding(5) var<storage, read_write> params: array<f32>;
@group(0) @binding(6) var<storage, read_write> moments: array<f32>;
@group(0) @binding(7) var<storage, read_write> packF: array<f32>;
@group(0) @binding(8) var<storage, read_write> packB: array<f32>;
@group(0) @binding(9) var<storage, read_write> grad: array<f32>;
@group(0) @binding(10) var<storage, read> paramsIn: array<f32>;
@group(0) @binding(11) var<storage, read> packSrc: array<vec4<f32>>;
@group(0) @binding(12) var<storage, read> dirsIn: array<vec4<f32>>;
@group(0) @binding(13) var<storage, read_write> packDst: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read_write> avg: array<f32>;

// Element j of the layer's gradient block (out, in+1), row-major: row r, column
// c (c = in: the bias); z = 0 past the block's end.
fn element(j: u32) -> vec3<u32> {
  let k1 = P.layer.fanIn + 1u;
  let r = j / k1;
  return vec3<u32>(r, j - r * k1, select(0u, 1u, j < P.layer.fanOut * k1));
}

// The flat index (design §2) of row r, column c: W row-major (out, in), then b.
fn flatIndex(e: vec3<u32>) -> u32 {
  return select(P.layer.flatW + e.x * P.layer.fanIn + e.y, P.layer.flatB + e.x, e.y == P.layer.fanIn);
}

// λ of every group, read before any branch: at a constant index outside control
// flow llvmpipe loads a storage value once per workgroup, inside a loop once per
// invocation (per slice, that was most of the kernel's time). Indices past the
// plan's groups read whatever WebGPU returns out of bounds, never used.
fn groupWeights() -> array<f32, MAX_GROUPS> {
  return array<f32, MAX_GROUPS>(
    lambda[0],
    lambda[1],
    lambda[2],
    lambda[3],
    lambda[4],
    lambda[5],
    lambda[6],
    lambda[7],
  );
}

// g + Σ over the slices [r.x, r.y) of λ · partial, in slice order.
fn groupSum(g0: f32, lam: f32, r: vec4<u32>, j: u32) -> f32 {
  var g = g0;
  for (var s = r.x; s < r.y; s++) {
    g = fma(lam, partial[s * P.count + P.layer.flatW + j], g);
  }
  return g;
}

// g = Σ_slices λ[group(slice)] partial[slice], the slices in order (they are
// ordered by group), so the same sum as one loop over the slices.
fn gradientAt(j: u32, lam: array<f32, MAX_GROUPS>) -> f32 {
  var g = 0.0;
  // unroll
  for (var q = 0u; q < GROUPS; q++) {
    g = groupSum(g, lam[q], P.groups[q], j);
  }
  return g;
}

// Packed forward Wᵀ (in, ldf) then b (ldf): the bias is row `in`, so one formula.
fn writePacked(e: vec3<u32>, v: f32) {
  packF[P.layer.packFOff + e.y * P.layer.ldf + e.x] = v;
  if (e.y < P.layer.fanIn) {
    packB[P.layer.packBOff + e.x * P.layer.ldb + e.y] = v;
  }
}

@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>) {
  let lam = groupWeights();
  let e = element(gid.x);
  if (e.z == 0u) {
    return;
  }
  let p = flatIndex(e);
  let g = gradientAt(gid.x, lam);
  var th = params[p];
  if (MODE == 0u) {
    let m = P.beta1 * moments[p] + (1.0 - P.beta1) * g;
    let v = P.beta2 * moments[P.count + p] + (1.0 - P.beta2) * g * g;
    moments[p] = m;
    moments[P.count + p] = v;
    th -= P.lr * (m / P.bc1) / (sqrt(v / P.bc2) + P.eps);
  } else {
    th -= P.lr * g;
  }
  params[p] = th;
  writePacked(e, th);
  if (AVERAGE == 1u) {
    avg[p] = fma(P.scale, avg[p] - th, th);
  }
}

@compute @workgroup_size(WG)
fn gatherGradient(@builtin(global_invocation_id) gid: vec3<u32>) {
  let lam = groupWeights();
  let e = element(gid.x);
  if (e.z == 0u) {
    return;
  }
  grad[flatIndex(e)] = gradientAt(gid.x, lam);
}

@compute @workgroup_size(WG)
fn packWeights(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = element(gid.x);
  if (e.z == 0u) {
    return;
  }
  writePacked(e, paramsIn[flatIndex(e)]);
}

@compute @workgroup_size(WG)
fn perturb(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= P.count) {
    return;
  }
  packDst[gid.x] = fma(vec4<f32>(P.scale), dirsIn[P.dirOff + gid.x], packSrc[gid.x]);
}
