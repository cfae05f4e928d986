// L-BFGS on the GPU: the direction −H∇L by the compact representation of the
// inverse Hessian (Byrd, Nocedal & Schnabel 1994, Theorem 2.2), the line-search
// trial point, the line values φ(α), φ'(α) and the curvature-pair update.
// Vectors are flat parameter vectors of length P.count.
//
// With S, Y the stored pairs (oldest first), γ = sᵀy/yᵀy of the newest good pair,
// R the upper triangle of SᵀY (R_cd = s_cᵀ y_d, c ≤ d) and D its diagonal:
//   H g = γ g + S w − γ Y u,  u = R⁻¹ Sᵀg,  w = R⁻ᵀ((D + γ YᵀY) u − γ Yᵀg).
// It equals the two-loop recursion's H g (Nocedal & Wright, Algorithm 7.4), but
// the work over the parameters is two wide dispatches without barriers (every
// pair's dot products with g as partial sums over P.chunks interleaved chunks;
// then the combination, one invocation per parameter) around two small ones (the
// Gram row's sums, the solve), instead of 2m dependent single-workgroup steps.
// The Gram matrices SᵀY and YᵀY are kept up to date one row and column per new
// pair, computed along with the next direction's dot products.
//
// History (circular, m slots): hist (2m, P) holds s_slot in rows 0..m−1 and y_slot
// in rows m..2m−1. state = (k pairs stored, newest slot). A pair with ρ = 0 (its
// curvature sᵀy was not positive) is left out of H, as the two-loop recursion's
// no-op step leaves it out.
//
// scal (floats): 0 φ, 1 φ', 2 gᵀg, 3 φ'(0) = gᵀd, 4 γ, 5 sᵀy, 6 yᵀy,
//                8 + slot: ρ_slot, 8 + m + slot: u_slot
// gram (floats, m² + m² + 4m + 1): SY (m × m, SY[i m + j] = s_iᵀ y_j), YY (m × m),
//   then per slot a = sᵀg, b = yᵀg, the coefficients cS (of s) and cY (of y), then γ.
//
// part (floats, 5m × chunks): partial dot products, five per (slot, chunk).
//
// compactDots: partial sums of s_jᵀ g and y_jᵀ g, and of the newest slot i's Gram
//   terms s_iᵀ y_j, s_jᵀ y_i, y_iᵀ y_j (slot i = P.pos − 1 when P.pos > 0); one
//   invocation per (block of SB slots, chunk). 0 uniform P; 1 read state; 2 read hist; 5 read grad;
//   21 rw part
// pairGramSum: SY's row and column i and YY's from the partial sums; one invocation per
//   slot j. 0 uniform P; 1 read state; 22 read partIn; 19 rw gram
// compactSolve: a, b (summing the partials), then u, w and the coefficients
//   cS = w, cY = −γ u (0 for a slot not in H). One invocation.
//   0 uniform P; 1 read state; 4 rw scal; 22 read partIn; 19 rw gram
// compactCombine: q = γ g + Σ_slot cS_slot s_slot + cY_slot y_slot; four parameters each.
//   0 uniform P; 2 read hist; 5 read grad; 20 read gramIn; 3 rw q
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
  chunks: u32,
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
@group(0) @binding(19) var<storage, read_write> gram: array<f32>;
@group(0) @binding(20) var<storage, read> gramIn: array<f32>;
@group(0) @binding(21) var<storage, read_write> part: array<f32>;
@group(0) @binding(22) var<storage, read> partIn: array<f32>;

const RHO: u32 = 8u;

// Offsets into gram for m slots.
fn gramA(m: u32) -> u32 {
  return 2u * m * m;
}
fn gramB(m: u32) -> u32 {
  return 2u * m * m + m;
}
fn gramCS(m: u32) -> u32 {
  return 2u * m * m + 2u * m;
}
fn gramCY(m: u32) -> u32 {
  return 2u * m * m + 3u * m;
}
fn gramGamma(m: u32) -> u32 {
  return 2u * m * m + 4u * m;
}

// The slot whose Gram row and column compactDots refreshes: the newest, or P.pos − 1
// when P.pos > 0 (recomputing a restored history).
fn gramSlot() -> u32 {
  return select(state[1], P.pos - 1u, P.pos > 0u);
}

// For chunk c and each slot j of a block of SB = 4 (one invocation per block and
// chunk; g and the newest pair read once for the four, in vec4 lanes; a block
// past the last slot repeats it and writes nothing), the partial sums of
//   q = 0: s_jᵀ g, 1: y_jᵀ g, 2: s_iᵀ y_j, 3: s_jᵀ y_i, 4: y_iᵀ y_j   (i = gramSlot())
// in part[(q m + j) · chunks + c], chunk c being the indices x ≡ c (mod chunks):
// neighbouring invocations take neighbouring chunks, so they read neighbouring
// floats (coalesced on a GPU, one cache line per SIMD row on a CPU), and none
// waits at a barrier; a sum over the chunks in the next dispatch finishes each
// dot product. The Gram terms ride along: each s_j, y_j is read once for all
// five, and a new pair's row needs no pass of its own. An entry comes out the
// same whichever of its two slots was i (products commute, same order).
const SB: u32 = 4u;

