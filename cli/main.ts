/**
 * The sketchpinn command line: `train`, `eval`, `predict`, `ntk`, `init`, `points`, `bench`, `sweep`.
 * One module per command under cli/; this file only dispatches.
 *
 * Human-readable output by default, `--json` for machines; progress and
 * diagnostics go to stderr; exit code 0 on success, 2 on bad input.
 *
 * @module
 */
import { UserError } from "../src/errors.ts";
import { nearest } from "./args.ts";
import { problems } from "../src/problems/mod.ts";
import { runBench } from "../bench/bench.ts";
import { cmdTrain } from "./train.ts";
import { cmdEval } from "./eval.ts";
import { cmdPredict } from "./predict.ts";
import { cmdNtk } from "./ntk.ts";
import { cmdInit } from "./init.ts";
import { cmdPoints } from "./points.ts";
import { cmdSweep } from "./sweep.ts";
import { help } from "./common.ts";
import { BACKENDS } from "../src/device.ts";

const HELP: string = `sketchpinn — PINN training with NTK loss weights on WebGPU

Commands (each also a deno task: deno task train|eval|ntk|init|points|bench|sweep …):
  train   train a problem (default: wave with predictor–corrector NTK weights)
  eval    residuals, loss and gradient of a model on a points file
  predict a model's outputs at given points
  ntk     NTK block traces and weights of a model (exact, jvp, pc, hutch)
  init    write an initialised model file
  points  write a points file for a problem
  bench   GPU benchmarks
  sweep   a grid of trainings here or as a Slurm job array, and its tables and charts

Every command that uses the GPU takes --backend ${BACKENDS.join("|")} (default auto:
Deno's choice, but Mesa's GL llvmpipe over Vulkan's lavapipe when only software exists).

Run \`<command> --help\` for its flags. Problems: ${
  Object.keys(problems).join(", ")
}, or the path of a module exporting one (--problem ./my_pde.ts).
Exit codes: 0 success, 2 bad input (one sentence naming it), 130 interrupted (train: Ctrl-C
writes a checkpoint first). Relative paths are relative to the directory you run from, also
under deno task. The tuning cache is tuning.json in the folder $SKETCHPINN_CACHE names
(default $XDG_CACHE_HOME/sketchpinn or ~/.cache/sketchpinn).`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  train: cmdTrain,
  eval: cmdEval,
  predict: cmdPredict,
  ntk: cmdNtk,
  init: cmdInit,
  points: cmdPoints,
  bench: runBench,
  sweep: cmdSweep,
};

/**
 * Takes `--backend B` (or `--backend=B`) out of `args` and sets
 * `DENO_WEBGPU_BACKEND` for the adapter request (src/device.ts `pickAdapter`).
 */
function takeBackend(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a !== "--backend" && !a.startsWith("--backend=")) {
      out.push(a);
      continue;
    }
    const v = a === "--backend" ? args[++i] : a.slice("--backend=".length);
    if (!(BACKENDS as readonly string[]).includes(v)) {
      const near = v ? nearest(v, [...BACKENDS]) : undefined;
      throw new UserError(
        "--backend",
        `--backend must be one of ${BACKENDS.join(", ")}, not ${v ?? "nothing"}${
          near ? ` (did you mean ${near}?)` : ""
        }.`,
      );
    }
    if (v === "auto") Deno.env.delete("DENO_WEBGPU_BACKEND");
    else Deno.env.set("DENO_WEBGPU_BACKEND", v);
  }
  return out;
}

/** Runs the CLI on `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let cmd: string | undefined, rest: string[];
  try {
    [cmd, ...rest] = takeBackend(args);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    console.error(`error: ${e.message}`);
    return 2;
  }
  if (!cmd || cmd === "--help" || cmd === "help") return help(HELP);
  const run = COMMANDS[cmd];
  try {
    if (!run) {
      const near = nearest(cmd, Object.keys(COMMANDS));
      throw new UserError(
        cmd,
        `Unknown command "${cmd}"${near ? `; did you mean \`${near}\`?` : ""} Commands: ${
          Object.keys(COMMANDS).join(", ")
        }.`,
      );
    }
    return await run(rest);
  } catch (e) {
    if (e instanceof UserError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

/**
 * `deno task` runs a command in the repository, with the user's directory in
 * `INIT_CWD`; the tasks mark themselves (SKETCHPINN_TASK=1) so that relative paths
 * (--problem, --out, --model, …) resolve against the user's directory instead. The
 * mark is removed so that programs started from here do not inherit it.
 */
export function enterUserDirectory(): void {
  const dir = Deno.env.get("INIT_CWD");
  if (Deno.env.get("SKETCHPINN_TASK") !== "1" || !dir) return;
  Deno.env.delete("SKETCHPINN_TASK");
  try {
    Deno.chdir(dir);
  } catch {
    // A directory that vanished or is unreadable: stay in the repository.
  }
}

if (import.meta.main) {
  enterUserDirectory();
  Deno.exit(await main(Deno.args));
}
