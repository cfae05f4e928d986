/**
 * Sweep files and their plans: a sweep file names training settings (`train` flag
 * names without dashes) shared by every run (`base`), values to combine (`axes`,
 * their product) and optionally whole configurations (`configs`); the plan lists
 * one run per combination with a stable name, and is recorded in the sweep folder
 * as `plan.json` so that every later command (`task`, `status`, `collect`, a
 * re-submitted array) sees the same runs in the same order.
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../fsutil.ts";

/** A setting's value as a sweep file may give it (what `train --config` accepts). */
export type SettingValue = string | number | boolean | number[] | Record<string, number>;

/** Training settings keyed by `train` flag name without dashes. */
export type Settings = Record<string, SettingValue>;

/**
 * A sweep file. Runs are every entry of `configs` (default: one empty entry) combined
 * with every combination of the `axes` values, each laid over `base`.
 */
export interface SweepFile {
  /** Settings of every run. */
  base?: Settings;
  /** Setting name → the values to sweep; the runs are the product over the axes. */
  axes?: Record<string, SettingValue[]>;
  /** Explicit configurations (each optionally with a `"name"`), combined with the axes. */
  configs?: (Settings & { name?: string })[];
}

/** One configuration of a plan. */
export interface PlannedRun {
  /** Position in the plan: the Slurm array index. */
  index: number;
  /** Stable, file-system safe name: the run folder's name. */
  name: string;
  /** The full settings written to the run's `--config` file. */
  settings: Settings;
  /** The values of the plan's axes for this run. */
  axes: Record<string, SettingValue>;
}

/** What `plan.json` holds. */
export interface Plan {
  /** Format tag. */
  format: "sketchpinn-sweep-v1";
  /** The sweep file the plan came from. */
  file: string;
  /** Names of the settings that vary between runs (table columns), in file order. */
  axes: string[];
  /** The runs, in array-index order. */
  runs: PlannedRun[];
}

/** Settings a sweep sets itself, per run: a sweep file may not give them. */
const RESERVED = ["out", "config", "resume"];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The text of a value in names and tables: lists joined by commas, maps as `a=1,b=2`. */
export function valueText(v: SettingValue): string {
  if (Array.isArray(v)) return v.join(",");
  if (isObject(v)) return Object.entries(v).map(([k, x]) => `${k}=${x}`).join(",");
  return String(v);
}

/** A short stable hash (FNV-1a, 32 bits, hex) to tell apart names that slug alike. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** Text with only [A-Za-z0-9.+-], so names are safe in paths, shells and Slurm logs. */
const slug = (s: string) => s.replace(/[^A-Za-z0-9.+-]+/g, "-").replace(/^-+|-+$/g, "");

/** `key-value` parts joined by `_`. */
const nameOf = (parts: [string, SettingValue][]) =>
  parts.map(([k, v]) => `${slug(k)}-${slug(valueText(v))}`);

/**
 * Expands a sweep file into its runs. `check` validates each run's settings (the CLI
 * passes `train`'s own checks) and throws one sentence naming the configuration.
 */
