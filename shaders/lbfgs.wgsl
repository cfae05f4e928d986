// L-BFGS on the GPU (Nocedal & Wright, Algorithm 7.4 and 7.5): the two-loop
// recursion, the line-search trial point, the line values φ(α), φ'(α) and the
// curvature-pair update. Vectors are flat parameter vectors of length P.count.
//
// The kernels with a dot product run as ONE workgroup: a dot product followed by
// an axpy that needs its result is a global synchronisation, and a single
// workgroup gets it from workgroupBarrier() instead of a second dispatch. Each
// invocation reads and writes the same indices i ≡ lid (mod WG) in every phase,
// so only the reductions need barriers.
//
// History (circular, m slots): hist (2m, P) holds s_slot in rows 0..m−1 and y_slot
// in rows m..2m−1. state = (k pairs stored, newest slot). A pair with ρ = 0 (its
// curvature sᵀy was not positive) is a no-op in both loops.
//
// scal (floats): 0 φ, 1 φ', 2 gᵀg, 3 φ'(0) = gᵀd, 4 γ, 5 sᵀy, 6 yᵀy,
//                8 + slot: ρ_slot, 8 + m + slot: α_slot
//
// twoLoopBack (position pos, newest first): pos 0 starts q = g; then
//   α_slot = ρ_slot s_slotᵀ q; q −= α_slot y_slot.
//   0 uniform P; 1 read state; 2 read hist; 3 rw q; 4 rw scal; 5 read grad
// twoLoopFwd (position pos, oldest first): pos 0 scales q by γ; then
//   β = ρ_slot y_slotᵀ q; q += (α_slot − β) s_slot.
//   0 uniform P; 1 read state; 2 read hist; 3 rw q; 4 rw scal
// lineStart: d = −q; x0 = θ; g0 = g; scal[2] = gᵀg, scal[3] = gᵀd.
//   0 uniform P; 6 read q; 7 read params; 5 read grad; 8 rw d; 9 rw x0; 10 rw g0; 4 rw scal
// lineTrial: θ = x0 + α d (then packWeights packs θ).
//   0 uniform P; 16 read x0In; 11 read dIn; 12 rw paramsOut
// lineValues: φ = Σ_j λ_j lossSums_j / N_j, φ' = gᵀd.
//   0 uniform P; 13 read lossSums; 14 read lambda; 15 read groups; 5 read grad; 11 read dIn;
//   4 rw scal
// pairUpdate (slot = newest): s = θ − x0, y = g − g0; ρ = 1/sᵀy when sᵀy > 1e-10 yᵀy
//   (else 0), and then γ = sᵀy / yᵀy.
//   0 uniform P; 1 read state; 7 read params; 16 read x0In; 5 read grad; 17 read g0In;
//   18 rw histOut; 4 rw scal

override WG: u32 = 256u;

struct Params {
  count: u32,
  pos: u32,
  m: u32,
  G: u32,
  alpha: f32,
  pad0: f32,
  pad1: f32,
  pad2: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> state: array<u32>;
@group(0) @binding(2) var<storage, read> hist: array<f32>;
@group(0) @binding(3) var<storage, read_write> q: array<f32>;
@group(0) @binding(4) var<storage, read_write> scal: array<f32>;
@group(0) @binding(5) var<storage, read> grad: array<f32>;
@group(0) @binding(6) var<storage, read> qIn: array<f32>;
@group(0) @binding(7) var<storage, read> params: array<f32>;
@group(0) @binding(8) var<storage, read_write> d: array<f32>;
@group(0) @binding(9) var<storage, read_write> x0: array<f32>;
@group(0) @binding(10) var<storage, read_write> g0: array<f32>;
@group(0) @binding(11) var<storage, read> dIn: array<f32>;
@group(0) @binding(12) var<storage, read_write> paramsOut: array<f32>;
@group(0) @binding(13) var<storage, read> lossSums: array<f32>;
@group(0) @binding(14) var<storage, read> lambda: array<f32>;
@group(0) @binding(15) var<storage, read> groups: array<vec4<u32>>;
@group(0) @binding(16) var<storage, read> x0In: array<f32>;
@group(0) @binding(17) var<storage, read> g0In: array<f32>;
@group(0) @binding(18) var<storage, read_write> histOut: array<f32>;

var<workgroup> partial: array<f32, WG>;

// Sum of every invocation's `v` (the whole workgroup must call it).
fn workgroupSum(lid: u32, v: f32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      partial[lid] += partial[lid + s];
    }
    workgroupBarrier();
  }
  let total = partial[0];
  // The next reduction overwrites `partial`: everyone must have read it first.
  workgroupBarrier();
  return total;
}

const RHO: u32 = 8u;

