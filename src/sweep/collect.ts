/**
 * `sweep collect`: one row per run (its axes, relative L2 error per output, wall
 * time, steps, final weights) read from the run folders, the mean ± standard
 * deviation over seeds where the sweep varies `seed`, and the tables as Markdown
 * and CSV. Charts are in charts.ts.
 *
 * @module
 */
import type { Plan, SettingValue } from "./plan.ts";
import { valueText } from "./plan.ts";
import { type RunState, runState } from "./state.ts";

/** One run of a collected sweep. */
export interface RunRow {
  /** The run's name (its folder under `runs/`). */
  name: string;
  /** Values of the plan's axes. */
  axes: Record<string, SettingValue>;
  /** `finished`, `running`, `interrupted`, `failed` or `pending`. */
  status: RunState["kind"];
  /** Relative L2 error; null until finished (or without a reference solution). */
  rel_l2: number | null;
  /** Relative L2 error per output, where the problem has several. */
  rel_l2_outputs: Record<string, number | null> | null;
  /** Wall time in seconds, across resumptions. */
  wall_s: number | null;
  /** Steps trained. */
  steps: number | null;
  /** Final loss weights per group. */
  weights: Record<string, number> | null;
}

/** Mean and sample standard deviation of a set of runs that differ only in seed. */
export interface SeedGroup {
  /** The other axes' values. */
  axes: Record<string, SettingValue>;
  /** Seeds of the finished runs in the group. */
  seeds: SettingValue[];
  /** Runs in the group (finished or not). */
  runs: number;
  /** Mean and std of the relative L2 error over the finished runs. */
  rel_l2: { mean: number; std: number } | null;
  /** Mean wall time. */
  wall_s: number | null;
  /** Mean final weights per group. */
  weights: Record<string, number> | null;
}

/** Everything `collect` reports. */
export interface Collected {
  /** The plan's axis names. */
  axes: string[];
  /** One row per planned run, in plan order. */
  runs: RunRow[];
  /** Per combination of the non-seed axes, when `seed` is an axis; else empty. */
  seeds: SeedGroup[];
}

/** Per-output errors as name → value, whether metrics.json holds a map or a list. */
function outputsOf(v: unknown): Record<string, number | null> | null {
  if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]));
  if (typeof v === "object" && v !== null) return v as Record<string, number | null>;
  return null;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sample standard deviation (n − 1); 0 for one value. */
export function sampleStd(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

function meanWeights(rows: RunRow[]): Record<string, number> | null {
  const ws = rows.map((r) => r.weights).filter((w) => w !== null);
  if (ws.length === 0) return null;
  const keys = [...new Set(ws.flatMap((w) => Object.keys(w)))];
  return Object.fromEntries(keys.map((k) => [k, mean(ws.map((w) => w[k] ?? NaN))]));
}

/** Reads every run of `plan` in `dir`. */
export async function collect(dir: string, plan: Plan): Promise<Collected> {
  const runs: RunRow[] = [];
  for (const r of plan.runs) {
    const s = await runState(dir, r);
    const m = s.kind === "finished" ? s.metrics : undefined;
    runs.push({
      name: r.name,
      axes: r.axes,
      status: s.kind,
      rel_l2: typeof m?.rel_l2 === "number" ? m.rel_l2 : null,
      rel_l2_outputs: outputsOf(m?.rel_l2_outputs),
      wall_s: m?.wall_s ?? null,
      steps: m?.steps ?? null,
      weights: m?.weights ?? null,
    });
  }
  return { axes: plan.axes, runs, seeds: seedGroups(plan.axes, runs) };
}

/** Groups runs by every axis but `seed`; empty when `seed` is no axis. */
export function seedGroups(axes: string[], runs: RunRow[]): SeedGroup[] {
  if (!axes.includes("seed")) return [];
  const others = axes.filter((a) => a !== "seed");
  const groups = new Map<string, RunRow[]>();
  for (const r of runs) {
    const key = JSON.stringify(others.map((a) => r.axes[a]));
    groups.set(key, [...groups.get(key) ?? [], r]);
  }
  return [...groups.values()].map((rows) => {
    const done = rows.filter((r) => r.rel_l2 !== null);
    const errs = done.map((r) => r.rel_l2!);
    const walls = rows.map((r) => r.wall_s).filter((w) => w !== null);
    return {
      axes: Object.fromEntries(others.map((a) => [a, rows[0].axes[a]])),
      seeds: done.map((r) => r.axes.seed),
      runs: rows.length,
      rel_l2: errs.length ? { mean: mean(errs), std: sampleStd(errs) } : null,
      wall_s: walls.length ? mean(walls) : null,
      weights: meanWeights(done),
    };
  });
}

/** A number for a table: 3 significant digits, exponent form when very small or large. */
export function fmtNum(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "";
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(3)).toString();
}

