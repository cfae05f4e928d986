/**
 * Loop unrolling in WGSL source: a `for (var i = 0u; i < BOUND; i++) {` loop
 * preceded by a `// unroll` line is replaced by one braced copy of its body per
 * iteration with `i` replaced by the literal, and so is every such loop nested in
 * it. BOUND is a constant expression of the source's `const` declarations.
 *
 * Why: register tiles are function-scope arrays indexed by loop counters. After
 * unrolling every index is a constant, so the arrays stay in registers whatever
 * the driver's own unrolling limits (Mesa's Vulkan path, lavapipe, did not unroll
 * them and kept the tiles in memory).
 *
 * @module
 */

const FOR = /for \(var (\w+) = ([^;]+); \1 < ([^;]+); \1\+\+\) \{/y;

/** Integer value of a constant expression over literals and `consts` (+ − * / % and parentheses). */
export function evalConst(expr: string, consts: Record<string, number>): number {
  const toks = expr.match(/\d+u?|\w+|[-+*/%()]/g) ?? [];
  let p = 0;
  const atom = (): number => {
    const t = toks[p++];
    if (t === "(") {
      const v = sum();
      p++;
      return v;
    }
    if (/^\d/.test(t)) return parseInt(t);
    if (t in consts) return consts[t];
    throw new Error(`unroll: ${t} in "${expr}" is not a known constant`);
  };
  const prod = (): number => {
    let v = atom();
    while (["*", "/", "%"].includes(toks[p])) {
      const op = toks[p++], r = atom();
      v = op === "*" ? v * r : op === "/" ? Math.floor(v / r) : v % r;
    }
    return v;
  };
  const sum = (): number => {
    let v = prod();
    while (toks[p] === "+" || toks[p] === "-") v = toks[p++] === "+" ? v + prod() : v - prod();
    return v;
  };
  const v = sum();
  if (p !== toks.length) throw new Error(`unroll: cannot evaluate "${expr}"`);
  return v;
}

/** The `const NAME: u32 = expr;` values of a source, in declaration order. */
export function constValues(src: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of src.matchAll(/^\s*const\s+(\w+)\s*:\s*u32\s*=\s*([^;]+);/gm)) {
    try {
      out[m[1]] = evalConst(m[2], out);
    } catch {
      // Not a plain integer expression (e.g. a function call): never a loop bound here.
    }
  }
  return out;
}

/** Index of the brace closing the one opened at `open`. */
function closing(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === "{") depth++;
    else if (src[i] === "}" && --depth === 0) return i;
  }
  throw new Error("unroll: unbalanced braces");
}

/** Unrolls every for loop in `body` (all nested ones included). */
function unrollAll(body: string, consts: Record<string, number>): string {
  let out = "", i = 0;
  while (i < body.length) {
    const at = body.indexOf("for (var ", i);
    if (at < 0) break;
    FOR.lastIndex = at;
    const m = FOR.exec(body);
    if (!m) {
      out += body.slice(i, at + 1);
      i = at + 1;
      continue;
    }
    const end = closing(body, at + m[0].length - 1);
    const inner = unrollAll(body.slice(at + m[0].length, end), consts);
    const [from, to] = [evalConst(m[2], consts), evalConst(m[3], consts)];
    const id = new RegExp(`\\b${m[1]}\\b`, "g");
    out += body.slice(i, at);
    for (let k = from; k < to; k++) out += `{${inner.replace(id, `${k}u`)}}`;
    i = end + 1;
  }
  return out + body.slice(i);
}

/** Replaces each loop marked `// unroll` (and the loops inside it) by its unrolled copies. */
export function unroll(src: string): string {
  const consts = constValues(src);
  let out = src;
  for (let at = out.indexOf("// unroll\n"); at >= 0; at = out.indexOf("// unroll\n", at)) {
    const start = out.indexOf("for (var ", at);
    FOR.lastIndex = start;
    const m = FOR.exec(out);
    if (!m) throw new Error("unroll: `// unroll` must precede `for (var i = A; i < B; i++) {`");
    const end = closing(out, start + m[0].length - 1);
    out = out.slice(0, at) + unrollAll(out.slice(start, end + 1), consts) + out.slice(end + 1);
  }
  return out;
}
