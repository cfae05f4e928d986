/**
 * L-BFGS on the GPU over a plan's full-batch loss (its fixed points and λ):
 * the history of m curvature pairs lives in GPU buffers, the direction comes from
 * the compact form of the inverse Hessian in three planned dispatches (every
 * pair's dot products with the gradient, a small triangular solve, the
 * combination; `shaders/lbfgs.wgsl`) with the Gram matrices SᵀY and YᵀY updated
 * one row per new pair, and each line-search trial is one submit (trial point, pack, forward,
 * residual, backward, gradient, φ and φ') reading two floats back. The strong-Wolfe
 * decisions are the shared scalar code of `line_search.ts`; `reference/lbfgs64.ts`
 * is the same algorithm in float64.
 *
 * @module
 */
/// <reference types="@webgpu/types" />
import type { Dispatch } from "./engine.ts";
import type { PlanCore } from "./plan.ts";
import { type LineValue, strongWolfe, type WolfeOptions } from "./line_search.ts";
import { UserError } from "./errors.ts";
import { checkResources, engineLimits } from "./limits.ts";
import { checkLbfgsState, DEFAULT_HISTORY, f32ToBase64, type LbfgsState } from "./lbfgs_state.ts";

/** Settings of {@linkcode Lbfgs}. */
export interface LbfgsOptions {
  /** Curvature pairs kept (default 20). */
  m?: number;
  /** Strong-Wolfe constants and the evaluations per line search. */
  wolfe?: WolfeOptions;
  /** Stop when ‖∇L‖₂ ≤ gtol (default 0: never). */
  gtol?: number;
  /** Stop when (L_prev − L) / max(|L_prev|, |L|) ≤ ftol (default 0: only when L stalls). */
  ftol?: number;
}

/** Why {@linkcode Lbfgs.iterate} says to stop (null: go on). */
export type LbfgsStop = "gradient norm" | "loss change" | "line search" | null;

/** One iteration's outcome. */
export interface LbfgsIterate {
  /** Loss at the new parameters. */
  loss: number;
  /** ‖∇L‖₂ at the parameters the iteration started from. */
  gradNorm: number;
  /** Accepted step length (0: no step taken). */
  alpha: number;
  /** Loss-and-gradient evaluations of the line search. */
  evals: number;
  /** Why to stop, or null. */
  stop: LbfgsStop;
}

const SCAL_GAMMA = 4;

/**
 * L-BFGS over `plan`'s loss at its current points and λ. Call
 * {@linkcode Lbfgs.restart} after changing the parameters, points or λ.
 */
export class Lbfgs {
  /** The plan whose parameters it steps. */
  readonly plan: PlanCore;
  /** Curvature pairs kept. */
  readonly m: number;
  /** Loss at the current parameters. */
  loss: number = NaN;
  /** Loss-and-gradient evaluations so far. */
  evals: number = 0;
  #o: LbfgsOptions;
  #k = 0;
  #newest = 0;
  #buf: Record<string, GPUBuffer> = {};
  #uniforms: GPUBuffer[] = [];
  #trialU!: GPUBuffer;
  #evalSeq!: Dispatch[];
  #dirSeq!: Dispatch[];
  #trialSeq!: Dispatch[];
  #pairSeq!: Dispatch[];
  #gramAll!: () => Promise<Dispatch[]>;

  private constructor(plan: PlanCore, o: LbfgsOptions) {
    this.plan = plan;
    this.m = o.m ?? DEFAULT_HISTORY;
    this.#o = o;
    if (!Number.isInteger(this.m) || this.m < 1 || this.m > 1000) {
      throw new UserError("--history", `--history must be an integer in 1..1000, not ${o.m}.`);
    }
  }

  /** Allocates the history and plans the sequences on `plan`. */
  static async create(plan: PlanCore, o: LbfgsOptions = {}): Promise<Lbfgs> {
    const l = new Lbfgs(plan, o);
    await l.#plan();
    return l;
  }

