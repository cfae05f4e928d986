/**
 * A tiny benchmark through the public API: prints the adapter, then the time of
 * one training step under several weighting policies, with GFLOP/s and points/s.
 *
 * ```sh
 * deno run --allow-read --allow-env examples/bench_tiny.ts --width 64 --points 1024 --repeats 5
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { adapterLine, benchStep, Engine, type Weighting } from "../mod.ts";

const flag = { type: "string" } as const;
const { values: a } = parseArgs({ options: { width: flag, points: flag, repeats: flag } });
const w = Number(a.width ?? 64), nr = Number(a.points ?? 1024);
const repeats = Number(a.repeats ?? 5);
const sizes = [2, w, w, w, 1], n = { r: nr, u: nr / 4, ut: nr / 4 };

using engine = await Engine.create();
console.log(adapterLine(engine.adapter));
console.log(`sizes [${sizes}], points ${JSON.stringify(n)}, ${repeats} × 5 timed steps each`);
for (const weighting of ["fixed", "exact", "pc", "jvp"] as Weighting[]) {
  const r = await benchStep(engine, {
    sizes,
    n,
    weighting,
    k: weighting === "jvp" ? 8 : 1,
    repeats,
  });
  console.log(
    `${r.name.padEnd(14)} ${r.median_ms.toFixed(2).padStart(8)} ms  (min ${r.min_ms.toFixed(2)})  ${
      r.gflops!.toFixed(2)
    } GFLOP/s  ${(r.points_per_s! / 1e6).toFixed(3)} Mpoints/s`,
  );
}
