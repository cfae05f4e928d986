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
// vec4 sums.
//
//   0 uniform P
//   1 read  dz      Z̄_l (M rows, ld4 vec4 per row)
//   2 read  a       A_aug_{l-1} (K1 rows)
//   3 read  alpha   α per column (1 row)
//   4 read  slices  (first vec4, end vec4, group, 0) per slice
//   5 rw    partial (slices, paramCount)                 overwritten

const TM: u32 = 8u;
const TK: u32 = 4u;
override WG: u32 = 64u;

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
  for (var i = 0u; i < TM; i++) {
    rows[i] = min(r0 + i, P.M - 1u) * P.ld4;
  }
  var cols: array<u32, TK>;
  for (var j = 0u; j < TK; j++) {
    cols[j] = min(k0 + j, P.K1 - 1u) * P.ld4;
  }
  var acc: array<f32, TM * TK>;
  for (var c = sl.x; c < sl.y; c++) {
    let al = alpha[c];
    var zv: array<vec4<f32>, TM>;
    for (var i = 0u; i < TM; i++) {
      zv[i] = dz[rows[i] + c] * al;
    }
    for (var j = 0u; j < TK; j++) {
      let av = a[cols[j] + c];
      for (var i = 0u; i < TM; i++) {
        acc[i * TK + j] += dot(zv[i], av);
      }
    }
  }
  let base = gid.y * P.partStride + P.outOff;
  for (var i = 0u; i < TM; i++) {
    for (var j = 0u; j < TK; j++) {
      if (r0 + i < P.M && k0 + j < P.K1) {
        partial[base + (r0 + i) * P.K1 + k0 + j] = acc[i * TK + j];
      }
    }
  }
}
