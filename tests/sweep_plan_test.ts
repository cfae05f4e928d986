/**
 * Sweep plans, Slurm scripts, tables and chart data without training anything:
 * expansion order and names, explicit configurations, the checks on a sweep file,
 * a re-plan that changes a run's settings, `--array` ranges, the batch script, mean
 * ± std over seeds, and the Markdown/CSV writers.
 */
import assert from "node:assert/strict";
import { expandSweep, type Plan, writePlan } from "../src/sweep/plan.ts";
import { arraySpec, batchScript, shellQuote } from "../src/sweep/slurm.ts";
import {
  collectJson,
  csvTable,
  markdownTable,
  type RunRow,
  runsTable,
  sampleStd,
  seedGroups,
} from "../src/sweep/collect.ts";
import { errorAgainstAxis, errorCurves } from "../src/sweep/charts.ts";
import { UserError } from "../src/errors.ts";
import { checkConfigObject } from "../cli/train.ts";

Deno.test("sweep plan: the product of the axes in file order, last axis fastest, stable names", () => {
  const p = expandSweep("s.json", {
    base: { steps: 20, sizes: [2, 8, 1] },
    axes: { weighting: ["none", "exact", "pc"], seed: [0, 1] },
  });
  assert.deepEqual(p.axes, ["weighting", "seed"]);
  assert.deepEqual(p.runs.map((r) => r.name), [
    "weighting-none_seed-0",
    "weighting-none_seed-1",
    "weighting-exact_seed-0",
    "weighting-exact_seed-1",
    "weighting-pc_seed-0",
    "weighting-pc_seed-1",
  ]);
  assert.deepEqual(p.runs.map((r) => r.index), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(p.runs[3].settings, {
    steps: 20,
    sizes: [2, 8, 1],
    weighting: "exact",
    seed: 1,
  });
  assert.deepEqual(p.runs[3].axes, { weighting: "exact", seed: 1 });
  // Names depend on the values, not on the order of the runs in the file.
  const q = expandSweep("s.json", { axes: { weighting: ["pc", "none"], seed: [1, 0] } });
  assert.ok(q.runs.every((r) => p.runs.some((s) => s.name === r.name)));
});

Deno.test("sweep plan: explicit configs × axes; varying config keys become columns", () => {
  const p = expandSweep("s.json", {
    base: { steps: 20 },
    configs: [
      { problem: "wave", sizes: [2, 8, 1] },
      { problem: "heat1d", sizes: [2, 8, 1] },
      { name: "poisson small", problem: "poisson1d", sizes: [1, 8, 1] },
    ],
    axes: { seed: [0, 1] },
  });
  assert.deepEqual(p.axes, ["problem", "sizes", "seed"]);
  assert.equal(p.runs.length, 6);
  assert.equal(p.runs[0].name, "problem-wave_sizes-2-8-1_seed-0");
  assert.equal(p.runs[5].name, "poisson-small_seed-1");
  assert.deepEqual(p.runs[5].axes, { problem: "poisson1d", sizes: [1, 8, 1], seed: 1 });
  assert.equal(expandSweep("s.json", { base: { steps: 5 } }).runs[0].name, "base");
});

Deno.test("sweep plan: names that slug alike get a hash; long names are shortened", () => {
  const p = expandSweep("s.json", { axes: { problem: ["./a b.ts", "./a-b.ts"] } });
  assert.equal(new Set(p.runs.map((r) => r.name)).size, 2);
  assert.match(p.runs[0].name, /^problem-.-a-b.ts-[0-9a-f]{8}$/);
  const long = expandSweep("s.json", { axes: { problem: ["./" + "x".repeat(200) + ".ts"] } });
  assert.ok(long.runs[0].name.length <= 100);
});

Deno.test("sweep plan: each mistake is one UserError sentence naming the file", () => {
  const check = (where: string, s: Record<string, unknown>) => checkConfigObject(where, s);
  const cases: [unknown, RegExp][] = [
    [[], /must hold a JSON object/],
    [{ axis: {} }, /unknown key "axis"/],
    [{ axes: { seed: [] } }, /axis "seed" must be a non-empty list/],
    [{ axes: { seed: 3 } }, /axis "seed" must be a non-empty list/],
    [{ axes: { seed: [1, 1] } }, /lists a value twice/],
    [{ base: { out: "x" } }, /sets "out", which the sweep sets/],
    [{ configs: [] }, /"configs" must be a non-empty list/],
    [{ configs: [{ seed: 1 }], axes: { seed: [0] } }, /"seed" is both an axis and a config key/],
    [{ axes: { weighting: ["none", "pcc"] } }, /configuration 1, key "weighting".*did you mean pc/],
    [{ base: { stpes: 10 } }, /unknown key "stpes"; did you mean "steps"/],
    [{ axes: { lr: [-1] } }, /key "lr": --lr must be a number > 0/],
  ];
  for (const [sweep, msg] of cases) {
    assert.throws(
      () => expandSweep("bad.json", sweep as never, check),
      (e: unknown) =>
        e instanceof UserError && /^Sweep file bad\.json/.test(e.message) &&
        msg.test(e.message) && !e.message.includes("\n"),
      JSON.stringify(sweep),
    );
  }
});

Deno.test("sweep plan: a folder keeps its plan unless a run's settings change under its name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sketchpinn_plan_" });
  try {
    const a = expandSweep("s.json", { base: { steps: 20 }, axes: { seed: [0, 1] } });
    await writePlan(dir, a);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/configs/seed-1.json`)), {
      steps: 20,
      seed: 1,
    });
    // More seeds: the old runs keep their names and settings.
    await writePlan(dir, expandSweep("s.json", { base: { steps: 20 }, axes: { seed: [0, 1, 2] } }));
    const changed = expandSweep("s.json", { base: { steps: 40 }, axes: { seed: [0] } });
    await assert.rejects(() => writePlan(dir, changed), /ran "seed-0" with other settings/);
    const plan: Plan = JSON.parse(await Deno.readTextFile(`${dir}/plan.json`));
    assert.equal(plan.runs.length, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("slurm: --array ranges, quoting and the batch script", () => {
  assert.equal(arraySpec([0, 1, 2, 3, 5, 7, 8]), "0-3,5,7-8");
  assert.equal(arraySpec([4]), "4");
  assert.equal(shellQuote("a b'c"), `'a b'\\''c'`);
  assert.equal(shellQuote("/x/y-z.json"), "/x/y-z.json");
  const s = batchScript("bench/sweeps/w.json", "sweeps/w", {
    indices: [1, 2, 4],
    throttle: 2,
    time: "02:00:00",
    cpus: 4,
    gpus: 1,
    partition: "gpu",
    name: "sketchpinn-w",
  });
  const lines = s.split("\n");
  assert.equal(lines[0], "#!/bin/bash");
  for (
    const l of [
      "#SBATCH --array=1-2,4%2",
      "#SBATCH --time=02:00:00",
      "#SBATCH --cpus-per-task=4",
      "#SBATCH --gpus-per-task=1",
      "#SBATCH --partition=gpu",
      "#SBATCH --job-name=sketchpinn-w",
      `#SBATCH --output=${Deno.cwd()}/sweeps/w/logs/%A_%a.log`,
    ]
  ) assert.ok(lines.includes(l), `missing ${l} in\n${s}`);
  const exec = lines.find((l) => l.startsWith("exec "))!;
  assert.match(exec, /cli\/main\.ts sweep task \S+\/bench\/sweeps\/w\.json --out \S+\/sweeps\/w/);
  assert.match(exec, /--index "\$SLURM_ARRAY_TASK_ID"$/);
  assert.ok(
    !batchScript("w.json", "d", {
      indices: [0],
      throttle: 0,
      time: "5",
      cpus: 1,
      gpus: 0,
      name: "n",
    })
      .includes("--gpus-per-task"),
  );
});

