// Per-point residuals of every group in one dispatch, their channel derivatives
// (the backward seeds) and the loss scaling α of every column of the point.
//   r_i        = F_j(x_i, channels of every output at x_i) − target_j(x_i)
//   seed_k,c,i = ∂F_j/∂(channel c of output k) at x_i      (0 on padding points)
//   α        = (2/N_j) r_i on every channel column of point i   (0 on padding)
// Group j's code is one instance of the `group` region (src/launch.ts renames _V
// to _j and sets its channel count C_V and residual function, the pde_V region
// generated from the problem's expression by src/problems/expr.ts); the `select`
// region routes a workgroup's group to its instance. Groups own consecutive
// ranges of workgroups (P.rows[j].y is group j's first one).
//
//   0 uniform P
//   1 read  u      U = Z_L, the output channels (M rows, row stride P.ld)
//   2 read  pts    two vec4 per point at 2(pointOff + i): (x0, x1, x2, x3), (target, 0, 0, 0)
//   3 rw    seeds  Z̄_L (M rows), same columns as U          overwritten
//   4 rw    res    r per point, at resOff + i                 overwritten
//   5 rw    alpha  α per column                               overwritten

// Outputs M (rows of U).
const M: u32 = 1u;
// 0 when only residuals are wanted (predictor evaluations keep the step's seeds).
const WRITE_SEEDS: u32 = 1u;
override WG: u32 = 64u;

struct Params {
  ld: u32,
  ngroups: u32,
  pad0: u32,
  pad1: u32,
  // (n, np, col, pointOff) per group
  groups: array<vec4<u32>, 8>,
  // (resOff, first workgroup, 0, 0) per group
  rows: array<vec4<u32>, 8>,
  // (2/N_j, 0, 0, 0) per group
  scales: array<vec4<f32>, 8>,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> pts: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> seeds: array<f32>;
@group(0) @binding(4) var<storage, read_write> res: array<f32>;
@group(0) @binding(5) var<storage, read_write> alpha: array<f32>;

// BEGIN group
const C_V: u32 = 1u;
const NCH_V: u32 = 1u;
// BEGIN pde_V
fn pdeResidual_V(x: array<f32, 4>, ch: array<f32, 1>) -> f32 {
  return ch[0];
}
fn pdeSeeds_V(x: array<f32, 4>, ch: array<f32, 1>) -> array<f32, 1> {
  return array<f32, 1>(1.0);
}
// END pde_V
fn residual_V(i: u32, g: u32) {
  let q = P.groups[g];
  let n = q.x;
  let np = q.y;
  let col = q.z;
  let pointOff = q.w;
  let pt = pts[2u * (pointOff + i)];
  let tgt = pts[2u * (pointOff + i) + 1u].x;
  let x = array<f32, 4>(pt.x, pt.y, pt.z, pt.w);
  var ch: array<f32, NCH_V>;
  for (var k = 0u; k < M; k++) {
    for (var c = 0u; c < C_V; c++) {
      ch[k * C_V + c] = u[k * P.ld + col + c * np + i];
    }
  }
  var r = 0.0;
  var s: array<f32, NCH_V>;
  if (i < n) {
    r = pdeResidual_V(x, ch) - tgt;
    s = pdeSeeds_V(x, ch);
  }
  res[P.rows[g].x + i] = r;
  if (WRITE_SEEDS == 0u) {
    return;
  }
  for (var k = 0u; k < M; k++) {
    for (var c = 0u; c < C_V; c++) {
      seeds[k * P.ld + col + c * np + i] = s[k * C_V + c];
    }
  }
  for (var c = 0u; c < C_V; c++) {
    alpha[col + c * np + i] = P.scales[g].x * r;
  }
}
// END group

// BEGIN select
fn residualGroup(g: u32, i: u32) {
  residual_V(i, g);
}
// END select

@compute @workgroup_size(WG)
fn residual(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let g = groupOf(wid.x, P.ngroups, P.rows, 1u);
  let i = (wid.x - P.rows[g].y) * WG + li;
  if (i >= P.groups[g].y) {
    return;
  }
  residualGroup(g, i);
}
