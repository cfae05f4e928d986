/**
 * MLP description, the flat parameter layout of design §2 and model files.
 *
 * Flat layout: layers in order; for each, its weight matrix row-major with shape
 * [out, in], then its bias [out].
 *
 * @module
 */
import { check, UserError } from "./errors.ts";
import { gaussianAt, Stream } from "./random.ts";
import { quote, readJsonFile, writeFileAtomic } from "./fsutil.ts";
import { denseSizes, embeddingFromValue, type FourierEmbedding } from "./embedding.ts";

/** Hidden-layer activation. */
export type Activation = "tanh" | "sin";

/** Offsets of one dense layer in the flat parameter vector. */
export interface LayerLayout {
  /** Input width of the layer. */
  in: number;
  /** Output width of the layer. */
  out: number;
  /** Offset of W (out × in, row-major). */
  w: number;
  /** Offset of b (out). */
  b: number;
}

/** Per-layer offsets and the total parameter count. */
export function paramLayout(sizes: readonly number[]): { layers: LayerLayout[]; count: number } {
  const layers: LayerLayout[] = [];
  let off = 0;
  for (let l = 1; l < sizes.length; l++) {
    const lay = { in: sizes[l - 1], out: sizes[l], w: off, b: off + sizes[l] * sizes[l - 1] };
    off = lay.b + lay.out;
    layers.push(lay);
  }
  return { layers, count: off };
}

/** Limits the engine supports (hidden layers and widths). */
export const MAX_HIDDEN_LAYERS = 8, MAX_WIDTH = 512, MAX_INPUT_DIM = 4;

/**
 * Checks sizes [d, W…, m] against what the engine supports; `input` (a flag, or a
 * model file's path) is named in the message.
 */
export function validateSizes(
  sizes: readonly number[],
  inputDim: number,
  input = "--sizes",
  outputs = 1,
): void {
  const what = input.startsWith("--") ? input : `Model file ${input}, "sizes"`;
  check(
    Array.isArray(sizes) && sizes.every((s) => Number.isInteger(s) && s > 0),
    input,
    `${what}: sizes must be positive whole numbers such as 2,128,128,128,1; got ${
      JSON.stringify(sizes)
    }.`,
  );
  check(
    sizes.length >= 3 && sizes.length - 2 <= MAX_HIDDEN_LAYERS,
    input,
    `${what}: give 1 to ${MAX_HIDDEN_LAYERS} hidden layers (e.g. 2,64,64,1); got ${
      sizes.length - 2
    }.`,
  );
  check(
    sizes[0] === inputDim,
    input,
    `${what}: the first size must be the problem's input dimension ${inputDim}; got ${sizes[0]}.`,
  );
  check(
    sizes.at(-1) === outputs,
    input,
    `${what}: the last size must be the problem's output count ${outputs}; got ${sizes.at(-1)}.`,
  );
  const wide = sizes.slice(1, -1).find((w) => w > MAX_WIDTH);
  check(
    wide === undefined,
    input,
    `${what}: hidden widths must be at most ${MAX_WIDTH}; got ${wide}.`,
  );
}

/**
 * Initialisation schemes: `xavier` (Xavier-normal weights, zero biases) and
 * `centered` (the same for inputs mapped to [−1, 1] over the problem's domain,
 * folded into the first layer; see {@linkcode xavierInit}).
 */
export const INITS = ["xavier", "centered"] as const;
/** An initialisation scheme. */
export type Init = typeof INITS[number];

/**
 * Xavier-normal weights (std √(2/(in+out))) and zero biases, from a seed.
 *
 * With `domain` (one [lo, hi] per input) the first layer is drawn for the inputs
 * ξ = 2(x − lo)/(hi − lo) − 1 and folded back onto x: W ξ(x) = (W diag(2/(hi − lo))) x
 * + W ξ(0) gives the first layer's weights and biases. Its hyperplanes Wξ = 0 pass
 * through the centre of the domain instead of through x = 0 (a corner of [0, 1]ᵈ).
 * The network is the same function class and the parameter layout is unchanged;
 * only the start differs.
 */
export function xavierInit(
  sizes: readonly number[],
  seed: number,
  domain?: readonly (readonly [number, number])[],
): Float32Array {
  const { layers, count } = paramLayout(sizes);
  const p = new Float32Array(count);
  for (const lay of layers) {
    const std = Math.sqrt(2 / (lay.in + lay.out));
    for (let i = 0; i < lay.in * lay.out; i++) {
      p[lay.w + i] = std * gaussianAt(seed, Stream.init, 0, 0, lay.w + i);
    }
  }
  if (domain) {
    const lay = layers[0];
    if (domain.length !== lay.in) {
      throw new Error(`xavierInit: ${domain.length} domain intervals for ${lay.in} inputs`);
    }
    for (let o = 0; o < lay.out; o++) {
      let b = 0;
      for (let a = 0; a < lay.in; a++) {
        const [lo, hi] = domain[a], scale = 2 / (hi - lo);
        const w = p[lay.w + o * lay.in + a];
        p[lay.w + o * lay.in + a] = w * scale;
        b -= w * (lo * scale + 1);
      }
      p[lay.b + o] = b;
    }
  }
  return p;
}

/**
 * Parameters of a new network by scheme `init` (only `centered` reads the
 * problem's domain). With an `embedding` the first layer reads its features,
 * which are centred already (x̂ ∈ [−1, 1]), so both schemes draw plain Xavier.
 */
