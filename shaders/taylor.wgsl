// Taylor-mode dense layers (design §3): forward, backward (reverse mode) and
// tangent (forward mode along parameter directions). Each is one register-tiled
// matrix product whose epilogue applies the activation rules to ALL channels of
// the invocation's points, so no separate activation pass touches memory.
//
// Activation matrices are row-major, row stride P.ld4 vec4s. A group's columns
// start at vec4 col4; channel c of point p is column col + c*np + p, so one
// invocation reads TN = 4*TV consecutive points of every channel.
// Channels: 0 value, 1..NF first derivatives, 1+NF..NF+NS pure second
// derivatives (second channel s belongs to first channel s), then NM mixed
// second derivatives: mixed channel m is ∂²/∂x_a∂x_b of first channels
// a = (MA >> 4m) & 15 and b = (MB >> 4m) & 15 (design §8).
//
// One dispatch covers every group of a layer: group g owns the workgroups
// x ∈ [P.groups[g].z, P.groups[g+1].z) and has (np4, col4) = P.groups[g].xy. The
// `tile` region holds the code of one channel set (suffix _V); specialisation
// instantiates it once per group (_0, _1, …) and generates the `select` region
// that calls the group's copy, so each group keeps its own register tile.
//
// Binding numbers are unique per variable across the file (WGSL forbids two
// variables on one slot); each entry point's layout lists only its own.
//
// taylorForward   Z_l = W A_{l-1} + b (bias on channel 0); A_l = σ-rules(Z_l)
//   1 read  w      packed forward weights: at wOff4, Wᵀ (K, ldw4) then b (ldw4)
//   2 read  a      A_{l-1} (K rows)
//   3 rw    zOut   Z_l (M rows)                      overwritten
//   4 rw    actOut A_l (M rows)                      overwritten (not for ACT = 2)
// taylorBackward  Ā_l = W_{l+1}ᵀ Z̄_{l+1}; Z̄_l = adjoint σ-rules(Ā_l, Z_l)
//   (here M = rows of Z̄_l, K = rows of Z̄_{l+1})
//   1 read  w      packed backward weights: at wOff4, W_{l+1} (K, ldw4)
//   5 read  dzNext Z̄_{l+1} (K rows)
//   6 read  zIn    Z_l (M rows)
//   7 rw    dzOut  Z̄_l (M rows)                      overwritten
// taylorTangent   Ż = Ẇ A_{l-1} + W Ȧ_{l-1} + ḃ; Ȧ_l = tangent σ-rules(Ż, Z_l)
//   One direction per gid.z; direction j's blocks lie j*dirW4 (dirs) and j*dirT4
//   (tangent activations) vec4s apart.
//   1 read  w      packed forward weights
//   2 read  a      A_{l-1} (K rows)
//   8 read  dirs   directions in the packed forward layout (k blocks)
//   9 read  tIn    Ȧ_{l-1} (k blocks of K rows); ignored when P.first = 1 (Ȧ_0 = 0)
//   6 read  zIn    Z_l (M rows)
//   10 rw   tOut   Ȧ_l (k blocks of M rows), U̇ at the output layer   overwritten
// All three share uniform 0 (P).

const TM: u32 = 8u;
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

