/**
 * Resources are checked before anything is built (src/resources.ts, src/limits.ts):
 * - the estimate equals, byte for byte, what plans and trainers allocate (so the
 *   check cannot drift from the allocation it guards);
 * - the largest value a message offers fits, and one more does not;
 * - sizes far beyond the machine end in exit code 2 and one sentence naming the
 *   input, the limit and the largest value that fits, quickly and before any
 *   point is sampled.
 */
import assert from "node:assert/strict";
import { Engine } from "../src/engine.ts";
import { Plan } from "../src/plan.ts";
import { getProblem } from "../src/problems/mod.ts";
import type { Problem } from "../src/problems/problem.ts";
import { DEFAULT_CONFIG, planDirections, type TrainConfig } from "../src/train_config.ts";
import { Trainer } from "../src/trainer.ts";
import { resolveCounts } from "../src/points.ts";
import { estimateDemand, estimatePlan, planShape } from "../src/resources.ts";
import {
  checkDemand,
  checkResources,
  engineLimits,
  excess,
  type ResourceLimits,
} from "../src/limits.ts";
import { UserError } from "../src/errors.ts";
import { CLI, runDeno } from "./process.ts";
import { cube3, sys2, sys3x4 } from "./gpu_helpers.ts";

const wave = getProblem("wave");

Deno.test("the estimate equals the buffers a plan allocates", async (t) => {
  interface Case {
    problem: Problem;
    sizes: number[];
    counts: Record<string, number>;
    directions?: number;
    tangents?: boolean;
  }
  const cases: Case[] = [
    { problem: wave, sizes: [2, 16, 16, 1], counts: { r: 100, u: 30, ut: 17 } },
    { problem: wave, sizes: [2, 32, 1], counts: { r: 64, u: 16, ut: 16 }, directions: 4 },
    {
      problem: wave,
      sizes: [2, 24, 24, 1],
      counts: { r: 50, u: 20, ut: 20 },
      directions: 3,
      tangents: true,
    },
    { problem: getProblem("poisson1d"), sizes: [1, 8, 1], counts: { r: 33, u: 2 } },
    { problem: cube3, sizes: [3, 8, 8, 1], counts: { r: 20, s: 9, b: 5 }, directions: 1 },
    // Several outputs: the output layer has m rows.
    {
      problem: sys2,
      sizes: [2, 8, 8, 2],
      counts: { a: 20, b: 13, c: 8, d: 5 },
      directions: 2,
      tangents: true,
    },
    { problem: sys3x4, sizes: [4, 8, 3], counts: { m: 9, n: 9, div: 7, bp: 4 }, directions: 1 },
    {
      problem: getProblem("kovasznay"),
      sizes: [2, 12, 12, 3],
      counts: { mx: 30, my: 30, div: 30, bu: 12, bv: 12, bp: 6 },
    },
  ];
  for (const c of cases) {
    await t.step(`${c.problem.name} [${c.sizes}] k=${c.directions ?? 0}`, async () => {
      using engine = await Engine.create();
      await using plan = await Plan.create(engine, { ...c, activation: "tanh" });
      plan.resetAverage();
      await plan.causalSeq({ group: c.problem.groups[0].name, timeIndex: 0, chunks: 4, eps: 1 });
      const est = estimatePlan(
        planShape(c.problem, c.sizes, c.counts, {
          directions: c.directions,
          tangents: c.tangents,
          sliceVec4: engine.tuning.slice,
          maxBinding: engine.maxBinding,
          average: true,
          causal: true,
        }),
      );
      assert.equal(engine.pool.stats.created, est.buffers.length, "buffer count");
      assert.equal(engine.pool.stats.liveBytes, est.gpuBytes, "bytes");
    });
  }
});

Deno.test("the training demand equals what a trainer allocates, with its grid plan", async (t) => {
  const cases: { problem: Problem; sizes: number[]; n: Record<string, number> }[] = [
    { problem: wave, sizes: [2, 16, 16, 1], n: { r: 80, u: 24, ut: 24 } },
    // Several outputs: the grid plan's output layer has m rows too.
    { problem: sys2, sizes: [2, 8, 8, 2], n: { a: 24, b: 16, c: 8, d: 8 } },
  ];
  for (const c of cases) {
    await t.step(c.problem.name, async () => {
      using engine = await Engine.create();
      const config: TrainConfig = {
        ...structuredClone(DEFAULT_CONFIG),
        sizes: c.sizes,
        steps: 10,
        lr: 1e-3,
        decaySteps: 1000,
        n: c.n,
        weighting: "jvp",
        k: 2,
        average: 0.9,
      };
      const counts = resolveCounts(c.problem, config.n);
      const demand = {
        problem: c.problem,
        sizes: config.sizes,
        counts,
        options: {
          directions: planDirections(config),
          tangents: true,
          sliceVec4: engine.tuning.slice,
          maxBinding: engine.maxBinding,
          average: true,
        },
        grid: c.problem.grid.reduce((a, n) => a * n, 1),
      };
      const trainer = await Trainer.create(engine, { ...config, problem: c.problem });
      try {
        await trainer.relL2(); // builds the evaluation-grid plan
        assert.equal(engine.pool.stats.liveBytes, estimateDemand(demand).gpuBytes);
      } finally {
        await trainer.dispose();
      }
    });
  }
});

/** Limits of a made-up adapter: a 1 MiB binding and a 4 MiB budget. */
const SMALL: ResourceLimits = {
  maxBinding: 2 ** 20,
  maxBuffer: 2 ** 30,
  storagePerStage: 16,
  budget: 4 * 2 ** 20,
  budgetFrom: "the 4 MiB test budget",
};

