/**
 * The small wave training the run tests share: its settings (a 2-12-12-1 network
 * on 48 + 16 + 16 points, no L-BFGS phase, the rest as `train`'s defaults), a run of it into a
 * temporary folder and reading a run folder's log. Apart so that every test
 * trains the same cheap network and reads log.jsonl the same way.
 */
import { DEFAULT_CONFIG, type TrainConfig } from "../src/train_config.ts";
import type { LogRecord } from "../src/train_state.ts";
import type { TrainSettings } from "../src/settings.ts";
import type { Engine } from "../src/engine.ts";
import { type RunOptions, runTraining } from "../src/run.ts";
import type { Metrics } from "../src/run_report.ts";

/** The small network's settings with `extra` over them. */
export const smallWave = (extra: Partial<TrainConfig> = {}): TrainSettings => ({
  ...DEFAULT_CONFIG,
  sizes: [2, 12, 12, 1],
  n: { r: 48, u: 16, ut: 16 },
  then: "none",
  ...extra,
});

/** The records of a run folder's log.jsonl. */
export const readLog = async (out: string): Promise<LogRecord[]> =>
  (await Deno.readTextFile(`${out}/log.jsonl`)).trim().split("\n").map((l) => JSON.parse(l));

/**
 * A training run of `settings` into a new temporary folder (the caller removes it):
 * the folder, the run's metrics and its log.
 */
export async function tempRun(
  engine: Engine,
  settings: TrainSettings,
  options: Omit<RunOptions, "out"> = {},
): Promise<{ out: string; metrics: Metrics; log: LogRecord[] }> {
  const out = await Deno.makeTempDir();
  const { metrics } = await runTraining(engine, settings, { out, ...options });
  return { out, metrics, log: await readLog(out) };
}