struct Params {
  M: u32,
  K: u32,
  ld4: u32,
  wOff4: u32,
  ldw4: u32,
  bOff4: u32,
  dirW4: u32,
  dirT4: u32,
  first: u32,
  ngroups: u32,
  pad0: u32,
  pad1: u32,
  groups: array<vec4<u32>, 8>,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> zOut: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> actOut: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> dzNext: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> zIn: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dzOut: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> dirs: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read> tIn: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read_write> tOut: array<vec4<f32>>;

// Where a tile of a group sits: first vec4 of points, group width and columns.
struct Tile {
  pv: u32,
  np4: u32,
  col4: u32,
  r0: u32,
}

// Row `row`, channel c, the tile's vec4 v (column block col4 + c*np4 + pv + v).
fn at(t: Tile, row: u32, c: u32, v: u32) -> u32 {
  return row * P.ld4 + t.col4 + c * t.np4 + t.pv + v;
}

// BEGIN tile
const TV_V: u32 = 1u;
const NF_V: u32 = 2u;
const NS_V: u32 = 2u;
const NM_V: u32 = 0u;
const MA_V: u32 = 0u;
const MB_V: u32 = 0u;
const C_V: u32 = 1u + NF_V + NS_V + NM_V;

// First-derivative channels of mixed channel m: (channel of a, channel of b, own channel).
fn mixed_V(m: u32) -> vec3<u32> {
  return vec3<u32>(1u + ((MA_V >> (4u * m)) & 15u), 1u + ((MB_V >> (4u * m)) & 15u), 1u + NF_V + NS_V + m);
}

// acc[(i*C + c)*TV + v] holds row r0+i, channel c, points 4v..4v+3 of the tile.
// The loops marked `// unroll` touch acc: src/unroll.ts unrolls them, so every
// index into acc is a constant and the tile stays in registers on every driver.

fn forward_V(gx: u32, r0: u32, g: vec4<u32>) {
  let t = Tile(gx * TV_V, g.x, g.y, r0);
  if (t.pv >= t.np4 || r0 >= P.M) {
    return;
  }
  var acc: array<vec4<f32>, TM * C_V * TV_V>;
  for (var k = 0u; k < P.K; k++) {
    let wrow = P.wOff4 + k * P.ldw4 + r0 / 4u;
    var wv: array<vec4<f32>, TM / 4u>;
    // unroll
    for (var q = 0u; q < TM / 4u; q++) {
      wv[q] = w[wrow + q];
    }
    // unroll
    for (var c = 0u; c < C_V; c++) {
      for (var v = 0u; v < TV_V; v++) {
        let av = a[at(t, k, c, v)];
        for (var i = 0u; i < TM; i++) {
          acc[(i * C_V + c) * TV_V + v] = fma(vec4<f32>(wv[i / 4u][i % 4u]), av, acc[(i * C_V + c) * TV_V + v]);
        }
      }
    }
  }
  // Two epilogue loops: the first only moves the accumulators to memory, so
  // every index into acc stays constant after unrolling and acc stays in
  // registers (a large loop body indexing acc would demote it to scratch
  // memory on some compilers, llvmpipe's among them). The second applies the
  // activation rules reading the just-written values back.
  // unroll
  for (var i = 0u; i < TM; i++) {
    let r = r0 + i;
    if (r < P.M) {
      let b = w[P.bOff4 + r / 4u][r % 4u];
      for (var v = 0u; v < TV_V; v++) {
        zOut[at(t, r, 0u, v)] = acc[(i * C_V + 0u) * TV_V + v] + b;
        for (var c = 1u; c < C_V; c++) {
          zOut[at(t, r, c, v)] = acc[(i * C_V + c) * TV_V + v];
        }
      }
    }
  }
  if (ACT == 2u) {
    return;
  }
  for (var i = 0u; i < TM; i++) {
    let r = r0 + i;
    if (r >= P.M) {
      break;
    }
    for (var v = 0u; v < TV_V; v++) {
      let s = activation4(zOut[at(t, r, 0u, v)]);
      actOut[at(t, r, 0u, v)] = s.s0;
      for (var f = 0u; f < NF_V; f++) {
        let zf = zOut[at(t, r, 1u + f, v)];
        actOut[at(t, r, 1u + f, v)] = s.s1 * zf;
        if (f < NS_V) {
          let zff = zOut[at(t, r, 1u + NF_V + f, v)];
          actOut[at(t, r, 1u + NF_V + f, v)] = s.s2 * zf * zf + s.s1 * zff;
        }
      }
      for (var m = 0u; m < NM_V; m++) {
        let q = mixed_V(m);
        let za = zOut[at(t, r, q.x, v)];
        let zb = zOut[at(t, r, q.y, v)];
        actOut[at(t, r, q.z, v)] = s.s2 * za * zb + s.s1 * zOut[at(t, r, q.z, v)];
      }
    }
  }
}

fn backward_V(gx: u32, r0: u32, g: vec4<u32>) {
  let t = Tile(gx * TV_V, g.x, g.y, r0);
  if (t.pv >= t.np4 || r0 >= P.M) {
    return;
  }
  var acc: array<vec4<f32>, TM * C_V * TV_V>;
  for (var k = 0u; k < P.K; k++) {
    let wrow = P.wOff4 + k * P.ldw4 + r0 / 4u;
    var wv: array<vec4<f32>, TM / 4u>;
    // unroll
    for (var q = 0u; q < TM / 4u; q++) {
      wv[q] = w[wrow + q];
    }
    // unroll
    for (var c = 0u; c < C_V; c++) {
      for (var v = 0u; v < TV_V; v++) {
        let av = dzNext[at(t, k, c, v)];
        for (var i = 0u; i < TM; i++) {
          acc[(i * C_V + c) * TV_V + v] = fma(vec4<f32>(wv[i / 4u][i % 4u]), av, acc[(i * C_V + c) * TV_V + v]);
        }
      }
    }
  }
  // acc holds Ā: park it in dzOut, then apply the adjoint rules in place (see
  // forward_V for why the epilogue is split).
  // unroll
  for (var i = 0u; i < TM; i++) {
    let r = r0 + i;
    if (r < P.M) {
      for (var v = 0u; v < TV_V; v++) {
        for (var c = 0u; c < C_V; c++) {
          dzOut[at(t, r, c, v)] = acc[(i * C_V + c) * TV_V + v];
        }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let r = r0 + i;
    if (r >= P.M) {
      break;
    }
    for (var v = 0u; v < TV_V; v++) {
      let s = activation4(zIn[at(t, r, 0u, v)]);
      var d0 = s.s1 * dzOut[at(t, r, 0u, v)];
      for (var f = 0u; f < NF_V; f++) {
        let zf = zIn[at(t, r, 1u + f, v)];
        let af = dzOut[at(t, r, 1u + f, v)];
        d0 += s.s2 * zf * af;
        var df = s.s1 * af;
        if (f < NS_V) {
          let zff = zIn[at(t, r, 1u + NF_V + f, v)];
          let aff = dzOut[at(t, r, 1u + NF_V + f, v)];
          d0 += (s.s3 * zf * zf + s.s2 * zff) * aff;
          df += 2.0 * s.s2 * zf * aff;
          dzOut[at(t, r, 1u + NF_V + f, v)] = s.s1 * aff;
        }
        dzOut[at(t, r, 1u + f, v)] = df;
      }
      // Mixed adjoints add to the first-derivative channels just written (design §8).
      for (var m = 0u; m < NM_V; m++) {
        let q = mixed_V(m);
        let za = zIn[at(t, r, q.x, v)];
        let zb = zIn[at(t, r, q.y, v)];
        let aab = dzOut[at(t, r, q.z, v)];
        d0 += (s.s3 * za * zb + s.s2 * zIn[at(t, r, q.z, v)]) * aab;
        dzOut[at(t, r, q.x, v)] += s.s2 * zb * aab;
        dzOut[at(t, r, q.y, v)] += s.s2 * za * aab;
        dzOut[at(t, r, q.z, v)] = s.s1 * aab;
      }
      dzOut[at(t, r, 0u, v)] = d0;
    }
  }
}

fn tangent_V(gx: u32, r0: u32, g: vec4<u32>, j: u32) {
  let t = Tile(gx * TV_V, g.x, g.y, r0);
  if (t.pv >= t.np4 || r0 >= P.M) {
    return;
  }
  var acc: array<vec4<f32>, TM * C_V * TV_V>;
  let dOff = j * P.dirW4;
  for (var k = 0u; k < P.K; k++) {
    let wrow = P.wOff4 + k * P.ldw4 + r0 / 4u;
    var dv: array<vec4<f32>, TM / 4u>;
    // unroll
    for (var q = 0u; q < TM / 4u; q++) {
      dv[q] = dirs[dOff + wrow + q];
    }
    // unroll
    for (var c = 0u; c < C_V; c++) {
      for (var v = 0u; v < TV_V; v++) {
        let av = a[at(t, k, c, v)];
        for (var i = 0u; i < TM; i++) {
          acc[(i * C_V + c) * TV_V + v] = fma(vec4<f32>(dv[i / 4u][i % 4u]), av, acc[(i * C_V + c) * TV_V + v]);
        }
      }
    }
  }
  let tOff = j * P.dirT4;
  if (P.first == 0u) {
    for (var k = 0u; k < P.K; k++) {
      let wrow = P.wOff4 + k * P.ldw4 + r0 / 4u;
      var wv: array<vec4<f32>, TM / 4u>;
      // unroll
      for (var q = 0u; q < TM / 4u; q++) {
        wv[q] = w[wrow + q];
      }
      // unroll
      for (var c = 0u; c < C_V; c++) {
        for (var v = 0u; v < TV_V; v++) {
          let tv = tIn[tOff + at(t, k, c, v)];
          for (var i = 0u; i < TM; i++) {
            acc[(i * C_V + c) * TV_V + v] = fma(vec4<f32>(wv[i / 4u][i % 4u]), tv, acc[(i * C_V + c) * TV_V + v]);
          }
        }
      }
    }
  }
  // unroll
  for (var i = 0u; i < TM; i++) {
    let r = r0 + i;
    if (r < P.M) {
      let db = dirs[dOff + P.bOff4 + r / 4u][r % 4u];
      for (var v = 0u; v < TV_V; v++) {
        tOut[tOff + at(t, r, 0u, v)] = acc[(i * C_V + 0u) * TV_V + v] + db;
        for (var c = 1u; c < C_V; c++) {
          tOut[tOff + at(t, r, c, v)] = acc[(i * C_V + c) * TV_V + v];
        }
      }
    }
  }
  if (ACT == 2u) {
    return;
  }
  for (var i = 0u; i < TM; i++) {
    let r = r0 + i;
    if (r >= P.M) {
      break;
    }
    for (var v = 0u; v < TV_V; v++) {
      let s = activation4(zIn[at(t, r, 0u, v)]);
      let t0 = tOut[tOff + at(t, r, 0u, v)];
      tOut[tOff + at(t, r, 0u, v)] = s.s1 * t0;
      // Mixed channels first: they read ż_a and ż_b, which the loop below overwrites.
      for (var m = 0u; m < NM_V; m++) {
        let q = mixed_V(m);
        let za = zIn[at(t, r, q.x, v)];
        let zb = zIn[at(t, r, q.y, v)];
        let ta = tOut[tOff + at(t, r, q.x, v)];
        let tb = tOut[tOff + at(t, r, q.y, v)];
        let tab = tOut[tOff + at(t, r, q.z, v)];
        tOut[tOff + at(t, r, q.z, v)] = s.s3 * t0 * za * zb +
          s.s2 * (ta * zb + za * tb + t0 * zIn[at(t, r, q.z, v)]) + s.s1 * tab;
      }
      for (var f = 0u; f < NF_V; f++) {
        let zf = zIn[at(t, r, 1u + f, v)];
        let tf = tOut[tOff + at(t, r, 1u + f, v)];
        tOut[tOff + at(t, r, 1u + f, v)] = s.s2 * t0 * zf + s.s1 * tf;
        if (f < NS_V) {
          let zff = zIn[at(t, r, 1u + NF_V + f, v)];
          let tff = tOut[tOff + at(t, r, 1u + NF_V + f, v)];
          tOut[tOff + at(t, r, 1u + NF_V + f, v)] = s.s3 * t0 * zf * zf +
            2.0 * s.s2 * zf * tf + s.s2 * t0 * zff + s.s1 * tff;
        }
      }
    }
  }
}
// END tile

// BEGIN select
fn forwardGroup(g: u32, gx: u32, r0: u32) {
  forward_V(gx, r0, P.groups[g]);
}
fn backwardGroup(g: u32, gx: u32, r0: u32) {
  backward_V(gx, r0, P.groups[g]);
}
fn tangentGroup(g: u32, gx: u32, r0: u32, j: u32) {
  tangent_V(gx, r0, P.groups[g], j);
}
// END select

@compute @workgroup_size(WG_X, WG_Y)
fn taylorForward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = groupOf(wid.x, P.ngroups, P.groups, 2u);
  forwardGroup(g, (wid.x - P.groups[g].z) * WG_X + lid.x, (wid.y * WG_Y + lid.y) * TM);
}

@compute @workgroup_size(WG_X, WG_Y)
fn taylorBackward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = groupOf(wid.x, P.ngroups, P.groups, 2u);
  backwardGroup(g, (wid.x - P.groups[g].z) * WG_X + lid.x, (wid.y * WG_Y + lid.y) * TM);
}

@compute @workgroup_size(WG_X, WG_Y)
fn taylorTangent(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = groupOf(wid.x, P.ngroups, P.groups, 2u);
  tangentGroup(g, (wid.x - P.groups[g].z) * WG_X + lid.x, (wid.y * WG_Y + lid.y) * TM, wid.z);
}
