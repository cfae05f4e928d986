/**
 * The expression builders {@linkcode E}: constants, inputs, operations (folding
 * constants as they build) and channel helpers reading an output by index, or by
 * name through `E.named(outputs)`.
 *
 * @module
 */
import type { ChannelRef, Expr, ExprLike } from "./expr.ts";

function channel(order: 0 | 1 | 2, dir: number, out: number, dir2?: number): Expr {
  if (!Number.isInteger(out) || out < 0) {
    throw new Error(`output index must be a whole number ≥ 0, got ${out}`);
  }
  const ref: ChannelRef = { order, dir };
  if (dir2 !== undefined && dir2 !== dir) {
    ref.dir = Math.min(dir, dir2);
    ref.dir2 = Math.max(dir, dir2);
  }
  if (out !== 0) ref.out = out;
  return { op: "channel", ref };
}

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
 * The channel helpers of {@linkcode E} over outputs named by `O` (an output index,
 * or a name where the problem names its outputs; see {@linkcode E.named}).
 */
export interface ChannelHelpers<O> {
  /** The network output u_out (output 0 when left out). */
  u(out?: O): Expr;
  /** ∂u_out/∂x_dir. */
  du(dir: number, out?: O): Expr;
  /** ∂²u_out/∂x_dir². */
  d2u(dir: number, out?: O): Expr;
  /** ∂²u_out/∂x_a∂x_b (mixed when a ≠ b, pure when a = b). */
  d2(a: number, b: number, out?: O): Expr;
}

/** The channel helpers reading output `out` through `index` (a name's position). */
function channelHelpers<O>(index: (out: O) => number): ChannelHelpers<O> {
  return {
    u: (out) => channel(0, 0, out === undefined ? 0 : index(out)),
    du: (dir, out) => channel(1, dir, out === undefined ? 0 : index(out)),
    d2u: (dir, out) => channel(2, dir, out === undefined ? 0 : index(out)),
    d2: (a, b, out) => channel(2, a, out === undefined ? 0 : index(out), b),
  };
}

/** The builders of {@linkcode E} other than its channel helpers. */
export interface Ops {
  /** A constant. */
  c(value: number): Expr;
  /** Input coordinate number `index`. */
  x(index: number): Expr;
  /** Sum of the terms (0 for none). */
  add(...xs: ExprLike[]): Expr;
  /** a − b. */
  sub(a: ExprLike, b: ExprLike): Expr;
  /** Product of the factors (1 for none). */
  mul(...xs: ExprLike[]): Expr;
  /** a / b. */
  div(a: ExprLike, b: ExprLike): Expr;
  /** −a. */
  neg(a: ExprLike): Expr;
  /** sin a. */
  sin(a: ExprLike): Expr;
  /** cos a. */
  cos(a: ExprLike): Expr;
  /** e^a. */
  exp(a: ExprLike): Expr;
  /** tanh a. */
  tanh(a: ExprLike): Expr;
  /** Integer power (n ≥ 0). */
  pow(a: ExprLike, n: number): Expr;
}

const ops: Ops = {
  c: (value: number): Expr => ({ op: "const", value }),
  x: (index: number): Expr => ({ op: "input", index }),
  add: (...xs: ExprLike[]): Expr =>
    xs.map(lift).reduce((p, q) => binary("add", p, q), { op: "const", value: 0 }),
  sub: (a: ExprLike, b: ExprLike): Expr => binary("sub", a, b),
  mul: (...xs: ExprLike[]): Expr =>
    xs.map(lift).reduce((p, q) => binary("mul", p, q), { op: "const", value: 1 }),
  div: (a: ExprLike, b: ExprLike): Expr => binary("div", a, b),
  neg: (a: ExprLike): Expr => unary("neg", a),
  sin: (a: ExprLike): Expr => unary("sin", a),
  cos: (a: ExprLike): Expr => unary("cos", a),
  exp: (a: ExprLike): Expr => unary("exp", a),
  tanh: (a: ExprLike): Expr => unary("tanh", a),
  pow: (a: ExprLike, n: number): Expr => {
    if (!Number.isInteger(n) || n < 0) throw new Error(`pow needs a whole exponent ≥ 0, got ${n}`);
    const b = lift(a);
    if (n === 0) return { op: "const", value: 1 };
    if (n === 1) return b;
    if (b.op === "const") return { op: "const", value: b.value ** n };
    return { op: "pow", a: b, n };
  },
};

/** The builders whose channel helpers read outputs by index or by one of the names `N`. */
export type NamedBuilders<N extends string> = Ops & ChannelHelpers<N | number>;

/**
 * Expression builders. Inputs are numbered in the order the problem documents
 * them (wave: 0 = t, 1 = x); outputs in the order of `Problem.outputs` (the
 * optional last argument of every channel helper, 0 when left out).
 * `E.named(outputs)` gives the same builders whose channel helpers also take the
 * outputs' names.
 *
 * @example Wave residual u_tt − 4 u_xx
 * ```ts
 * import { E } from "./expr.ts";
 * const r = E.sub(E.d2u(0), E.mul(4, E.d2u(1)));
 * ```
 */
export const E: Ops & ChannelHelpers<number> & {
  /**
   * The same builders with channel helpers that also take output names, in the
   * order the problem lists them in `outputs` (a name not among them throws,
   * naming the known ones).
   *
   * @example Continuity u_x + v_y over outputs (u, v, p)
   * ```ts
   * import { E } from "./expr.ts";
   * const F = E.named(["u", "v", "p"]);
   * const div = F.add(F.du(0, "u"), F.du(1, "v")); // E.add(E.du(0, 0), E.du(1, 1))
   * ```
   */
  named<N extends string>(outputs: readonly N[]): NamedBuilders<N>;
} = {
  ...ops,
  ...channelHelpers<number>((out) => out),
  named: <N extends string>(outputs: readonly N[]): NamedBuilders<N> => ({
    ...ops,
    ...channelHelpers<N | number>((out) => {
      if (typeof out === "number") return out;
      const k = outputs.indexOf(out);
      if (k < 0) throw new Error(`output "${out}" is not one of the outputs ${outputs.join(", ")}`);
      return k;
    }),
  }),
};
