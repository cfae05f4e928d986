/**
 * The built-in problems.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import type { Problem } from "./problem.ts";
import { wave } from "./wave.ts";

/** Built-in problems by name. */
export const problems: Record<string, Problem> = { wave };

/** Looks a built-in problem up, or explains which names exist. */
export function getProblem(name: string): Problem {
  const p = problems[name];
  if (!p) {
    throw new UserError(
      "--problem",
      `Unknown problem "${name}": choose one of ${Object.keys(problems).join(", ")}.`,
    );
  }
  return p;
}

export { wave };
export type { GroupDef, Problem } from "./problem.ts";
