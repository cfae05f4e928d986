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
export function describeAdapter(adapter: GPUAdapter): AdapterReport {
  const info = adapter.info;
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
  };
}

/** One line naming an adapter, for logs and benchmark headers. */
export function adapterLine(r: AdapterReport): string {
  return `${r.description} (vendor ${r.vendor || "?"}${
    r.architecture ? `, ${r.architecture}` : ""
  }${r.isFallback ? ", software/fallback" : ""})`;
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
  const adapter = await navigator.gpu.requestAdapter(options);
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
  const requiredFeatures = (["timestamp-query"] as GPUFeatureName[]).filter((f) =>
    adapter.features.has(f)
  );
  const device = await adapter.requestDevice({
    requiredLimits,
    requiredFeatures,
    label: "sketchpinn",
  });
  return { adapter, device, report: describeAdapter(adapter) };
}