// The history slot at two-loop position P.pos: newest first (`back`), else oldest
// first, where position pos is the (k − 1 − pos)-th newest of the k pairs stored.
fn twoLoopSlot(back: bool) -> u32 {
  let k = state[0];
  let newer = select(select(0u, k - 1u - P.pos, P.pos < k), P.pos % P.m, back);
  return (state[1] + P.m - newer) % P.m;
}

// One step of either loop with pair `slot` (the whole workgroup calls it):
// backward, α = ρ sᵀq and q −= α y; forward, β = ρ yᵀq and q += (α − β) s.
// Returns ρ times the dot product (α backward). A position past the k pairs
// stored (`valid` false) leaves q as it is.
fn twoLoopStep(lid: u32, slot: u32, valid: bool, back: bool) -> f32 {
  let n = P.count;
  let sOff = slot * n;
  let yOff = (P.m + slot) * n;
  let dotOff = select(yOff, sOff, back);
  let axpyOff = select(sOff, yOff, back);
  var acc = 0.0;
  for (var i = lid; i < n; i += WG) {
    acc = fma(hist[dotOff + i], q[i], acc);
  }
  let rhoDot = scal[RHO + slot] * workgroupSum(lid, acc);
  if (valid) {
    let c = select(scal[RHO + P.m + slot], 0.0, back) - rhoDot;
    for (var i = lid; i < n; i += WG) {
      q[i] = fma(c, hist[axpyOff + i], q[i]);
    }
  }
  return rhoDot;
}

@compute @workgroup_size(WG)
fn twoLoopBack(@builtin(local_invocation_id) lidv: vec3<u32>) {
  let lid = lidv.x;
  if (P.pos == 0u) {
    for (var i = lid; i < P.count; i += WG) {
      q[i] = grad[i];
    }
  }
  let slot = twoLoopSlot(true);
  let valid = P.pos < state[0];
  let a = twoLoopStep(lid, slot, valid, true);
  if (valid && lid == 0u) {
    scal[RHO + P.m + slot] = a;
  }
}

@compute @workgroup_size(WG)
fn twoLoopFwd(@builtin(local_invocation_id) lidv: vec3<u32>) {
  let lid = lidv.x;
  if (P.pos == 0u) {
    let gamma = scal[4];
    for (var i = lid; i < P.count; i += WG) {
      q[i] = gamma * q[i];
    }
  }
  twoLoopStep(lid, twoLoopSlot(false), P.pos < state[0], false);
}

@compute @workgroup_size(WG)
fn lineStart(@builtin(local_invocation_id) lidv: vec3<u32>) {
  let lid = lidv.x;
  var gg = 0.0;
  var gd = 0.0;
  for (var i = lid; i < P.count; i += WG) {
    let g = grad[i];
    let di = -qIn[i];
    d[i] = di;
    x0[i] = params[i];
    g0[i] = g;
    gg = fma(g, g, gg);
    gd = fma(g, di, gd);
  }
  let sgg = workgroupSum(lid, gg);
  let sgd = workgroupSum(lid, gd);
  if (lid == 0u) {
    scal[2] = sgg;
    scal[3] = sgd;
  }
}

@compute @workgroup_size(WG)
fn lineTrial(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= P.count) {
    return;
  }
  paramsOut[i] = fma(P.alpha, dIn[i], x0In[i]);
}

@compute @workgroup_size(WG)
fn lineValues(@builtin(local_invocation_id) lidv: vec3<u32>) {
  let lid = lidv.x;
  var gd = 0.0;
  for (var i = lid; i < P.count; i += WG) {
    gd = fma(grad[i], dIn[i], gd);
  }
  let sgd = workgroupSum(lid, gd);
  if (lid == 0u) {
    var phi = 0.0;
    for (var j = 0u; j < P.G; j++) {
      phi += lambda[j] * lossSums[j] / f32(groups[j].y);
    }
    scal[0] = phi;
    scal[1] = sgd;
  }
}

@compute @workgroup_size(WG)
fn pairUpdate(@builtin(local_invocation_id) lidv: vec3<u32>) {
  let lid = lidv.x;
  let n = P.count;
  let slot = state[1];
  let sOff = slot * n;
  let yOff = (P.m + slot) * n;
  var ys = 0.0;
  var yy = 0.0;
  for (var i = lid; i < n; i += WG) {
    let s = params[i] - x0In[i];
    let y = grad[i] - g0In[i];
    histOut[sOff + i] = s;
    histOut[yOff + i] = y;
    ys = fma(y, s, ys);
    yy = fma(y, y, yy);
  }
  let sys = workgroupSum(lid, ys);
  let syy = workgroupSum(lid, yy);
  if (lid == 0u) {
    let ok = sys > 1e-10 * syy && syy > 0.0;
    scal[RHO + slot] = select(0.0, 1.0 / sys, ok);
    if (ok) {
      scal[4] = sys / syy;
    }
    scal[5] = sys;
    scal[6] = syy;
  }
}
