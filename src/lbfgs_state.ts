/**
 * What a checkpoint carries of an L-BFGS phase: the history and scalars as
 * base64 of their float32 bytes (exact), and the check that a saved state fits
 * the configuration it resumes (`--history`, `--sizes`).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { UserError } from "./errors.ts";

/** Curvature pairs kept when neither the caller nor the problem says (`--history`). */
export const DEFAULT_HISTORY = 20;

/** What a checkpoint needs to continue the same L-BFGS trajectory. */
export interface LbfgsState {
  /** Pairs stored. */
  k: number;
  /** Slot of the newest pair. */
  newest: number;
  /** The history (2m × P float32, s rows then y rows), base64 of its bytes. */
  hist: string;
  /** The scalar buffer (γ, and ρ and the last solve's u per slot, …; 8 + 2m float32), base64 of its bytes. */
  scal: string;
}

/**
 * Base64 of a float32 array's bytes (exact, 4 bytes per value). The runtime's
 * encoder: a 100-pair history of the default wave network (27 MB) took 0.6–1.0 s
 * through a binary string and `btoa`, and a run snapshots it at every log.
 */
export function f32ToBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
}

/** The float32 array {@linkcode f32ToBase64} encoded. */
export function base64ToF32(s: string): Float32Array {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

/**
 * The history and scalars of a checkpoint's L-BFGS state, checked against m pairs
 * of P parameters; a UserError naming `--resume` when it does not fit or is damaged.
 */
export function checkLbfgsState(
  s: LbfgsState,
  m: number,
  P: number,
): { hist: Float32Array; scal: Float32Array } {
  const decode = (v: unknown) => {
    try {
      return base64ToF32(v as string);
    } catch {
      return new Float32Array(0);
    }
  };
  const hist = decode(s?.hist), scal = decode(s?.scal);
  const within = (v: unknown, hi: number) =>
    Number.isInteger(v) && (v as number) >= 0 && (v as number) <= hi;
  if (
    hist.length !== 2 * m * P || scal.length !== 8 + 2 * m || !within(s.k, m) ||
    !within(s.newest, m - 1)
  ) {
    throw new UserError(
      "--resume",
      "The checkpoint's L-BFGS state is damaged or does not match this configuration (--history, --sizes); resume from an earlier copy.",
    );
  }
  return { hist, scal };
}
