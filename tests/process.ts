/** Child `deno` processes for end-to-end tests: one runner for the CLI, examples and API tests. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** `deno` arguments that run the CLI with the permissions its tasks grant. */
export const CLI: string[] = [
  "run",
  "--v8-flags=--liftoff-only",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "cli/main.ts",
];

/** Output of one child run. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A `deno …args` child in `cwd`: no colours, no stdin, piped output, 120 s at most. */
export function denoCommand(args: string[], cwd: string = ROOT): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  });
}

/** Runs `deno …args` in `cwd` to completion. */
export async function runDeno(args: string[], cwd: string = ROOT): Promise<Run> {
  const { code, stdout, stderr } = await denoCommand(args, cwd).output();
  const dec = new TextDecoder();
  return { code, stdout: dec.decode(stdout), stderr: dec.decode(stderr) };
}

/** Asserts a run exited 0, showing its stderr otherwise. */
export function assertExitOk(r: Run, what: string): Run {
  assert.equal(r.code, 0, `\`${what}\` exited ${r.code}:\n${r.stderr}`);
  return r;
}

/** `deno` arguments for `sweep`, with the permissions of its task. */
export const SWEEP: string[] = [
  "run",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
  "cli/main.ts",
  "sweep",
];

/** Runs `deno run cli/main.ts …args` from the repository root to completion. */
export const cli = (...args: string[]): Promise<Run> => runDeno([...CLI, ...args]);

/**
 * Flags of a tiny wave `train` run: a 2-8-1 network on `n` points, without the
 * L-BFGS phase wave recommends after its Adam steps.
 */
export const tinyWaveFlags = (n = "r=32,u=16,ut=16"): string[] => [
  "--sizes",
  "2,8,1",
  "--n",
  n,
  "--then",
  "none",
];

/** Flags of a tiny, fast wave training run (the reliability tests'). */
export const SMALL_WAVE_FLAGS: string[] = [
  "--sizes",
  "2,16,16,1",
  "--n",
  "r=64,u=32,ut=32",
  "--then",
  "none",
  "--quiet",
];

/** Runs `sweep …args` from the repository root to completion. */
export const sweep = (...args: string[]): Promise<Run> => runDeno([...SWEEP, ...args]);

/**
 * Asserts the bad-input contract: exit code 2, no stack trace, and exactly one
 * `error:` line on stderr, the last one, containing `names`. Other stderr lines
 * may only be the adapter and "training …" header of `train`. Returns the line.
 */
export function assertUserError(r: Run, names: string, label: string): string {
  const ctx = `${label}\nstderr:\n${r.stderr}`;
  assert.equal(r.code, 2, `exit code 2 expected, got ${r.code}: ${ctx}`);
  assert.ok(!r.stderr.includes("    at "), `stack trace on stderr: ${ctx}`);
  assert.ok(!r.stderr.includes("Uncaught"), `uncaught exception: ${ctx}`);
  const lines = r.stderr.split("\n").filter((l) => l.trim());
  const errors = lines.filter((l) => l.startsWith("error:"));
  assert.equal(errors.length, 1, `one error line expected: ${ctx}`);
  assert.equal(lines.at(-1), errors[0], `the error line comes last: ${ctx}`);
  for (const l of lines.slice(0, -1)) {
    assert.match(
      l,
      /^(sketchpinn: |training |The (loss|NTK weights) became)/,
      `stray line: ${ctx}`,
    );
  }
  assert.ok(errors[0].includes(names), `the message names ${names}: ${ctx}`);
  return errors[0];
}
