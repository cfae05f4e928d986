/**
 * Fourier-feature input embeddings: the float64 reference's channels against
 * finite differences, the GPU engine against the reference (residuals, loss,
 * gradient, exact per-point norms and traces, JVPs and VJPs) on wave (d = 2), the
 * Q-tensor system (d = 3, two outputs) and a 4-input, 3-output system with mixed
 * derivatives, the model file's `embedding` field and the `--fourier` spec.
 */
import assert from "node:assert/strict";
import {
  denseSizes,
  embeddingWidth,
  fourierEmbedding,
  parseFourierSpec,
} from "../src/embedding.ts";
import { embeddingChannels } from "../src/reference/embedding64.ts";
import * as ref from "../src/reference/mlp64.ts";
import type { ChannelSet } from "../src/problems/expr.ts";
import type { Problem } from "../src/problems/problem.ts";
import { wave } from "../src/problems/wave.ts";
import { qtensor } from "../src/problems/qtensor.ts";
import { samplePoints } from "../src/points.ts";
import { Plan } from "../src/plan.ts";
import { initParams, modelFromJson, modelToJson, paramLayout } from "../src/model.ts";
import { UserError } from "../src/errors.ts";
import { assertClose } from "./assert_close.ts";
import { assertExitOk, CLI, runDeno } from "./process.ts";
import { runTraining } from "../src/run.ts";
import { checkConfigObject } from "../cli/train_settings.ts";
import { DEFAULT_CONFIG } from "../src/train_config.ts";
import {
  assertRelInf,
  flatten,
  gaussianVector,
  moduleEngine,
  sys3x4,
  testParams,
} from "./gpu_helpers.ts";

const engine = await moduleEngine();
const test = (name: string, fn: () => void | Promise<void>) =>
  Deno.test({ name, sanitizeResources: false, sanitizeOps: false, fn });

const ALL_MIXED: ChannelSet = {
  first: [2, 0, 1, 3],
  numSecond: 2,
  mixed: [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]],
};

test("reference: the embedding's and the network's channels match finite differences", () => {
  const domain: [number, number][] = [[0, 1], [-1, 2], [0, 2], [-0.5, 1.5]];
  for (const raw of [false, true]) {
    const e = fourierEmbedding({ features: 5, scale: 1.5, raw }, domain, 3);
    assert.equal(embeddingWidth(e), raw ? 14 : 10);
    const sizes = [4, 6, 5, 3];
    const params = testParams(denseSizes(sizes, e), 4);
    const x = [0.31, -0.42, 0.77, 0.1];
    const C = 1 + 4 + 2 + 6, E = embeddingWidth(e);
    const shift = (dirs: [number, number][]) =>
      x.map((v, k) => v + dirs.reduce((s, [d, h]) => s + (d === k ? h : 0), 0));
    const emb = embeddingChannels(e, x, ALL_MIXED);
    const net = ref.forwardChannels(sizes, "tanh", params, x, ALL_MIXED, e);
    const value = (y: number[]) => ({
      emb: embeddingChannels(e, y, { first: [], numSecond: 0 }),
      net: ref.forwardChannels(sizes, "tanh", params, y, { first: [], numSecond: 0 }, e),
    });
    // Channel c of the embedding (feature f) at c·E + f; of the network (output k) at k·C + c.
    const checks: [string, Float64Array, number, (c: number, i: number) => number][] = [
      ["embedding", emb, E, (c, i) => c * E + i],
      ["network", net, 3, (c, k) => k * C + c],
    ];
    for (const [what, ch, count, at] of checks) {
      for (let i = 0; i < count; i++) {
        const u = (dirs: [number, number][]) =>
          value(shift(dirs))[what === "embedding" ? "emb" : "net"][i];
        const tag = `${what} raw=${raw} ${i}`;
        assertClose(ch[at(0, i)], u([]), { rtol: 1e-15, atol: 1e-15, name: `${tag} value` });
        ALL_MIXED.first.forEach((dir, j) => {
          const h = 1e-4;
          const fd = (u([[dir, h]]) - u([[dir, -h]])) / (2 * h);
          assertClose(ch[at(1 + j, i)], fd, { rtol: 1e-6, atol: 1e-6, name: `${tag} ∂_${dir}` });
        });
        for (let j = 0; j < ALL_MIXED.numSecond; j++) {
          const dir = ALL_MIXED.first[j], h = 2e-4; // the features are steeper than a plain net
          const fd = (u([[dir, h]]) - 2 * u([]) + u([[dir, -h]])) / (h * h);
          assertClose(ch[at(5 + j, i)], fd, { rtol: 1e-5, atol: 1e-5, name: `${tag} ∂²_${dir}` });
        }
        ALL_MIXED.mixed!.forEach(([a, b], q) => {
          const h = 2e-4;
          const fd = (u([[a, h], [b, h]]) - u([[a, h], [b, -h]]) - u([[a, -h], [b, h]]) +
            u([[a, -h], [b, -h]])) / (4 * h * h);
          assertClose(ch[at(7 + q, i)], fd, {
            rtol: 1e-5,
            atol: 1e-5,
            name: `${tag} ∂_${a}∂_${b}`,
          });
        });
      }
    }
  }
});