fn writePart(j: u32, c: u32, sg: f32, yg: f32, sy: f32, ys: f32, yy: f32) {
  let mc = P.m * P.chunks;
  let o = j * P.chunks + c;
  part[o] = sg;
  part[mc + o] = yg;
  part[2u * mc + o] = sy;
  part[3u * mc + o] = ys;
  part[4u * mc + o] = yy;
}

@compute @workgroup_size(64)
fn compactDots(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  let m = P.m;
  let n = P.count;
  if (t >= (m + SB - 1u) / SB * P.chunks) {
    return;
  }
  let i = gramSlot();
  let j0 = (t / P.chunks) * SB;
  let c = t % P.chunks;
  let jv = min(vec4<u32>(j0, j0 + 1u, j0 + 2u, j0 + 3u), vec4<u32>(m - 1u));
  let so = jv * n;
  let yo = (jv + m) * n;
  var sg = vec4<f32>();
  var yg = vec4<f32>();
  var sy = vec4<f32>();
  var ys = vec4<f32>();
  var yy = vec4<f32>();
  for (var x = c; x < n; x += P.chunks) {
    let g = vec4<f32>(grad[x]);
    let si = vec4<f32>(hist[i * n + x]);
    let yi = vec4<f32>(hist[(m + i) * n + x]);
    let s4 = vec4<f32>(hist[so.x + x], hist[so.y + x], hist[so.z + x], hist[so.w + x]);
    let y4 = vec4<f32>(hist[yo.x + x], hist[yo.y + x], hist[yo.z + x], hist[yo.w + x]);
    sg = fma(s4, g, sg);
    yg = fma(y4, g, yg);
    sy = fma(si, y4, sy);
    ys = fma(s4, yi, ys);
    yy = fma(yi, y4, yy);
  }
  writePart(j0, c, sg.x, yg.x, sy.x, ys.x, yy.x);
  if (j0 + 1u < m) {
    writePart(j0 + 1u, c, sg.y, yg.y, sy.y, ys.y, yy.y);
  }
  if (j0 + 2u < m) {
    writePart(j0 + 2u, c, sg.z, yg.z, sy.z, ys.z, yy.z);
  }
  if (j0 + 3u < m) {
    writePart(j0 + 3u, c, sg.w, yg.w, sy.w, ys.w, yy.w);
  }
}

// Σ over chunks of row `row`'s partial sums.
fn chunkSum(row: u32) -> f32 {
  var acc = 0.0;
  for (var c = 0u; c < P.chunks; c++) {
    acc += partIn[row * P.chunks + c];
  }
  return acc;
}

// The slot of chronological position c (0 the oldest) of the k pairs stored.
fn chronoSlot(c: u32, k: u32) -> u32 {
  return (state[1] + P.m - (k - 1u - c)) % P.m;
}

@compute @workgroup_size(1)
fn compactSolve() {
  let m = P.m;
  let k = state[0];
  let gamma = scal[4];
  for (var j = 0u; j < m; j++) {
    gram[gramCS(m) + j] = 0.0;
    gram[gramCY(m) + j] = 0.0;
  }
  gram[gramGamma(m)] = gamma;
  for (var c = 0u; c < k; c++) {
    let sc = chronoSlot(c, k);
    gram[gramA(m) + sc] = chunkSum(sc);
    gram[gramB(m) + sc] = chunkSum(m + sc);
  }
  // u = R⁻¹ a, back substitution (newest first).
  for (var cc = 0u; cc < k; cc++) {
    let c = k - 1u - cc;
    let sc = chronoSlot(c, k);
    var u = 0.0;
    if (scal[RHO + sc] != 0.0) {
      var t = gram[gramA(m) + sc];
      for (var d = c + 1u; d < k; d++) {
        let sd = chronoSlot(d, k);
        if (scal[RHO + sd] != 0.0) {
          t -= gram[sc * m + sd] * scal[RHO + m + sd];
        }
      }
      u = t / gram[sc * m + sc];
    }
    scal[RHO + m + sc] = u;
  }
  // w = R⁻ᵀ((D + γ YᵀY) u − γ b), forward substitution (oldest first).
  for (var c = 0u; c < k; c++) {
    let sc = chronoSlot(c, k);
    if (scal[RHO + sc] == 0.0) {
      continue;
    }
    let uc = scal[RHO + m + sc];
    var yyu = 0.0;
    for (var d = 0u; d < k; d++) {
      let sd = chronoSlot(d, k);
      if (scal[RHO + sd] != 0.0) {
        yyu += gram[m * m + sc * m + sd] * scal[RHO + m + sd];
      }
    }
    var t = gram[sc * m + sc] * uc + gamma * (yyu - gram[gramB(m) + sc]);
    for (var d = 0u; d < c; d++) {
      let sd = chronoSlot(d, k);
      if (scal[RHO + sd] != 0.0) {
        t -= gram[sd * m + sc] * gram[gramCS(m) + sd];
      }
    }
    gram[gramCS(m) + sc] = t / gram[sc * m + sc];
    gram[gramCY(m) + sc] = -gamma * uc;
  }
}

