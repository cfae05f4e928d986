/**
 * Point sets per residual group: sampling and points files (design §5).
 *
 * @module
 */
import { check, UserError } from "./errors.ts";
import type { Problem } from "./problems/problem.ts";
import { Stream, UniformStream } from "./random.ts";

/** Points per group name: each point is [x1, …, xd] in the problem's input order. */
export type Points = Record<string, number[][]>;

/** Point counts per group name. */
export type Counts = Record<string, number>;

/** Default counts of a problem's groups, overridden by `counts`. */
export function resolveCounts(p: Problem, counts: Counts = {}): Counts {
  for (const name of Object.keys(counts)) {
    check(
      p.groups.some((g) => g.name === name),
      "--n",
      `Problem ${p.name} has no group "${name}"; its groups are ${
        p.groups.map((g) => g.name).join(", ")
      }.`,
    );
  }
  const out: Counts = {};
  for (const g of p.groups) {
    const n = counts[g.name] ?? g.defaultN;
    check(
      Number.isInteger(n) && n > 0,
      "--n",
      `Group ${g.name} needs a positive whole number of points; got ${n}.`,
    );
    out[g.name] = n;
  }
  return out;
}

/** Uniform random points per group, reproducible from `seed` (and `round`, for resampling). */
export function samplePoints(p: Problem, counts: Counts, seed: number, round = 0): Points {
  const out: Points = {};
  p.groups.forEach((g, gi) => {
    const rng = new UniformStream(seed + 7919 * round + 104729 * gi, Stream.points);
    out[g.name] = Array.from(
      { length: counts[g.name] },
      () => g.sample(Array.from({ length: g.sampleDim }, () => rng.next())),
    );
  });
  return out;
}

/** Validates a points object against a problem; `path` names it in messages. */
export function validatePoints(p: Problem, raw: unknown, path: string): Points {
  check(
    typeof raw === "object" && raw !== null && !Array.isArray(raw),
    path,
    `Points file ${path} must be a JSON object of group name to point list; write one with \`points\`.`,
  );
  const obj = raw as Record<string, unknown>;
  const d = p.inputs.length;
  const out: Points = {};
  for (const name of Object.keys(obj)) {
    check(
      p.groups.some((g) => g.name === name),
      path,
      `Points file ${path} has group "${name}", which problem ${p.name} lacks; its groups are ${
        p.groups.map((g) => g.name).join(", ")
      }.`,
    );
  }
  for (const g of p.groups) {
    const pts = obj[g.name];
    check(
      Array.isArray(pts),
      path,
      `Points file ${path} lacks group "${g.name}"; add it or regenerate with \`points\`.`,
    );
    check(
      pts.length > 0,
      path,
      `Points file ${path} has an empty group "${g.name}"; give it at least one point.`,
    );
    pts.forEach((pt, i) => {
      check(
        Array.isArray(pt) && pt.length === d,
        path,
        `Points file ${path}: point ${i} of group "${g.name}" must have ${d} coordinates (${
          p.inputs.join(", ")
        }).`,
      );
      check(
        pt.every((v: unknown) => typeof v === "number" && Number.isFinite(v)),
        path,
        `Points file ${path}: point ${i} of group "${g.name}" has a non-finite coordinate; fix or drop it.`,
      );
    });
    out[g.name] = pts as number[][];
  }
  return out;
}

/** Reads and validates a points file. */
export async function loadPoints(p: Problem, path: string): Promise<Points> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new UserError(
      path,
      `Cannot read points file ${path}; check the path (\`points\` writes one).`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      path,
      `Points file ${path} is not valid JSON (${
        (e as Error).message
      }); regenerate it with \`points\`.`,
    );
  }
  return validatePoints(p, raw, path);
}
