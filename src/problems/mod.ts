/**
 * The built-in problems: "wave", "poisson1d", "heat1d", "helmholtz2d",
 * "klein-gordon1d", "kovasznay" (a system with outputs u, v, p), "cavity" (lid-driven
 * cavity, outputs u, v, p) and "qtensor" (a nonlinear Q-tensor system, outputs Q1, Q2).
 * Each documents its input order, residual groups and exact
 * solution in its `doc` string. Custom problems are TypeScript or JavaScript
 * modules whose default export (or export named `problem`) is a
 * {@linkcode Problem}; {@linkcode resolveProblem} imports and validates them.
 *
 * @example
 * ```ts
 * import { getProblem } from "./mod.ts";
 * getProblem("heat1d").inputs; // ["t", "x"]
 * ```
 *
 * @module
 */
import { fileURLToPath, pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { UserError } from "../errors.ts";
import type { Problem } from "./problem.ts";
import { validateProblem } from "./validate.ts";
import { cavity } from "./cavity.ts";
import { heat1d } from "./heat1d.ts";
import { helmholtz2d } from "./helmholtz2d.ts";
import { kleinGordon1d } from "./klein_gordon1d.ts";
import { kovasznay } from "./kovasznay.ts";
import { poisson1d } from "./poisson1d.ts";
import { qtensor, qtensorSoft } from "./qtensor.ts";
import { wave } from "./wave.ts";

/** Built-in problems by name. */
export const problems: Record<string, Problem> = {
  wave,
  poisson1d,
  heat1d,
  helmholtz2d,
  "klein-gordon1d": kleinGordon1d,
  kovasznay,
  cavity,
  qtensor,
  "qtensor-soft": qtensorSoft,
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

/**
 * True when `nameOrPath` names a module file rather than a built-in problem: it
 * ends in `.ts`, `.js`, `.mts` or `.mjs`, or starts with `./`, `../`, `/` or `file:`.
 */
export function isProblemPath(nameOrPath: string): boolean {
  return /\.m?[jt]s$/.test(nameOrPath) || /^(\.\.?[\\/]|\/|file:)/.test(nameOrPath);
}

/** The absolute file path of each problem imported from a module (see {@linkcode problemPath}). */
const modulePaths = new WeakMap<object, string>();

/**
 * The absolute path of the module `problem` was imported from by
 * {@linkcode resolveProblem}, or undefined for a built-in or in-program problem.
 */
export function problemPath(problem: Problem): string | undefined {
  return modulePaths.get(problem);
}

/** `file:///a/b.ts:2:9` in an import error, as `/a/b.ts:2:9`. */
function errorLocation(message: string): string | undefined {
  const m = message.match(/(file:\/\/\S+?):(\d+):(\d+)/);
  if (!m) return undefined;
  try {
    return `${fileURLToPath(m[1])}:${m[2]}:${m[3]}`;
  } catch {
    return undefined;
  }
}

/**
 * A built-in problem by name, or the problem a module file exports (see
 * {@linkcode isProblemPath}): its default export, else its export named `problem`,
 * validated by {@linkcode validateProblem}. A relative path resolves against
 * `base` (default: the current working directory); {@linkcode problemPath} then
 * gives the module's absolute path. `input` (a flag or a file) is named in error
 * messages.
 *
 * @example
 * ```ts ignore
 * import { resolveProblem } from "./mod.ts";
 * const wave = await resolveProblem("wave");
 * const mine = await resolveProblem("./examples/my_pde.ts");
 * ```
 */
export async function resolveProblem(
  nameOrPath: string,
  input = "--problem",
  base?: string,
): Promise<Problem> {
  if (!isProblemPath(nameOrPath)) return getProblem(nameOrPath);
  let url: URL;
  try {
    url = nameOrPath.startsWith("file:")
      ? new URL(nameOrPath)
      : pathToFileURL(resolve(base ?? Deno.cwd(), nameOrPath));
  } catch {
    throw new UserError(input, `Problem module ${nameOrPath} is not a valid path or file: URL.`);
  }
  let mod: Record<string, unknown>;
  try {
    // A full file: URL needs no import map, so the `deno publish` warning that it cannot
    // rewrite this import (unanalyzable-dynamic-import) is expected.
    mod = await import(url.href);
  } catch (e) {
    const msg = String((e as Error)?.message ?? e);
    const where = errorLocation(msg);
    const why = msg.split("\n")[0].replace(/^TypeError: (?=SyntaxError)/, "");
    throw new UserError(
      input,
      where
        ? `Cannot import problem module ${nameOrPath}: ${why} at ${where}; fix the module's code there.`
        : `Cannot import problem module ${nameOrPath} (${why}); check the path and the module's code.`,
    );
  }
  const value = mod.default ?? mod.problem;
  if (value === undefined) {
    throw new UserError(
      input,
      `Problem module ${nameOrPath} has no default export (nor an export named "problem"); add \`export default { name, inputs, domain, groups, exact, grid, sizes, doc } satisfies Problem\`.`,
    );
  }
  const problem = validateProblem(value, nameOrPath, input);
  modulePaths.set(problem, fileURLToPath(url));
  return problem;
}

export {
  cavity,
  heat1d,
  helmholtz2d,
  kleinGordon1d,
  kovasznay,
  poisson1d,
  qtensor,
  qtensorSoft,
  wave,
};
export type { GroupDef, Problem } from "./problem.ts";
export { validateProblem };
