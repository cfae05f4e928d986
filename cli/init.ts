/**
 * `init`: writes an initialised model file.
 *
 * @module
 */
import { UserError } from "../src/errors.ts";
import { choiceFlag, intFlag, listFlag, parseFlags } from "./args.ts";
import { dirname, resolve } from "node:path";
import { problemPath, wave } from "../src/problems/mod.ts";
import { storedProblem } from "../src/settings.ts";
import { problemOutputs } from "../src/problems/problem.ts";
import { initParams, INITS, saveModel, validateSizes } from "../src/model.ts";
import { help, out, problemArg, writing } from "./common.ts";
import { fourierEmbedding, parseFourierSpec } from "../src/embedding.ts";

/** What `init` uses where a flag is not given (sizes: the problem's own). */
export const INIT_DEFAULTS = {
  problem: "wave",
  activation: "tanh",
  init: "xavier",
  seed: 0,
} as const;

/** `init --help`. */
export const HELP: string =
  `init [--problem wave|./my_pde.ts] [--sizes ${wave.sizes} (the problem's)] [--activation tanh|sin]
      [--init ${INIT_DEFAULTS.init}|centered] [--fourier M:σ[:raw]] [--seed ${INIT_DEFAULTS.seed}]
      --out M.json [--json]
--sizes defaults to the problem's own (wave's shown). --init centered: Xavier-normal for inputs
mapped to [-1, 1] over the domain, folded into the first layer (its hyperplanes pass through the
domain's centre); xavier: zero biases. --fourier M:σ: the first layer reads M random Fourier
features [cos(B x̂), sin(B x̂)] of the inputs x̂ mapped to [-1, 1] (B drawn with N(0, σ²) entries
from --seed; :raw keeps x̂ too), stored in the model file. A module path is stored relative to the
model file.`;

/** Runs `init`; returns the exit code. */
export async function cmdInit(args: string[]): Promise<number> {
  const f = parseFlags("init", args, {
    problem: "string",
    sizes: "string",
    activation: "string",
    init: "string",
    fourier: "string",
    seed: "string",
    out: "string",
    json: "boolean",
    help: "boolean",
  });
  if (f.help) return help(HELP);
  const problemName = (f.problem as string) ?? INIT_DEFAULTS.problem;
  const problem = await problemArg(problemName);
  const sizes = typeof f.sizes === "string" ? listFlag("sizes", f.sizes) : [...problem.sizes];
  validateSizes(sizes, problem.inputs.length, "--sizes", problemOutputs(problem).length);
  const activation = choiceFlag(
    "activation",
    (f.activation as string) ?? INIT_DEFAULTS.activation,
    ["tanh", "sin"] as const,
  );
  const seed = f.seed !== undefined ? intFlag("seed", f.seed as string, 0) : INIT_DEFAULTS.seed;
  if (typeof f.out !== "string") {
    throw new UserError("--out", "Give the model file to write with --out M.json.");
  }
  const init = choiceFlag("init", (f.init as string) ?? INIT_DEFAULTS.init, INITS);
  const spec = typeof f.fourier === "string" ? parseFourierSpec(f.fourier) : null;
  const embedding = spec ? fourierEmbedding(spec, problem.domain, seed) : undefined;
  const params = initParams(sizes, seed, init, problem.domain, embedding);
  const path = f.out;
  // A module path is stored relative to the model file, so `eval` and `ntk` find it
  // from any directory.
  const stored = storedProblem(problemPath(problem) ?? problem.name, dirname(resolve(path)));
  await writing(
    path,
    () =>
      saveModel(path, {
        problem: stored,
        sizes,
        activation,
        params,
        embedding,
        transform: problem.transform?.doc,
      }),
  );
  out(
    Boolean(f.json),
    { out: f.out, params: params.length },
    `wrote ${f.out} (${params.length} parameters)`,
  );
  return 0;
}
