/**
 * SVG to PNG: resvg (compiled to wasm) draws the SVG with DejaVu Sans as its only
 * font, so a picture is the same on every machine.
 *
 * Where the bytes come from, so that this works in the repository, on a fresh CI
 * machine and when the package is imported from JSR by another project:
 * - resvg's wasm is imported from its npm package as a compiled WebAssembly
 *   module (a source-phase import, `resvg_wasm.js`), which Deno supports without
 *   flags or file paths and caches with the package;
 * - the font is embedded as base64 text (`assets/dejavu_sans.ttf.b64`, refreshed
 *   by `assets/update.sh` from the `dejavu-fonts-ttf` npm package): Deno imports
 *   text without flags, but raw bytes (`type: "bytes"`) only behind an unstable
 *   flag that a library cannot ask its users for.
 *
 * Raster images in the SVG (heatmap cells) are not drawn by resvg: its image path
 * cost 0.5–1.5 s of CPU per three-panel heatmap on the development machine. They
 * are left out, the rest is drawn on a transparent canvas, and this module puts
 * it over the images' pixels (nearest neighbour) and white, then encodes the PNG.
 *
 * @module
 */
// A full npm: specifier, not the import map's bare name: a program that imports
// mod.ts by path or URL has no access to this package's deno.json.
// deno-lint-ignore no-import-prefix
import { initWasm, Resvg } from "npm:@resvg/resvg-wasm@2.6.2";
// deno-lint-ignore no-import-prefix
import { decode, encode } from "npm:fast-png@8.0.0";
import resvgWasm from "./resvg_wasm.js";
import fontBase64 from "./assets/dejavu_sans.ttf.b64" with { type: "text" };

/** The font every picture names; the PNG renderer has it embedded. */
export const FONT = "DejaVu Sans";

let resvgReady: Promise<unknown> | undefined;
let fontBytes: Uint8Array | undefined;

/** The embedded DejaVu Sans (TrueType bytes). */
export function fontData(): Uint8Array {
  fontBytes ??= fromBase64(fontBase64.replace(/\s+/g, ""));
  return fontBytes;
}

/** A raster image of the SVG, placed in SVG user units. */
interface Placed {
  x: number;
  y: number;
  width: number;
  height: number;
  href: string;
}

