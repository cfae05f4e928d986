/**
 * Concurrent runs: a second `train` into a folder that a running `train` owns
 * refuses with one sentence; once the owner is killed (-9), its stale lock is
 * taken over with a notice.
 */
import assert from "node:assert/strict";
import { RunLock } from "../src/lock.ts";
import { UserError } from "../src/errors.ts";
import { CLI, denoCommand, runDeno, tinyWaveFlags } from "./process.ts";

const SMALL = [...tinyWaveFlags(), "--quiet"];

Deno.test("a run folder is locked by one RunLock at a time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sketchpinn_lock_" });
  try {
    const a = await RunLock.acquire(dir);
    // flock belongs to an open file: a second open in the same process is refused too.
    await assert.rejects(() => RunLock.acquire(dir), (e) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, new RegExp(`in use by another \`train\` \\(process ${Deno.pid}, `));
      return true;
    });
    await a.release();
    const notices: string[] = [];
    const b = await RunLock.acquire(dir, (l) => notices.push(l));
    assert.deepEqual(notices, [], "a released lock is no stale lock");
    await b.release();
    assert.equal(await Deno.stat(`${dir}/.lock`).catch(() => null), null, "lock file removed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a second train into a running train's folder refuses; a killed owner's lock is taken over", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sketchpinn_lock_" });
  try {
    const out = `${dir}/run`;
    const owner = denoCommand([
      ...CLI,
      "train",
      ...SMALL,
      "--steps",
      "1000000",
      "--log-every",
      "2",
      "--checkpoint-every",
      "2",
      "--out",
      out,
    ]).spawn();
    const ownerDone = owner.output();
    const deadline = Date.now() + 60_000;
    while (!(await Deno.stat(`${out}/model.json`).catch(() => null))) {
      assert.ok(Date.now() < deadline, "no checkpoint within 60 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    const config = await Deno.readTextFile(`${out}/config.json`);
    for (
      const args of [["train", ...SMALL, "--steps", "4", "--out", out], ["train", "--resume", out]]
    ) {
      const r = await runDeno([...CLI, ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(!r.stderr.includes("    at "), r.stderr);
      const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
      assert.equal(errors.length, 1, r.stderr);
      assert.match(
        errors[0],
        new RegExp(
          `^error: Run folder .*run is in use by another \`train\` \\(process ${owner.pid}, started [^)]+\\); wait for it to end, or choose another --out\\.$`,
        ),
      );
    }
    assert.equal(await Deno.readTextFile(`${out}/config.json`), config, "the owner's config kept");
    owner.kill("SIGKILL");
    await ownerDone;
    const step = JSON.parse(await Deno.readTextFile(`${out}/model.json`)).state.step;
    const r = await runDeno([...CLI, "train", "--resume", out, "--steps", String(step + 2)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `was left locked by process ${owner.pid} \\(started [^)]+\\), which is gone; taking it over\\.`,
      ),
    );
    assert.equal(JSON.parse(await Deno.readTextFile(`${out}/model.json`)).state.step, step + 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
