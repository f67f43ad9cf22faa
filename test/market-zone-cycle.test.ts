/**
 * The zone cycle and the coordination loop (docs/math.md §2.7) on simulated markets with known
 * demand levels: the loop's estimates are the items' own censored MLEs and recover the truth
 * within their standard errors, its joint log-likelihood never decreases, its prices are the best
 * a brute-force search finds, the item level sees demand the zone aggregate cannot, and, run
 * round after round on fresh data at its own prices, the prices converge to the optimum under the
 * true demand.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fitCensoredDemand } from '../src/market/censoredDemandEm.js';
import { addUnit, emptyTerms, objectiveValue, type ObjectiveWeights, type PricedUnit } from '../src/market/demandObjective.js';
import { salesAndLost } from '../src/market/poissonTail.js';
import { MarketRng } from '../src/market/random.js';
import { chooseZoneMultiplier, coordinateZone, priceResponse, type ZoneHistory } from '../src/market/zoneCycle.js';
import { appendHistory, simulateZoneHistory, type SimItem } from './support/censoredMarketSim.js';

const model = { referencePrice: 100, elasticity: 1.6 };
const weights: ObjectiveWeights = { revenue: 1, utilisation: 0.4, lostSales: 0.3, volatility: 0.5 };
const items: SimItem[] = [
  { id: 'compact', level: 3, capacity: 4 },
  { id: 'sedan', level: 5, capacity: 5 },
  { id: 'suv', level: 2, capacity: 3 },
];

function zoneFrom(seed: number, T: number, price: (rng: MarketRng) => number): ZoneHistory {
  const rng = new MarketRng(seed);
  const exposure = new Float64Array(T).map(() => 0.8 + 0.4 * rng.uniform());
  const hist = simulateZoneHistory(rng, items, () => price(rng), exposure, model);
  return { zone: 'centre', exposure, items: hist, plannedExposure: 1, zonePrice: 100, ...model };
}

/** Each item's periods with a_t = m(p_t) e_t, fitted alone by the scalar EM. */
function itemFit(z: ZoneHistory, i: number) {
  const it = z.items[i];
  const a = new Float64Array(z.exposure.length).map((_, t) => priceResponse(it.price[t], z.referencePrice, z.elasticity) * z.exposure[t]);
  return fitCensoredDemand({ multiplier: a, bookings: it.bookings, available: it.available }, { tol: 1e-13 });
}

/** The objective of the loop, re-typed from §2.7 with the Poisson pieces (no code shared with it). */
function objectiveByHand(us: PricedUnit[], prices: number[], w: ObjectiveWeights, pRef: number): number {
  let rev = 0, sales = 0, lost = 0, vol = 0, C = 0;
  us.forEach((u, i) => {
    const q = prices[i] / u.currentPrice;
    const s = salesAndLost(u.capacity, u.demandAtCurrent * q ** -u.elasticity);
    rev += prices[i] * s.sales;
    sales += s.sales;
    lost += s.lost;
    vol += u.capacity * Math.log(q) ** 2;
    C += u.capacity;
  });
  return (w.revenue * rev) / (pRef * C) + (w.utilisation * sales) / C - (w.lostSales * lost) / C - (w.volatility * vol) / C;
}

/** Brute force: every zone price on a grid, each item's price on a fine grid inside the bounds. */
function bruteForce(us: PricedUnit[], zonePrice0: number, band: number, range: [number, number], w: ObjectiveWeights, pRef: number): { value: number; prices: number[] } {
  let best = { value: -Infinity, prices: [] as number[] };
  for (let g = 0; g <= 300; g++) {
    const zp = zonePrice0 * range[0] * (range[1] / range[0]) ** (g / 300);
    const prices = us.map((u) => {
      let bp = 0, bv = -Infinity;
      for (let j = 0; j <= 400; j++) {
        const p = zp * (1 - band + (2 * band * j) / 400);
        const v = objectiveByHand([u], [p], w, pRef) * u.capacity; // the item's share, up to 1/C
        if (v > bv) {
          bv = v;
          bp = p;
        }
      }
      return bp;
    });
    const value = objectiveByHand(us, prices, w, pRef);
    if (value > best.value) best = { value, prices };
  }
  return best;
}

function unitsAt(z: ZoneHistory, levels: number[]): PricedUnit[] {
  return z.items.map((it, i) => {
    const p0 = it.price[it.price.length - 1];
    return { demandAtCurrent: levels[i] * priceResponse(p0, z.referencePrice, z.elasticity) * z.plannedExposure, currentPrice: p0, capacity: it.plannedCapacity, elasticity: z.elasticity };
  });
}

