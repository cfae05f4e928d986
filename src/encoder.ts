/**
 * Command encoders that count what they record: every dispatch, compute pass and
 * submit the scheduler issues is counted where it is encoded, so `bench` reports
 * what a step really consists of rather than a hand-kept tally.
 *
 * @module
 */
/// <reference types="@webgpu/types" />

/** Running totals of the engine's GPU work. */
export interface WorkCounters {
  /** `queue.submit` calls. */
  submits: number;
  /** Compute passes begun. */
  passes: number;
  /** `dispatchWorkgroups` calls. */
  dispatches: number;
  /** Uniform buffers created. */
  uniforms: number;
  /** Dispatches per kernel name (from the pipeline label `Pipeline.<name>|…`). */
  byKernel: Record<string, number>;
}

/** Fresh counters, all zero. */
export function newCounters(): WorkCounters {
  return { submits: 0, passes: 0, dispatches: 0, uniforms: 0, byKernel: {} };
}

/**
 * A command encoder whose compute passes count their dispatches (and themselves)
 * in `counters`. The wrapped methods forward to the real ones unchanged.
 */
export function countingEncoder(
  device: GPUDevice,
  counters: WorkCounters,
  label: string,
): GPUCommandEncoder {
  const enc = device.createCommandEncoder({ label });
  const begin = enc.beginComputePass.bind(enc);
  enc.beginComputePass = (desc?: GPUComputePassDescriptor) => {
    counters.passes++;
    const pass = begin(desc);
    const setPipeline = pass.setPipeline.bind(pass);
    const dispatch = pass.dispatchWorkgroups.bind(pass);
    let kernel = "?";
    pass.setPipeline = (p: GPUComputePipeline) => {
      kernel = p.label.replace(/^Pipeline\./, "").replace(/\|.*$/, "");
      setPipeline(p);
    };
    pass.dispatchWorkgroups = (x: number, y?: number, z?: number) => {
      counters.dispatches++;
      counters.byKernel[kernel] = (counters.byKernel[kernel] ?? 0) + 1;
      dispatch(x, y, z);
    };
    return pass;
  };
  return enc;
}

/** What some span of work consisted of. */
export interface WorkCounts {
  /** Dispatches. */
  dispatches: number;
  /** Compute passes. */
  passes: number;
  /** Queue submits. */
  submits: number;
  /** Dispatches per kernel name. */
  byKernel: Record<string, number>;
}

/** A copy of the counters, to subtract later with {@linkcode countsSince}. */
export function snapshot(c: WorkCounters): WorkCounters {
  return { ...c, byKernel: { ...c.byKernel } };
}

/** The counters' increase since `before`, divided by `per` (e.g. steps). */
export function countsSince(before: WorkCounters, after: WorkCounters, per = 1): WorkCounts {
  const byKernel: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.byKernel)) {
    const d = (v - (before.byKernel[k] ?? 0)) / per;
    if (d) byKernel[k] = d;
  }
  return {
    dispatches: (after.dispatches - before.dispatches) / per,
    passes: (after.passes - before.passes) / per,
    submits: (after.submits - before.submits) / per,
    byKernel,
  };
}
