/**
 * Plain matrix products on the engine's Taylor product kernel (one channel, no
 * activation): Z (M × N) = Wᵀᵀ A, with W stored transposed as in the packed
 * forward layout.
 *
 * @module
 */
import type { Dispatch, Engine } from "./engine.ts";
import { taylorLaunch } from "./launch.ts";

/** Row padding of the transposed left operand. */
export const padRows = (m: number): number => Math.ceil(m / 16) * 16;

/**
 * A dispatch computing Z = Lᵀ·A where `lt` holds Lᵀ as (K + 1) × padRows(M)
 * row-major (row K all zero: it is the kernel's bias row), `a` holds A as K × N
 * row-major with N a multiple of 16, and `z` receives Z as M × N row-major.
 */
export async function matmulDispatch(
  engine: Engine,
  dims: { M: number; K: number; N: number },
  bufs: { lt: GPUBuffer; a: GPUBuffer; z: GPUBuffer },
  label: string,
): Promise<Dispatch> {
  const { M, K, N } = dims;
  if (N % 16 !== 0) throw new Error(`matmul: N = ${N} must be a multiple of 16`);
  const ldw = padRows(M);
  const t = taylorLaunch([{ channels: 1, set: { first: [], numSecond: 0 }, np: N, col: 0 }], M, {
    tm: engine.tuning.taylorTM,
    act: 2,
    wg: engine.tuning.taylorWG,
  });
  const u = engine.uniform("taylorForward", {
    M,
    K,
    ld4: N / 4,
    wOff4: 0,
    ldw4: ldw / 4,
    bOff4: (K * ldw) / 4,
    ngroups: 1,
    groups: t.groups,
  }, label);
  const dummy = engine.storage(`${label}.dummy`, 16);
  return await engine.dispatch(
    "taylorForward",
    t.variant,
    { 0: u, 1: bufs.lt, 2: bufs.a, 3: bufs.z, 4: dummy },
    t.grid,
    label,
  );
}
