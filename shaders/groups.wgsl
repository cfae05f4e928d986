// Workgroup routing for the kernels that run every group of a batch in one
// dispatch (taylor.wgsl, gram.wgsl, residual.wgsl), joined in front of their
// sources as common.wgsl is: groups own consecutive ranges of workgroups, and
// component `field` of table[g] is group g's first workgroup.

// The group owning workgroup x (groups are few, at most 8; the scan is uniform).
fn groupOf(x: u32, ngroups: u32, table: array<vec4<u32>, 8>, field: u32) -> u32 {
  var g = 0u;
  for (var q = 1u; q < ngroups; q++) {
    if (x >= table[q][field]) {
      g = q;
    }
  }
  return g;
}
