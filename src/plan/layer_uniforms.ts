/**
 * Per-layer uniforms: one buffer holding a copy of a kernel's uniform struct
 * per layer, for kernels that run one dispatch per layer (the optimizer, the
 * gradient gather, the packing and the random directions), so that a layer's
 * offsets and sizes are uniform values and a step rewrites them all with one
 * write.
 *
 * @module
 */
import type { Engine, UniformValues } from "../engine.ts";
import type { NetLayout, PackedLayer } from "../layout.ts";

/** Per-layer copies of a uniform struct in one buffer ({@linkcode createLayerUniforms}). */
export interface LayerUniforms {
  /** The buffer, one struct per layer. */
  buffer: GPUBuffer;
  /** Bytes between the layers' structs. */
  stride: number;
  /** Each layer's struct (webgpu-utils views). */
  views: ReturnType<Engine["uniformView"]>[];
  /** The whole buffer's bytes, as last written. */
  staging: Uint8Array<ArrayBuffer>;
}

/**
 * One uniform buffer holding a copy of kernel `kernel`'s struct per layer, each
 * at a multiple of the adapter's uniform offset alignment, with `fields(layer)`
 * set once: per-layer dispatches bind their copy ({@linkcode layerBinding}), and
 * {@linkcode writeLayerUniforms} rewrites all of them with one write. The caller
 * owns (destroys) the buffer.
 */
export function createLayerUniforms(
  engine: Engine,
  layers: NetLayout["layers"],
  kernel: Parameters<Engine["uniform"]>[0],
  label: string,
  fields: (lay: NetLayout["layers"][number]) => UniformValues,
): LayerUniforms {
  const views = layers.map((lay) => {
    const v = engine.uniformView(kernel);
    v.set(fields(lay));
    return v;
  });
  const bytes = views[0].arrayBuffer.byteLength;
  const align = engine.device.limits.minUniformBufferOffsetAlignment;
  const stride = Math.ceil(bytes / align) * align;
  engine.counters.uniforms++;
  const buffer = engine.device.createBuffer({
    label: `Uniform.${label}[${layers.length}]`,
    size: stride * layers.length,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  const u = { buffer, stride, views, staging: new Uint8Array(stride * layers.length) };
  writeLayerUniforms(engine, u, {});
  return u;
}

/** Sets `values` in every layer's copy of `u` and writes them all (one write). */
export function writeLayerUniforms(engine: Engine, u: LayerUniforms, values: UniformValues): void {
  u.views.forEach((v, i) => {
    v.set(values);
    u.staging.set(new Uint8Array(v.arrayBuffer), i * u.stride);
  });
  engine.write(u.buffer, 0, u.staging.buffer);
}

/** Layer `l`'s (0-based) copy in `u`, to bind. */
export function layerBinding(u: LayerUniforms, l: number): GPUBufferBinding {
  return { buffer: u.buffer, offset: l * u.stride, size: u.views[l].arrayBuffer.byteLength };
}

/**
 * The uniform member that names one layer to the per-layer kernels
 * (shaders/optim.wgsl, shaders/random.wgsl; its struct is shaders/layer.wgsl):
 * flat offsets and sizes of W and b, and the packed forward and backward layouts.
 */
export function layerFields(lay: PackedLayer): { layer: Record<string, number> } {
  return {
    layer: {
      flatW: lay.w,
      flatB: lay.b,
      fanIn: lay.in,
      fanOut: lay.out,
      packFOff: lay.fOff,
      ldf: lay.ldf,
      packBOff: lay.bOff,
      ldb: lay.ldb,
    },
  };
}
