/**
 * The reference solvers' figures (too slow for the test suite): cavity grids up to
 * 257² against Ghia et al. and each other, the interpolation error, and the Q-tensor
 * self-convergence up to 1280² with wall times.
 *
 *   deno task solvers [--T 1] [--skip-finest] [--out results.json]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type CavitySolution, solveCavity } from "../src/solvers/cavity.ts";
import { interpolateCubic } from "../src/solvers/interp.ts";
import { GHIA_RE100_U, GHIA_RE100_V } from "../src/solvers/ghia.ts";
import { QTENSOR_REFERENCE_NX, solveQTensor } from "../src/solvers/qtensor.ts";

// The interior points of the published tables (the walls hold by construction).
const GHIA_U_100 = GHIA_RE100_U.slice(1, -1), GHIA_V_100 = GHIA_RE100_V.slice(1, -1);

const out: Record<string, unknown> = {};
const log = (key: string, value: unknown) => {
  out[key] = value;
  console.log(`${key}: ${JSON.stringify(value)}`);
};
const e3 = (x: number) => Number(x.toExponential(3));

/** Max |a − b| over the coarse grid's nodes (b refined by 2), away from the lid's corners. */
function coarseDiff(a: Float64Array, n: number, b: Float64Array): number {
  const m = 2 * n - 1, h = 1 / (n - 1);
  let d = 0;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      if (j * h > 0.875 && (i * h < 0.125 || i * h > 0.875)) continue;
      d = Math.max(d, Math.abs(a[j * n + i] - b[2 * j * m + 2 * i]));
    }
  }
  return d;
}

function cavityFigures(): void {
  const sols: CavitySolution[] = [];
  for (const n of [65, 129, 257]) {
    const t0 = performance.now();
    const s = solveCavity({ n });
    const wall = (performance.now() - t0) / 1000;
    sols.push(s);
    const mid = (n - 1) / 2, r = (n - 1) / 128;
    // Ghia's points are nodes of a 129-point grid: compare on grids that contain them.
    const eu = r < 1 ? NaN : Math.max(
      ...GHIA_U_100.map(([y, u]) => Math.abs(s.u[Math.round(y * 128) * r * n + mid] - u)),
    );
    const ev = r < 1 ? NaN : Math.max(
      ...GHIA_V_100.map(([x, v]) => Math.abs(s.v[mid * n + Math.round(x * 128) * r] - v)),
    );
    log(`cavity n=${n}`, {
      wall_s: Number(wall.toFixed(2)),
      steps: s.steps,
      dt: s.dt,
      ghia_max_du: e3(eu),
      ghia_max_dv: e3(ev),
      psi_min: Number(Math.min(...s.psi).toFixed(6)),
    });
  }
  for (let k = 0; k + 1 < sols.length; k++) {
    const [a, b] = [sols[k], sols[k + 1]];
    log(`cavity |${a.n} − ${b.n}| (max, lid corners excluded)`, {
      u: e3(coarseDiff(a.u, a.n, b.u)),
      v: e3(coarseDiff(a.v, a.n, b.v)),
      p: e3(coarseDiff(a.p, a.n, b.p)),
    });
  }
  // Interpolation error: from every other node of 257² to the nodes in between, against
  // the solver's values there (spacing 1/128; at the reference's 1/256 it is smaller).
  const fine = sols[2], n = 257, m = 129;
  const sub = [fine.u, fine.v, fine.p].map((a) => {
    const c = new Float64Array(m * m);
    for (let j = 0; j < m; j++) for (let i = 0; i < m; i++) c[j * m + i] = a[2 * j * n + 2 * i];
    return c;
  });
  const pts: number[][] = [], idx: number[] = [];
  for (let j = 1; j < n - 1; j += 2) {
    for (let i = 1; i < n - 1; i += 2) {
      const x = i / (n - 1), y = j / (n - 1);
      if (y > 0.875 && (x < 0.125 || x > 0.875)) continue;
      pts.push([y, x]);
      idx.push(j * n + i);
    }
  }
  const got = interpolateCubic({ shape: [m, m], lo: [0, 0], hi: [1, 1] }, sub, pts);
  const err = [fine.u, fine.v, fine.p].map((a, o) =>
    e3(idx.reduce((d, c, k) => Math.max(d, Math.abs(got[o][k] - a[c])), 0))
  );
  log("cavity interpolation error at h = 1/128 (u, v, p; lid corners excluded)", err);
}