const row = (name: string, axes: Record<string, string | number>, rel: number | null): RunRow => ({
  name,
  axes,
  status: rel === null ? "pending" : "finished",
  rel_l2: rel,
  rel_l2_outputs: null,
  wall_s: rel === null ? null : 10,
  steps: rel === null ? null : 100,
  weights: rel === null ? null : { r: 1, u: 2 * rel },
});

Deno.test("collect: mean ± sample std over seeds, per combination of the other axes", () => {
  assert.equal(sampleStd([1]), 0);
  assert.ok(Math.abs(sampleStd([1, 2, 3, 4]) - Math.sqrt(5 / 3)) < 1e-15);
  const runs = [
    row("a0", { weighting: "none", seed: 0 }, 0.5),
    row("a1", { weighting: "none", seed: 1 }, 0.7),
    row("b0", { weighting: "pc", seed: 0 }, 0.01),
    row("b1", { weighting: "pc", seed: 1 }, 0.02),
    row("b2", { weighting: "pc", seed: 2 }, null),
  ];
  const g = seedGroups(["weighting", "seed"], runs);
  assert.equal(g.length, 2);
  assert.deepEqual(g[0].axes, { weighting: "none" });
  assert.ok(Math.abs(g[0].rel_l2!.mean - 0.6) < 1e-15);
  assert.ok(Math.abs(g[0].rel_l2!.std - Math.sqrt(0.02)) < 1e-15);
  assert.deepEqual(g[1].seeds, [0, 1]);
  assert.equal(g[1].runs, 3);
  assert.ok(Math.abs(g[1].weights!.u - 0.03) < 1e-15);
  assert.deepEqual(seedGroups(["weighting"], runs), []);
  const json = collectJson({ axes: ["weighting", "seed"], runs, seeds: g }) as {
    runs: Record<string, unknown>[];
  };
  assert.deepEqual(
    Object.fromEntries(
      ["name", "weighting", "seed", "rel_l2", "wall_s", "steps"].map((k) => [k, json.runs[4][k]]),
    ),
    { name: "b2", weighting: "pc", seed: 2, rel_l2: null, wall_s: null, steps: null },
  );
});