/** Runs `f`, which must throw a UserError; returns it. */
function userError(f: () => void): UserError {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  assert.fail("no UserError thrown");
}

Deno.test("the largest value a message offers fits, and one more does not", () => {
  for (
    const [counts, sizes, limit] of [
      [{ r: 10 ** 12, u: 10, ut: 10 }, [2, 64, 64, 1], "binding"],
      [{ r: 300, u: 10, ut: 10 }, [2, 64, 64, 64, 64, 64, 64, 64, 64, 1], "budget"],
      [{ r: 10, u: 10, ut: 10 }, [2, 512, 512, 512, 1], "binding"],
    ] as const
  ) {
    const d = { problem: wave, sizes, counts };
    const e = userError(() => checkDemand(d, SMALL));
    const m = e.message.match(/the most that fits is (--n r=(\d+),u=10,ut=10|--sizes ([\d,]+))\.$/);
    assert.ok(m, e.message);
    const what = limit === "binding" ? "1.0 MiB binding limit" : "4 MiB test budget";
    assert.ok(e.message.includes(what), e.message);
    if (m[2]) {
      assert.equal(e.input, "--n");
      const r = Number(m[2]);
      assert.equal(excess(estimateDemand(d, sizes, { ...counts, r }), SMALL), null);
      assert.notEqual(excess(estimateDemand(d, sizes, { ...counts, r: r + 1 }), SMALL), null);
    } else {
      assert.equal(e.input, "--sizes");
      const w = Number(m[3].split(",")[1]);
      const at = (w: number) => [2, ...sizes.slice(1, -1).map(() => w), 1];
      assert.equal(excess(estimateDemand(d, at(w), counts), SMALL), null);
      assert.notEqual(excess(estimateDemand(d, at(w + 1), counts), SMALL), null);
    }
  }
  // An adapter with fewer storage buffers per stage than the kernels bind.
  const e = userError(() => checkResources({ ...SMALL, storagePerStage: 4 }, []));
  assert.match(e.message, /storage buffers per shader stage/);
});

Deno.test("Plan.create refuses a plan beyond the engine's limits before building it", async () => {
  using engine = await Engine.create();
  engine.maxMemory = 2 ** 20;
  const before = engine.pool.stats.created;
  const e = await Plan.create(engine, {
    problem: wave,
    sizes: [2, 64, 1],
    activation: "tanh",
    counts: { r: 10 ** 9, u: 10, ut: 10 },
  }).then(() => null, (e) => e);
  assert.ok(e instanceof UserError, String(e));
  assert.match(e.message, /^counts \{"r":1000000000,.*the most that fits is counts \{"r":\d+,/);
  assert.equal(engine.pool.stats.created, before, "nothing allocated");
  assert.ok(Number.isFinite(engineLimits(engine).budget));
});

/** Asserts exit code 2 and one `error:` line that matches `re`, within `seconds`. */
async function refused(args: string[], re: RegExp, seconds = 30): Promise<void> {
  const t0 = performance.now();
  const r = await runDeno([...CLI, ...args]);
  const s = (performance.now() - t0) / 1000;
  const ctx = `${args.join(" ")}\nstderr:\n${r.stderr}`;
  assert.equal(r.code, 2, ctx);
  assert.ok(!r.stderr.includes("    at "), ctx);
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
  assert.equal(errors.length, 1, ctx);
  assert.match(errors[0], re, ctx);
  assert.ok(s < seconds, `took ${s.toFixed(1)} s: ${ctx}`);
}

Deno.test("sizes beyond the machine end in exit code 2 and one sentence", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "sketchpinn_res_" });
  try {
    const out = ["--steps", "1", "--out", `${dir}/run`];
    await t.step("train --n r=1000000000000", () =>
      refused(
        ["train", "--n", "r=1000000000000,u=10,ut=10", ...out],
        /^error: --n r=1000000000000,u=10,ut=10 needs one GPU buffer of .* over this adapter's .* binding limit; the most that fits is --n r=\d+,u=10,ut=10\.$/,
      ));
    await t.step(
      "train --k 1000000000",
      () =>
        refused(["train", "--k", "1000000000", ...out], /--k 1000000000 .*use --k 4096 or fewer/),
    );
    await t.step("train --max-memory 16MiB", () =>
      refused(
        ["train", "--max-memory", "16MiB", ...out],
        /over the 16\.0 MiB memory budget \(--max-memory\); the most that fits is --/,
      ));
    await t.step("bench --sizes with a huge width", () =>
      refused(
        ["bench", "--suite", "step", "--sizes", "2,512,512,1", "--n", "r=100000,u=64,ut=64"],
        /^error: --n r=100000,u=64,ut=64 needs .* binding limit; the most that fits is --n r=\d+,u=64,ut=64\.$/,
      ));
    const m = `${dir}/m.json`, p = `${dir}/p.json`;
    await runDeno([...CLI, "init", "--problem", "wave", "--sizes", "2,8,1", "--out", m]);
    await runDeno([...CLI, "points", "--problem", "wave", "--n", "r=5000,u=8,ut=8", "--out", p]);
    await t.step("ntk --full with too many rows", () =>
      refused(
        ["ntk", "--model", m, "--points", p, "--full", `${dir}/s.json`],
        /full NTK is limited to 4096 rows/,
      ));
    await t.step("eval of a points file beyond --max-memory", () =>
      refused(
        ["eval", "--model", m, "--points", p, "--max-memory", "1MiB"],
        /points file .*p\.json with r=5000, u=8, ut=8 needs .* the most that fits is points file .* with r=\d+, u=8, ut=8\./,
      ));
    await t.step(
      "--max-memory 5x",
      () =>
        refused(["eval", "--model", m, "--points", p, "--max-memory", "5x"], /--max-memory must/),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
