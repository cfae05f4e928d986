/**
 * Per-adapter kernel tuning: tile and workgroup sizes chosen by a short timed
 * search and cached per adapter description (a laptop iGPU, a desktop card and a
 * software rasterizer want different shapes).
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
  /** Rows per invocation of the hidden-layer Taylor kernels (4, 8 or 16). */
  taylorTM: number;
  /** Output tile of the weight-gradient kernel (rows × columns). */
  gradTile: [number, number];
  /** Column slice of the weight gradients, in vec4. */
  slice: number;
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

/** Candidate shapes of the search, default first. */
export function candidates(): Tuning[] {
  const out: Tuning[] = [DEFAULT_TUNING];
  const wgs: [number, number][] = [[8, 8], [16, 4], [16, 16], [32, 8]];
  for (const taylorWG of wgs) {
    for (const taylorTM of [4, 8]) {
      if (taylorWG[0] === 8 && taylorWG[1] === 8 && taylorTM === 8) continue;
      out.push({ ...DEFAULT_TUNING, taylorWG, taylorTM });
    }
  }
  for (const gradTile of [[8, 4], [4, 16]] as [number, number][]) {
    out.push({ ...DEFAULT_TUNING, gradTile });
  }
  for (const slice of [32, 512]) out.push({ ...DEFAULT_TUNING, slice });
  return out;
}

/** Checks a cached entry before trusting it. */
export function validTuning(t: unknown): t is Tuning {
  const x = t as Tuning;
  const pos = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  return typeof x === "object" && x !== null && Array.isArray(x.taylorWG) &&
    x.taylorWG.every(pos) &&
    [4, 8, 16].includes(x.taylorTM) && Array.isArray(x.gradTile) && x.gradTile.every(pos) &&
    pos(x.slice);
}

/**
 * The version of the kernels a cached tuning was measured with: entries of an
 * older version are ignored (their shapes may mean something else now).
 */
export const TUNING_VERSION = 2;

/** The key of an adapter in the cache. */
export const adapterKey = (a: AdapterReport): string =>
  `${a.vendor}|${a.architecture}|${a.description}`;

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
