/**
 * `points`: writes a points file for a problem.
 *
 * @module
 */
import { UserError } from "../src/errors.ts";
import { intFlag, mapFlag, parseFlags } from "./args.ts";
import { resolveCounts, samplePoints } from "../src/points.ts";
import { writeFileAtomic } from "../src/fsutil.ts";
import { wave } from "../src/problems/mod.ts";
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
