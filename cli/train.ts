/**
 * `train`: flags and config files (cli/train_settings.ts) resolved onto a training
 * configuration by {@linkcode resolveSettings}, as the library resolves them, then
 * one {@linkcode runTraining} call with progress on stderr and Ctrl-C handling.
 *
 * @module
 */
import { formatFourierSpec } from "../src/embedding.ts";
import { UserError } from "../src/errors.ts";
import { parseFlags } from "./args.ts";
import { Engine } from "../src/engine.ts";
import { adapterLine } from "../src/device.ts";
import { dirname, resolve } from "node:path";
import { wave } from "../src/problems/mod.ts";
import { INITS } from "../src/model.ts";
import {
  DEFAULT_CHUNKS,
  DEFAULT_CONFIG,
  defaultLogEvery,
  planDirections,
  type TrainConfig,
  WEIGHTINGS,
} from "../src/train_config.ts";
import { emaBeta } from "../src/weight_policy.ts";
import { DEFAULT_DT, DEFAULT_HUTCH_DT } from "../src/ntk.ts";
import { FALLBACK_TRAIN_DEFAULTS, resolveSettings, type TrainSettings } from "../src/settings.ts";
import { type Progress, runTraining } from "../src/run.ts";
import { loadRun } from "../src/run_checkpoint.ts";
import { resolveCounts } from "../src/points.ts";
import { checkDemand, engineLimits } from "../src/limits.ts";
import { DEFAULT_HISTORY } from "../src/lbfgs_state.ts";
import { help, info, out } from "./common.ts";
import {
  applySetting,
  checkIgnoredFlags,
  CONFIG_KEYS,
  readConfigFile,
  type RunSettings,
  TRAIN_FLAGS,
} from "./train_settings.ts";

/** Re-exported for the sweep command, which checks each configuration as `--config` would. */
export { checkConfigObject } from "./train_settings.ts";

/** Run options of `train` that are not part of the training configuration. */
export const RUN_DEFAULTS = { checkpointEvery: 500, onNan: "stop" } as const;

/** `train --help`; its defaults are the default problem's (wave's) resolved settings. */
export const HELP: string = (() => {
  const w = wave.train ?? {};
  const n = wave.groups.map((g) => `${g.name}=${g.defaultN}`).join(",");
  const f = FALLBACK_TRAIN_DEFAULTS, d = DEFAULT_CONFIG;
  const inits = [w.init ?? f.init, ...INITS.filter((i) => i !== (w.init ?? f.init))];
  return `train [--problem wave|./my_pde.ts] [--sizes ${wave.sizes}] [--activation tanh|sin]
      [--init ${inits.join("|")}] [--optimizer adam|gd|lbfgs] [--lr ${
    w.lr ?? f.lr
  }] [--decay ${d.decay}]
      [--decay-steps ${w.decaySteps ?? f.decaySteps}] [--steps ${w.steps ?? f.steps}] [--n ${n}]
      [--resample ${d.resample}] [--sampler sobol|uniform] [--weighting ${
    [d.weighting, ...WEIGHTINGS.filter((x) => x !== d.weighting)].join("|")
  }]
      [--weights GROUP=W,… (--weighting fixed only)] [--k ${d.k} (jvp, pc, hutch)]
      [--dt ${DEFAULT_DT} (pc; hutch: ${DEFAULT_HUTCH_DT})] [--central (pc)]
      [--beta ${emaBeta(d)} (exact, gradnorm: ${emaBeta({ weighting: "exact" })})] [--every ${
    w.every ?? d.every
  }]
      [--causal 0 (ε; 0 = off)] [--chunks ${DEFAULT_CHUNKS} (with --causal)]
      [--average ${w.average ?? f.average} (β of a parameter EMA; 0 = off)] [--seed ${d.seed}]
      [--fourier ${
    w.fourier ? formatFourierSpec(w.fourier) : "off"
  } (M:σ[:raw]: M random Fourier features of scale σ; README, Input embeddings)]
      [--then ${w.then === "lbfgs" ? "lbfgs|none" : "none|lbfgs"}] [--then-steps ${
    w.thenSteps ?? 0
  }] [--then-n ${
    w.thenN ? Object.entries(w.thenN).map(([g, v]) => `${g}=${v}`).join(",") : "GROUP=N,…"
  }] [--then-refresh 0 (M; 0 = frozen λ)]
      [--then-resample 0 (M: new L-BFGS points every M iterations; 0 = one fixed set)] [--history ${
    w.history ?? DEFAULT_HISTORY
  }]
      [--log-every ${
    defaultLogEvery(w.steps ?? f.steps)
  } (shorter runs: steps/50, so curves get ~50 points)] [--checkpoint-every ${RUN_DEFAULTS.checkpointEvery}] [--on-nan ${RUN_DEFAULTS.onNan}|rollback]
      [--out runs/<problem>-<weighting>] [--config FILE] [--resume DIR] [--max-memory SIZE]
      [--json] [--quiet]
Defaults shown are wave's, the default problem's. Another problem brings its own --sizes and
--n and may recommend --steps, --lr, --decay-steps, --init, --average, --fourier, --weighting,
--history and an L-BFGS phase (--then lbfgs --then-steps N --then-n …; README, Problems); where it does not: --steps ${f.steps}, --lr ${f.lr}, --decay-steps ${f.decaySteps}, --init ${f.init}, --average ${f.average}, --fourier off, --weighting ${d.weighting}, --history 20, --then none.
Flags override --config, which overrides the problem's recommendations. Wave's ${w.steps} Adam steps
and ${w.thenSteps} L-BFGS iterations take 15 to 50 minutes on a CPU (software) adapter, by its core count;
--steps 1000 --then none takes 1–4 minutes there.
--config FILE: a JSON object with these keys, spelt as the flags (decay-steps) or as in a run's
  config.json (decaySteps; also beta1, beta2, eps); a run's own config.json works. A module path
  in it is relative to the file.
--quiet: no banner and no progress on stderr (warnings, errors and the interrupt notice remain).
--max-memory SIZE: the memory budget checked before anything is allocated (4GiB, 512MiB);
  default half the machine's memory on a software adapter, none on a GPU.
Ctrl-C (or SIGTERM) stops within a step, writes a checkpoint and prints the --resume command
(exit code 130); a second Ctrl-C quits at once (after the checkpoint if one is being written).`;
})();

