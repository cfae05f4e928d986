/**
 * The public API as a user meets it: a script in a temporary folder outside the
 * repository, importing only mod.ts by its absolute file URL, type-checks clean
 * and trains wave for 100 steps, reads the loss, computes exact and sketched (jvp,
 * pc) NTK weights and disposes everything with `using` / `await using`; the
 * examples in mod.ts's documentation (those marked `ignore` included) type-check
 * the same way. A custom problem defined with the expression builder (a copy of
 * wave's definition) gives the built-in wave's residuals and gradients, through a
 * Plan and through Trainer.create with a problem object.
 *
 * The temporary folder holds a deno.json mapping the package's dependencies the
 * way a consumer's configuration would (a JSR install rewrites them at publish),
 * plus "@sketchpinn/sketchpinn" → mod.ts for the documentation examples.
 */
import assert from "node:assert/strict";
import {
  DEFAULT_CONFIG,
  E,
  emaBeta,
  Engine,
  getProblem,
  Plan,
  type Problem,
  samplePoints,
  type TrainConfig,
  Trainer,
  type TrainSettings,
  validateProblem,
} from "../mod.ts";
import { assertRelInf, testParams } from "./gpu_helpers.ts";
import { ROOT, runDeno } from "./process.ts";

const MOD_URL = new URL("../mod.ts", import.meta.url).href;
const TOL = { residual: 1e-4, gradient: 1e-3 };
const opts = { sanitizeResources: false, sanitizeOps: false };

/** The ```ts blocks of the first JSDoc comment of `source` (with or without `ignore`). */
function docExamples(source: string): string[] {
  const doc = source.slice(source.indexOf("/**"), source.indexOf("*/"));
  const lines = doc.split("\n").map((l) => l.replace(/^\s*\* ?/, ""));
  const blocks: string[] = [];
  let cur: string[] | null = null;
  for (const l of lines) {
    if (cur === null && /^```ts( ignore)?$/.test(l)) cur = [];
    else if (cur !== null && l === "```") {
      blocks.push(cur.join("\n") + "\n");
      cur = null;
    } else cur?.push(l);
  }
  return blocks;
}

const SCRIPT = `import {
  DEFAULT_CONFIG,
  Engine,
  type NtkMethod,
  ntkWeights,
  type NtkTraces,
  Plan,
  Trainer,
  type TrainSettings,
} from "${MOD_URL}";

const config: TrainSettings = {
  ...DEFAULT_CONFIG,
  sizes: [2, 16, 16, 1],
  n: { r: 64, u: 32, ut: 32 },
  steps: 100,
  weighting: "pc",
};
const weights: Partial<Record<NtkMethod, NtkTraces>> = {};
using engine = await Engine.create();
let first: Record<string, number>, last: Record<string, number>, step: number;
{
  await using trainer = await Trainer.create(engine, config);
  await trainer.advance();
  first = (await trainer.losses()).loss;
  while (trainer.step < trainer.config.steps) await trainer.advance();
  step = trainer.step;
  last = (await trainer.losses()).loss;
  await using plan = await Plan.create(engine, {
    problem: trainer.problem,
    sizes: trainer.config.sizes,
    activation: trainer.config.activation,
    counts: trainer.counts,
    directions: 16,
    tangents: true,
  });
  plan.setParams(await trainer.params());
  plan.setPoints(trainer.points());
  for (const method of ["exact", "jvp", "pc"] as const) {
    weights[method] = await ntkWeights(plan, { method, k: 64, seed: 5 });
  }
}
const liveBuffers = engine.pool.stats.liveBuffers;
console.log(JSON.stringify({ step, first, last, weights, liveBuffers }));
`;

Deno.test("a script outside the repository uses mod.ts without the project's import map: type-checks, trains, weighs, disposes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sketchpinn_api_" });
  try {
    assert.ok(!dir.startsWith(ROOT), `${dir} is outside ${ROOT}`);
    // Only the package's own name (which mod.ts's examples import), none of its
    // dependencies: the source imports them by full npm: specifiers.
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({ imports: { "@sketchpinn/sketchpinn": MOD_URL } }),
    );
    await Deno.writeTextFile(`${dir}/train.ts`, SCRIPT);
    const examples = docExamples(await Deno.readTextFile(`${ROOT}/mod.ts`));
    assert.ok(examples.length >= 5, `mod.ts documents ${examples.length} examples`);
    const files = ["train.ts"];
    for (const [i, src] of examples.entries()) {
      files.push(`doc_example_${i}.ts`);
      await Deno.writeTextFile(`${dir}/doc_example_${i}.ts`, src);
    }
    const check = await runDeno(["check", ...files], dir);
    assert.equal(check.code, 0, `deno check failed:\n${check.stderr}`);
    const doc = await runDeno(["doc", MOD_URL], dir);
    assert.equal(doc.code, 0, `deno doc failed:\n${doc.stderr}`);
    assert.doesNotMatch(doc.stderr, /warn|not a dependency/i, "deno doc from outside warns");

    const run = await runDeno(["run", "--allow-read", "--allow-env", "train.ts"], dir);
    assert.equal(run.code, 0, `the script exited ${run.code}:\n${run.stderr}`);
    const r = JSON.parse(run.stdout);
    assert.equal(r.step, 100);
    const sum = (l: Record<string, number>) => Object.values(l).reduce((a, b) => a + b, 0);
    assert.deepEqual(Object.keys(r.last), ["r", "u", "ut"]);
    assert.ok(Number.isFinite(sum(r.last)) && sum(r.last) < sum(r.first), JSON.stringify(r));
    for (const method of ["exact", "jvp", "pc"]) {
      const { traces, weights } = r.weights[method];
      const inv = Object.values(weights as Record<string, number>).reduce((a, l) => a + 1 / l, 0);
      assert.ok(Math.abs(inv - 1) < 1e-6, `${method}: Σ 1/λ = ${inv}`);
      for (const g of ["r", "u", "ut"]) {
        assert.ok(weights[g] >= 1 - 1e-6, `${method}: λ_${g} = ${weights[g]}`);
        // Sketches (k = 64) land near the exact block traces (ntk_test checks them closely).
        const ratio = traces[g] / r.weights.exact.traces[g];
        assert.ok(ratio > 1 / 3 && ratio < 3, `${method}: Tr K_${g} / exact = ${ratio}`);
      }
    }
    assert.equal(r.liveBuffers, 0, "every pooled buffer is released after `await using`");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A copy of the built-in wave problem, defined the way a user defines one. */
