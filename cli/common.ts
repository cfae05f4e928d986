/**
 * Helpers shared by the CLI's commands: output, `--problem` resolution, the
 * model-and-points pair of `eval`/`ntk`, and file writes that fail as one sentence.
 *
 * @module
 */
import { denseSizes } from "../src/embedding.ts";
import { UserError } from "../src/errors.ts";
import { choiceFlag } from "./args.ts";
import { getProblem, isProblemPath, problems, resolveProblem } from "../src/problems/mod.ts";
import { type Problem, problemOutputs } from "../src/problems/problem.ts";
import { checkModelTransform } from "../src/problems/transform.ts";
import { loadModel, type Model, validateSizes } from "../src/model.ts";
import { dirname, resolve } from "node:path";
import { existsSync } from "node:fs";
import { type Counts, loadPoints, type Points } from "../src/points.ts";
import { checkDemand, engineLimits } from "../src/limits.ts";
import type { PlanDemand } from "../src/resources.ts";
import type { Engine } from "../src/engine.ts";

/** Writes one line to stderr. */
export function info(msg: string): void {
  console.error(msg);
}

/** Prints `obj` as JSON with `--json`, else `text`, on stdout. */
export function out(json: boolean, obj: unknown, text: string): void {
  console.log(json ? JSON.stringify(obj) : text);
}

/** Prints a command's help text; returns exit code 0. */
export function help(text: string): number {
  console.log(text);
  return 0;
}

/** The problem named by `--problem`, or one sentence naming the flag and the choices. */
export function problemFlag(v: string) {
  return getProblem(choiceFlag("problem", v, Object.keys(problems)));
}

/** `--problem`: a built-in name (with a suggestion when misspelt) or a module path. */
export async function problemArg(v: string): Promise<Problem> {
  return isProblemPath(v) ? await resolveProblem(v) : problemFlag(v);
}

/** The `--model` file and its problem, validated against each other. */
export async function modelArg(
  f: Record<string, string | boolean | undefined>,
): Promise<{ model: Model; problem: Problem }> {
  if (typeof f.model !== "string") {
    throw new UserError("--model", "Give the model file with --model M.json (`init` writes one).");
  }
  const model: Model = await loadModel(f.model);
  if (!isProblemPath(model.problem) && !Object.hasOwn(problems, model.problem)) {
    throw new UserError(
      f.model,
      `Model file ${f.model} names unknown problem "${model.problem}"; choose one of ${
        Object.keys(problems).join(", ")
      }.`,
    );
  }
  // A module path in a model file is relative to the file (older files: to the
  // directory they were written from).
  const dir = dirname(resolve(f.model));
  const beside = isProblemPath(model.problem) && !model.problem.startsWith("file:") &&
      !existsSync(resolve(dir, model.problem)) && existsSync(resolve(model.problem))
    ? Deno.cwd()
    : dir;
  const problem = await resolveProblem(model.problem, f.model, beside);
  validateSizes(model.sizes, problem.inputs.length, f.model, problemOutputs(problem).length);
  checkModelTransform(model.transform, problem, f.model);
  return { model, problem };
}

/** The `--model` file, its problem and the `--points` file, validated against each other. */
export async function modelAndPoints(f: Record<string, string | boolean | undefined>) {
  if (typeof f.model !== "string") {
    throw new UserError("--model", "Give the model file with --model M.json (`init` writes one).");
  }
  if (typeof f.points !== "string") {
    throw new UserError(
      "--points",
      "Give the points file with --points P.json (`points` writes one).",
    );
  }
  const { model, problem } = await modelArg(f);
  const points = await loadPoints(problem, f.points);
  return { model, problem, points };
}

/** Runs `write`, turning a file-system failure into one sentence naming `input`. */
export async function writing(
  path: string,
  write: () => Promise<void>,
  input = "--out",
): Promise<void> {
  try {
    await write();
  } catch (e) {
    // Any file-system refusal (missing folder, permissions, a folder in the way,
    // a device or pipe that cannot be renamed over) is the user's path to fix.
    if (!(e instanceof Error) || !("code" in e || e.name in Deno.errors)) throw e;
    throw new UserError(
      input,
      `Cannot write ${path} (${
        e.message.split(":")[0]
      }); give a regular file in a folder that exists and is writable.`,
    );
  }
}

/** Point counts of a points file. */
export function countsOf(points: Points): Counts {
  return Object.fromEntries(Object.entries(points).map(([g, p]) => [g, p.length]));
}

/**
 * Checks what `eval`/`ntk` will allocate for a model file and a points file on
 * `engine` before any plan is built; the message names the file at fault.
 */
export function checkFiles(
  engine: Engine,
  f: { model: string; points: string },
  m: { model: Model; problem: Problem; points: Points },
  more: Pick<PlanDemand, "options" | "extra"> = {},
): void {
  checkDemand({
    problem: m.problem,
    sizes: denseSizes(m.model.sizes, m.model.embedding),
    counts: countsOf(m.points),
    options: { sliceVec4: engine.tuning.slice, maxBinding: engine.maxBinding, ...more.options },
    extra: more.extra,
    countsInput: f.points,
    showCounts: (c) =>
      `points file ${f.points} with ${Object.entries(c).map(([g, n]) => `${g}=${n}`).join(", ")}`,
    sizesInput: f.model,
    showSizes: (s) => `model file ${f.model} with sizes ${s.join(",")}`,
  }, engineLimits(engine));
}
