/**
 * Viscous Burgers' equation u_t + u u_x − (0.01/π) u_xx = 0 on (t, x) ∈ [0,1] × [−1,1]
 * with u(0, x) = −sin(πx) and u(t, ±1) = 0 (Raissi et al. 2019), defined with the
 * expression builder `E` and trained with exact NTK weights.
 *
 * The reference solution is the exact Cole–Hopf solution, evaluated numerically:
 * with y = x − √(4νt) z,
 *
 *   u(t, x) = −∫ sin(πy) e^{−z² − cos(πy)/(2πν)} dz / ∫ e^{−z² − cos(πy)/(2πν)} dz,
 *
 * both integrals by the trapezoid rule on z ∈ [−13, 13] (step 0.05; spectrally
 * accurate for this smooth, rapidly decaying integrand, and stabilised by
 * subtracting the largest exponent). It reproduces the classic benchmark's
 * steepest slope |u_x(t, 0)| = 152.005 at t ≈ 0.5105 (Basdevant et al. 1986).
 *
 * ```sh
 * deno run --allow-read --allow-write --allow-env examples/burgers.ts --steps 2000 --width 32
 * deno task train --problem ./examples/burgers.ts --steps 2000   # the named export `problem`
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DEFAULT_CONFIG, E, Engine, type Problem, Trainer } from "../mod.ts";

const NU = 0.01 / Math.PI;

/** The Cole–Hopf solution at (t, x), by quadrature (see the module documentation). */
export function burgersExact([t, x]: readonly number[]): number {
  if (t <= 0) return -Math.sin(Math.PI * x);
  const s = Math.sqrt(4 * NU * t), h = 0.05, n = 260;
  const expo = (z: number) => -z * z - Math.cos(Math.PI * (x - s * z)) / (2 * Math.PI * NU);
  let max = -Infinity;
  for (let i = -n; i <= n; i++) max = Math.max(max, expo(i * h));
  let num = 0, den = 0;
  for (let i = -n; i <= n; i++) {
    const w = Math.exp(expo(i * h) - max);
    num += Math.sin(Math.PI * (x - s * i * h)) * w;
    den += w;
  }
  return -num / den;
}

/** The problem, also usable as `--problem ./examples/burgers.ts`. */
export const problem: Problem = {
  name: "burgers",
  doc: "u_t + u u_x − (0.01/π) u_xx = 0 on [0,1]×[−1,1], u(0,x) = −sin(πx), u(t,±1) = 0",
  inputs: ["t", "x"],
  domain: [[0, 1], [-1, 1]],
  exact: burgersExact,
  grid: [101, 201],
  sizes: [2, 32, 32, 32, 1],
  groups: [
    {
      name: "r",
      doc: "u_t + u u_x − ν u_xx in the interior",
      residual: E.add(E.du(0), E.mul(E.u(), E.du(1)), E.mul(-NU, E.d2u(1))),
      sampleDim: 2,
      sample: ([a, b]) => [a, 2 * b - 1],
      defaultN: 2048,
    },
    {
      name: "ic",
      doc: "u + sin(πx) at t = 0",
      residual: E.u(),
      target: ([, x]) => -Math.sin(Math.PI * x),
      sampleDim: 1,
      sample: ([a]) => [0, 2 * a - 1],
      defaultN: 256,
    },
    {
      name: "bc",
      doc: "u at x = −1 and x = 1",
      residual: E.u(),
      sampleDim: 1,
      sample: ([a]) => a < 0.5 ? [2 * a, -1] : [2 * a - 1, 1],
      defaultN: 256,
    },
  ],
};

if (import.meta.main) {
  const flag = { type: "string" } as const;
  const { values: a } = parseArgs({ options: { steps: flag, width: flag, points: flag } });
  const steps = Number(a.steps ?? 2000), w = Number(a.width ?? 32);
  const nr = Number(a.points ?? 2048), nb = Math.max(16, nr / 8);
  using engine = await Engine.create();
  await using trainer = await Trainer.create(
    engine,
    {
      ...DEFAULT_CONFIG,
      problem,
      sizes: [2, w, w, w, 1],
      steps,
      n: { r: nr, ic: nb, bc: nb },
      weighting: "exact",
    },
  );
  const logEvery = Math.ceil(steps / 10);
  while (trainer.step < steps) {
    await trainer.advance();
    if (trainer.step % logEvery !== 0 && trainer.step !== steps) continue;
    const { loss, weights } = await trainer.losses();
    const fmt = (r: Record<string, number>, f: (v: number) => string) =>
      Object.entries(r).map(([g, v]) => `${g}=${f(v)}`).join(" ");
    console.error(
      `step ${trainer.step}: loss ${fmt(loss, (v) => v.toExponential(2))} | λ ${
        fmt(weights, (v) => v.toPrecision(3))
      }`,
    );
  }
  const err = await trainer.relL2();
  console.log(`relative L2 error vs Cole–Hopf ${err!.toExponential(3)} after ${steps} steps`);
}
