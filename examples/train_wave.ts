/** Trains the built-in wave problem with predictor–corrector NTK weights. Flags: --steps --width --out. */
import { parseArgs } from "node:util";
import { DEFAULT_CONFIG, Engine, runTraining } from "../mod.ts";

const flag = { type: "string" } as const;
const { values: a } = parseArgs({ options: { steps: flag, width: flag, out: flag } });
const steps = Number(a.steps ?? 2000), w = Number(a.width ?? 64);
using engine = await Engine.create();
const sizes = [2, w, w, w, 1], logEvery = Math.ceil(steps / 10);
// Adam only: wave's recommended L-BFGS phase (after its Adam steps) is left out of this short run.
const settings = { ...DEFAULT_CONFIG, steps, sizes, logEvery, then: "none" as const };
const { metrics } = await runTraining(engine, settings, {
  out: a.out ?? "runs/example-wave",
  onProgress: (p) => console.error(`step ${p.step}: loss ${p.total.toExponential(3)}`),
});
console.log(`relative L2 error ${metrics.rel_l2?.toExponential(3)} after ${metrics.steps} steps`);
