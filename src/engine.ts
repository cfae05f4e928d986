/**
 * The engine: one device, its pipeline cache, buffer pool and uniform layouts.
 *
 * @module
 */
/// <reference types="npm:@webgpu/types@0.1.74" />
// A full npm: specifier, not the import map's bare name: a program that imports
// mod.ts by path or URL has no access to this package's deno.json.
// deno-lint-ignore no-import-prefix
import { makeShaderDataDefinitions, makeStructuredView } from "npm:webgpu-utils@2.1.1";
import { acquireGpu, type AdapterReport, type Gpu } from "./device.ts";
import { BufferPool, readBuffer } from "./buffers.ts";
import { type KernelName, KERNELS, LAYER_STRUCT_WGSL, type Variant } from "./kernels.ts";
import { type CompiledKernel, PipelineCache } from "./pipelines.ts";
import { UserError } from "./errors.ts";
import { DEFAULT_TUNING, defaultTuning, loadTuning, type Tuning } from "./tuning.ts";
import { countingEncoder, newCounters, type WorkCounters } from "./encoder.ts";
import { KernelProfile, type KernelTime } from "./profile.ts";

/**
 * Values of a uniform struct's fields: numbers, flat lists for array fields, and
 * the same again for a struct member (the per-layer kernels' `layer`).
 */
export type UniformValues = Record<string, number | number[] | Record<string, number>>;

/** One compute dispatch of a planned sequence. */
export interface Dispatch {
  /**
   * The compiled kernel: pipeline, layout and definition.
   * @internal
   */
  kernel: CompiledKernel;
  /** Buffers bound to the kernel's slots. */
  bindGroup: GPUBindGroup;
  /** Workgroup counts (x, y, z). */
  workgroups: [number, number, number];
}

/** Usage of every storage buffer the engine allocates. */
export const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/** Owns the device; create with {@linkcode Engine.create}, release with `dispose()`. */
export class Engine {
  /** The adapter, device and adapter report. */
  readonly gpu: Gpu;
  /** The WebGPU device every buffer and pipeline belongs to. */
  readonly device: GPUDevice;
  /**
   * Compiled pipelines keyed by kernel and variant.
   * @internal
   */
  readonly cache: PipelineCache;
  /**
   * Storage buffers, reused across plans; `pool.stats` counts allocations.
   * @internal
   */
  readonly pool: BufferPool;
  /** Tile and workgroup shapes the planner uses (cached per adapter by `bench --retune`). */
  tuning: Tuning = DEFAULT_TUNING;
  /**
   * Memory budget in bytes for plans on this engine (GPU buffers and host arrays);
   * undefined: half the machine's memory on a software adapter, else none.
   */
  maxMemory?: number;
  readonly #uniformDefs = new Map<string, ReturnType<typeof makeShaderDataDefinitions>>();
  #lost: string | null = null;
  #uncaptured: string | null = null;
  /**
   * Counters: queue submits, compute passes, dispatches and uniform buffers created
   * (pool buffers are in `pool.stats`), counted as they are encoded.
   */
  readonly counters: WorkCounters = newCounters();

  private constructor(gpu: Gpu) {
    this.gpu = gpu;
    this.device = gpu.device;
    this.cache = new PipelineCache(this.device, gpu.report.subgroupSizes[0]);
    this.pool = new BufferPool(this.device);
    this.device.lost.then((info) => {
      if (info.reason !== "destroyed") this.#lost = info.message || String(info.reason);
    });
    // Errors nobody captured in an error scope (a validation error of a planned
    // dispatch, an out-of-memory) end the next submit with their message.
    this.device.addEventListener("uncapturederror", (ev) => {
      this.#uncaptured ??= (ev as GPUUncapturedErrorEvent).error.message;
    });
  }

  /**
   * Acquires the default (high-performance) adapter and a device, with the
   * adapter's cached tuning when one exists (else {@linkcode defaultTuning}'s).
   */
  static async create(gpu?: Gpu, tuning?: Tuning): Promise<Engine> {
    const e = new Engine(gpu ?? await acquireGpu());
    e.tuning = tuning ?? await loadTuning(e.adapter) ?? defaultTuning(e.adapter);
    return e;
  }

  /** The adapter's description, limits and features. */
  get adapter(): AdapterReport {
    return this.gpu.report;
  }

  /** The largest storage binding the device allows, in bytes. */
  get maxBinding(): number {
    return Math.min(
      this.device.limits.maxStorageBufferBindingSize,
      this.device.limits.maxBufferSize,
    );
  }

