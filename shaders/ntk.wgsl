// NTK kernels (design §4).
//
// tangentResidual: ṙ_i = Σ_{k,c} seed_k,c,i U̇_k,c,i for direction gid.z (output k = row k,
//   P.M outputs, rows P.ldU4 vec4s apart).
//   0 uniform P; 4 read seeds (M rows); 5 read udot (k blocks of M rows); 6 rw y (k rows of points)
// groupSums: Σ over the real points of each group of v (or v² when SQUARE = 1),
//   one workgroup per (group, row).
//   0 uniform P; 7 read values (rows of points); 8 read groups (pointOff, n, np, col);
//   9 rw sums (rows, G)                                       overwritten
// ntkWeights: traces Tr K_jj = scale·Σ_rows sums, means t_j = Tr/N_j, EMA over
//   updates with factor beta, λ_j = Σ_k t_k / t_j. One invocation.
//   0 uniform P; 8 read groups; 10 read sums; 11 rw state (traces G, means G, count);
//   12 rw lambda (G)
// stepSums: the reductions of a training step in one workgroup of 256: the loss
//   sums Σ r_i² per group (lossOut), and when TRACES = 1 the trace sums of P.rows
//   rows of per-point values (v, or v² when SQUARE = 1; with FD = 1 the values are
//   finite differences (lhs − rhs)·P.fdScale, rhs one shared row unless P.rhsRows = 1)
//   into sums, then the weights as ntkWeights does. Same summation order as
//   groupSums + ntkWeights, so the same results, in one dispatch instead of 2–4.
//   0 uniform P; 8 read groups; 16 read resIn (points); 17 read lhsIn (rows of points);
//   18 read rhsIn; 19 rw lossOut (G); 9 rw sums (rows, G); 11 rw state; 12 rw lambda
// fdTangent: per row j (gid.y, ld4 vec4s apart), out = (lhs − rhs)·scale when
//   OP = 0 (finite-difference tangents of residuals) or lhs·rhs when OP = 1; rhs
//   has one row shared by all rows unless P.rhsRows = 1.
//   0 uniform P; 13 read lhs; 14 read rhs; 15 rw out

const C: u32 = 5u;
const SQUARE: u32 = 1u;
const OP: u32 = 0u;
const TRACES: u32 = 1u;
const FD: u32 = 0u;
// Most groups a problem may have (src/launch.ts).
const MAXG: u32 = 8u;
override WG: u32 = 64u;

struct Params {
  M: u32,
  K1: u32,
  np4: u32,
  ld4: u32,
  col4: u32,
  pointOff4: u32,
  accumulate: u32,
  count: u32,
  rowStride: u32,
  G: u32,
  rows: u32,
  rhsRows: u32,
  scale: f32,
  beta: f32,
  ldU4: u32,
  fdScale: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(4) var<storage, read> seeds: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> udot: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> values: array<f32>;
@group(0) @binding(8) var<storage, read> groups: array<vec4<u32>>;
@group(0) @binding(9) var<storage, read_write> sums: array<f32>;
@group(0) @binding(10) var<storage, read> sumsIn: array<f32>;
@group(0) @binding(11) var<storage, read_write> state: array<f32>;
@group(0) @binding(12) var<storage, read_write> lambda: array<f32>;
@group(0) @binding(13) var<storage, read> lhs: array<vec4<f32>>;
@group(0) @binding(14) var<storage, read> rhs: array<vec4<f32>>;
@group(0) @binding(15) var<storage, read_write> outv: array<vec4<f32>>;
@group(0) @binding(16) var<storage, read> resIn: array<f32>;
@group(0) @binding(17) var<storage, read> lhsIn: array<f32>;
@group(0) @binding(18) var<storage, read> rhsIn: array<f32>;
@group(0) @binding(19) var<storage, read_write> lossOut: array<f32>;

@compute @workgroup_size(WG)
fn tangentResidual(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pv = gid.x;
  if (pv >= P.np4) {
    return;
  }
  let uOff = gid.z * P.rowStride;
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < P.M; k++) {
    for (var c = 0u; c < C; c++) {
      let i = k * P.ldU4 + P.col4 + c * P.np4 + pv;
      s = fma(seeds[i], udot[uOff + i], s);
    }
  }
  y[gid.z * P.ld4 + P.pointOff4 + pv] = s;
}