export function initParams(
  sizes: readonly number[],
  seed: number,
  init: Init | undefined,
  domain: readonly (readonly [number, number])[],
  embedding?: FourierEmbedding,
): Float32Array {
  if (embedding) return xavierInit(denseSizes(sizes, embedding), seed);
  return xavierInit(sizes, seed, init === "centered" ? domain : undefined);
}

/** A model: problem, architecture and parameters (flat layout). */
export interface Model {
  /** Problem name, or the path of a module exporting the problem. */
  problem: string;
  /** Layer widths [d, W, …, W, 1]. */
  sizes: number[];
  /** Hidden-layer activation. */
  activation: Activation;
  /** Parameters in the flat layout (design §2). */
  params: Float32Array;
  /** Optional training state carried by checkpoints. */
  state?: Record<string, unknown>;
  /** Fixed Fourier features the first layer reads (absent in files without one: raw inputs). */
  embedding?: FourierEmbedding;
  /** The problem's output transform (its doc) the network was trained through; absent: none. */
  transform?: string;
}

/** Format tag of model files. */
export const MODEL_FORMAT = "sketchpinn-mlp-v1";

/** Serialises a model file (design §5). */
export function modelToJson(m: Model): string {
  return JSON.stringify({
    format: MODEL_FORMAT,
    problem: m.problem,
    sizes: m.sizes,
    activation: m.activation,
    params: Array.from(m.params),
    ...(m.embedding ? { embedding: m.embedding } : {}),
    ...(m.transform !== undefined ? { transform: m.transform } : {}),
    ...(m.state ? { state: m.state } : {}),
  });
}

const MODEL_FIX = "write it with `init` or `train`";

/** Parses and validates a model file's content; `path` names it in messages. */
export function modelFromJson(text: string, path: string): Model {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      path,
      `Model file ${path} is not valid JSON (${quote((e as Error).message)}); ${MODEL_FIX}.`,
    );
  }
  return modelFromValue(raw, path);
}

/** Validates a parsed model file; `path` names it in messages. */
export function modelFromValue(value: unknown, path: string): Model {
  check(
    typeof value === "object" && value !== null && !Array.isArray(value),
    path,
    `Model file ${path} must hold a JSON object with "format": "${MODEL_FORMAT}"; ${MODEL_FIX}.`,
  );
  const raw = value as Record<string, unknown>;
  // A tag of our own with another version is a file from another sketchpinn release.
  check(
    !(typeof raw.format === "string" && raw.format.startsWith("sketchpinn-") &&
      raw.format !== MODEL_FORMAT),
    path,
    `Model file ${path} has format "${
      quote(String(raw.format), 40)
    }" from another version of sketchpinn; this version reads "${MODEL_FORMAT}" (retrain, or convert it with that version).`,
  );
  check(
    raw.format === MODEL_FORMAT,
    path,
    `Model file ${path} lacks "format": "${MODEL_FORMAT}"; ${MODEL_FIX}.`,
  );
  const sizes = raw.sizes as number[];
  check(
    Array.isArray(sizes) && sizes.length >= 3 && sizes.every((s) => Number.isInteger(s) && s > 0),
    path,
    `Model file ${path} needs "sizes" as a list of at least 3 positive whole numbers.`,
  );
  check(
    raw.activation === "tanh" || raw.activation === "sin",
    path,
    `Model file ${path} has activation ${
      quote(JSON.stringify(raw.activation) ?? "none", 40)
    }; use "tanh" or "sin".`,
  );
  check(typeof raw.problem === "string", path, `Model file ${path} needs "problem" as a string.`);
  check(
    raw.transform === undefined || typeof raw.transform === "string",
    path,
    `Model file ${path} has "transform" that is not a string; write it with \`init\` or \`train\`.`,
  );
  const params = raw.params as unknown[];
  const embedding = raw.embedding === undefined
    ? undefined
    : embeddingFromValue(raw.embedding, path, sizes[0]);
  const { count } = paramLayout(denseSizes(sizes, embedding));
  check(
    Array.isArray(params) && params.length === count,
    path,
    `Model file ${path} has ${Array.isArray(params) ? params.length : "no"} params but sizes ${
      sizes.join(",")
    }${
      embedding ? ` with ${embedding.B.length} Fourier frequencies` : ""
    } need ${count}; regenerate it with \`init\`.`,
  );
  const bad = params.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
  check(
    bad < 0,
    path,
    `Model file ${path} has a non-finite parameter at index ${bad}; use an earlier checkpoint.`,
  );
  return {
    problem: raw.problem as string,
    sizes,
    activation: raw.activation as Activation,
    params: Float32Array.from(params as number[]),
    state: raw.state as Record<string, unknown> | undefined,
    ...(embedding ? { embedding } : {}),
    ...(raw.transform !== undefined ? { transform: raw.transform as string } : {}),
  };
}

/** Reads a model file, with one clear message for a missing or malformed file. */
export async function loadModel(path: string): Promise<Model> {
  return modelFromValue(await readJsonFile(path, `Model file ${path}`, MODEL_FIX), path);
}

/** Writes a model file atomically. */
export async function saveModel(path: string, m: Model): Promise<void> {
  await writeFileAtomic(path, modelToJson(m));
}
