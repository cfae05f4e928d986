/**
 * What a new user meets, end to end: library and CLI resolve a run's settings
 * alike; a run's own config.json works as --config; module paths survive a change
 * of directory (and `deno task`, which runs in the repository); a Problem object
 * works wherever a name does; input that would be ignored is an error; a problem
 * without a reference solution says so. Tiny networks and a few steps each.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  DEFAULT_CONFIG,
  type Engine,
  Plan,
  resolveProblem,
  resolveSettings,
  runTraining,
} from "../mod.ts";
import { getProblem, poisson1d } from "../src/problems/mod.ts";
import { loadModel } from "../src/model.ts";
import { UserError } from "../src/errors.ts";
import { moduleEngine } from "./gpu_helpers.ts";
import { assertExitOk, CLI, ROOT, type Run, runDeno, tinyWaveFlags } from "./process.ts";

const MY_PDE = fileURLToPath(new URL("../examples/my_pde.ts", import.meta.url));
const CLI_MAIN = fileURLToPath(new URL("../cli/main.ts", import.meta.url));
const opts = { sanitizeResources: false, sanitizeOps: false };

const dir = await Deno.makeTempDir({ prefix: "sketchpinn_usability_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

/** The CLI from the repository root, or with `cwd` from elsewhere. */
const cli = (args: string[], cwd = ROOT): Promise<Run> =>
  runDeno(cwd === ROOT ? [...CLI, ...args] : [...CLI.slice(0, -1), CLI_MAIN, ...args], cwd);
const ok = async (args: string[], cwd = ROOT) => assertExitOk(await cli(args, cwd), args.join(" "));

/** Asserts exit code 2 with one `error:` sentence naming `input`. */
function userError(r: Run, input: string | RegExp, what: string): string {
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
  const lines = r.stderr.trim().split("\n").filter((l) => l.startsWith("error:"));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0],
    typeof input === "string" ? new RegExp(input.replace(/-/g, "\\-")) : input,
  );
  assert.ok(!r.stderr.includes("    at "), `${what}: a stack trace\n${r.stderr}`);
  return lines[0];
}

const TINY = [...tinyWaveFlags("r=16,u=8,ut=8"), "--steps", "2", "--log-every", "2"];

Deno.test("settings: the library takes a problem's recommended sizes, init and average", async () => {
  const { config } = await resolveSettings({ ...DEFAULT_CONFIG, problem: "poisson1d" });
  assert.deepEqual(config.sizes, poisson1d.sizes);
  assert.equal(config.init, poisson1d.train?.init ?? "xavier");
  assert.equal(config.average, poisson1d.train?.average ?? 0);
  assert.equal(config.steps, poisson1d.train?.steps ?? 4000);
  // What the caller sets wins; a Problem object is taken as it is.
  const mine = await resolveProblem(MY_PDE);
  const r = await resolveSettings({ problem: mine, sizes: [2, 8, 1], average: 0 });
  assert.equal(r.problem, mine);
  assert.equal(r.config.problem, MY_PDE, "a module's problem is stored by its path");
  assert.deepEqual(r.config.sizes, [2, 8, 1]);
  assert.equal(r.config.average, 0);
  // Sizes are checked against the problem everywhere.
  await assert.rejects(() => resolveSettings({ problem: "heat1d", sizes: [5, 16, 1] }), UserError);
  await assert.rejects(() => resolveSettings({ weights: { r: 2 } }), /--weights applies only/);
});

Deno.test({
  name: "settings: Plan.create refuses sizes that do not fit the problem",
  ...opts,
  fn: async () => {
    const engine = await moduleEngine();
    await assert.rejects(
      () =>
        Plan.create(engine, {
          problem: getProblem("heat1d"),
          sizes: [5, 16, 1],
          activation: "tanh",
          counts: { r: 8, u: 8 },
        }),
      /first size must be the problem's input dimension 2/,
    );
  },
});

Deno.test({
  name:
    "a library run of a module's Problem object resumes from the CLI; one made in a program says how",
  ...opts,
  fn: async () => {
    const engine: Engine = await moduleEngine();
    const out = `${dir}/lib_module`;
    const problem = await resolveProblem(MY_PDE);
    const settings = {
      problem,
      sizes: [2, 8, 1],
      n: { r: 16, ic: 8, bc: 8 },
      steps: 2,
      logEvery: 2,
    };
    await runTraining(engine, settings, { out, noReport: true });
    const stored = JSON.parse(await Deno.readTextFile(`${out}/config.json`)).problem;
    assert.match(stored, /^\.\.\/.*examples\/my_pde\.ts$/, "relative to the run folder");
    assert.equal((await loadModel(`${out}/model.json`)).problem, stored);
    await ok(["train", "--resume", out, "--steps", "4", "--quiet"], dir);

    const inProgram = { ...problem, name: "in-program" };
    const out2 = `${dir}/lib_object`;
    await runTraining(engine, { ...settings, problem: inProgram }, { out: out2, noReport: true });
    userError(await cli(["train", "--resume", out2]), /defined in a program/, "resume");
    // Training another problem into that folder would overwrite it.
    userError(await cli(["train", ...TINY, "--out", out2]), "--out", "another problem's folder");
  },
});

