// Parameter updates and weight packing. One invocation per parameter (flat
// layout of design §2) or per packed element.
//
// The layer table holds two vec4<u32> per layer:
//   (w, b, in, out)          flat offsets and sizes
//   (fOff, ldf, bOffB, ldb)  packed forward Wᵀ (in, ldf) then b (ldf) at fOff;
//                            packed backward W (out, ldb) at bOffB (floats)
// A layer's gradient block in `partial` is (out, in+1) row-major at offset w
// (weight_grad.wgsl), the bias in column `in`.
//
// adam: g = Σ_slices λ[group(slice)] partial[slice]; Adam (MODE 0) or gradient
//   descent (MODE 1) on params; rewrites both packed layouts; with AVERAGE = 1 also
//   the parameter average avg ← β avg + (1 − β) θ (β = P.scale) of the new θ, as
//   a separate pass over the parameters would (one dispatch fewer per step).
//   0 uniform P; 1 read layers; 2 read partial; 3 read slices; 4 read lambda;
//   5 rw params; 6 rw moments (m then v); 7 rw packF; 8 rw packB; 14 rw avg
// gatherGradient: the same g, written in the flat layout.
//   0 uniform P; 1 read layers; 2 read partial; 3 read slices; 4 read lambda; 9 rw grad
// packWeights: packed layouts from flat params (after an upload).
//   0 uniform P; 1 read layers; 10 read paramsIn; 7 rw packF; 8 rw packB
// perturb: packDst = packSrc + scale · dirs[dirOff…] over the packed forward layout.
//   0 uniform P; 11 read packSrc; 12 read dirsIn; 13 rw packDst

const MODE: u32 = 0u;
const AVERAGE: u32 = 0u;
override WG: u32 = 64u;

struct Params {
  count: u32,
  nslices: u32,
  L: u32,
  dirOff: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  bc1: f32,
  bc2: f32,
  scale: f32,
  pad0: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> layers: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> partial: array<f32>;
@group(0) @binding(3) var<storage, read> slices: array<vec4<u32>>;
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

// Where flat parameter p lives: (layer, row, column) with column = in for a bias.
fn locate(p: u32) -> vec3<u32> {
  var l = 0u;
  for (var q = 1u; q < P.L; q++) {
    if (p >= layers[2u * q].x) {
      l = q;
    }
  }
  let t = layers[2u * l];
  if (p >= t.y) {
    return vec3<u32>(l, p - t.y, t.z);
  }
  return vec3<u32>(l, (p - t.x) / t.z, (p - t.x) % t.z);
}

fn gradientAt(p: u32, loc: vec3<u32>) -> f32 {
  let t = layers[2u * loc.x];
  let idx = t.x + loc.y * (t.z + 1u) + loc.z;
  var g = 0.0;
  for (var s = 0u; s < P.nslices; s++) {
    g = fma(lambda[slices[s].z], partial[s * P.count + idx], g);
  }
  return g;
}

fn writePacked(loc: vec3<u32>, v: f32) {
  let t = layers[2u * loc.x];
  let pk = layers[2u * loc.x + 1u];
  if (loc.z == t.z) {
    packF[pk.x + t.z * pk.y + loc.y] = v;
  } else {
    packF[pk.x + loc.z * pk.y + loc.y] = v;
    packB[pk.z + loc.y * pk.w + loc.z] = v;
  }
}

@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = gid.x;
  if (p >= P.count) {
    return;
  }
  let loc = locate(p);
  let g = gradientAt(p, loc);
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
  writePacked(loc, th);
  if (AVERAGE == 1u) {
    avg[p] = fma(P.scale, avg[p] - th, th);
  }
}

@compute @workgroup_size(WG)
fn gatherGradient(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = gid.x;
  if (p >= P.count) {
    return;
  }
  grad[p] = gradientAt(p, locate(p));
}

@compute @workgroup_size(WG)
fn packWeights(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = gid.x;
  if (p >= P.count) {
    return;
  }
  writePacked(locate(p), paramsIn[p]);
}

@compute @workgroup_size(WG)
fn perturb(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= P.count) {
    return;
  }
  packDst[gid.x] = fma(vec4<f32>(P.scale), dirsIn[P.dirOff + gid.x], packSrc[gid.x]);
}
