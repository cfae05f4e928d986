/**
 * The trainer's view of its model away from the training step: the network's
 * outputs and relative L2 errors on the problem's evaluation grid, and the saved
 * model's losses on the step's points. Each has its own plan, created at its first
 * use; the trainer supplies the model's parameters (`copyModel`), which live in
 * whichever phase's plan holds the model.
 *
 * @module
 */
import type { FourierEmbedding } from "./embedding.ts";
import type { Engine } from "./engine.ts";
import { Plan } from "./plan.ts";
import type { Counts, Points } from "./points.ts";
import { valueProblem } from "./predict.ts";
import { evaluationGrid, gridSolution, type Problem, problemOutputs } from "./problems/problem.ts";
import { applyTransform } from "./problems/transform.ts";
import type { TrainConfig } from "./train_config.ts";

/** Copies the model's parameters into `plan`'s and packs them (`label` names the submits). */
export type CopyModel = (plan: Plan, label: string) => Promise<void>;

/** Loss per group, the weighted total and the weights. */
export interface GroupLosses {
  /** Mean r² per group. */
  loss: Record<string, number>;
  /** Σ_j λ_j loss_j. */
  total: number;
  /** Loss weights λ per group. */
  weights: Record<string, number>;
}

/** The evaluation-grid and saved-model plans of one training run. */
export class ModelEvaluation {
  #grid?: Plan;
  #eval?: { plan: Plan; round: number };
  #gridPoints: number[][];
  #solution?: Float64Array[] | null;

  /** Evaluates networks of `config`'s shape on `problem` (`counts`: the step's points). */
  constructor(
    readonly engine: Engine,
    readonly problem: Problem,
    readonly config: Pick<TrainConfig, "sizes" | "activation"> & { embedding?: FourierEmbedding },
    readonly counts: Counts,
  ) {
    this.#gridPoints = evaluationGrid(problem);
  }

  /** The network's outputs on the problem's evaluation grid, one array per output. */
  async gridOutputs(copyModel: CopyModel): Promise<Float32Array[]> {
    if (!this.#grid) {
      this.#grid = await Plan.create(this.engine, {
        problem: valueProblem(this.problem, "grid"),
        sizes: this.config.sizes,
        embedding: this.config.embedding,
        activation: this.config.activation,
        counts: { grid: this.#gridPoints.length },
      });
      this.#grid.setPoints({ grid: this.#gridPoints });
    }
    const g = this.#grid;
    await copyModel(g, "grid");
    this.engine.submit("grid.eval", g.forward);
    return applyTransform(this.problem, this.#gridPoints, (await g.readOutputs()).grid);
  }

  /**
   * The model's losses on sampling round `round`'s points (`points()` draws them
   * when the round changed) with the weights `weights`.
   */
  async losses(
    copyModel: CopyModel,
    round: number,
    points: () => Points,
    weights: Record<string, number>,
  ): Promise<GroupLosses> {
    if (!this.#eval) {
      const plan = await Plan.create(this.engine, {
        problem: this.problem,
        sizes: this.config.sizes,
        embedding: this.config.embedding,
        activation: this.config.activation,
        counts: this.counts,
      });
      this.#eval = { plan, round: -1 };
    }
    const e = this.#eval.plan;
    if (this.#eval.round !== round) {
      e.setPoints(points());
      this.#eval.round = round;
    }
    e.setLambda(weights);
    await copyModel(e, "model");
    const ev = await e.evaluate(false);
    return { loss: ev.lossPerGroup, total: ev.loss, weights };
  }

  /**
   * The solution on the evaluation grid, one array per output (from the problem's
   * `exact` or `reference`, computed once); null when the problem has neither.
   */
  async solution(): Promise<Float64Array[] | null> {
    if (this.#solution === undefined) {
      this.#solution = await gridSolution(this.problem, this.#gridPoints);
    }
    return this.#solution;
  }

  /**
   * Relative L2 errors on the evaluation grid: over all outputs stacked, and per
   * output (by name); null when the problem has no solution to compare with (or
   * it is zero on the whole grid).
   */
  async errors(
    copyModel: CopyModel,
  ): Promise<{ stacked: number; outputs: Record<string, number> } | null> {
    const ref = await this.solution();
    // A solution that is zero on the whole grid (`exact: () => 0` for a problem
    // without a closed form) gives no relative error either.
    if (!ref || ref.every((a) => a.every((v) => v === 0))) return null;
    const u = await this.gridOutputs(copyModel);
    let num = 0, den = 0;
    const outputs: Record<string, number> = {};
    problemOutputs(this.problem).forEach((name, k) => {
      let nk = 0, dk = 0;
      for (let i = 0; i < u[k].length; i++) {
        nk += (u[k][i] - ref[k][i]) ** 2;
        dk += ref[k][i] ** 2;
      }
      outputs[name] = Math.sqrt(nk / dk);
      num += nk;
      den += dk;
    });
    return { stacked: Math.sqrt(num / den), outputs };
  }

  /** Releases the plans' buffers. */
  async dispose(): Promise<void> {
    await this.#grid?.dispose();
    await this.#eval?.plan.dispose();
  }
}
