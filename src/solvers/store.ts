/**
 * The cache of reference solutions: each solution is a few Float64 arrays in one
 * binary file in the cache folder ({@linkcode cachePath}), named by the solver and
 * its parameters and checked against a key on load. File layout: the 8 bytes
 * "SKPREF01", a little-endian uint32 header length L, L bytes of JSON
 * `{"key": {...}, "lengths": [...], "meta": {...}}` (meta: figures of the run that
 * computed it, such as its wall time; not part of the key), zero padding to a multiple of 8, then the arrays'
 * float64 values (little-endian) one after the other.
 *
 * A missing, unreadable, mismatched or non-finite file is recomputed; where no cache
 * folder is writable the solution is computed and not stored.
 *
 * @module
 */
import { cachePath } from "../cache.ts";
import { writeFileAtomicSync } from "../fsutil.ts";

const MAGIC = "SKPREF01";

/** Arrays of a cached solution with the figures of the run that computed them. */
export interface CachedArrays {
  arrays: Float64Array[];
  meta: Record<string, unknown>;
}

/** Encodes arrays, their key and meta in the cache file layout. */
export function encodeArrays(
  key: Record<string, unknown>,
  arrays: Float64Array[],
  meta: Record<string, unknown> = {},
): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({ key, lengths: arrays.map((a) => a.length), meta }),
  );
  const start = Math.ceil((12 + header.length) / 8) * 8;
  const total = arrays.reduce((s, a) => s + a.length, 0);
  const bytes = new Uint8Array(start + 8 * total);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, header.length, true);
  bytes.set(header, 12);
  let off = start;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++, off += 8) view.setFloat64(off, a[i], true);
  }
  return bytes;
}

/**
 * Decodes a cache file; null unless it has the layout, exactly `key` and `lengths`,
 * the exact byte length and only finite values.
 */
export function decodeArrays(
  bytes: Uint8Array,
  key: Record<string, unknown>,
  lengths: number[],
): CachedArrays | null {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = view.getUint32(8, true);
  if (12 + hlen > bytes.length) return null;
  let header: { key?: unknown; lengths?: unknown; meta?: unknown };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hlen)));
  } catch {
    return null;
  }
  if (
    JSON.stringify(header.key) !== JSON.stringify(key) ||
    JSON.stringify(header.lengths) !== JSON.stringify(lengths)
  ) return null;
  const start = Math.ceil((12 + hlen) / 8) * 8;
  if (bytes.length !== start + 8 * lengths.reduce((s, l) => s + l, 0)) return null;
  const out: Float64Array[] = [];
  let off = start;
  for (const len of lengths) {
    const a = new Float64Array(len);
    for (let i = 0; i < len; i++, off += 8) {
      a[i] = view.getFloat64(off, true);
      if (!Number.isFinite(a[i])) return null;
    }
    out.push(a);
  }
  const meta = typeof header.meta === "object" && header.meta !== null ? header.meta : {};
  return { arrays: out, meta: meta as Record<string, unknown> };
}

const memo = new Map<string, CachedArrays>();

/**
 * The arrays (and meta) of a reference solution: from this process's memory, else from the
 * cache file `name` when it holds exactly `key`, else from `compute()` (then stored
 * atomically where the cache folder is writable).
 */
export function cachedArrays(
  name: string,
  key: Record<string, unknown>,
  lengths: number[],
  compute: () => CachedArrays,
): CachedArrays {
  const id = `${name}|${JSON.stringify(key)}`;
  const hit = memo.get(id);
  if (hit) return hit;
  const path = cachePath(name);
  let found: CachedArrays | null = null;
  if (path) {
    try {
      found = decodeArrays(Deno.readFileSync(path), key, lengths);
    } catch {
      found = null; // missing or unreadable: compute
    }
  }
  if (!found) {
    found = compute();
    if (path) {
      try {
        Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
        writeFileAtomicSync(path, encodeArrays(key, found.arrays, found.meta));
      } catch {
        // No writable cache folder (or no permission): the solution is just not stored.
      }
    }
  }
  memo.set(id, found);
  return found;
}

/** Forgets the in-memory copies (tests use it to exercise the file cache). */
export function clearMemo(): void {
  memo.clear();
}
