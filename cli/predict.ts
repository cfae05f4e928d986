/**
 * `predict`: a saved model's outputs at arbitrary points (a list of points or a
 * points file), for comparing with one's own data.
 *
 * @module
 */
import { parseFlags } from "./args.ts";
import { Engine } from "../src/engine.ts";
import { UserError } from "../src/errors.ts";
import { validatePoints } from "../src/points.ts";
import { predict } from "../src/predict.ts";
import { problemOutputs } from "../src/problems/problem.ts";
import { help, modelArg, out } from "./common.ts";

/** `predict --help`. */
export const HELP: string = `predict --model M.json --points P.json [--json]

P.json is a list of points [[x1, …, xd], …] in the problem's input order, or a
points file ({"<group>": [[…], …], …}: its groups in file order). Prints one row
of outputs per point in input order; with --json
{"outputs": ["u", "v", "p"], "values": [[u, v, p], …]}.`;

/** The points of `raw` (a list, or a points file's groups in file order). */
function pointList(raw: unknown, d: number, path: string, check: (r: unknown) => number[][]) {
  if (!Array.isArray(raw)) return check(raw);
  raw.forEach((x, i) => {
    if (!Array.isArray(x) || x.length !== d || !x.every((v) => Number.isFinite(v))) {
      throw new UserError(
        "--points",
        `Points file ${path}: point ${i} must be a list of ${d} finite numbers (the problem's inputs), got ${
          JSON.stringify(x)
        }.`,
      );
    }
  });
  return raw as number[][];
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
  const d = problem.inputs.length;
  const points = pointList(
    raw,
    d,
    path,
    (r) => Object.values(validatePoints(problem, r, path)).flat(),
  );
  if (points.length === 0) {
    throw new UserError("--points", `Points file ${path} holds no points; give at least one.`);
  }
  const engine = await Engine.create();
  try {
    const values = await predict(engine, problem, model, points);
    const outputs = problemOutputs(problem);
    const rows = points.map((_, i) => values.map((v) => v[i]));
    out(
      Boolean(f.json),
      { outputs, values: rows },
      [
        [...problem.inputs, ...outputs].join("\t"),
        ...points.map((x, i) => [...x, ...rows[i]].map((v) => v.toPrecision(7)).join("\t")),
      ].join("\n"),
    );
    return 0;
  } finally {
    engine.dispose();
  }
}
