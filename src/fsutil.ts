/**
 * File helpers.
 *
 * @module
 */
import { UserError } from "./errors.ts";

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

/** Largest JSON input (model, checkpoint, points or config file) read, in bytes. */
export const MAX_JSON_BYTES = 256 * 2 ** 20;

/** `s` on one line and at most `max` characters, for quoting user content in a message. */
export function quote(s: string, max = 80): string {
  // deno-lint-ignore no-control-regex
  const one = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ");
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

/**
 * Reads and parses a JSON input file. A missing file, a folder or device, a file
 * over {@linkcode MAX_JSON_BYTES} or invalid JSON each end in one sentence that
 * starts with `what` (e.g. "Model file m.json") and ends with `fix`.
 */
export async function readJsonFile(path: string, what: string, fix: string): Promise<unknown> {
  const lower = what[0].toLowerCase() + what.slice(1);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    throw new UserError(path, `Cannot read ${lower} (${errorCode(e)}); check the path.`);
  }
  // A device (/dev/zero) or a folder would be read forever or not at all.
  if (!info.isFile) {
    throw new UserError(path, `${what} is not a regular file; give the path of a JSON file.`);
  }
  if (info.size > MAX_JSON_BYTES) {
    throw new UserError(
      path,
      `${what} holds ${(info.size / 2 ** 20).toFixed(0)} MiB, more than the ${
        MAX_JSON_BYTES / 2 ** 20
      } MiB read from one JSON file; ${fix}.`,
    );
  }
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new UserError(path, `Cannot read ${lower} (${errorCode(e)}); check the path.`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(
      path,
      `${what} is not valid JSON (${quote((e as Error).message)}); ${fix}.`,
    );
  }
}

/** The short reason of a file-system error ("No such file or directory (os error 2)"). */
export function errorCode(e: unknown): string {
  return e instanceof Error ? quote(e.message.split(":")[0], 60) : "unknown error";
}

/** Whether `e` is the operating system refusing a file operation (no space, read-only, …). */
export function isFsError(e: unknown): e is Error {
  return e instanceof Error && ("code" in e || e.name in Deno.errors);
}
