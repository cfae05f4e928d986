/**
 * Adapter and device acquisition.
 *
 * @module
 */
/// <reference types="npm:@webgpu/types@0.1.74" />
import { UserError } from "./errors.ts";

/** What the engine reports about an adapter. */
export interface AdapterReport {
  /** Adapter description (e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"). */
  description: string;
  /** Vendor name, possibly empty. */
  vendor: string;
  /** Architecture name, possibly empty. */
  architecture: string;
  /** True for a software or fallback adapter. */
  isFallback: boolean;
  /** Supported features, sorted. */
  features: string[];
  /** The adapter's limits by name. */
  limits: Record<string, number>;
  /**
   * The backend Deno was asked for (`DENO_WEBGPU_BACKEND`: "gl", "vulkan", …), or
   * "auto" when Deno chose. GL and Vulkan expose Mesa's llvmpipe under the same
   * description, so tuning is keyed by this and the limits as well.
   */
  backend: string;
  /** Subgroup sizes the adapter reports (min, max), 0 when unknown. */
  subgroupSizes: [number, number];
}

/** Limits the engine raises from the defaults to the adapter's maxima. */
const RAISED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupsPerDimension",
] as const;

/** A device with the adapter it came from. */
export interface Gpu {
  /** The adapter the device came from. */
  adapter: GPUAdapter;
  /** The device, with raised limits. */
  device: GPUDevice;
  /** What the adapter reports (see {@linkcode describeAdapter}). */
  report: AdapterReport;
}

/** Describes an adapter: description, vendor, fallback flag, features and limits. */
export function describeAdapter(adapter: GPUAdapter, backend = "auto"): AdapterReport {
  const info = adapter.info as GPUAdapterInfo & {
    subgroupMinSize?: number;
    subgroupMaxSize?: number;
  };
  const limits: Record<string, number> = {};
  for (const k in adapter.limits) {
    limits[k] = (adapter.limits as unknown as Record<string, number>)[k];
  }
  return {
    description: info.description || info.device || "unknown adapter",
    vendor: info.vendor,
    architecture: info.architecture,
    isFallback: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    features: [...adapter.features].map(String).sort(),
    limits,
    backend,
    subgroupSizes: [info.subgroupMinSize ?? 0, info.subgroupMaxSize ?? 0],
  };
}

/** One line naming an adapter, for logs and benchmark headers. */
export function adapterLine(r: AdapterReport): string {
  return `${r.description} (vendor ${r.vendor || "?"}${
    r.architecture ? `, ${r.architecture}` : ""
  }${r.isFallback ? ", software/fallback" : ""}, backend ${r.backend})`;
}

/** Backends `--backend` accepts: Deno's `DENO_WEBGPU_BACKEND` values, or auto. */
export const BACKENDS = ["auto", "gl", "vulkan", "metal", "dx12"] as const;

function envBackend(): string | undefined {
  try {
    return Deno.env.get("DENO_WEBGPU_BACKEND") || undefined;
  } catch {
    return undefined; // no --allow-env: Deno's own choice
  }
}

/** Requests an adapter with `DENO_WEBGPU_BACKEND` set to `backend` for the call. */
async function requestWith(
  backend: string,
  options: GPURequestAdapterOptions,
): Promise<GPUAdapter | null> {
  const before = envBackend();
  Deno.env.set("DENO_WEBGPU_BACKEND", backend);
  try {
    return await navigator.gpu.requestAdapter(options);
  } finally {
    if (before === undefined) Deno.env.delete("DENO_WEBGPU_BACKEND");
    else Deno.env.set("DENO_WEBGPU_BACKEND", before);
  }
}

const sameAdapter = (a: GPUAdapter, b: GPUAdapter) => {
  const ra = describeAdapter(a), rb = describeAdapter(b);
  return JSON.stringify([ra.features, ra.limits, ra.subgroupSizes]) ===
    JSON.stringify([rb.features, rb.limits, rb.subgroupSizes]);
};

/**
 * The adapter to use, and the backend it came from. An explicit
 * `DENO_WEBGPU_BACKEND` (or `--backend`) is honoured. Otherwise, when Deno's own
 * choice is a software adapter on Linux, GL is asked too: a hardware adapter there
 * is always preferred, and between software adapters Mesa's GL llvmpipe is chosen
 * over Vulkan's lavapipe (once 2.3× slower here; with the register tiles unrolled
 * both run the step alike, and GL stays the default the tests and timings use;
 * README, Benchmarks); `notice` then says so.
 */
export async function pickAdapter(
  options: GPURequestAdapterOptions = { powerPreference: "high-performance" },
): Promise<{ adapter: GPUAdapter | null; backend: string; notice?: string }> {
  const env = envBackend();
  const first = await navigator.gpu.requestAdapter(options);
  if (env) return { adapter: first, backend: env };
  if (first && !describeAdapter(first).isFallback) return { adapter: first, backend: "auto" };
  if (Deno.build.os !== "linux") return { adapter: first, backend: "auto" };
  let gl: GPUAdapter | null = null;
  try {
    gl = await requestWith("gl", options);
  } catch {
    return { adapter: first, backend: "auto" }; // no --allow-env: Deno's own choice
  }
  if (!gl) return { adapter: first, backend: "auto" };
  if (!first) return { adapter: gl, backend: "gl" };
  if (!describeAdapter(gl).isFallback) {
    return {
      adapter: gl,
      backend: "gl",
      notice: "using the hardware adapter Deno's GL backend offers",
    };
  }
  if (sameAdapter(first, gl)) return { adapter: gl, backend: "gl" };
  return {
    adapter: gl,
    backend: "gl",
    notice:
      "software adapter: using Mesa's GL llvmpipe rather than Vulkan's lavapipe (--backend vulkan keeps lavapipe)",
  };
}

/**
 * Requests an adapter and a device with the limits the engine needs raised to
 * the adapter's maxima. Ends with a {@linkcode UserError} when WebGPU offers no adapter.
 */
export async function acquireGpu(
  options: GPURequestAdapterOptions = { powerPreference: "high-performance" },
): Promise<Gpu> {
  if (!("gpu" in navigator) || !navigator.gpu) {
    throw new UserError(
      "WebGPU",
      "This Deno has no WebGPU (navigator.gpu is missing); use Deno 2.9.6 or newer.",
    );
  }
  const { adapter, backend, notice } = await pickAdapter(options);
  if (notice) console.error(`note: ${notice}`);
  if (!adapter) {
    throw new UserError(
      "WebGPU adapter",
      "No WebGPU adapter was found; install a Vulkan or GL driver (on Debian, mesa-vulkan-drivers gives a software one).",
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of RAISED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[k];
    if (typeof v === "number") requiredLimits[k] = v;
  }
  // Subgroups: the workgroup sums of ntk.wgsl and lbfgs.wgsl use them (shaders/subgroup.wgsl).
  const requiredFeatures = (["timestamp-query", "subgroups"] as GPUFeatureName[]).filter((f) =>
    adapter.features.has(f)
  );
  const device = await adapter.requestDevice({
    requiredLimits,
    requiredFeatures,
    label: "sketchpinn",
  });
  return { adapter, device, report: describeAdapter(adapter, backend) };
}