export function expandSweep(
  file: string,
  sweep: SweepFile,
  check: (where: string, settings: Settings) => void = () => {},
): Plan {
  const where = `Sweep file ${file}`;
  if (!isObject(sweep as unknown)) {
    throw new UserError(file, `${where} must hold a JSON object with "base" and "axes".`);
  }
  for (const k of Object.keys(sweep)) {
    if (!["base", "axes", "configs"].includes(k)) {
      throw new UserError(
        file,
        `${where} has unknown key "${k}"; a sweep file holds "base", "axes" and "configs".`,
      );
    }
  }
  const base: Settings = sweep.base ?? {};
  const axes: Record<string, SettingValue[]> = sweep.axes ?? {};
  const configs: (Settings & { name?: string })[] = sweep.configs ?? [{}];
  if (!isObject(base as unknown)) {
    throw new UserError(file, `${where}: "base" must be an object of settings.`);
  }
  if (!isObject(axes as unknown)) {
    throw new UserError(file, `${where}: "axes" must map setting names to lists of values.`);
  }
  if (
    !Array.isArray(configs) || configs.length === 0 || !configs.every((c) => isObject(c as unknown))
  ) {
    throw new UserError(file, `${where}: "configs" must be a non-empty list of objects.`);
  }
  for (const [k, vs] of Object.entries(axes)) {
    if (!Array.isArray(vs) || vs.length === 0) {
      throw new UserError(file, `${where}: axis "${k}" must be a non-empty list of values.`);
    }
    if (new Set(vs.map((v) => JSON.stringify(v))).size !== vs.length) {
      throw new UserError(file, `${where}: axis "${k}" lists a value twice; list each once.`);
    }
  }
  for (const obj of [base, axes, ...configs]) {
    for (const k of Object.keys(obj)) {
      if (RESERVED.includes(k)) {
        throw new UserError(
          file,
          `${where} sets "${k}", which the sweep sets for each run; remove it (use \`sweep --out\` for the folder).`,
        );
      }
    }
  }
  const axisNames = Object.keys(axes);
  for (const c of configs) {
    const both = Object.keys(c).find((k) => axisNames.includes(k));
    if (both) {
      throw new UserError(file, `${where}: "${both}" is both an axis and a config key; keep one.`);
    }
  }
  // Config keys whose values differ between configs are columns like the axes.
  const configKeys = [...new Set(configs.flatMap((c) => Object.keys(c)))].filter((k) =>
    k !== "name" && new Set(configs.map((c) => JSON.stringify(c[k] ?? base[k]))).size > 1
  );
  let combos: [string, SettingValue][][] = [[]];
  for (const k of axisNames) {
    combos = combos.flatMap((c) => axes[k].map((v) => [...c, [k, v] as [string, SettingValue]]));
  }
  const runs: PlannedRun[] = [];
  for (const [ci, c] of configs.entries()) {
    const { name: given, ...own } = c;
    if (given !== undefined && (typeof given !== "string" || given === "")) {
      throw new UserError(file, `${where}: config ${ci} has a "name" that is not a text.`);
    }
    for (const combo of combos) {
      const settings: Settings = { ...base, ...own as Settings, ...Object.fromEntries(combo) };
      const label = given !== undefined
        ? `${where}, config "${given}"`
        : `${where}, configuration ${runs.length}`;
      check(label, settings);
      const configParts = configKeys.filter((k) => k in own).map((k) =>
        [k, own[k] as SettingValue] as [string, SettingValue]
      );
      const head = given !== undefined ? [slug(given)] : nameOf(configParts);
      let name = [...head, ...nameOf(combo)].filter((p) => p).join("_") || "base";
      if (name.length > 100) name = `${name.slice(0, 90)}-${shortHash(name)}`;
      runs.push({
        index: runs.length,
        name,
        settings,
        axes: Object.fromEntries(
          [...configKeys.map((k) => [k, settings[k]]), ...combo].filter(([, v]) => v !== undefined),
        ),
      });
    }
  }
  const seen = new Map<string, number>();
  for (const r of runs) seen.set(r.name, (seen.get(r.name) ?? 0) + 1);
  for (const r of runs) {
    if (seen.get(r.name)! > 1) r.name = `${r.name}-${shortHash(JSON.stringify(r.settings))}`;
  }
  if (new Set(runs.map((r) => r.name)).size !== runs.length) {
    throw new UserError(file, `${where} lists the same configuration twice; list each once.`);
  }
  return { format: "sketchpinn-sweep-v1", file, axes: [...configKeys, ...axisNames], runs };
}

/** Reads and expands a sweep file; see {@linkcode expandSweep}. */
export async function readSweepFile(
  path: string,
  check?: (where: string, settings: Settings) => void,
): Promise<Plan> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new UserError(path, `Cannot read sweep file ${path}; check the path.`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new UserError(path, `Sweep file ${path} is not valid JSON (${(e as Error).message}).`);
  }
  return expandSweep(path, obj as SweepFile, check);
}

/** The default sweep folder of a sweep file: `sweeps/<file name without extension>`. */
export function defaultSweepDir(file: string): string {
  const base = file.split(/[\\/]/).pop()!.replace(/\.json$/i, "");
  return `sweeps/${base}`;
}

/** Reads `DIR/plan.json`; throws one sentence when the folder holds none. */
export async function readPlan(dir: string): Promise<Plan> {
  let plan: Plan;
  try {
    plan = JSON.parse(await Deno.readTextFile(`${dir}/plan.json`));
  } catch {
    throw new UserError(
      dir,
      `${dir} holds no readable plan.json; give a sweep folder written by \`sweep run\` or \`sweep slurm\` (or the sweep file).`,
    );
  }
  if (plan?.format !== "sketchpinn-sweep-v1" || !Array.isArray(plan.runs)) {
    throw new UserError(dir, `${dir}/plan.json is not a sketchpinn sweep plan.`);
  }
  return plan;
}

/**
 * Records `plan` in `dir` (plan.json and one `--config` file per run). A folder that
 * already holds a plan keeps it only where runs of the same name have the same
 * settings: changing a run's settings under its old name would mix two trainings in
 * one run folder.
 */
export async function writePlan(dir: string, plan: Plan): Promise<void> {
  const old = await readPlan(dir).catch(() => undefined);
  if (old) {
    const before = new Map(old.runs.map((r) => [r.name, JSON.stringify(r.settings)]));
    const changed = plan.runs.find((r) =>
      before.has(r.name) && before.get(r.name) !== JSON.stringify(r.settings)
    );
    if (changed) {
      throw new UserError(
        plan.file,
        `Sweep folder ${dir} ran "${changed.name}" with other settings than ${plan.file} now gives; use another --out or remove ${dir}/runs/${changed.name}.`,
      );
    }
  }
  await Deno.mkdir(`${dir}/configs`, { recursive: true });
  for (const r of plan.runs) {
    const path = `${dir}/configs/${r.name}.json`;
    const text = JSON.stringify(r.settings, null, 2) + "\n";
    if ((await Deno.readTextFile(path).catch(() => "")) !== text) await writeFileAtomic(path, text);
  }
  const text = JSON.stringify(plan, null, 2) + "\n";
  // Array tasks all re-plan at start: an unchanged plan is not rewritten.
  if ((await Deno.readTextFile(`${dir}/plan.json`).catch(() => "")) !== text) {
    await writeFileAtomic(`${dir}/plan.json`, text);
  }
}