describe('the coordination loop on a simulated zone', () => {
  const z = zoneFrom(5, 120, (rng) => 80 + 40 * rng.uniform());
  const r = coordinateZone(z, { weights, band: 0.2 });

  it('converges; the joint log-likelihood never decreases; the shares sum to 1', () => {
    expect(r.converged).toBe(true);
    expect(r.cycles).toBeLessThan(200);
    for (let k = 1; k < r.logLikPath.length; k++) expect(r.logLikPath[k] - r.logLikPath[k - 1]).toBeGreaterThanOrEqual(-1e-10 * Math.abs(r.logLikPath[k]));
    expect(r.shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('its fixed point is each item\'s own censored MLE, within 3 SE of the true level', () => {
    z.items.forEach((_, i) => {
      const f = itemFit(z, i);
      expect(Math.abs(r.itemLevel[i] - f.lambda) / f.lambda, z.items[i].id).toBeLessThan(1e-6);
      expect(Math.abs(r.itemStdErr[i] - f.stdErr) / f.stdErr).toBeLessThan(1e-5);
      expect(Math.abs(r.itemLevel[i] - items[i].level), z.items[i].id).toBeLessThan(3 * r.itemStdErr[i]);
    });
    expect(r.zoneLevel).toBeCloseTo(r.itemLevel.reduce((a, b) => a + b, 0), 10);
    expect(r.lostDemand).toBeGreaterThan(0);
  });

  it('its prices lie in the zone bounds and are the best a brute-force search finds', () => {
    const [lo, hi] = r.bounds;
    expect(lo).toBeCloseTo(r.zonePrice * 0.8, 9);
    for (const p of r.itemPrices) {
      expect(p).toBeGreaterThanOrEqual(lo * (1 - 1e-12));
      expect(p).toBeLessThanOrEqual(hi * (1 + 1e-12));
    }
    const us = unitsAt(z, r.itemLevel);
    const mine = objectiveByHand(us, r.itemPrices, weights, 100);
    expect(mine).toBeCloseTo(r.objectivePath.at(-1)!, 12);
    const brute = bruteForce(us, 100, 0.2, [0.5, 2], weights, 100);
    expect(mine).toBeGreaterThanOrEqual(brute.value - 1e-9);
    expect(mine - brute.value).toBeLessThan(1e-4); // the grid is only a grid
    r.itemPrices.forEach((p, i) => expect(Math.abs(p - brute.prices[i]) / p).toBeLessThan(0.01));
  });

  it('the item level sees demand the zone aggregate cannot: items sold out while the zone was not', () => {
    // one price for the zone per period, so the zone aggregate is the full-substitution model
    const zz = zoneFrom(17, 400, (rng) => 90 + 20 * rng.uniform());
    for (let t = 0; t < 400; t++) for (const it of zz.items) it.price[t] = zz.items[0].price[t];
    const T = zz.exposure.length;
    const a = new Float64Array(T), b = new Float64Array(T), c = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      a[t] = priceResponse(zz.items[0].price[t], 100, model.elasticity) * zz.exposure[t];
      for (const it of zz.items) {
        b[t] += it.bookings[t];
        c[t] += it.available[t];
      }
    }
    const agg = fitCensoredDemand({ multiplier: a, bookings: b, available: c });
    const rr = coordinateZone(zz, { weights, band: 0.2 });
    const truth = items.reduce((s, it) => s + it.level, 0);
    expect(rr.zoneStdErr).toBeCloseTo(Math.sqrt(rr.itemStdErr.reduce((s, e) => s + e * e, 0)), 14);
    expect(Math.abs(rr.zoneLevel - truth)).toBeLessThan(3 * rr.zoneStdErr);
    expect((truth - agg.lambda) / agg.stdErr).toBeGreaterThan(5);
  });
});

describe('the coordination loop on random zones (property)', () => {
  it('the joint log-likelihood never decreases and every price stays in its bounds', () => {
    const item = fc.record({
      capacity: fc.integer({ min: 1, max: 5 }),
      rows: fc.array(fc.tuple(fc.double({ min: 50, max: 150, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 12, maxLength: 12 }),
    });
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 3 }), fc.double({ min: 0, max: 3, noNaN: true }), (its, eps) => {
        const T = 12;
        const z: ZoneHistory = {
          zone: 'r',
          exposure: new Float64Array(T).fill(1),
          items: its.map((it, i) => ({
            id: `i${i}`,
            price: Float64Array.from(it.rows, (r) => r[0]),
            available: new Float64Array(T).fill(it.capacity),
            // bookings 0..capacity; period 0 always has a unit left (the item needs an open
            // period) and period 1 a booking (a zone without one has nothing to price from)
            bookings: Float64Array.from(it.rows, (r, t) => (t === 1 ? Math.max(1, Math.min(it.capacity, Math.floor(r[1] * (it.capacity + 1)))) : Math.min(t === 0 ? it.capacity - 1 : it.capacity, Math.floor(r[1] * (it.capacity + 1))))),
            plannedCapacity: it.capacity,
          })),
          plannedExposure: 1,
          zonePrice: 100,
          referencePrice: 100,
          elasticity: eps,
        };
        const r = coordinateZone(z, { weights, band: 0.2, maxCycles: 40 });
        for (let k = 1; k < r.logLikPath.length; k++) expect(r.logLikPath[k] - r.logLikPath[k - 1]).toBeGreaterThanOrEqual(-1e-9 * (1 + Math.abs(r.logLikPath[k])));
        for (const p of r.itemPrices) {
          expect(p).toBeGreaterThanOrEqual(r.bounds[0] * (1 - 1e-12));
          expect(p).toBeLessThanOrEqual(r.bounds[1] * (1 + 1e-12));
        }
      }),
      { numRuns: 40, seed: 3 },
    );
  });
});

