/**
 * The files of a run folder as a crash or a full disk leaves them: atomic writes
 * whose failure is one sentence, a log whose torn last line is dropped, and the
 * folder itself.
 *
 * @module
 */
import type { LogRecord } from "./train_state.ts";
import { errorCode, isFsError, writeFileAtomic } from "./fsutil.ts";
import { UserError } from "./errors.ts";

/** Whether `path` is a folder. */
export const isFolder = (path: string): Promise<boolean> =>
  Deno.stat(path).then((s) => s.isDirectory, () => false);

/** Creates a run folder; a refusal is one sentence naming --out. */
export async function makeRunFolder(out: string): Promise<void> {
  try {
    await Deno.mkdir(out, { recursive: true });
  } catch (e) {
    if (!isFsError(e)) throw e;
    throw new UserError(
      "--out",
      `Cannot create the run folder ${out} (${errorCode(e)}); choose another --out.`,
    );
  }
}

/** The records of a log; a line a crash cut short (the last one) is dropped. */
export async function readJsonl(path: string): Promise<LogRecord[]> {
  const text = await Deno.readTextFile(path).catch(() => "");
  const out: LogRecord[] = [];
  for (const l of text.split("\n")) {
    try {
      if (l.trim()) out.push(JSON.parse(l));
    } catch {
      // A torn line is skipped, not the whole history.
    }
  }
  return out;
}

/** Appends one record to log.jsonl in one write (a kill leaves whole lines). */
export async function appendLog(
  f: Deno.FsFile,
  out: string,
  rec: LogRecord,
  saved?: number,
): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(rec) + "\n");
  try {
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
  } catch (e) {
    if (!isFsError(e)) throw e;
    throw new UserError(
      "--out",
      `Cannot write ${out}/log.jsonl (${errorCode(e)}); free space or make the folder writable${
        saved === undefined ? "" : `, then resume from the checkpoint of step ${saved}`
      }.`,
    );
  }
}

/**
 * Writes a run file atomically. A refusal of the file system (a full disk, a
 * read-only folder) ends the run with one sentence; `kept` says what survives.
 */
export async function writeRunFile(
  out: string,
  name: string,
  data: string | Uint8Array,
  kept = "",
): Promise<void> {
  try {
    await writeFileAtomic(`${out}/${name}`, data);
  } catch (e) {
    if (!isFsError(e)) throw e;
    throw new UserError(
      "--out",
      `Cannot write ${out}/${name} (${
        errorCode(e)
      }); free space or make the folder writable${kept}.`,
    );
  }
}
