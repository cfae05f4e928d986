/**
 * Limits an estimate of src/resources.ts is checked against before anything is
 * allocated: the adapter's buffer and binding limits, its storage buffers per
 * stage, and a memory budget. Past them, one sentence names the input, the limit
 * and the largest value that fits.
 *
 * @module
 */
import { UserError } from "./errors.ts";
import { denseSizes } from "./embedding.ts";
import { KERNELS } from "./kernels.ts";
import type { AdapterReport } from "./device.ts";
import type { Engine } from "./engine.ts";
import type { PlanOptions } from "./plan.ts";
import {
  estimateDemand,
  formatBytes,
  largest,
  type PlanDemand,
  planShape,
  type ResourceEstimate,
} from "./resources.ts";

/** The limits an estimate is checked against. */
export interface ResourceLimits {
  /** Largest buffer one binding may hold (bytes). */
  maxBinding: number;
  /** Largest buffer (bytes). */
  maxBuffer: number;
  /** Storage buffers per shader stage the adapter allows. */
  storagePerStage: number;
  /** Memory budget for GPU buffers and host arrays together (bytes; Infinity: none). */
  budget: number;
  /** Where the budget comes from, for messages. */
  budgetFrom: string;
}

/** Most random directions one NTK estimate draws (`--k`): each costs network passes. */
export const MAX_DIRECTIONS = 4096;

/** Returns `k`, or throws when it is over {@linkcode MAX_DIRECTIONS}. */
export function checkDirections(k: number, input = "--k"): number {
  if (k > MAX_DIRECTIONS) {
    throw new UserError(
      input,
      `${input} ${k} is more than the ${MAX_DIRECTIONS} random directions one NTK estimate may draw (each costs network passes); use ${input} ${MAX_DIRECTIONS} or fewer.`,
    );
  }
  return k;
}

/** The storage buffers the engine's largest kernel binds in one stage. */
export const STORAGE_BINDINGS_NEEDED: number = Math.max(
  ...Object.values(KERNELS).map((k) =>
    Object.values(k.bindings).filter((b) => b !== "uniform").length
  ),
);

/** Whether this adapter is a software rasterizer whose "GPU memory" is the machine's. */
export function isSoftware(r: AdapterReport): boolean {
  return r.isFallback || /llvmpipe|lavapipe|swiftshader|software/i.test(r.description);
}

