/**
 * Zone bounds and item prices (docs/math.md §2.6): the optimum against an independent scipy search
 * (test/fixtures/market_item_price.py), a brute-force grid and the closed-form revenue optimum, the bounds always respected (property), and the comparative
 * statics of every weight (property: raising a weight never lowers the term it weights).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { itemObjective, optimiseItemPrice, type ItemPrice, type ItemPriceProblem } from '../src/market/itemPrice.js';
import { pairKey, zoneBounds, zoneBoundsTable } from '../src/market/zoneBounds.js';
import { validateMarketFile } from '../src/market/marketFile.js';
import type { MarketWeights } from '../src/market/marketPolicy.js';

const W = (w: Partial<MarketWeights>): MarketWeights => ({ revenue: 0, utilisation: 0, lostSales: 0, volatility: 0, ...w });

function problem(a: number, b: number, p0: number, band: number, weights: MarketWeights, previousPrice?: number, pRefRatio = 1): ItemPriceProblem {
  const { lower, upper } = zoneBounds(p0, band);
  return { curve: { a, b, pRef: p0 * pRefRatio }, zonePrice: p0, lower, upper, weights, ...(previousPrice !== undefined ? { previousPrice } : {}) };
}

/** The best of a uniform grid of m + 1 prices over the bounds. */
function bruteForce(pr: ItemPriceProblem, m = 200000): { price: number; value: number } {
  let best = { price: pr.lower, value: -Infinity };
  for (let j = 0; j <= m; j++) {
    const p = pr.lower + ((pr.upper - pr.lower) * j) / m;
    const v = itemObjective(pr, p).value;
    if (v > best.value) best = { price: p, value: v };
  }
  return best;
}

const weightsArb = fc.record({
  revenue: fc.double({ min: 0, max: 5, noNaN: true }),
  utilisation: fc.double({ min: 0, max: 5, noNaN: true }),
  lostSales: fc.double({ min: 0, max: 5, noNaN: true }),
  volatility: fc.double({ min: 0, max: 50, noNaN: true }),
});
const problemArb = fc.record({
  a: fc.double({ min: -4, max: 3, noNaN: true }),
  b: fc.double({ min: -8, max: 1, noNaN: true }),
  p0: fc.double({ min: 0.5, max: 5000, noNaN: true }),
  band: fc.double({ min: 0.01, max: 0.95, noNaN: true }),
  prevRatio: fc.option(fc.double({ min: 0.3, max: 2, noNaN: true }), { nil: undefined }),
  pRefRatio: fc.double({ min: 0.5, max: 2, noNaN: true }),
  weights: weightsArb,
});
type ProblemParams = { a: number; b: number; p0: number; band: number; prevRatio: number | undefined; pRefRatio: number; weights: MarketWeights };
const build = (x: ProblemParams, weights = x.weights) =>
  problem(x.a, x.b, x.p0, x.band, weights, x.prevRatio === undefined ? undefined : x.prevRatio * x.p0, x.pRefRatio);

describe('zone bounds', () => {
  it('are the zone-level price times [1 - band, 1 + band]; a free or unknown product has none', () => {
    expect(zoneBounds(100, 0.2)).toEqual({ lower: 80, upper: 120 });
    expect(() => zoneBounds(0, 0.2)).toThrow(/zone-level price must be a finite number > 0/);
    expect(() => zoneBounds(10, 1)).toThrow(/zone band must be in \(0, 1\)/);
    const m = validateMarketFile({
      mu: 1,
      nests: [{ id: 'north', mu: 1 }],
      products: [{ id: 'n-suv', nest: 'north', asset: 'suv' }, { id: 'n-hatch', nest: 'north', asset: 'hatch' }, { id: 'n-van', nest: 'north', asset: 'van' }],
      consumers: [{ values: [2, 1, 1] }],
      suppliers: [{ beta: 1, costs: [0.5, 0.5, 0.5], capacity: [5, 5, 5] }],
    });
    const t = zoneBoundsTable(m, [50, 0, NaN], 0.1);
    expect([...t.keys()]).toEqual([pairKey('north', 'suv')]);
    const suv = t.get(pairKey('north', 'suv'))!;
    expect(suv).toMatchObject({ zone: 'north', asset: 'suv', zonePrice: 50 });
    expect(suv.lower).toBeCloseTo(45, 12);
    expect(suv.upper).toBeCloseTo(55, 12);
  });
});

