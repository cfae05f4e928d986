/**
 * `bench --baseline jaxjs`: runs bench/baselines/jaxjs_wave.ts in a child Deno
 * once per jax-js backend (WebAssembly, WebGPU) and reports its step times next
 * to the engine's fixed-weight step.
 *
 * @module
 */

/** One backend's result: the child's JSON, or why there is none. */
export interface JaxjsRun {
  /** "wasm" or "webgpu". */
  device: string;
  /** Median and fastest step, milliseconds (absent when the run failed). */
  step?: { median_ms: number; min_ms: number };
  /** Why no step time came back. */
  error?: string;
}

/**
 * Times the jax-js step on each backend (a child process each, so one backend's
 * state cannot slow the other). WebGPU steps are slow on a software adapter, so
 * `repeats` there is capped at 3.
 */
export async function jaxjsBaseline(
  sizes: number[],
  n: Record<string, number>,
  repeats: number,
): Promise<JaxjsRun[]> {
  const script = new URL("./jaxjs_wave.ts", import.meta.url).pathname;
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const out: JaxjsRun[] = [];
  for (const device of ["wasm", "webgpu"]) {
    const reps = device === "webgpu" ? Math.min(repeats, 3) : repeats;
    const res = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        config,
        script,
        "--device",
        device,
        "--sizes",
        sizes.join(","),
        "--n",
        Object.entries(n).map(([g, v]) => `${g}=${v}`).join(","),
        "--repeats",
        String(reps),
        "--warmup",
        device === "webgpu" ? "1" : "3",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(res.stdout).trim().split("\n").at(-1) ?? "";
    if (!res.success || !text.startsWith("{")) {
      const why = new TextDecoder().decode(res.stderr).trim().split("\n").at(-1);
      out.push({ device, error: why || `exit code ${res.code}` });
      continue;
    }
    out.push({ device, step: JSON.parse(text).results.step });
  }
  return out;
}

/**
 * Runs the jax-js step on both backends and prints the engine's fixed-weight step
 * (`step fixed` in `records`) against each as a speed-up (jax-js ms / engine ms,
 * above 1 when the engine is faster). `json`: also printed as a JSON line.
 */
export async function jaxjsComparison(
  records: { name: string; median_ms: number }[],
  sizes: number[],
  n: Record<string, number>,
  repeats: number,
  json: boolean,
): Promise<Record<string, unknown>> {
  const runs = await jaxjsBaseline(sizes, n, repeats);
  const mine = records.find((r) => r.name === "step fixed")?.median_ms;
  console.error("baseline jax-js 0.1.25:");
  const speedups: Record<string, number | null> = {};
  for (const r of runs) {
    if (!r.step) {
      console.error(`  ${r.device.padEnd(7)} failed: ${r.error}`);
      continue;
    }
    const s = mine ? r.step.median_ms / mine : null;
    speedups[`jax-js ${r.device} step / fixed step`] = s;
    console.error(
      `  ${r.device.padEnd(7)} step ${r.step.median_ms.toFixed(2)} ms` +
        (s ? `; the engine's fixed step is ${s.toFixed(2)}× as fast` : ""),
    );
  }
  const out = { jaxjs: "0.1.25", runs, speedups };
  if (json) console.log(JSON.stringify({ suite: "baseline", name: "jaxjs", ...out }));
  return out;
}
