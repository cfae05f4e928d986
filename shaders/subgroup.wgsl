// shaders/reduce.wgsl with subgroup operations, where the device has the
// `subgroups` feature (src/kernels.ts puts it in front of ntk.wgsl and lbfgs.wgsl
// instead; same names, same contract).
//
// blockSum: each subgroup sums its invocations' values (subgroupAdd); each
// subgroup's first lane puts the sum in its own invocation's slot and every other
// invocation a zero; after one barrier every lane sums the slots lane,
// lane + size, … and a second subgroupAdd gives every invocation the total. Two
// barriers instead of the tree's 2 + log2(REDUCE_WG), and no assumption about
// which invocations form a subgroup (slots are indexed by local_invocation_index).
// WebGPU's subgroup sizes are powers of two from 4 to 128, so REDUCE_WG (256) is a
// multiple of every one and SG_MIN (the adapter's subgroupMinSize, at least 4)
// bounds the slots a lane reads. A different summation order from the tree: the
// same sums to float32 rounding (tests/subgroups_test.ts runs both in Chromium).

const REDUCE_WG: u32 = 256u;
const SG_MIN: u32 = 4u;

var<workgroup> partialSums: array<f32, REDUCE_WG>;

struct Lanes {
  @builtin(local_invocation_index) li: u32,
  @builtin(subgroup_invocation_id) lane: u32,
  @builtin(subgroup_size) size: u32,
}

fn blockSum(ln: Lanes, s: f32) -> f32 {
  let t = subgroupAdd(s);
  partialSums[ln.li] = select(0.0, t, ln.lane == 0u);
  workgroupBarrier();
  var u = 0.0;
  for (var k = 0u; k < REDUCE_WG / SG_MIN; k++) {
    let j = k * ln.size + ln.lane;
    u += select(0.0, partialSums[min(j, REDUCE_WG - 1u)], j < REDUCE_WG);
  }
  let total = subgroupAdd(u);
  // The next call overwrites partialSums only after everyone has read it.
  workgroupBarrier();
  return total;
}
