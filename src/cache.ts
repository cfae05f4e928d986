/**
 * The cache folder: adapter tunings and reference solutions computed once per
 * machine. `$SKETCHPINN_CACHE` names the folder; else `$XDG_CACHE_HOME/sketchpinn`
 * or `~/.cache/sketchpinn`.
 *
 * @module
 */

/** The cache folder, or null where no environment access or home is available. */
export function cacheDir(): string | null {
  try {
    const explicit = Deno.env.get("SKETCHPINN_CACHE");
    if (explicit) return explicit;
    const base = Deno.env.get("XDG_CACHE_HOME") ??
      (Deno.env.get("HOME") ? `${Deno.env.get("HOME")}/.cache` : null);
    return base ? `${base}/sketchpinn` : null;
  } catch {
    return null;
  }
}

/** The path of `name` inside the cache folder, or null where there is none. */
export function cachePath(name: string): string | null {
  const dir = cacheDir();
  return dir ? `${dir}/${name}` : null;
}
