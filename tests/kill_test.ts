/**
 * Kill -9 at any moment: `train` with a checkpoint every step is killed with
 * SIGKILL at random moments (seeded), some of them while a checkpoint is being
 * written, and resumed each time; after every kill the run folder's files parse,
 * and at the end the parameters and the training state equal, bit for bit, those
 * of an uninterrupted run of the same length.
 */
import assert from "node:assert/strict";
import { modelFromJson } from "../src/model.ts";
import { CLI, denoCommand, runDeno, tinyWaveFlags } from "./process.ts";

/** A tiny network, a checkpoint and a log line every step, the parameter average on. */
const FLAGS = [
  ...tinyWaveFlags(),
  "--log-every",
  "1",
  "--checkpoint-every",
  "1",
  "--average",
  "0.9",
  "--quiet",
];
const STEPS = 100;
const KILLS = 30;

/** mulberry32: a small seeded generator, so a failing schedule can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether an atomic write's temporary file is in `dir` now. */
async function writing(dir: string): Promise<boolean> {
  try {
    for await (const e of Deno.readDir(dir)) if (e.name.includes(".tmp-")) return true;
  } catch {
    // The folder does not exist yet.
  }
  return false;
}

/** Asserts every file of the run folder parses (PNG files end with their IEND chunk, SVG and HTML with their closing tag). */
async function assertParses(dir: string, label: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.name.includes(".tmp-") || e.name === ".lock" || e.name === "report.md") continue;
    if (e.name.endsWith(".json")) {
      const text = await Deno.readTextFile(path);
      if (e.name === "model.json") modelFromJson(text, path);
      else JSON.parse(text);
    } else if (e.name === "log.jsonl") {
      const text = await Deno.readTextFile(path);
      assert.ok(text === "" || text.endsWith("\n"), `${label}: log.jsonl ends mid-line`);
      for (const l of text.split("\n").filter((l) => l)) JSON.parse(l);
    } else if (e.name.endsWith(".svg") || e.name.endsWith(".html")) {
      const text = (await Deno.readTextFile(path)).trimEnd();
      assert.ok(/<\/(svg|html)>$/.test(text), `${label}: ${e.name} torn`);
    } else if (e.name.endsWith(".png")) {
      const b = await Deno.readFile(path);
      const iend = [0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];
      assert.deepEqual(Array.from(b.subarray(b.length - 8)), iend, `${label}: ${e.name} torn`);
    } else assert.fail(`${label}: unexpected file ${e.name}`);
  }
}

Deno.test("kill -9 at random moments, resumed each time, ends bitwise equal to one run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sketchpinn_kill_" });
  try {
    const whole = `${dir}/whole`, killed = `${dir}/killed`;
    const t0 = performance.now();
    const r = await runDeno([...CLI, "train", ...FLAGS, "--steps", String(STEPS), "--out", whole]);
    assert.equal(r.code, 0, r.stderr);
    const oneRun = performance.now() - t0;
    const random = rng(20261130);
    let duringWrite = 0, takeovers = 0, resumed = 0;
    for (let i = 0; i < KILLS; i++) {
      const fresh = !(await Deno.stat(`${killed}/model.json`).catch(() => null));
      const args = fresh
        ? ["train", ...FLAGS, "--steps", String(STEPS), "--out", killed]
        : ["train", "--resume", killed, "--quiet"];
      if (!fresh) resumed++;
      const child = denoCommand([...CLI, ...args]).spawn();
      const output = child.output();
      // Every third kill waits for a checkpoint being written; the others land at
      // a random moment of start-up, training or the final writes.
      const deadline = Date.now() + 300 + random() * Math.min(2500, oneRun);
      if (i % 3 === 2) {
        while (Date.now() < deadline + 3000 && !(await writing(killed))) await sleep(1);
        if (await writing(killed)) duringWrite++;
      } else await sleep(deadline - Date.now());
      try {
        child.kill("SIGKILL");
      } catch {
        // It had already ended.
      }
      const { stderr } = await output;
      const err = new TextDecoder().decode(stderr);
      assert.ok(!err.includes("error:"), `kill ${i}: ${err}`);
      if (err.includes("taking it over")) takeovers++;
      if (await Deno.stat(killed).catch(() => null)) await assertParses(killed, `kill ${i}`);
    }
    // Finish the run and compare it with the uninterrupted one.
    const done = await Deno.stat(`${killed}/model.json`).catch(() => null)
      ? await runDeno([...CLI, "train", "--resume", killed, "--quiet"])
      : await runDeno([...CLI, "train", ...FLAGS, "--steps", String(STEPS), "--out", killed]);
    assert.equal(done.code, 0, done.stderr);
    await assertParses(killed, "the end");
    const a = JSON.parse(await Deno.readTextFile(`${whole}/model.json`));
    const b = JSON.parse(await Deno.readTextFile(`${killed}/model.json`));
    assert.equal(b.state.step, STEPS);
    assert.deepEqual(b.params, a.params, "parameters");
    assert.deepEqual(b.state, a.state, "optimizer, weights and estimator state");
    const left = [];
    for await (const e of Deno.readDir(killed)) if (/\.tmp-|\.lock/.test(e.name)) left.push(e.name);
    assert.deepEqual(left, [], "temporary files and the lock are gone");
    const steps = (await Deno.readTextFile(`${killed}/log.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l).step);
    assert.deepEqual(steps, Array.from({ length: STEPS }, (_, i) => i + 1), "the log is whole");
    console.log(
      `${KILLS} kills (${duringWrite} while a checkpoint was written, ${resumed} resumes, ${takeovers} stale locks taken over)`,
    );
    assert.ok(duringWrite >= 3, `only ${duringWrite} kills landed during a checkpoint write`);
    assert.ok(resumed >= KILLS / 2, `only ${resumed} of ${KILLS} cycles resumed a checkpoint`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