describe('item price', () => {
  it('matches the closed-form revenue optimum q* = 1 + 1/b when it lies inside the bounds', () => {
    // d/dp [p q(p)] = q (1 + b (1 - q)) = 0  =>  q* = 1 + 1/b,  p* = pRef exp((logit q* - a) / b)
    for (const [a, b] of [[-1, -3], [0.5, -2], [-2, -1.5]]) {
      const qs = 1 + 1 / b;
      const pStar = 100 * Math.exp((Math.log(qs / (1 - qs)) - a) / b);
      const pr: ItemPriceProblem = { curve: { a, b, pRef: 100 }, zonePrice: pStar, lower: pStar * 0.5, upper: pStar * 1.5, weights: W({ revenue: 1 }) };
      const r = optimiseItemPrice(pr);
      expect(Math.abs(r.price - pStar) / pStar).toBeLessThan(1e-7);
      expect(r.bookingProbability).toBeCloseTo(qs, 7);
    }
  });

  it('agrees with an independent grid + bounded Brent search in scipy (test/fixtures/market_item_price.py)', () => {
    const cases = JSON.parse(readFileSync('test/fixtures/market_item_price.json', 'utf8')) as (ItemPriceProblem & { previousPrice: number | null } & ItemPrice)[];
    expect(cases).toHaveLength(6);
    for (const c of cases) {
      const pr: ItemPriceProblem = { curve: { a: c.a, b: c.b, pRef: c.pRef }, zonePrice: c.zonePrice, lower: c.lower, upper: c.upper, weights: c.weights, ...(c.previousPrice !== null ? { previousPrice: c.previousPrice } : {}) };
      const r = optimiseItemPrice(pr);
      expect(Math.abs(r.price - c.price) / c.price, JSON.stringify(c)).toBeLessThan(1e-6);
      expect(Math.abs(r.objective - c.objective)).toBeLessThan(1e-11);
      expect(Math.abs(r.bookingProbability - c.bookingProbability)).toBeLessThan(1e-6);
    }
  });

  it('is at least as good as a fine brute-force grid and lands next to its best point', () => {
    fc.assert(
      fc.property(problemArb, (x) => {
        const pr = build(x);
        const r = optimiseItemPrice(pr);
        const g = bruteForce(pr, 20000);
        expect(r.objective).toBeGreaterThanOrEqual(g.value - 1e-12 * (1 + Math.abs(g.value)));
      }),
      { numRuns: 60 },
    );
    // a non-concave case: a volatility pull toward a previous price far from the revenue optimum
    const pr = problem(-1, -3, 100, 0.9, W({ revenue: 1, volatility: 0.05 }), 175);
    const r = optimiseItemPrice(pr);
    const g = bruteForce(pr);
    expect(r.objective).toBeGreaterThanOrEqual(g.value - 1e-13);
    expect(Math.abs(r.price - g.price)).toBeLessThan((pr.upper - pr.lower) / 100000);
  });

  it('always respects the zone bounds (property)', () => {
    fc.assert(
      fc.property(problemArb, (x) => {
        const pr = build(x);
        const r = optimiseItemPrice(pr);
        expect(r.price).toBeGreaterThanOrEqual(pr.lower);
        expect(r.price).toBeLessThanOrEqual(pr.upper);
        expect(r.bookingProbability).toBeGreaterThanOrEqual(0);
        expect(r.bookingProbability).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('comparative statics: raising a weight never lowers the term it weights at the optimum (property)', () => {
    const terms = {
      revenue: (pr: ItemPriceProblem, p: number) => (p / pr.zonePrice) * itemObjective(pr, p).q,
      utilisation: (pr: ItemPriceProblem, p: number) => itemObjective(pr, p).q,
      lostSales: (pr: ItemPriceProblem, p: number) => -(p / pr.zonePrice) * (1 - itemObjective(pr, p).q),
      volatility: (pr: ItemPriceProblem, p: number) => (pr.previousPrice === undefined ? 0 : -(((p - pr.previousPrice) / pr.previousPrice) ** 2)),
    };
    fc.assert(
      fc.property(problemArb, fc.constantFrom('revenue', 'utilisation', 'lostSales', 'volatility' as const), fc.double({ min: 0.01, max: 10, noNaN: true }), (x, key, bump) => {
        const base = { ...x.weights, revenue: x.weights.revenue + 0.1 };
        const lo = build(x, base);
        const hi = build(x, { ...base, [key]: base[key] + bump });
        const pLo = optimiseItemPrice(lo).price;
        const pHi = optimiseItemPrice(hi).price;
        // g(p*(w')) >= g(p*(w)) for exact maximisers; the search is exact to ~1e-10 of the bounds
        expect(terms[key](hi, pHi)).toBeGreaterThanOrEqual(terms[key](lo, pLo) - 1e-7);
      }),
      { numRuns: 200 },
    );
  });

  it('weights move the price the way they should on a price-sensitive curve', () => {
    const base = problem(-1, -3, 100, 0.5, W({ revenue: 1 }));
    const p = (w: Partial<MarketWeights>, prev?: number) => optimiseItemPrice({ ...base, weights: W({ revenue: 1, ...w }), ...(prev !== undefined ? { previousPrice: prev } : {}) }).price;
    const rev = p({});
    expect(p({ utilisation: 1 })).toBeLessThan(rev); // more bookings: cheaper
    expect(p({ lostSales: 1 })).toBeLessThan(rev); // fewer walk-aways: cheaper
    expect(Math.abs(p({ volatility: 10 }, 140) - 140)).toBeLessThan(Math.abs(rev - 140)); // closer to the previous price
    expect(p({ volatility: 10 })).toBe(rev); // no previous price: no volatility term
    // utilisation alone: the cheapest price; a curve that rises with price: the dearest
    expect(optimiseItemPrice({ ...base, weights: W({ utilisation: 1 }) }).price).toBe(base.lower);
    expect(optimiseItemPrice({ ...base, curve: { a: -1, b: 0.5, pRef: 100 }, weights: W({ revenue: 1 }) }).price).toBe(base.upper);
  });

  it('rejects impossible problems naming the field', () => {
    const base = problem(-1, -3, 100, 0.5, W({ revenue: 1 }));
    expect(() => optimiseItemPrice({ ...base, lower: 0 })).toThrow(/bounds must satisfy/);
    expect(() => optimiseItemPrice({ ...base, previousPrice: -1 })).toThrow(/previous price/);
    expect(() => optimiseItemPrice({ ...base, weights: W({ revenue: -1 }) })).toThrow(/weights\.revenue/);
    expect(() => optimiseItemPrice({ ...base, curve: { a: NaN, b: 1, pRef: 1 } })).toThrow(/booking curve/);
  });
});
