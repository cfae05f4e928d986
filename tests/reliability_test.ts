/**
 * What the CLI does when a run goes wrong (design §5, style rule 7), each command
 * run as a child process:
 * - a diverging run stops (or rolls back a bounded number of times) and keeps a
 *   readable model.json;
 * - N steps then `--resume` to 2N ends with the same parameters, bit for bit, as
 *   2N steps in one go;
 * - SIGINT checkpoints and exits 130, and the run resumes to completion;
 * - a corrupted checkpoint is refused without touching the run folder, and the
 *   atomic writer leaves no temporary files behind.
 * Bad input files and flags: reliability_inputs_test.ts.
 */
import assert from "node:assert/strict";
import { loadModel } from "../src/model.ts";
import {
  assertExitOk,
  assertUserError,
  CLI,
  cli,
  denoCommand,
  type Run,
  SMALL_WAVE_FLAGS as SMALL,
} from "./process.ts";

const dir = await Deno.makeTempDir({ prefix: "sketchpinn_rel_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

/** A CLI child process (spawned by the interrupt test). */
const command = (args: string[]) => denoCommand([...CLI, ...args]);

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** Runs the CLI and asserts exit code 0, showing stderr otherwise. */
const ok = async (...args: string[]): Promise<Run> =>
  assertExitOk(await cli(...args), args.join(" "));

async function listFiles(root: string, sub = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${root}/${sub}`)) {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await listFiles(root, rel));
    else out.push(rel);
  }
  return out;
}

const assertNoTmp = async (root: string) => {
  const tmp = (await listFiles(root)).filter((f) => f.includes(".tmp-"));
  assert.deepEqual(tmp, [], `temporary files left in ${root}`);
};

/** 30 gradient-descent steps at rate `lr` on the small network, checkpointed every 3 steps. */
const divergingTrain = (lr: string, onNan: "stop" | "rollback", out: string) =>
  cli(
    "train",
    ...SMALL,
    "--optimizer",
    "gd",
    "--lr",
    lr,
    "--steps",
    "30",
    "--log-every",
    "3",
    "--checkpoint-every",
    "3",
    "--on-nan",
    onNan,
    "--out",
    out,
  );

Deno.test("divergence with --on-nan stop exits 2 naming --lr and keeps a readable model", async () => {
  // Plain gradient descent with a huge rate overflows within a few steps; at
  // 1e12 before the first periodic checkpoint, at 1e6 after it.
  for (const [lr, lastGood] of [["1e12", 0], ["1e6", 3]] as const) {
    const out = `${dir}/diverge_${lr}`;
    const r = await divergingTrain(lr, "stop", out);
    const line = assertUserError(r, "--lr", `--lr ${lr}`);
    assert.match(line, /NaN\/Inf/);
    assert.ok(line.includes(`${out}/model.json`), line);
    const m = await loadModel(`${out}/model.json`); // finite params, else it throws
    assert.equal((m.state as { step: number }).step, lastGood, `--lr ${lr}: last good step`);
    await assertNoTmp(out);
  }
});

Deno.test("divergence with --on-nan rollback halves the rate a bounded number of times", async () => {
  const out = `${dir}/rollback`;
  const r = await divergingTrain("1e6", "rollback", out);
  const rollbacks = r.stderr.split("\n").filter((l) => l.includes("rolled back"));
  assert.ok(rollbacks.length >= 1 && rollbacks.length <= 3, r.stderr);
  // Each rollback lowers the rate further: ×0.5, ×0.25, ….
  const scales = rollbacks.map((l) => Number(l.match(/×([\d.e-]+)/)![1]));
  scales.forEach((s, i) => assert.equal(s, 0.5 ** (i + 1), `rollback ${i + 1}: ${rollbacks[i]}`));
  if (r.code === 0) {
    assert.equal(JSON.parse(await Deno.readTextFile(`${out}/metrics.json`)).steps, 30);
  } else {
    const line = assertUserError(r, "--lr", "rollback");
    assert.match(line, /rollbacks/);
    await loadModel(`${out}/model.json`);
  }
});

for (const [weighting, ...extra] of [["pc"], ["exact"], ["pc", "--average", "0.8"]]) {
  const tag = [weighting, ...extra].join(" ");
  Deno.test(`N steps then --resume to 2N equals 2N steps, bitwise (--weighting ${tag})`, async () => {
    const N = 6;
    const flags = [
      ...SMALL,
      "--weighting",
      weighting,
      ...extra,
      "--log-every",
      "3",
      "--checkpoint-every",
      "3",
    ];
    const name = [weighting, ...extra].join("_").replaceAll("-", "");
    const whole = `${dir}/whole_${name}`, split = `${dir}/split_${name}`;
    await ok("train", ...flags, "--steps", String(2 * N), "--out", whole);
    await ok("train", ...flags, "--steps", String(N), "--out", split);
    await ok("train", "--resume", split, "--steps", String(2 * N), "--quiet");
    const a = JSON.parse(await Deno.readTextFile(`${whole}/model.json`));
    const b = JSON.parse(await Deno.readTextFile(`${split}/model.json`));
    assert.equal(b.state.step, 2 * N);
    assert.deepEqual(b.params, a.params, "parameters");
    assert.deepEqual(b.state, a.state, "optimizer moments, weights and estimator state");
    if (extra.length) {
      // The model is the average; the state carries the optimizer's own parameters.
      assert.equal(b.state.raw.length, b.params.length);
      assert.notDeepEqual(b.state.raw, b.params);
    }
    const steps = (await Deno.readTextFile(`${split}/log.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l).step
    );
    assert.deepEqual(steps, [3, 6, 9, 12], "the resumed log continues the first one");
    await assertNoTmp(whole);
    await assertNoTmp(split);
  });
}

