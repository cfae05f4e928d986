/**
 * Custom problems from modules (no GPU): which `--problem` values are paths,
 * importing a module's default export or its export named `problem` by relative
 * path, absolute path or file: URL, and one UserError naming the module and the
 * field for every missing or malformed part of a Problem.
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  E,
  getProblem,
  isProblemPath,
  type Problem,
  problems,
  resolveProblem,
  samplePoints,
  UserError,
  validateProblem,
} from "../mod.ts";

const MY_PDE = fileURLToPath(new URL("../examples/my_pde.ts", import.meta.url));
const BURGERS = fileURLToPath(new URL("../examples/burgers.ts", import.meta.url));

Deno.test("isProblemPath: module files and paths, not names", () => {
  for (const p of ["./my_pde.ts", "../x.js", "/abs/p.ts", "file:///p.ts", "pde.ts", "p.mjs"]) {
    assert.ok(isProblemPath(p), p);
  }
  for (const n of ["wave", "klein-gordon1d", "heat1d", "wav", ""]) assert.ok(!isProblemPath(n), n);
});

Deno.test("resolveProblem: built-in names, relative and absolute paths, file: URLs", async () => {
  assert.equal(await resolveProblem("wave"), getProblem("wave"));
  const rel = relative(Deno.cwd(), MY_PDE);
  const byRel = await resolveProblem(rel.startsWith(".") ? rel : `./${rel}`);
  assert.equal(byRel.name, "advection-diffusion");
  assert.deepEqual(byRel.groups.map((g) => g.name), ["r", "ic", "bc"]);
  assert.equal(await resolveProblem(MY_PDE), byRel);
  assert.equal(await resolveProblem(new URL("../examples/my_pde.ts", import.meta.url).href), byRel);
  // A module without a default export: its export named `problem`.
  assert.equal((await resolveProblem(BURGERS)).name, "burgers");
});

/** Asserts that `f` rejects with a UserError on `input` whose message matches every pattern. */
async function rejects(f: () => Promise<unknown>, input: string, ...match: RegExp[]) {
  await assert.rejects(f, (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.equal(e.input, input);
    for (const m of match) assert.match(e.message, m);
    assert.equal(e.message.split("\n").length, 1);
    return true;
  });
}