describe('closed loop: each round prices, the market answers at those prices, the next round learns', () => {
  it('the prices converge to the optimum under the true demand levels', () => {
    const band = 0.2;
    const rng = new MarketRng(23);
    let z = zoneFrom(29, 40, (g) => 70 + 60 * g.uniform());
    // the oracle: at a fixed point the price in force equals the new price, so the volatility
    // term is flat there; the target is the optimum of the other three terms under the truth
    const noVol = { ...weights, volatility: 0 };
    const truthUnits = (prices: number[]): PricedUnit[] => items.map((it, i) => ({ demandAtCurrent: it.level * priceResponse(prices[i], 100, model.elasticity), currentPrice: prices[i], capacity: it.capacity, elasticity: model.elasticity }));
    const oracle = bruteForce(truthUnits([100, 100, 100]), 100, band, [0.5, 2], noVol, 100);
    const gap = (ps: number[]): number => Math.max(...ps.map((p, i) => Math.abs(p - oracle.prices[i]) / oracle.prices[i]));
    const gaps: number[] = [];
    for (let round = 0; round < 25; round++) {
      const res = coordinateZone(z, { weights, band });
      expect(res.converged).toBe(true);
      gaps.push(gap(res.itemPrices));
      const T = 40;
      const e = new Float64Array(T).map(() => 0.8 + 0.4 * rng.uniform());
      const more = simulateZoneHistory(rng, items, (i) => res.itemPrices[i], e, model);
      z = { ...appendHistory(z, more, e), zonePrice: res.zonePrice };
    }
    expect(gaps.at(-1)!).toBeLessThan(0.03);
    expect(gaps.at(-1)!).toBeLessThan(gaps[0] / 2);
    // at the end the estimates are close and the loop's objective at the truth is near the oracle's
    const last = coordinateZone(z, { weights, band });
    const atTruth = objectiveByHand(truthUnits(last.itemPrices), last.itemPrices, noVol, 100);
    expect(oracle.value - atTruth).toBeLessThan(2e-3 * Math.abs(oracle.value));
  });
});

describe('the coordination loop refuses what it cannot estimate', () => {
  it('a zone without any booking, and an item sold out in every period, are errors naming them', () => {
    const base = (b: number[], c: number[]): ZoneHistory => ({
      zone: 'quiet',
      exposure: new Float64Array(b.length).fill(1),
      items: [{ id: 'van', price: new Float64Array(b.length).fill(100), bookings: Float64Array.from(b), available: Float64Array.from(c), plannedCapacity: 2 }],
      plannedExposure: 1,
      zonePrice: 100,
      referencePrice: 100,
      elasticity: 1,
    });
    expect(() => coordinateZone(base([0, 0, 0], [2, 2, 2]), { weights })).toThrow('zone quiet: no booking in any period');
    expect(() => coordinateZone(base([2, 1, 2], [2, 1, 2]), { weights })).toThrow('zone quiet, item van: sold out in every period');
  });
});

describe('the zone-level M-step on aggregate data', () => {
  it('rejects weights that are all 0 or negative, naming the weight', () => {
    const next = { price: 100, exposure: 1, capacity: 5 };
    expect(() => chooseZoneMultiplier(4, next, model, { revenue: 0, utilisation: 0, lostSales: 0, volatility: 0 })).toThrow('at least one of revenue, utilisation, lostSales, volatility must be > 0');
    expect(() => chooseZoneMultiplier(4, next, model, { ...weights, lostSales: -1 })).toThrow('weights.lostSales must be a finite number >= 0, got -1');
  });

  it('chooses the multiplier a dense search of the hand-written objective chooses', () => {
    for (const [lambda, capacity, w] of [
      [8, 10, weights],
      [20, 10, { revenue: 1, utilisation: 0, lostSales: 1, volatility: 0.2 }],
      [3, 12, { revenue: 0.2, utilisation: 1, lostSales: 0, volatility: 1 }],
    ] as const) {
      const next = { price: 110, exposure: 1, capacity };
      const got = chooseZoneMultiplier(lambda, next, model, w, [0.5, 2]);
      const u: PricedUnit = { demandAtCurrent: lambda * priceResponse(110, 100, model.elasticity), currentPrice: 110, capacity, elasticity: model.elasticity };
      let bk = 0, bv = -Infinity;
      for (let j = 0; j <= 20000; j++) {
        const k = 0.5 * 4 ** (j / 20000);
        const v = objectiveByHand([u], [110 * k], w, 100);
        if (v > bv) {
          bv = v;
          bk = k;
        }
      }
      expect(Math.abs(got.multiplier - bk) / bk).toBeLessThan(2e-4);
      expect(got.objective).toBeGreaterThanOrEqual(bv - 1e-12);
      expect(got.objective).toBeCloseTo(objectiveValue(addUnit(emptyTerms(), u, 110 * got.multiplier), w, 100), 14);
    }
  });
});
