// Counter-based random numbers: Philox4x32-10 keyed by (seed, stream) on the
// counter (index, direction, step, 0); the same stream as src/random.ts.
//
// directions: k parameter directions s_j (Gaussian, or Rademacher when KIND = 1)
//   written in the packed forward layout; padding entries are never written (the
//   buffer starts zeroed). One dispatch per layer, as optim.wgsl's adam: gid.x is
//   the element of the layer's (out, in+1) block (the bias in column in), gid.y
//   the direction; the layer's offsets are uniform values.
//   0 uniform P; 2 rw dirs (k blocks of packedSize floats)
// residualNoise: Rademacher z_i for every real point, written to every channel
//   column of the point (as α for a backward pass) and per point.
//   0 uniform P; 3 read groups (pointOff, n, np, col); 4 rw alpha (per column);
//   5 rw z (per point)

const KIND: u32 = 0u;
const C: u32 = 1u;
override WG: u32 = 64u;

struct Params {
  count: u32,
  seed: u32,
  stream: u32,
  step: u32,
  dirBase: u32,
  packedSize: u32,
  pad0: u32,
  group: u32,
  // The layer of a directions dispatch (layer.wgsl; the packed backward layout is
  // not read here).
  layer: Layer,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(2) var<storage, read_write> dirs: array<f32>;
@group(0) @binding(3) var<storage, read> groups: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> alpha: array<f32>;
@group(0) @binding(5) var<storage, read_write> z: array<f32>;

fn mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let ll = al * bl;
  let lh = al * bh;
  let hl = ah * bl;
  let hh = ah * bh;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

fn philox(c: vec4<u32>, k: vec2<u32>) -> vec4<u32> {
  var x = c;
  var key = k;
  for (var r = 0u; r < 10u; r++) {
    let hi0 = mulhi(0xD2511F53u, x.x);
    let lo0 = 0xD2511F53u * x.x;
    let hi1 = mulhi(0xCD9E8D57u, x.z);
    let lo1 = 0xCD9E8D57u * x.z;
    x = vec4<u32>(hi1 ^ x.y ^ key.x, lo1, hi0 ^ x.w ^ key.y, lo0);
    key += vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
  }
  return x;
}

fn toUniform(w: u32) -> f32 {
  return (f32(w >> 8u) + 0.5) / 16777216.0;
}

fn draw(index: u32, dir: u32) -> f32 {
  let w = philox(vec4<u32>(index, dir, P.step, 0u), vec2<u32>(P.seed, P.stream));
  if (KIND == 1u) {
    return select(1.0, -1.0, (w.x >> 31u) != 0u);
  }
  let u1 = toUniform(w.x);
  let u2 = toUniform(w.y);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

@compute @workgroup_size(WG)
fn directions(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k1 = P.layer.fanIn + 1u;
  let r = gid.x / k1;
  let c = gid.x - r * k1;
  if (r >= P.layer.fanOut) {
    return;
  }
  // The draw's index is the flat parameter index, as src/random.ts's.
  let p = select(P.layer.flatW + r * P.layer.fanIn + c, P.layer.flatB + r, c == P.layer.fanIn);
  dirs[gid.y * P.packedSize + P.layer.packFOff + c * P.layer.ldf + r] = draw(p, P.dirBase + gid.y);
}

@compute @workgroup_size(WG)
fn residualNoise(@builtin(global_invocation_id) gid: vec3<u32>) {
  let g = groups[P.group];
  let i = gid.x;
  if (i >= g.z) {
    return;
  }
  var v = 0.0;
  if (i < g.y) {
    v = draw(g.x + i, 0u);
  }
  z[g.x + i] = v;
  for (var c = 0u; c < C; c++) {
    alpha[g.w + c * g.z + i] = v;
  }
}
