/**
 * L-BFGS in training runs: `--optimizer lbfgs` from the start, Adam → L-BFGS with
 * frozen or refreshed weights, and bitwise `--resume` inside the L-BFGS phase.
 */
import assert from "node:assert/strict";
import { runTraining } from "../src/run.ts";
import type { TrainConfig } from "../src/train_config.ts";
import { Trainer } from "../src/trainer.ts";
import type { TrainSettings } from "../src/settings.ts";
import { moduleEngine } from "./gpu_helpers.ts";
import { CLI, runDeno } from "./process.ts";
import { readLog, smallWave } from "./small_run.ts";
import { UserError } from "../src/errors.ts";

const engine = await moduleEngine();
const opts = { sanitizeResources: false, sanitizeOps: false };

const small = (extra: Partial<TrainConfig>): TrainSettings =>
  smallWave({ steps: 4, logEvery: 2, ...extra });

Deno.test({
  name: "lbfgs from the start: exact weights set before the first iteration, the loss falls",
  ...opts,
  fn: async () => {
    await using t = await Trainer.create(
      engine,
      small({ optimizer: "lbfgs", weighting: "exact", steps: 12, history: 5 }),
    );
    assert.equal(t.totalSteps, 12);
    await t.advance();
    const first = await t.losses();
    assert.ok(first.weights.u > 1 && first.weights.ut > 1, JSON.stringify(first.weights));
    let prev = first.total;
    for (let i = 1; i < 12; i++) {
      await t.advance();
      const l = await t.losses();
      assert.ok(l.total <= prev, `the loss rose at iteration ${i}: ${prev} → ${l.total}`);
      prev = l.total;
    }
    const last = await t.losses();
    assert.ok(last.total < 0.9 * first.total, `${first.total} → ${last.total}`);
    // Frozen after the first refresh (thenRefresh 0): the weights did not move.
    assert.deepEqual(last.weights, first.weights);
    assert.equal(t.stopped, null);
  },
});

Deno.test({
  name: "Adam then L-BFGS: the phase starts at the model and λ, on its own fixed points",
  ...opts,
  fn: async () => {
    const out = await Deno.makeTempDir();
    const { metrics } = await runTraining(
      engine,
      small({
        weighting: "pc",
        average: 0.8,
        then: "lbfgs",
        thenSteps: 10,
        thenN: { r: 96 },
        logEvery: 1,
      }),
      { out, noReport: true },
    );
    assert.equal(metrics.steps, 14);
    const log = await readLog(out);
    const adamEnd = log.find((r) => r.step === 4)!, lb = log.filter((r) => r.step > 4);
    assert.deepEqual(lb[0].weights, adamEnd.weights, "λ frozen at the Adam phase's values");
    for (let i = 1; i < lb.length; i++) {
      assert.ok(lb[i].total <= lb[i - 1].total, `L-BFGS loss rose at step ${lb[i].step}`);
    }
    assert.ok(lb.at(-1)!.total < 0.9 * lb[0].total, "the L-BFGS phase lowers its loss");
    await Deno.remove(out, { recursive: true });
  },
});

for (
  const [tag, extra] of [
    ["pc, average, frozen λ", { weighting: "pc", average: 0.8 }],
    ["exact, λ refreshed every 2", { weighting: "exact", thenRefresh: 2 }],
    // Stopped after iteration 4, inside the second point set (iterations 3–5).
    ["pc, new points every 3", { weighting: "pc", thenResample: 3 }],
  ] as const
) {
  Deno.test({
    name: `Adam → L-BFGS stopped inside the phase and resumed equals one run, bitwise (${tag})`,
    ...opts,
    fn: async () => {
      const dir = await Deno.makeTempDir();
      const cfg = (thenSteps: number) =>
        small({ ...extra, then: "lbfgs", thenSteps, history: 3 } as Partial<TrainConfig>);
      await runTraining(engine, cfg(9), { out: `${dir}/whole`, noReport: true });
      await runTraining(engine, cfg(5), { out: `${dir}/split`, noReport: true });
      const mid = JSON.parse(await Deno.readTextFile(`${dir}/split/model.json`));
      assert.equal(mid.state.step, 9);
      assert.equal(typeof mid.state.lbfgs.hist, "string");
      await runTraining(engine, cfg(9), { out: `${dir}/split`, resume: true, noReport: true });
      const a = JSON.parse(await Deno.readTextFile(`${dir}/whole/model.json`));
      const b = JSON.parse(await Deno.readTextFile(`${dir}/split/model.json`));
      assert.equal(b.state.step, 13);
      assert.deepEqual(b.params, a.params, "parameters");
      assert.deepEqual(b.state, a.state, "L-BFGS history, λ and the Adam state");
      await Deno.remove(dir, { recursive: true });
    },
  });
}

