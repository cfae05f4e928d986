// embedFourier: the input channels A[0] of a plan whose network reads random
// Fourier features γ(x) = [cos θ, sin θ] (θ = Ω x + φ = B x̂, src/embedding.ts)
// instead of the raw inputs. Their derivative channels are closed form:
//
//   value   cos θ,            sin θ,            x̂_a
//   ∂_a     −ω_a sin θ,       ω_a cos θ,        s_a e_a
//   ∂_aa    −ω_a² cos θ,      −ω_a² sin θ,      0
//   ∂_ab    −ω_a ω_b cos θ,   −ω_a ω_b sin θ,   0
//
// (x̂ rows only when P.raw = 1), then the bias-indicator row (1 on value columns).
// B is fixed, so nothing flows back through this kernel: it runs once per point
// set (after the points' upload), not per step. One invocation per column; each
// column's point and channel kind come from a table made once per plan.
//
//   0 uniform P
//   1 read  pts    two vec4 per point at 2·point: (x0, x1, x2, x3), (target, …)
//   2 read  cols   per column: (point, a, b, 0): a, b = 1 + input direction of the
//                  channel's first / second derivative, 0 = none
//   3 read  freq   per frequency f: Ω_f (vec4) at 2f, (φ_f, 0, 0, 0) at 2f + 1
//   4 rw    a0     A[0] (E + 1 rows, P.ld floats apart)                  overwritten

override WG: u32 = 64u;

struct Params {
  ld: u32,
  M: u32,
  d: u32,
  raw: u32,
  // x̂ = s x + o per input (read only when raw = 1)
  s: vec4<f32>,
  o: vec4<f32>,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> pts: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> cols: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> freq: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> a0: array<f32>;

// Component i of v (i < 4); a direction index is dynamic, vectors index fine.
fn at(v: vec4<f32>, i: u32) -> f32 {
  return v[i];
}

@compute @workgroup_size(WG)
fn embedFourier(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  if (col >= P.ld) {
    return;
  }
  let q = cols[col];
  let x = pts[2u * q.x];
  for (var f = 0u; f < P.M; f++) {
    let w = freq[2u * f];
    let theta = dot(w, x) + freq[2u * f + 1u].x;
    let c = cos(theta);
    let s = sin(theta);
    var cv = c;
    var sv = s;
    if (q.y > 0u && q.z == 0u) {
      let wa = at(w, q.y - 1u);
      cv = -wa * s;
      sv = wa * c;
    } else if (q.y > 0u) {
      let wab = at(w, q.y - 1u) * at(w, q.z - 1u);
      cv = -wab * c;
      sv = -wab * s;
    }
    a0[f * P.ld + col] = cv;
    a0[(P.M + f) * P.ld + col] = sv;
  }
  var row = 2u * P.M;
  if (P.raw == 1u) {
    for (var k = 0u; k < P.d; k++) {
      var v = 0.0;
      if (q.y == 0u) {
        v = fma(at(P.s, k), x[k], at(P.o, k));
      } else if (q.z == 0u && q.y - 1u == k) {
        v = at(P.s, k);
      }
      a0[(row + k) * P.ld + col] = v;
    }
    row += P.d;
  }
  a0[row * P.ld + col] = select(0.0, 1.0, q.y == 0u);
}
