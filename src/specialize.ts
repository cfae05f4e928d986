/**
 * The one place WGSL source is rewritten before compilation.
 *
 * naga accepts `override` for workgroup sizes, but not as the length of a
 * function-scope array (WGSL requires a const-expression there), and register
 * tiles need such arrays. So tile shapes and channel sets are plain `const`
 * declarations with defaults (each file stays valid WGSL on its own) and this
 * helper replaces their values; a marked region can be replaced the same way
 * (generated residual functions).
 *
 * @module
 */

/** Values for `const NAME: u32 = …;` declarations. */
export type Consts = Record<string, number>;

/**
 * Copies of a marked region, one per entry of `values`: in copy i every
 * identifier ending in `_V` ends in `_i` instead, and the copy's constants
 * (named without the suffix) take the entry's values.
 */
export interface Instances {
  region: string;
  values: Consts[];
}

function regionPattern(name: string): RegExp {
  return new RegExp(`// BEGIN ${name}\\n([\\s\\S]*?)// END ${name}\\n`);
}

/** Replaces region `inst.region` by one renamed, specialised copy per instance. */
export function instantiate(src: string, inst: Instances): string {
  const m = src.match(regionPattern(inst.region));
  if (!m) throw new Error(`specialize: no region "${inst.region}" in the shader`);
  if (inst.values.length === 0) {
    throw new Error(`specialize: region "${inst.region}" needs at least one instance`);
  }
  const copies = inst.values.map((vals, i) => {
    const body = m[1].replace(/\b(\w+)_V\b/g, `$1_${i}`);
    return specialize(
      body,
      Object.fromEntries(Object.entries(vals).map(([k, v]) => [`${k}_${i}`, v])),
    );
  });
  return src.replace(
    regionPattern(inst.region),
    () => `// BEGIN ${inst.region}\n${copies.join("\n")}// END ${inst.region}\n`,
  );
}

/**
 * Replaces the value of each `const NAME: u32 = …;` (or `: f32`) declaration and each
 * region between `// BEGIN name` and `// END name`. Throws when a name is
 * missing, so a renamed constant cannot be silently ignored.
 */
export function specialize(
  src: string,
  consts: Consts = {},
  regions: Record<string, string> = {},
  instances?: Instances,
): string {
  let out = instances ? instantiate(src, instances) : src;
  for (const [name, value] of Object.entries(consts)) {
    const re = new RegExp(`^(\\s*const\\s+${name}\\s*:\\s*(u32|i32|f32)\\s*=\\s*)[^;]+;`, "m");
    const m = out.match(re);
    if (!m) throw new Error(`specialize: no \`const ${name}: <type> = …;\` in the shader`);
    const ty = m[2];
    if (ty !== "f32" && (!Number.isInteger(value) || (ty === "u32" && value < 0))) {
      throw new Error(`specialize: ${name} must be a whole number for ${ty}, got ${value}`);
    }
    const lit = ty === "u32"
      ? `${value}u`
      : ty === "i32"
      ? `${value}i`
      : Number.isInteger(value)
      ? `${value}.0`
      : `${value}`;
    out = out.replace(re, `$1${lit};`);
  }
  for (const [name, body] of Object.entries(regions)) {
    const re = regionPattern(name);
    if (!re.test(out)) throw new Error(`specialize: no region "${name}" in the shader`);
    out = out.replace(re, () => `// BEGIN ${name}\n${body}\n// END ${name}\n`);
  }
  return out;
}
