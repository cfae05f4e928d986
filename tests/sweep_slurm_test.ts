/**
 * `sweep slurm` against a real Slurm: src/sweep/cluster.ts starts a one-node cluster
 * from Debian's packages (installing them where missing, as root), a 3 × 3 sweep of
 * tiny trainings is submitted as a job array, cancelled with `scancel` part way,
 * re-submitted (the new array holds exactly the unfinished runs and leaves the
 * finished ones untouched), waited for and collected; then the cluster is stopped.
 * Where Slurm cannot be started the test fails with the reason: it never skips.
 */
import assert from "node:assert/strict";
import { startCluster, stopCluster } from "../src/sweep/cluster.ts";
import { assertExitOk, sweep } from "./process.ts";

async function slurm(cmd: string, ...args: string[]): Promise<string> {
  const r = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  const dec = new TextDecoder();
  assert.equal(r.code, 0, `${cmd} ${args.join(" ")}: ${dec.decode(r.stderr)}`);
  return dec.decode(r.stdout).trim();
}

/** Waits until the job left the queue (squeue every 0.3 s: faster than `sbatch --wait`). */
async function waitForJob(job: string, seconds: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (await slurm("squeue", "-h", "-j", job) !== "") {
    if (Date.now() > end) throw new Error(`job ${job} still queued after ${seconds} s`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const finished = async (out: string, names: string[]) => {
  const done: string[] = [];
  for (const n of names) {
    // As the sweep counts it: all steps in metrics.json, and report.md written after it.
    const m = await Deno.readTextFile(`${out}/runs/${n}/metrics.json`).catch(() => "");
    const report = await Deno.stat(`${out}/runs/${n}/report.md`).then(() => true, () => false);
    if (m && JSON.parse(m).steps === 20 && report) done.push(n);
  }
  return done;
};

Deno.test({
  name: "sweep slurm: a 3 × 3 job array on a one-node cluster, cancelled, re-submitted, collected",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sketchpinn_slurm_" });
    // munged serves its socket only from folders that everyone may enter.
    await Deno.chmod(dir, 0o755);
    const t0 = performance.now();
    try {
      const cluster = await startCluster(`${dir}/cluster`, { log: (s) => console.error(s) });
      console.error(`cluster up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      Deno.env.set("SLURM_CONF", cluster.conf);
      const file = `${dir}/grid.json`;
      await Deno.writeTextFile(
        file,
        JSON.stringify({
          base: {
            sizes: [2, 8, 1],
            n: { r: 32, u: 16, ut: 16 },
            then: "none",
            steps: 20,
            "log-every": 10,
          },
          axes: { weighting: ["none", "exact", "pc"], seed: [0, 1, 2] },
        }),
      );
      const out = `${dir}/grid`;
      const first = JSON.parse(
        assertExitOk(
          await sweep("slurm", file, "--out", out, "--submit", "--throttle", "2", "--json"),
          "sweep slurm --submit",
        ).stdout,
      );
      assert.match(first.job, /^\d+$/);
      assert.deepEqual(first.indices, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
      const script = await Deno.readTextFile(first.script);
      assert.match(script, /^#SBATCH --array=0-8%2$/m);
      const plan = JSON.parse(await Deno.readTextFile(`${out}/plan.json`));
      const names: string[] = plan.runs.map((r: { name: string }) => r.name);

      // Cancel the array once two runs finished: the tasks then running are killed.
      const end = Date.now() + 90_000;
      while ((await finished(out, names)).length < 2) {
        if (Date.now() > end) throw new Error("no two runs finished within 90 s");
        await new Promise((r) => setTimeout(r, 200));
      }
      await slurm("scancel", first.job);
      await waitForJob(first.job, 30);
      const done = await finished(out, names);
      assert.ok(done.length < 9, "the array ended before scancel; nothing left to resume");
      const mtimes = new Map<string, number | undefined>();
      for (const n of done) {
        mtimes.set(n, (await Deno.stat(`${out}/runs/${n}/metrics.json`)).mtime?.getTime());
      }
      const st = JSON.parse(assertExitOk(await sweep("status", out, "--json"), "status").stdout);
      assert.equal(st.job, first.job);
      assert.equal(st.counts.finished, done.length);

      // Re-submitted: only the unfinished runs, all at once.
      const second = JSON.parse(
        assertExitOk(await sweep("slurm", file, "--out", out, "--submit", "--json"), "resubmit")
          .stdout,
      );
      const todo = names.flatMap((n, i) => done.includes(n) ? [] : [i]);
      assert.deepEqual(second.indices, todo);
      await waitForJob(second.job, 120);

      const c = JSON.parse(assertExitOk(await sweep("collect", out, "--json"), "collect").stdout);
      assert.equal(c.runs.length, 9);
      for (const r of c.runs) {
        assert.equal(r.status, "finished", `${r.name}: ${r.status}`);
        assert.equal(r.steps, 20);
        assert.ok(Number.isFinite(r.rel_l2) && r.rel_l2 > 0, `${r.name}: rel_l2 ${r.rel_l2}`);
      }
      assert.deepEqual(c.seeds.map((g: { axes: unknown }) => g.axes), [
        { weighting: "none" },
        { weighting: "exact" },
        { weighting: "pc" },
      ]);
      for (const [n, t] of mtimes) {
        const now = (await Deno.stat(`${out}/runs/${n}/metrics.json`)).mtime?.getTime();
        assert.equal(now, t, `${n} was trained again`);
      }
      for (const i of todo) {
        const log = await Deno.readTextFile(`${out}/logs/${second.job}_${i}.log`);
        assert.match(log, new RegExp(`sweep task ${i}: ${names[i]}`));
      }
      assert.ok((await Deno.stat(`${out}/error_vs_weighting.png`)).size > 1000);
      const again = assertExitOk(await sweep("slurm", file, "--out", out, "--submit"), "again");
      assert.match(again.stdout, /all 9 runs finished; nothing to submit/);
    } finally {
      Deno.env.delete("SLURM_CONF");
      await stopCluster(`${dir}/cluster`);
      await Deno.remove(dir, { recursive: true });
      console.error(`cluster test: ${((performance.now() - t0) / 1000).toFixed(1)} s in all`);
    }
  },
});
