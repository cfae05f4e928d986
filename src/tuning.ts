/**
 * Per-adapter kernel tuning: tile and workgroup sizes chosen by a short timed
 * search and cached per adapter and backend (a laptop iGPU, a desktop card and a
 * software rasterizer want different shapes; see {@linkcode adapterKey}).
 *
 * @module
 */
import type { AdapterReport } from "./device.ts";
import { writeFileAtomic } from "./fsutil.ts";
import { cachePath } from "./cache.ts";

/** The shapes the planner reads. */
export interface Tuning {
  /** Workgroup of the Taylor kernels (x over point tiles, y over row tiles). */
  taylorWG: [number, number];
  /**
   * Rows per invocation of the hidden-layer Taylor kernels (4, 8 or 16); 16 applies
   * to layers of at least 64 rows only (narrower layers use 8; {@linkcode layerTiles}).
   */
  taylorTM: number;
  /**
   * Output tile of the weight-gradient kernel (rows × columns); layers of fewer than
   * 64 rows use at most 8 × 8 ({@linkcode layerTiles}).
   */
  gradTile: [number, number];
  /**
   * Column slice of the weight gradients, in vec4: the split-K of their products
   * (each slice's partial sums are reduced by the optimizer's kernel).
   */
  slice: number;
  /** Invocations per workgroup of the weight-gradient kernel (default 64). */
  gradWG?: number;
  /**
   * With a value, the weight gradients stage operand tiles in workgroup memory
   * (shaders/weight_grad.wgsl, weightGradShared) in workgroups of SR × SK
   * invocations, each summing a `gradTile` block; `gradWG` is then unused.
   */
  gradShared?: [number, number];
  /**
   * `false`: the workgroup sums (shaders/reduce.wgsl) keep the tree where the device
   * offers subgroups; otherwise they use subgroup operations there (shaders/subgroup.wgsl).
   */
  subgroups?: false;
}

/** Vec4 columns a shared-memory weight-gradient workgroup stages at a time (CT in the shader). */
export const GRAD_CHUNK = 8;

/** Workgroup memory of a shared-memory weight-gradient workgroup, in bytes. */
export function gradSharedBytes(t: Tuning): number {
  if (!t.gradShared) return 0;
  const [sr, sk] = t.gradShared, [tm, tk] = t.gradTile;
  return (sr * tm + sk * tk) * GRAD_CHUNK * 16;
}

/**
 * Defaults measured on Mesa's llvmpipe (2 cores): 8×8 workgroups with 8 rows ×
 * 16 columns per invocation (register tiling without shared memory) were fastest;
 * the weight gradients were fastest with 8 × 8 scalar sums per invocation
 * (2.6 ms against 3.7 ms for 8 × 4 on a 128 × 129 layer over 1920 columns).
 */
export const DEFAULT_TUNING: Tuning = {
  taylorWG: [8, 8],
  taylorTM: 8,
  gradTile: [8, 8],
  slice: 128,
};

/**
 * Defaults for a software adapter on a machine with few cores (at most
 * {@linkcode FEW_CORES}): larger register tiles, 16 rows per Taylor invocation in
 * 16 × 4 workgroups and 32 × 16 weight-gradient sums per invocation. On llvmpipe
 * with 2 cores the fixed-weight wave step at N_r = 256 took 110 ms against 178 ms
 * with {@linkcode DEFAULT_TUNING} (the weight gradients 15 ms against 38 ms per
 * hidden layer): with two worker threads, fewer and larger tiles read each operand
 * fewer times and still keep both threads busy. With many cores the smaller tiles
 * of the defaults spread the work over more threads. The numbers are the same
 * either way (each sum runs in the same order).
 */
export const FEW_CORES_SOFTWARE_TUNING: Tuning = {
  taylorWG: [16, 4],
  taylorTM: 16,
  gradTile: [32, 16],
  slice: 128,
};

/** Rows from which a layer takes its tuning's tiles as they are (narrower: at most 8). */
export const WIDE_LAYER_ROWS = 64;

/**
 * The tiles a layer of `rows` rows uses: the tuning's own from
 * {@linkcode WIDE_LAYER_ROWS} rows up, else at most 8 Taylor rows and 8 × 8
 * weight-gradient sums. Larger tiles paid on wide layers only: on qtensor's 32-wide
 * layers 16-row Taylor tiles were no faster and compiled 3× longer, and on a small
 * network the 32 × 16 weight-gradient kernel, compiled at its first dispatch,
 * delayed the first step by about 2 s (llvmpipe).
 */
export function layerTiles(
  t: Tuning,
  rows: number,
): { taylorTM: number; gradTile: [number, number] } {
  if (rows >= WIDE_LAYER_ROWS) return { taylorTM: t.taylorTM, gradTile: t.gradTile };
  return {
    taylorTM: Math.min(t.taylorTM, 8),
    gradTile: [Math.min(t.gradTile[0], 8), Math.min(t.gradTile[1], 8)],
  };
}

/** Cores up to which a software adapter gets {@linkcode FEW_CORES_SOFTWARE_TUNING}. */
export const FEW_CORES = 4;

/**
 * The tuning used when none is cached for the adapter: {@linkcode FEW_CORES_SOFTWARE_TUNING}
 * for a software adapter (llvmpipe, lavapipe) on a machine with at most
 * {@linkcode FEW_CORES} cores, else {@linkcode DEFAULT_TUNING}.
 * `deno task bench --retune` measures the best shapes for the machine instead.
 */