function formatProgress(p: Progress): string {
  const w = 20, done = Math.round((p.step / p.steps) * w);
  const bar = "=".repeat(done) + " ".repeat(w - done);
  const loss = Object.entries(p.loss).map(([g, v]) => `${g}=${v.toExponential(2)}`).join(" ");
  const lam = Object.entries(p.weights).map(([g, v]) => `${g}=${v.toPrecision(3)}`).join(" ");
  const eta = Number.isFinite(p.etaSeconds)
    ? `${Math.floor(p.etaSeconds / 60)}m${Math.round(p.etaSeconds % 60)}s`
    : "?";
  const err = p.rel_l2 === undefined ? "n/a (no reference)" : p.rel_l2.toExponential(2);
  return `step ${p.step}/${p.steps} [${bar}] loss ${loss} | λ ${lam} | err ${err} | ${
    p.stepsPerSecond.toFixed(1)
  } it/s | ETA ${eta}`;
}

/** Runs `train`; returns the exit code. */
export async function cmdTrain(args: string[]): Promise<number> {
  const f = parseFlags("train", args, TRAIN_FLAGS);
  if (f.help) return help(HELP);
  const json = Boolean(f.json), quiet = Boolean(f.quiet);
  const settings: TrainSettings = {};
  const run: RunSettings = { ...RUN_DEFAULTS };
  let resume = false;
  let saved: TrainConfig | undefined;
  if (typeof f.resume === "string") {
    saved = (await loadRun(f.resume)).config;
    Object.assign(settings, structuredClone(saved));
    run.out = f.resume;
    resume = true;
  }
  const applied = new Set<string>();
  if (typeof f.config === "string") {
    const file = await readConfigFile(f.config);
    for (const [k, v] of Object.entries(file)) {
      try {
        applySetting(settings, run, k, v, dirname(resolve(f.config)));
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        throw new UserError("--config", `Config file ${f.config}, key "${k}": ${e.message}`);
      }
      applied.add(k);
    }
  }
  const typed = new Set<string>();
  for (const k of CONFIG_KEYS) {
    const v = f[k];
    if (v !== undefined) {
      applySetting(settings, run, k, v, Deno.cwd());
      applied.add(k);
      typed.add(k);
    }
  }
  if (resume) {
    if (run.out !== f.resume) {
      throw new UserError(
        "--out",
        `--resume continues the run in its own folder ${f.resume}; drop --out (or copy the folder and resume the copy).`,
      );
    }
    for (const key of ["problem", "sizes", "activation"] as const) {
      if (applied.has(key) && String(settings[key]) !== String(saved![key])) {
        throw new UserError(
          `--${key}`,
          `${f.resume} was trained with --${key} ${
            saved![key]
          }; --resume cannot change it (drop --${key}, or start a new run with another --out).`,
        );
      }
    }
  }
  const { config, problem } = await resolveSettings(settings);
  checkIgnoredFlags(typed, config);
  run.out ??= `runs/${problem.name}-${config.weighting}`;
  const engine = await Engine.create();
  try {
    engine.maxMemory = run.maxMemory;
    // Everything the run will allocate, checked before a point is sampled.
    checkDemand({
      problem,
      sizes: config.sizes,
      counts: resolveCounts(problem, config.n),
      options: {
        directions: planDirections(config),
        tangents: config.weighting === "jvp",
        sliceVec4: engine.tuning.slice,
        average: (config.average ?? 0) > 0,
        causal: (config.causal ?? 0) > 0,
        maxBinding: engine.maxBinding,
      },
      grid: problem.grid.reduce((a, n) => a * n, 1),
    }, engineLimits(engine));
  } catch (e) {
    engine.dispose();
    throw e;
  }
  if (!quiet) {
    info(`sketchpinn: ${adapterLine(engine.adapter)}`);
    info(
      `training ${problem.name} [${
        config.sizes.join(",")
      }] ${config.activation}, ${config.weighting} weights, ${config.steps} steps${
        // A problem may recommend the phase: say so, since no flag asked for it.
        config.then === "lbfgs"
          ? ` then ${config.thenSteps ?? 0} L-BFGS iterations`
          : ""} → ${run.out}`,
    );
  }
  const ctrl = new AbortController();
  let signals = 0, saving = false, quitAfterSave = false;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      info(
        `\nStopping: finishing this step, then writing a checkpoint to ${run.out}/model.json (Ctrl-C again to quit at once).`,
      );
      ctrl.abort();
    } else if (saving) {
      info("Quitting as soon as the checkpoint is written.");
      quitAfterSave = true;
    } else {
      info(`Quit; the last checkpoint in ${run.out}/model.json is kept.`);
      Deno.exit(130);
    }
  };
  for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, onSignal);
  try {
    const { metrics, interrupted } = await runTraining(engine, { ...config, problem }, {
      out: run.out,
      resume,
      checkpointEvery: run.checkpointEvery,
      onNan: run.onNan,
      signal: ctrl.signal,
      onSaving: (v) => {
        saving = v;
        if (!v && quitAfterSave) {
          info(`Quit; checkpoint written to ${run.out}/model.json.`);
          Deno.exit(130);
        }
      },
      onProgress: quiet ? undefined : (p) => info(formatProgress(p)),
    });
    if (interrupted) {
      info(
        `Interrupted at step ${metrics.steps}; checkpoint written to ${run.out}/model.json. Resume with: deno task train --resume ${run.out}`,
      );
      return 130;
    }
    const outs = Object.entries(metrics.rel_l2_outputs ?? {});
    const err = metrics.rel_l2 === null
      ? "no reference (no exact or reference solution to compare with, so no error)"
      : `relative L2 error ${metrics.rel_l2.toExponential(3)}${
        outs.length > 1 ? ` (${outs.map(([k, v]) => `${k} ${v.toExponential(2)}`).join(", ")})` : ""
      }`;
    out(
      json,
      metrics,
      `done: ${metrics.steps} steps in ${
        metrics.wall_s.toFixed(1)
      } s, ${err}; report in ${run.out}/report.md`,
    );
    return 0;
  } finally {
    for (const s of ["SIGINT", "SIGTERM"] as const) Deno.removeSignalListener(s, onSignal);
    engine.dispose();
  }
}
