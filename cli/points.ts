/**
 * `points`: writes a points file for a problem.
 *
 * @module
 */
import { UserError } from "../src/errors.ts";
import { intFlag, mapFlag, parseFlags } from "./args.ts";
import { resolveCounts, samplePoints } from "../src/points.ts";
import { MAX_JSON_BYTES, writeFileAtomic } from "../src/fsutil.ts";
import { wave } from "../src/problems/mod.ts";
import { formatBytes } from "../src/resources.ts";
import { help, out, problemArg, writing } from "./common.ts";

/** `points --help`. */
export const HELP: string = `points [--problem wave|./my_pde.ts] [--n ${
  wave.groups.map((g) => `${g.name}=${g.defaultN}`).join(",")
} (the problem's)] [--seed 0] --out P.json [--json]
--n defaults to the problem's own point counts (wave's shown); a group left out takes its own.`;

/** Runs `points`; returns the exit code. */
export async function cmdPoints(args: string[]): Promise<number> {
  const f = parseFlags("points", args, {
    problem: "string",
    n: "string",
    seed: "string",
    out: "string",
    json: "boolean",
    help: "boolean",
  });
  if (f.help) return help(HELP);
  const problem = await problemArg((f.problem as string) ?? "wave");
  const counts = resolveCounts(problem, typeof f.n === "string" ? mapFlag("n", f.n, true) : {});
  const seed = f.seed !== undefined ? intFlag("seed", f.seed as string, 0) : 0;
  if (typeof f.out !== "string") {
    throw new UserError("--out", "Give the points file to write with --out P.json.");
  }
  checkPointsFile(counts, problem.inputs.length);
  const path = f.out;
  await writing(
    path,
    () => writeFileAtomic(path, JSON.stringify(samplePoints(problem, counts, seed))),
  );
  out(
    Boolean(f.json),
    { out: f.out, counts },
    `wrote ${f.out} (${Object.entries(counts).map(([g, n]) => `${g}=${n}`).join(", ")})`,
  );
  return 0;
}

/** Bytes of one point of d coordinates in a points file (≈ 20 characters a coordinate). */
const pointBytes = (d: number) => 3 + 21 * d;

/**
 * Throws unless the points file of `counts` stays within what `eval` and `ntk` read
 * back ({@linkcode MAX_JSON_BYTES}), before any point is drawn.
 */
function checkPointsFile(counts: Record<string, number>, d: number): void {
  const bytes = (c: Record<string, number>) =>
    Object.values(c).reduce((a, n) => a + n * pointBytes(d), 0);
  if (bytes(counts) <= MAX_JSON_BYTES) return;
  const [top] = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const rest = bytes({ ...counts, [top[0]]: 0 });
  const fit = Math.max(0, Math.floor((MAX_JSON_BYTES - rest) / pointBytes(d)));
  const show = (c: Record<string, number>) =>
    `--n ${Object.entries(c).map(([g, n]) => `${g}=${n}`).join(",")}`;
  throw new UserError(
    "--n",
    `${show(counts)} makes a points file of about ${formatBytes(bytes(counts))}, over the ${
      formatBytes(MAX_JSON_BYTES)
    } one JSON file may hold; the most that fits is ${show({ ...counts, [top[0]]: fit })}.`,
  );
}