/** Total memory of the machine in bytes, or undefined where it cannot be read without a prompt. */
export function machineMemory(): number | undefined {
  try {
    const sys = Deno.permissions.querySync({ name: "sys", kind: "systemMemoryInfo" });
    if (sys.state === "granted") return Deno.systemMemoryInfo().total;
    const read = Deno.permissions.querySync({ name: "read", path: "/proc/meminfo" });
    if (read.state !== "granted") return undefined;
    const m = Deno.readTextFileSync("/proc/meminfo").match(/^MemTotal:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Share of the machine's memory a software adapter may use by default. */
export const DEFAULT_MEMORY_SHARE = 0.5;

/**
 * The limits of `adapter` (its reported limits) and the memory budget: `maxMemory`
 * when given, else half the machine's memory on a software adapter (whose buffers
 * live in the machine's memory), else none (a GPU's own memory is not reported;
 * an allocation it refuses is caught by the engine's error scopes).
 */
export function resourceLimits(adapter: AdapterReport, maxMemory?: number): ResourceLimits {
  const l = adapter.limits;
  const maxBuffer = l.maxBufferSize ?? 256 * 2 ** 20;
  let budget = Infinity, budgetFrom = "";
  if (maxMemory !== undefined) {
    budget = maxMemory;
    budgetFrom = `the ${formatBytes(maxMemory)} memory budget (--max-memory)`;
  } else if (isSoftware(adapter)) {
    const total = machineMemory();
    if (total !== undefined) {
      budget = Math.floor(total * DEFAULT_MEMORY_SHARE);
      budgetFrom = `the ${formatBytes(budget)} memory budget (half of this machine's ${
        formatBytes(total)
      } for the software adapter; --max-memory sets another)`;
    }
  }
  return {
    maxBinding: Math.min(l.maxStorageBufferBindingSize ?? 128 * 2 ** 20, maxBuffer),
    maxBuffer,
    storagePerStage: l.maxStorageBuffersPerShaderStage ?? 8,
    budget,
    budgetFrom,
  };
}

/** Why `e` does not fit `limits` (a clause of a sentence), or null when it fits. */
export function excess(e: ResourceEstimate, limits: ResourceLimits): string | null {
  const big = largest(e);
  if (big.allocated > limits.maxBinding) {
    return `one GPU buffer of ${formatBytes(big.allocated)} (${big.what}), over this adapter's ${
      formatBytes(limits.maxBinding)
    } binding limit`;
  }
  const total = e.gpuBytes + e.hostBytes;
  if (total > limits.budget) {
    return `${formatBytes(total)} of memory (${formatBytes(e.gpuBytes)} GPU buffers, ${
      formatBytes(e.hostBytes)
    } host arrays), over ${limits.budgetFrom}`;
  }
  return null;
}

/** A setting a user can lower to make an estimate fit. */
export interface Knob {
  /** The flag or file named in the message. */
  input: string;
  /** Its current value. */
  value: number;
  /** Its smallest meaningful value. */
  min: number;
  /** The setting as the user writes it, at value v (e.g. "--n r=1000"). */
  show: (v: number) => string;
  /** The estimate at value v, everything else unchanged. */
  at: (v: number) => ResourceEstimate;
}

/** The largest v in [lo, hi] with ok(v), given ok(lo) and a monotone ok. */
function largestOk(lo: number, hi: number, ok: (v: number) => boolean): number {
  while (lo < hi) {
    const mid = Math.floor(lo + (hi - lo + 1) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Throws a {@linkcode UserError} unless `knobs`' current values fit `limits`:
 * one sentence naming the first knob that alone can make it fit, the limit, and
 * the largest value of that knob that fits.
 */
export function checkResources(limits: ResourceLimits, knobs: readonly Knob[]): void {
  if (STORAGE_BINDINGS_NEEDED > limits.storagePerStage) {
    throw new UserError(
      "adapter",
      `The engine's kernels bind up to ${STORAGE_BINDINGS_NEEDED} storage buffers per shader stage and this adapter allows ${limits.storagePerStage}; use another adapter (a Vulkan, Metal or D3D12 driver).`,
    );
  }
  if (knobs.length === 0) return;
  const why = excess(knobs[0].at(knobs[0].value), limits);
  if (!why) return;
  const fits = (k: Knob) => (v: number) => excess(k.at(v), limits) === null;
  for (const k of knobs) {
    if (k.value <= k.min || !fits(k)(k.min)) continue;
    const best = largestOk(k.min, k.value - 1, fits(k));
    throw new UserError(
      k.input,
      `${k.show(k.value)} needs ${why}; the most that fits is ${k.show(best)}.`,
    );
  }
  const k = knobs.at(-1)!;
  throw new UserError(
    k.input,
    `${
      k.show(k.value)
    } needs ${why}, and no single smaller setting fits; use fewer points and a narrower network.`,
  );
}

/**
 * The knobs of a demand, in the order they are blamed: the point count of the
 * group with the most columns, then the hidden widths (all capped at one value).
 */
export function demandKnobs(d: PlanDemand): Knob[] {
  const show = d.showCounts ??
    ((c: Record<string, number>) =>
      `--n ${Object.entries(c).map(([g, n]) => `${g}=${n}`).join(",")}`);
  const shape = planShape(d.problem, d.sizes, d.counts);
  const top = shape.groups.reduce((a, g) => (g.channels * g.n > a.channels * a.n ? g : a));
  const withTop = (v: number) => ({ ...d.counts, [top.name]: v });
  const hidden = d.sizes.slice(1, -1);
  const maxW = Math.max(...hidden);
  const capped = (w: number) => [d.sizes[0], ...hidden.map((h) => Math.min(h, w)), d.sizes.at(-1)!];
  return [
    {
      input: d.countsInput ?? "--n",
      value: top.n,
      min: 1,
      show: (v) => show(withTop(v)),
      at: (v) => estimateDemand(d, d.sizes, withTop(v)),
    },
    {
      input: d.sizesInput ?? "--sizes",
      value: maxW,
      min: 1,
      show: (w) => (d.showSizes ?? ((s) => `--sizes ${s.join(",")}`))(capped(w)),
      at: (w) => estimateDemand(d, capped(w), d.counts),
    },
  ];
}

/** Checks a demand against `limits`; see {@linkcode checkResources}. */
export function checkDemand(d: PlanDemand, limits: ResourceLimits): void {
  checkResources(limits, demandKnobs(d));
}

/** The limits of `engine`'s adapter and its memory budget ({@linkcode Engine.maxMemory}). */
export function engineLimits(engine: Engine): ResourceLimits {
  return resourceLimits(engine.adapter, engine.maxMemory);
}

/**
 * Checks the plan `o` would allocate on `engine` (beside the buffers the engine
 * already holds) before anything is built; the message names the plan's options.
 */
export function checkPlanResources(engine: Engine, o: PlanOptions): void {
  const held = engine.pool.stats.liveBytes;
  checkDemand({
    problem: o.problem,
    // The first layer reads the embedding's features where there is one.
    sizes: denseSizes(o.sizes, o.embedding),
    counts: o.counts,
    options: {
      directions: o.directions,
      tangents: o.tangents,
      sliceVec4: o.sliceVec4 ?? engine.tuning.slice,
      maxBinding: engine.maxBinding,
    },
    extra: () => ({ buffers: [], gpuBytes: held, hostBytes: 0 }),
    countsInput: "counts",
    showCounts: (c) => `counts ${JSON.stringify(c)}`,
    sizesInput: "sizes",
    showSizes: (s) => `sizes ${s.join(",")}`,
  }, engineLimits(engine));
}
