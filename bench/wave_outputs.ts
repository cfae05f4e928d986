/**
 * The wave problem with m outputs of the same channels, for timing what extra
 * outputs cost: every group's residual sums its wave expression over all outputs,
 * so each output carries the channels of the one-output problem (u, u_t, u_x,
 * u_tt, u_xx for r; u for u; u_t for ut) and nothing else changes.
 *
 * @module
 */
import { E, type Expr } from "../src/problems/expr.ts";
import type { Problem } from "../src/problems/problem.ts";
import { wave } from "../src/problems/wave.ts";

/** `wave` with outputs u0 … u(m−1); group j's residual is Σ_k (its expression for u_k). */
export function waveOutputs(m: number): Problem {
  const over = (f: (k: number) => Expr) => E.add(...Array.from({ length: m }, (_, k) => f(k)));
  const residuals: Record<string, Expr> = {
    r: over((k) => E.sub(E.d2u(0, k), E.mul(4, E.d2u(1, k)))),
    u: over((k) => E.u(k)),
    ut: over((k) => E.du(0, k)),
  };
  return {
    ...wave,
    name: `wave-${m}-outputs`,
    outputs: Array.from({ length: m }, (_, k) => `u${k}`),
    exact: undefined,
    sizes: [...wave.sizes.slice(0, -1), m],
    groups: wave.groups.map((g) => ({ ...g, residual: residuals[g.name] })),
  };
}
