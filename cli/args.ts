/**
 * Flag parsing and validation for the CLI: every mistake becomes one
 * {@linkcode UserError} sentence naming the flag and the fix.
 *
 * Uses `node:util` `parseArgs` (JSR's @std/cli is not reachable from the
 * development machines).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UserError } from "../src/errors.ts";

/** Flag kinds. */
export type FlagKind = "string" | "boolean";

/**
 * Edit distance with adjacent transpositions counting as one edit (optimal string
 * alignment), for "did you mean" suggestions: a swapped pair such as --stpes is
 * one edit from --steps, not two (which would tie it with --sizes).
 */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** The closest of `options` to `name`, if reasonably close. */
export function nearest(name: string, options: readonly string[]): string | undefined {
  let best: string | undefined, bd = Infinity;
  for (const o of options) {
    const dd = editDistance(name, o);
    if (dd < bd) [best, bd] = [o, dd];
  }
  return bd <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Parses `args` against `flags` (name → kind); unknown flags and stray arguments are errors. */
export function parseFlags(
  command: string,
  args: string[],
  flags: Record<string, FlagKind>,
): Record<string, string | boolean | undefined> {
  const names = Object.keys(flags);
  for (const a of args) {
    if (!a.startsWith("--")) continue;
    const name = a.slice(2).split("=")[0];
    if (!Object.hasOwn(flags, name)) {
      const near = nearest(name, names);
      throw new UserError(
        `--${name}`,
        `Unknown flag --${name} for \`${command}\`${
          near ? `; did you mean --${near}?` : ""
        } (see \`${command} --help\`).`,
      );
    }
  }
  // parseArgs reads "--lr -1" as a flag missing its value; join a negative number to
  // its flag so that the range check explains what is wrong with it.
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i], next = args[i + 1];
    const name = a.startsWith("--") && !a.includes("=") ? a.slice(2) : "";
    if (flags[name] === "string" && next !== undefined && /^-\.?\d/.test(next)) {
      joined.push(`${a}=${next}`);
      i++;
    } else joined.push(a);
  }
  try {
    const { values, positionals } = parseArgs({
      args: joined,
      options: Object.fromEntries(names.map((n) => [n, { type: flags[n] }])),
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length) {
      throw new UserError(
        positionals[0],
        `Unexpected argument "${
          positionals[0]
        }" for \`${command}\`; flags take the form --name value.`,
      );
    }
    return values as Record<string, string | boolean | undefined>;
  } catch (e) {
    if (e instanceof UserError) throw e;
    const msg = String((e as Error).message);
    const m = msg.match(/--([\w-]+)/);
    if (m && /argument (is ambiguous|missing)/.test(msg)) {
      throw new UserError(`--${m[1]}`, `--${m[1]} needs a value; see \`${command} --help\`.`);
    }
    throw new UserError(
      m ? `--${m[1]}` : command,
      `${msg.split("\n")[0].replace(/\.$/, "")}; see \`${command} --help\`.`,
    );
  }
}

/** A whole number ≥ min. */
export function intFlag(name: string, v: string, min = 0): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < min) {
    throw new UserError(`--${name}`, `--${name} must be a whole number ≥ ${min}; got "${v}".`);
  }
  return n;
}

/** A finite number, > 0 when `positive`, within [lo, hi] when given. */
export function numFlag(
  name: string,
  v: string,
  o: { positive?: boolean; lo?: number; hi?: number } = {},
): number {
  const n = Number(v);
  const range = o.lo !== undefined && o.hi !== undefined
    ? ` in [${o.lo}, ${o.hi}]`
    : o.positive
    ? " > 0"
    : "";
  if (
    v.trim() === "" || !Number.isFinite(n) || (o.positive && !(n > 0)) ||
    (o.lo !== undefined && n < o.lo) || (o.hi !== undefined && n > o.hi)
  ) {
    throw new UserError(`--${name}`, `--${name} must be a number${range}; got "${v}".`);
  }
  return n;
}

/** One of `choices`. */
export function choiceFlag<T extends string>(name: string, v: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(v)) {
    const near = nearest(v, choices);
    throw new UserError(
      `--${name}`,
      `--${name} must be one of ${choices.join(", ")}; got "${v}"${
        near ? ` (did you mean ${near}?)` : ""
      }.`,
    );
  }
  return v as T;
}

/** Comma-separated whole numbers, e.g. `2,128,128,1`. */
export function listFlag(name: string, v: string): number[] {
  const parts = v.split(",");
  if (!parts.every((p) => /^\s*\d+\s*$/.test(p))) {
    throw new UserError(
      `--${name}`,
      `--${name} must be comma-separated whole numbers such as 2,128,128,128,1; got "${v}".`,
    );
  }
  return parts.map(Number);
}

/** `group=value,…`; values whole numbers ≥ 1 (counts) or positive numbers (weights). */
export function mapFlag(name: string, v: string, whole: boolean): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of v.split(",")) {
    const m = part.match(/^\s*([\w-]+)\s*=\s*([^=\s]+)\s*$/);
    const n = m ? Number(m[2]) : NaN;
    if (!m || !Number.isFinite(n) || n <= 0 || (whole && !Number.isInteger(n))) {
      throw new UserError(
        `--${name}`,
        `--${name} must look like ${whole ? "r=1024,u=256" : "r=1,u=10"} with ${
          whole ? "whole numbers ≥ 1" : "positive numbers"
        }; got "${v}".`,
      );
    }
    out[m[1]] = n;
  }
  return out;
}

const BYTE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 2 ** 10,
  kb: 1e3,
  kib: 2 ** 10,
  m: 2 ** 20,
  mb: 1e6,
  mib: 2 ** 20,
  g: 2 ** 30,
  gb: 1e9,
  gib: 2 ** 30,
  t: 2 ** 40,
  tb: 1e12,
  tib: 2 ** 40,
};

/** A memory size such as `4GiB`, `512M` or `1000000` (bytes), at least 1 MiB. */
export function bytesFlag(name: string, v: string): number {
  const m = v.trim().match(/^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/);
  const unit = m ? BYTE_UNITS[m[2].toLowerCase()] : undefined;
  const n = m && unit ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!(n >= 2 ** 20) || !Number.isFinite(n)) {
    throw new UserError(
      `--${name}`,
      `--${name} must be a memory size of at least 1 MiB such as 4GiB, 512MiB or 2G; got "${v}".`,
    );
  }
  return n;
}
