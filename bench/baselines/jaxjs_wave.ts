/**
 * jax-js baseline for the wave problem: the fixed-weight Adam step of `bench --suite step`
 * (λ = r:1, u:10, ut:10) written in jax-js, on its WebAssembly or WebGPU backend. Input
 * derivatives are nested `jvp`s along the unit input directions, the parameter gradient is
 * `valueAndGrad`, and the whole step (loss, gradient, Adam) is one `jit`-compiled function.
 *
 * `deno run -A bench/baselines/jaxjs_wave.ts --device wasm|webgpu [--sizes 2,128,128,128,1]
 * [--n r=1024,u=256,ut=256] [--repeats 10] [--warmup 3]` prints one JSON object; `--selftest`
 * compares the loss and gradient with the float64 reference on a small network (exit 1 on a
 * mismatch). Run by `bench --baseline jaxjs`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  blockUntilReady,
  defaultDevice,
  init,
  jit,
  jvp,
  numpy as np,
  tree,
  valueAndGrad,
} from "@jax-js/jax";
import { wave } from "../../src/problems/mod.ts";
import { initParams } from "../../src/model.ts";
import { samplePoints } from "../../src/points.ts";
import { lossAndGradient } from "../../src/reference/mlp64.ts";

type Layer = { w: np.Array; b: np.Array };
const LAMBDA: Record<string, number> = { r: 1, u: 10, ut: 10 };

/** u_θ at the rows of x (N × 2, [t, x]); consumes params and x. */
function net(params: Layer[], x: np.Array): np.Array {
  let h = x;
  params.forEach((p, i) => {
    h = np.matmul(h, p.w).add(p.b);
    if (i < params.length - 1) h = np.tanh(h);
  });
  return h;
}

/** The derivative of `f` along the constant input direction `e` (N × 2); consumes x and e. */
function along(f: (x: np.Array) => np.Array, x: np.Array, e: np.Array): np.Array {
  const [out, tan] = jvp(f, [x], [e]);
  out.dispose();
  return tan;
}

/** The weighted wave loss; consumes every argument. */
function loss(params: Layer[], d: Record<string, np.Array>): np.Array {
  const u = (x: np.Array) => net(tree.ref(params), x);
  const du = (e: np.Array) => (x: np.Array) => along(u, x, e);
  const d2u = (e: np.Array) => (x: np.Array) => along(du(e.ref), x, e);
  const r = d2u(d.et.ref)(d.xr.ref).sub(d2u(d.ex.ref)(d.xr).mul(4));
  const ru = u(d.xu).sub(d.gu);
  const rut = du(d.eut)(d.xut).sub(d.gut);
  tree.dispose([params, d.et, d.ex]);
  return np.mean(np.square(r)).mul(LAMBDA.r)
    .add(np.mean(np.square(ru)).mul(LAMBDA.u))
    .add(np.mean(np.square(rut)).mul(LAMBDA.ut));
}

/** One Adam step (lr 1e-3, β = 0.9, 0.999); c1, c2 are the bias corrections 1 − βᵗ. */
function adamStep(
  params: Layer[],
  m: Layer[],
  v: Layer[],
  c: { c1: np.Array; c2: np.Array },
  d: Record<string, np.Array>,
) {
  const [l, g] = valueAndGrad(loss)(tree.ref(params), d);
  const m2 = tree.map((mi: np.Array, gi: np.Array) => mi.mul(0.9).add(gi.mul(0.1)), m, tree.ref(g));
  const v2 = tree.map(
    (vi: np.Array, gi: np.Array) => vi.mul(0.999).add(np.square(gi).mul(0.001)),
    v,
    g,
  );
  const p2 = tree.map(
    (p: np.Array, mi: np.Array, vi: np.Array) =>
      p.sub(mi.div(c.c1.ref).mul(1e-3).div(np.sqrt(vi.div(c.c2.ref)).add(1e-8))),
    params,
    tree.ref(m2),
    tree.ref(v2),
  );
  tree.dispose(c);
  return { loss: l, params: p2, m: m2, v: v2 };
}