@compute @workgroup_size(REDUCE_WG)
fn groupSums(@builtin(workgroup_id) wid: vec3<u32>, ln: Lanes) {
  let g = groups[wid.x];
  let base = wid.y * P.rowStride + g.x;
  var s = 0.0;
  for (var i = ln.li; i < g.y; i += REDUCE_WG) {
    let v = values[base + i];
    if (SQUARE == 1u) {
      s = fma(v, v, s);
    } else {
      s += v;
    }
  }
  let total = blockSum(ln, s);
  if (ln.li == 0u) {
    sums[wid.y * P.G + wid.x] = total;
  }
}

// Traces tr_j = P.scale · rowSums_j, their EMA'd means and the weights λ_j = Σ_k t_k / t_j.
fn setWeights(rowSums: array<f32, MAXG>) {
  let G = P.G;
  let first = state[2u * G] == 0.0;
  var total = 0.0;
  for (var g = 0u; g < G; g++) {
    let tr = rowSums[g] * P.scale;
    state[g] = tr;
    let mean = tr / f32(groups[g].y);
    var m = mean;
    if (!first) {
      m = P.beta * state[G + g] + (1.0 - P.beta) * mean;
    }
    state[G + g] = m;
    total += m;
  }
  state[2u * G] += 1.0;
  for (var g = 0u; g < G; g++) {
    let m = state[G + g];
    if (m > 0.0 && total > 0.0) {
      lambda[g] = total / m;
    } else {
      lambda[g] = 1.0;
    }
  }
}

@compute @workgroup_size(1)
fn ntkWeights() {
  var rowSums: array<f32, MAXG>;
  for (var g = 0u; g < P.G; g++) {
    for (var j = 0u; j < P.rows; j++) {
      rowSums[g] += sumsIn[j * P.G + g];
    }
  }
  setWeights(rowSums);
}

@compute @workgroup_size(REDUCE_WG)
fn stepSums(ln: Lanes) {
  let li = ln.li;
  var rowSums: array<f32, MAXG>;
  for (var g = 0u; g < P.G; g++) {
    let grp = groups[g];
    var s = 0.0;
    for (var i = li; i < grp.y; i += REDUCE_WG) {
      let v = resIn[grp.x + i];
      s = fma(v, v, s);
    }
    let loss = blockSum(ln, s);
    if (li == 0u) {
      lossOut[g] = loss;
    }
    if (TRACES == 1u) {
      for (var j = 0u; j < P.rows; j++) {
        let base = j * P.rowStride + grp.x;
        let rbase = select(0u, j * P.rowStride, P.rhsRows == 1u) + grp.x;
        var q = 0.0;
        for (var i = li; i < grp.y; i += REDUCE_WG) {
          var v = lhsIn[base + i];
          if (FD == 1u) {
            v = (v - rhsIn[rbase + i]) * P.fdScale;
          }
          if (SQUARE == 1u) {
            q = fma(v, v, q);
          } else {
            q += v;
          }
        }
        let t = blockSum(ln, q);
        if (li == 0u) {
          sums[j * P.G + g] = t;
          rowSums[g] += t;
        }
      }
    }
  }
  if (TRACES == 1u && li == 0u) {
    setWeights(rowSums);
  }
}

@compute @workgroup_size(WG)
fn fdTangent(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= P.count) {
    return;
  }
  let li = gid.y * P.ld4 + gid.x;
  let ri = select(gid.x, li, P.rhsRows == 1u);
  if (OP == 0u) {
    outv[li] = (lhs[li] - rhs[ri]) * P.scale;
  } else {
    outv[li] = lhs[li] * rhs[ri];
  }
}
