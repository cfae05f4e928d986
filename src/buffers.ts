/**
 * A small GPU buffer pool with counters.
 *
 * Buffers are keyed by (usage, size rounded up to a power of two); a released
 * buffer becomes reusable only after the GPU finished the work submitted before
 * the release, so a replayed step never overwrites data still in flight.
 *
 * @module
 */
/// <reference types="npm:@webgpu/types@0.1.74" />

/** Pool counters, for tests and benchmark reports. */
export interface PoolStats {
  created: number;
  reused: number;
  released: number;
  liveBuffers: number;
  liveBytes: number;
  peakBytes: number;
}

const sizeClass = (n: number) => Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(1, n))));

/** GPU buffers by usage and size class, released only after the submit that used them. */
export class BufferPool {
  readonly #device: GPUDevice;
  readonly #free = new Map<string, GPUBuffer[]>();
  readonly #sizes = new WeakMap<GPUBuffer, number>();
  readonly stats: PoolStats = {
    created: 0,
    reused: 0,
    released: 0,
    liveBuffers: 0,
    liveBytes: 0,
    peakBytes: 0,
  };

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /**
   * A buffer of at least `size` bytes, zero-filled when newly created (WebGPU
   * zeroes new buffers); a reused one is cleared when `zero` is set.
   */
  acquire(label: string, size: number, usage: GPUBufferUsageFlags, zero = true): GPUBuffer {
    const cls = sizeClass(size);
    const key = `${usage}:${cls}`;
    const free = this.#free.get(key);
    let buf = free?.pop();
    if (buf) {
      this.stats.reused++;
      if (zero && usage & GPUBufferUsage.COPY_DST) {
        this.#device.queue.writeBuffer(buf, 0, new Uint8Array(cls));
      }
    } else {
      buf = this.#device.createBuffer({ label: `BufferPool.${label}[${cls}]`, size: cls, usage });
      this.#sizes.set(buf, cls);
      this.stats.created++;
    }
    this.stats.liveBuffers++;
    this.stats.liveBytes += cls;
    this.stats.peakBytes = Math.max(this.stats.peakBytes, this.stats.liveBytes);
    return buf;
  }

  /** Returns buffers to the pool once the work submitted so far has completed. */
  async release(...bufs: GPUBuffer[]): Promise<void> {
    for (const b of bufs) {
      this.stats.liveBuffers--;
      this.stats.liveBytes -= this.#sizes.get(b) ?? b.size;
      this.stats.released++;
    }
    await this.#device.queue.onSubmittedWorkDone();
    for (const b of bufs) {
      const key = `${b.usage}:${this.#sizes.get(b) ?? b.size}`;
      const list = this.#free.get(key) ?? [];
      list.push(b);
      this.#free.set(key, list);
    }
  }

  /** Destroys every pooled (free) buffer. */
  trim(): void {
    for (const list of this.#free.values()) list.forEach((b) => b.destroy());
    this.#free.clear();
  }
}

/** Reads `size` bytes of `buf` (which needs COPY_SRC) back through a pooled staging buffer. */
export async function readBuffer(
  device: GPUDevice,
  pool: BufferPool,
  buf: GPUBuffer,
  offset = 0,
  size = buf.size - offset,
): Promise<ArrayBuffer> {
  const staging = pool.acquire(
    "readback",
    size,
    GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    false,
  );
  const enc = device.createCommandEncoder({ label: `readback(${buf.label})` });
  enc.copyBufferToBuffer(buf, offset, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ, 0, size);
  const out = staging.getMappedRange(0, size).slice(0);
  staging.unmap();
  void pool.release(staging);
  return out;
}
