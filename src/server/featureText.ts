/**
 * The `features` text an uploaded row is stored with: the JSON object `{"f1":v1,"f2":v2,…}` with
 * the table's features in column order, exactly what the JSON route stores (JSON.stringify of the
 * row's features) for the same names and values. The numbers are formatted by the WASM core's
 * shortest writer (formatShortestColumn: the bytes of String(v), which is also what
 * JSON.stringify writes for a finite double), a block of rows at a time: formatting 20 doubles a
 * row in JavaScript was most of a million-row upload's time (bench/RESULTS.md, "Observation
 * upload").
 */
import type { WasmCore } from '../core/wasm.js';
import { SHORTEST_MAX_BYTES } from '../core/shortest.js';
import type { ObservationTable } from '../model/observations.js';

/** The texts of rows r0 .. r0 + k - 1 of `t` (read without the intercept column). */
export type FeatureTexts = (r0: number, k: number) => string[];

export function featureTexts(core: WasmCore, t: ObservationTable): FeatureTexts {
  const D = t.columns.d;
  const x = t.columns.x;
  const keys = t.features.map((f, j) => (j === 0 ? '{' : ',') + JSON.stringify(f) + ':');
  return (r0, k) => {
    const out = new Array<string>(k);
    if (D === 0) return out.fill('{}');
    core.arena.scoped(() => {
      const n = k * D;
      const src = core.input(x.subarray(r0 * D, (r0 + k) * D));
      const dst = core.arena.alloc(Math.ceil((n * SHORTEST_MAX_BYTES) / 8));
      const len = core.k.formatShortestColumn(n, src, dst);
      // every value is followed by '\n'; the digits, signs, '.', 'e' are ASCII
      const values = Buffer.from(core.memory.buffer, dst, len).toString('latin1').split('\n');
      let q = 0;
      for (let i = 0; i < k; i++) {
        let s = '';
        for (let j = 0; j < D; j++) s += keys[j] + values[q++];
        out[i] = s + '}';
      }
    });
    return out;
  };
}
