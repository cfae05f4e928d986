/**
 * Residuals of the steady incompressible Navier–Stokes equations in two
 * dimensions over the outputs (u, v, p) and the inputs (x, y), shared by the
 * built-in flows (`kovasznay`, `cavity`) and open to custom problem modules:
 *
 *   momentum k:  u ∂_x u_k + v ∂_y u_k + ∂_k p − (∂_xx u_k + ∂_yy u_k)/Re,
 *   continuity:  ∂_x u + ∂_y v.
 *
 * @example
 * ```ts
 * import { continuityResidual, FLOW_OUTPUTS, momentumResidual } from "./navier_stokes.ts";
 * const groups = [momentumResidual(0, 100), momentumResidual(1, 100), continuityResidual()];
 * FLOW_OUTPUTS; // ["u", "v", "p"]: the problem's `outputs`
 * ```
 *
 * @module
 */
import { E, type Expr } from "./expr.ts";

/** The outputs the flow residuals read, in the order a problem lists them. */
export const FLOW_OUTPUTS = ["u", "v", "p"] as const;

const F = E.named(FLOW_OUTPUTS);

/**
 * Momentum residual of velocity component `k` (0: u along x, 1: v along y) at
 * Reynolds number `re`: (u·∇)u_k + ∂_k p − Δu_k/re.
 */
export function momentumResidual(k: 0 | 1, re: number): Expr {
  const c = FLOW_OUTPUTS[k];
  return F.add(
    F.mul(F.u("u"), F.du(0, c)),
    F.mul(F.u("v"), F.du(1, c)),
    F.du(k, "p"),
    F.mul(-1 / re, F.add(F.d2u(0, c), F.d2u(1, c))),
  );
}

/** Continuity residual ∇·u = u_x + v_y. */
export function continuityResidual(): Expr {
  return F.add(F.du(0, "u"), F.du(1, "v"));
}

/**
 * The momentum residual written out for documentation, with `re` as given
 * ("Re" or a number): "u u_x + v u_y + p_x − (u_xx + u_yy)/Re" for k = 0.
 */
export function momentumDoc(k: 0 | 1, re: string | number): string {
  const c = FLOW_OUTPUTS[k], d = k === 0 ? "x" : "y";
  return `u ${c}_x + v ${c}_y + p_${d} − (${c}_xx + ${c}_yy)/${re}`;
}
