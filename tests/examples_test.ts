/**
 * The examples in examples/, each run as a child process the way the README
 * shows (tiny settings so the file takes seconds on a software adapter), and a
 * custom problem module used through the CLI: `train --problem
 * ./examples/my_pde.ts` writing a run folder that `--resume` continues, `init` and
 * `points` for it, and `eval` / `ntk` on a model file whose "problem" is the path.
 */
import assert from "node:assert/strict";
import { saveModel, xavierInit } from "../src/model.ts";
import { relative } from "node:path";
import { assertExitOk, ROOT, type Run, runDeno } from "./process.ts";

const PERMS = ["--allow-read", "--allow-write", "--allow-env"];

/** Runs `deno run PERMS …args` from the repository root. */
const deno = (...args: string[]): Promise<Run> => runDeno(["run", ...PERMS, ...args]);

/** Runs and asserts exit code 0, showing stderr otherwise. */
const ok = async (...args: string[]): Promise<Run> =>
  assertExitOk(await deno(...args), args.join(" "));

const dir = await Deno.makeTempDir({ prefix: "sketchpinn_examples_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

Deno.test("examples/train_wave.ts trains wave and reports the error", async () => {
  const r = await ok(
    "examples/train_wave.ts",
    "--steps",
    "10",
    "--width",
    "8",
    "--out",
    `${dir}/w`,
  );
  assert.match(r.stdout, /^relative L2 error \d\.\d+e[+-]\d+ after 10 steps\n$/);
  assert.match(r.stderr, /step 10: loss /);
  const metrics = JSON.parse(await Deno.readTextFile(`${dir}/w/metrics.json`));
  assert.equal(metrics.problem, "wave");
  assert.equal(metrics.steps, 10);
});

Deno.test("examples/burgers.ts trains Burgers against the Cole–Hopf solution", async () => {
  const r = await ok("examples/burgers.ts", "--steps", "4", "--width", "8", "--points", "64");
  const m = r.stdout.match(/relative L2 error vs Cole–Hopf (\S+) after 4 steps/);
  assert.ok(m, r.stdout);
  assert.ok(Number.isFinite(Number(m[1])));
  assert.match(r.stderr, /step 4: loss r=\S+ ic=\S+ bc=\S+ \| λ r=/);
});

Deno.test("examples/burgers.ts: the Cole–Hopf quadrature solves Burgers' equation", async () => {
  const { burgersExact, problem } = await import("../examples/burgers.ts");
  const nu = 0.01 / Math.PI, h = 1e-4;
  const u = (t: number, x: number) => burgersExact([t, x]);
  for (const [t, x] of [[0.3, 0.4], [0.7, -0.2], [0.9, 0.05], [0.2, 0.9]]) {
    const ut = (u(t + h, x) - u(t - h, x)) / (2 * h);
    const ux = (u(t, x + h) - u(t, x - h)) / (2 * h);
    const uxx = (u(t, x + h) - 2 * u(t, x) + u(t, x - h)) / (h * h);
    assert.ok(Math.abs(ut + u(t, x) * ux - nu * uxx) < 1e-5, `residual at (${t}, ${x})`);
  }
  assert.ok(Math.abs(u(0.5, 1)) < 1e-12 && Math.abs(u(0.5, -1)) < 1e-12, "u(t, ±1) = 0");
  // The classic benchmark: the steepest slope at x = 0 is 152.00516 near t = 0.5105.
  const slope = Math.abs((u(0.5105, 1e-5) - u(0.5105, -1e-5)) / 2e-5);
  assert.ok(Math.abs(slope - 152.005) < 0.01, `max slope ${slope}`);
  assert.equal(problem.name, "burgers");
});

Deno.test("examples/ntk_weights.ts prints traces and weights by every estimator", async () => {
  const model = `${dir}/ntk_model.json`;
  const sizes = [2, 8, 8, 1];
  await saveModel(model, {
    problem: "wave",
    sizes,
    activation: "tanh",
    params: xavierInit(sizes, 1),
  });
  const r = await ok("examples/ntk_weights.ts", model, "--n", "r=64,u=32,ut=32", "--k", "4");
  for (const method of ["exact", "jvp", "pc", "hutch"]) {
    assert.match(r.stdout, new RegExp(`^${method} .*r: Tr K \\S+ λ \\S+ \\| u: .*ut: `, "m"));
  }
  const usage = await deno("examples/ntk_weights.ts");
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /usage: ntk_weights.ts MODEL.json/);
});

Deno.test("examples/bench_tiny.ts times steps under each weighting", async () => {
  const r = await ok("examples/bench_tiny.ts", "--width", "8", "--points", "64", "--repeats", "1");
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 6, r.stdout);
  for (const name of ["step fixed", "step exact", "step pc k=1", "step jvp k=8"]) {
    assert.ok(
      lines.some((l) => l.startsWith(name) && / ms .* GFLOP\/s .* Mpoints\/s$/.test(l)),
      `${name} in\n${r.stdout}`,
    );
  }
});

const SMALL = ["--sizes", "2,8,1", "--n", "r=32,ic=16,bc=16"];

