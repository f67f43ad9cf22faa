/**
 * Online clearing (docs/math.md §2.9): fed the events a market's own model produces at the
 * current prices (consumers drawn by weight, each a booking drawn from its choice probabilities
 * or a search that bought nothing, suppliers offering their supply), the averaged zone-level
 * prices reach the clearing prices (computed independently by test/fixtures/market_online.py,
 * and equal to projected gradient's to 1e-6); the per-draw estimate is
 * unbiased (its mean over many draws is the gradient ∇ER within 4 standard errors); the iterate
 * and its average never leave the box; the lazily kept average is the plain average of the
 * iterates.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WasmCore } from '../src/core/wasm.js';
import { MarketPotential, type Market } from '../src/market/potential.js';
import { readFileSync } from 'node:fs';
import { validateMarketFile } from '../src/market/marketFile.js';
import { solveMarket } from '../src/market/solvers.js';
import { MarketRng } from '../src/market/random.js';
import { OnlineClearing, type OnlineClearingOptions } from '../src/market/onlineClearing.js';
import { StreamSampler, type MarketDraw } from '../src/market/streamSample.js';
import { RepricerError } from '../src/core/errors.js';

const core = WasmCore.create({ variant: 'simd' });
/**
 * Two small markets (written once from randomMarket seeds 31 and 32) and their clearing prices
 * computed independently by test/fixtures/market_online.py (scipy L-BFGS-B on the potential).
 */
const fixture = JSON.parse(readFileSync('test/fixtures/market_online.json', 'utf8')) as { plain: unknown; outside: unknown };
const expected = JSON.parse(readFileSync('test/fixtures/market_online_clearing.json', 'utf8')) as Record<'plain' | 'outside', { prices: number[] }> & { tolerance: number };
const plain = validateMarketFile(fixture.plain).market;
const outside = validateMarketFile(fixture.outside).market;
const reference = new Map<Market, number[]>([
  [plain, expected.plain.prices],
  [outside, expected.outside.prices],
]);
const pots: MarketPotential[] = [];
const potOf = (mk: Market) => {
  const p = new MarketPotential(mk, core);
  pots.push(p);
  return p;
};
afterAll(() => {
  for (const p of pots.reverse()) p.dispose();
});

function feed(oc: OnlineClearing, d: MarketDraw): void {
  if (d.kind === 'consumer') {
    if (d.purchase >= 0) oc.booking(d.purchase);
    else oc.search();
  } else oc.listing(d.offer);
}

/** Run `events` draws of the model at the current iterate; the largest |p̄ − p*| with p* the independent clearing prices. */
function run(mk: Market, pot: MarketPotential, o: OnlineClearingOptions, events: number, lambda: number, seed: number): { err: number; oc: OnlineClearing; star: Float64Array } {
  const star = Float64Array.from(reference.get(mk)!);
  const oc = new OnlineClearing(mk, pot, o);
  const sampler = new StreamSampler(mk, pot, lambda);
  const rng = new MarketRng(seed);
  for (let t = 0; t < events; t++) feed(oc, sampler.draw(oc.iterate(), rng));
  const avg = oc.averaged();
  let err = 0;
  for (let i = 0; i < avg.length; i++) err = Math.max(err, Math.abs(avg[i] - star[i]));
  return { err, oc, star };
}

