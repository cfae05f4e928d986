/**
 * Full or read-only disks: when a checkpoint cannot be written, training stops
 * with exit code 2 and one sentence, the last good checkpoint is still there, and
 * the run resumes from it.
 *
 * Always run (deterministic, no privileges): a checkpoint that is a link to
 * /dev/full (ENOSPC), and a run folder reached through a link that is moved onto
 * a file mid-run (ENOTDIR). Where `unshare -rm` can mount (root, or user
 * namespaces), also a tmpfs that fills up and one remounted read-only.
 */
import assert from "node:assert/strict";
import { modelFromJson } from "../src/model.ts";
import { CLI, denoCommand, ROOT, type Run, runDeno, tinyWaveFlags } from "./process.ts";

const FLAGS = [...tinyWaveFlags(), "--quiet", "--log-every", "2"];

/** Asserts exit code 2 and one last `error:` line matching `re`; returns it. */
function stopped(r: Run, re: RegExp): string {
  const ctx = `stderr:\n${r.stderr}`;
  assert.equal(r.code, 2, ctx);
  assert.ok(!r.stderr.includes("    at "), ctx);
  const lines = r.stderr.split("\n").filter((l) => l.trim());
  const errors = lines.filter((l) => l.startsWith("error:"));
  assert.equal(errors.length, 1, ctx);
  assert.equal(lines.at(-1), errors[0], ctx);
  assert.match(errors[0], re, ctx);
  return errors[0];
}

const stepOf = async (path: string) =>
  (modelFromJson(await Deno.readTextFile(path), path).state as { step: number }).step;

Deno.test("a checkpoint linked to /dev/full stops training with one sentence", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sketchpinn_disk_" });
  try {
    const out = `${dir}/run`;
    await Deno.mkdir(out);
    await Deno.symlink("/dev/full", `${out}/model.json`);
    // Deno grants writes to devices only with all permissions.
    const r = await runDeno([
      "run",
      "-A",
      "cli/main.ts",
      "train",
      ...FLAGS,
      "--steps",
      "4",
      "--out",
      out,
    ]);
    stopped(
      r,
      /^error: Cannot write .*run\/model\.json \(No space left on device \(os error 28\)\); free space or make the folder writable\.$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run folder that becomes unwritable mid-run keeps its last good checkpoint, which resumes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sketchpinn_disk_" });
  try {
    const real = `${dir}/real`, link = `${dir}/link`;
    await Deno.mkdir(real);
    await Deno.symlink(real, link);
    const child = denoCommand([
      ...CLI,
      "train",
      ...FLAGS,
      "--steps",
      "1000000",
      "--checkpoint-every",
      "2",
      "--out",
      link,
    ]).spawn();
    const output = child.output();
    const deadline = Date.now() + 60_000;
    while (!(await Deno.stat(`${real}/model.json`).catch(() => null))) {
      assert.ok(Date.now() < deadline, "no checkpoint within 60 s");
      await new Promise((r) => setTimeout(r, 20));
    }
    // The folder's path now leads to a file: every write under it fails (ENOTDIR).
    await Deno.writeTextFile(`${dir}/file`, "");
    await Deno.symlink(`${dir}/file`, `${dir}/link2`);
    await Deno.rename(`${dir}/link2`, link);
    const { code, stdout, stderr } = await output;
    const dec = new TextDecoder();
    const line = stopped(
      { code, stdout: dec.decode(stdout), stderr: dec.decode(stderr) },
      /^error: Cannot write .*link\/model\.json \(Not a directory \(os error 20\)\); free space or make the folder writable, then resume: the last good checkpoint \(step \d+\) is still in .*link\/model\.json\.$/,
    );
    const last = Number(line.match(/\(step (\d+)\)/)![1]);
    assert.equal(await stepOf(`${real}/model.json`), last, "the named checkpoint is the one kept");
    await Deno.remove(link);
    await Deno.symlink(real, link);
    const r = await runDeno([...CLI, "train", "--resume", link, "--steps", String(last + 2)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await stepOf(`${real}/model.json`), last + 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Whether this machine lets `unshare -rm` mount a tmpfs. */
const canMount = await new Deno.Command("unshare", {
  args: ["-rm", "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d"],
  stdout: "null",
  stderr: "null",
}).output().then((o) => o.success, () => false);

/** Runs `script` in a private mount namespace with a tmpfs of `kib` KiB at $D. */
async function inTmpfs(kib: number, script: string): Promise<Run> {
  const deno = `${Deno.execPath()} ${CLI.join(" ")}`;
  const o = await new Deno.Command("unshare", {
    args: [
      "-rm",
      "sh",
      "-c",
      `D=$(mktemp -d) && mount -t tmpfs -o size=${kib}k tmpfs $D && DENO="${deno}" && ${script}`,
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

Deno.test({
  name: "a tmpfs that fills up, and one remounted read-only, keep the last good checkpoint",
  ignore: !canMount,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sketchpinn_disk_" });
    try {
      // Full: the log grows until a write finds no space; the folder is copied out
      // (the mount ends with its namespace) and resumed on a disk with room.
      const full = await inTmpfs(
        24,
        `$DENO train ${
          FLAGS.join(" ")
        } --log-every 1 --checkpoint-every 1 --steps 100000 --out $D/run; c=$?; cp -r $D/run ${dir}/full; exit $c`,
      );
      stopped(
        full,
        /^error: Cannot write .*run\/(model\.json|log\.jsonl) \(No space left on device \(os error 28\)\); free space or make the folder writable, then resume/,
      );
      const last = await stepOf(`${dir}/full/model.json`);
      let r = await runDeno([
        ...CLI,
        "train",
        "--resume",
        `${dir}/full`,
        "--steps",
        String(last + 2),
      ]);
      assert.equal(r.code, 0, r.stderr);
      // Read-only: a finished run on a folder remounted read-only refuses to resume
      // with one sentence, and its checkpoint is untouched.
      const ro = await inTmpfs(
        16384, // a finished run with its pictures holds about 1 MiB
        `$DENO train ${
          FLAGS.join(" ")
        } --steps 4 --out $D/run && mount -o remount,ro $D && $DENO train --resume $D/run --steps 8; c=$?; cp -r $D/run ${dir}/ro; exit $c`,
      );
      stopped(ro, /^error: Cannot (write|lock) .*run.*(Read-only file system|os error 30)/);
      assert.equal(await stepOf(`${dir}/ro/model.json`), 4);
      r = await runDeno([...CLI, "train", "--resume", `${dir}/ro`, "--steps", "8"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await stepOf(`${dir}/ro/model.json`), 8);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
