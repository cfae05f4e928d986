/**
 * Text widths from DejaVu Sans's own advance widths, for Vega's layout.
 *
 * Headless Vega has no canvas to measure text and estimates 0.8 em per character,
 * while DejaVu Sans averages about 0.6: titles and legends got room they do not
 * use (a long title left a blank band beside its chart). This reads the font's
 * `cmap` (format 4, the Basic Multilingual Plane) and `hmtx` tables once.
 *
 * @module
 */
// A full npm: specifier, not the import map's bare name: a program that imports
// mod.ts by path or URL has no access to this package's deno.json.
// deno-lint-ignore no-import-prefix
import * as vega from "npm:vega@6.4.0";
import { fontData } from "./png.ts";

let advance: ((code: number) => number) | undefined;

/** Advance width in em of each code point, from the embedded font's tables. */
function advances(): (code: number) => number {
  if (advance) return advance;
  const font = fontData();
  const v = new DataView(font.buffer, font.byteOffset, font.byteLength);
  const tables = new Map<string, number>();
  for (let i = 0, n = v.getUint16(4); i < n; i++) {
    const rec = 12 + 16 * i;
    tables.set(String.fromCharCode(...font.subarray(rec, rec + 4)), v.getUint32(rec + 8));
  }
  const head = tables.get("head")!, hhea = tables.get("hhea")!;
  const hmtx = tables.get("hmtx")!, cmap = tables.get("cmap")!;
  const unitsPerEm = v.getUint16(head + 18), metrics = v.getUint16(hhea + 34);
  let sub = -1;
  for (let i = 0, n = v.getUint16(cmap + 2); i < n; i++) {
    const rec = cmap + 4 + 8 * i;
    const platform = v.getUint16(rec), encoding = v.getUint16(rec + 2);
    const at = cmap + v.getUint32(rec + 4);
    if ((platform === 3 && encoding === 1 || platform === 0) && v.getUint16(at) === 4) sub = at;
  }
  const segs = sub < 0 ? 0 : v.getUint16(sub + 6) / 2;
  const ends = sub + 14, starts = ends + 2 * segs + 2;
  const deltas = starts + 2 * segs, offsets = deltas + 2 * segs;
  const glyph = (c: number) => {
    for (let s = 0; s < segs; s++) {
      if (c > v.getUint16(ends + 2 * s)) continue;
      const start = v.getUint16(starts + 2 * s);
      if (c < start) return 0;
      const ro = v.getUint16(offsets + 2 * s);
      if (ro === 0) return (c + v.getInt16(deltas + 2 * s)) & 0xffff;
      const g = v.getUint16(offsets + 2 * s + ro + 2 * (c - start));
      return g === 0 ? 0 : (g + v.getInt16(deltas + 2 * s)) & 0xffff;
    }
    return 0;
  };
  const cache = new Map<number, number>();
  advance = (c) => {
    let w = cache.get(c);
    if (w === undefined) {
      const g = Math.min(glyph(c), metrics - 1);
      w = v.getUint16(hmtx + 4 * g) / unitsPerEm;
      cache.set(c, w);
    }
    return w;
  };
  return advance;
}

/** Width in pixels of `text` set in DejaVu Sans at `fontSize` pixels. */
export function textWidth(text: string, fontSize: number): number {
  const adv = advances();
  let em = 0;
  for (const ch of text) em += adv(ch.codePointAt(0)!);
  return em * fontSize;
}

/** Makes Vega measure text with {@linkcode textWidth} (process-wide; idempotent). */
export function useFontMetrics(): void {
  // vega exports textMetrics (from vega-scenegraph) but its typings omit it.
  const tm = (vega as unknown as {
    textMetrics: { width: (item: { fontSize?: number }, text: unknown) => number };
  }).textMetrics;
  tm.width = (item, text) => textWidth(String(text ?? ""), item.fontSize ?? 11);
}
