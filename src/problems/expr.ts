/**
 * A small expression language for PDE residuals over input-derivative channels.
 *
 * One expression drives three things: the WGSL residual function the GPU runs,
 * its derivatives with respect to every channel (the backward seeds and the
 * JVP contraction), and a float64 evaluation used by the reference.
 *
 * @module
 */

/**
 * Which derivative of which output a channel carries: order 0 (value), 1
 * (∂_dir u) or 2 (∂²u/∂x_dir∂x_dir2; pure when `dir2` is absent or equals `dir`).
 */
export interface ChannelRef {
  /** Derivative order. */
  order: 0 | 1 | 2;
  /** Input direction of the derivative (0 for the value). */
  dir: number;
  /** Second direction of a mixed second derivative (dir < dir2); absent for the others. */
  dir2?: number;
  /** Output index k of u_k (0 when absent). */
  out?: number;
}

/** The output a channel reference reads (0 when it names none). */
export const refOutput = (r: ChannelRef): number => r.out ?? 0;

/** True for a mixed second derivative ∂²/∂x_a∂x_b with a ≠ b. */
const isMixed = (r: ChannelRef): boolean =>
  r.order === 2 && r.dir2 !== undefined && r.dir2 !== r.dir;

import { E } from "./builders.ts";

export { E };
export type { ChannelHelpers, NamedBuilders, Ops } from "./builders.ts";

/** An expression node. Build them with the helpers of {@linkcode E}. */
export type Expr =
  | { op: "const"; value: number }
  | { op: "input"; index: number }
  | { op: "channel"; ref: ChannelRef }
  | { op: "add" | "sub" | "mul" | "div"; a: Expr; b: Expr }
  | { op: "neg" | "sin" | "cos" | "exp" | "tanh"; a: Expr }
  | { op: "pow"; a: Expr; n: number };

/** Anything accepted where an expression is expected: numbers become constants. */
export type ExprLike = Expr | number;

/**
 * The channels a residual needs, ordered as the kernels store them: value,
 * first derivatives (directions that also have a pure second derivative first),
 * pure second derivatives in the same order (second-derivative channel s belongs
 * to first-derivative channel s), then mixed second derivatives. Every output of
 * the network carries the same channels: hidden channels are shared.
 */
export interface ChannelSet {
  /** Input directions of the first-derivative channels. */
  first: number[];
  /** How many of `first` (a prefix) also have a pure second-derivative channel. */
  numSecond: number;
  /** Mixed channels ∂²/∂x_a∂x_b as [a, b] (a < b, both in `first`); none when absent. */
  mixed?: [number, number][];
}

/** Channel count 1 + |first| + numSecond + |mixed|. */
export const channelCount = (s: ChannelSet): number =>
  1 + s.first.length + s.numSecond + (s.mixed?.length ?? 0);

/** Walks every channel reference of `exprs`. */
function eachChannel(exprs: Expr[], f: (r: ChannelRef) => void): void {
  const walk = (e: Expr): void => {
    if (e.op === "channel") f(e.ref);
    else if ("b" in e) {
      walk(e.a);
      walk(e.b);
    } else if ("a" in e) walk(e.a);
  };
  exprs.forEach(walk);
}

/** Collects every channel an expression reads (a mixed channel needs both first derivatives). */
export function channelsOf(exprs: Expr[]): ChannelSet {
  const first = new Set<number>(),
    second = new Set<number>(),
    mixed = new Map<string, [number, number]>();
  eachChannel(exprs, (r) => {
    if (r.order >= 1) first.add(r.dir);
    if (isMixed(r)) {
      first.add(r.dir2!);
      mixed.set(`${r.dir},${r.dir2}`, [r.dir, r.dir2!]);
    } else if (r.order === 2) second.add(r.dir);
  });
  const withSecond = [...second].sort((a, b) => a - b);
  const rest = [...first].filter((d) => !second.has(d)).sort((a, b) => a - b);
  const set: ChannelSet = { first: [...withSecond, ...rest], numSecond: withSecond.length };
  if (mixed.size) set.mixed = [...mixed.values()].sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  return set;
}

/** Number of outputs an expression reads: 1 + the largest output index. */
export function outputsOf(exprs: Expr[]): number {
  let m = 1;
  eachChannel(exprs, (r) => m = Math.max(m, refOutput(r) + 1));
  return m;
}

/**
 * Index of a channel within one output's channels (the output is ignored), or -1
 * when the set lacks it.
 */
export function channelIndex(set: ChannelSet, ref: ChannelRef): number {
  if (ref.order === 0) return 0;
  if (isMixed(ref)) {
    const k = set.mixed?.findIndex(([a, b]) => a === ref.dir && b === ref.dir2) ?? -1;
    return k < 0 ? -1 : 1 + set.first.length + set.numSecond + k;
  }
  const i = set.first.indexOf(ref.dir);
  if (i < 0) return -1;
  if (ref.order === 1) return 1 + i;
  return i < set.numSecond ? 1 + set.first.length + i : -1;
}