/** The step's arrays: parameters from the engine's initialisation, points and targets of wave. */
function setup(sizes: number[], n: Record<string, number>, seed: number) {
  const flat = initParams(sizes, seed, "xavier", []);
  const params: Layer[] = [];
  let o = 0;
  for (let l = 1; l < sizes.length; l++) {
    const [fi, fo] = [sizes[l - 1], sizes[l]];
    const wt = new Float32Array(fi * fo); // engine layout [out, in] → [in, out] for x @ w
    for (let i = 0; i < fo; i++) for (let j = 0; j < fi; j++) wt[j * fo + i] = flat[o + i * fi + j];
    o += fi * fo;
    params.push({ w: np.array(wt).reshape([fi, fo]), b: np.array(flat.slice(o, o + fo)) });
    o += fo;
  }
  const pts = samplePoints(wave, n, seed);
  const mat = (rows: number[][]) =>
    np.array(Float32Array.from(rows.flat())).reshape([rows.length, 2]);
  const col = (xs: number[]) => np.array(Float32Array.from(xs)).reshape([xs.length, 1]);
  const dir = (rows: number, k: number) =>
    mat(Array.from({ length: rows }, () => (k === 0 ? [1, 0] : [0, 1])));
  const exact = (t: number, x: number) =>
    Math.sin(Math.PI * x) * Math.cos(2 * Math.PI * t) +
    0.5 * Math.sin(4 * Math.PI * x) * Math.cos(8 * Math.PI * t);
  const d = {
    xr: mat(pts.r),
    xu: mat(pts.u),
    xut: mat(pts.ut),
    gu: col(pts.u.map(([t, x]) => exact(t, x))),
    gut: col(pts.ut.map(() => 0)),
    et: dir(n.r, 0),
    ex: dir(n.r, 1),
    eut: dir(n.ut, 0),
  };
  return { flat, pts, params, d };
}

if (import.meta.main) {
  const str = (d: string) => ({ type: "string" as const, default: d });
  const { values: f } = parseArgs({
    args: Deno.args,
    options: {
      device: str("wasm"),
      sizes: str("2,128,128,128,1"),
      n: str("r=1024,u=256,ut=256"),
      repeats: str("10"),
      warmup: str("3"),
      selftest: { type: "boolean", default: false },
    },
  });
  const device = f.device as "wasm" | "webgpu";
  if (!(await init(device)).includes(device)) {
    console.error(`jaxjs: the ${device} backend is not available here.`);
    Deno.exit(3);
  }
  defaultDevice(device);
  const sizes = f.selftest ? [2, 16, 16, 1] : f.sizes.split(",").map(Number);
  const n: Record<string, number> = f.selftest ? { r: 64, u: 16, ut: 16 } : Object.fromEntries(
    f.n.split(",").map((kv) => kv.split("=")).map(([k, v]) => [k, Number(v)]),
  );
  const { flat, pts, params, d } = setup(sizes, n, 1);
  if (f.selftest) {
    // Loss and gradient at the initial parameters against the float64 reference.
    const [l, g] = valueAndGrad(loss)(params, d);
    const ref = lossAndGradient(wave, sizes, "tanh", Float64Array.from(flat), pts, LAMBDA);
    const got = new Float64Array(flat.length);
    let o = 0;
    for (const [li, layer] of (g as Layer[]).entries()) {
      const [fi, fo] = [sizes[li], sizes[li + 1]];
      const w = await layer.w.data(), b = await layer.b.data();
      for (let i = 0; i < fo; i++) for (let j = 0; j < fi; j++) got[o + i * fi + j] = w[j * fo + i];
      o += fi * fo;
      got.set(b, o);
      o += fo;
    }
    const scale = Math.max(...ref.gradient.map(Math.abs));
    const gradErr = Math.max(...got.map((x, i) => Math.abs(x - ref.gradient[i]))) / scale;
    const lossErr = Math.abs((await l.data())[0] - ref.loss) / Math.abs(ref.loss);
    const ok = lossErr < 1e-4 && gradErr < 1e-3;
    console.log(JSON.stringify({ selftest: ok ? "ok" : "fail", lossErr, gradErr }));
    Deno.exit(ok ? 0 : 1);
  }
  const step = jit(adamStep);
  const zeros = () => tree.map((x: np.Array) => np.zerosLike(x), tree.ref(params));
  let state = { params, m: zeros(), v: zeros() }, t = 0;
  const ms: number[] = [];
  for (let i = 0; i < Number(f.warmup) + Number(f.repeats); i++) {
    const t0 = performance.now(),
      c = { c1: np.array([1 - 0.9 ** ++t]), c2: np.array([1 - 0.999 ** t]) };
    const out = step(state.params, state.m, state.v, c, tree.ref(d));
    await blockUntilReady(out);
    out.loss.dispose();
    state = out;
    if (i >= Number(f.warmup)) ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const step_ = {
    median_ms: ms[ms.length >> 1],
    min_ms: ms[0],
    method: "jit(valueAndGrad + Adam)",
  };
  const info = { jaxjs: "0.1.25", device, sizes, n, warmup: Number(f.warmup), repeats: ms.length };
  console.log(JSON.stringify({ ...info, loadavg_1m: Deno.loadavg()[0], results: { step: step_ } }));
}
