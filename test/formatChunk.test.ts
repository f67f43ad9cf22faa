import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { formatCsv, formatCsvBytes } from '../src/records/formatChunk.js';
import { emptyPriceColumns } from '../src/pricing/engine.js';

describe('CSV formatting: the byte writer equals the string formatter', () => {
  const num = fc.oneof(fc.double(), fc.constant(NaN), fc.constant(Infinity), fc.double({ min: -1e3, max: 1e3 }));
  const id = fc.oneof(fc.string(), fc.constantFrom('SKU-1', 'a,b', 'say "hi"', 'ünï', '日本', 'line\nbreak', '𝔘'));
  const row = fc.record({ id, nums: fc.array(num, { minLength: 9, maxLength: 9 }), status: fc.integer({ min: 0, max: 4 }), reasons: fc.integer({ min: 0, max: 511 }) });
  it('same bytes for random rows (non-finite values, quotes, commas, non-Latin ids, buffer growth)', () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 60 }), (rows) => {
        const p = emptyPriceColumns(rows.length);
        const cols = [p.price, p.previousPrice, p.changePct, p.winProbability, p.expectedProfit, p.delta, p.gamma, p.vega, p.priceStdError];
        rows.forEach((r, i) => {
          r.nums.forEach((v, k) => (cols[k][i] = v));
          p.status[i] = r.status;
          p.reasons[i] = r.reasons;
        });
        const ids = rows.map((r) => r.id.repeat(1 + (r.id.length % 7) * 20));
        const want = new TextEncoder().encode(formatCsv(ids, p));
        const got = formatCsvBytes(ids, p);
        return Buffer.from(got).equals(Buffer.from(want));
      }),
      { numRuns: 500 },
    );
  });
});
