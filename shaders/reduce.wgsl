// Sums over a workgroup of REDUCE_WG invocations, for the kernels of ntk.wgsl and
// lbfgs.wgsl (src/kernels.ts puts this file in front of them). blockSum: a tree in
// workgroup memory. Where the device has the `subgroups` feature, shaders/subgroup.wgsl
// takes this file's place: the same names, with subgroup operations.
//
// Every invocation of the workgroup must call blockSum, in uniform control flow;
// each one gets the total.

const REDUCE_WG: u32 = 256u;

var<workgroup> partialSums: array<f32, REDUCE_WG>;

// The builtins blockSum needs, an entry point's parameter.
struct Lanes {
  @builtin(local_invocation_index) li: u32,
}

fn blockSum(ln: Lanes, s: f32) -> f32 {
  let li = ln.li;
  partialSums[li] = s;
  workgroupBarrier();
  for (var h = REDUCE_WG / 2u; h > 0u; h >>= 1u) {
    if (li < h) {
      partialSums[li] += partialSums[li + h];
    }
    workgroupBarrier();
  }
  let total = partialSums[0];
  // The next call overwrites partialSums only after everyone has read the total.
  workgroupBarrier();
  return total;
}
