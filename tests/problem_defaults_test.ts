/**
 * A problem's recommended training settings, an L-BFGS phase among them: the
 * resolved configuration takes them, the caller's settings win, and a run that is
 * L-BFGS throughout skips a recommended phase instead of being refused. CPU only.
 */
import assert from "node:assert/strict";
import { resolveSettings } from "../src/settings.ts";
import { causalSettings } from "../src/train_config.ts";
import { poisson1d } from "../src/problems/poisson1d.ts";
import type { Problem } from "../src/problems/problem.ts";

const withPhase: Problem = {
  ...poisson1d,
  name: "poisson1d-lbfgs",
  train: { ...poisson1d.train, steps: 700, then: "lbfgs", thenSteps: 300 },
};

Deno.test("settings: a problem may recommend an L-BFGS phase after Adam", async () => {
  const { config } = await resolveSettings({ problem: withPhase });
  assert.equal(config.optimizer, "adam");
  assert.equal(config.steps, 700);
  assert.equal(config.then, "lbfgs");
  assert.equal(config.thenSteps, 300);
  // The caller's settings win over the recommendation.
  const longer = await resolveSettings({ problem: withPhase, thenSteps: 50 });
  assert.equal(longer.config.then, "lbfgs");
  assert.equal(longer.config.thenSteps, 50);
  const off = await resolveSettings({ problem: withPhase, then: "none" });
  assert.equal(off.config.then, "none");
  // L-BFGS throughout: the recommended second phase is dropped, not an error.
  const lbfgs = await resolveSettings({ problem: withPhase, optimizer: "lbfgs" });
  assert.equal(lbfgs.config.then, undefined);
  assert.equal(lbfgs.config.thenSteps, undefined);
  // Asking for both explicitly is still refused.
  await assert.rejects(
    () => resolveSettings({ problem: withPhase, optimizer: "lbfgs", then: "lbfgs" }),
    /--then lbfgs follows an Adam or gd phase/,
  );
  // Causal weights change the loss every step: a recommended phase is dropped for them
  // too (wave recommends one, and `train --causal 1` trains wave), and asking for both
  // is refused where the run is planned.
  const causal = await resolveSettings({ problem: "wave", causal: 1 });
  assert.equal(causal.config.then, undefined);
  assert.equal(causal.config.thenSteps, undefined);
  const both = await resolveSettings({ problem: "wave", causal: 1, then: "lbfgs" });
  assert.throws(() => causalSettings(both.config, both.problem), /Causal weights change the loss/);
  // Wave and the built-in steady flows recommend one (README, Results).
  for (
    const [name, steps, thenSteps] of [
      ["wave", 10000, 2600],
      ["kovasznay", 800, 1500],
      ["cavity", 1000, 2200],
    ]
  ) {
    const r = await resolveSettings({ problem: name as string });
    assert.deepEqual([r.config.steps, r.config.then, r.config.thenSteps], [
      steps,
      "lbfgs",
      thenSteps,
    ]);
  }
  // Wave keeps 100 curvature pairs (README, "Wave, the default run"); a flag overrides it.
  assert.equal((await resolveSettings({ problem: "wave" })).config.history, 100);
  assert.equal((await resolveSettings({ problem: "wave", history: 20 })).config.history, 20);
  // qtensor recommends the phase's point set too; L-BFGS throughout drops it with the phase.
  const q = await resolveSettings({ problem: "qtensor" });
  assert.deepEqual([q.config.steps, q.config.then, q.config.thenSteps, q.config.thenN], [
    4000,
    "lbfgs",
    4000,
    { r1: 2048, r2: 2048 },
  ]);
  const soft = await resolveSettings({ problem: "qtensor-soft" });
  assert.deepEqual(soft.config.thenN, { r1: 512, r2: 512, q1: 256, q2: 256, qt1: 128, qt2: 128 });
  assert.equal(soft.config.thenSteps, 2000);
  // The exact constraints recommend exact weights; the soft formulation keeps pc.
  assert.deepEqual([q.config.weighting, soft.config.weighting], ["exact", "pc"]);
  const qAlone = await resolveSettings({ problem: "qtensor", optimizer: "lbfgs" });
  assert.equal(qAlone.config.thenN, undefined);
  // A problem that recommends no phase gets none.
  const plain = await resolveSettings({ problem: "poisson1d" });
  assert.equal(plain.config.then, undefined);
});

Deno.test("settings: a problem's L-BFGS recommendation is validated", async () => {
  const bad = (train: Record<string, unknown>) =>
    resolveSettings({ problem: { ...poisson1d, train } as Problem });
  await assert.rejects(() => bad({ then: "bfgs" }), /"train.then" must be "lbfgs" or "none"/);
  await assert.rejects(() => bad({ thenSteps: -1 }), /"train.thenSteps" must be a whole number/);
  await assert.rejects(
    () => bad({ thenHistory: 3 }),
    /unknown key "thenHistory" \(steps, .*thenN are known\)/,
  );
  await assert.rejects(() => bad({ thenN: 3 }), /"train.thenN" must be an object of point counts/);
  await assert.rejects(() => bad({ thenN: { s: 4 } }), /"train.thenN" names group "s"/);
});

Deno.test("settings: a problem may recommend its weighting, L-BFGS history and update interval; flags still win", async () => {
  const exact: Problem = { ...poisson1d, name: "poisson1d-exact", train: { weighting: "exact" } };
  assert.equal((await resolveSettings({ problem: exact })).config.weighting, "exact");
  assert.equal(
    (await resolveSettings({ problem: exact, weighting: "none" })).config.weighting,
    "none",
  );
  const fixed = await resolveSettings({
    problem: exact,
    weighting: "fixed",
    weights: { r: 1, u: 10 },
  });
  assert.equal(fixed.config.weighting, "fixed");
  // Without a recommendation the global default stands.
  assert.equal((await resolveSettings({ problem: poisson1d })).config.weighting, "pc");
  // The L-BFGS history likewise, with or without the phase.
  const h50: Problem = { ...withPhase, train: { ...withPhase.train, history: 50 } };
  assert.equal((await resolveSettings({ problem: h50 })).config.history, 50);
  assert.equal((await resolveSettings({ problem: h50, optimizer: "lbfgs" })).config.history, 50);
  assert.equal((await resolveSettings({ problem: h50, history: 5 })).config.history, 5);
  assert.equal((await resolveSettings({ problem: poisson1d })).config.history, undefined);
  await assert.rejects(
    () => resolveSettings({ problem: { ...poisson1d, train: { history: 0 } } }),
    /"train.history" must be a positive whole number/,
  );
  // The interval between weight updates likewise.
  const e10: Problem = { ...poisson1d, name: "poisson1d-e10", train: { every: 10 } };
  assert.equal((await resolveSettings({ problem: e10 })).config.every, 10);
  assert.equal((await resolveSettings({ problem: e10, every: 1 })).config.every, 1);
  assert.equal((await resolveSettings({ problem: poisson1d })).config.every, 1);
  await assert.rejects(
    () => resolveSettings({ problem: { ...poisson1d, train: { every: 0.5 } } }),
    /"train.every" must be a positive whole number/,
  );
  // "fixed" needs weights per group, so a problem cannot recommend it.
  await assert.rejects(
    () =>
      resolveSettings({
        problem: { ...poisson1d, train: { weighting: "fixed" } } as unknown as Problem,
      }),
    /"train.weighting" must be one of "none", "exact", "jvp", "pc", "hutch", "gradnorm"/,
  );
});