function qtensorFigures(T: number, skipFinest: boolean): void {
  const grids = skipFinest ? [160, 320, 640] : [160, 320, 640, 1280];
  const sols = grids.map((nx) => {
    const s = solveQTensor({ nx, params: { T } });
    log(`qtensor T=${T} nx=${nx}`, { steps: s.steps, dt: s.dt, wall_s: e3(s.wallMs / 1000) });
    return s;
  });
  const diffs = sols.slice(1).map((b, k) => {
    const a = sols[k];
    let max = 0, num = 0, den = 0;
    a.outputs.forEach((x, o) =>
      x.forEach((v, i) => {
        const w = b.outputs[o][i];
        max = Math.max(max, Math.abs(v - w));
        num += (v - w) ** 2;
        den += w * w;
      })
    );
    return { coarse: a.nx, fine: b.nx, max: e3(max), rel_l2: e3(Math.sqrt(num / den)) };
  });
  log(`qtensor T=${T} self-convergence on 11×41×41`, diffs);
  log(
    `qtensor T=${T} observed order (rel L2, max)`,
    diffs.slice(1).map((d, k) => [
      Number(Math.log2(diffs[k].rel_l2 / d.rel_l2).toFixed(2)),
      Number(Math.log2(diffs[k].max / d.max).toFixed(2)),
    ]),
  );
  // Time error alone at the reference grid: halve Δt.
  const ref = sols[grids.indexOf(QTENSOR_REFERENCE_NX)];
  const half = solveQTensor({ nx: ref.nx, steps: 2 * ref.steps, params: { T } });
  const dtErr = ref.outputs.reduce(
    (d, x, o) => x.reduce((e, v, i) => Math.max(e, Math.abs(v - half.outputs[o][i])), d),
    0,
  );
  log(`qtensor T=${T} |Δt − Δt/2| at nx=${ref.nx} (max)`, e3(dtErr));
  // qtensorAt's interpolation error: from its 41 × 161 × 161 grid to 81 times × every
  // third node of 321 × 321, against the solver's values there.
  const dense = solveQTensor({
    nx: QTENSOR_REFERENCE_NX,
    params: { T },
    samples: { nt: 81, nx: 321 },
  });
  const coarse = solveQTensor({
    nx: QTENSOR_REFERENCE_NX,
    params: { T },
    samples: { nt: 41, nx: 161 },
  });
  const pts: number[][] = [], idx: number[] = [];
  for (let a = 0; a < 81; a++) {
    for (let i = 0; i < 321; i += 3) {
      for (let j = 0; j < 321; j += 3) {
        pts.push([(a * T) / 80, i / 160, j / 160]);
        idx.push((a * 321 + i) * 321 + j);
      }
    }
  }
  const got = interpolateCubic(
    { shape: [41, 161, 161], lo: [0, 0, 0], hi: [T, 2, 2] },
    coarse.outputs,
    pts,
  );
  const ie = got.reduce(
    (d, x, o) => x.reduce((e, v, k) => Math.max(e, Math.abs(v - dense.outputs[o][idx[k]])), d),
    0,
  );
  log(`qtensor T=${T} qtensorAt interpolation error (max)`, e3(ie));
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      T: { type: "string", default: "1" },
      "skip-finest": { type: "boolean", default: false },
      "skip-cavity": { type: "boolean", default: false },
      out: { type: "string" },
    },
  });
  const T = Number(values.T);
  if (!(T > 0)) {
    console.error(`--T ${values.T} is not a positive number; pass e.g. --T 1.`);
    Deno.exit(2);
  }
  console.log(`reference solvers, ${new Date().toISOString()}, Deno ${Deno.version.deno}`);
  if (!values["skip-cavity"]) cavityFigures();
  qtensorFigures(T, values["skip-finest"]);
  if (values.out) await Deno.writeTextFile(values.out, JSON.stringify(out, null, 2) + "\n");
}
