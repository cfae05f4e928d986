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

/** Runs `sweep …args` from the repository root to completion. */
export const sweep = (...args: string[]): Promise<Run> => runDeno([...SWEEP, ...args]);
