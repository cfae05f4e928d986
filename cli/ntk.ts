/**
 * `ntk`: NTK block traces and weights of a model (exact, jvp, pc, hutch), and with
 * `--full` the full NTK's spectrum per block.
 *
 * @module
 */
import { UserError } from "../src/errors.ts";
import { bytesFlag, choiceFlag, intFlag, numFlag, parseFlags } from "./args.ts";
import { Engine } from "../src/engine.ts";
import { writeFileAtomic } from "../src/fsutil.ts";
import { symmetricEigenvalues } from "../src/linalg.ts";
import { Plan } from "../src/plan.ts";
import { DEFAULT_DT, DEFAULT_HUTCH_DT, defaultK, ntkWeights } from "../src/ntk.ts";
import { checkFiles, countsOf, help, info, modelAndPoints, out, writing } from "./common.ts";
import { checkDirections } from "../src/limits.ts";
import { MAX_FULL_NTK_ROWS } from "../src/plan.ts";
import type { ResourceEstimate } from "../src/resources.ts";
import { paramLayout } from "../src/model.ts";

/** What `ntk` uses where a flag is not given (--k: {@linkcode defaultK}; --dt: the estimator's). */
export const NTK_DEFAULTS = { method: "exact", seed: 0, repeat: 1, kind: "gaussian" } as const;

/** `ntk --help`. */
export const HELP: string =
  `ntk --model M.json --points P.json [--method exact|jvp|pc|hutch] [--k ${
    defaultK("jvp")
  } (jvp; pc, hutch: ${defaultK("pc")})]
    [--dt ${DEFAULT_DT} (pc; hutch: ${DEFAULT_HUTCH_DT})] [--central (pc)] [--kind gaussian|rademacher (jvp, pc)]
    [--seed ${NTK_DEFAULTS.seed}] [--repeat ${NTK_DEFAULTS.repeat}] [--full SPECTRA.json] [--max-memory SIZE] [--json]
    --k, --seed and --repeat apply to jvp, pc and hutch; a flag the method does not read is an error.
    --full: the full NTK (≤ 4096 rows) and its eigenvalues per block, written to the file`;

/** Flags that only some estimators read: giving one to another method is an error. */
const METHOD_FLAGS: Record<string, readonly string[]> = {
  k: ["jvp", "pc", "hutch"],
  dt: ["pc", "hutch"],
  central: ["pc"],
  kind: ["jvp", "pc"],
  seed: ["jvp", "pc", "hutch"],
  repeat: ["jvp", "pc", "hutch"],
};

