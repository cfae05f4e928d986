/**
 * sketchpinn — a raw WebGPU compute-shader engine for Deno that trains
 * physics-informed neural networks with neural-tangent-kernel (NTK) loss
 * weights, estimated exactly (one backward pass) or by sketching.
 *
 * @example Train the wave problem for a few steps and read the error
 * ```ts ignore
 * import { DEFAULT_CONFIG, Engine, Trainer } from "@sketchpinn/sketchpinn";
 *
 * using engine = await Engine.create();
 * const trainer = await Trainer.create(engine, { ...DEFAULT_CONFIG, steps: 100 });
 * for (let i = 0; i < 100; i++) await trainer.advance();
 * console.log(await trainer.losses(), await trainer.relL2());
 * await trainer.dispose();
 * ```
 *
 * @module
 */
export { Engine } from "./src/engine.ts";
export type { Dispatch } from "./src/engine.ts";
export { acquireGpu, adapterLine, describeAdapter } from "./src/device.ts";
export type { AdapterReport, Gpu } from "./src/device.ts";
export { Plan, residualWgsl } from "./src/plan.ts";
export type { Evaluation, PlanOptions } from "./src/plan.ts";
export { DEFAULT_DT, defaultK, estimateTraces, ntkWeights, weightsFromTraces } from "./src/ntk.ts";
export type { NtkMethod, NtkOptions, NtkTraces } from "./src/ntk.ts";
export { DEFAULT_CONFIG, Trainer, WEIGHTINGS } from "./src/trainer.ts";
export type { LogRecord, TrainConfig, TrainState, Weighting } from "./src/trainer.ts";
export { loadRun, runTraining } from "./src/run.ts";
export type { Metrics, Progress, RunOptions, RunResult } from "./src/run.ts";
export {
  loadModel,
  MODEL_FORMAT,
  modelFromJson,
  modelToJson,
  paramLayout,
  saveModel,
  validateSizes,
  xavierInit,
} from "./src/model.ts";
export type { Activation, LayerLayout, Model } from "./src/model.ts";
export { loadPoints, resolveCounts, samplePoints, validatePoints } from "./src/points.ts";
export type { Counts, Points } from "./src/points.ts";
export { getProblem, problems } from "./src/problems/mod.ts";
export type { GroupDef, Problem } from "./src/problems/problem.ts";
export { evaluationGrid, groupChannels } from "./src/problems/problem.ts";
export { channelsOf, E } from "./src/problems/expr.ts";
export type { ChannelRef, ChannelSet, Expr, ExprLike } from "./src/problems/expr.ts";
export { UserError } from "./src/errors.ts";
export { heatmapPng, heatmapsPng, lineChartPng } from "./src/plot.ts";
