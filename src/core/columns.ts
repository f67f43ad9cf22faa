/**
 * Typed wrappers of the column kernels (assembly/columns.ts) and their TypeScript twins. The
 * batch job's Parquet reader decompresses feature pages into a column-major block in WASM memory;
 * these check it and lay it out as the engine's row-major x without leaving WASM.
 */
import type { WasmCore } from './wasm.js';

function owned(core: WasmCore, a: ArrayBufferView, what: string): void {
  if (!core.owns(a)) throw new RangeError(`${what}: must be a view of the core's memory`);
}

/** Index of the first NaN or infinite value of `a`, or -1. `a` must live in the core's memory. */
export function firstNonFinite(core: WasmCore, a: Float64Array): number {
  owned(core, a, 'firstNonFinite');
  return core.k.firstNonFinite(a.byteOffset, a.length);
}

/** Twin of firstNonFinite. */
export function firstNonFiniteReference(a: Float64Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] - a[i] !== 0) return i;
  return -1;
}

function checkShape(cols: Float64Array, n: number, F: number, x: Float64Array, D: number, intercept: boolean): void {
  if (D !== F + (intercept ? 1 : 0)) throw new RangeError(`columnsToRows: D = ${D} must be F + intercept = ${F + (intercept ? 1 : 0)}`);
  if (cols.length < n * F || x.length < n * D) throw new RangeError(`columnsToRows: need ${n * F} column values and ${n * D} row values, got ${cols.length} and ${x.length}`);
}

/**
 * Column-major features (column j at cols[j n]) into row-major x (n x D), with x[r D] = 1 first
 * when `intercept`. Both arrays must live in the core's memory.
 */
export function columnsToRows(core: WasmCore, cols: Float64Array, n: number, F: number, x: Float64Array, D: number, intercept: boolean): void {
  checkShape(cols, n, F, x, D, intercept);
  owned(core, cols, 'columnsToRows');
  owned(core, x, 'columnsToRows');
  core.k.columnsToRows(cols.byteOffset, n, F, x.byteOffset, D, intercept ? 1 : 0);
}

/** Twin of columnsToRows. */
export function columnsToRowsReference(cols: Float64Array, n: number, F: number, x: Float64Array, D: number, intercept: boolean): void {
  checkShape(cols, n, F, x, D, intercept);
  const off = intercept ? 1 : 0;
  for (let r = 0; r < n; r++) {
    if (intercept) x[r * D] = 1;
    for (let j = 0; j < F; j++) x[r * D + off + j] = cols[j * n + r];
  }
}
