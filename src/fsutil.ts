/**
 * File helpers.
 *
 * @module
 */

/**
 * Writes a file so that readers see the old or the new content, never a torn one:
 * a temporary file beside the target, fsync, then rename over the target.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  // A link or a device (/dev/stdout, a pipe) is written through, never renamed over.
  const existing = await Deno.lstat(path).catch(() => null);
  if (existing && !existing.isFile) {
    if (existing.isDirectory) throw new Deno.errors.IsADirectory(`${path} is a directory`);
    await Deno.writeFile(path, bytes, { append: true });
    return;
  }
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    try {
      let off = 0;
      while (off < bytes.length) off += await f.write(bytes.subarray(off));
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** The synchronous form of {@linkcode writeFileAtomic}, for callers that cannot await (regular files only). */
export function writeFileAtomicSync(path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const f = Deno.openSync(tmp, { write: true, create: true, truncate: true });
    try {
      let off = 0;
      while (off < data.length) off += f.writeSync(data.subarray(off));
      f.syncSync();
    } finally {
      f.close();
    }
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // Nothing was written.
    }
    throw e;
  }
}
