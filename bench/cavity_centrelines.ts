/**
 * Centreline deviations of trained cavity models: max |u − u_ref| on x = ½ and max
 * |v − v_ref| on y = ½ over 65 equally spaced points against the float64 reference
 * (itself within 0.005 / 0.009 of Ghia et al.'s tables, README), and the same maxima
 * against Ghia, Ghia & Shin's 17 published values per line (issue goal: 0.05), taken
 * at the node k/128 of their grid nearest to each published coordinate.
 *
 * Usage: `deno run --allow-read --allow-write --allow-env bench/cavity_centrelines.ts RUN_DIR…`
 * (each run folder holds a cavity `model.json`: the built-in, or a module's variant of
 * it, whose output transform, if any, maps the network to (u, v, p)).
 *
 * @module
 */
import { Engine } from "../src/engine.ts";
import { loadModel } from "../src/model.ts";
import { resolveProblem } from "../src/problems/mod.ts";
import { predict } from "../src/predict.ts";
import { cavityReference } from "../src/solvers/cavity.ts";
import { GHIA_RE100_U, GHIA_RE100_V } from "../src/solvers/ghia.ts";

/** The largest |a_i − b_i|. */
const maxDiff = (a: ArrayLike<number>, b: readonly number[]) =>
  Math.max(...b.map((v, i) => Math.abs(a[i] - v)));

if (import.meta.main) {
  const engine = await Engine.create();
  const s = Array.from({ length: 65 }, (_, i) => i / 64);
  const vertical = s.map((y) => [0.5, y]), horizontal = s.map((x) => [x, 0.5]);
  const [uRef] = cavityReference(vertical), [, vRef] = cavityReference(horizontal);
  // Ghia's published coordinates are their 129-point grid's nodes rounded to 4 digits.
  const node = (c: number) => Math.round(c * 128) / 128;
  const ghiaU = GHIA_RE100_U.map(([y]) => [0.5, node(y)]);
  const ghiaV = GHIA_RE100_V.map(([x]) => [node(x), 0.5]);
  for (const dir of Deno.args) {
    const model = await loadModel(`${dir}/model.json`);
    const problem = await resolveProblem(model.problem, `${dir}/model.json`, dir);
    const [u] = await predict(engine, problem, model, vertical);
    const [, v] = await predict(engine, problem, model, horizontal);
    const [gu] = await predict(engine, problem, model, ghiaU);
    const [, gv] = await predict(engine, problem, model, ghiaV);
    const du = maxDiff(u, Array.from(uRef)), dv = maxDiff(v, Array.from(vRef));
    const gdu = maxDiff(gu, GHIA_RE100_U.map(([, g]) => g));
    const gdv = maxDiff(gv, GHIA_RE100_V.map(([, g]) => g));
    console.log(
      `${dir}: max |u − u_ref| on x = ½ ${du.toFixed(3)}, max |v − v_ref| on y = ½ ${
        dv.toFixed(3)
      }; against Ghia's 17 values: u ${gdu.toFixed(3)}, v ${gdv.toFixed(3)}`,
    );
  }
  engine.dispose();
}
