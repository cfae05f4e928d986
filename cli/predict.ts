/**
 * `predict`: a saved model's outputs at arbitrary points (a list of points or a
 * points file), for comparing with one's own data.
 *
 * @module
 */
import { parseFlags } from "./args.ts";
import { Engine } from "../src/engine.ts";
import { UserError } from "../src/errors.ts";
import { predict } from "../src/predict.ts";
import { type Problem, problemOutputs } from "../src/problems/problem.ts";
import { help, modelArg, out } from "./common.ts";

/** `predict --help`. */
export const HELP: string = `predict --model M.json --points P.json [--json]

P.json is a list of points [[x1, …, xd], …] in the problem's input order, or a
points file ({"<group>": [[…], …], …}: its groups in file order). Prints one row
of outputs per point in input order; with --json
{"outputs": ["u", "v", "p"], "values": [[u, v, p], …]}.`;

/** Checks a list of points of dimension `d`; `where` names it in the error. */
function pointList(raw: unknown, d: number, where: string): number[][] {
  if (!Array.isArray(raw)) {
    throw new UserError(
      "--points",
      `${where} must be a list of points [[x1, …], …] or a points file {"<group>": [[…], …]}.`,
    );
  }
  raw.forEach((x, i) => {
    if (!Array.isArray(x) || x.length !== d || !x.every((v) => Number.isFinite(v))) {
      throw new UserError(
        "--points",
        `${where}: point ${i} must be a list of ${d} finite numbers (the problem's inputs), got ${
          JSON.stringify(x)
        }.`,
      );
    }
  });
  return raw as number[][];
}

/** The points of `raw`: a list, or a points file's groups (any of them) in file order. */
function points(raw: unknown, problem: Problem, path: string): number[][] {
  const d = problem.inputs.length;
  if (Array.isArray(raw) || typeof raw !== "object" || raw === null) {
    return pointList(raw, d, `Points file ${path}`);
  }
  return Object.entries(raw).flatMap(([g, list]) => {
    if (!problem.groups.some((def) => def.name === g)) {
      throw new UserError(
        "--points",
        `Points file ${path} has group "${g}", which problem ${problem.name} lacks; its groups are ${
          problem.groups.map((def) => def.name).join(", ")
        }.`,
      );
    }
    return pointList(list, d, `Points file ${path}, group ${g}`);
  });
}

/** Runs `predict`; returns the exit code. */
export async function cmdPredict(args: string[]): Promise<number> {
  const f = parseFlags("predict", args, {
    model: "string",
    points: "string",
    json: "boolean",
    help: "boolean",
  });
  if (f.help) return help(HELP);
  const { model, problem } = await modelArg(f);
  if (typeof f.points !== "string") {
    throw new UserError("--points", "Give the points with --points P.json (a list of points).");
  }
  const path = f.points;
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new UserError(
      "--points",
      `Cannot read points ${path} as JSON (${
        (e as Error).message.split("\n")[0]
      }); give a list of points [[x1, …], …] or a points file.`,
    );
  }
  const xs = points(raw, problem, path);
  if (xs.length === 0) {
    throw new UserError("--points", `Points file ${path} holds no points; give at least one.`);
  }
  const engine = await Engine.create();
  try {
    const values = await predict(engine, problem, model, xs);
    const outputs = problemOutputs(problem);
    const rows = xs.map((_, i) => values.map((v) => v[i]));
    out(
      Boolean(f.json),
      { outputs, values: rows },
      [
        [...problem.inputs, ...outputs].join("\t"),
        ...xs.map((x, i) => [...x, ...rows[i]].map((v) => v.toPrecision(7)).join("\t")),
      ].join("\n"),
    );
    return 0;
  } finally {
    engine.dispose();
  }
}
