/**
 * sketchpinn — a raw WebGPU compute-shader engine for Deno that trains
 * physics-informed neural networks (PINNs) with neural-tangent-kernel (NTK) loss
 * weights, computed exactly (one backward pass) or estimated by sketching.
 *
 * The pieces, in the order a program meets them:
 *
 * - **Engine**: {@linkcode Engine.create} takes the default (high-performance)
 *   adapter, or the {@linkcode Gpu} that {@linkcode acquireGpu} returns for other
 *   adapter options. Engines, plans and trainers support `using` / `await using`.
 * - **Problem**: a built-in by name ({@linkcode getProblem}; {@linkcode problems}
 *   lists them) or your own {@linkcode Problem}, whose residual groups are
 *   expressions over u, ∂u and ∂²u built with {@linkcode E}. The engine generates
 *   WGSL and every channel derivative from them. {@linkcode resolveProblem} also
 *   imports a problem from a module file, as `train --problem ./my_pde.ts` does.
 * - **Model**: sizes `[d, W, …, W, 1]`, {@linkcode xavierInit},
 *   {@linkcode saveModel} / {@linkcode loadModel} (JSON files, design §5).
 * - **Plan**: {@linkcode Plan.create} plans one network on fixed point counts;
 *   {@linkcode Plan.evaluate} gives residuals, loss and gradient.
 * - **NTK weights**: {@linkcode estimateTraces} and {@linkcode ntkWeights} with the
 *   `exact`, `jvp`, `pc` (predictor–corrector) or `hutch` estimator.
 * - **Training**: {@linkcode Trainer} steps one network under
 *   {@linkcode TrainSettings} (start from {@linkcode DEFAULT_CONFIG}; the
 *   problem's recommended sizes, steps, init and parameter average fill what
 *   you leave out, as for the `train` command: {@linkcode resolveSettings});
 *   {@linkcode runTraining} runs a whole training into a run folder with
 *   checkpoints, resume and an `onProgress` callback. The problem may be a
 *   name, a module path or a {@linkcode Problem} object.
 * - **Benchmarks**: {@linkcode benchStep} times training steps;
 *   {@linkcode timeBatches} times anything submitted to the GPU.
 * - **Pictures**: Vega-Lite specs built from data ({@linkcode heatmapSpec},
 *   {@linkcode lineChartSpec}, {@linkcode solutionSpec}, {@linkcode runCharts}),
 *   rendered headless to SVG ({@linkcode renderSvg}) and PNG ({@linkcode renderPng},
 *   with an embedded DejaVu Sans), or all three files at once ({@linkcode writeChart});
 *   {@linkcode reportHtml} makes a run's self-contained `report.html`.
 *
 * Examples marked `ignore` need a WebGPU adapter (Deno's built-in WebGPU runs on a
 * software adapter where no GPU exists); the others run as doc tests.
 *
 * @example Define a PDE: viscous Burgers u_t + u u_x − ν u_xx = 0 on (t, x) ∈ [0,1]×[−1,1]
 * ```ts
 * import { E, type Problem, samplePoints, validateProblem } from "@sketchpinn/sketchpinn";
 *
 * const nu = 0.01 / Math.PI;
 * const burgers: Problem = {
 *   name: "burgers",
 *   doc: "u_t + u u_x − ν u_xx = 0, u(0, x) = −sin(πx), u(t, ±1) = 0",
 *   inputs: ["t", "x"],
 *   domain: [[0, 1], [-1, 1]],
 *   // Used for the relative L2 error; Burgers has no closed form (see examples/burgers.ts).
 *   exact: () => 0,
 *   grid: [101, 201],
 *   sizes: [2, 64, 64, 64, 1],
 *   groups: [
 *     {
 *       name: "r",
 *       doc: "PDE residual in the interior",
 *       residual: E.sub(E.add(E.du(0), E.mul(E.u(), E.du(1))), E.mul(nu, E.d2u(1))),
 *       sampleDim: 2,
 *       sample: ([a, b]) => [a, 2 * b - 1],
 *       defaultN: 1024,
 *     },
 *     {
 *       name: "ic",
 *       doc: "u − (−sin πx) at t = 0",
 *       residual: E.u(),
 *       target: ([, x]) => -Math.sin(Math.PI * x),
 *       sampleDim: 1,
 *       sample: ([a]) => [0, 2 * a - 1],
 *       defaultN: 256,
 *     },
 *     {
 *       name: "bc",
 *       doc: "u at x = ±1",
 *       residual: E.u(),
 *       sampleDim: 1,
 *       sample: ([a]) => [a, a < 0.5 ? -1 : 1],
 *       defaultN: 128,
 *     },
 *   ],
 * };
 * validateProblem(burgers, "burgers"); // throws a UserError naming what is missing
 * const points = samplePoints(burgers, { r: 8, ic: 4, bc: 4 }, 0);
 * console.log(points.ic[0]); // [0, x] with x in [−1, 1]
 * ```
 *
 * @example Residuals, loss and gradient; NTK traces and weights by every estimator
 * ```ts ignore
 * import {
 *   Engine,
 *   getProblem,
 *   ntkWeights,
 *   Plan,
 *   resolveCounts,
 *   samplePoints,
 *   xavierInit,
 * } from "@sketchpinn/sketchpinn";
 *
 * using engine = await Engine.create();
 * const problem = getProblem("wave");
 * const sizes = [2, 64, 64, 1];
 * const counts = resolveCounts(problem, { r: 256, u: 64, ut: 64 });
 * // directions: JVP/predictor directions per chunk (jvp, pc); tangents: for jvp.
 * await using plan = await Plan.create(engine, {
 *   problem,
 *   sizes,
 *   activation: "tanh",
 *   counts,
 *   directions: 8,
 *   tangents: true,
 * });
 * plan.setParams(xavierInit(sizes, 0));
 * plan.setPoints(samplePoints(problem, counts, 0));
 * const { residuals, loss, gradient } = await plan.evaluate();
 * console.log(residuals.r.length, loss, gradient!.length);
 * for (const method of ["exact", "jvp", "pc", "hutch"] as const) {
 *   const { traces, weights } = await ntkWeights(plan, { method, k: 8, seed: 1 });
 *   console.log(method, traces, weights);
 * }
 * ```
 *
 * @example Train with a progress callback, then reload the saved model
 * ```ts ignore
 * import { DEFAULT_CONFIG, Engine, loadModel, runTraining } from "@sketchpinn/sketchpinn";
 *
 * using engine = await Engine.create();
 * // 500 Adam steps; wave's recommended L-BFGS phase after them is left out here.
 * const config = {
 *   ...DEFAULT_CONFIG,
 *   problem: "wave",
 *   sizes: [2, 64, 64, 1],
 *   steps: 500,
 *   then: "none" as const,
 * };
 * const { metrics } = await runTraining(engine, config, {
 *   out: "runs/wave-pc",
 *   onProgress: (p) => console.log(p.step, p.total, p.weights, p.rel_l2),
 * });
 * console.log(metrics.rel_l2);
 * const model = await loadModel("runs/wave-pc/model.json"); // params, sizes, training state
 * ```
 *
 * @example Step a trainer yourself (a problem object or a module path works as well)
 * ```ts ignore
 * import { DEFAULT_CONFIG, Engine, Trainer } from "@sketchpinn/sketchpinn";
 *
 * using engine = await Engine.create();
 * await using trainer = await Trainer.create(engine, { ...DEFAULT_CONFIG, weighting: "exact" });
 * for (let i = 0; i < 100; i++) await trainer.advance();
 * console.log(await trainer.losses(), await trainer.relL2());
 * ```
 *
 * @example Benchmark one training-step configuration
 * ```ts ignore
 * import { acquireGpu, benchStep, Engine } from "@sketchpinn/sketchpinn";
 *
 * using engine = await Engine.create(await acquireGpu({ powerPreference: "low-power" }));
 * const r = await benchStep(engine, { sizes: [2, 128, 128, 1], weighting: "pc", repeats: 3 });
 * console.log(`${r.median_ms.toFixed(2)} ms/step, ${r.gflops?.toFixed(1)} GFLOP/s`);
 * ```
 *
 * @example Fourier-feature inputs: the first layer reads a fixed random embedding of the points
 * ```ts
 * import {
 *   Engine,
 *   fourierEmbedding,
 *   getProblem,
 *   initParams,
 *   Plan,
 *   samplePoints,
 * } from "@sketchpinn/sketchpinn";
 *
 * using engine = await Engine.create();
 * const problem = getProblem("wave");
 * const sizes = [2, 32, 32, 1]; // as without features: inputs, hidden widths, outputs
 * const embedding = fourierEmbedding({ features: 16, scale: 1 }, problem.domain, 0);
 * const counts = { r: 64, u: 16, ut: 16 };
 * await using plan = await Plan.create(engine, {
 *   problem,
 *   sizes,
 *   activation: "tanh",
 *   counts,
 *   embedding,
 * });
 * plan.setParams(initParams(sizes, 0, "xavier", problem.domain, embedding)); // W1 is 32 × 32
 * plan.setPoints(samplePoints(problem, counts, 0)); // the GPU computes the features
 * console.log((await plan.evaluate()).loss);
 * ```
 *
 * @example Save and load models (JSON in the design's model-file format)
 * ```ts
 * import { modelFromJson, modelToJson, xavierInit } from "@sketchpinn/sketchpinn";
 *
 * const sizes = [2, 16, 16, 1];
 * const text = modelToJson({ problem: "wave", sizes, activation: "tanh", params: xavierInit(sizes, 0) });
 * const model = modelFromJson(text, "in-memory model"); // saveModel/loadModel do the same with files
 * console.log(model.params.length); // 337
 * ```
 *
 * @module
 */
