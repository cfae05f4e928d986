/**
 * A run folder's configuration and checkpoint: reading them back for `--resume`
 * (every field checked, so a damaged file is one sentence), refusing a folder
 * that holds another problem's run, and writing a checkpoint (model.json with the
 * training state).
 *
 * @module
 */
import type { FourierEmbedding } from "./embedding.ts";
import type { TrainConfig } from "./train_config.ts";
import type { TrainState } from "./train_state.ts";
import { loadModel, type Model, modelToJson } from "./model.ts";
import { writeRunFile } from "./run_files.ts";
import { UserError } from "./errors.ts";
import { isProblemPath, problems } from "./problems/mod.ts";
import type { Problem } from "./problems/problem.ts";
import { storedProblem } from "./settings.ts";
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";

/** A checkpoint held in memory: the model's parameters and the training state. */
export interface Snapshot {
  /** The model's parameters (the average when on). */
  params: Float32Array;
  /** The training state besides them. */
  state: TrainState;
}

const finiteList = (v: unknown) =>
  Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x));

/** Loads a run folder's config and checkpoint for `--resume`. */
export async function loadRun(
  dir: string,
  program?: Problem,
): Promise<{ config: TrainConfig; model: Model }> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dir}/config.json`);
  } catch {
    throw new UserError(
      "--resume",
      `Cannot read ${dir}/config.json; --resume needs a folder written by \`train\`.`,
    );
  }
  let config: TrainConfig;
  try {
    config = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      "--resume",
      `${dir}/config.json is not valid JSON (${(e as Error).message}); restore it from a copy.`,
    );
  }
  const model = await loadModel(`${dir}/model.json`);
  const s = model.state as Partial<TrainState> | undefined;
  if (!s || typeof s.step !== "number") {
    throw new UserError(
      "--resume",
      `${dir}/model.json holds no training state; it was not written by \`train\`.`,
    );
  }
  // A hand-edited or damaged state would otherwise be read as zeros (null → 0) or
  // continue from a negative step.
  if (
    !Number.isInteger(s.step) || s.step < 0 || typeof s.lrScale !== "number" ||
    !(s.lrScale > 0) || !finiteList(s.moments) || !finiteList(s.lambda) ||
    !finiteList(s.ntkState)
  ) {
    throw new UserError(
      "--resume",
      `${dir}/model.json has a damaged training state; resume from an earlier copy or start a new run.`,
    );
  }
  if (
    typeof config !== "object" || config === null || config.problem !== model.problem ||
    String(config.sizes) !== String(model.sizes) || config.activation !== model.activation ||
    Boolean(config.fourier) !== Boolean(model.embedding)
  ) {
    throw new UserError(
      "--resume",
      `${dir}/config.json does not match ${dir}/model.json (problem, sizes, activation, Fourier features); restore it from a copy.`,
    );
  }
  if (isProblemPath(config.problem)) {
    // Files store a module path relative to the run folder; runs written before
    // that stored it relative to the directory train ran in.
    const p = config.problem.startsWith("file:") || isAbsolute(config.problem)
      ? config.problem
      : resolve(dir, config.problem);
    config.problem = existsSync(p) || !existsSync(config.problem) ? p : resolve(config.problem);
  } else if (program) {
    if (program.name !== config.problem) {
      throw new UserError(
        "--resume",
        `${dir} was trained on problem "${config.problem}", not "${program.name}": resume it with that problem.`,
      );
    }
  } else if (!Object.hasOwn(problems, config.problem)) {
    throw new UserError(
      "--resume",
      `${dir} was trained on problem "${config.problem}", defined in a program rather than a module file: resume it from that program (runTraining with resume: true and the problem object), or move the problem into a module and train with --problem ./module.ts.`,
    );
  }
  return { config, model };
}

/**
 * Refuses an output folder that holds another problem's run: training would
 * overwrite its model and log. A folder of the same problem is reused.
 */
export async function checkOutFolder(out: string, problem: string): Promise<void> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${out}/config.json`);
  } catch {
    return;
  }
  let other: unknown;
  try {
    other = JSON.parse(text)?.problem;
  } catch {
    return;
  }
  if (typeof other !== "string") return;
  const same = isProblemPath(other)
    ? isProblemPath(problem) && resolve(out, other) === resolve(problem)
    : other === problem;
  if (!same) {
    throw new UserError(
      "--out",
      `${out} holds a run of problem ${other}; training ${problem} there would overwrite it: choose another --out (or delete that folder).`,
    );
  }
}

/** What a checkpoint records beside the configuration and the snapshot. */
export interface SnapshotContext {
  /** Step of the checkpoint already in the folder, if any (named when a write fails). */
  last?: number;
  /** The run's Fourier features. */
  embedding?: FourierEmbedding;
  /** The problem's output transform (its doc). */
  transform?: string;
}

/** Writes a checkpoint of `s` for the run `c` into `out`. */
export async function writeSnapshot(
  out: string,
  c: TrainConfig,
  s: Snapshot,
  { last, embedding, transform }: SnapshotContext = {},
): Promise<void> {
  await writeRunFile(
    out,
    "model.json",
    modelToJson({
      problem: storedProblem(c.problem, out),
      sizes: c.sizes,
      activation: c.activation,
      params: s.params,
      embedding,
      transform,
      state: s.state as unknown as Record<string, unknown>,
    }),
    last === undefined
      ? ""
      : `, then resume: the last good checkpoint (step ${last}) is still in ${out}/model.json`,
  );
}
