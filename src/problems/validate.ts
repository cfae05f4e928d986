/**
 * Validation of a problem a module exports: every field a {@linkcode Problem}
 * needs, checked at import so that a mistake is one sentence naming the module and
 * the field (and examples/my_pde.ts as a template) instead of an error deep inside
 * a training run.
 *
 * @module
 */
import { checkFourierSpec, type FourierSpec } from "../embedding.ts";
import { UserError } from "../errors.ts";
import { INITS, MAX_INPUT_DIM, validateSizes } from "../model.ts";
import { WEIGHTINGS } from "../train_config.ts";
import type { Expr } from "./expr.ts";
import type { Problem } from "./problem.ts";
import { readsNetwork } from "./transform.ts";

const isFn = (v: unknown): v is (...args: never[]) => unknown => typeof v === "function";
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isInt = (v: unknown, lo: number, hi = Infinity): v is number =>
  Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

/** Why `e` is not an expression over `d` inputs (undefined when it is one). */
function exprError(e: unknown, d: number, m: number, depth = 0): string | undefined {
  if (depth > 1000) return "nests deeper than 1000 levels";
  if (typeof e !== "object" || e === null || !("op" in e)) {
    return `has ${
      JSON.stringify(e) ?? String(e)
    } where an expression is expected (build it with E)`;
  }
  const x = e as Record<string, unknown>;
  switch (x.op) {
    case "const":
      return isNum(x.value) ? undefined : `has a constant that is not a finite number`;
    case "input":
      return isInt(x.index, 0, d - 1)
        ? undefined
        : `reads input ${JSON.stringify(x.index)}, but the problem has inputs 0 to ${d - 1}`;
    case "channel": {
      const r = x.ref as Record<string, unknown> | undefined;
      if (!r || ![0, 1, 2].includes(r.order as number)) return "has a channel of unknown order";
      if (r.out !== undefined && !isInt(r.out, 0, m - 1)) {
        return `reads output ${JSON.stringify(r.out)}, but the problem has outputs 0 to ${
          m - 1
        } (name them in "outputs")`;
      }
      for (const dir of r.dir2 === undefined ? [r.dir] : [r.dir, r.dir2]) {
        if (!isInt(dir, 0, d - 1)) {
          return `differentiates along input ${
            JSON.stringify(dir)
          }, but the problem has inputs 0 to ${d - 1}`;
        }
      }
      return undefined;
    }
    case "add":
    case "sub":
    case "mul":
    case "div":
      return exprError(x.a, d, m, depth + 1) ?? exprError(x.b, d, m, depth + 1);
    case "neg":
    case "sin":
    case "cos":
    case "exp":
    case "tanh":
      return exprError(x.a, d, m, depth + 1);
    case "pow":
      return isInt(x.n, 0)
        ? exprError(x.a, d, m, depth + 1)
        : "has pow with an exponent that is not a whole number ≥ 0";
    default:
      return `has unknown operation ${JSON.stringify(x.op)} (build it with E)`;
  }
}

/** Calls `f`, turning a throw into a message. */
function attempt<T>(f: () => T): { value?: T; error?: string } {
  try {
    return { value: f() };
  } catch (e) {
    return { error: String((e as Error)?.message ?? e).split("\n")[0] };
  }
}

/**
 * Checks that `value` is a usable {@linkcode Problem}: name, inputs (1 to 4),
 * outputs (optional), domain, groups (unique names, residual expressions over the
 * problem's inputs and outputs, sample/sampleDim, defaultN, optional target),
 * exact and reference (both optional), grid, sizes and doc. The sampler, target
 * and exact solution are called once at the domain's centre.
 * `source` (a file, or any label) and `input` name the problem in the UserError
 * that reports the first thing missing or wrong.
 */
