/**
 * One place that turns a run's settings into a full {@linkcode TrainConfig}: the
 * global defaults, then the problem's recommendations (sizes, steps, lr, decay
 * steps, init, parameter average, Fourier features, an L-BFGS phase), then what
 * the caller set. The library ({@linkcode Trainer.create}, `runTraining`) and the
 * `train` command both call
 * {@linkcode resolveSettings}, so a library run and a CLI run of the same problem
 * train the same network.
 *
 * @module
 */
import { isAbsolute, relative, resolve } from "node:path";
import { UserError } from "./errors.ts";
import { validateSizes } from "./model.ts";
import { resolveCounts } from "./points.ts";
import { isProblemPath, problemPath, resolveProblem, validateProblem } from "./problems/mod.ts";
import { type Problem, problemOutputs, type TrainDefaults } from "./problems/problem.ts";
import { DEFAULT_CONFIG, defaultLogEvery, type TrainConfig } from "./train_config.ts";

/**
 * What a caller may set for a run: any part of a {@linkcode TrainConfig}, with the
 * problem as a built-in name, a module path or a {@linkcode Problem} object. What
 * is left out takes the problem's recommendation, else {@linkcode DEFAULT_CONFIG}.
 */
export type TrainSettings = Partial<Omit<TrainConfig, "problem">> & {
  /** Built-in name, module path, or the problem itself (default "wave"). */
  problem?: string | Problem;
};

/**
 * The values of the settings a problem may recommend, where it recommends none (no
 * recommended L-BFGS phase: then none).
 */
export const FALLBACK_TRAIN_DEFAULTS: Readonly<
  Required<Omit<TrainDefaults, "then" | "thenSteps" | "thenN" | "weighting" | "history" | "every">>
> = {
  steps: 4000,
  lr: 3e-3,
  decaySteps: 1000,
  init: "xavier",
  average: 0,
  fourier: null,
};

/** A run's full configuration and the problem object it trains. */
export interface ResolvedSettings {
  /**
   * The configuration; `problem` is the built-in name, or the module's absolute
   * path (files store it relative to themselves, see {@linkcode storedProblem}).
   */
  config: TrainConfig;
  /** The problem. */
  problem: Problem;
}

/**
 * Resolves `s` onto a full configuration (defaults, then the problem's
 * recommendations, then `s`) and validates it against the problem: sizes, point
 * counts, weight groups. A relative module path resolves against `base` (default:
 * the current directory).
 */
export async function resolveSettings(
  s: TrainSettings,
  base?: string,
): Promise<ResolvedSettings> {
  const given = s.problem ?? DEFAULT_CONFIG.problem;
  let problem: Problem, name: string;
  if (typeof given === "string") {
    problem = await resolveProblem(given, "--problem", base);
    name = problemPath(problem) ?? problem.name;
  } else {
    problem = validateProblem(given, (given as Partial<Problem>)?.name ?? "object", "problem");
    name = problemPath(problem) ?? problem.name;
  }
  const defined = Object.fromEntries(
    Object.entries(s).filter(([k, v]) => v !== undefined && k !== "problem"),
  );
  const recommended: TrainDefaults = { ...problem.train };
  // A recommended L-BFGS phase follows Adam: a run that is L-BFGS throughout skips it,
  // and so does a run with causal weights (they change the loss every step, and the
  // phase needs a fixed one); `then` set by the caller keeps it (and is checked).
  if ((s.optimizer === "lbfgs" || (s.causal ?? 0) > 0) && s.then === undefined) {
    delete recommended.then;
    delete recommended.thenSteps;
    delete recommended.thenN;
  }
  const config: TrainConfig = {
    ...structuredClone(DEFAULT_CONFIG),
    sizes: [...problem.sizes],
    ...FALLBACK_TRAIN_DEFAULTS,
    ...recommended,
    ...structuredClone(defined),
    problem: name,
  };
  // Unless set, a short run still logs ~50 points per curve (at most every 100 steps).
  if (s.logEvery === undefined) config.logEvery = defaultLogEvery(config.steps);
  validateSizes(config.sizes, problem.inputs.length, "--sizes", problemOutputs(problem).length);
  resolveCounts(problem, config.n);
  if (config.thenN) {
    try {
      resolveCounts(problem, config.thenN);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      throw new UserError("--then-n", e.message.replaceAll("--n", "--then-n"));
    }
  }
  if (config.then === "lbfgs" && config.optimizer === "lbfgs") {
    throw new UserError(
      "--then",
      "--then lbfgs follows an Adam or gd phase; with --optimizer lbfgs drop --then (or use --optimizer adam).",
    );
  }
  const groups = problem.groups.map((g) => g.name);
  checkWeightGroups(problem, groups, config.weights);
  if (config.weighting === "fixed" && Object.keys(config.weights).length === 0) {
    throw new UserError(
      "--weights",
      `--weighting fixed needs --weights, e.g. --weights ${groups.map((g) => `${g}=1`).join(",")}.`,
    );
  }
  if (config.weighting !== "fixed" && Object.keys(config.weights).length > 0) {
    throw new UserError(
      "--weights",
      `--weights applies only with --weighting fixed (this run weighs by ${config.weighting}); add --weighting fixed or drop --weights.`,
    );
  }
  return { config, problem };
}

/**
 * How a file in folder `dir` stores a problem: a built-in name as it is, a module
 * path relative to `dir` (so the folder can move with its module, and commands
 * run from any directory find it), or absolute when no relative path exists.
 */
export function storedProblem(problem: string, dir: string): string {
  if (!isProblemPath(problem) || !isAbsolute(problem)) return problem;
  const rel = relative(resolve(dir), problem);
  if (isAbsolute(rel)) return problem;
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/** Throws unless every group named by `--weights` is one of the problem's. */
export function checkWeightGroups(
  problem: { name: string },
  groups: string[],
  weights: object,
): void {
  for (const g of Object.keys(weights)) {
    if (!groups.includes(g)) {
      throw new UserError(
        "--weights",
        `--weights names group "${g}", which problem ${problem.name} lacks; its groups are ${
          groups.join(", ")
        }.`,
      );
    }
  }
}