Deno.test({
  name: "--then-resample: the L-BFGS phase moves to a new point set at iteration M, not before",
  ...opts,
  fn: async () => {
    const run = async (thenResample: number, iterations: number) => {
      await using t = await Trainer.create(
        engine,
        small({ then: "lbfgs", thenSteps: 4, thenResample, history: 3 }),
      );
      for (let i = 0; i < 4 + iterations; i++) await t.advance();
      return { params: await t.modelParams(), loss: (await t.losses()).total };
    };
    const [fixed2, new2] = [await run(0, 2), await run(2, 2)];
    assert.deepEqual(new2.params, fixed2.params, "the same path up to the resampling");
    const [fixed3, new3] = [await run(0, 3), await run(2, 3)];
    assert.notDeepEqual(new3.params, fixed3.params, "iteration 2 ran on other points");
    assert.ok(Number.isFinite(new3.loss) && new3.loss !== fixed3.loss);
  },
});

Deno.test("train: a bad --then-n or a second L-BFGS phase ends in exit code 2 naming the flag", async () => {
  for (
    const [flag, args] of [
      ["--then-n", ["--then", "lbfgs", "--then-steps", "2", "--then-n", "q=5"]],
      ["--then", ["--optimizer", "lbfgs", "--then", "lbfgs"]],
      ["--causal", ["--then", "lbfgs", "--then-steps", "2", "--causal", "1"]],
    ] as const
  ) {
    const r = await runDeno([...CLI, "train", "--sizes", "2,8,1", "--steps", "2", ...args]);
    assert.equal(r.code, 2, r.stderr);
    const last = r.stderr.trim().split("\n").at(-1)!;
    assert.ok(last.startsWith("error:") && last.includes(flag), r.stderr);
    assert.ok(!r.stderr.includes("    at "), r.stderr);
  }
});

Deno.test("train: the banner names the L-BFGS phase, which a problem may recommend unasked", async () => {
  const out = await Deno.makeTempDir();
  try {
    const r = await runDeno([
      ...CLI,
      "train",
      ...["--problem", "poisson1d", "--sizes", "1,8,1", "--n", "r=16,u=2", "--steps", "2"],
      ...["--then", "lbfgs", "--then-steps", "1", "--log-every", "1", "--out", `${out}/run`],
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /pc weights, 2 steps then 1 L-BFGS iterations → /);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test({
  name: "a checkpoint inside the L-BFGS phase with a damaged or missing history is refused",
  ...opts,
  fn: async () => {
    await using t = await Trainer.create(
      engine,
      small({ steps: 2, then: "lbfgs", thenSteps: 3, history: 4 }),
    );
    for (let i = 0; i < 3; i++) await t.advance();
    const s = await t.state();
    assert.ok(s.lbfgs, "the state carries the history");
    const bad = [
      { ...s, lbfgs: { ...s.lbfgs, hist: s.lbfgs.hist.slice(8) } },
      { ...s, lbfgs: { ...s.lbfgs, scal: "not base64!" } },
      { ...s, lbfgs: { ...s.lbfgs, newest: 4 } },
      { ...s, lbfgs: undefined },
    ];
    for (const b of bad) {
      assert.throws(
        () => t.restore(b),
        (e: unknown) => e instanceof UserError && e.input === "--resume",
        JSON.stringify(b.lbfgs)?.slice(0, 80),
      );
    }
    t.restore(s);
    await t.advance();
    assert.equal(t.step, 4);
  },
});