Deno.test("SIGINT checkpoints and exits 130; the run then resumes to completion", async () => {
  const out = `${dir}/interrupted`;
  const child = command([
    "train",
    ...SMALL,
    "--steps",
    "1000000",
    "--log-every",
    "3",
    "--checkpoint-every",
    "3",
    "--out",
    out,
  ]).spawn();
  const output = child.output();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const log = await Deno.readTextFile(`${out}/log.jsonl`).catch(() => "");
    if (log.includes("\n")) break;
    assert.ok(Date.now() < deadline, "no log line within 60 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGINT");
  const { code, stderr } = await output;
  const err = decode(stderr);
  assert.equal(code, 130, err);
  assert.match(err, /--resume/);
  assert.ok(!err.includes("    at "), err);
  const m = await loadModel(`${out}/model.json`);
  const step = (m.state as { step: number }).step;
  assert.ok(step > 0, `checkpoint at step ${step}`);
  await ok("train", "--resume", out, "--steps", String(step + 4), "--quiet");
  const done = await loadModel(`${out}/model.json`);
  assert.equal((done.state as { step: number }).step, step + 4);
  assert.equal(JSON.parse(await Deno.readTextFile(`${out}/metrics.json`)).steps, step + 4);
  await assertNoTmp(out);
});

Deno.test("a corrupted checkpoint or a conflicting --resume leaves the run folder as it was", async () => {
  const out = `${dir}/corrupt`;
  await ok("train", ...SMALL, "--steps", "3", "--log-every", "3", "--out", out);
  await assertNoTmp(out);
  const good = await Deno.readFile(`${out}/model.json`);
  const config = await Deno.readTextFile(`${out}/config.json`);
  const kept = `${dir}/kept_model.json`;
  await Deno.writeFile(kept, good);

  // A flag that would change the network is refused before anything is written.
  let r = await cli("train", "--resume", out, "--sizes", "2,8,1", "--steps", "6");
  assertUserError(r, "--sizes", "--resume with other sizes");
  assert.equal(await Deno.readTextFile(`${out}/config.json`), config);
  assert.deepEqual(await Deno.readFile(`${out}/model.json`), good);

  // A torn checkpoint (as a crash without the atomic writer would leave).
  await Deno.truncate(`${out}/model.json`, Math.floor(good.length / 2));
  r = await cli("train", "--resume", out, "--steps", "6");
  const line = assertUserError(r, `${out}/model.json`, "truncated checkpoint");
  assert.match(line, /not valid JSON/);
  assert.equal(await Deno.readTextFile(`${out}/config.json`), config);
  assert.equal((await Deno.stat(`${out}/model.json`)).size, Math.floor(good.length / 2));
  assert.deepEqual(await Deno.readFile(kept), good, "the copy kept elsewhere is untouched");

  // A checkpoint whose training state was damaged (null reads as 0 otherwise).
  const damaged = JSON.parse(new TextDecoder().decode(good));
  damaged.state.moments[0] = null;
  await Deno.writeTextFile(`${out}/model.json`, JSON.stringify(damaged));
  r = await cli("train", "--resume", out, "--steps", "6");
  assertUserError(r, `${out}/model.json`, "damaged state");
  assert.equal(await Deno.readTextFile(`${out}/config.json`), config);
  await assertNoTmp(out);
});
