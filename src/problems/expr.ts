/**
 * A small expression language for PDE residuals over input-derivative channels.
 *
 * One expression drives three things: the WGSL residual function the GPU runs,
 * its derivatives with respect to every channel (the backward seeds and the
 * JVP contraction), and a float64 evaluation used by the reference.
 *
 * @module
 */

/** Which derivative of u a channel carries: order 0 (value), 1 (∂_dir u) or 2 (∂²_dir u). */
export interface ChannelRef {
  /** Derivative order. */
  order: 0 | 1 | 2;
  /** Input direction of the derivative (0 for the value). */
  dir: number;
}

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

const lift = (e: ExprLike): Expr => typeof e === "number" ? { op: "const", value: e } : e;

function isConst(e: Expr, v?: number): boolean {
  return e.op === "const" && (v === undefined || e.value === v);
}

function binary(op: "add" | "sub" | "mul" | "div", x: ExprLike, y: ExprLike): Expr {
  const a = lift(x), b = lift(y);
  if (a.op === "const" && b.op === "const") {
    const v = op === "add"
      ? a.value + b.value
      : op === "sub"
      ? a.value - b.value
      : op === "mul"
      ? a.value * b.value
      : a.value / b.value;
    return { op: "const", value: v };
  }
  if (op === "add") {
    if (isConst(a, 0)) return b;
    if (isConst(b, 0)) return a;
  }
  if (op === "sub") {
    if (isConst(b, 0)) return a;
    if (isConst(a, 0)) return unary("neg", b);
  }
  if (op === "mul") {
    if (isConst(a, 0) || isConst(b, 0)) return { op: "const", value: 0 };
    if (isConst(a, 1)) return b;
    if (isConst(b, 1)) return a;
  }
  if (op === "div" && isConst(b, 1)) return a;
  return { op, a, b };
}

function unary(op: "neg" | "sin" | "cos" | "exp" | "tanh", x: ExprLike): Expr {
  const a = lift(x);
  if (a.op === "const") {
    const f = {
      neg: (v: number) => -v,
      sin: Math.sin,
      cos: Math.cos,
      exp: Math.exp,
      tanh: Math.tanh,
    }[
      op
    ];
    return { op: "const", value: f(a.value) };
  }
  if (op === "neg" && a.op === "neg") return a.a;
  return { op, a };
}

/**
 * Expression builders. Inputs are numbered in the order the problem documents
 * them (wave: 0 = t, 1 = x).
 *
 * @example Wave residual u_tt − 4 u_xx
 * ```ts
 * import { E } from "./expr.ts";
 * const r = E.sub(E.d2u(0), E.mul(4, E.d2u(1)));
 * ```
 */
export const E = {
  /** A constant. */
  c: (value: number): Expr => ({ op: "const", value }),
  /** Input coordinate number `index`. */
  x: (index: number): Expr => ({ op: "input", index }),
  /** The network output u. */
  u: (): Expr => ({ op: "channel", ref: { order: 0, dir: 0 } }),
  /** ∂u/∂x_dir. */
  du: (dir: number): Expr => ({ op: "channel", ref: { order: 1, dir } }),
  /** ∂²u/∂x_dir². */
  d2u: (dir: number): Expr => ({ op: "channel", ref: { order: 2, dir } }),
  add: (...xs: ExprLike[]): Expr => xs.map(lift).reduce((p, q) => binary("add", p, q), E.c(0)),
  sub: (a: ExprLike, b: ExprLike): Expr => binary("sub", a, b),
  mul: (...xs: ExprLike[]): Expr => xs.map(lift).reduce((p, q) => binary("mul", p, q), E.c(1)),
  div: (a: ExprLike, b: ExprLike): Expr => binary("div", a, b),
  neg: (a: ExprLike): Expr => unary("neg", a),
  sin: (a: ExprLike): Expr => unary("sin", a),
  cos: (a: ExprLike): Expr => unary("cos", a),
  exp: (a: ExprLike): Expr => unary("exp", a),
  tanh: (a: ExprLike): Expr => unary("tanh", a),
  /** Integer power (n ≥ 0). */
  pow: (a: ExprLike, n: number): Expr => {
    if (!Number.isInteger(n) || n < 0) throw new Error(`pow needs a whole exponent ≥ 0, got ${n}`);
    const b = lift(a);
    if (n === 0) return E.c(1);
    if (n === 1) return b;
    if (b.op === "const") return E.c(b.value ** n);
    return { op: "pow", a: b, n };
  },
};

/**
 * The channels a residual needs, ordered as the kernels store them: value,
 * first derivatives (directions that also have a second derivative first), then
 * second derivatives in the same order, so second-derivative channel s belongs to
 * first-derivative channel s.
 */
export interface ChannelSet {
  /** Input directions of the first-derivative channels. */
  first: number[];
  /** How many of `first` (a prefix) also have a second-derivative channel. */
  numSecond: number;
}

/** Channel count 1 + |first| + numSecond. */
export const channelCount = (s: ChannelSet): number => 1 + s.first.length + s.numSecond;

/** Collects every channel an expression reads. */
export function channelsOf(exprs: Expr[]): ChannelSet {
  const first = new Set<number>(), second = new Set<number>();
  const walk = (e: Expr): void => {
    if (e.op === "channel") {
      if (e.ref.order >= 1) first.add(e.ref.dir);
      if (e.ref.order === 2) second.add(e.ref.dir);
    } else if ("b" in e) {
      walk(e.a);
      walk(e.b);
    } else if ("a" in e) walk(e.a);
  };
  exprs.forEach(walk);
  const withSecond = [...second].sort((a, b) => a - b);
  const rest = [...first].filter((d) => !second.has(d)).sort((a, b) => a - b);
  return { first: [...withSecond, ...rest], numSecond: withSecond.length };
}

/** Index of a channel in a set, or -1 when the set lacks it. */
export function channelIndex(set: ChannelSet, ref: ChannelRef): number {
  if (ref.order === 0) return 0;
  const i = set.first.indexOf(ref.dir);
  if (i < 0) return -1;
  if (ref.order === 1) return 1 + i;
  return i < set.numSecond ? 1 + set.first.length + i : -1;
}

/** Symbolic derivative of `e` with respect to one channel. */
export function diffChannel(e: Expr, ref: ChannelRef): Expr {
  const d = (x: Expr) => diffChannel(x, ref);
  switch (e.op) {
    case "const":
    case "input":
      return E.c(0);
    case "channel":
      return E.c(e.ref.order === ref.order && (ref.order === 0 || e.ref.dir === ref.dir) ? 1 : 0);
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

/** Evaluates in float64; `ch` is indexed as {@linkcode channelIndex} orders the set. */
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
      return ch[channelIndex(set, e.ref)];
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
 * WGSL source of an expression over `x: array<f32, 3>` and `ch: array<f32, 7>`
 * (the kernels' fixed-size point and channel arrays).
 */
export function toWgsl(e: Expr, set: ChannelSet): string {
  const w = (y: Expr) => toWgsl(y, set);
  switch (e.op) {
    case "const":
      return wgslNumber(e.value);
    case "input":
      return `x[${e.index}]`;
    case "channel": {
      const i = channelIndex(set, e.ref);
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
