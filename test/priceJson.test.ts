/**
 * JSON price records formatted in WASM (src/records/priceJson.ts) against JSON.stringify of the
 * records the API and the NDJSON writer build (src/pricing/record.ts, src/server/quoteService.ts),
 * byte for byte, on both builds.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { WasmCore } from '../src/core/wasm.js';
import { buildJsonStrings, formatPriceJsonWasm } from '../src/records/priceJson.js';
import { formatNdjson } from '../src/records/formatChunk.js';
import { quoteRecord } from '../src/pricing/quoteItems.js';
import { emptyPriceColumns, type PriceColumns } from '../src/pricing/engine.js';
import { REASONS, STATUSES, reasonMaskPossible } from '../src/pricing/policy.js';

const special = [NaN, Infinity, -Infinity, -0, 0, 5e-324, 1e-310, 1.7976931348623157e308, 1e21, 1e-7, 123456789012345680000, 0.1 + 0.2];
const num = fc.oneof(
  { weight: 6, arbitrary: fc.double() },
  { weight: 3, arbitrary: fc.integer({ min: -100000, max: 100000 }).map((k) => k / 100) },
  { weight: 2, arbitrary: fc.constantFrom(...special) },
);
const idChar = fc.constantFrom(...'aZ09-_. /:#@', 'é', 'ü', '日', '本', '😀', '\u2028', '\u007f');
const id = fc.array(idChar, { minLength: 1, maxLength: 12 }).map((cs) => cs.join(''));

function columns(rows: { v: number[]; status: number; reasons: number }[]): PriceColumns {
  const p = emptyPriceColumns(rows.length);
  const cols = [p.price, p.previousPrice, p.changePct, p.winProbability, p.expectedProfit, p.delta, p.gamma, p.vega, p.priceStdError];
  rows.forEach((r, i) => {
    cols.forEach((c, k) => (c[i] = r.v[k]));
    p.status[i] = r.status;
    p.reasons[i] = r.reasons;
  });
  return p;
}

const row = fc.record({
  v: fc.array(num, { minLength: 9, maxLength: 9 }),
  status: fc.integer({ min: 0, max: STATUSES.length - 1 }),
  reasons: fc.integer({ min: 0, max: (1 << REASONS.length) - 1 }).filter(reasonMaskPossible),
});

for (const variant of ['simd', 'scalar'] as const) {
  describe(`formatPriceJson (${variant})`, () => {
    const core = WasmCore.create({ variant });
    const strs = buildJsonStrings(core, (b) => core.arena.allocBytesPermanent(b));
    const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('utf8'));

    it('equals JSON.stringify of the API records (items of a JSON array, with cold_start) and the NDJSON writer, byte for byte', () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(id, row), { maxLength: 40 }), (rs) => {
          const ids = rs.map(([i]) => i);
          const p = columns(rs.map(([, r]) => r));
          core.arena.scoped(() => {
            const api = text(formatPriceJsonWasm(core, strs, ids, p, { coldStart: true, sep: ',', sepLast: false }));
            expect(api).toBe(ids.map((x, i) => JSON.stringify(quoteRecord(x, p, i))).join(','));
            const nd = text(formatPriceJsonWasm(core, strs, ids, p, { coldStart: false, sep: '\n', sepLast: true }));
            expect(nd).toBe(formatNdjson(ids, p));
          });
        }),
        { numRuns: 300 },
      );
    });

    it('the whole API body parses back to the records', () => {
      const ids = ['SKU-1', 'ü-2', '😀'];
      const p = columns([
        { v: [19.37, 21, -7.78, 0.88, 8.32, 1e-15, -0.73, -1.08, 0.024], status: 0, reasons: 0 },
        { v: [NaN, 20, NaN, NaN, NaN, NaN, NaN, NaN, NaN], status: 4, reasons: 1 | (1 << 8) },
        { v: [-0, 0, 1e21, 5e-324, 1, 2, 3, 4, 5], status: 3, reasons: 1 },
      ]);
      core.arena.scoped(() => {
        const items = text(formatPriceJsonWasm(core, strs, ids, p, { coldStart: true, sep: ',', sepLast: false }))!;
        const body = JSON.parse(`{"items":[${items}]}`) as { items: unknown[] };
        expect(body.items).toEqual(ids.map((x, i) => JSON.parse(JSON.stringify(quoteRecord(x, p, i)))));
        expect(body.items[1]).toMatchObject({ price: null, status: 'rejected', reason: 'cold_start;out_of_domain', cold_start: true });
      });
    });

    it('declines ids JSON.stringify would escape (quote, backslash, control character, lone surrogate) and formats nothing for no rows', () => {
      const p = columns([{ v: new Array(9).fill(1), status: 0, reasons: 0 }]);
      core.arena.scoped(() => {
        for (const bad of ['a"b', 'a\\b', 'tab\there', 'nl\n', '\u0000', 'x\uD800', '\uDC00y']) {
          expect(formatPriceJsonWasm(core, strs, [bad], p, { coldStart: true, sep: ',', sepLast: false }), JSON.stringify(bad)).toBeNull();
        }
        expect(text(formatPriceJsonWasm(core, strs, ['ok\uD83D\uDE00'], p, { coldStart: false, sep: '\n', sepLast: true }))).toBe(formatNdjson(['ok\uD83D\uDE00'], p));
        expect(text(formatPriceJsonWasm(core, strs, [], columns([]), { coldStart: true, sep: ',', sepLast: false }))).toBe('');
      });
    });
  });
}