describe('online clearing converges to the clearing prices', () => {
  const pot = potOf(plain);
  const potOut = potOf(outside);
  it('the deterministic clearing prices (projected gradient to r <= 1e-12) are the independent ones', () => {
    for (const [mk, p] of [[plain, pot], [outside, potOut]] as const) {
      const det = solveMarket(p, { method: 'gradient', tol: 1e-12 }).prices;
      const ref = reference.get(mk)!;
      for (let i = 0; i < ref.length; i++) expect(Math.abs(det[i] - ref[i])).toBeLessThan(expected.tolerance);
    }
  });

  it('adagrad, known listing share: the average is within 0.01 of p* after 200 000 draws (and closer than after 10 000)', () => {
    const early = run(plain, pot, { listingShare: 0.3 }, 10_000, 0.3, 5);
    const late = run(plain, pot, { listingShare: 0.3 }, 200_000, 0.3, 5);
    expect(Math.min(...late.star)).toBeGreaterThan(1); // every product clears at a positive price
    expect(late.err).toBeLessThan(0.01);
    expect(late.err).toBeLessThan(early.err);
    const c = late.oc.stats();
    expect(c.steps).toBe(200_000);
    expect(c.steps).toBe(c.searches + c.bookings + c.listings);
    expect(c.listings / 200_000).toBeCloseTo(0.3, 2);
    // without an outside option every consumer buys
    expect(c.searches).toBe(0);
  });

  it('adagrad, observed listing share (a stream with 10% supplier draws)', () => {
    const r = run(plain, pot, {}, 200_000, 0.1, 6);
    expect(r.err).toBeLessThan(0.02);
    expect(r.oc.currentListingShare()).toBeCloseTo(0.1, 2);
  });

  it('sgd with the η-weighted average', () => {
    const r = run(plain, pot, { method: 'sgd', listingShare: 0.3 }, 200_000, 0.3, 7);
    expect(r.err).toBeLessThan(0.05);
  });

  it('a market with an outside option: searches without a booking', () => {
    const r = run(outside, potOut, { listingShare: 0.25 }, 200_000, 0.25, 8);
    expect(r.err).toBeLessThan(0.02);
    expect(r.oc.stats().searches).toBeGreaterThan(1000);
  });
});

describe('the per-draw estimate', () => {
  const pot = potOf(plain);
  it('is unbiased: the mean of 40 000 draws is ∇ER(p) within 4 standard errors, per product', () => {
    const n = 4;
    const lambda = 0.3;
    const star = Float64Array.from(expected.plain.prices);
    const p = Float64Array.from(star, (v, i) => v * (0.8 + 0.1 * i)); // away from clearing
    const oc = new OnlineClearing(plain, pot, { listingShare: lambda });
    const scales = oc.estimateScales();
    expect(scales.booking).toBeCloseTo(6 / 0.7, 12); // W = 6 consumers of weight 1
    expect(scales.listing).toBeCloseTo(3 / 0.3, 12); // K = 3 suppliers
    const sampler = new StreamSampler(plain, pot, lambda);
    const rng = new MarketRng(9);
    const N = 40_000;
    const s1 = new Float64Array(n);
    const s2 = new Float64Array(n);
    const g = new Float64Array(n);
    for (let t = 0; t < N; t++) {
      g.fill(0);
      const d = sampler.draw(p, rng);
      if (d.kind === 'consumer') {
        if (d.purchase >= 0) g[d.purchase] = -scales.booking;
      } else for (const o of d.offer) g[o.product] = scales.listing * o.quantity;
      for (let i = 0; i < n; i++) {
        s1[i] += g[i];
        s2[i] += g[i] * g[i];
      }
    }
    const grad = pot.evaluate(p).grad;
    for (let i = 0; i < n; i++) {
      const mean = s1[i] / N;
      const se = Math.sqrt((s2[i] / N - mean * mean) / N);
      expect(se).toBeGreaterThan(0);
      expect(Math.abs(mean - grad[i]), `product ${i}: mean ${mean}, gradient ${grad[i]}, se ${se}`).toBeLessThan(4 * se);
    }
  });

  it('is the step the clearing takes: sgd moves a booked product up by η_1·W/(1−λ), an offered one down by η_2·K/λ·q', () => {
    const oc = new OnlineClearing(plain, pot, { method: 'sgd', eta: 0.01, listingShare: 0.3, start: [1, 1, 1, 1] });
    oc.search();
    expect(Array.from(oc.iterate())).toEqual([1, 1, 1, 1]);
    oc.booking(2);
    expect(oc.iterate()[2]).toBeCloseTo(1 + (0.01 / Math.sqrt(2)) * (6 / 0.7), 12);
    oc.listing([{ product: 0, quantity: 0.5 }]);
    expect(oc.iterate()[0]).toBeCloseTo(1 - (0.01 / Math.sqrt(3)) * (3 / 0.3) * 0.5, 12);
    expect(oc.iterate()[1]).toBe(1);
  });

  it('refuses what is not an event of the market, naming it', () => {
    const oc = new OnlineClearing(plain, pot);
    const code = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return [(e as RepricerError).code, (e as Error).message];
      }
      return null;
    };
    expect(code(() => oc.booking(4))).toEqual(['INVALID_ARGUMENT', expect.stringContaining('booking product must be an index in [0, 4), got 4')]);
    expect(code(() => oc.listing([{ product: 1, quantity: -1 }]))).toEqual(['INVALID_ARGUMENT', expect.stringContaining('quantity of product 1 must be finite and >= 0')]);
    expect(code(() => oc.listing([{ product: 1, quantity: 1 }, { product: 1, quantity: 2 }]))).toEqual(['INVALID_ARGUMENT', expect.stringContaining('names product 1 twice')]);
    expect(code(() => new OnlineClearing(plain, pot, { listingShare: 1 }))).toEqual(['INVALID_ARGUMENT', expect.stringContaining('listingShare must be a number in (0, 1)')]);
    expect(code(() => new OnlineClearing(plain, pot, { box: { min: 2, max: 1 } }))).toEqual(['INVALID_ARGUMENT', expect.stringContaining('box must satisfy')]);
    // a refused event changes nothing
    expect(oc.stats().steps).toBe(0);
  });
});

