// gramNorms: per-point squared parameter-gradient norms of one layer for every
// group in one dispatch, added to norms (or overwriting them when P.accumulate = 0),
// by the channel-Gram identity
//     ‖∇_{W,b} r_i‖² = Σ_{c,c'} (z̄_c·z̄_c') (a_c·a_c')
// with A_aug's bias-indicator row giving the bias term. Four points per invocation.
// Group j's code is one instance of the `group` region (its channel count C_V set by
// src/launch.ts); the `select` region routes a workgroup's group to its instance.
// Groups own consecutive ranges of workgroups (P.groups[j].w is group j's first one).
//
//   0 uniform P
//   1 read dz    Z̄_l (M rows, P.ld4 vec4s apart)
//   2 read a     A_aug (K1 rows)
//   3 rw   norms per point                                  accumulated or overwritten

override WG: u32 = 64u;

struct Params {
  M: u32,
  K1: u32,
  ld4: u32,
  accumulate: u32,
  ngroups: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
  // (np4, col4, pointOff4, first workgroup) per group
  groups: array<vec4<u32>, 8>,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> dz: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> norms: array<vec4<f32>>;

// BEGIN group
const C_V: u32 = 5u;

// Full C×C Gram matrices with constant loop bounds: a triangular loop would not
// unroll, and dynamically indexed accumulators leave registers.
fn gi_V(c: u32, d: u32) -> u32 {
  return c * C_V + d;
}

fn gram_V(pv: u32, q: vec4<u32>) {
  let np4 = q.x;
  let col4 = q.y;
  var gz: array<vec4<f32>, C_V * C_V>;
  var ga: array<vec4<f32>, C_V * C_V>;
  for (var r = 0u; r < P.M; r++) {
    var v: array<vec4<f32>, C_V>;
    for (var c = 0u; c < C_V; c++) {
      v[c] = dz[r * P.ld4 + col4 + c * np4 + pv];
    }
    for (var c = 0u; c < C_V; c++) {
      for (var d = 0u; d < C_V; d++) {
        gz[gi_V(c, d)] = fma(v[c], v[d], gz[gi_V(c, d)]);
      }
    }
  }
  for (var r = 0u; r < P.K1; r++) {
    var v: array<vec4<f32>, C_V>;
    for (var c = 0u; c < C_V; c++) {
      v[c] = a[r * P.ld4 + col4 + c * np4 + pv];
    }
    for (var c = 0u; c < C_V; c++) {
      for (var d = 0u; d < C_V; d++) {
        ga[gi_V(c, d)] = fma(v[c], v[d], ga[gi_V(c, d)]);
      }
    }
  }
  var s = vec4<f32>(0.0);
  for (var c = 0u; c < C_V * C_V; c++) {
    s = fma(gz[c], ga[c], s);
  }
  if (P.accumulate != 0u) {
    s += norms[q.z + pv];
  }
  norms[q.z + pv] = s;
}
// END group

// BEGIN select
fn gramGroup(g: u32, pv: u32) {
  gram_V(pv, P.groups[g]);
}
// END select

@compute @workgroup_size(WG)
fn gramNorms(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = groupOf(wid.x, P.ngroups, P.groups, 3u);
  let pv = (wid.x - P.groups[g].w) * WG + li;
  if (pv >= P.groups[g].x) {
    return;
  }
  gramGroup(g, pv);
}