export { Engine } from "./src/engine.ts";
export type { Dispatch, UniformValues } from "./src/engine.ts";
export type { WorkCounters } from "./src/encoder.ts";
export type { KernelTime } from "./src/profile.ts";
export type { Tuning } from "./src/tuning.ts";
export { acquireGpu, adapterLine, describeAdapter } from "./src/device.ts";
export type { AdapterReport, Gpu } from "./src/device.ts";
export {
  MAX_CAUSAL_CHUNKS,
  Plan,
  PlanCore,
  PlanEmbed,
  PlanNtk,
  PlanOptim,
  residualWgsl,
} from "./src/plan.ts";
export type { CausalOptions, Evaluation, LayerUniforms, PlanOptions } from "./src/plan.ts";
export type { BatchLayout, GroupLayout, NetLayout, PackedLayer } from "./src/layout.ts";
export {
  DEFAULT_DT,
  DEFAULT_HUTCH_DT,
  defaultK,
  estimateTraces,
  ntkWeights,
  weightsFromTraces,
} from "./src/ntk.ts";
export type { NtkMethod, NtkOptions, NtkTraces } from "./src/ntk.ts";
export { averageBeta } from "./src/adam_phase.ts";
export {
  causalSettings,
  DEFAULT_CHUNKS,
  DEFAULT_CONFIG,
  defaultLogEvery,
  WEIGHTINGS,
} from "./src/train_config.ts";
export { emaBeta } from "./src/weight_policy.ts";
export { Trainer } from "./src/trainer.ts";
export type { LogRecord, TrainState } from "./src/train_state.ts";
export type { TrainConfig, Weighting } from "./src/train_config.ts";
export { Lbfgs } from "./src/lbfgs.ts";
export type { LbfgsIterate, LbfgsOptions, LbfgsStop } from "./src/lbfgs.ts";
export type { LbfgsState } from "./src/lbfgs_state.ts";
export { strongWolfe } from "./src/line_search.ts";
export type { LineResult, LineValue, WolfeOptions } from "./src/line_search.ts";
export { runTraining } from "./src/run.ts";
export { loadRun } from "./src/run_checkpoint.ts";
export { NO_SOLUTION } from "./src/run_report.ts";
export { predict, valueProblem } from "./src/predict.ts";
export { FALLBACK_TRAIN_DEFAULTS, resolveSettings, storedProblem } from "./src/settings.ts";
export type { ResolvedSettings, TrainSettings } from "./src/settings.ts";
export type { Progress, RunOptions, RunResult } from "./src/run.ts";
export type { Metrics } from "./src/run_report.ts";
export {
  initParams,
  INITS,
  loadModel,
  MODEL_FORMAT,
  modelFromJson,
  modelToJson,
  paramLayout,
  saveModel,
  validateSizes,
  xavierInit,
} from "./src/model.ts";
export type { Activation, Init, LayerLayout, Model } from "./src/model.ts";
export {
  checkFourierSpec,
  denseSizes,
  embeddingWidth,
  formatFourierSpec,
  fourierEmbedding,
  MAX_FOURIER_FEATURES,
  parseFourierSpec,
} from "./src/embedding.ts";
export type { FourierEmbedding, FourierSpec } from "./src/embedding.ts";
export { loadPoints, resolveCounts, samplePoints, validatePoints } from "./src/points.ts";
export type { Counts, Points, Sampler } from "./src/points.ts";
export {
  getProblem,
  isProblemPath,
  problemPath,
  problems,
  resolveProblem,
  validateProblem,
} from "./src/problems/mod.ts";
export type {
  GroupDef,
  PictureData,
  Problem,
  ReferenceSolution,
  TrainDefaults,
} from "./src/problems/problem.ts";
export { CAVITY_CORNER_DELTA, cavityCornerWeight, cavityProblem } from "./src/problems/cavity.ts";
export { qtensorProblem } from "./src/problems/qtensor.ts";
export type { QTensorConstraints } from "./src/problems/qtensor.ts";
export {
  applyTransform,
  checkModelTransform,
  diffInput,
  withTransform,
} from "./src/problems/transform.ts";
export type { OutputTransform } from "./src/problems/transform.ts";
export type { QTensorParams } from "./src/solvers/qtensor.ts";
export {
  evaluationGrid,
  exactOutput,
  gridSolution,
  groupChannels,
  problemOutputs,
} from "./src/problems/problem.ts";
export { channelsOf, E, outputsOf } from "./src/problems/expr.ts";
export type {
  ChannelHelpers,
  ChannelRef,
  ChannelSet,
  Expr,
  ExprLike,
  NamedBuilders,
  Ops,
} from "./src/problems/expr.ts";
export {
  continuityResidual,
  FLOW_OUTPUTS,
  momentumDoc,
  momentumResidual,
} from "./src/problems/navier_stokes.ts";
export { UserError } from "./src/errors.ts";
export {
  CHART_CONFIG,
  type ChartSpec,
  FONT,
  renderPng,
  renderSvg,
  toVega,
  writeChart,
  type WrittenChart,
} from "./src/plot/render.ts";
export {
  type Colormap,
  type GridAxis,
  type Heatmap,
  heatmapSpec,
  heatmapsSpec,
} from "./src/plot/heatmap.ts";
export { type LineChartOptions, lineChartSpec, type LineSeries } from "./src/plot/line.ts";
export { gridAxes, type GridField, type SolutionData, solutionSpec } from "./src/plot/solution.ts";
export {
  type NamedChart,
  problemCharts,
  RUN_CHART_NAMES,
  runCharts,
} from "./src/plot/run_charts.ts";
export {
  directorAngle,
  type DirectorGlyph,
  directorGlyphs,
  eigenvalueOverTime,
  largestEigenvalue,
  type QTensorFields,
  qtensorPictures,
} from "./src/plot/qtensor.ts";
export { type Figure, reportHtml } from "./src/plot/report.ts";
export { runBench } from "./bench/bench.ts";
export { benchStep, timeBatches } from "./bench/timing.ts";
export type { BenchRecord, BenchStepOptions } from "./bench/timing.ts";
