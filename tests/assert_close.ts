/**
 * Float closeness assertions with named tolerances, shared by all tests.
 *
 * An entry is bad when |a − e| > atol + rtol·|e|, or when either is NaN. The
 * failure message names the max abs error, the max rel error and the first bad
 * index, so a kernel mismatch says how far off it is and where.
 *
 * @module
 */
import { AssertionError } from "node:assert/strict";

/** Tolerances and a name for messages. Defaults: rtol 1e-7, atol 0. */
export interface CloseOptions {
  rtol?: number;
  atol?: number;
  name?: string;
}

/** Throws an AssertionError unless every |actual[i] − expected[i]| ≤ atol + rtol·|expected[i]|. */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  opts: CloseOptions = {},
): void {
  const { rtol = 1e-7, atol = 0, name = "values" } = opts;
  if (actual.length !== expected.length) {
    throw new AssertionError({
      message: `${name}: length ${actual.length} differs from expected length ${expected.length}`,
    });
  }
  let maxAbs = 0, maxRel = 0, firstBad = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    const err = Math.abs(a - e);
    const bad = Number.isNaN(a) || Number.isNaN(e) || !(err <= atol + rtol * Math.abs(e));
    if (bad && firstBad < 0) firstBad = i;
    if (!Number.isNaN(err)) {
      maxAbs = Math.max(maxAbs, err);
      if (e !== 0) maxRel = Math.max(maxRel, err / Math.abs(e));
    }
  }
  if (firstBad >= 0) {
    throw new AssertionError({
      message:
        `${name}: not close (rtol ${rtol}, atol ${atol}); max abs error ${
          maxAbs.toExponential(3)
        }, ` +
        `max rel error ${maxRel.toExponential(3)}; first bad index ${firstBad}: ` +
        `actual ${actual[firstBad]}, expected ${expected[firstBad]}`,
    });
  }
}

/** Scalar form of {@linkcode assertAllClose}. */
export function assertClose(actual: number, expected: number, opts: CloseOptions = {}): void {
  assertAllClose([actual], [expected], opts);
}