Deno.test("resolveProblem: a missing module, or one without the export, is a UserError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sketchpinn_problem_" });
  try {
    await rejects(() => resolveProblem(`${dir}/none.ts`), "--problem", /Cannot import.*none\.ts/);
    await Deno.writeTextFile(`${dir}/other.ts`, "export const x = 1;\n");
    await rejects(
      () => resolveProblem(`${dir}/other.ts`, "m.json"),
      "m.json",
      /other\.ts has no default export/,
    );
    await rejects(() => resolveProblem("nope"), "--problem", /Unknown problem "nope"/);
    // A syntax error names the file, line and column.
    await Deno.writeTextFile(`${dir}/typo.ts`, "export default {\n  name: ,\n};\n");
    await rejects(
      () => resolveProblem(`${dir}/typo.ts`),
      "--problem",
      /SyntaxError: Expression expected at .*typo\.ts:2:9/,
    );
    // A relative path resolves against the base directory given.
    await Deno.writeTextFile(
      `${dir}/mine.ts`,
      `export { default } from ${
        JSON.stringify(new URL("../examples/my_pde.ts", import.meta.url).href)
      };\n`,
    );
    const mine = await resolveProblem("./mine.ts", "--problem", dir);
    assert.equal(mine.name, "advection-diffusion");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A valid problem to break one field at a time. */
const good = (): Record<string, unknown> => ({
  name: "good",
  doc: "u_x = 1",
  inputs: ["x"],
  domain: [[0, 1]],
  exact: ([x]: readonly number[]) => x,
  grid: [11],
  sizes: [1, 8, 1],
  groups: [{
    name: "r",
    doc: "u_x − 1",
    residual: E.du(0),
    target: () => 1,
    sampleDim: 1,
    sample: ([a]: readonly number[]) => [a],
    defaultN: 16,
  }],
});

Deno.test("validateProblem: every missing or malformed field is named", () => {
  const p = good();
  assert.equal(validateProblem(p, "good.ts"), p as unknown as Problem);
  const group = (change: Record<string, unknown>) => {
    const q = good();
    q.groups = [{ ...(q.groups as object[])[0], ...change }];
    return q;
  };
  const cases: [string, unknown, RegExp][] = [
    ["not an object", 42, /not a Problem object/],
    ["name", { ...good(), name: undefined }, /"name"/],
    ["doc", { ...good(), doc: 1 }, /"doc"/],
    ["inputs", { ...good(), inputs: ["a", "b", "c", "d", "e"] }, /"inputs"/],
    ["domain", { ...good(), domain: [[1, 0]] }, /"domain"/],
    ["grid", { ...good(), grid: [1] }, /"grid"/],
    ["sizes", { ...good(), sizes: [2, 8, 1] }, /"sizes" .*input dimension 1/],
    ["exact", { ...good(), exact: 3 }, /"exact" must be a function/],
    ["exact not finite", { ...good(), exact: () => NaN }, /"exact" .* not u/],
    ["groups", { ...good(), groups: [] }, /"groups"/],
    ["group name", group({ name: "a b" }), /group 0 needs a "name"/],
    ["residual", group({ residual: undefined }), /lacks "residual"/],
    ["residual op", group({ residual: { op: "log", a: E.u() } }), /unknown operation "log"/],
    ["residual input", group({ residual: E.x(1) }), /reads input 1/],
    ["residual dir", group({ residual: E.d2u(2) }), /along input 2/],
    ["defaultN", group({ defaultN: 0 }), /"defaultN"/],
    ["sampleDim", group({ sampleDim: 5 }), /"sampleDim"/],
    ["sample", group({ sample: undefined }), /lacks "sample"/],
    ["sample shape", group({ sample: () => [0, 0] }), /must return a point of 1 finite/],
    ["target", group({ target: () => "x" }), /"target" returns x/],
    ["train", { ...good(), train: 3 }, /"train" must be an object/],
    ["train key", { ...good(), train: { epochs: 3 } }, /"train" has unknown key "epochs"/],
    ["train steps", { ...good(), train: { steps: 2.5 } }, /"train.steps" must be a positive whole/],
    ["train lr", { ...good(), train: { lr: -1 } }, /"train.lr" must be a positive number/],
    [
      "train init",
      { ...good(), train: { init: "he" } },
      /"train.init" must be "xavier" or "centered"/,
    ],
    [
      "train then",
      { ...good(), train: { then: "bfgs" } },
      /"train.then" must be "lbfgs" or "none"/,
    ],
    ["train thenSteps", { ...good(), train: { thenSteps: -1 } }, /"train.thenSteps" must be/],
    ["train thenN", { ...good(), train: { thenN: { r: 0 } } }, /"train.thenN" must be an object/],
    ["train thenN group", { ...good(), train: { thenN: { s: 4 } } }, /names group "s"/],
    ["pictures", { ...good(), pictures: [] }, /"pictures" must be a function/],
  ];
  const dup = good();
  dup.groups = [(dup.groups as object[])[0], (dup.groups as object[])[0]];
  cases.push(["duplicate group", dup, /repeats a group name/]);
  for (const [what, value, match] of cases) {
    assert.throws(
      () => validateProblem(value, "bad.ts", "--problem"),
      (e: unknown) => {
        assert.ok(e instanceof UserError, `${what}: ${e}`);
        assert.match(e.message, /^Problem bad\.ts: /, what);
        assert.match(e.message, match, what);
        return true;
      },
      what,
    );
  }
});

Deno.test("samplePoints: a sampler that leaves the domain is an error naming the group", () => {
  const p = good() as unknown as Problem;
  p.groups[0].sample = ([a]) => [2 * a];
  assert.throws(() => samplePoints(p, { r: 16 }, 0), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(
      e.message,
      /group "r"'s sample put point \[[\d.]+\] outside the domain \(x ∈ \[0, 1\]\)/,
    );
    return true;
  });
  for (const name of Object.keys(problems)) {
    const q = getProblem(name);
    samplePoints(q, Object.fromEntries(q.groups.map((g) => [g.name, 64])), 1, 0, "sobol");
  }
});