export function validateProblem(value: unknown, source: string, input = "--problem"): Problem {
  const fail = (what: string): never => {
    throw new UserError(
      input,
      `Problem ${source}: ${what}; see examples/my_pde.ts for a template.`,
    );
  };
  if (typeof value !== "object" || value === null) fail("the export is not a Problem object");
  const p = value as Record<string, unknown>;
  if (typeof p.name !== "string" || !p.name) fail(`"name" must be a non-empty string`);
  if (typeof p.doc !== "string") fail(`"doc" must be a string describing the problem`);
  const inputs = p.inputs;
  if (
    !Array.isArray(inputs) || inputs.length < 1 || inputs.length > MAX_INPUT_DIM ||
    !inputs.every((v) => typeof v === "string")
  ) fail(`"inputs" must list 1 to ${MAX_INPUT_DIM} input names, e.g. ["t", "x"]`);
  const d = (inputs as string[]).length;
  const outputs = p.outputs ?? ["u"];
  if (
    !Array.isArray(outputs) || outputs.length < 1 ||
    !outputs.every((v) => typeof v === "string" && /^[\w-]+$/.test(v)) ||
    new Set(outputs).size !== outputs.length
  ) {
    fail(
      `"outputs" must list distinct output names (letters, digits, _ or -), e.g. ["u", "v", "p"]`,
    );
  }
  const m = (outputs as string[]).length;
  const domain = p.domain;
  if (
    !Array.isArray(domain) || domain.length !== d ||
    !domain.every((r) =>
      Array.isArray(r) && r.length === 2 && isNum(r[0]) && isNum(r[1]) && r[0] < r[1]
    )
  ) fail(`"domain" must give one [lo, hi] with lo < hi per input (${d})`);
  const grid = p.grid;
  if (!Array.isArray(grid) || grid.length !== d || !grid.every((n) => isInt(n, 2))) {
    fail(`"grid" must give the evaluation grid's point count (≥ 2) per input (${d})`);
  }
  if (!Array.isArray(p.sizes)) {
    fail(`"sizes" must be the default network sizes, e.g. [${d}, 64, 64, 1]`);
  }
  try {
    validateSizes(p.sizes as number[], d, "--sizes", m);
  } catch (e) {
    fail(
      `"sizes" ${JSON.stringify(p.sizes)} is not usable (${
        (e as Error).message.replace(/^--sizes: /, "").replace(/\.$/, "")
      })`,
    );
  }
  if (p.train !== undefined) {
    const t = p.train as Record<string, unknown>;
    if (typeof t !== "object" || t === null) fail(`"train" must be an object of training defaults`);
    const checks: Record<string, [(v: unknown) => boolean, string]> = {
      steps: [(v) => isInt(v, 1), "a positive whole number"],
      decaySteps: [(v) => isInt(v, 1), "a positive whole number"],
      lr: [(v) => isNum(v) && v > 0, "a positive number"],
      init: [
        (v) => (INITS as readonly unknown[]).includes(v),
        INITS.map((i) => `"${i}"`).join(" or "),
      ],
      average: [(v) => isNum(v) && v >= 0 && v < 1, "a number in [0, 1)"],
      fourier: [
        (v) => v === null || isFourierSpec(v),
        "null or { features: M (1 to 256), scale: σ > 0, raw?: boolean }",
      ],
      weighting: [
        (v) => v !== "fixed" && (WEIGHTINGS as readonly unknown[]).includes(v),
        `one of ${WEIGHTINGS.filter((w) => w !== "fixed").map((w) => `"${w}"`).join(", ")}`,
      ],
      then: [(v) => v === "lbfgs" || v === "none", `"lbfgs" or "none"`],
      thenSteps: [(v) => isInt(v, 0), "a whole number ≥ 0"],
      history: [(v) => isInt(v, 1), "a positive whole number"],
      every: [(v) => isInt(v, 1), "a positive whole number"],
      thenN: [
        (v) => typeof v === "object" && v !== null && Object.values(v).every((n) => isInt(n, 1)),
        "an object of point counts per group, e.g. { r: 1024 }",
      ],
    };
    for (const [k, v] of Object.entries(t)) {
      if (!Object.hasOwn(checks, k)) {
        fail(
          `"train" has unknown key "${k}" (${Object.keys(checks).join(", ")} are known)`,
        );
      }
      if (!checks[k][0](v)) fail(`"train.${k}" must be ${checks[k][1]}`);
    }
  }
  const centre = (domain as [number, number][]).map(([lo, hi]) => (lo + hi) / 2);
  if (p.exact !== undefined) {
    const want = m === 1 ? "u" : `an array of the ${m} outputs`;
    if (!isFn(p.exact)) {
      fail(`"exact" must be a function of a point returning ${want} (or left out)`);
    }
    const ex = attempt(() => (p.exact as (x: number[]) => unknown)(centre));
    const ok = (v: unknown) =>
      (m === 1 && isNum(v)) || (Array.isArray(v) && v.length === m && v.every(isNum));
    if (ex.error !== undefined || !ok(ex.value)) {
      fail(
        `"exact" at the domain's centre ${
          ex.error ? `throws (${ex.error})` : `returns ${JSON.stringify(ex.value)}, not ${want}`
        }`,
      );
    }
  }
  if (p.reference !== undefined && !isFn(p.reference)) {
    fail(`"reference" must be an async function returning the solution on the evaluation grid`);
  }
  if (p.pictures !== undefined && !isFn(p.pictures)) {
    fail(`"pictures" must be a function returning named Vega-Lite charts (or left out)`);
  }
  if (p.transform !== undefined) {
    const t = p.transform as Record<string, unknown>;
    if (typeof t !== "object" || t === null || typeof t.doc !== "string") {
      fail(`"transform" must be an output transform made by withTransform (or left out)`);
    }
    for (const key of ["factor", "offset"] as const) {
      const parts = t[key];
      if (parts === undefined && key === "offset") continue;
      if (!Array.isArray(parts) || parts.length !== m) {
        fail(`"transform.${key}" must give one expression per output (${m})`);
      }
      (parts as unknown[]).forEach((e, k) => {
        const why = typeof e === "number" ? undefined : exprError(e, d, m);
        if (why) fail(`"transform.${key}[${k}]" ${why}`);
        if (typeof e !== "number" && readsNetwork(e as Expr)) {
          fail(`"transform.${key}[${k}]" reads the network; it must be a function of the inputs`);
        }
      });
    }
  }
  const groups = p.groups;
  if (!Array.isArray(groups) || groups.length === 0) fail(`"groups" must list the residual groups`);
  const names = new Set<string>();
  (groups as unknown[]).forEach((g, i) => {
    if (typeof g !== "object" || g === null) fail(`group ${i} is not an object`);
    const o = g as Record<string, unknown>;
    if (typeof o.name !== "string" || !/^[\w-]+$/.test(o.name)) {
      fail(`group ${i} needs a "name" of letters, digits, _ or - (used in --n r=1024)`);
    }
    const at = `group ${i} ("${o.name}")`;
    if (names.has(o.name as string)) fail(`${at} repeats a group name`);
    names.add(o.name as string);
    if (typeof o.doc !== "string") fail(`${at} needs a "doc" string`);
    if (o.residual === undefined) fail(`${at} lacks "residual" (an expression built with E)`);
    const why = exprError(o.residual, d, m);
    if (why) fail(`${at}: its residual ${why}`);
    if (!isInt(o.defaultN, 1)) fail(`${at} needs "defaultN", a whole number ≥ 1 of points`);
    if (!isInt(o.sampleDim, 0, MAX_INPUT_DIM)) {
      fail(
        `${at} needs "sampleDim", the dimension (0 to ${MAX_INPUT_DIM}) of the unit cube "sample" maps from`,
      );
    }
    if (!isFn(o.sample)) {
      fail(`${at} lacks "sample", a function mapping [0,1)^sampleDim to a point`);
    }
    const pt = attempt(() =>
      (o.sample as (u: number[]) => unknown)(new Array<number>(o.sampleDim as number).fill(0.5))
    );
    if (pt.error !== undefined) fail(`${at}: "sample" throws (${pt.error})`);
    if (!Array.isArray(pt.value) || pt.value.length !== d || !pt.value.every(isNum)) {
      fail(
        `${at}: "sample" must return a point of ${d} finite coordinates; got ${
          JSON.stringify(pt.value)
        }`,
      );
    }
    if (o.target !== undefined) {
      if (!isFn(o.target)) fail(`${at}: "target" must be a function of a point (or left out)`);
      const t = attempt(() => (o.target as (x: number[]) => unknown)(pt.value as number[]));
      if (t.error !== undefined || !isNum(t.value)) {
        fail(
          `${at}: "target" ${
            t.error ? `throws (${t.error})` : `returns ${String(t.value)}, not a finite number`
          }`,
        );
      }
    }
  });
  for (const g of Object.keys((p.train as { thenN?: object } | undefined)?.thenN ?? {})) {
    if (!names.has(g)) fail(`"train.thenN" names group "${g}", which the problem lacks`);
  }
  return value as Problem;
}

/** Whether `v` is a usable {@linkcode FourierSpec} (a problem's recommendation). */
function isFourierSpec(v: unknown): v is FourierSpec {
  const o = v as Record<string, unknown>;
  if (typeof o !== "object" || o === null) return false;
  if (Object.keys(o).some((k) => !["features", "scale", "raw"].includes(k))) return false;
  if (o.raw !== undefined && typeof o.raw !== "boolean") return false;
  try {
    checkFourierSpec(o as unknown as FourierSpec, "train.fourier");
    return true;
  } catch {
    return false;
  }
}
