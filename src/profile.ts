/**
 * Per-kernel GPU time. While a {@linkcode KernelProfile} is open on the engine
 * (`Engine.profileKernels`), every submit records each dispatch in a compute pass
 * of its own, with a timestamp at the pass's beginning and end, and the spans are
 * summed per kernel name. Splitting the pass changes nothing a kernel computes
 * (storage writes are visible to the next pass as to the next dispatch); it adds
 * the passes' own cost, so the per-kernel sum runs somewhat above the step's GPU
 * time measured as one pass.
 *
 * @module
 */
/// <reference types="@webgpu/types" />
import { type BufferPool, readBuffer } from "./buffers.ts";
import type { Dispatch } from "./engine.ts";

/** GPU time of one kernel over a profiled span of work. */
export interface KernelTime {
  /** Kernel name (its pipeline label without the specialisation). */
  kernel: string;
  /** Dispatches of it. */
  dispatches: number;
  /** GPU milliseconds, summed over its dispatches. */
  ms: number;
}

/** Timestamp slots of one query set: two per dispatch. */
const MAX_QUERIES = 4096;

/** The kernel name of a dispatch, as the counting encoder names it. */
export function kernelName(d: Dispatch): string {
  return d.kernel.pipeline.label.replace(/^Pipeline\./, "").replace(/\|.*$/, "");
}

/** Collects the timed dispatches of the submits made while it is open. */
export class KernelProfile {
  #spans: Promise<void>[] = [];
  #times = new Map<string, KernelTime>();
  #unusable = 0;

  constructor(readonly device: GPUDevice, readonly pool: BufferPool) {}

  /**
   * Records `seqs` into `enc`, one compute pass per dispatch with timestamps, and
   * returns what to call once `enc` is submitted (it starts the readback).
   */
  encode(
    enc: GPUCommandEncoder,
    label: string,
    seqs: readonly (readonly Dispatch[])[],
  ): () => void {
    const all = seqs.flat();
    if (all.length === 0) return () => {};
    if (2 * all.length > MAX_QUERIES) {
      throw new Error(
        `profile ${label}: ${all.length} dispatches in one submit, over ${MAX_QUERIES / 2}`,
      );
    }
    const qs = this.device.createQuerySet({
      label: `Profile.${label}`,
      type: "timestamp",
      count: 2 * all.length,
    });
    all.forEach((d, i) => {
      const pass = enc.beginComputePass({
        label: `${label}.${i}`,
        timestampWrites: {
          querySet: qs,
          beginningOfPassWriteIndex: 2 * i,
          endOfPassWriteIndex: 2 * i + 1,
        },
      });
      pass.setPipeline(d.kernel.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.workgroups);
      pass.end();
    });
    const bytes = 16 * all.length;
    const resolve = this.device.createBuffer({
      label: `Profile.${label}.resolve`,
      size: bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    enc.resolveQuerySet(qs, 0, 2 * all.length, resolve, 0);
    const names = all.map(kernelName);
    return () => {
      this.#spans.push(
        readBuffer(this.device, this.pool, resolve, 0, bytes).then((raw) => {
          qs.destroy();
          resolve.destroy();
          const t = new BigUint64Array(raw);
          names.forEach((name, i) => this.#add(name, t[2 * i], t[2 * i + 1]));
        }),
      );
    };
  }

  #add(kernel: string, t0: bigint, t1: bigint): void {
    const k = this.#times.get(kernel) ?? { kernel, dispatches: 0, ms: 0 };
    k.dispatches++;
    // Timestamps may be quantized, reset or reordered: a non-positive span counts as 0.
    if (t1 > t0) k.ms += Number(t1 - t0) / 1e6;
    else this.#unusable++;
    this.#times.set(kernel, k);
  }

  /** The kernels' times, largest first, once every readback has landed. */
  async result(): Promise<{ kernels: KernelTime[]; unusable: number }> {
    await Promise.all(this.#spans);
    const kernels = [...this.#times.values()].sort((a, b) => b.ms - a.ms);
    return { kernels, unusable: this.#unusable };
  }
}
