/**
 * The lock of a run folder: one `train` writes a folder at a time.
 *
 * The lock is an advisory lock (flock) on `<folder>/.lock`, which the operating
 * system drops when its process ends in any way, kill -9 included: a killed run
 * never leaves it stuck. The file holds the owner's process id and start time; a
 * later run that finds the file but gets the lock knows the owner is gone, says
 * so on stderr, and takes the folder over, removing the temporary files the
 * owner's interrupted atomic writes left behind.
 *
 * @module
 */
import { UserError } from "./errors.ts";
import { errorCode, isFsError } from "./fsutil.ts";

/** Name of the lock file inside a run folder. */
export const LOCK_FILE = ".lock";

/** What the lock file records about its owner. */
interface Owner {
  pid: number;
  started: string;
}

/** An acquired run-folder lock; release it with `release()` or `await using`. */
export class RunLock {
  readonly #file: Deno.FsFile;
  readonly #path: string;
  #released = false;

  private constructor(file: Deno.FsFile, path: string) {
    this.#file = file;
    this.#path = path;
  }

  /**
   * Locks `dir` (which must exist) for this process, or throws a
   * {@linkcode UserError} naming the process that holds it. `notice` receives
   * one line when a lock left by a process that is gone is taken over.
   */
  static async acquire(
    dir: string,
    notice: (line: string) => void = (l) => console.error(l),
  ): Promise<RunLock> {
    const path = `${dir}/${LOCK_FILE}`;
    for (let attempt = 0; attempt < 10; attempt++) {
      const file = await Deno.open(path, { read: true, write: true, create: true }).catch((e) => {
        if (!isFsError(e)) throw e;
        throw new UserError(
          "--out",
          `Cannot lock run folder ${dir} (${
            errorCode(e)
          }); make the folder writable or choose another --out.`,
        );
      });
      if (!(await file.tryLock(true))) {
        const owner = await readOwner(path);
        file.close();
        throw new UserError(
          "--out",
          `Run folder ${dir} is in use by another \`train\`${
            owner ? ` (process ${owner.pid}, started ${owner.started})` : ""
          }; wait for it to end, or choose another --out.`,
        );
      }
      // The owner may have removed the file between our open and our lock: then
      // this lock guards a file nobody else will open, so try again.
      const [mine, now] = await Promise.all([file.stat(), Deno.stat(path).catch(() => null)]);
      if (!now || now.ino !== mine.ino) {
        file.close();
        continue;
      }
      const stale = await readOwner(path);
      if (stale) {
        notice(
          `sketchpinn: ${dir} was left locked by process ${stale.pid} (started ${stale.started}), which is gone; taking it over.`,
        );
        await removeTemporaries(dir);
      }
      const me: Owner = { pid: Deno.pid, started: new Date().toISOString() };
      await file.truncate(0);
      await file.write(new TextEncoder().encode(JSON.stringify(me) + "\n"));
      return new RunLock(file, path);
    }
    throw new UserError(
      "--out",
      `Cannot lock run folder ${dir}; another process keeps replacing ${path}.`,
    );
  }

  /** Removes the lock file and drops the lock (removal first: see `acquire`). */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await Deno.remove(this.#path).catch(() => {});
    this.#file.close();
  }

  /** Calls {@linkcode RunLock.release}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }
}

async function readOwner(path: string): Promise<Owner | null> {
  try {
    const o = JSON.parse(await Deno.readTextFile(path));
    return typeof o?.pid === "number" ? { pid: o.pid, started: String(o.started) } : null;
  } catch {
    return null;
  }
}

/** Removes the temporary files of atomic writes a killed owner left in `dir`. */
async function removeTemporaries(dir: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && /\.tmp-\d+-[0-9a-f]{8}$/.test(e.name)) {
      await Deno.remove(`${dir}/${e.name}`).catch(() => {});
    }
  }
}
