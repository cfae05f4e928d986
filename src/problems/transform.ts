/**
 * Hard constraints by an output transform (DeepXDE's `apply_output_transform`):
 * the solution is u_k(x) = a_k(x) + b_k(x) · N_k(x), with N the network and a_k, b_k
 * closed-form functions of the inputs chosen so that u meets a boundary or initial
 * condition whatever N is (b_k vanishes where the condition holds and a_k meets it).
 * A group the transform satisfies exactly is left out of the problem: it has no
 * residual left to train.
 *
 * {@linkcode withTransform} rewrites every group's residual, written in u as usual,
 * in N's channels by the product rule:
 *
 *   ∂_i u = ∂_i a + ∂_i b N + b ∂_i N,
 *   ∂_ij u = ∂_ij a + ∂_ij b N + ∂_i b ∂_j N + ∂_j b ∂_i N + b ∂_ij N,
 *
 * with a and b differentiated symbolically ({@linkcode diffInput}). The kernels and
 * the float64 reference then train N like any other network; predictions (the
 * evaluation grid, `predict`) map N to u with {@linkcode applyTransform}.
 *
 * @example Q = 0 on the sides of [0, 2]² and Q(0) = Q0 with Q_t(0) = 0
 * ```ts ignore
 * const g = E.mul(E.x(1), E.sub(2, E.x(1)), E.x(2), E.sub(2, E.x(2)));
 * const hard = withTransform(soft, {
 *   offset: [q0Expr(0), q0Expr(1)],
 *   factor: [E.mul(E.pow(E.x(0), 2), g), E.mul(E.pow(E.x(0), 2), g)],
 *   doc: "Q = Q0 + t² x(2 − x) y(2 − y) N",
 * });
 * ```
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { differentiate, E, evalExpr, type Expr, type ExprLike } from "./expr.ts";
import { type GroupDef, type Problem, problemOutputs } from "./problem.ts";

/** u_k = offset_k(x) + factor_k(x) · N_k(x), one expression over the inputs (E.x) per output. */
export interface OutputTransform {
  /** a_k, one per output (0 when absent). */
  offset?: ExprLike[];
  /** b_k, one per output. */
  factor: ExprLike[];
  /** One line for documentation and reports, e.g. "u = t x (1 − x) N". */
  doc: string;
}

const lift = (e: ExprLike): Expr => typeof e === "number" ? E.c(e) : e;

/** ∂e/∂x_dir of an expression over the inputs only (one that reads no channel). */
export function diffInput(e: Expr, dir: number): Expr {
  return differentiate(e, (leaf) => {
    if (leaf.op === "channel") {
      throw new Error("an output transform's offset and factor must not read the network");
    }
    return E.c(leaf.op === "input" && leaf.index === dir ? 1 : 0);
  });
}

/** True when `e` reads a network channel. */
export function readsNetwork(e: Expr): boolean {
  if (e.op === "channel") return true;
  if ("b" in e) return readsNetwork(e.a) || readsNetwork(e.b);
  return "a" in e ? readsNetwork(e.a) : false;
}

/** Rewrites `e` (over u's channels) over N's channels for the transform (a, b) per output. */
function substitute(e: Expr, a: Expr[], b: Expr[]): Expr {
  const s = (y: Expr) => substitute(y, a, b);
  switch (e.op) {
    case "const":
    case "input":
      return e;
    case "channel": {
      const k = e.ref.out ?? 0;
      const [ak, bk] = [a[k], b[k]];
      if (e.ref.order === 0) return E.add(ak, E.mul(bk, E.u(k)));
      const i = e.ref.dir;
      if (e.ref.order === 1) {
        return E.add(diffInput(ak, i), E.mul(diffInput(bk, i), E.u(k)), E.mul(bk, E.du(i, k)));
      }
      const j = e.ref.dir2 ?? i;
      const [bi, bj] = [diffInput(bk, i), diffInput(bk, j)];
      return E.add(
        diffInput(diffInput(ak, i), j),
        E.mul(diffInput(bi, j), E.u(k)),
        E.mul(bi, E.du(j, k)),
        E.mul(bj, E.du(i, k)),
        E.mul(bk, E.d2(i, j, k)),
      );
    }
    case "add":
    case "sub":
    case "mul":
    case "div":
      return E[e.op](s(e.a), s(e.b));
    case "neg":
    case "sin":
    case "cos":
    case "exp":
    case "tanh":
      return E[e.op](s(e.a));
    case "pow":
      return E.pow(s(e.a), e.n);
  }
}

/** The transform's (a_k, b_k) as expressions, checked against `m` outputs. */
function parts(t: OutputTransform, m: number): { a: Expr[]; b: Expr[] } {
  const a = (t.offset ?? Array.from({ length: m }, () => 0)).map(lift);
  const b = t.factor.map(lift);
  if (a.length !== m || b.length !== m) {
    throw new Error(
      `an output transform needs one offset and one factor per output (${m}); got ${a.length} and ${b.length}`,
    );
  }
  for (const e of [...a, ...b]) {
    if (readsNetwork(e)) {
      throw new Error("an output transform's offset and factor must not read the network");
    }
  }
  return { a, b };
}

/**
 * `problem` trained through the output transform `t`: every group's residual (in
 * u) rewritten in the network's channels, and `transform` set so that predictions
 * map the network to u. Throws for a group the transform satisfies exactly (its
 * residual no longer reads the network): leave such groups out.
 */
export function withTransform(problem: Problem, t: OutputTransform): Problem {
  if (problem.transform) throw new Error(`problem ${problem.name} already has an output transform`);
  const m = problemOutputs(problem).length;
  const { a, b } = parts(t, m);
  const groups = problem.groups.map((g): GroupDef => {
    const residual = substitute(g.residual, a, b);
    if (!readsNetwork(residual)) {
      throw new Error(
        `group "${g.name}" of problem ${problem.name} holds exactly under the output transform "${t.doc}"; leave it out`,
      );
    }
    return { ...g, residual };
  });
  return { ...problem, groups, transform: t };
}

/**
 * Maps network outputs `raw` (one array per output, one value per point) at
 * `points` to the solution u through the problem's transform (in float64, rounded
 * to float32); returns `raw` itself when the problem has none.
 */
export function applyTransform(
  problem: Problem,
  points: readonly (readonly number[])[],
  raw: Float32Array[],
): Float32Array[] {
  const t = problem.transform;
  if (!t) return raw;
  const { a, b } = parts(t, raw.length);
  const none = new Float64Array(0);
  const set = { first: [], numSecond: 0 };
  return raw.map((n, k) =>
    n.map((v, i) => evalExpr(a[k], points[i], none, set) + evalExpr(b[k], points[i], none, set) * v)
  );
}

/**
 * Refuses a network trained through another output transform than `problem`'s
 * (`trained`: the model file's `transform`): its outputs would mean something
 * else. `path` names the file in the message.
 */
export function checkModelTransform(
  trained: string | undefined,
  problem: Problem,
  path: string,
): void {
  const now = problem.transform?.doc;
  if (trained === now) return;
  const say = (t: string | undefined) => t === undefined ? "no output transform" : `"${t}"`;
  throw new UserError(
    path,
    `${path} was trained through ${say(trained)}, but problem ${problem.name} now has ${
      say(now)
    }; its outputs would be misread: train it again for this problem.`,
  );
}
