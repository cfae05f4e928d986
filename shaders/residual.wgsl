// Per-point residuals of one group, their channel derivatives (the backward
// seeds) and the loss scaling α of every column of the point.
//   r_i        = F(x_i, channels of every output at x_i) − target(x_i)
//   seed_k,c,i = ∂F/∂(channel c of output k) at x_i         (0 on padding points)
//   α        = (2/N_j) r_i on every channel column of point i   (0 on padding)
// The pde region is generated from the problem's expression (src/problems/expr.ts).
//
//   0 uniform P
//   1 read  u      U = Z_L, the output channels (M rows, row stride P.ld)
//   2 read  pts    two vec4 per point at 2(pointOff + i): (x0, x1, x2, x3), (target, 0, 0, 0)
//   3 rw    seeds  Z̄_L (M rows), same columns as U          overwritten
//   4 rw    res    r per point, at resOff + i                 overwritten
//   5 rw    alpha  α per column                               overwritten

const C: u32 = 1u;
// Outputs M (rows of U) and the residual's channel array length M·C.
const M: u32 = 1u;
const NCH: u32 = 1u;
// 0 when only residuals are wanted (predictor evaluations keep the step's seeds).
const WRITE_SEEDS: u32 = 1u;
override WG: u32 = 64u;

struct Params {
  n: u32,
  np: u32,
  col: u32,
  pointOff: u32,
  scale: f32,
  resOff: u32,
  ld: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> pts: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> seeds: array<f32>;
@group(0) @binding(4) var<storage, read_write> res: array<f32>;
@group(0) @binding(5) var<storage, read_write> alpha: array<f32>;

// BEGIN pde
fn pdeResidual(x: array<f32, 4>, ch: array<f32, 1>) -> f32 {
  return ch[0];
}
fn pdeSeeds(x: array<f32, 4>, ch: array<f32, 1>) -> array<f32, 1> {
  return array<f32, 1>(1.0);
}
// END pde

@compute @workgroup_size(WG)
fn residual(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= P.np) {
    return;
  }
  let pt = pts[2u * (P.pointOff + i)];
  let tgt = pts[2u * (P.pointOff + i) + 1u].x;
  let x = array<f32, 4>(pt.x, pt.y, pt.z, pt.w);
  var ch: array<f32, NCH>;
  for (var k = 0u; k < M; k++) {
    for (var c = 0u; c < C; c++) {
      ch[k * C + c] = u[k * P.ld + P.col + c * P.np + i];
    }
  }
  var r = 0.0;
  var s: array<f32, NCH>;
  if (i < P.n) {
    r = pdeResidual(x, ch) - tgt;
    s = pdeSeeds(x, ch);
  }
  res[P.resOff + i] = r;
  if (WRITE_SEEDS == 0u) {
    return;
  }
  for (var k = 0u; k < M; k++) {
    for (var c = 0u; c < C; c++) {
      seeds[k * P.ld + P.col + c * P.np + i] = s[k * C + c];
    }
  }
  for (var c = 0u; c < C; c++) {
    alpha[P.col + c * P.np + i] = P.scale * r;
  }
}
