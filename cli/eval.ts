/**
 * `eval`: residuals per group, the loss and the flat gradient of a model on a points file.
 *
 * @module
 */
import { bytesFlag, mapFlag, parseFlags } from "./args.ts";
import { Engine } from "../src/engine.ts";
import { Plan } from "../src/plan.ts";
import { checkFiles, countsOf, help, modelAndPoints, out } from "./common.ts";
import { checkWeightGroups } from "../src/settings.ts";

/** `eval --help`. */
export const HELP: string =
  `eval --model M.json --points P.json [--weights r=1,u=10] [--max-memory SIZE] [--json]`;

/** Runs `eval`; returns the exit code. */
export async function cmdEval(args: string[]): Promise<number> {
  const f = parseFlags("eval", args, {
    model: "string",
    points: "string",
    weights: "string",
    "max-memory": "string",
    json: "boolean",
    help: "boolean",
  });
  if (f.help) return help(HELP);
  const maxMemory = typeof f["max-memory"] === "string"
    ? bytesFlag("max-memory", f["max-memory"])
    : undefined;
  const files = await modelAndPoints(f);
  const { model, problem, points } = files;
  const weights = typeof f.weights === "string" ? mapFlag("weights", f.weights, false) : {};
  checkWeightGroups(problem, Object.keys(points), weights);
  const engine = await Engine.create();
  try {
    engine.maxMemory = maxMemory;
    checkFiles(engine, f as { model: string; points: string }, files);
    const counts = countsOf(points);
    const plan = await Plan.create(engine, {
      problem,
      sizes: model.sizes,
      activation: model.activation,
      embedding: model.embedding,
      counts,
    });
    plan.setParams(model.params);
    plan.setPoints(points);
    plan.setLambda(weights);
    const ev = await plan.evaluate(true);
    const result = {
      residuals: Object.fromEntries(
        Object.entries(ev.residuals).map(([g, r]) => [g, Array.from(r)]),
      ),
      loss: ev.loss,
      lossPerGroup: ev.lossPerGroup,
      gradient: Array.from(ev.gradient!),
    };
    const gnorm = Math.sqrt(ev.gradient!.reduce((a, v) => a + v * v, 0));
    out(
      Boolean(f.json),
      result,
      [
        `loss ${ev.loss.toExponential(6)}`,
        ...Object.entries(ev.lossPerGroup).map(([g, v]) =>
          `  ${g}: mean r² = ${v.toExponential(6)} (${points[g].length} points)`
        ),
        `gradient: ${ev.gradient!.length} parameters, ‖g‖ = ${gnorm.toExponential(6)}`,
      ].join("\n"),
    );
    await plan.dispose();
    return 0;
  } finally {
    engine.dispose();
  }
}
