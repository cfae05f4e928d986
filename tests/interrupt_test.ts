/**
 * Ctrl-C during `train`: acted on within a step (not at the next log step), said
 * at once, and a second Ctrl-C ends the process. Log steps are far apart here, so
 * a trainer that only looks at the signal when it logs never stops in time.
 */
import assert from "node:assert/strict";
import { loadModel } from "../src/model.ts";
import { CLI, denoCommand } from "./process.ts";

const dir = await Deno.makeTempDir({ prefix: "sketchpinn_interrupt_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const decoder = new TextDecoder();

/** Starts a long `train` and resolves once its stderr announces the training. */
async function startTraining(out: string) {
  const child = denoCommand([
    ...CLI,
    "train",
    "--problem",
    "heat1d",
    "--sizes",
    "2,8,1",
    "--n",
    "r=32,u=8",
    "--steps",
    "1000000",
    "--log-every",
    "1000000",
    "--checkpoint-every",
    "0",
    "--out",
    out,
  ]).spawn();
  const reader = child.stderr.getReader();
  let err = "";
  const deadline = Date.now() + 60_000;
  while (!err.includes("training heat1d")) {
    assert.ok(Date.now() < deadline, `no start within 60 s:\n${err}`);
    const { value, done } = await reader.read();
    assert.ok(!done, `train ended before training:\n${err}`);
    err += decoder.decode(value);
  }
  // Let it take some steps (the first ones compile nothing: the plan did that).
  await new Promise((r) => setTimeout(r, 1500));
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return err;
      err += decoder.decode(value);
    }
  })();
  return { child, stderr: rest };
}

Deno.test("Ctrl-C stops train within a step, says so, checkpoints and exits 130", async () => {
  const out = `${dir}/once`;
  const { child, stderr } = await startTraining(out);
  const t0 = performance.now();
  child.kill("SIGINT");
  const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const { code } = await child.status;
  clearTimeout(killer);
  const seconds = (performance.now() - t0) / 1000;
  const err = await stderr;
  assert.ok(seconds < 20, `stopped after ${seconds.toFixed(1)} s`);
  assert.equal(code, 130, err);
  const ack = err.indexOf("Stopping:"), done = err.indexOf("Interrupted at step");
  assert.ok(ack >= 0 && done > ack, `acknowledged first:\n${err}`);
  const step = (await loadModel(`${out}/model.json`)).state as { step: number };
  assert.ok(step.step > 0 && step.step < 1_000_000, `checkpoint at step ${step.step}`);
});

Deno.test("a second Ctrl-C ends train at once", async () => {
  const out = `${dir}/twice`;
  const { child, stderr } = await startTraining(out);
  const t0 = performance.now();
  child.kill("SIGINT");
  // Apart, or the two signals arrive as one.
  await new Promise((r) => setTimeout(r, 150));
  child.kill("SIGINT");
  const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const { code } = await child.status;
  clearTimeout(killer);
  const err = await stderr;
  assert.ok((performance.now() - t0) / 1000 < 20, err);
  assert.equal(code, 130, err);
  assert.match(err, /Quit/);
});
