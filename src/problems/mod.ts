/**
 * The built-in problems: "wave", "poisson1d", "heat1d", "helmholtz2d" and
 * "klein-gordon1d". Each documents its input order, residual groups and exact
 * solution in its `doc` string.
 *
 * @example
 * ```ts
 * import { getProblem } from "./mod.ts";
 * getProblem("heat1d").inputs; // ["t", "x"]
 * ```
 *
 * @module
 */
import { UserError } from "../errors.ts";
import type { Problem } from "./problem.ts";
import { heat1d } from "./heat1d.ts";
import { helmholtz2d } from "./helmholtz2d.ts";
import { kleinGordon1d } from "./klein_gordon1d.ts";
import { poisson1d } from "./poisson1d.ts";
import { wave } from "./wave.ts";

/** Built-in problems by name. */
export const problems: Record<string, Problem> = {
  wave,
  poisson1d,
  heat1d,
  helmholtz2d,
  "klein-gordon1d": kleinGordon1d,
};

/** Looks a built-in problem up, or explains which names exist. */
export function getProblem(name: string): Problem {
  // Own keys only, so "constructor" or "__proto__" is an unknown name, not a prototype member.
  const p = Object.hasOwn(problems, name) ? problems[name] : undefined;
  if (!p) {
    throw new UserError(
      "--problem",
      `Unknown problem "${name}": choose one of ${Object.keys(problems).join(", ")}.`,
    );
  }
  return p;
}

export { heat1d, helmholtz2d, kleinGordon1d, poisson1d, wave };
export type { GroupDef, Problem } from "./problem.ts";
