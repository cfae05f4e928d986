/**
 * Clean exit: every GPU command destroys its device and ends its timers and
 * signal handlers before it returns, so no process aborts at exit.
 *
 * - As processes: train (a few steps), eval, ntk and bench (a tiny suite) each run
 *   20 times in a row and must exit 0 every time, with no crash message on stderr
 *   (an abort at exit, `free(): invalid pointer`, would be exit code 134).
 * - In this process, under Deno's op and resource sanitizers: each command leaves
 *   no timer, signal listener or resource behind.
 */
import assert from "node:assert/strict";
import { main } from "../cli/main.ts";
import { Engine } from "../src/engine.ts";
import { saveModel, xavierInit } from "../src/model.ts";
import { samplePoints } from "../src/points.ts";
import { getProblem } from "../src/problems/mod.ts";
import { DEFAULT_TUNING, saveTuning } from "../src/tuning.ts";
import { CLI, ROOT, tinyWaveFlags } from "./process.ts";

const RUNS = 20;

/** What a process that crashed at or before exit leaves on stderr. */
const CRASH =
  /free\(\)|invalid pointer|double free|corrupted|Segmentation fault|core dumped|Aborted|panicked|SIGSEGV|SIGABRT|Uncaught|^\s+at /m;

const dir = await Deno.makeTempDir({ prefix: "sketchpinn_exit_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const model = `${dir}/m.json`, points = `${dir}/p.json`;
await saveModel(model, {
  problem: "wave",
  sizes: [2, 8, 1],
  activation: "tanh",
  params: xavierInit([2, 8, 1], 0),
});
await Deno.writeTextFile(
  points,
  JSON.stringify(samplePoints(getProblem("wave"), { r: 16, u: 8, ut: 8 }, 0)),
);
// A cached tuning, so `bench` times its suite instead of searching tile shapes.
{
  const cache = `${dir}/cache`;
  const before = Deno.env.get("SKETCHPINN_CACHE");
  Deno.env.set("SKETCHPINN_CACHE", cache);
  const engine = await Engine.create();
  await saveTuning(engine.adapter, DEFAULT_TUNING, []);
  engine.dispose();
  if (before === undefined) Deno.env.delete("SKETCHPINN_CACHE");
  else Deno.env.set("SKETCHPINN_CACHE", before);
}

const TINY = ["--sizes", "2,8,1", "--n", "r=32,u=16,ut=16"];
const COMMANDS: Record<string, (i: number) => string[]> = {
  train: (i) => [
    "train",
    ...tinyWaveFlags(),
    "--steps",
    "2",
    "--log-every",
    "2",
    "--out",
    `${dir}/t${i}`,
  ],
  eval: () => ["eval", "--model", model, "--points", points],
  ntk: () => ["ntk", "--model", model, "--points", points, "--method", "exact"],
  bench: () => ["bench", "--suite", "step", ...TINY, "--repeats", "1", "--quick"],
};

Deno.test(`every GPU command exits 0, ${RUNS} times in a row, with no crash at exit`, async () => {
  const env = { NO_COLOR: "1", SKETCHPINN_CACHE: `${dir}/cache` };
  // The commands' sequences run side by side; each command's runs follow each other.
  await Promise.all(
    Object.entries(COMMANDS).map(async ([name, args]) => {
      for (let i = 0; i < RUNS; i++) {
        const o = await new Deno.Command(Deno.execPath(), {
          args: [...CLI, ...args(i)],
          cwd: ROOT,
          env,
          stdin: "null",
          stdout: "null",
          stderr: "piped",
          signal: AbortSignal.timeout(120_000),
        }).output();
        const err = new TextDecoder().decode(o.stderr);
        assert.equal(o.code, 0, `${name}, run ${i + 1}: exit code ${o.code}\n${err}`);
        assert.doesNotMatch(err, CRASH, `${name}, run ${i + 1}: crash message\n${err}`);
      }
    }),
  );
});

/** Runs `main` with its console output dropped; returns the exit code. */
async function quietly(args: string[]): Promise<number> {
  const { error, log } = console;
  console.error = console.log = () => {};
  try {
    return await main(args);
  } finally {
    console.error = error;
    console.log = log;
  }
}

for (const [name, args] of Object.entries(COMMANDS)) {
  Deno.test({
    name: `${name} leaves no timer, signal listener or resource behind`,
    sanitizeOps: true,
    sanitizeResources: true,
    fn: async () => {
      const before = Deno.env.get("SKETCHPINN_CACHE");
      Deno.env.set("SKETCHPINN_CACHE", `${dir}/cache`);
      try {
        assert.equal(await quietly(args(RUNS)), 0);
      } finally {
        if (before === undefined) Deno.env.delete("SKETCHPINN_CACHE");
        else Deno.env.set("SKETCHPINN_CACHE", before);
      }
    },
  });
}
