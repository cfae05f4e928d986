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
 * Replaces the value of each `const NAME: u32 = …;` (or `: f32`) declaration and each
 * region between `// BEGIN name` and `// END name`. Throws when a name is
 * missing, so a renamed constant cannot be silently ignored.
 */
export function specialize(
  src: string,
  consts: Consts = {},
  regions: Record<string, string> = {},
): string {
  let out = src;
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
    const re = new RegExp(`// BEGIN ${name}\\n[\\s\\S]*?// END ${name}\\n`);
    if (!re.test(out)) throw new Error(`specialize: no region "${name}" in the shader`);
    out = out.replace(re, () => `// BEGIN ${name}\n${body}\n// END ${name}\n`);
  }
  return out;
}
