/**
 * Help and README against the code: every command is a deno task, every `deno
 * task X` the README shows exists, and each command's `--help` defaults are the
 * values the command uses — read back from what it writes where it writes files
 * (train's config.json, init's model, points' file), else from the constants its
 * code reads.
 */
import { formatFourierSpec } from "../src/embedding.ts";
import assert from "node:assert/strict";
import { DEFAULT_DT, defaultK } from "../src/ntk.ts";
import { DEFAULT_CHUNKS } from "../src/train_config.ts";
import { emaBeta } from "../src/weight_policy.ts";
import { resolveSettings } from "../src/settings.ts";
import { resolveCounts, samplePoints } from "../src/points.ts";
import { initParams, loadModel } from "../src/model.ts";
import { wave } from "../src/problems/mod.ts";
import { RUN_DEFAULTS } from "../cli/train.ts";
import { NTK_DEFAULTS } from "../cli/ntk.ts";
import { BENCH_DEFAULTS } from "../bench/bench.ts";
import { assertExitOk, CLI, ROOT, runDeno } from "./process.ts";

const dir = await Deno.makeTempDir({ prefix: "sketchpinn_help_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const cli = async (...args: string[]) =>
  assertExitOk(await runDeno([...CLI, ...args]), args.join(" "));
const helpOf = async (cmd: string) => (await cli(cmd, "--help")).stdout;

/**
 * The `[--flag value` defaults of a help text: the first choice of `a|b|c`;
 * placeholders (FILE, M.json, <problem>, GROUP=…) and bare switches are left out.
 */
function helpDefaults(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/\[--([\w-]+) ([^\s\]()]+)/g)) {
    const v = m[2].split("|")[0];
    if (/^[A-Z]|<|\.json$|^\.\//.test(v)) continue;
    out[m[1]] = v;
  }
  return out;
}

/** Asserts `help` shows exactly `want` (numbers compared as numbers). */
function assertDefaults(cmd: string, help: Record<string, string>, want: Record<string, unknown>) {
  assert.deepEqual(
    Object.keys(help).sort(),
    Object.keys(want).sort(),
    `${cmd}: flags with defaults`,
  );
  for (const [k, v] of Object.entries(want)) {
    const same = typeof v === "number" ? Number(help[k]) === v : help[k] === String(v);
    assert.ok(same, `${cmd} --help shows --${k} ${help[k]}, the code uses ${v}`);
  }
}

const tasks: Record<string, string> =
  JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks;

Deno.test("every command is a deno task, and every deno task the README shows exists", async () => {
  const top = (await cli("--help")).stdout;
  const commands = [...top.matchAll(/^ {2}(\w+)\s{2,}/gm)].map((m) => m[1]);
  assert.deepEqual(commands, ["train", "eval", "ntk", "init", "points", "bench", "sweep"]);
  for (const c of commands) assert.ok(c in tasks, `deno task ${c} is missing`);
  const readme = await Deno.readTextFile(`${ROOT}/README.md`);
  for (const m of readme.matchAll(/deno(?:@[\d.]+)? task (\w+)/g)) {
    assert.ok(m[1] in tasks, `README shows deno task ${m[1]}, which deno.json lacks`);
  }
  assert.match(top, /130/, "the interrupt exit code is documented");
});

Deno.test("train --help shows the defaults a run uses (config.json of a flagless wave run)", async () => {
  const out = `${dir}/train`;
  // Only the size of the run is set; everything else comes from the defaults.
  await cli(
    "train",
    "--sizes",
    "2,8,1",
    "--n",
    "r=16,u=8,ut=8",
    "--steps",
    "2",
    "--then-steps",
    "2",
    "--out",
    out,
    "--quiet",
  );
  const c = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
  const { config: lib } = await resolveSettings({});
  const n = resolveCounts(wave, lib.n);
  assertDefaults("train", helpDefaults(await helpOf("train")), {
    problem: c.problem,
    sizes: lib.sizes.join(","),
    activation: c.activation,
    init: c.init,
    optimizer: c.optimizer,
    lr: c.lr,
    decay: c.decay,
    "decay-steps": c.decaySteps,
    steps: lib.steps,
    n: Object.entries(n).map(([g, v]) => `${g}=${v}`).join(","),
    resample: c.resample,
    sampler: c.sampler,
    weighting: c.weighting,
    k: c.k,
    dt: c.dt ?? DEFAULT_DT,
    beta: emaBeta(c),
    every: c.every,
    causal: c.causal ?? 0,
    chunks: c.chunks ?? DEFAULT_CHUNKS,
    average: c.average,
    fourier: c.fourier ? formatFourierSpec(c.fourier) : "off",
    seed: c.seed,
    "log-every": lib.logEvery,
    "checkpoint-every": RUN_DEFAULTS.checkpointEvery,
    "on-nan": RUN_DEFAULTS.onNan,
    then: c.then ?? "none",
    "then-steps": lib.thenSteps ?? 0,
    "then-n": Object.entries(lib.thenN ?? {}).map(([g, v]) => `${g}=${v}`).join(","),
    "then-refresh": c.thenRefresh ?? 0,
    "then-resample": c.thenResample ?? 0,
    history: c.history ?? 20,
  });
});

Deno.test("init and points --help show the defaults they use (the files they write)", async () => {
  const m = `${dir}/m.json`, p = `${dir}/p.json`;
  await cli("init", "--out", m);
  await cli("points", "--out", p);
  const model = await loadModel(m);
  const init = helpDefaults(await helpOf("init"));
  assertDefaults("init", init, {
    problem: model.problem,
    sizes: model.sizes.join(","),
    activation: model.activation,
    init: init.init,
    seed: init.seed,
  });
  assert.deepEqual(
    model.params,
    initParams(model.sizes, Number(init.seed), init.init as "xavier", wave.domain),
    `init --help's --init ${init.init} --seed ${init.seed} are what init draws`,
  );
  const pts = helpDefaults(await helpOf("points"));
  const written = JSON.parse(await Deno.readTextFile(p));
  const counts = Object.fromEntries(Object.entries(written).map(([g, v]) => [g, (v as []).length]));
  assertDefaults("points", pts, {
    problem: "wave",
    n: Object.entries(counts).map(([g, v]) => `${g}=${v}`).join(","),
    seed: pts.seed,
  });
  const drawn = JSON.parse(JSON.stringify(samplePoints(wave, counts, Number(pts.seed))));
  assert.deepEqual(written, drawn, `points --help's --seed ${pts.seed} is what points draws`);
});

Deno.test("ntk and bench --help show the defaults their code reads", async () => {
  assertDefaults("ntk", helpDefaults(await helpOf("ntk")), {
    method: NTK_DEFAULTS.method,
    k: defaultK("jvp"),
    dt: DEFAULT_DT,
    kind: NTK_DEFAULTS.kind,
    seed: NTK_DEFAULTS.seed,
    repeat: NTK_DEFAULTS.repeat,
  });
  const B = BENCH_DEFAULTS;
  assertDefaults("bench", helpDefaults(await helpOf("bench")), {
    suite: B.suite,
    sizes: B.sizes.join(","),
    n: Object.entries(B.n).map(([g, v]) => `${g}=${v}`).join(","),
    weighting: B.weighting,
    repeats: B.repeats,
    threshold: B.threshold,
    baseline: "torch",
  });
});