Deno.test("collect: Markdown and CSV tables; chart data against an axis and over steps", () => {
  const runs = [
    row("a0", { weighting: "none", seed: 0 }, 0.5),
    row("a1", { weighting: "none", seed: 1 }, 0.7),
    row("b0", { weighting: "pc", seed: 0 }, 0.01),
  ];
  const t = runsTable({ axes: ["weighting", "seed"], runs, seeds: [] });
  assert.deepEqual(t[0], [
    "run",
    "weighting",
    "seed",
    "status",
    "rel. L2",
    "wall s",
    "steps",
    "λ r",
    "λ u",
  ]);
  assert.deepEqual(t[3], ["b0", "pc", "0", "finished", "0.01", "10.0", "100", "1", "0.02"]);
  const md = markdownTable(t).split("\n");
  assert.equal(md[1], "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
  assert.equal(csvTable([["a,b", 'say "x"'], ["1", "2"]]), `"a,b","say ""x"""\n1,2\n`);
  const c = errorAgainstAxis(["weighting", "seed"], runs, "weighting");
  assert.deepEqual(c.categories, ["none", "pc"]);
  assert.deepEqual(
    c.series.map((s) => [s.name, s.x, s.y]),
    [["seed 0", [0, 1], [0.5, 0.01]], ["seed 1", [0], [0.7]], [
      "mean over seeds",
      [0, 1],
      [0.6, 0.01],
    ]],
  );
  const bySeed = errorAgainstAxis(["weighting", "seed"], runs, "seed");
  assert.equal(bySeed.categories, undefined);
  assert.deepEqual(bySeed.series.map((s) => s.name), ["weighting none", "weighting pc"]);
  const curves = errorCurves([{ name: "a0", steps: [10, 20], rel_l2: [0.9, null] }]);
  assert.deepEqual(curves.series[0].y, [0.9, NaN]);
});