  /** Throws when the device was lost (a GPU fault or driver reset). */
  checkAlive(): void {
    if (this.#lost) {
      throw new UserError(
        "GPU",
        `The GPU device was lost (${this.#lost}); restart from the last checkpoint.`,
      );
    }
    if (this.#uncaptured) {
      throw new UserError(
        "GPU",
        `The GPU reported an error (${this.#uncaptured}); restart from the last checkpoint, and report it if it repeats.`,
      );
    }
  }

  /** A storage buffer of `bytes`, checked against the adapter's binding limit. */
  storage(label: string, bytes: number, what = label): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    if (size > this.maxBinding) {
      throw new UserError(
        what,
        `${what} needs ${
          (size / 2 ** 20).toFixed(1)
        } MiB in one GPU buffer, more than this adapter's ${
          (this.maxBinding / 2 ** 20).toFixed(0)
        } MiB binding limit; use fewer points or a narrower network.`,
      );
    }
    return this.pool.acquire(label, size, STORAGE);
  }

  /** Queues a write of typed-array or raw data into `buf` at `byteOffset`. */
  write(buf: GPUBuffer, byteOffset: number, data: Float32Array | Uint32Array | ArrayBuffer): void {
    if (data instanceof ArrayBuffer) this.device.queue.writeBuffer(buf, byteOffset, data);
    else {
      this.device.queue.writeBuffer(
        buf,
        byteOffset,
        data.buffer as ArrayBuffer,
        data.byteOffset,
        data.byteLength,
      );
    }
  }

  /** A storage buffer holding `data`. */
  upload(label: string, data: Float32Array | Uint32Array, what = label): GPUBuffer {
    const buf = this.storage(label, data.byteLength, what);
    this.write(buf, 0, data);
    return buf;
  }

  /**
   * A uniform buffer with kernel `name`'s struct `P`, laid out by webgpu-utils from the WGSL.
   * @internal
   */
  uniform(name: KernelName, values: UniformValues, label: string): GPUBuffer {
    const data = this.uniformBytes(name, values);
    this.counters.uniforms++;
    const buf = this.device.createBuffer({
      label: `Uniform.${label}`,
      size: data.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.device.queue.writeBuffer(buf, 0, data);
    return buf;
  }

  /**
   * The bytes of kernel `name`'s uniform struct `P` holding `values` (others 0).
   * @internal
   */
  uniformBytes(name: KernelName, values: UniformValues): ArrayBuffer {
    const view = this.uniformView(name);
    for (const k of Object.keys(values)) {
      if (!(k in view.views)) throw new Error(`uniform ${name}.P has no field ${k}`);
    }
    view.set(values);
    return view.arrayBuffer;
  }

  /**
   * A fresh webgpu-utils view of kernel `name`'s uniform struct `P` (all 0): a
   * caller that rewrites a few fields every step keeps one and sets only those.
   * @internal
   */
  uniformView(name: KernelName): ReturnType<typeof makeStructuredView> {
    const k = KERNELS[name], src = k.source;
    let defs = this.#uniformDefs.get(src);
    if (!defs) {
      // Only the struct and its binding are handed to webgpu-utils: its WGSL
      // parser does not evaluate every const-expression the kernels use. A struct
      // member's type (layer.wgsl's Layer) goes in front.
      const member = k.layer ? LAYER_STRUCT_WGSL.match(/struct Layer\s*\{[^}]*\}/)![0] : "";
      const struct = src.match(/struct Params\s*\{[^}]*\}/)?.[0];
      const decl = src.match(/@group\(0\)\s*@binding\(\d+\)\s*var<uniform>\s*P\s*:\s*Params\s*;/)
        ?.[0];
      if (!struct || !decl) throw new Error(`kernel ${name} declares no uniform struct Params P`);
      defs = makeShaderDataDefinitions(`${member}\n${struct}\n${decl}`);
      this.#uniformDefs.set(src, defs);
    }
    return makeStructuredView(defs.uniforms.P);
  }

  /**
   * Encodes kernel `name` (variant `v`) over `workgroups` with buffers bound by slot.
   * @internal
   */
  async dispatch(
    name: KernelName,
    v: Variant,
    buffers: Record<number, GPUBuffer | GPUBufferBinding>,
    workgroups: [number, number?, number?],
    label: string,
  ): Promise<Dispatch> {
    const kernel = await this.cache.get(
      name,
      this.tuning.subgroups === false ? { ...v, subgroups: false } : v,
    );
    const entries = Object.keys(kernel.def.bindings).map((b) => {
      const given = buffers[Number(b)];
      if (!given) throw new Error(`dispatch ${label}: binding ${b} of ${name} is not given`);
      return { binding: Number(b), resource: "buffer" in given ? given : { buffer: given } };
    });
    const bindGroup = this.device.createBindGroup({
      label: `BindGroup.${label}`,
      layout: kernel.layout,
      entries,
    });
    const [x, y = 1, z = 1] = workgroups;
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new UserError(
        label,
        `${label} needs ${
          Math.max(x, y, z)
        } workgroups in one dimension, over this adapter's ${max}; use fewer points.`,
      );
    }
    return { kernel, bindGroup, workgroups: [x, y, z] };
  }

  /** Records `seq` into one compute pass. */
  encode(pass: GPUComputePassEncoder, seq: readonly Dispatch[]): void {
    for (const d of seq) {
      pass.setPipeline(d.kernel.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.workgroups);
    }
  }

  /** Runs sequences in one command encoder, one compute pass and one submit. */
  submit(label: string, ...seqs: readonly (readonly Dispatch[])[]): void {
    this.checkAlive();
    const enc = this.encoder(label);
    if (this.#profile) {
      const landed = this.#profile.encode(enc, label, seqs);
      this.device.queue.submit([enc.finish()]);
      this.counters.submits++;
      landed();
      return;
    }
    const timed = this.#gpuTimes !== null;
    const qs = timed
      ? this.device.createQuerySet({ label: `Timestamps.${label}`, type: "timestamp", count: 2 })
      : null;
    const pass = enc.beginComputePass({
      label,
      ...(qs
        ? {
          timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
        }
        : {}),
    });
    for (const s of seqs) this.encode(pass, s);
    pass.end();
    let resolve: GPUBuffer | null = null;
    if (qs) {
      resolve = this.device.createBuffer({
        label: `Timestamps.${label}.resolve`,
        size: 16,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      enc.resolveQuerySet(qs, 0, 2, resolve, 0);
    }
    this.device.queue.submit([enc.finish()]);
    this.counters.submits++;
    if (qs && resolve) this.#gpuTimes!.push(this.#readTimestamps(qs, resolve));
  }

  #gpuTimes: Promise<number | null>[] | null = null;

  /** A command encoder whose passes and dispatches count in {@linkcode Engine.counters}. */
  encoder(label: string): GPUCommandEncoder {
    return countingEncoder(this.device, this.counters, label);
  }

  /** Whether the adapter can time GPU work with timestamp queries. */
  get hasTimestamps(): boolean {
    return this.device.features.has("timestamp-query");
  }

  async #readTimestamps(qs: GPUQuerySet, resolve: GPUBuffer): Promise<number | null> {
    const bytes = await readBuffer(this.device, this.pool, resolve, 0, 16);
    qs.destroy();
    resolve.destroy();
    const [t0, t1] = new BigUint64Array(bytes);
    const ms = Number(t1 - t0) / 1e6;
    // Timestamps may be quantized, reset or reordered: a non-positive span means nothing.
    return t1 > t0 ? ms : null;
  }

  /**
   * Runs `work` with GPU timestamps on every submit and returns the GPU time of
   * each submit in milliseconds (null where the span was unusable); empty when
   * the adapter has no timestamp queries.
   */
  async gpuTimed(work: () => Promise<void>): Promise<(number | null)[]> {
    if (!this.hasTimestamps) {
      await work();
      return [];
    }
    this.#gpuTimes = [];
    try {
      await work();
      await this.device.queue.onSubmittedWorkDone();
      return await Promise.all(this.#gpuTimes);
    } finally {
      this.#gpuTimes = null;
    }
  }

  #profile: KernelProfile | null = null;

  /**
   * Runs `work` with every dispatch in a timed compute pass of its own and returns
   * the GPU time per kernel name, largest first (`unusable`: spans that were not
   * positive, counted as 0); null when the adapter has no timestamp queries.
   */
  async profileKernels(
    work: () => Promise<void>,
  ): Promise<{ kernels: KernelTime[]; unusable: number } | null> {
    if (!this.hasTimestamps) return null;
    const profile = new KernelProfile(this.device, this.pool);
    this.#profile = profile;
    try {
      await work();
    } finally {
      this.#profile = null;
    }
    await this.device.queue.onSubmittedWorkDone();
    return await profile.result();
  }

  /** Releases the device and every pooled buffer. */
  dispose(): void {
    this.pool.trim();
    this.device.destroy();
  }

  /** Calls {@linkcode Engine.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
