/**
 * The sweep files that ship in bench/sweeps (the README's tables come from them):
 * each expands, and every run's settings resolve onto a full configuration, its
 * problem (a built-in name or a module path) included, as `sweep run` from the
 * repository root would train it. CPU only; nothing is trained.
 */
import assert from "node:assert/strict";
import { checkConfigObject } from "../cli/train.ts";
import { applySetting, type RunSettings } from "../cli/train_settings.ts";
import { readSweepFile } from "../src/sweep/plan.ts";
import { resolveSettings, type TrainSettings } from "../src/settings.ts";

Deno.test("bench/sweeps: every shipped sweep file's runs resolve to configurations", async () => {
  const files = [...Deno.readDirSync("bench/sweeps")]
    .filter((e) => e.name.endsWith(".json"))
    .map((e) => `bench/sweeps/${e.name}`)
    .sort();
  assert.ok(files.length >= 8, `found ${files.length} sweep files`);
  // A run's config file lives in the sweep folder, not beside the sweep file.
  const configs = await Deno.makeTempDir();
  let runs = 0;
  for (const file of files) {
    const plan = await readSweepFile(file, (where, s) => checkConfigObject(where, s));
    for (const r of plan.runs) {
      const c: TrainSettings = {}, run = {} as RunSettings;
      for (const [k, v] of Object.entries(r.settings)) applySetting(c, run, k, v, configs);
      const { config, problem } = await resolveSettings(c);
      assert.ok(problem.groups.length > 0, `${file} ${r.name}`);
      if (file.includes("cavity_weightings_")) {
        assert.equal(problem.name, "cavity-corner0", `${file}: the unweighted cavity`);
      }
      assert.equal(typeof config.steps, "number");
      runs++;
    }
  }
  assert.ok(runs >= 24, `${runs} runs`);
});