export function defaultTuning(
  a: Pick<AdapterReport, "isFallback">,
  cores: number = navigator.hardwareConcurrency ?? 1,
): Tuning {
  return a.isFallback && cores <= FEW_CORES ? FEW_CORES_SOFTWARE_TUNING : DEFAULT_TUNING;
}

/**
 * Candidate shapes of the search, default first, then the few-cores software
 * defaults: Taylor workgroups of 64–256 invocations with 4 or 8 rows per
 * invocation, weight-gradient tiles from 4 × 4 to 16 × 16 outputs in workgroups of 64–256, split-K slices of 32–512 vec4, and
 * weight gradients staged in workgroup memory (4 × 4 outputs per invocation in
 * 8 × 8 workgroups, 8 KiB). With `limits` (the device's), shapes it cannot run
 * (invocations, workgroup size, workgroup memory) are left out. Where `features`
 * has `subgroups`, the defaults with the workgroup sums' tree instead of subgroup
 * operations are a candidate too.
 */
export function candidates(
  limits?: Record<string, number>,
  features: readonly string[] = [],
): Tuning[] {
  const out: Tuning[] = [DEFAULT_TUNING, FEW_CORES_SOFTWARE_TUNING];
  const wgs: [number, number][] = [[8, 8], [16, 4], [16, 16], [32, 8]];
  for (const taylorWG of wgs) {
    for (const taylorTM of [4, 8]) {
      if (taylorWG[0] === 8 && taylorWG[1] === 8 && taylorTM === 8) continue;
      out.push({ ...DEFAULT_TUNING, taylorWG, taylorTM });
    }
  }
  for (const gradTile of [[8, 4], [4, 16], [4, 4], [4, 8], [16, 16]] as [number, number][]) {
    out.push({ ...DEFAULT_TUNING, gradTile });
  }
  for (const gradWG of [128, 256]) out.push({ ...DEFAULT_TUNING, gradWG });
  for (const slice of [32, 512]) out.push({ ...DEFAULT_TUNING, slice });
  // One shared-memory shape: a 16 × 16 workgroup took minutes to compile on llvmpipe.
  out.push({ ...DEFAULT_TUNING, gradTile: [4, 4], gradShared: [8, 8] });
  if (features.includes("subgroups")) out.push({ ...DEFAULT_TUNING, subgroups: false });
  if (!limits) return out;
  const fits = (x: number, y: number) =>
    x * y <= (limits.maxComputeInvocationsPerWorkgroup ?? 256) &&
    x <= (limits.maxComputeWorkgroupSizeX ?? 256) && y <= (limits.maxComputeWorkgroupSizeY ?? 256);
  return out.filter((t) =>
    fits(...t.taylorWG) && fits(t.gradWG ?? 64, 1) &&
    (!t.gradShared || fits(t.gradShared[0] * t.gradShared[1], 1) &&
        gradSharedBytes(t) <= (limits.maxComputeWorkgroupStorageSize ?? 16384))
  );
}

/** Checks a cached entry before trusting it. */
export function validTuning(t: unknown): t is Tuning {
  const x = t as Tuning;
  const pos = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  return typeof x === "object" && x !== null && Array.isArray(x.taylorWG) &&
    x.taylorWG.every(pos) &&
    [4, 8, 16].includes(x.taylorTM) && Array.isArray(x.gradTile) && x.gradTile.every(pos) &&
    pos(x.slice) && (x.gradWG === undefined || pos(x.gradWG)) &&
    (x.gradShared === undefined ||
      Array.isArray(x.gradShared) && x.gradShared.length === 2 && x.gradShared.every(pos)) &&
    (x.subgroups === undefined || x.subgroups === false);
}

/**
 * The version of the kernels a cached tuning was measured with: entries of an
 * older version are ignored (their shapes may mean something else now).
 */
export const TUNING_VERSION = 2;

/**
 * The key of an adapter in the cache: vendor, architecture and description, the
 * backend, and a digest of the limits, features and subgroup sizes. Mesa's
 * llvmpipe has the same description under GL and Vulkan (lavapipe), and each
 * one's best shapes were 2× slower on the other; the backend and the limits tell
 * them apart.
 */
export function adapterKey(a: AdapterReport): string {
  const text = JSON.stringify([a.limits, a.features, a.subgroupSizes ?? [0, 0]]);
  let h = 0x811c9dc5; // FNV-1a, 32 bits: a short, stable digest
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return `${a.vendor}|${a.architecture}|${a.description}|${a.backend ?? "auto"}|${
    h.toString(16).padStart(8, "0")
  }`;
}

/** Reads the cached tuning of an adapter, if any (no permission or no file: none). */
export async function loadTuning(a: AdapterReport): Promise<Tuning | null> {
  const path = cachePath("tuning.json");
  if (!path) return null;
  try {
    const all = JSON.parse(await Deno.readTextFile(path));
    const entry = all?.[adapterKey(a)];
    return entry?.version === TUNING_VERSION && validTuning(entry.tuning) ? entry.tuning : null;
  } catch {
    return null;
  }
}

/** Stores an adapter's tuning with its measured step times. */
export async function saveTuning(
  a: AdapterReport,
  tuning: Tuning,
  timings: unknown,
): Promise<string | null> {
  const path = cachePath("tuning.json");
  if (!path) return null;
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(await Deno.readTextFile(path));
  } catch {
    // A missing or unreadable cache starts empty.
  }
  all[adapterKey(a)] = { version: TUNING_VERSION, tuning, timings, date: new Date().toISOString() };
  await Deno.mkdir(path.replace(/\/[^/]*$/, ""), { recursive: true });
  await writeFileAtomic(path, JSON.stringify(all, null, 2) + "\n");
  return path;
}
