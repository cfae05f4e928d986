/**
 * One compute kernel run in headless Chromium's WebGPU (its bundled SwiftShader
 * adapter), for paths Deno's software adapters cannot run: SwiftShader offers the
 * `subgroups` feature (subgroup size 4), llvmpipe and lavapipe under Deno do not.
 * Chromium comes from Debian (`apt-get install chromium`, done here as root where
 * it is missing; design §9) and is driven by puppeteer-core over a pipe, so no
 * network permission is needed; the page is a file (a secure context).
 *
 * @module
 */

// Imported at run time through a name the type checker does not follow: puppeteer's
// types declare DOM globals that change how other test files are inferred.
const PUPPETEER = "puppeteer-core";

/** How a binding is used and what it starts with. */
export interface BindingSpec {
  binding: number;
  kind: "uniform" | "read" | "rw";
  /** Initial contents: numbers of `type`, or the bytes of a uniform. */
  data: number[];
  type: "f32" | "u32" | "u8";
}

/** A kernel, its buffers and the bindings to read back (as f32). */
export interface KernelRun {
  code: string;
  entry: string;
  bindings: BindingSpec[];
  workgroups: [number, number?, number?];
  read: number[];
}

/** What the page reports about its adapter. */
export interface PageAdapter {
  vendor: string;
  features: string[];
  subgroupMinSize: number;
  subgroupMaxSize: number;
}

const CHROMIUM = "/usr/bin/chromium";

async function ensureChromium(): Promise<void> {
  if (await Deno.stat(CHROMIUM).then(() => true, () => false)) return;
  const id = await new Deno.Command("id", { args: ["-u"] }).output();
  if (new TextDecoder().decode(id.stdout).trim() !== "0") {
    throw new Error(`${CHROMIUM} is missing: run \`sudo apt-get install -y chromium\` first`);
  }
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update"], ["install", "-y", "chromium"]]) {
    const r = await new Deno.Command("apt-get", { args, env, stdin: "null" }).output();
    if (r.code !== 0) {
      throw new Error(`apt-get ${args.join(" ")} failed:\n${new TextDecoder().decode(r.stderr)}`);
    }
  }
}

/** Runs each kernel in a fresh page of one headless Chromium; the adapter's report and outputs. */
export async function runInChromium(
  runs: KernelRun[],
): Promise<{ adapter: PageAdapter; outputs: Record<number, number[]>[] }> {
  await ensureChromium();
  const { default: puppeteer } = await import(PUPPETEER);
  const dir = await Deno.makeTempDir({ prefix: "sketchpinn_chromium_" });
  await Deno.writeTextFile(`${dir}/index.html`, "<!doctype html><title>sketchpinn</title>");
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    pipe: true,
    args: ["--headless=new", "--no-sandbox", "--enable-unsafe-webgpu", `--user-data-dir=${dir}/p`],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`file://${dir}/index.html`);
    return await page.evaluate(pageMain, runs);
  } finally {
    await browser.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Runs in the page: one device with every feature the adapter has that the runs may need. */
async function pageMain(runs: KernelRun[]) {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = await gpu?.requestAdapter();
  if (!adapter) throw new Error("Chromium offers no WebGPU adapter");
  const device = await adapter.requestDevice({
    requiredFeatures: (["subgroups"] as GPUFeatureName[]).filter((f) => adapter.features.has(f)),
  });
  const info = adapter.info as GPUAdapterInfo & {
    subgroupMinSize?: number;
    subgroupMaxSize?: number;
  };
  const outputs: Record<number, number[]>[] = [];
  for (const run of runs) {
    const module = device.createShaderModule({ code: run.code });
    const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === "error");
    if (errors.length) {
      throw new Error(errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join("\n"));
    }
    const layout = device.createBindGroupLayout({
      entries: run.bindings.map((b) => ({
        binding: b.binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: {
          type: b.kind === "uniform"
            ? "uniform"
            : b.kind === "read"
            ? "read-only-storage"
            : "storage",
        },
      })),
    });
    device.pushErrorScope("validation");
    const pipeline = device.createComputePipeline({
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: run.entry },
    });
    const buffers = new Map<number, GPUBuffer>();
    for (const b of run.bindings) {
      const bytes = b.type === "f32"
        ? new Uint8Array(new Float32Array(b.data).buffer)
        : b.type === "u32"
        ? new Uint8Array(new Uint32Array(b.data).buffer)
        : new Uint8Array(b.data);
      const size = Math.max(16, Math.ceil(bytes.length / 16) * 16);
      const usage = (b.kind === "uniform" ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE) |
        GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
      const buf = device.createBuffer({ size, usage });
      device.queue.writeBuffer(buf, 0, bytes);
      buffers.set(b.binding, buf);
    }
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        layout,
        entries: [...buffers].map(([binding, buffer]) => ({ binding, resource: { buffer } })),
      }),
    );
    const [x, y = 1, z = 1] = run.workgroups;
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    const staging = run.read.map((binding) => {
      const src = buffers.get(binding)!;
      const dst = device.createBuffer({
        size: src.size,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      enc.copyBufferToBuffer(src, 0, dst, 0, src.size);
      return [binding, dst] as const;
    });
    device.queue.submit([enc.finish()]);
    const err = await device.popErrorScope();
    if (err) throw new Error(err.message);
    const out: Record<number, number[]> = {};
    for (const [binding, dst] of staging) {
      await dst.mapAsync(GPUMapMode.READ);
      out[binding] = [...new Float32Array(dst.getMappedRange().slice(0))];
      dst.unmap();
    }
    outputs.push(out);
  }
  return {
    adapter: {
      vendor: info.vendor,
      features: [...adapter.features].map(String).sort(),
      subgroupMinSize: info.subgroupMinSize ?? 0,
      subgroupMaxSize: info.subgroupMaxSize ?? 0,
    },
    outputs,
  };
}
