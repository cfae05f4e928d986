// Causal weights of one residual group (Wang, Sankaran & Perdikaris 2022,
// "Respecting causality"): the group's points are binned by time into M chunks,
// L_k is the mean squared residual of chunk k, and w_k = exp(−ε Σ_{j<k} L_j).
// Each point's loss scale α (written by the residual kernel, one per channel
// column) is multiplied by its chunk's weight, so the gradient is that of
// (1/N) Σ_i w_{k(i)} r_i² with w held constant. Late times join the fit only
// once the earlier ones are fitted.
//
// One invocation does it all: a group holds at most a few thousand points, and
// a workgroup reduction would need barriers, which are slow on software
// adapters. The kernel runs after the residual kernel of the same step.
//
//   0 uniform P
//   1 read  pts     two vec4 per point at 2(pointOff + i): (x0, x1, x2, x3), (target, …)
//   2 read  res     r per point, at pointOff + i
//   3 rw    alpha   α per column (the group's C channel columns scaled)
//   4 rw    chunks  L_k at k, w_k at M + k                      overwritten

const MAX_CHUNKS: u32 = 64u;

struct Params {
  n: u32,
  np: u32,
  col: u32,
  pointOff: u32,
  channels: u32,
  chunks: u32,
  timeIndex: u32,
  pad0: u32,
  t0: f32,
  invSpan: f32,
  eps: f32,
  pad1: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> pts: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> res: array<f32>;
@group(0) @binding(3) var<storage, read_write> alpha: array<f32>;
@group(0) @binding(4) var<storage, read_write> chunks: array<f32>;

fn chunkOf(i: u32) -> u32 {
  let s = (pts[2u * (P.pointOff + i)][P.timeIndex] - P.t0) * P.invSpan;
  return min(u32(max(s, 0.0) * f32(P.chunks)), P.chunks - 1u);
}

@compute @workgroup_size(1)
fn causalWeights() {
  var sums: array<f32, MAX_CHUNKS>;
  var counts: array<f32, MAX_CHUNKS>;
  for (var i = 0u; i < P.n; i++) {
    let k = chunkOf(i);
    let r = res[P.pointOff + i];
    sums[k] = fma(r, r, sums[k]);
    counts[k] += 1.0;
  }
  var w: array<f32, MAX_CHUNKS>;
  var before = 0.0;
  for (var k = 0u; k < P.chunks; k++) {
    let l = sums[k] / max(counts[k], 1.0);
    w[k] = exp(-P.eps * before);
    before += l;
    chunks[k] = l;
    chunks[P.chunks + k] = w[k];
  }
  for (var i = 0u; i < P.n; i++) {
    let wk = w[chunkOf(i)];
    for (var c = 0u; c < P.channels; c++) {
      alpha[P.col + c * P.np + i] *= wk;
    }
  }
}
