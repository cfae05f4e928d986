// Taylor-mode dense layers (design §3): forward, backward (reverse mode) and
// tangent (forward mode along parameter directions). Each is one register-tiled
// matrix product whose epilogue applies the activation rules to ALL channels of
// the invocation's points, so no separate activation pass touches memory.
//
// Activation matrices are row-major, row stride P.ld4 vec4s. A group's columns
// start at vec4 P.col4; channel c of point p is column col + c*np + p, so one
// invocation reads TN = 4*TV consecutive points of every channel.
// Channels: 0 value, 1..NF first derivatives, 1+NF..NF+NS second derivatives
// (second channel s belongs to first channel s).
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
const TV: u32 = 1u;
const NF: u32 = 2u;
const NS: u32 = 2u;
const C: u32 = 1u + NF + NS;
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

struct Params {
  M: u32,
  K: u32,
  np4: u32,
  ld4: u32,
  col4: u32,
  wOff4: u32,
  ldw4: u32,
  bOff4: u32,
  dirW4: u32,
  dirT4: u32,
  first: u32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;

// acc[(i*C + c)*TV + v] holds row r0+i, channel c, points 4v..4v+3 of the tile.
fn accIndex(i: u32, c: u32, v: u32) -> u32 {
  return (i * C + c) * TV + v;
}

@group(0) @binding(2) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> zOut: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> actOut: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> dzNext: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> zIn: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dzOut: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> dirs: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read> tIn: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read_write> tOut: array<vec4<f32>>;

// Row r of Z/Ā for the tile's vec4 v of channel c (column block col4 + c*np4 + pv + v).
fn colIndex(row: u32, c: u32, pv: u32, v: u32) -> u32 {
  return row * P.ld4 + P.col4 + c * P.np4 + pv + v;
}

@compute @workgroup_size(WG_X, WG_Y)
fn taylorForward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pv = gid.x * TV;
  let r0 = gid.y * TM;
  if (pv >= P.np4 || r0 >= P.M) {
    return;
  }
  var acc: array<vec4<f32>, TM * C * TV>;
  for (var k = 0u; k < P.K; k++) {
    let wrow = P.wOff4 + k * P.ldw4 + r0 / 4u;
    var wv: array<vec4<f32>, TM / 4u>;
    for (var q = 0u; q < TM / 4u; q++) {
      wv[q] = w[wrow + q];
    }
    for (var c = 0u; c < C; c++) {
      for (var v = 0u; v < TV; v++) {
        let av = a[colIndex(k, c, pv, v)];
        for (var i = 0u; i < TM; i++) {
          acc[accIndex(i, c, v)] = fma(vec4<f32>(wv[i / 4u][i % 4u]), av, acc[accIndex(i, c, v)]);
        }
      }
    }
  }
  // Two epilogue loops: the first only moves the accumulators to memory, so
  // every index into acc stays constant after unrolling and acc stays in
  // registers (a large loop body indexing acc would demote it to scratch
  // memory on some compilers, llvmpipe's among them). The second applies the
  // activation rules reading the just-written values back.
  for (var i = 0u; i < TM; i++) {
    let r = r0 + i;
    if (r < P.M) {
      let b = w[P.bOff4 + r / 4u][r % 4u];
      for (var v = 0u; v < TV; v++) {
        zOut[colIndex(r, 0u, pv, v)] = acc[accIndex(i, 0u, v)] + b;
        for (var c = 1u; c < C; c++) {
          zOut[colIndex(r, c, pv, v)] = acc[accIndex(i, c, v)];
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
    for (var v = 0u; v < TV; v++) {
      let s = activation4(zOut[colIndex(r, 0u, pv, v)]);
      actOut[colIndex(r, 0u, pv, v)] = s.s0;
      for (var f = 0u; f < NF; f++) {
        let zf = zOut[colIndex(r, 1u + f, pv, v)];
        actOut[colIndex(r, 1u + f, pv, v)] = s.s1 * zf;
        if (f < NS) {
          let zff = zOut[colIndex(r, 1u + NF + f, pv, v)];
          actOut[colIndex(r, 1u + NF + f, pv, v)] = s.s2 * zf * zf + s.s1 * zff;
        }
      }
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn taylorBackward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pv = gid.x * TV;
  let r0 = gid.y * TM;
  if (pv >= P.np4 || r0 >= P.M) {
    return;
  }
  var acc: array<vec4<f32>, TM * C * TV>;
  for (var k = 0u; k < P.K; k++) {
    let wrow = P.wOff4 + k * P.ldw4 + r0 / 4u;
    var wv: array<vec4<f32>, TM / 4u>;
    for (var q = 0u; q < TM / 4u; q++) {
      wv[q] = w[wrow + q];
    }
    for (var c = 0u; c < C; c++) {
      for (var v = 0u; v < TV; v++) {
        let av = dzNext[colIndex(k, c, pv, v)];
        for (var i = 0u; i < TM; i++) {
          acc[accIndex(i, c, v)] = fma(vec4<f32>(wv[i / 4u][i % 4u]), av, acc[accIndex(i, c, v)]);
        }
      }
    }
  }
  // acc holds Ā: park it in dzOut, then apply the adjoint rules in place (see
  // taylorForward for why the epilogue is split).
  for (var i = 0u; i < TM; i++) {
    let r = r0 + i;
    if (r < P.M) {
      for (var v = 0u; v < TV; v++) {
        for (var c = 0u; c < C; c++) {
          dzOut[colIndex(r, c, pv, v)] = acc[accIndex(i, c, v)];
        }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let r = r0 + i;
    if (r >= P.M) {
      break;
    }
    for (var v = 0u; v < TV; v++) {
      let s = activation4(zIn[colIndex(r, 0u, pv, v)]);
      var d0 = s.s1 * dzOut[colIndex(r, 0u, pv, v)];
      for (var f = 0u; f < NF; f++) {
        let zf = zIn[colIndex(r, 1u + f, pv, v)];
        let af = dzOut[colIndex(r, 1u + f, pv, v)];
        d0 += s.s2 * zf * af;
        var df = s.s1 * af;
        if (f < NS) {
          let zff = zIn[colIndex(r, 1u + NF + f, pv, v)];
          let aff = dzOut[colIndex(r, 1u + NF + f, pv, v)];
          d0 += (s.s3 * zf * zf + s.s2 * zff) * aff;
          df += 2.0 * s.s2 * zf * aff;
          dzOut[colIndex(r, 1u + NF + f, pv, v)] = s.s1 * aff;
        }
        dzOut[colIndex(r, 1u + f, pv, v)] = df;
      }
      dzOut[colIndex(r, 0u, pv, v)] = d0;
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn taylorTangent(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pv = gid.x * TV;
  let r0 = gid.y * TM;
  let j = gid.z;
  if (pv >= P.np4 || r0 >= P.M) {
    return;
  }
  var acc: array<vec4<f32>, TM * C * TV>;
  let dOff = j * P.dirW4;
  for (var k = 0u; k < P.K; k++) {
    let wrow = P.wOff4 + k * P.ldw4 + r0 / 4u;
    var dv: array<vec4<f32>, TM / 4u>;
    for (var q = 0u; q < TM / 4u; q++) {
      dv[q] = dirs[dOff + wrow + q];
    }
    for (var c = 0u; c < C; c++) {
      for (var v = 0u; v < TV; v++) {
        let av = a[colIndex(k, c, pv, v)];
        for (var i = 0u; i < TM; i++) {
          acc[accIndex(i, c, v)] = fma(vec4<f32>(dv[i / 4u][i % 4u]), av, acc[accIndex(i, c, v)]);
        }
      }
    }
  }
  if (P.first == 0u) {
    let tOff = j * P.dirT4;
    for (var k = 0u; k < P.K; k++) {
      let wrow = P.wOff4 + k * P.ldw4 + r0 / 4u;
      var wv: array<vec4<f32>, TM / 4u>;
      for (var q = 0u; q < TM / 4u; q++) {
        wv[q] = w[wrow + q];
      }
      for (var c = 0u; c < C; c++) {
        for (var v = 0u; v < TV; v++) {
          let tv = tIn[tOff + colIndex(k, c, pv, v)];
          for (var i = 0u; i < TM; i++) {
            acc[accIndex(i, c, v)] = fma(vec4<f32>(wv[i / 4u][i % 4u]), tv, acc[accIndex(i, c, v)]);
          }
        }
      }
    }
  }
  let oOff = j * P.dirT4;
  for (var i = 0u; i < TM; i++) {
    let r = r0 + i;
    if (r < P.M) {
      let db = dirs[dOff + P.bOff4 + r / 4u][r % 4u];
      for (var v = 0u; v < TV; v++) {
        tOut[oOff + colIndex(r, 0u, pv, v)] = acc[accIndex(i, 0u, v)] + db;
        for (var c = 1u; c < C; c++) {
          tOut[oOff + colIndex(r, c, pv, v)] = acc[accIndex(i, c, v)];
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
    for (var v = 0u; v < TV; v++) {
      let s = activation4(zIn[colIndex(r, 0u, pv, v)]);
      let t0 = tOut[oOff + colIndex(r, 0u, pv, v)];
      tOut[oOff + colIndex(r, 0u, pv, v)] = s.s1 * t0;
      for (var f = 0u; f < NF; f++) {
        let zf = zIn[colIndex(r, 1u + f, pv, v)];
        let tf = tOut[oOff + colIndex(r, 1u + f, pv, v)];
        tOut[oOff + colIndex(r, 1u + f, pv, v)] = s.s2 * t0 * zf + s.s1 * tf;
        if (f < NS) {
          let zff = zIn[colIndex(r, 1u + NF + f, pv, v)];
          let tff = tOut[oOff + colIndex(r, 1u + NF + f, pv, v)];
          tOut[oOff + colIndex(r, 1u + NF + f, pv, v)] = s.s3 * t0 * zf * zf +
            2.0 * s.s2 * zf * tf + s.s2 * t0 * zff + s.s1 * tff;
        }
      }
    }
  }
}
