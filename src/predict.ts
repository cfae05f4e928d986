/**
 * A saved network's outputs at arbitrary points: one forward pass on the GPU,
 * the value channel of every output.
 *
 * @example
 * ```ts ignore
 * import { Engine, loadModel, getProblem, predict } from "@sketchpinn/sketchpinn";
 * using engine = await Engine.create();
 * const model = await loadModel("runs/kovasznay-pc/model.json");
 * const values = await predict(engine, getProblem("kovasznay"), model, [[0, 0], [0.5, 1]]);
 * values[0]; // u at both points; values[1] is v, values[2] is p
 * ```
 *
 * @module
 */
import type { Engine } from "./engine.ts";
import type { Model } from "./model.ts";
import { Plan } from "./plan.ts";
import { E } from "./problems/expr.ts";
import type { Problem } from "./problems/problem.ts";
import { applyTransform } from "./problems/transform.ts";

/**
 * `problem` with one group, `name`, whose residual is u_0: a forward pass over it
 * computes every output's value at its points (read with {@linkcode Plan.readOutputs}).
 */
export function valueProblem(p: Problem, name: string): Problem {
  return {
    ...p,
    groups: [{
      name,
      residual: E.u(),
      sampleDim: 0,
      sample: () => [],
      defaultN: 0,
      doc: "the outputs at given points",
    }],
  };
}

/**
 * The outputs of `model` (a network for `problem`) at `points`: one array per
 * output in the problem's output order, one value per point in input order.
 */
export async function predict(
  engine: Engine,
  problem: Problem,
  model: Pick<Model, "sizes" | "activation" | "params" | "embedding">,
  points: number[][],
): Promise<Float32Array[]> {
  await using plan = await Plan.create(engine, {
    problem: valueProblem(problem, "points"),
    sizes: model.sizes,
    activation: model.activation,
    embedding: model.embedding,
    counts: { points: points.length },
  });
  plan.setParams(Float32Array.from(model.params));
  plan.setPoints({ points });
  engine.submit("predict", plan.forward);
  return applyTransform(problem, points, (await plan.readOutputs()).points);
}
