/**
 * Point sets per residual group: sampling and points files (design §5).
 *
 * @module
 */
import { check, UserError } from "./errors.ts";
import type { Problem } from "./problems/problem.ts";
import { Stream, UniformStream } from "./random.ts";
import { readJsonFile } from "./fsutil.ts";

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
      `--n names group "${name}", which problem ${p.name} lacks; its groups are ${
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
      `--n: group ${g.name} needs a positive whole number of points; got ${n}.`,
    );
    out[g.name] = n;
  }
  return out;
}

/** How points are drawn: independent uniform, or a randomly shifted Sobol sequence. */
export type Sampler = "uniform" | "sobol";

/** Sobol direction numbers (Joe & Kuo) for the first four dimensions: (degree, a, m). */
const SOBOL_DIMS: [number, number, number[]][] = [
  [0, 0, []],
  [1, 0, [1]],
  [2, 1, [1, 3]],
  [3, 1, [1, 3, 1]],
];

function sobolDirections(dim: number): Uint32Array {
  const v = new Uint32Array(32);
  if (dim === 0) {
    for (let k = 0; k < 32; k++) v[k] = 2 ** (31 - k);
    return v;
  }
  const [s, a, m] = SOBOL_DIMS[dim];
  for (let k = 0; k < s; k++) v[k] = (m[k] * 2 ** (31 - k)) >>> 0;
  for (let k = s; k < 32; k++) {
    let x = (v[k - s] ^ (v[k - s] >>> s)) >>> 0;
    for (let i = 1; i < s; i++) if ((a >>> (s - 1 - i)) & 1) x = (x ^ v[k - i]) >>> 0;
    v[k] = x;
  }
  return v;
}

/**
 * n points of the Sobol sequence in [0,1)^dim (dim ≤ 4) with a random digital
 * shift per dimension (XOR with a word drawn from `rng`), which keeps the net
 * structure and makes each round an independent randomisation.
 */
export function sobolPoints(n: number, dim: number, rng: UniformStream): number[][] {
  if (dim > SOBOL_DIMS.length) {
    throw new Error(`Sobol sampling supports up to ${SOBOL_DIMS.length} dimensions`);
  }
  const dirs = Array.from({ length: dim }, (_, d) => sobolDirections(d));
  const shift = Array.from({ length: dim }, () => Math.floor(rng.next() * 2 ** 32) >>> 0);
  const x = new Uint32Array(dim);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    out.push(Array.from(x, (w, d) => (((w ^ shift[d]) >>> 0) + 0.5) / 2 ** 32));
    let c = 0, j = i;
    while (j & 1) {
      j >>>= 1;
      c++;
    }
    for (let d = 0; d < dim; d++) x[d] = (x[d] ^ dirs[d][c]) >>> 0;
  }
  return out;
}

/**
 * Points per group, reproducible from `seed` and `round` (resampling draws a new
 * round): independent uniform draws, or a shifted Sobol sequence per group.
 */
export function samplePoints(
  p: Problem,
  counts: Counts,
  seed: number,
  round = 0,
  sampler: Sampler = "uniform",
): Points {
  const out: Points = {};
  p.groups.forEach((g, gi) => {
    const rng = new UniformStream(seed + 7919 * round + 104729 * gi, Stream.points);
    const unit = sampler === "sobol"
      ? sobolPoints(counts[g.name], g.sampleDim, rng)
      : Array.from({ length: counts[g.name] }, () =>
        Array.from({ length: g.sampleDim }, () => rng.next()));
    out[g.name] = unit.map((u) => g.sample(u));
    checkInDomain(p, g.name, out[g.name]);
  });
  return out;
}

/**
 * Throws when a sampler put a point outside the problem's domain: the evaluation
 * grid and the centred initialisation assume the domain, so such points would be
 * trained on silently. (Points files may hold any points; this checks samplers.)
 */
function checkInDomain(p: Problem, group: string, pts: number[][]): void {
  const slack = p.domain.map(([lo, hi]) => 1e-9 * (hi - lo));
  for (const x of pts) {
    const i = p.domain.findIndex(([lo, hi], a) =>
      !(x[a] >= lo - slack[a] && x[a] <= hi + slack[a])
    );
    if (i >= 0) {
      throw new UserError(
        "--problem",
        `Problem ${p.name}: group "${group}"'s sample put point [${
          x.join(", ")
        }] outside the domain (${p.inputs[i]} ∈ [${
          p.domain[i].join(", ")
        }]); make "sample" map [0,1)^sampleDim into the domain, or widen "domain".`,
      );
    }
  }
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
  const raw = await readJsonFile(path, `Points file ${path}`, "regenerate it with `points`");
  return validatePoints(p, raw, path);
}
