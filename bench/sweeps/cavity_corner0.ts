/**
 * The lid-driven cavity without its corner weight (`cornerDelta: 0`), as the
 * cavity was before the weight: the sweep files that reproduce the README's
 * earlier cavity tables train it (`"problem": "bench/sweeps/cavity_corner0.ts"`,
 * a path relative to where `sweep run` runs, the repository root).
 *
 * @module
 */
import { cavityProblem } from "../../mod.ts";

export default cavityProblem({ cornerDelta: 0 });
