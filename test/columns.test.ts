/**
 * Column kernels (assembly/columns.ts) against their TypeScript twins (src/core/columns.ts), on
 * both builds: the Parquet reader's check of decompressed feature pages and its column-major to
 * row-major layout of x.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { WasmCore } from '../src/core/wasm.js';
import { columnsToRows, columnsToRowsReference, firstNonFinite, firstNonFiniteReference } from '../src/core/columns.js';

for (const variant of ['simd', 'scalar'] as const) {
  describe(`column kernels (${variant})`, () => {
    const core = WasmCore.create({ variant });

    it('columnsToRows equals its twin for any shape (blocks of 256 rows, ragged ends), with and without the intercept', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 9 }), fc.boolean(), fc.integer(), (n, F, intercept, seed) => {
          const D = F + (intercept ? 1 : 0);
          core.arena.scoped(() => {
            const cols = core.arena.f64(n * F);
            for (let i = 0; i < cols.length; i++) cols[i] = Math.sin(seed + i) * 1e3;
            const x = core.arena.f64(n * D).fill(NaN);
            const want = new Float64Array(n * D).fill(NaN);
            columnsToRows(core, cols, n, F, x, D, intercept);
            columnsToRowsReference(cols, n, F, want, D, intercept);
            expect(Array.from(x)).toEqual(Array.from(want));
          });
        }),
        { numRuns: 60 },
      );
    });

    it('columnsToRows puts column j of row r at x[r D + j (+1)] and refuses arrays outside WASM memory', () => {
      core.arena.scoped(() => {
        const cols = core.arena.f64(6);
        cols.set([1, 2, 3, 10, 20, 30]); // n = 3, F = 2
        const x = core.arena.f64(9);
        columnsToRows(core, cols, 3, 2, x, 3, true);
        expect(Array.from(x)).toEqual([1, 1, 10, 1, 2, 20, 1, 3, 30]);
        expect(() => columnsToRows(core, new Float64Array(6), 3, 2, x, 3, true)).toThrow(/core's memory/);
        expect(() => columnsToRows(core, cols, 3, 2, x, 2, true)).toThrow(/D = 2/);
      });
    });

    it('firstNonFinite finds the first NaN or infinity, as its twin, and -1 when there is none', () => {
      const specials = [NaN, Infinity, -Infinity];
      fc.assert(
        fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 300 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 })), { maxLength: 3 }), (vals, spoil) => {
          core.arena.scoped(() => {
            const a = core.arena.f64(vals.length);
            a.set(vals);
            for (const [at, k] of spoil) if (vals.length) a[at % vals.length] = specials[k];
            const got = firstNonFinite(core, a);
            expect(got).toBe(firstNonFiniteReference(a));
            if (got >= 0) expect(Number.isFinite(a[got])).toBe(false);
          });
        }),
        { numRuns: 200 },
      );
    });
  });
}