interface Case {
  problem: Problem;
  sizes: number[];
  features: number;
  scale: number;
  raw: boolean;
  /** Check the JVP kernels too (the 13-channel system's tangent kernel compiles for minutes on llvmpipe). */
  jvp: boolean;
}

const CASES: Case[] = [
  { problem: wave, sizes: [2, 16, 16, 1], features: 8, scale: 1, raw: false, jvp: true },
  { problem: qtensor, sizes: [3, 16, 12, 2], features: 6, scale: 2, raw: true, jvp: true },
  { problem: sys3x4, sizes: [4, 12, 12, 3], features: 5, scale: 1.5, raw: false, jvp: false },
];
const TOL = { residual: 1e-4, gradient: 1e-3, norms: 1e-3, jvp: 1e-4 };
const names = (p: Problem) => p.groups.map((g) => g.name);

for (const [ci, c] of CASES.entries()) {
  const { problem, sizes } = c;
  test(
    `engine with Fourier features vs reference: ${problem.name} [${sizes}] M=${c.features} σ=${c.scale}${
      c.raw ? " raw" : ""
    }`,
    async () => {
      const e = fourierEmbedding(c, problem.domain, 5 + ci);
      const counts = Object.fromEntries(problem.groups.map((g, i) => [g.name, 9 + 7 * i]));
      await using plan = await Plan.create(engine, {
        problem,
        sizes,
        activation: "tanh",
        counts,
        directions: 2,
        tangents: true,
        embedding: e,
      });
      assert.equal(plan.net.sizes[0], embeddingWidth(e));
      const params = testParams(denseSizes(sizes, e), 30 + ci);
      const points = samplePoints(problem, counts, 40 + ci);
      plan.setParams(params);
      plan.setPoints(points);
      const gs = names(problem);
      const lam = Object.fromEntries(gs.map((g, i) => [g, [3.5, 0.25, 7, 1.5][i % 4]]));
      plan.setLambda(lam);
      const ev = await plan.evaluate(true);
      const r64 = ref.residuals(problem, sizes, "tanh", params, points, e);
      assertRelInf(flatten(ev.residuals, gs), flatten(r64, gs), TOL.residual, "residuals");
      const lg = ref.lossAndGradient(problem, sizes, "tanh", params, points, lam, e);
      assertRelInf([ev.loss], [lg.loss], TOL.residual, "loss");
      assertRelInf(ev.gradient!, lg.gradient, TOL.gradient, "gradient");
      const ex = await plan.exactNorms();
      const n64 = ref.perPointGradNorms(problem, sizes, "tanh", params, points, e);
      const t64 = ref.ntkTraces(problem, sizes, "tanh", params, points, e).traces;
      assertRelInf(flatten(ex.norms, gs), flatten(n64, gs), TOL.norms, "per-point norms");
      for (const g of gs) assertRelInf([ex.traces[g]], [t64[g]], TOL.norms, `trace.${g}`);
      const { y, directions } = await plan.jvp(2, 77 + ci, 3, "gaussian");
      for (let j = 0; j < 2; j++) {
        const y64 = ref.jvp(problem, sizes, "tanh", params, points, directions[j], e);
        assertRelInf(flatten(y[j], gs), flatten(y64, gs), TOL.jvp, `jvp[${j}]`);
      }
      const v = Object.fromEntries(gs.map((g, gi) => [g, gaussianVector(counts[g], 60 + ci, gi)]));
      assertRelInf(
        await plan.vjp(v),
        ref.vjp(problem, sizes, "tanh", params, points, v, e),
        TOL.gradient,
        "vjp",
      );
      // New points recompute the features (resampling).
      const points2 = samplePoints(problem, counts, 90 + ci);
      plan.setPoints(points2);
      const ev2 = await plan.evaluate(false);
      const r2 = ref.residuals(problem, sizes, "tanh", params, points2, e);
      assertRelInf(
        flatten(ev2.residuals, gs),
        flatten(r2, gs),
        TOL.residual,
        "residuals, new points",
      );
    },
  );
}

