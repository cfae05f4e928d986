/**
 * `sweep` on this machine, end to end through the CLI: a 2 × 2 sweep of tiny
 * trainings with two at a time, `collect --json` against each run's metrics.json,
 * the table and chart files, a second `run` that redoes nothing; kill safety (a
 * sweep killed with SIGKILL together with its trainer, a trainer that outlives its
 * sweep, a sweep stopped with SIGTERM: each rerun completes the plan without
 * redoing finished runs, and every run's log is one unbroken sequence of steps);
 * bad input as exit code 2 and one sentence.
 */
import assert from "node:assert/strict";
import { assertExitOk, CLI, denoCommand, ROOT, runDeno, SWEEP, sweep } from "./process.ts";

const dir = await Deno.makeTempDir({ prefix: "sketchpinn_sweep_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const TINY = { sizes: [2, 8, 1], n: { r: 32, u: 16, ut: 16 }, then: "none", "log-every": 10 };

async function writeSweep(name: string, sweep: unknown): Promise<string> {
  const path = `${dir}/${name}.json`;
  await Deno.writeTextFile(path, JSON.stringify(sweep));
  return path;
}

const readJson = async (path: string) => JSON.parse(await Deno.readTextFile(path));
const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

/** The steps of a run's log.jsonl. */
async function loggedSteps(run: string): Promise<number[]> {
  const text = await Deno.readTextFile(`${run}/log.jsonl`);
  return text.trim().split("\n").map((l) => JSON.parse(l).step);
}

Deno.test("sweep run: a 2 × 2 sweep two at a time; collect reads every run folder", async () => {
  const file = await writeSweep("grid", {
    base: { ...TINY, steps: 20 },
    axes: { weighting: ["none", "exact"], seed: [0, 1] },
  });
  const out = `${dir}/grid`;
  const r = assertExitOk(await sweep("run", file, "--out", out, "--jobs", "2"), "sweep run");
  assert.match(r.stdout, /^4\/4 runs finished/);
  assert.match(r.stderr, /\[4\/4\] weighting-\w+_seed-\d: finished, 20 steps/);
  const names = ["none_seed-0", "none_seed-1", "exact_seed-0", "exact_seed-1"].map((n) =>
    `weighting-${n}`
  );
  const plan = await readJson(`${out}/plan.json`);
  assert.deepEqual(plan.runs.map((x: { name: string }) => x.name), names);

  const c = assertExitOk(await sweep("collect", out, "--json"), "sweep collect");
  const runs = JSON.parse(c.stdout).runs;
  assert.equal(runs.length, 4);
  for (const [i, row] of runs.entries()) {
    const m = await readJson(`${out}/runs/${names[i]}/metrics.json`);
    assert.equal(row.name, names[i]);
    assert.equal(row.weighting, i < 2 ? "none" : "exact");
    assert.equal(row.seed, i % 2);
    assert.equal(row.rel_l2, m.rel_l2);
    assert.equal(row.wall_s, m.wall_s);
    assert.equal(row.steps, 20);
    assert.deepEqual(row.weights, m.weights);
    assert.ok(Number.isFinite(row.rel_l2) && row.rel_l2 > 0);
  }
  // Exact weights move λ_u above 1; without weights every λ stays 1.
  assert.deepEqual(runs[0].weights, { r: 1, u: 1, ut: 1 });
  assert.ok(runs[2].weights.u > 1);
  const md = await Deno.readTextFile(`${out}/results.md`);
  assert.match(md, /\| weighting \| seeds \| rel\. L2 mean ± std \|/);
  assert.match(md, /\| exact \| 0, 1 \| [\d.e+-]+ ± [\d.e+-]+ \|/);
  const csv = (await Deno.readTextFile(`${out}/results.csv`)).trim().split("\n");
  assert.equal(csv.length, 5);
  assert.equal(csv[1].split(",")[4], String(runs[0].rel_l2));
  for (const png of ["error_vs_weighting.png", "error_vs_seed.png", "error_curves.png"]) {
    assert.ok((await Deno.stat(`${out}/${png}`)).size > 1000, png);
  }

  // Everything finished: a second run trains nothing and leaves the folders as they were.
  const before = await Deno.stat(`${out}/runs/${names[0]}/metrics.json`);
  const again = assertExitOk(await sweep("run", file, "--out", out), "sweep run again");
  assert.match(again.stderr, /4 runs, 4 finished before, 0 to run/);
  assert.equal(
    (await Deno.stat(`${out}/runs/${names[0]}/metrics.json`)).mtime?.getTime(),
    before.mtime?.getTime(),
  );
  // A trainer killed after metrics.json but before report.md (the pictures come in
  // between) left an unfinished run: it is resumed at its last step, which redraws them.
  await Deno.remove(`${out}/runs/${names[3]}/report.md`);
  const third = assertExitOk(await sweep("run", file, "--out", out), "sweep run a third time");
  assert.match(third.stderr, /4 runs, 3 finished before, 1 to run/);
  assert.match(third.stderr, /weighting-exact_seed-1: resuming from step 20\n/);
  assert.ok(await exists(`${out}/runs/${names[3]}/report.md`));
  const st = JSON.parse(
    assertExitOk(await sweep("status", file, "--out", out, "--json"), "status").stdout,
  );
  assert.deepEqual(st.counts, { finished: 4 });
});

/** Polls `ok` every 50 ms for up to `seconds`. */
async function until(what: string, ok: () => Promise<boolean>, seconds = 60): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!await ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `sweep run` as a child whose output is read at the end. */
function startSweep(file: string, out: string) {
  const child = denoCommand([...SWEEP, "run", file, "--out", out, "--jobs", "1"]).spawn();
  const output = child.output().then((o) => ({
    code: o.code,
    stdout: new TextDecoder().decode(o.stdout),
    stderr: new TextDecoder().decode(o.stderr),
  }));
  return { pid: child.pid, output };
}

Deno.test("sweep run: killed at any point, a rerun completes the plan without redoing runs", async () => {
  const file = await writeSweep("kill", {
    base: { ...TINY, steps: 200, "checkpoint-every": 20 },
    axes: { seed: [0, 1, 2] },
  });
  const out = `${dir}/kill`;
  const run = (i: number) => `${out}/runs/seed-${i}`;
  const trainerPid = async (i: number) => (await readJson(`${run(i)}/sweep.lock`)).pid as number;

  // 1. Kill -9 the sweep once seed 0 finished and seed 1 wrote a checkpoint; its
  //    trainer lives on (an orphan), frozen so the next sweep surely meets it.
  const first = startSweep(file, out);
  await until(
    "seed 1's first checkpoint",
    async () => await exists(`${run(0)}/metrics.json`) && await exists(`${run(1)}/model.json`),
  );
  Deno.kill(first.pid, "SIGKILL");
  assert.equal((await first.output).code, 137);
  const orphan = await trainerPid(1);
  Deno.kill(orphan, "SIGSTOP");
  const seed0 = await Deno.readTextFile(`${run(0)}/metrics.json`);
  const seed0Time = (await Deno.stat(`${run(0)}/metrics.json`)).mtime?.getTime();

  // 2. The next sweep leaves seed 1 to its live trainer and starts seed 2; then the
  //    orphan is killed -9 and this sweep stopped with SIGTERM mid-run.
  const second = startSweep(file, out);
  try {
    await until("seed 2's first checkpoint", () => exists(`${run(2)}/model.json`));
  } finally {
    // Also when the wait fails: no frozen trainer may stay behind.
    Deno.kill(orphan, "SIGKILL");
  }
  Deno.kill(second.pid, "SIGTERM");
  const r2 = await second.output;
  assert.equal(r2.code, 130, r2.stderr);
  assert.match(r2.stderr, new RegExp(`seed-1: left alone, process ${orphan} is training it`));
  assert.match(r2.stderr, /seed-2: interrupted; its checkpoint is kept/);
  assert.ok(!await exists(`${run(2)}/sweep.lock`), "SIGTERM releases the lock");
  // `train` writes metrics.json when interrupted too, with the steps done so far.
  const partial = await readJson(`${run(2)}/metrics.json`).catch(() => ({ steps: 0 }));
  assert.ok(partial.steps < 200, `seed 2 stopped at step ${partial.steps}`);
  const st = JSON.parse(assertExitOk(await sweep("status", out, "--json"), "status").stdout);
  assert.deepEqual(st.runs.map((x: { state: string }) => x.state), [
    "finished",
    "interrupted",
    "interrupted",
  ]);

  // A trainer killed in the middle of a log line leaves it torn; the resume drops it.
  await Deno.writeTextFile(`${run(1)}/log.jsonl`, '{"step": 19', { append: true });

  // 3. The rerun resumes seeds 1 and 2 from their checkpoints and leaves seed 0 alone.
  const r3 = await startSweep(file, out).output;
  assert.equal(r3.code, 0, r3.stderr);
  assert.match(r3.stderr, /3 runs, 1 finished before, 2 to run/);
  assert.match(r3.stderr, /seed-1: resuming from step [1-9]\d*/);
  assert.match(r3.stderr, /seed-2: resuming from step [1-9]\d*/);
  assert.doesNotMatch(r3.stderr, /seed-0: /);
  assert.equal(await Deno.readTextFile(`${run(0)}/metrics.json`), seed0);
  assert.equal((await Deno.stat(`${run(0)}/metrics.json`)).mtime?.getTime(), seed0Time);
  const want = Array.from({ length: 20 }, (_, i) => 10 * (i + 1));
  for (const i of [0, 1, 2]) {
    assert.deepEqual(await loggedSteps(run(i)), want, `seed ${i}'s log`);
    assert.equal((await readJson(`${run(i)}/metrics.json`)).steps, 200);
    assert.equal((await readJson(`${run(i)}/model.json`)).state.step, 200);
    assert.ok(!await exists(`${run(i)}/sweep.lock`));
  }
});

Deno.test("sweep: bad input ends in exit code 2 and one sentence", async () => {
  const badKey = await writeSweep("bad_key", { base: { stpes: 10 }, axes: { seed: [0] } });
  const badValue = await writeSweep("bad_value", { axes: { weighting: ["exact", "ntk"] } });
  const cases: [string[], RegExp][] = [
    [["run"], /Give the sweep file/],
    [["run", `${dir}/missing.json`], /Cannot read sweep file .*missing\.json/],
    [["run", badKey, "--out", `${dir}/bad`], /unknown key "stpes"; did you mean "steps"/],
    [["slurm", badValue, "--out", `${dir}/bad`], /configuration 1, key "weighting"/],
    [["run", badKey, "--jobs", "0"], /--jobs must be a whole number ≥ 1/],
    [["run", badKey, "--throttle", "2"], /`sweep run` does not take --throttle/],
    [["slurm", badKey, "--time", "soon"], /--time must be Slurm time such as 90/],
    [["slurm", badKey, "--partition", "a;b"], /--partition must be a plain name/],
    [["task", badKey, "--index", "x"], /--index must be a whole number/],
    [["collect", dir], /holds no readable plan\.json/],
    [["launch"], /Unknown sweep command "launch"/],
  ];
  for (const [args, msg] of cases) {
    const r = await sweep(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], msg);
  }
  assert.ok(!await exists(`${ROOT}/sweeps/bad_key`), "a rejected sweep writes no folder");
  const noRun = await runDeno([...CLI, "sweep", "run", badKey]);
  assert.equal(noRun.code, 2, noRun.stderr);
  assert.match(noRun.stderr.trim(), /^error: `sweep run` starts trainings .* with --allow-run/);
});