const exact = ([t, x]: readonly number[]) =>
  Math.sin(Math.PI * x) * Math.cos(2 * Math.PI * t) +
  0.5 * Math.sin(4 * Math.PI * x) * Math.cos(8 * Math.PI * t);
const exactT = ([t, x]: readonly number[]) =>
  -2 * Math.PI * Math.sin(Math.PI * x) * Math.sin(2 * Math.PI * t) -
  4 * Math.PI * Math.sin(4 * Math.PI * x) * Math.sin(8 * Math.PI * t);
const customWave: Problem = {
  name: "custom-wave",
  doc: "a copy of wave",
  inputs: ["t", "x"],
  domain: [[0, 1], [0, 1]],
  exact,
  grid: [101, 101],
  sizes: [2, 16, 16, 1],
  groups: [
    {
      name: "r",
      doc: "u_tt − 4u_xx",
      residual: E.sub(E.d2u(0), E.mul(4, E.d2u(1))),
      sampleDim: 2,
      sample: ([a, b]) => [a, b],
      defaultN: 1024,
    },
    {
      name: "u",
      doc: "u − u_exact",
      residual: E.u(),
      target: exact,
      sampleDim: 2,
      sample: ([a, b]) => a < 0.5 ? [0, b] : [b, a < 0.75 ? 0 : 1],
      defaultN: 256,
    },
    {
      name: "ut",
      doc: "u_t − ∂_t u_exact",
      residual: E.du(0),
      target: exactT,
      sampleDim: 1,
      sample: ([a]) => [0, a],
      defaultN: 256,
    },
  ],
};

Deno.test({
  name: "a custom PDE built with E gives the built-in wave's residuals and gradient",
  ...opts,
  fn: async () => {
    assert.equal(validateProblem(customWave, "customWave"), customWave);
    using engine = await Engine.create();
    const sizes = [2, 16, 16, 1], counts = { r: 64, u: 32, ut: 32 };
    const wave = getProblem("wave");
    const points = samplePoints(wave, counts, 3);
    const evaluate = async (problem: Problem) => {
      await using plan = await Plan.create(engine, { problem, sizes, activation: "tanh", counts });
      plan.setParams(testParams(sizes, 7));
      plan.setPoints(points);
      plan.setLambda({ r: 1, u: 10, ut: 3 });
      return await plan.evaluate(true);
    };
    const [builtin, custom] = [await evaluate(wave), await evaluate(customWave)];
    for (const g of ["r", "u", "ut"]) {
      assertRelInf(custom.residuals[g], builtin.residuals[g], TOL.residual, `residuals ${g}`);
    }
    assertRelInf(custom.gradient!, builtin.gradient!, TOL.gradient, "gradient");
    assert.ok(Math.abs(custom.loss - builtin.loss) <= TOL.gradient * builtin.loss);

    // The same through Trainer.create with a problem object: three exact-weighted steps.
    const config: TrainSettings = {
      ...DEFAULT_CONFIG,
      sizes,
      n: counts,
      weighting: "exact",
      steps: 3,
      // The same start for both (wave recommends a centred init and an average).
      init: "xavier",
      average: 0,
    };
    const train = async (problem?: Problem) => {
      await using t = await Trainer.create(engine, { ...config, ...(problem ? { problem } : {}) });
      for (let i = 0; i < 3; i++) await t.advance();
      return { params: await t.params(), name: t.problem.name };
    };
    const [a, b] = [await train(), await train(customWave)];
    assert.equal(a.name, "wave");
    assert.equal(b.name, "custom-wave");
    assertRelInf(b.params, a.params, TOL.gradient, "parameters after 3 steps");
  },
});

Deno.test("emaBeta: 0.99 for one-draw sketches, 0.9 for exact and gradnorm, --beta wins", () => {
  const b = (weighting: TrainConfig["weighting"], beta?: number) =>
    emaBeta({ ...DEFAULT_CONFIG, weighting, beta });
  assert.deepEqual(["pc", "jvp", "hutch"].map((w) => b(w as TrainConfig["weighting"])), [
    0.99,
    0.99,
    0.99,
  ]);
  assert.equal(b("exact"), 0.9);
  assert.equal(b("gradnorm"), 0.9);
  assert.equal(b("pc", 0.5), 0.5);
  assert.equal(b("exact", 0), 0);
});