test("model files: the embedding round-trips; files without one load as before", () => {
  const e = fourierEmbedding({ features: 4, scale: 2 }, wave.domain, 1);
  const sizes = [2, 8, 1];
  const params = initParams(sizes, 1, "centered", wave.domain, e);
  assert.equal(params.length, paramLayout([8, 8, 1]).count);
  const m = modelFromJson(
    modelToJson({ problem: "wave", sizes, activation: "tanh", params, embedding: e }),
    "m.json",
  );
  assert.deepEqual(m.embedding, e);
  assert.deepEqual(m.params, params);
  const plain = initParams(sizes, 1, "centered", wave.domain);
  const old = modelFromJson(
    modelToJson({ problem: "wave", sizes, activation: "tanh", params: plain }),
    "old.json",
  );
  assert.equal(old.embedding, undefined);
  assert.ok(!("embedding" in JSON.parse(modelToJson(old))));
  // A damaged embedding is one sentence naming the file and the field.
  const bad = JSON.parse(modelToJson(m));
  bad.embedding.B[1] = [1];
  assert.throws(
    () => modelFromJson(JSON.stringify(bad), "bad.json"),
    (err: unknown) =>
      err instanceof UserError && /bad\.json.*embedding\.B.*2 finite numbers/.test(err.message),
  );
  // Parameters for the wrong first-layer width are refused.
  const wrong = { ...JSON.parse(modelToJson(m)), params: Array.from(plain) };
  assert.throws(() => modelFromJson(JSON.stringify(wrong), "w.json"), /4 Fourier frequencies/);
});

test("--fourier spec: M:σ, M:σ:raw and off; anything else is a UserError", () => {
  assert.deepEqual(parseFourierSpec("64:1"), { features: 64, scale: 1 });
  assert.deepEqual(parseFourierSpec("32:2.5:raw"), { features: 32, scale: 2.5, raw: true });
  assert.equal(parseFourierSpec("off"), null);
  for (const bad of ["64", "64:", "x:1", "0:1", "64:0", "64:-1", "300:1", "64:1:abc", "1.5:2"]) {
    assert.throws(
      () => parseFourierSpec(bad),
      (err: unknown) => err instanceof UserError && err.message.startsWith("--fourier"),
      bad,
    );
  }
  // Config files: the flag's string, null (a run's config.json without features) or the object.
  const where = "Config file c.json";
  assert.deepEqual(checkConfigObject(where, { fourier: null }), { fourier: null });
  assert.deepEqual(checkConfigObject(where, { fourier: "8:2" }), { fourier: "8:2" });
  const obj = { fourier: { features: 8, scale: 2, raw: true } };
  assert.deepEqual(checkConfigObject(where, obj), obj);
  for (const bad of [[8, 2], { features: 8 }, { features: 8, scale: 2, extra: 1 }, "8:2:x"]) {
    assert.throws(
      () => checkConfigObject(where, { fourier: bad }),
      (err: unknown) =>
        err instanceof UserError && err.message.startsWith(`${where}, key "fourier"`),
      JSON.stringify(bad),
    );
  }
  // B is the seed's: the same seed draws the same matrix, another seed another.
  const a = fourierEmbedding({ features: 3, scale: 1 }, wave.domain, 7);
  assert.deepEqual(a, fourierEmbedding({ features: 3, scale: 1 }, wave.domain, 7));
  assert.notDeepEqual(a.B, fourierEmbedding({ features: 3, scale: 1 }, wave.domain, 8).B);
});

