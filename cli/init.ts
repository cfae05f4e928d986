/**
 * `init`: writes an initialised model file.
 *
 * @module
 */
import { UserError } from "../src/errors.ts";
import { choiceFlag, intFlag, listFlag, parseFlags } from "./args.ts";
import { isProblemPath } from "../src/problems/mod.ts";
import { problemOutputs } from "../src/problems/problem.ts";
import { initParams, INITS, saveModel, validateSizes } from "../src/model.ts";
import { help, out, problemArg, writing } from "./common.ts";

/** `init --help`. */
export const HELP: string =
  `init [--problem wave|./my_pde.ts] [--sizes 2,64,64,64,1] [--activation tanh|sin] [--init xavier|centered]
      [--seed 0] --out M.json
--init centered: Xavier-normal for inputs mapped to [-1, 1] over the domain, folded into the
first layer (its hyperplanes pass through the domain's centre); xavier: zero biases.`;

/** Runs `init`; returns the exit code. */
export async function cmdInit(args: string[]): Promise<number> {
  const f = parseFlags("init", args, {
    problem: "string",
    sizes: "string",
    activation: "string",
    init: "string",
    seed: "string",
    out: "string",
    json: "boolean",
    help: "boolean",
  });
  if (f.help) return help(HELP);
  const problemName = (f.problem as string) ?? "wave";
  const problem = await problemArg(problemName);
  const sizes = typeof f.sizes === "string" ? listFlag("sizes", f.sizes) : [...problem.sizes];
  validateSizes(sizes, problem.inputs.length, "--sizes", problemOutputs(problem).length);
  const activation = choiceFlag(
    "activation",
    (f.activation as string) ?? "tanh",
    ["tanh", "sin"] as const,
  );
  const seed = f.seed !== undefined ? intFlag("seed", f.seed as string, 0) : 0;
  if (typeof f.out !== "string") {
    throw new UserError("--out", "Give the model file to write with --out M.json.");
  }
  const init = choiceFlag("init", (f.init as string) ?? "xavier", INITS);
  const params = initParams(sizes, seed, init, problem.domain);
  const path = f.out;
  // A module path is stored as given, so `eval` and `ntk` can import it again.
  const stored = isProblemPath(problemName) ? problemName : problem.name;
  await writing(path, () => saveModel(path, { problem: stored, sizes, activation, params }));
  out(
    Boolean(f.json),
    { out: f.out, params: params.length },
    `wrote ${f.out} (${params.length} parameters)`,
  );
  return 0;
}