const TAG = /<(\/?)(g|image|rect)\b((?:\s+[^\s=/>]+(?:="[^"]*")?)*)\s*(\/?)>/g;
const attr = (attrs: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(attrs)?.[1];
const translate = (attrs: string): [number, number] | null => {
  const t = attr(attrs, "transform");
  if (t === undefined) return [0, 0];
  const m = /^translate\(([-\d.e]+),\s*([-\d.e]+)\)$/.exec(t.trim());
  return m ? [+m[1], +m[2]] : null;
};

/**
 * Splits Vega's SVG into the SVG without its data-URL PNG images and their
 * positions; `null` when an image sits under a transform other than a translation
 * (then resvg draws the SVG as it is).
 */
function takeImages(svg: string): { rest: string; images: Placed[] } | null {
  const images: Placed[] = [], stack: [number, number][] = [[0, 0]];
  let ok = true;
  const rest = svg.replace(TAG, (tag, close, name, attrs, selfClose) => {
    const [ox, oy] = stack[stack.length - 1];
    if (name === "g") {
      if (close) stack.pop();
      else if (!selfClose) {
        const t = translate(attrs);
        stack.push(t ? [ox + t[0], oy + t[1]] : [NaN, NaN]);
      }
      return tag;
    }
    if (name === "rect") {
      // The root background goes; the compositing below puts white under everything.
      return stack.length === 1 && attr(attrs, "fill") === "white" && !attr(attrs, "x") ? "" : tag;
    }
    const href = attr(attrs, "href") ?? attr(attrs, "xlink:href") ?? "";
    const t = translate(attrs);
    if (!href.startsWith("data:image/png;base64,") || !t || Number.isNaN(ox)) {
      ok = false;
      return tag;
    }
    images.push({
      x: ox + t[0] + Number(attr(attrs, "x") ?? 0),
      y: oy + t[1] + Number(attr(attrs, "y") ?? 0),
      width: Number(attr(attrs, "width")),
      height: Number(attr(attrs, "height")),
      href,
    });
    return "";
  });
  return ok ? { rest, images } : null;
}

/** Base64 to bytes (the built-in decoder where the runtime has it; it skips line breaks). */
export function fromBase64(b64: string): Uint8Array {
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (native) return native(b64);
  const bin = atob(b64), out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Paints one image's pixels (nearest neighbour) into the RGB canvas `rgb`. */
function paint(rgb: Uint8Array, width: number, height: number, im: Placed, scale: number): void {
  const src = decode(fromBase64(im.href.slice(22)));
  const data = src.data as Uint8Array, ch = src.channels, sw = src.width, sh = src.height;
  if (src.depth !== 8 || ch < 3) {
    throw new Error(`unexpected raster in the SVG (${ch} × ${src.depth} bits)`);
  }
  const x0 = Math.max(0, Math.round(im.x * scale));
  const x1 = Math.min(width, Math.round((im.x + im.width) * scale));
  const y0 = Math.max(0, Math.round(im.y * scale));
  const y1 = Math.min(height, Math.round((im.y + im.height) * scale));
  const cols = new Int32Array(Math.max(0, x1 - x0));
  for (let px = x0; px < x1; px++) {
    cols[px - x0] = Math.min(sw - 1, Math.floor(((px + 0.5) / scale - im.x) / im.width * sw)) * ch;
  }
  for (let py = y0; py < y1; py++) {
    const sy = Math.min(sh - 1, Math.floor(((py + 0.5) / scale - im.y) / im.height * sh));
    const row = sy * sw * ch;
    let o = (py * width + x0) * 3;
    for (let k = 0; k < cols.length; k++, o += 3) {
      const s = row + cols[k];
      // Heatmap rasters are opaque; a transparent pixel shows the white under it.
      const a = ch === 4 ? data[s + 3] : 255, w = 255 - a;
      rgb[o] = (data[s] * a + 255 * w) / 255;
      rgb[o + 1] = (data[s + 1] * a + 255 * w) / 255;
      rgb[o + 2] = (data[s + 2] * a + 255 * w) / 255;
    }
  }
}

/** `over` (premultiplied RGBA) on top of the RGB canvas `rgb`, in place. */
function blendOver(rgb: Uint8Array, over: Uint8Array): void {
  const n = rgb.length / 3;
  for (let p = 0; p < n; p++) {
    const i = p * 4, o = p * 3, k = 255 - over[i + 3];
    if (k === 0) {
      rgb[o] = over[i], rgb[o + 1] = over[i + 1], rgb[o + 2] = over[i + 2];
    } else if (k !== 255) {
      rgb[o] = over[i] + (rgb[o] * k) / 255;
      rgb[o + 1] = over[i + 1] + (rgb[o + 1] * k) / 255;
      rgb[o + 2] = over[i + 2] + (rgb[o + 2] * k) / 255;
    }
  }
}

/** White, the images' pixels (nearest neighbour) and then `over` (premultiplied RGBA) on top. */
function composite(
  over: Uint8Array,
  width: number,
  height: number,
  images: Placed[],
  scale: number,
): Uint8Array {
  const rgb = new Uint8Array(width * height * 3).fill(255);
  for (const im of images) paint(rgb, width, height, im, scale);
  blendOver(rgb, over);
  return rgb;
}

/** A self-closing path drawn at opacity 0. */
const INVISIBLE = /<path\b[^>]*\sopacity="0"[^>]*\/>/g;

/**
 * The SVG without paths drawn at opacity 0 (they change no pixel). A heatmap's
 * colour legend comes from an invisible panel-sized rect, and hidden points carry
 * the line charts' tooltips; resvg still rasterised them, which was most of the
 * drawing time of a three-panel heatmap (0.7 s of 0.8 s).
 */
export function dropInvisible(svg: string): string {
  return svg.replace(INVISIBLE, "");
}

/**
 * Rasterises SVG text to PNG bytes at `scale` device pixels per SVG pixel
 * (default 2, for sharp type on high-density screens and in documents).
 */
export async function renderPng(svg: string, scale = 2): Promise<Uint8Array> {
  resvgReady ??= initWasm(resvgWasm);
  await resvgReady;
  svg = dropInvisible(svg);
  const split = svg.includes("<image") ? takeImages(svg) : null;
  const r = new Resvg(split ? split.rest : svg, {
    font: {
      fontBuffers: [fontData()],
      loadSystemFonts: false,
      defaultFontFamily: FONT,
      sansSerifFamily: FONT,
    },
    fitTo: { mode: "zoom", value: scale },
  });
  try {
    const img = r.render();
    try {
      if (!split) return img.asPng();
      const rgb = composite(img.pixels, img.width, img.height, split.images, scale);
      return encode({ width: img.width, height: img.height, data: rgb, channels: 3 });
    } finally {
      img.free();
    }
  } finally {
    r.free();
  }
}
