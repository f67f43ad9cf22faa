import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { WasmCore } from '../src/core/wasm.js';
import { parseCatalogChunk } from '../src/records/parseCatalogChunk.js';
import { resolveLayout } from '../src/records/catalogSchema.js';
import { buildCsvStrings, buildProductKeys, decodeIds, formatPriceCsvWasm, parseCatalogCsvWasm } from '../src/records/wasmCsv.js';
import { formatCsvBytes } from '../src/records/formatChunk.js';
import { emptyPriceColumns, type CatalogChunk } from '../src/pricing/engine.js';
import { REASONS, STATUSES, reasonMaskPossible } from '../src/pricing/policy.js';

const enc = new TextEncoder();
const modelIds = ['A', 'B-1', 'ü', 'SKU-7', 'x y', '日本'];
const header = ['product_id', 'f1', 'f2', 'cost', 'current_price', 'min_price', 'max_price', 'note'];
const layout = resolveLayout('c.csv', header, ['f1', 'f2'], { allowExtraColumns: true }); // 'note' is ignored

for (const variant of ['simd', 'scalar'] as const) {
  const core = WasmCore.create({ variant });
  const keys = buildProductKeys(core, modelIds);
  const strs = buildCsvStrings(core);
  const index = new Map(modelIds.map((id, k) => [id, k + 1]));

  const jsParse = (bytes: Uint8Array, reference = false) =>
    parseCatalogChunk(bytes, { file: 'c.csv', format: 'csv', layout, featureNames: ['f1', 'f2'], intercept: true, firstLine: 2, onError: 'skip', alloc: (n) => new Float64Array(n), reference });

  const sameColumns = (a: CatalogChunk, b: CatalogChunk) => {
    expect(b.n).toBe(a.n);
    for (const k of ['x', 'cost', 'currentPrice', 'minPrice', 'maxPrice'] as const) {
      const x = Array.from(a[k]);
      const y = Array.from(b[k]);
      expect(y.length).toBe(x.length);
      // bit-for-bit, NaN and -0 included
      for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) expect.fail(`${k}[${i}]: JS ${x[i]} vs WASM ${y[i]}`);
    }
  };

  describe(`WASM CSV path (${variant}) equals the JavaScript path`, () => {
    const cell = fc.oneof(
      fc.double({ min: -1e3, max: 1e3, noNaN: true }).map((x) => x.toFixed(3)),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => String(x)), // slow path: 17 digits, big exponents
      fc.constantFrom('', 'x', '1e3', ' 4 ', '-0', '7', '.5', '5.', '1e', '+2', '1e400', '123456789012345678', '0.1e-30', '  ', '1E+2', '1\r', ' 3 \r', '"4"', '2 5', '-', '1e5x', '00012.50', '0.0000000000000000123', '000000000000000001.5', '1234567890123456', '123456789012345.0'),
    );
    const idArb = fc.constantFrom('A', 'B-1', 'ü', 'SKU-7', 'x y', '日本', 'NEW-1', '', ' A', 'A\rB', 'B\r', 'Q"x');
    const rowArb = fc.tuple(idArb, cell, cell, cell, cell, cell, cell, fc.constantFrom('n', '', 'n,extra'));
    it('accepts exactly the chunks the JavaScript path parses without a reject, with the same columns and ids', () => {
      let accepted = 0;
      let declined = 0;
      let referenced = 0;
      fc.assert(
        fc.property(fc.array(rowArb, { maxLength: 25 }), fc.boolean(), fc.boolean(), fc.boolean(), (rows, crlf, blankLines, short) => {
          const eol = crlf ? '\r\n' : '\n';
          const lines = rows.map((r, i) => (short && i === 0 ? r.slice(0, 3).join(',') : r.join(',')));
          if (blankLines) lines.splice(Math.floor(lines.length / 2), 0, '', '');
          const text = lines.join(eol) + eol;
          const bytes = enc.encode(text);
          const mark = core.arena.mark();
          try {
            const w = parseCatalogCsvWasm(core, bytes, layout, 3, true, keys);
            // a quote anywhere: csv-parse's business (the WASM path always declines)
            if (text.includes('"')) {
              expect(w).toBeNull();
              return;
            }
            const js = jsParse(bytes);
            if (js.rejects.length > 0) {
              expect(w).toBeNull();
              declined++;
              return;
            }
            expect(w).not.toBeNull();
            accepted++;
            sameColumns(js.chunk, w!.chunk);
            // and csv-parse itself (the maintained parser) where it reads lines the same way: it
            // detects the record delimiter from the first line ending (so mixed endings and a lone
            // '\r' read differently), the JavaScript and WASM paths split at '\n' only
            if (!text.includes('\r')) {
              const ref = jsParse(bytes, true);
              expect(ref.rejects.length).toBe(0);
              sameColumns(ref.chunk, w!.chunk);
              expect(decodeIds(core, w!)).toEqual(ref.chunk.ids);
              referenced++;
            }
            expect(decodeIds(core, w!)).toEqual(js.chunk.ids);
            expect(Array.from(w!.chunk.productIndex!)).toEqual(js.chunk.ids.map((id) => index.get(id) ?? 0));
          } finally {
            core.arena.release(mark);
          }
        }),
        { numRuns: 1500 },
      );
      // both branches were exercised
      expect(accepted).toBeGreaterThan(100);
      expect(declined).toBeGreaterThan(100);
      expect(referenced).toBeGreaterThan(50);
    });

    it('declines chunks with quotes and bytes that are not UTF-8', () => {
      const mark = core.arena.mark();
      try {
        expect(parseCatalogCsvWasm(core, enc.encode('"A",1,2,3,4,5,6,n\n'), layout, 3, true, keys)).toBeNull();
        const bad = new Uint8Array([0x41, 0xff, 44, 49, 44, 50, 10]);
        expect(parseCatalogCsvWasm(core, bad, layout, 3, true, keys)).toBeNull();
        expect(parseCatalogCsvWasm(core, enc.encode('A,1,2,3,4,5,6,n\n'), layout, 3, true, keys)).not.toBeNull();
      } finally {
        core.arena.release(mark);
      }
    });

    it('writes the same CSV bytes as the JavaScript formatter', () => {
      const num = fc.oneof(
        fc.double({ noNaN: false }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 5e-324, 1e21, 1e-7, 19.99),
      );
      fc.assert(
        fc.property(fc.array(fc.tuple(idArb.filter((s) => s.length > 0 && !s.includes('"')), fc.array(num, { minLength: 9, maxLength: 9 }), fc.nat(STATUSES.length - 1), fc.nat((1 << REASONS.length) - 1).filter(reasonMaskPossible)), { minLength: 1, maxLength: 20 }), (rows) => {
          const bytes = enc.encode(rows.map(([id]) => `${id},1,2,,,,,n`).join('\n') + '\n');
          const mark = core.arena.mark();
          try {
            const w = parseCatalogCsvWasm(core, bytes, layout, 3, true, keys)!;
            expect(w.chunk.n).toBe(rows.length);
            const p = emptyPriceColumns(rows.length);
            const cols = [p.price, p.previousPrice, p.changePct, p.winProbability, p.expectedProfit, p.delta, p.gamma, p.vega, p.priceStdError];
            rows.forEach(([, v, st, rs], i) => {
              cols.forEach((c, k) => (c[i] = v[k]));
              p.status[i] = st;
              p.reasons[i] = rs;
            });
            const want = Buffer.from(formatCsvBytes(rows.map(([id]) => id), p)).toString('utf8');
            const got = Buffer.from(formatPriceCsvWasm(core, w, p, strs)).toString('utf8');
            expect(got).toBe(want);
          } finally {
            core.arena.release(mark);
          }
        }),
        { numRuns: 1000 },
      );
    });
  });
}