const weightKeys = (rows: { weights: Record<string, number> | null }[]) => [
  ...new Set(rows.flatMap((r) => Object.keys(r.weights ?? {}))),
];
const outputKeys = (rows: RunRow[]) => [
  ...new Set(rows.flatMap((r) => Object.keys(r.rel_l2_outputs ?? {}))),
];

/**
 * The runs table as header and rows of text cells (shared by Markdown and CSV);
 * `raw` keeps every digit (CSV) instead of rounding for reading.
 */
export function runsTable(c: Collected, raw = false): string[][] {
  const digits = raw ? (v: number | null) => v === null ? "" : String(v) : fmtNum;
  const ws = weightKeys(c.runs), outs = outputKeys(c.runs);
  const head = [
    "run",
    ...c.axes,
    "status",
    "rel. L2",
    ...outs.map((o) => `rel. L2 ${o}`),
    "wall s",
    "steps",
    ...ws.map((w) => `λ ${w}`),
  ];
  const rows = c.runs.map((r) => [
    r.name,
    ...c.axes.map((a) => r.axes[a] === undefined ? "" : valueText(r.axes[a])),
    r.status,
    digits(r.rel_l2),
    ...outs.map((o) => digits(r.rel_l2_outputs?.[o] ?? null)),
    r.wall_s === null ? "" : raw ? String(r.wall_s) : r.wall_s.toFixed(1),
    r.steps === null ? "" : String(r.steps),
    ...ws.map((w) => digits(r.weights?.[w] ?? null)),
  ]);
  return [head, ...rows];
}

/** The over-seeds table as header and rows of text cells. */
export function seedsTable(c: Collected): string[][] {
  const others = c.axes.filter((a) => a !== "seed");
  const ws = weightKeys(c.seeds);
  const head = [
    ...others,
    "seeds",
    "rel. L2 mean ± std",
    "wall s (mean)",
    ...ws.map((w) => `λ ${w}`),
  ];
  const rows = c.seeds.map((g) => [
    ...others.map((a) => valueText(g.axes[a])),
    `${g.seeds.map(valueText).join(", ")}${g.seeds.length < g.runs ? ` (${g.runs} planned)` : ""}`,
    g.rel_l2 ? `${fmtNum(g.rel_l2.mean)} ± ${fmtNum(g.rel_l2.std)}` : "",
    g.wall_s === null ? "" : g.wall_s.toFixed(1),
    ...ws.map((w) => fmtNum(g.weights?.[w] ?? null)),
  ]);
  return [head, ...rows];
}

/** A Markdown table; numeric-looking columns are right-aligned. */
export function markdownTable(t: string[][]): string {
  const [head, ...rows] = t;
  const numeric = head.map((_, j) =>
    rows.length > 0 && rows.every((r) => r[j] === "" || /^[-+\d.e± ]+$/.test(r[j]))
  );
  const esc = (s: string) => s.replaceAll("|", "\\|");
  return [
    `| ${head.map(esc).join(" | ")} |`,
    `| ${numeric.map((n) => (n ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n") + "\n";
}

/** CSV (RFC 4180 quoting). */
export function csvTable(t: string[][]): string {
  const q = (s: string) => /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  return t.map((r) => r.map(q).join(",")).join("\n") + "\n";
}

/** The `results.md` text: the over-seeds table (if any), then every run. */
export function resultsMarkdown(c: Collected, title: string, charts: string[]): string {
  const finished = c.runs.filter((r) => r.status === "finished").length;
  return [
    `# Sweep ${title}`,
    "",
    `${finished} of ${c.runs.length} runs finished.`,
    "",
    ...(c.seeds.length
      ? ["## Over seeds (sample standard deviation)", "", markdownTable(seedsTable(c))]
      : []),
    "## Runs",
    "",
    markdownTable(runsTable(c)),
    ...charts.map((f) => `![${f}](${f})\n`),
  ].join("\n");
}

/** `collect --json`: `{"runs": [{"name", <each axis>, "rel_l2", "wall_s", "steps", …}]}`. */
export function collectJson(c: Collected): Record<string, unknown> {
  return {
    runs: c.runs.map((r) => ({
      name: r.name,
      ...r.axes,
      status: r.status,
      rel_l2: r.rel_l2,
      ...(r.rel_l2_outputs ? { rel_l2_outputs: r.rel_l2_outputs } : {}),
      wall_s: r.wall_s,
      steps: r.steps,
      weights: r.weights,
    })),
    ...(c.seeds.length ? { seeds: c.seeds } : {}),
  };
}