  async #plan(): Promise<void> {
    const p = this.plan, e = p.engine, P = p.net.paramCount, m = this.m, b = p.b;
    const st = (label: string, floats: number, what?: string) =>
      this.#buf[label] = e.storage(`lbfgs.${label}`, floats * 4, what);
    // The history is one buffer: checked like a plan's, naming --history and the
    // most pairs that fit (the binding limit only; the plan's own check has the budget).
    const what = "the L-BFGS history (2 × --history × parameters)";
    checkResources({ ...engineLimits(e), budget: Infinity }, [{
      input: "--history",
      value: m,
      min: 1,
      show: (v) => `--history ${v}`,
      at: (v) => ({
        buffers: [{ label: "lbfgs.hist", what, bytes: 8 * v * P, allocated: 8 * v * P }],
        gpuBytes: 8 * v * P,
        hostBytes: 0,
      }),
    }]);
    st("hist", 2 * m * P, what);
    for (const v of ["q", "d", "x0", "g0"]) st(v, P);
    st("scal", 8 + 2 * m);
    st("state", 4);
    const gram = st("gram", 2 * m * m + 4 * m + 1);
    // Partial dot products: chunks of about 1024 parameters, at most 64.
    const chunks = Math.min(64, Math.ceil(P / 1024));
    const part = st("part", 5 * m * chunks);
    const B = this.#buf;
    const uni = (pos: number, label: string) => {
      const u = e.uniform("lineStart", { count: P, pos, m, G: p.G, chunks }, `lbfgs.${label}`);
      this.#uniforms.push(u);
      return u;
    };
    const u = uni(0, "main");
    this.#trialU = uni(0, "trial");
    const one = (
      name: Parameters<typeof e.dispatch>[0],
      bind: Record<number, GPUBuffer>,
      label: string,
      groups = 1,
    ) => e.dispatch(name, { overrides: { WG: 256 } }, bind, [groups], `lbfgs.${label}`);
    // Workgroups of 64 for one invocation per (block of 4 slots, chunk) of `rows` slots.
    const wide = (rows: number) => Math.ceil(Math.ceil(rows / 4) * chunks / 64);
    // The dot products with g and SY's and YY's row and column of the slot `u` names.
    const gramRow = async (u: GPUBuffer, label: string) => [
      await one(
        "compactDots",
        { 0: u, 1: B.state, 2: B.hist, 5: b.grad, 21: part },
        label,
        wide(m),
      ),
      await one(
        "pairGramSum",
        { 0: u, 1: B.state, 22: part, 19: gram },
        `${label}.sum`,
        Math.ceil(m / 64),
      ),
    ];
    this.#dirSeq = [
      ...await gramRow(u, "dots"),
      await one("compactSolve", { 0: u, 1: B.state, 4: B.scal, 22: part, 19: gram }, "solve"),
      await one(
        "compactCombine",
        { 0: u, 2: B.hist, 5: b.grad, 20: gram, 3: B.q },
        "combine",
        Math.ceil(P / 4 / 256),
      ),
    ];
    this.#dirSeq.push(
      await one("lineStart", {
        0: u,
        6: B.q,
        7: b.params,
        5: b.grad,
        8: B.d,
        9: B.x0,
        10: B.g0,
        4: B.scal,
      }, "start"),
    );
    const values = await one("lineValues", {
      0: u,
      13: b.lossSums,
      14: b.lambda,
      15: b.groups,
      5: b.grad,
      11: B.d,
      4: B.scal,
    }, "values");
    this.#evalSeq = [
      ...p.forward,
      ...p.residual,
      ...p.lossSums,
      ...p.backward,
      ...p.weightGrad,
      ...p.gather,
      values,
    ];
    this.#trialSeq = [
      await one(
        "lineTrial",
        { 0: this.#trialU, 16: B.x0, 11: B.d, 12: b.params },
        "trial",
        Math.ceil(P / 256),
      ),
      ...p.pack,
      ...this.#evalSeq,
    ];
    this.#pairSeq = [
      await one("pairUpdate", {
        0: u,
        1: B.state,
        7: b.params,
        16: B.x0,
        5: b.grad,
        17: B.g0,
        18: B.hist,
        4: B.scal,
      }, "pair"),
    ];
    // Every slot's Gram row and column, for a restored history (pos = slot + 1).
    this.#gramAll = async () => {
      const seq: Dispatch[] = [];
      for (let j = 0; j < m; j++) seq.push(...await gramRow(uni(j + 1, `gram${j}`), `gram${j}`));
      return seq;
    };
  }

  #writeState(): void {
    this.plan.engine.write(this.#buf.state, 0, Uint32Array.of(this.#k, this.#newest, 0, 0));
  }

  /** Forgets the history (γ back to 1). */
  resetHistory(): void {
    this.#k = 0;
    this.#newest = this.m - 1;
    this.#writeState();
    this.plan.engine.write(this.#buf.scal, SCAL_GAMMA * 4, Float32Array.of(1));
  }

  /** Evaluates the loss and gradient at the current parameters and forgets the history. */
  async restart(): Promise<number> {
    this.resetHistory();
    return await this.evaluate();
  }

  /** Loss and gradient at the current parameters (the history is kept); returns the loss. */
  async evaluate(): Promise<number> {
    this.plan.engine.submit("lbfgs.evaluate", this.#evalSeq);
    this.evals++;
    this.loss = (await this.plan.read(this.#buf.scal, 0, 1))[0];
    return this.loss;
  }

  /**
   * The direction, and with `speculate` also the trial at α = 1 in the same submit
   * (one readback instead of two: each readback waits for the device to be polled,
   * ≈ 10 ms in Deno). The trial is what the line search with history tries first,
   * so the iterates are the same; it moves the parameters, which a caller that
   * does not use it puts back with `#trial(0)`.
   */
  async #direction(speculate = false): Promise<{ gg: number; gd: number; at1?: LineValue }> {
    if (speculate) {
      this.#setAlpha(1);
      this.evals++;
    }
    this.plan.engine.submit(
      speculate ? "lbfgs.direction+trial" : "lbfgs.direction",
      this.#dirSeq,
      ...(speculate ? [this.#trialSeq] : []),
    );
    const s = await this.plan.read(this.#buf.scal, 0, 4);
    return { gg: s[2], gd: s[3], at1: speculate ? { f: s[0], df: s[1] } : undefined };
  }

  #setAlpha(alpha: number): void {
    const e = this.plan.engine;
    e.write(
      this.#trialU,
      0,
      e.uniformBytes("lineTrial", { count: this.plan.net.paramCount, alpha }),
    );
  }

  async #trial(alpha: number): Promise<LineValue> {
    this.#setAlpha(alpha);
    this.plan.engine.submit("lbfgs.trial", this.#trialSeq);
    this.evals++;
    const s = await this.plan.read(this.#buf.scal, 0, 2);
    return { f: s[0], df: s[1] };
  }

  /**
   * The search direction −H∇L at the current parameters and gradient (as of the
   * last evaluation), from the history as it stands; the parameters do not move.
   */
  async direction(): Promise<Float32Array> {
    await this.#direction();
    return await this.plan.read(this.#buf.d, 0, this.plan.net.paramCount);
  }

  /** One L-BFGS iteration: direction, strong-Wolfe line search, history update. */
  async iterate(): Promise<LbfgsIterate> {
    const o = this.#o;
    // With history the first trial is α = 1: it rides with the direction.
    let { gg, gd, at1 } = await this.#direction(this.#k > 0);
    const gradNorm = Math.sqrt(gg);
    const none = { loss: this.loss, gradNorm, alpha: 0, evals: 0 };
    // Back to the start point (α = 0 gives x0 exactly) if the speculative trial moved away.
    const unspeculate = async () => {
      if (at1) {
        at1 = undefined;
        await this.#trial(0);
      }
    };
    const stopAt = async (stop: LbfgsStop): Promise<LbfgsIterate> => {
      await unspeculate();
      return { ...none, stop };
    };
    if (gradNorm <= (o.gtol ?? 0)) return await stopAt("gradient norm");
    if (!(gd < 0) && this.#k > 0) {
      // Not a descent direction (the curvature pairs are stale): steepest descent
      // from the start point.
      await unspeculate();
      this.resetHistory();
      ({ gg, gd } = await this.#direction());
    }
    if (!(gd < 0)) return await stopAt("line search");
    const first = this.#k === 0 ? Math.min(1, 1 / gradNorm) : 1;
    let last = NaN;
    const ls = await strongWolfe(
      async (a) => {
        last = a;
        if (at1 && a === 1) {
          const v = at1;
          at1 = undefined;
          return v;
        }
        return await this.#trial(a);
      },
      { f: this.loss, df: gd },
      first,
      o.wolfe,
    );
    if (ls.alpha === 0) {
      // Back to the start point (α = 0 gives x0 exactly), with its gradient.
      await this.#trial(0);
      this.loss = (await this.plan.read(this.#buf.scal, 0, 1))[0];
      const hadHistory = this.#k > 0;
      this.resetHistory();
      return { ...none, evals: ls.evals, stop: hadHistory ? null : "line search" };
    }
    if (last !== ls.alpha) await this.#trial(ls.alpha);
    this.#newest = (this.#newest + 1) % this.m;
    this.#k = Math.min(this.#k + 1, this.m);
    this.#writeState();
    this.plan.engine.submit("lbfgs.pair", this.#pairSeq);
    const prev = this.loss;
    this.loss = ls.f;
    const change = (prev - ls.f) / Math.max(Math.abs(prev), Math.abs(ls.f));
    const stop = change <= (o.ftol ?? 0) ? "loss change" : null;
    return { loss: ls.f, gradNorm, alpha: ls.alpha, evals: ls.evals, stop };
  }

  /** The history and scalars, for a checkpoint. */
  async state(): Promise<LbfgsState> {
    const P = this.plan.net.paramCount;
    const [hist, scal] = await Promise.all([
      this.plan.read(this.#buf.hist, 0, 2 * this.m * P),
      this.plan.read(this.#buf.scal, 0, 8 + 2 * this.m),
    ]);
    return { k: this.#k, newest: this.#newest, hist: f32ToBase64(hist), scal: f32ToBase64(scal) };
  }

  /** Restores {@linkcode Lbfgs.state} (then evaluates at the current parameters). */
  async restore(s: LbfgsState): Promise<void> {
    const { hist, scal } = checkLbfgsState(s, this.m, this.plan.net.paramCount);
    this.#k = s.k;
    this.#newest = s.newest;
    this.#writeState();
    this.plan.engine.write(this.#buf.hist, 0, hist);
    this.plan.engine.write(this.#buf.scal, 0, scal);
    this.plan.engine.submit("lbfgs.gram", await this.#gramAll());
    await this.evaluate();
  }

  /** Releases the history buffers. */
  async dispose(): Promise<void> {
    for (const u of this.#uniforms) u.destroy();
    this.#uniforms = [];
    await this.plan.engine.pool.release(...Object.values(this.#buf));
    this.#buf = {};
  }
}
