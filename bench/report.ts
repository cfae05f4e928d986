/**
 * What `bench` reports beside the records: the adapter lines it prints first,
 * the Markdown table, the engine's commit, and the comparisons — against
 * PyTorch's step (bench/baselines/torch_wave.py) and against an earlier results
 * file (regressions beyond a threshold).
 *
 * @module
 */
import { adapterLine, type AdapterReport } from "../src/device.ts";
import type { BenchRecord } from "./timing.ts";

/** Runs bench/baselines/torch_wave.py when a python3 with torch exists; null otherwise. */
export async function torchBaseline(
  sizes: number[],
  n: Record<string, number>,
): Promise<Record<string, unknown> | null> {
  const script = new URL("./baselines/torch_wave.py", import.meta.url).pathname;
  for (const py of ["/usr/bin/python3", "python3"]) {
    try {
      const probe = await new Deno.Command(py, {
        args: ["-c", "import torch"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (!probe.success) continue;
      const res = await new Deno.Command(py, {
        args: [
          script,
          "--sizes",
          sizes.join(","),
          "--n",
          Object.entries(n).map(([g, v]) => `${g}=${v}`).join(","),
          "--json",
        ],
        stdout: "piped",
        stderr: "inherit",
      }).output();
      if (!res.success) return null;
      return JSON.parse(new TextDecoder().decode(res.stdout));
    } catch {
      continue;
    }
  }
  return null;
}

/** The records as a Markdown table. */
export function table(records: BenchRecord[]): string {
  const rows = records.map((r) =>
    `| ${r.suite} | ${r.name} | ${r.median_ms.toFixed(2)} | ${r.min_ms.toFixed(2)}–${
      r.max_ms.toFixed(2)
    } | ${r.gpu_ms?.toFixed(2) ?? "–"} | ${r.gflops?.toFixed(2) ?? ""} | ${
      r.points_per_s ? Math.round(r.points_per_s).toLocaleString("en") : ""
    } | ${r.ratio?.toFixed(3) ?? ""} |`
  );
  return [
    "| suite | name | median ms | min–max ms | GPU ms | GFLOP/s | points/s | ratio |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n");
}

/** The engine's short commit hash, or "unknown". */
export async function gitCommit(): Promise<string> {
  try {
    // The engine's own commit, wherever the command runs from (deno task enters
    // the user's directory).
    const here = new URL(".", import.meta.url);
    const r = await new Deno.Command("git", {
      args: ["rev-parse", "--short", "HEAD"],
      ...(here.protocol === "file:" ? { cwd: here.pathname } : {}),
      stdout: "piped",
      stderr: "null",
    })
      .output();
    return r.success ? new TextDecoder().decode(r.stdout).trim() : "unknown";
  } catch {
    return "unknown";
  }
}

/** The adapter, its limits and the features bench cares about, in three lines. */
export function adapterText(a: AdapterReport): string {
  const l = a.limits;
  return [
    `adapter: ${adapterLine(a)}`,
    `  limits: storage binding ${
      (l.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)
    } MiB, buffer ${
      (l.maxBufferSize / 2 ** 20).toFixed(0)
    } MiB, ${l.maxStorageBuffersPerShaderStage} storage buffers/stage, workgroup ≤ ${l.maxComputeInvocationsPerWorkgroup} invocations, ${l.maxComputeWorkgroupStorageSize} B shared`,
    `  features: ${
      a.features.filter((f) => ["timestamp-query", "shader-f16", "subgroups"].includes(f)).join(
        ", ",
      ) || "none of timestamp-query, shader-f16, subgroups"
    }`,
  ].join("\n");
}

/**
 * Runs PyTorch's step on the same configuration and prints it next to `records`
 * (the ratios of the fixed and exact steps and of the jvp k=8 traces); the
 * baseline's result with the ratios, or null (a note on stderr) when no python3
 * with torch exists. `json`: the baseline is also printed as a JSON line.
 */
export async function torchComparison(
  records: BenchRecord[],
  sizes: number[],
  n: Record<string, number>,
  json: boolean,
): Promise<Record<string, unknown> | null> {
  const baseline = await torchBaseline(sizes, n);
  if (!baseline) {
    console.error(
      "baseline: no python3 with torch found (apt-get install python3-torch); skipped.",
    );
    return null;
  }
  const res = baseline.results as Record<string, { median_ms: number }>;
  const mine = (name: string) => records.find((r) => r.name === name)?.median_ms;
  const ratios = {
    "fixed step / torch step": mine("step fixed") && res.step
      ? mine("step fixed")! / res.step.median_ms
      : null,
    "exact-weighted step / torch step_exact": mine("step exact") && res.step_exact
      ? mine("step exact")! / res.step_exact.median_ms
      : null,
    "jvp k=8 traces / torch jvp_sketch_k8": mine("traces jvp k=8") && res.jvp_sketch_k8
      ? mine("traces jvp k=8")! / res.jvp_sketch_k8.median_ms
      : null,
  };
  console.error(`baseline torch ${baseline.torch} (${baseline.threads} threads):`);
  for (const [k, v] of Object.entries(res)) {
    console.error(`  ${k.padEnd(16)} ${v.median_ms.toFixed(2)} ms`);
  }
  for (const [k, v] of Object.entries(ratios)) {
    if (v !== null) console.error(`  ratio ${k}: ${v.toFixed(3)}`);
  }
  const withRatios = { ...baseline, ratios };
  if (json) console.log(JSON.stringify({ suite: "baseline", name: "torch", ...withRatios }));
  return withRatios;
}

/**
 * Prints each record's time against the same suite and name in `old` (faster or
 * a REGRESSION beyond `threshold`, a fraction) and the number of regressions.
 */
export function compareRecords(records: BenchRecord[], old: BenchRecord[], threshold: number) {
  let regressions = 0;
  for (const r of records) {
    const o = old.find((o) => o.suite === r.suite && o.name === r.name);
    if (!o) continue;
    const ratio = r.median_ms / o.median_ms;
    const flag = ratio > 1 + threshold ? "  REGRESSION" : ratio < 1 - threshold ? "  faster" : "";
    if (flag.includes("REG")) regressions++;
    console.error(
      `compare ${r.suite}/${r.name}: ${o.median_ms.toFixed(2)} → ${r.median_ms.toFixed(2)} ms (×${
        ratio.toFixed(3)
      })${flag}`,
    );
  }
  console.error(`${regressions} regression(s) beyond ${(threshold * 100).toFixed(0)}%`);
}