/** The references of a set's channels of output `out`, in channel order (inverse of {@linkcode channelIndex}). */
export function channelRefs(set: ChannelSet, out = 0): ChannelRef[] {
  const o = out === 0 ? {} : { out };
  return [
    { order: 0, dir: 0, ...o },
    ...set.first.map((dir) => ({ order: 1 as const, dir, ...o })),
    ...set.first.slice(0, set.numSecond).map((dir) => ({ order: 2 as const, dir, ...o })),
    ...(set.mixed ?? []).map(([dir, dir2]) => ({ order: 2 as const, dir, dir2, ...o })),
  ];
}

/** Position of a channel in a residual's channel array: output-major, C channels per output. */
const slot = (set: ChannelSet, ref: ChannelRef): number => {
  const i = channelIndex(set, ref);
  return i < 0 ? -1 : refOutput(ref) * channelCount(set) + i;
};

const sameRef = (a: ChannelRef, b: ChannelRef): boolean =>
  a.order === b.order && refOutput(a) === refOutput(b) &&
  (a.order === 0 || (a.dir === b.dir && (a.dir2 ?? a.dir) === (b.dir2 ?? b.dir)));

/** Symbolic derivative of `e` with respect to one channel. */
export function diffChannel(e: Expr, ref: ChannelRef): Expr {
  return differentiate(e, (leaf) => E.c(leaf.op === "channel" && sameRef(leaf.ref, ref) ? 1 : 0));
}

/**
 * Symbolic derivative of `e` by the chain rule, with `leaf` giving the derivative
 * of each constant, input and channel node (what the variable is: a channel for
 * {@linkcode diffChannel}, an input for the output transforms' `diffInput`).
 */
export function differentiate(
  e: Expr,
  leaf: (e: Extract<Expr, { op: "const" | "input" | "channel" }>) => Expr,
): Expr {
  const d = (x: Expr) => differentiate(x, leaf);
  switch (e.op) {
    case "const":
    case "input":
    case "channel":
      return leaf(e);
    case "add":
      return E.add(d(e.a), d(e.b));
    case "sub":
      return E.sub(d(e.a), d(e.b));
    case "mul":
      return E.add(E.mul(d(e.a), e.b), E.mul(e.a, d(e.b)));
    case "div":
      return E.div(E.sub(E.mul(d(e.a), e.b), E.mul(e.a, d(e.b))), E.mul(e.b, e.b));
    case "neg":
      return E.neg(d(e.a));
    case "sin":
      return E.mul(E.cos(e.a), d(e.a));
    case "cos":
      return E.neg(E.mul(E.sin(e.a), d(e.a)));
    case "exp":
      return E.mul(e, d(e.a));
    case "tanh":
      return E.mul(E.sub(1, E.mul(e, e)), d(e.a));
    case "pow":
      return E.mul(e.n, E.pow(e.a, e.n - 1), d(e.a));
  }
}

/**
 * Evaluates in float64; `ch` holds C channels per output, output-major, each
 * output's channels ordered as {@linkcode channelIndex} orders the set.
 */
export function evalExpr(
  e: Expr,
  x: ArrayLike<number>,
  ch: ArrayLike<number>,
  set: ChannelSet,
): number {
  const ev = (y: Expr): number => evalExpr(y, x, ch, set);
  switch (e.op) {
    case "const":
      return e.value;
    case "input":
      return x[e.index];
    case "channel":
      return ch[slot(set, e.ref)];
    case "add":
      return ev(e.a) + ev(e.b);
    case "sub":
      return ev(e.a) - ev(e.b);
    case "mul":
      return ev(e.a) * ev(e.b);
    case "div":
      return ev(e.a) / ev(e.b);
    case "neg":
      return -ev(e.a);
    case "sin":
      return Math.sin(ev(e.a));
    case "cos":
      return Math.cos(ev(e.a));
    case "exp":
      return Math.exp(ev(e.a));
    case "tanh":
      return Math.tanh(ev(e.a));
    case "pow":
      return ev(e.a) ** e.n;
  }
}

function wgslNumber(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`residual constant ${v} is not finite`);
  const s = Math.fround(v).toPrecision(9);
  return /[.e]/.test(s) ? `f32(${s})` : `f32(${s}.0)`;
}

/**
 * WGSL source of an expression over the point `x` and the channel array `ch`
 * (C channels per output, output-major) of the residual kernel.
 */
export function toWgsl(e: Expr, set: ChannelSet): string {
  const w = (y: Expr) => toWgsl(y, set);
  switch (e.op) {
    case "const":
      return wgslNumber(e.value);
    case "input":
      return `x[${e.index}]`;
    case "channel": {
      const i = slot(set, e.ref);
      if (i < 0) throw new Error("channel missing from the channel set");
      return `ch[${i}]`;
    }
    case "add":
      return `(${w(e.a)} + ${w(e.b)})`;
    case "sub":
      return `(${w(e.a)} - ${w(e.b)})`;
    case "mul":
      return `(${w(e.a)} * ${w(e.b)})`;
    case "div":
      return `(${w(e.a)} / ${w(e.b)})`;
    case "neg":
      return `(-${w(e.a)})`;
    case "sin":
    case "cos":
    case "exp":
    case "tanh":
      return `${e.op}(${w(e.a)})`;
    case "pow":
      return `(${Array.from({ length: e.n }, () => w(e.a)).join(" * ")})`;
  }
}