test("init --fourier writes B into the model file; eval, predict and ntk evaluate it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sketchpinn_embed_" });
  try {
    const model = `${dir}/m.json`, pts = `${dir}/p.json`;
    assertExitOk(
      await runDeno([
        ...CLI,
        "init",
        "--sizes",
        "2,12,1",
        "--fourier",
        "6:2:raw",
        "--seed",
        "3",
        "--out",
        model,
      ]),
      "init",
    );
    const m = modelFromJson(await Deno.readTextFile(model), model);
    assert.deepEqual(
      m.embedding,
      fourierEmbedding({ features: 6, scale: 2, raw: true }, wave.domain, 3),
    );
    const points = samplePoints(wave, { r: 5, u: 3, ut: 2 }, 4);
    await Deno.writeTextFile(pts, JSON.stringify(points));
    const ev = JSON.parse(
      assertExitOk(
        await runDeno([...CLI, "eval", "--model", model, "--points", pts, "--json"]),
        "eval",
      )
        .stdout,
    );
    const lg = ref.lossAndGradient(wave, m.sizes, "tanh", m.params, points, {}, m.embedding);
    assertRelInf(ev.gradient, lg.gradient, TOL.gradient, "eval gradient");
    const pr = JSON.parse(
      assertExitOk(
        await runDeno([...CLI, "predict", "--model", model, "--points", pts, "--json"]),
        "predict",
      )
        .stdout,
    );
    const xs = [...points.r, ...points.u, ...points.ut];
    const want = xs.map((x) =>
      ref.forwardChannels(m.sizes, "tanh", m.params, x, { first: [], numSecond: 0 }, m.embedding)[0]
    );
    assertRelInf(pr.values.map((v: number[]) => v[0]), want, 1e-5, "predict");
    const ntk = JSON.parse(
      assertExitOk(
        await runDeno([
          ...CLI,
          "ntk",
          "--model",
          model,
          "--points",
          pts,
          "--method",
          "exact",
          "--json",
        ]),
        "ntk",
      ).stdout,
    );
    const t64 = ref.ntkTraces(wave, m.sizes, "tanh", m.params, points, m.embedding).traces;
    for (const g of ["r", "u", "ut"]) {
      assertRelInf([ntk.traces[g]], [t64[g]], TOL.norms, `ntk ${g}`);
    }
    const bad = await runDeno([...CLI, "init", "--fourier", "64", "--out", `${dir}/x.json`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--fourier takes M:σ/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("train with --fourier: model.json carries B; a resumed run (Adam, then L-BFGS) ends bit for bit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sketchpinn_embed_run_" });
  try {
    const cfg = {
      ...DEFAULT_CONFIG,
      problem: "wave",
      sizes: [2, 8, 8, 1],
      n: { r: 32, u: 16, ut: 16 },
      weighting: "pc" as const,
      average: 0.9,
      fourier: { features: 4, scale: 1.5 },
      steps: 6,
      logEvery: 3,
      then: "lbfgs" as const,
      thenSteps: 2,
      seed: 2,
    };
    const whole = `${dir}/whole`, split = `${dir}/split`;
    const { metrics } = await runTraining(engine, cfg, { out: whole, noReport: true });
    assert.ok(Number.isFinite(metrics.rel_l2), `rel_l2 ${metrics.rel_l2}`);
    await runTraining(engine, { ...cfg, steps: 3, thenSteps: 0 }, { out: split, noReport: true });
    await runTraining(engine, cfg, { out: split, resume: true, noReport: true });
    const a = modelFromJson(await Deno.readTextFile(`${whole}/model.json`), "whole");
    const b = modelFromJson(await Deno.readTextFile(`${split}/model.json`), "split");
    assert.deepEqual(a.embedding, fourierEmbedding(cfg.fourier, wave.domain, 2));
    assert.deepEqual(b.embedding, a.embedding);
    assert.deepEqual(b.params, a.params);
    const config = JSON.parse(await Deno.readTextFile(`${whole}/config.json`));
    assert.deepEqual(config.fourier, cfg.fourier);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
