/** The market file: a valid file round-trips to the typed market; each kind of mistake is named by its field. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMarketFile, toMarketFile, validateMarketFile, type MarketFile } from '../src/market/marketFile.js';
import { randomMarket } from '../src/market/randomMarket.js';
import { RepricerError } from '../src/core/errors.js';

const good = (): MarketFile => ({
  mu: 1,
  nests: [{ id: 'tea', mu: 0.5 }, { id: 'coffee', mu: 1 }],
  products: [{ id: 'green', nest: 'tea' }, { id: 'espresso', nest: 'coffee' }, { id: 'black', nest: 'tea' }],
  consumers: [{ weight: 2, values: [2, 3, 1] }, { values: [1, 1, 1] }],
  suppliers: [{ beta: 1, costs: [0.5, 0.7, 0.4], capacity: [10, 5, 8] }],
  outside_option: true,
});

function error(f: unknown): RepricerError {
  try {
    validateMarketFile(f, 'm.json');
  } catch (err) {
    return err as RepricerError;
  }
  throw new Error('no error');
}

describe('market file', () => {
  it('lays a valid file out as typed arrays in the order of products (weight defaults to 1)', () => {
    const { market, productIds } = validateMarketFile(good());
    expect(productIds).toEqual(['green', 'espresso', 'black']);
    expect(Array.from(market.nest)).toEqual([0, 1, 0]);
    expect(Array.from(market.muNest)).toEqual([0.5, 1]);
    expect(Array.from(market.weight)).toEqual([2, 1]);
    expect(Array.from(market.values)).toEqual([2, 3, 1, 1, 1, 1]);
    expect(Array.from(market.capacity)).toEqual([10, 5, 8]);
    expect(market.outsideOption).toBe(true);
  });

  it('round-trips a random market through toMarketFile and a file on disk', () => {
    const mk = randomMarket(3, { products: 5, nests: 2, consumers: 4, suppliers: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'market-'));
    const file = join(dir, 'm.json');
    writeFileSync(file, JSON.stringify(toMarketFile(mk)));
    const back = loadMarketFile(file).market;
    expect(back).toEqual(mk);
  });

  it('names the field of each mistake', () => {
    const cases: [(f: MarketFile) => unknown, RegExp][] = [
      [(f) => ({ ...f, mu: 0 }), /mu: must be > 0/],
      [(f) => ({ ...f, nests: [{ id: 'tea', mu: 2 }, f.nests[1]] }), /nests\.0\.mu: must be <= mu \(1\), got 2/],
      [(f) => ({ ...f, products: [...f.products.slice(0, 2), { id: 'black', nest: 'juice' }] }), /products\.2\.nest: no nest with id "juice"/],
      [(f) => ({ ...f, products: [...f.products.slice(0, 2), { id: 'green', nest: 'tea' }] }), /products\.2\.id: duplicate product id "green"/],
      [(f) => ({ ...f, consumers: [{ values: [1, 2] }] }), /consumers\.0\.values: must hold 3 values/],
      [(f) => ({ ...f, suppliers: [{ ...f.suppliers[0], capacity: [1, -1, 1] }] }), /suppliers\.0\.capacity\.1: must be >= 0/],
      [(f) => ({ ...f, suppliers: [{ ...f.suppliers[0], costs: [1, 1] }] }), /suppliers\.0\.costs: must hold 3 values/],
      [(f) => ({ ...f, products: f.products.filter((p) => p.nest === 'tea'), consumers: [{ values: [1, 1] }], suppliers: [{ beta: 1, costs: [1, 1], capacity: [1, 1] }] }), /nests\.1: nest "coffee" holds no product/],
      [(f) => ({ ...f, surplus: 1 }), /surplus: is not a market field/],
      [(f) => ({ ...f, suppliers: [{ ...f.suppliers[0], capacity: [10, 0, 8] }] }), /products\.1: "espresso" has capacity 0 at every supplier: no finite price clears it/],
      [(f) => ({ ...f, outside_option: false, suppliers: [{ ...f.suppliers[0], capacity: [1, 1, 0.5] }] }), /suppliers\.\*\.capacity: total capacity 2\.5 does not exceed the consumers' total weight 3/],
      [(f) => ({ ...f, outside_option: 'yes' }), /outside_option: must be boolean/],
      [(f) => { const { suppliers: _s, ...rest } = f; return rest; }, /suppliers: is required/],
    ];
    for (const [edit, re] of cases) {
      const e = error(edit(good()));
      expect(e).toBeInstanceOf(RepricerError);
      expect(e.code).toBe('INPUT_UNREADABLE');
      expect(e.message).toMatch(/^m\.json: invalid market: /);
      expect(e.message).toMatch(re);
    }
  });

  it('a missing file is NOT_FOUND and bad JSON is INPUT_UNREADABLE', () => {
    expect(() => loadMarketFile('/nonexistent/market.json')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    const dir = mkdtempSync(join(tmpdir(), 'market-'));
    writeFileSync(join(dir, 'bad.json'), '{"mu": ');
    expect(() => loadMarketFile(join(dir, 'bad.json'))).toThrow(expect.objectContaining({ code: 'INPUT_UNREADABLE' }));
  });
});

describe('market file: assets (docs/math.md §2.6)', () => {
  it('gives each product its zone (nest) and asset (default: the product id)', () => {
    const f = good();
    f.products[0].asset = 'suv';
    const m = validateMarketFile(f);
    expect(m.zones).toEqual(['tea', 'coffee', 'tea']);
    expect(m.assets).toEqual(['suv', 'espresso', 'black']);
  });

  it('rejects an asset with a slash, the asset *, a repeated (zone, asset) pair and the zone *', () => {
    const f = good();
    f.products[0].asset = 'a/b';
    expect(error(f).message).toMatch(/products\.0\.asset: expected an asset id without "\/", got "a\/b"/);
    f.products[0].asset = '*';
    expect(error(f).message).toMatch(/products\.0\.asset: expected an asset id other than "\*"/);
    f.products[0].asset = '';
    expect(error(f).message).toMatch(/products\.0\.asset: expected a non-empty asset id/);
    f.products[0].asset = 'black';
    expect(error(f).message).toMatch(/products\.2\.asset: zone "tea" already has asset "black" \(products\.0\)/);
    const g = good();
    g.nests[0].id = '*';
    g.products.forEach((p) => (p.nest = p.nest === 'tea' ? '*' : p.nest));
    expect(error(g).message).toMatch(/nests\.0\.id: "\*" is not a zone id/);
    const h = good();
    (h.products[1] as unknown as Record<string, unknown>).asset = 7;
    expect(error(h).message).toMatch(/products\.1\.asset: must be string/);
  });
});
