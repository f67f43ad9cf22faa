// The Redis encoding of a published row (src/records/redisPrices.ts), without a server: every
// double comes back the same double (shortest round-trip text), absent values stay absent, the
// record is the one priceRecord/quoteRecord gives, and a hash this module did not write is refused
// naming the key and the field.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decodePublished, encodePublished, checkRedisUrl, parseEvent } from '../src/records/redisPrices.js';
import { quoteRecord } from '../src/pricing/quoteItems.js';
import type { CatalogChunk, PriceColumns } from '../src/pricing/engine.js';
import { REASON_BIT } from '../src/pricing/policy.js';
import { RepricerError } from '../src/core/errors.js';

const dbl = fc.double({ noNaN: true, noDefaultInfinity: true });
const maybe = fc.option(dbl, { nil: NaN });
const FEATURES = ['f1', 'competitor_price', 'f3'];

const row = fc.record({
  x: fc.array(dbl, { minLength: 3, maxLength: 3 }),
  cost: maybe, currentPrice: maybe, minPrice: maybe, maxPrice: maybe, inventory: maybe,
  out: fc.array(maybe, { minLength: 9, maxLength: 9 }),
  status: fc.integer({ min: 0, max: 3 }),
  reasons: fc.integer({ min: 0, max: 0xffff }),
  segment: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }),
});

const z = (v: number) => (Object.is(v, -0) ? 0 : v);

describe('published rows in Redis: encode and decode', () => {
  it('round-trips every double, the absent values, the segment and the record (property)', () => {
    fc.assert(fc.property(row, (r) => {
      const chunk: CatalogChunk = {
        n: 1, ids: ['P-1'], x: Float64Array.from([1, ...r.x]),
        cost: Float64Array.of(r.cost), currentPrice: Float64Array.of(r.currentPrice), minPrice: Float64Array.of(r.minPrice), maxPrice: Float64Array.of(r.maxPrice),
        retail: { inventory: Float64Array.of(r.inventory) },
        ...(r.segment !== undefined ? { segment: { codes: Int32Array.of(0), names: [r.segment] } } : {}),
      };
      const col = (k: number) => Float64Array.of(r.out[k]);
      const p: PriceColumns = {
        n: 1, price: col(0), previousPrice: col(1), changePct: col(2), winProbability: col(3), expectedProfit: col(4), delta: col(5), gamma: col(6), vega: col(7), priceStdError: col(8),
        modelPrice: col(0), status: Uint8Array.of(r.status), reasons: Uint32Array.of(r.reasons),
      };
      const fields = encodePublished(chunk, p, 0, FEATURES, true, { runId: 'run-1', modelSha256: 'a'.repeat(64), publishedAt: '2026-12-06T00:00:00.000Z' });
      const h: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) h[fields[i]] = fields[i + 1];
      const d = decodePublished('P-1', h)!;
      expect(d.record).toEqual(JSON.parse(JSON.stringify(quoteRecord('P-1', p, 0))));
      expect(d.record.cold_start).toBe((r.reasons & REASON_BIT.cold_start) !== 0);
      FEATURES.forEach((f, j) => expect(d.item.features[f]).toBe(z(r.x[j])));
      const opt = (v: number) => (Number.isNaN(v) ? undefined : z(v));
      expect(d.item.cost).toBe(opt(r.cost));
      expect(d.item.current_price).toBe(opt(r.currentPrice));
      expect(d.item.min_price).toBe(opt(r.minPrice));
      expect(d.item.max_price).toBe(opt(r.maxPrice));
      expect(d.item.inventory).toBe(opt(r.inventory));
      expect(d.item.segment).toBe(r.segment);
      expect(d).toMatchObject({ runId: 'run-1', publishedAt: '2026-12-06T00:00:00.000Z', publishedMs: Date.parse('2026-12-06T00:00:00.000Z') });
    }), { numRuns: 300 });
  });

  it('an empty hash is no row; a foreign hash is refused naming the key and field', () => {
    expect(decodePublished('X', {})).toBeUndefined();
    const base = { price: '1', status: 'ok', reason_bits: '0', run_id: 'r', model_sha256: 's', published_at: '2026-01-01T00:00:00Z' };
    expect(decodePublished('X', base)?.record.price).toBe(1);
    const bad = (h: Record<string, string>) => {
      try {
        decodePublished('X', h);
      } catch (e) {
        return `${(e as RepricerError).code}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(bad({ ...base, status: 'great' })).toBe('INPUT_UNREADABLE: redis repricer:sku:X: field status: expected one of ok, clipped, held, cold_start, rejected, got "great"');
    expect(bad({ ...base, price: 'cheap' })).toBe('INPUT_UNREADABLE: redis repricer:sku:X: field price: expected a finite number, got "cheap"');
    expect(bad({ ...base, 'f:f1': '' })).toBe('INPUT_UNREADABLE: redis repricer:sku:X: field f:f1: expected a number, got ""');
    expect(bad({ ...base, 'c:colour': '1' })).toBe('INPUT_UNREADABLE: redis repricer:sku:X: field c:colour: expected a catalogue column, got "c:colour"');
    expect(bad({ ...base, published_at: 'yesterday' })).toBe('INPUT_UNREADABLE: redis repricer:sku:X: field published_at: expected an ISO time, got "yesterday"');
  });

  it('URLs and events', () => {
    expect(checkRedisUrl('--redis', 'redis://127.0.0.1:6379/2')).toBe('redis://127.0.0.1:6379/2');
    expect(() => checkRedisUrl('--redis', 'http://x')).toThrow('--redis must be a redis:// or rediss:// URL, got "http://x"');
    expect(() => checkRedisUrl('--publish', 'redis://h:1/db')).toThrow('--publish: the path must be a database number (redis://HOST:PORT/DB), got "/db"');
    expect(() => checkRedisUrl('--publish', 'nope')).toThrow('--publish must be a redis://HOST:PORT/DB URL, got "nope"');
    expect(parseEvent('{"type":"published","run_id":"r"}')).toMatchObject({ type: 'published', run_id: 'r' });
    expect(parseEvent('{"type":"other"}')).toBeUndefined();
    expect(parseEvent('not json')).toBeUndefined();
  });
});