/** Runs `ntk`; returns the exit code. */
export async function cmdNtk(args: string[]): Promise<number> {
  const f = parseFlags("ntk", args, {
    model: "string",
    points: "string",
    method: "string",
    k: "string",
    dt: "string",
    central: "boolean",
    kind: "string",
    seed: "string",
    repeat: "string",
    full: "string",
    "max-memory": "string",
    json: "boolean",
    help: "boolean",
  });
  if (f.help) return help(HELP);
  const method = choiceFlag(
    "method",
    (f.method as string) ?? NTK_DEFAULTS.method,
    ["exact", "jvp", "pc", "hutch"] as const,
  );
  for (const [flag, users] of Object.entries(METHOD_FLAGS)) {
    if (f[flag] !== undefined && !users.includes(method)) {
      throw new UserError(
        `--${flag}`,
        `--${flag} applies only to --method ${
          users.join(", ")
        }, so --method ${method} would ignore it: drop --${flag} or change --method.`,
      );
    }
  }
  const k = f.k !== undefined ? checkDirections(intFlag("k", f.k as string, 1)) : defaultK(method);
  const dt = f.dt !== undefined ? numFlag("dt", f.dt as string, { positive: true }) : undefined;
  const seed = f.seed !== undefined ? intFlag("seed", f.seed as string, 0) : NTK_DEFAULTS.seed;
  const repeat = f.repeat !== undefined
    ? intFlag("repeat", f.repeat as string, 1)
    : NTK_DEFAULTS.repeat;
  if (repeat > MAX_REPEAT) {
    throw new UserError(
      "--repeat",
      `--repeat ${repeat} is more than the ${MAX_REPEAT} draws one run makes; use --repeat ${MAX_REPEAT} or fewer.`,
    );
  }
  const maxMemory = typeof f["max-memory"] === "string"
    ? bytesFlag("max-memory", f["max-memory"])
    : undefined;
  const kind = choiceFlag(
    "kind",
    (f.kind as string) ?? NTK_DEFAULTS.kind,
    ["gaussian", "rademacher"] as const,
  );
  const files = await modelAndPoints(f);
  const { model, problem, points } = files;
  const counts = countsOf(points);
  const rows = Object.values(counts).reduce((a, n) => a + n, 0);
  if (typeof f.full === "string" && rows > MAX_FULL_NTK_ROWS) {
    throw new UserError(
      f.points as string,
      `The full NTK is limited to ${MAX_FULL_NTK_ROWS} rows and points file ${f.points} gives ${rows}; use a smaller points file.`,
    );
  }
  const directions = method === "jvp" || method === "pc"
    ? Math.min(k, 16)
    : method === "hutch"
    ? 1
    : 0;
  const engine = await Engine.create();
  try {
    engine.maxMemory = maxMemory;
    checkFiles(engine, f as { model: string; points: string }, files, {
      options: { directions, tangents: method === "jvp" },
      extra: typeof f.full === "string" ? (sizes, c) => fullNtkMemory(sizes, c, rows) : undefined,
    });
    const plan = await Plan.create(engine, {
      problem,
      sizes: model.sizes,
      activation: model.activation,
      embedding: model.embedding,
      counts,
      directions,
      tangents: method === "jvp",
    });
    plan.setParams(model.params);
    plan.setPoints(points);
    const r = await ntkWeights(
      plan,
      { method, k, dt, seed, kind, central: Boolean(f.central) },
      repeat,
    );
    const result: Record<string, unknown> = { method, ...r };
    if (typeof f.full === "string") {
      const spectra = await fullSpectra(plan);
      await writing(
        f.full,
        () => writeFileAtomic(f.full as string, JSON.stringify(spectra)),
        "--full",
      );
      result.spectra = Object.fromEntries(
        Object.entries(spectra.blocks).map((
          [g, b],
        ) => [g, { trace: b.trace, top: b.eigenvalues.slice(0, 5) }]),
      );
      info(`full NTK (${spectra.rows} rows): spectra per block written to ${f.full}`);
      for (const [g, b] of Object.entries(spectra.blocks)) {
        info(
          `  ${g}: trace ${b.trace.toExponential(4)}, largest eigenvalues ${
            b.eigenvalues.slice(0, 3).map((v) => v.toExponential(3)).join(", ")
          }, smallest ${b.eigenvalues.at(-1)!.toExponential(3)}`,
        );
      }
    }
    out(
      Boolean(f.json),
      result,
      [
        `NTK traces (${method}${method === "exact" ? "" : `, k = ${k}`}${
          repeat > 1 ? `, ${repeat} repeats` : ""
        }):`,
        ...Object.keys(r.traces).map((g) =>
          `  ${g}: Tr K = ${r.traces[g].toExponential(5)}${
            r.stderr ? ` ± ${r.stderr[g].toExponential(2)}` : ""
          }, mean ${r.means[g].toExponential(5)}, λ = ${r.weights[g].toPrecision(6)}`
        ),
      ].join("\n"),
    );
    await plan.dispose();
    return 0;
  } finally {
    engine.dispose();
  }
}

/** Most draws of `--repeat`. */
const MAX_REPEAT = 10_000;

/**
 * What `--full` adds: the product buffers (a 64 MiB chunk of per-point gradients
 * and the rows² result), K in float64, each block's copy for the eigenvalues,
 * and the read-back activations and adjoints of every layer.
 */
function fullNtkMemory(
  sizes: readonly number[],
  counts: Record<string, number>,
  rows: number,
): ResourceEstimate {
  const np = Math.ceil(rows / 16) * 16;
  const product = 4 * np * np;
  // The per-point gradients go up in chunks of at most 64 MiB (src/plan.ts).
  const P = paramLayout(sizes).count;
  const chunk = Math.max(1, Math.min(P, Math.floor(64 * 2 ** 20 / (4 * np)) - 1));
  const pow2 = (b: number) => 2 ** Math.ceil(Math.log2(Math.max(256, b)));
  const cols = 5 * Object.values(counts).reduce((a, n) => a + Math.ceil(n / 16) * 16, 0);
  const copies = sizes.slice(1).reduce((a, w) => a + 4 * (2 * w + 1) * cols, 0);
  return {
    buffers: [{
      label: "fullNtk.k",
      what: "the full NTK (rows²)",
      bytes: product,
      allocated: pow2(product),
    }],
    gpuBytes: pow2(product) + pow2(4 * (chunk + 1) * np),
    hostBytes: 16 * rows * rows + copies,
  };
}

/** The full NTK's eigenvalues per diagonal block (descending), and K itself when small. */
async function fullSpectra(plan: Plan) {
  const { order, K } = await plan.fullNtk();
  const n = order.length;
  const blocks: Record<string, { n: number; trace: number; eigenvalues: number[] }> = {};
  for (const g of plan.batch.groups) {
    const idx = order.flatMap((o, i) => (o.group === g.name ? [i] : []));
    const m = idx.length, sub = new Float64Array(m * m);
    idx.forEach((i, a) => idx.forEach((j, b) => (sub[a * m + b] = K[i * n + j])));
    let trace = 0;
    for (let a = 0; a < m; a++) trace += sub[a * m + a];
    blocks[g.name] = {
      n: m,
      trace,
      eigenvalues: Array.from(symmetricEigenvalues(sub, m)).reverse(),
    };
  }
  return { rows: n, blocks, order, ...(n <= 1024 ? { K: Array.from(K) } : {}) };
}