// Each invocation forms q at four parameters a quarter of the vector apart (i, i + Q,
// i + 2Q, i + 3Q): each coefficient is read once for four, and neighbouring
// invocations still read neighbouring floats. The coefficients are read from storage,
// not staged in workgroup memory: on a CPU a workgroup barrier costs more than the reads.
@compute @workgroup_size(WG)
fn compactCombine(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = P.count;
  let Q = (n + 3u) / 4u;
  let i = gid.x;
  if (i >= Q) {
    return;
  }
  // Past the end (the last quarter may be short) an entry repeats index i.
  let iv = vec4<u32>(i, i + Q, i + 2u * Q, i + 3u * Q);
  let ok = iv < vec4<u32>(n);
  let ix = select(vec4<u32>(i), iv, ok);
  var acc = gramIn[gramGamma(P.m)] * vec4<f32>(grad[ix.x], grad[ix.y], grad[ix.z], grad[ix.w]);
  for (var j = 0u; j < P.m; j++) {
    let so = j * n;
    let yo = (P.m + j) * n;
    let s4 = vec4<f32>(hist[so + ix.x], hist[so + ix.y], hist[so + ix.z], hist[so + ix.w]);
    let y4 = vec4<f32>(hist[yo + ix.x], hist[yo + ix.y], hist[yo + ix.z], hist[yo + ix.w]);
    acc = fma(vec4<f32>(gramIn[gramCS(P.m) + j]), s4, acc);
    acc = fma(vec4<f32>(gramIn[gramCY(P.m) + j]), y4, acc);
  }
  q[i] = acc.x;
  if (ok.y) {
    q[ix.y] = acc.y;
  }
  if (ok.z) {
    q[ix.z] = acc.z;
  }
  if (ok.w) {
    q[ix.w] = acc.w;
  }
}

@compute @workgroup_size(REDUCE_WG)
fn lineStart(ln: Lanes) {
  let lid = ln.li;
  var gg = 0.0;
  var gd = 0.0;
  for (var i = lid; i < P.count; i += REDUCE_WG) {
    let g = grad[i];
    let di = -qIn[i];
    d[i] = di;
    x0[i] = params[i];
    g0[i] = g;
    gg = fma(g, g, gg);
    gd = fma(g, di, gd);
  }
  let sgg = blockSum(ln, gg);
  let sgd = blockSum(ln, gd);
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

@compute @workgroup_size(REDUCE_WG)
fn lineValues(ln: Lanes) {
  let lid = ln.li;
  var gd = 0.0;
  for (var i = lid; i < P.count; i += REDUCE_WG) {
    gd = fma(grad[i], dIn[i], gd);
  }
  let sgd = blockSum(ln, gd);
  if (lid == 0u) {
    var phi = 0.0;
    for (var j = 0u; j < P.G; j++) {
      phi += lambda[j] * lossSums[j] / f32(groups[j].y);
    }
    scal[0] = phi;
    scal[1] = sgd;
  }
}

@compute @workgroup_size(REDUCE_WG)
fn pairUpdate(ln: Lanes) {
  let lid = ln.li;
  let n = P.count;
  let slot = state[1];
  let sOff = slot * n;
  let yOff = (P.m + slot) * n;
  var ys = 0.0;
  var yy = 0.0;
  for (var i = lid; i < n; i += REDUCE_WG) {
    let s = params[i] - x0In[i];
    let y = grad[i] - g0In[i];
    histOut[sOff + i] = s;
    histOut[yOff + i] = y;
    ys = fma(y, s, ys);
    yy = fma(y, y, yy);
  }
  let sys = blockSum(ln, ys);
  let syy = blockSum(ln, yy);
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

// SY's row and column i and YY's from compactDots' partial sums; one invocation per slot j.
@compute @workgroup_size(64)
fn pairGramSum(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let m = P.m;
  if (j >= m) {
    return;
  }
  let i = gramSlot();
  let yy = chunkSum(4u * m + j);
  gram[i * m + j] = chunkSum(2u * m + j);
  gram[j * m + i] = chunkSum(3u * m + j);
  gram[m * m + i * m + j] = yy;
  gram[m * m + j * m + i] = yy;
}
