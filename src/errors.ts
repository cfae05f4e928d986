/**
 * Errors a user can cause: a bad flag, file, size or value. The CLI prints the
 * message alone (no stack trace) and exits with code 2.
 *
 * @module
 */

/** An error caused by user input; its message is one sentence naming the input and the fix. */
export class UserError extends Error {
  /** The flag, file or value at fault. */
  readonly input: string;
  /** An error about `input` (a flag, file or value) with a one-sentence message. */
  constructor(input: string, message: string) {
    super(message);
    this.name = "UserError";
    this.input = input;
  }
}

/** Throws a {@linkcode UserError} when `ok` is false. */
export function check(ok: boolean, input: string, message: string): asserts ok {
  if (!ok) throw new UserError(input, message);
}
