import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseDecimal } from '../src/records/fastCsv.js';
import { parseCatalogChunk, type ParseOptions } from '../src/records/parseCatalogChunk.js';
import { resolveLayout } from '../src/records/catalogSchema.js';

const enc = new TextEncoder();
const dec = (s: string) => {
  const b = enc.encode(s);
  return parseDecimal(b, 0, b.length);
};

describe('fast CSV path: decimals', () => {
  it('equals Number() on plain decimals, bit for bit', () => {
    const numStr = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => String(x)),
      fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => x.toFixed(4)),
      fc.tuple(fc.integer({ min: -99999, max: 99999 }), fc.integer({ min: 0, max: 9999 }), fc.integer({ min: -30, max: 30 })).map(([a, b, e]) => `${a}.${b}e${e}`),
      fc.stringMatching(/^[+-]?\d{1,20}(\.\d{0,20})?$/),
    );
    fc.assert(
      fc.property(numStr, (s) => Object.is(dec(s), Number(s))),
      { numRuns: 20000 },
    );
  });
  it('rejects what is not a plain decimal', () => {
    for (const s of ['', ' ', 'abc', '1.2.3', '0x10', 'Infinity', 'NaN', '1e', '--1', '1,5', '.', '+']) expect(dec(s), s).toBeNaN();
    expect(dec(' 2.5 ')).toBe(2.5);
    expect(dec('.5')).toBe(0.5);
    expect(dec('5.')).toBe(5);
  });
  it('companion: a naive digit-by-digit parser is not exact', () => {
    const naive = (s: string) => {
      const [a, b = ''] = s.split('.');
      let v = Number(a);
      let scale = 0.1;
      for (const ch of b) {
        v += Number(ch) * scale;
        scale /= 10;
      }
      return v;
    };
    const r = fc.check(fc.property(fc.stringMatching(/^\d{1,6}\.\d{1,8}$/), (s) => Object.is(naive(s), Number(s))), { numRuns: 2000 });
    expect(r.failed).toBe(true);
  });
});

describe('fast CSV path equals the csv-parse reference on whole chunks', () => {
  const header = ['product_id', 'f1', 'f2', 'cost', 'current_price', 'min_price', 'max_price', 'note'];
  const layout = resolveLayout('c.csv', header, ['f1', 'f2'], { allowExtraColumns: true }); // 'note' is ignored
  const opts = (reference: boolean): ParseOptions => ({
    file: 'c.csv', format: 'csv', layout, featureNames: ['f1', 'f2'], intercept: true, firstLine: 2, onError: 'skip', alloc: (n) => new Float64Array(n), reference,
  });
  const cell = fc.oneof(fc.double({ min: -1e3, max: 1e3, noNaN: true }).map((x) => x.toFixed(3)), fc.constantFrom('', 'x', '1e3', ' 4 ', '-0', '7'));
  const rowArb = fc.tuple(fc.constantFrom('A', 'B-1', 'ü', ''), cell, cell, cell, cell, cell, cell, fc.constantFrom('n', ''));
  it('same rows, same numbers, same rejects (random chunks incl. empty lines and CRLF)', () => {
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 30 }), fc.boolean(), (rows, crlf) => {
        const eol = crlf ? '\r\n' : '\n';
        const text = rows.map((r) => r.join(',')).join(eol) + eol;
        const bytes = enc.encode(text);
        const a = parseCatalogChunk(bytes, opts(false));
        const b = parseCatalogChunk(bytes, opts(true));
        expect(a.chunk.ids).toEqual(b.chunk.ids);
        expect(Array.from(a.chunk.x)).toEqual(Array.from(b.chunk.x));
        for (const k of ['cost', 'currentPrice', 'minPrice', 'maxPrice'] as const) expect(Array.from(a.chunk[k])).toEqual(Array.from(b.chunk[k]));
        expect(a.rejects.map((r) => [r.line, r.reason])).toEqual(b.rejects.map((r) => [r.line, r.reason]));
      }),
      { numRuns: 500 },
    );
  });
});