/** Random event sequences: [kind 0 search / 1 booking / 2 listing, product, quantity]. */
const events = fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 3 }), fc.double({ min: 0, max: 1e6, noNaN: true })), { maxLength: 200 });

function apply(oc: OnlineClearing, e: [number, number, number]): void {
  if (e[0] === 0) oc.search();
  else if (e[0] === 1) oc.booking(e[1]);
  else oc.listing([{ product: e[1], quantity: e[2] }]);
}

describe('invariants (property tests)', () => {
  const pot = potOf(plain);
  it('the iterate and the average stay in the box, whatever the events', () => {
    fc.assert(
      fc.property(events, fc.constantFrom<'adagrad' | 'sgd'>('adagrad', 'sgd'), fc.double({ min: 0, max: 5, noNaN: true }), (evs, method, lo) => {
        const box = { min: lo, max: lo + 3 };
        const oc = new OnlineClearing(plain, pot, { method, box, start: [0, 100, lo + 1, -5] });
        const inBox = (a: Float64Array) => a.every((v) => v >= box.min && v <= box.max);
        if (!inBox(oc.iterate())) return false;
        for (const e of evs) {
          apply(oc, e);
          if (!inBox(oc.iterate()) || !inBox(oc.averaged())) return false;
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });

  it('the lazily kept average is the (η-)weighted average of the iterates p_0 .. p_{T-1}', () => {
    fc.assert(
      fc.property(events, fc.constantFrom<'adagrad' | 'sgd'>('adagrad', 'sgd'), (evs, method) => {
        const eta = 0.05;
        const oc = new OnlineClearing(plain, pot, { method, eta, start: [1, 2, 3, 4] });
        const sum = new Float64Array(4);
        let w = 0;
        evs.forEach((e, t) => {
          const wt = method === 'adagrad' ? 1 : eta / Math.sqrt(t + 1);
          const p = oc.iterate();
          for (let i = 0; i < 4; i++) sum[i] += wt * p[i];
          w += wt;
          apply(oc, e);
        });
        const avg = oc.averaged();
        const want = w === 0 ? [1, 2, 3, 4] : Array.from(sum, (s) => s / w);
        return want.every((v, i) => Math.abs(v - avg[i]) <= 1e-9 * Math.max(1, Math.abs(v)));
      }),
      { numRuns: 200 },
    );
  });
});
