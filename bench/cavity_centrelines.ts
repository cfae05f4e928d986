/**
 * Centreline deviations of trained cavity models from the float64 reference: max
 * |u − u_ref| on x = ½ and max |v − v_ref| on y = ½ over 65 equally spaced points
 * (the reference is within 0.005 / 0.009 of Ghia et al.'s tables, README).
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

if (import.meta.main) {
  const engine = await Engine.create();
  const s = Array.from({ length: 65 }, (_, i) => i / 64);
  const vertical = s.map((y) => [0.5, y]), horizontal = s.map((x) => [x, 0.5]);
  const [uRef] = cavityReference(vertical), [, vRef] = cavityReference(horizontal);
  for (const dir of Deno.args) {
    const model = await loadModel(`${dir}/model.json`);
    const problem = await resolveProblem(model.problem, `${dir}/model.json`, dir);
    const [u] = await predict(engine, problem, model, vertical);
    const [, v] = await predict(engine, problem, model, horizontal);
    const du = Math.max(...s.map((_, i) => Math.abs(u[i] - uRef[i])));
    const dv = Math.max(...s.map((_, i) => Math.abs(v[i] - vRef[i])));
    console.log(
      `${dir}: max |u − u_ref| on x = ½ ${du.toFixed(3)}, max |v − v_ref| on y = ½ ${
        dv.toFixed(3)
      }`,
    );
  }
  engine.dispose();
}
