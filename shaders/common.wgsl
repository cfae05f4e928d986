// Activation functions and their first three derivatives, joined in front of
// every kernel family that applies the Taylor rules of design §3.
//
// ACT selects the function at specialisation time: 0 = tanh, 1 = sin,
// 2 = identity (the linear output layer).
const ACT: u32 = 0u;

// (σ, σ', σ'', σ''') at z, four points at a time.
struct Act4 {
  s0: vec4<f32>,
  s1: vec4<f32>,
  s2: vec4<f32>,
  s3: vec4<f32>,
}

fn activation4(z: vec4<f32>) -> Act4 {
  if (ACT == 0u) {
    // tanh; clamp so exp-based tanh implementations cannot overflow to NaN.
    let s = tanh(clamp(z, vec4<f32>(-20.0), vec4<f32>(20.0)));
    let d1 = 1.0 - s * s;
    let d2 = -2.0 * s * d1;
    let d3 = d1 * (6.0 * s * s - 2.0);
    return Act4(s, d1, d2, d3);
  } else if (ACT == 1u) {
    let s = sin(z);
    let c = cos(z);
    return Act4(s, c, -s, -c);
  }
  return Act4(z, vec4<f32>(1.0), vec4<f32>(0.0), vec4<f32>(0.0));
}