Deno.test("CLI: train --problem ./examples/my_pde.ts, then --resume", async () => {
  const out = `${dir}/my_pde`;
  const r = await ok(
    "cli/main.ts",
    "train",
    "--problem",
    "./examples/my_pde.ts",
    ...SMALL,
    "--steps",
    "4",
    "--log-every",
    "2",
    "--weighting",
    "exact",
    "--out",
    out,
    "--json",
    "--quiet",
  );
  const metrics = JSON.parse(r.stdout);
  // Stored relative to the run folder, so the folder's files find the module from anywhere.
  const stored = relative(out, `${ROOT}/examples/my_pde.ts`);
  assert.equal(metrics.problem, stored);
  assert.equal(metrics.steps, 4);
  assert.deepEqual(Object.keys(metrics.loss), ["r", "ic", "bc"]);
  assert.ok(Number.isFinite(metrics.rel_l2));
  const config = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
  assert.equal(config.problem, stored);
  const model = JSON.parse(await Deno.readTextFile(`${out}/model.json`));
  assert.equal(model.problem, stored);
  const resumed = await ok("cli/main.ts", "train", "--resume", out, "--steps", "6", "--json");
  assert.equal(JSON.parse(resumed.stdout).steps, 6);
});

Deno.test("CLI: a problem's training defaults apply unless a flag overrides them", async () => {
  const module = `${dir}/with_defaults.ts`;
  await Deno.writeTextFile(
    module,
    `import base from "${new URL("../examples/my_pde.ts", import.meta.url).href}";\n` +
      `export default { ...base, train: { steps: 3, lr: 0.02, decaySteps: 7, init: "centered", average: 0.5 } };\n`,
  );
  const run = async (out: string, ...extra: string[]) => {
    const r = await ok(
      "cli/main.ts",
      "train",
      "--problem",
      module,
      ...SMALL,
      "--out",
      out,
      "--json",
      "--quiet",
      ...extra,
    );
    const config = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
    return {
      steps: JSON.parse(r.stdout).steps,
      lr: config.lr,
      decaySteps: config.decaySteps,
      init: config.init,
      average: config.average,
    };
  };
  assert.deepEqual(await run(`${dir}/defaults`), {
    steps: 3,
    lr: 0.02,
    decaySteps: 7,
    init: "centered",
    average: 0.5,
  });
  assert.deepEqual(
    await run(`${dir}/flags`, "--steps", "2", "--lr", "0.01", "--init", "xavier", "--average", "0"),
    { steps: 2, lr: 0.01, decaySteps: 7, init: "xavier", average: 0 },
  );
});

Deno.test("CLI: init, points, eval and ntk with a problem module path", async () => {
  const m = `${dir}/pde_model.json`, p = `${dir}/pde_points.json`;
  await ok(
    "cli/main.ts",
    "init",
    "--problem",
    "./examples/my_pde.ts",
    "--sizes",
    "2,8,1",
    "--out",
    m,
  );
  // Stored relative to the model file.
  assert.equal(
    JSON.parse(await Deno.readTextFile(m)).problem,
    relative(dir, `${ROOT}/examples/my_pde.ts`),
  );
  await ok(
    "cli/main.ts",
    "points",
    "--problem",
    "examples/my_pde.ts",
    "--n",
    "r=16,ic=8,bc=8",
    "--out",
    p,
  );
  const points = JSON.parse(await Deno.readTextFile(p));
  assert.deepEqual(Object.keys(points), ["r", "ic", "bc"]);
  const ev = JSON.parse(
    (await ok("cli/main.ts", "eval", "--model", m, "--points", p, "--json")).stdout,
  );
  assert.equal(ev.residuals.ic.length, 8);
  assert.ok(Number.isFinite(ev.loss));
  const ntk = JSON.parse(
    (await ok("cli/main.ts", "ntk", "--model", m, "--points", p, "--json")).stdout,
  );
  assert.deepEqual(Object.keys(ntk.weights), ["r", "ic", "bc"]);
});

Deno.test("CLI: a bad problem module is exit code 2 and one sentence naming it", async () => {
  const bad = `${dir}/bad_pde.ts`;
  await Deno.writeTextFile(bad, `export default { name: "bad", inputs: ["x"] };\n`);
  const cases: [string, RegExp][] = [
    [`${dir}/missing_pde.ts`, /Cannot import problem module .*missing_pde\.ts/],
    [bad, /Problem .*bad_pde\.ts: "doc" must be a string/],
  ];
  for (const [path, match] of cases) {
    const r = await deno(
      "cli/main.ts",
      "train",
      "--problem",
      path,
      "--steps",
      "1",
      "--out",
      `${dir}/never`,
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, match);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.ok(!/\n\s+at /.test(r.stderr), "no stack trace");
  }
});

Deno.test("examples/hard_bc.ts: the heat equation with exact conditions trains through the CLI", async () => {
  const out = `${dir}/hard`;
  const r = assertExitOk(
    await runDeno([
      "run",
      ...PERMS,
      "cli/main.ts",
      "train",
      "--problem",
      "./examples/hard_bc.ts",
      "--steps",
      "200",
      "--weighting",
      "none",
      "--sizes",
      "2,16,16,1",
      "--out",
      out,
      "--json",
      "--quiet",
    ]),
    "train hard_bc",
  );
  const m = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(m.loss), ["r"]);
  // u(0) = sin(πx) exactly at the start, so even 200 steps stay within a few per cent.
  assert.ok(m.rel_l2 < 0.05, `rel_l2 ${m.rel_l2}`);
  const model = JSON.parse(await Deno.readTextFile(`${out}/model.json`));
  assert.equal(model.transform, "u = sin(πx) + t x(1 − x)·N");
});
