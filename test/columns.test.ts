/**
 * Column kernels (assembly/columns.ts) against their TypeScript twins (src/core/columns.ts), on
 * both builds: the Parquet reader's check of decompressed feature pages and its column-major to
 * row-major layout of x.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { WasmCore } from '../src/core/wasm.js';
import { columnsToRows, columnsToRowsReference, firstNonFinite, firstNonFiniteReference, snappyUncompressInto } from '../src/core/columns.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';

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

    it('snappyUncompressInto decompresses into WASM memory from inside and outside it, and reports corrupt input', () => {
      const raw = new Uint8Array(new Float64Array(Array.from({ length: 5000 }, (_, i) => Math.round(Math.sin(i) * 100) / 100)).buffer);
      const comp = snappyCompress(raw);
      core.arena.scoped(() => {
        const p = core.arena.allocBytes(raw.length);
        const dst = new Uint8Array(core.memory.buffer, p, raw.length);
        expect(snappyUncompressInto(core, comp, dst)).toBe(true);
        expect(Buffer.from(dst).equals(Buffer.from(raw))).toBe(true);
        const pIn = core.arena.allocBytes(comp.length);
        const inside = new Uint8Array(core.memory.buffer, pIn, comp.length);
        inside.set(comp);
        dst.fill(0);
        expect(snappyUncompressInto(core, inside, dst)).toBe(true);
        expect(Buffer.from(dst).equals(Buffer.from(raw))).toBe(true);
        expect(snappyUncompressInto(core, comp.subarray(0, comp.length - 5), dst)).toBe(false);
        expect(() => snappyUncompressInto(core, comp, new Uint8Array(raw.length))).toThrow(/core's memory/);
      });
    });
  });
}
