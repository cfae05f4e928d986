// Weight gradients of one layer, split over column slices (split-K):
//   partial[s][r][k] = Σ_{col ∈ slice s} α_col Z̄_l[r][col] A_aug[k][col]
// for r < M and k < K1 = K + 1, where A_aug row K is the bias indicator (1 on
// value-channel columns), so column K of the result is the bias gradient. The
// (M, K+1) row-major block of a layer starts at the layer's flat offset: a layer
// has out·(in+1) parameters either way. α_col = (2/N_j) r_i of the column's point,
// so the backward pass can stay unscaled per point (it also feeds the exact NTK).
// Each slice lies inside one group; the optimizer combines slices with λ_j.
// An invocation sums a TM × TK block of outputs in scalars, a vec4 of four
// columns at a time through dot(): summing over the columns at once keeps the
// register tile at TM·TK floats (a vec4 per output would need four times as
// many), which on llvmpipe allowed an 8 × 8 block and 1.4× the speed of 8 × 4
// vec4 sums. Loops marked `// unroll` are unrolled (src/unroll.ts) so the tile's
// indices are constants (lavapipe kept it in memory otherwise: 1.3× slower).
//
//   0 uniform P
//   1 read  dz      Z̄_l (M rows, ld4 vec4 per row)
//   2 read  a       A_aug_{l-1} (K1 rows)
//   3 read  alpha   α per column (1 row)
//   4 read  slices  (first vec4, end vec4, group, 0) per slice
//   5 rw    partial (slices, paramCount)                 overwritten
//
// weightGradShared: the same sums, a workgroup of SR × SK invocations owning an
// (SR·TM) × (SK·TK) block of outputs and staging chunks of CT vec4 columns of
// both operands (α already applied to Z̄) in workgroup memory with vec4 loads, so
// each operand vector is read from storage once per workgroup instead of once per
// invocation that needs it. For GPUs with fast shared memory; on llvmpipe the
// register-only kernel above wins. Same bindings; P.tilesK counts blocks of SK·TK
// columns, and workgroup x covers block (x / tilesK, x % tilesK).

const TM: u32 = 8u;
const TK: u32 = 4u;
override WG: u32 = 64u;
const SR: u32 = 8u;
const SK: u32 = 8u;
const CT: u32 = 8u;

struct Params {
  M: u32,
  K1: u32,
  ld4: u32,
  outOff: u32,
  partStride: u32,
  tilesK: u32,
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> dz: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> alpha: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> slices: array<vec4<u32>>;
@group(0) @binding(5) var<storage, read_write> partial: array<f32>;

var<workgroup> sz: array<vec4<f32>, SR * TM * CT>; // α Z̄ rows of the block × CT columns
var<workgroup> sa: array<vec4<f32>, SK * TK * CT>; // A_aug rows of the block × CT columns

@compute @workgroup_size(WG)
fn weightGrad(@builtin(global_invocation_id) gid: vec3<u32>) {
  let tile = gid.x;
  let tilesM = (P.M + TM - 1u) / TM;
  if (tile >= tilesM * P.tilesK) {
    return;
  }
  let r0 = (tile / P.tilesK) * TM;
  let k0 = (tile % P.tilesK) * TK;
  let sl = slices[gid.y];
  var rows: array<u32, TM>;
  // unroll
  for (var i = 0u; i < TM; i++) {
    rows[i] = min(r0 + i, P.M - 1u) * P.ld4;
  }
  var cols: array<u32, TK>;
  // unroll
  for (var j = 0u; j < TK; j++) {
    cols[j] = min(k0 + j, P.K1 - 1u) * P.ld4;
  }
  var acc: array<f32, TM * TK>;
  for (var c = sl.x; c < sl.y; c++) {
    let al = alpha[c];
    var zv: array<vec4<f32>, TM>;
    // unroll
    for (var i = 0u; i < TM; i++) {
      zv[i] = dz[rows[i] + c] * al;
    }
    // unroll
    for (var j = 0u; j < TK; j++) {
      let av = a[cols[j] + c];
      for (var i = 0u; i < TM; i++) {
        acc[i * TK + j] += dot(zv[i], av);
      }
    }
  }
  let base = gid.y * P.partStride + P.outOff;
  // unroll
  for (var i = 0u; i < TM; i++) {
    for (var j = 0u; j < TK; j++) {
      if (r0 + i < P.M && k0 + j < P.K1) {
        partial[base + (r0 + i) * P.K1 + k0 + j] = acc[i * TK + j];
      }
    }
  }
}

@compute @workgroup_size(SR * SK)
fn weightGradShared(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let rb = (wid.x / P.tilesK) * SR * TM;
  let kb = (wid.x % P.tilesK) * SK * TK;
  let r0 = rb + (li / SK) * TM;
  let k0 = kb + (li % SK) * TK;
  // The slice is uniform across the workgroup (read at wid.y), so the chunk loop
  // and its barriers are in uniform control flow; rows past the edge read the
  // last row (clamped) and columns past the slice read zeros.
  let sl = slices[wid.y];
  var acc: array<f32, TM * TK>;
  for (var c0 = sl.x; c0 < sl.y; c0 += CT) {
    for (var e = li; e < SR * TM * CT; e += SR * SK) {
      let c = c0 + e % CT;
      var v = vec4<f32>(0.0);
      if (c < sl.y) {
        v = dz[min(rb + e / CT, P.M - 1u) * P.ld4 + c] * alpha[c];
      }
      sz[e] = v;
    }
    for (var e = li; e < SK * TK * CT; e += SR * SK) {
      let c = c0 + e % CT;
      var v = vec4<f32>(0.0);
      if (c < sl.y) {
        v = a[min(kb + e / CT, P.K1 - 1u) * P.ld4 + c];
      }
      sa[e] = v;
    }
    workgroupBarrier();
    let zr = (r0 - rb) * CT;
    let ak = (k0 - kb) * CT;
    for (var cc = 0u; cc < CT; cc++) {
      var zv: array<vec4<f32>, TM>;
      // unroll
      for (var i = 0u; i < TM; i++) {
        zv[i] = sz[zr + i * CT + cc];
      }
      // unroll
      for (var j = 0u; j < TK; j++) {
        let av = sa[ak + j * CT + cc];
        for (var i = 0u; i < TM; i++) {
          acc[i * TK + j] += dot(zv[i], av);
        }
      }
    }
    workgroupBarrier();
  }
  let base = wid.y * P.partStride + P.outOff;
  // unroll
  for (var i = 0u; i < TM; i++) {
    for (var j = 0u; j < TK; j++) {
      if (r0 + i < P.M && k0 + j < P.K1) {
        partial[base + (r0 + i) * P.K1 + k0 + j] = acc[i * TK + j];
      }
    }
  }
}
