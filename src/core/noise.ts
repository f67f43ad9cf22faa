/** Typed wrapper of the noiseTable kernel (docs/math.md §1.3). */
import type { WasmCore } from './wasm.js';
import { checkNoise, checkFiniteArray, type NoiseSpec } from './validate.js';

export const NOISE_COLUMNS = [
  'f', 'F', 'Fbar', 'logf', 'logF', 'logFbar', 'dlogf', 'd2logf', 'dlogF', 'd2logF', 'dlogFbar', 'd2logFbar',
] as const;
export type NoiseColumn = (typeof NOISE_COLUMNS)[number];
export type NoiseTable = Record<NoiseColumn, Float64Array>;

export function splitNoiseTable(out: Float64Array, n: number): NoiseTable {
  const t = {} as NoiseTable;
  NOISE_COLUMNS.forEach((name, k) => (t[name] = out.slice(k * n, (k + 1) * n)));
  return t;
}

/** f, F, 1-F, their logs and the derivatives of the logs at each w, for one noise family. */
export function noiseTable(core: WasmCore, noise: NoiseSpec, w: Float64Array): NoiseTable {
  const { family, scale } = checkNoise('noiseTable', noise);
  checkFiniteArray('noiseTable', 'w', w);
  const n = w.length;
  return core.arena.scoped(() => {
    const pw = core.input(w);
    const out = core.output(12 * n);
    core.k.noiseTable(family, scale, n, pw, out.ptr);
    return splitNoiseTable(out.view(), n);
  });
}