Deno.test("--config accepts a run's own config.json (camelCase keys and all)", async () => {
  const a = `${dir}/cfg_a`, b = `${dir}/cfg_b`;
  await ok(["train", ...TINY, "--decay-steps", "7", "--quiet", "--out", a]);
  await ok(["train", "--config", `${a}/config.json`, "--out", b, "--quiet"]);
  const [ca, cb] = [a, b].map((d) => JSON.parse(Deno.readTextFileSync(`${d}/config.json`)));
  assert.deepEqual(cb, ca);
  assert.equal(cb.decaySteps, 7);
  const bad = `${dir}/bad_config.json`;
  await Deno.writeTextFile(bad, JSON.stringify({ decaySteps: 3, stepz: 2 }));
  userError(
    await cli(["train", "--config", bad]),
    /unknown key "stepz"; did you mean "steps"/,
    "typo",
  );
});

Deno.test("paths: models store a module relative to themselves; relative paths follow the user under deno task", async () => {
  // A problem module in the user's own folder, outside the repository.
  const user = `${dir}/user`;
  await Deno.mkdir(user);
  await Deno.writeTextFile(
    `${user}/pde.ts`,
    `export { default } from ${
      JSON.stringify(new URL("../examples/my_pde.ts", import.meta.url).href)
    };\n`,
  );
  // As from a shell: without the INIT_CWD of a `deno task test` around this test.
  const env = Object.fromEntries(
    ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "SKETCHPINN_CACHE"].flatMap((k) => {
      const v = Deno.env.get(k);
      return v === undefined ? [] : [[k, v]];
    }),
  );
  const task = async (...args: string[]): Promise<Run> => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--config", `${ROOT}/deno.json`, "-q", ...args],
      cwd: user,
      clearEnv: true,
      env: { ...env, NO_COLOR: "1" },
      stdin: "null",
    }).output();
    const dec = new TextDecoder();
    return { code, stdout: dec.decode(stdout), stderr: dec.decode(stderr) };
  };
  assertExitOk(
    await task("init", "--problem", "./pde.ts", "--sizes", "2,8,1", "--out", "m.json"),
    "task init",
  );
  assertExitOk(
    await task("points", "--problem", "./pde.ts", "--n", "r=8,ic=4,bc=4", "--out", "p.json"),
    "task points",
  );
  const model = await loadModel(`${user}/m.json`);
  assert.equal(model.problem, "./pde.ts");
  // eval from another directory finds the module next to the model file.
  const r = await ok(["eval", "--model", `${user}/m.json`, "--points", `${user}/p.json`, "--json"]);
  assert.ok(Number.isFinite(JSON.parse(r.stdout).loss));
});

Deno.test("ignored input is an error: --weights without fixed, ntk --k with exact, --k with exact weights", async () => {
  userError(
    await cli(["train", ...TINY, "--weights", "r=1,u=10"]),
    "--weights applies only",
    "--weights",
  );
  userError(
    await cli(["train", ...TINY, "--weighting", "exact", "--k", "4"]),
    "--k applies only",
    "--k",
  );
  userError(await cli(["train", ...TINY, "--chunks", "8"]), "--chunks", "--chunks");
  const m = `${dir}/ntk_model.json`, p = `${dir}/ntk_points.json`;
  await ok(["init", "--sizes", "2,8,1", "--out", m]);
  await ok(["points", "--n", "r=8,u=4,ut=4", "--out", p]);
  userError(
    await cli(["ntk", "--model", m, "--points", p, "--method", "exact", "--k", "4"]),
    "--k applies only",
    "ntk --k",
  );
});

Deno.test("a problem without a reference solution says so; --quiet prints nothing on stderr; Δt is shown", async () => {
  const src = `import base from ${
    JSON.stringify(new URL("../examples/my_pde.ts", import.meta.url).href)
  };
export default { ...base, name: "no-closed-form", exact: () => 0 };\n`;
  await Deno.writeTextFile(`${dir}/noref.ts`, src);
  const out = `${dir}/noref_run`;
  const r = await ok([
    "train",
    "--problem",
    `${dir}/noref.ts`,
    "--sizes",
    "2,8,1",
    "--n",
    "r=16,ic=8,bc=8",
    "--steps",
    "2",
    "--log-every",
    "2",
    "--out",
    out,
    "--quiet",
  ]);
  assert.equal(r.stderr, "", "--quiet");
  assert.match(r.stdout, /no reference/);
  const metrics = JSON.parse(await Deno.readTextFile(`${out}/metrics.json`));
  assert.equal(metrics.rel_l2, null);
  const report = await Deno.readTextFile(`${out}/report.md`);
  assert.match(report, /relative L2 error \| no reference/);
  assert.doesNotMatch(report, /Infinity|default/);
  assert.match(report, /Δt = 0\.01/);
});
