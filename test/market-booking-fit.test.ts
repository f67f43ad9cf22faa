/**
 * The booking model's fit (docs/math.md §2.6): gradient and Hessian against finite differences;
 * pooled, fixed-λ and cross-validated fits against an independent scipy computation on the
 * individual trials (test/fixtures/market_booking_fit.py); recovery of known segment curves from
 * simulated logs, and the held-out choice of λ on logs with and without segment differences; the
 * model file's validation and the lookup of an item's curve.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { likelihoodSums, newtonMaximise } from '../src/market/bookingLikelihood.js';
import { bookingTrials, crossValidateLambda, fitBookingModel, fitPooled, fitSegments, segmentFoldLabels } from '../src/market/bookingFit.js';
import { bookingProbability, curveFor, loadMarketModel, validateMarketModel, writeMarketModel, type MarketModel } from '../src/market/bookingModel.js';
import { EVENT_BOOKING, EVENT_SEARCH, readEventLog, type EventLog } from '../src/market/eventLog.js';
import { Xoshiro128 } from '../src/core/random.js';
import { RepricerError } from '../src/core/errors.js';

interface Fixture {
  segments: string[];
  pRef: Record<string, number>;
  trials: Record<string, number>;
  bookings: Record<string, number>;
  pooled: { a: number; b: number; pRef: number };
  fixedLambda: Record<string, Record<string, [number, number]>>;
  grid: number[];
  heldOutLogLikelihood: number[];
  heldOutStdErr: number[];
  units: number;
  bestLambda: number;
  lambda: number;
  final: Record<string, [number, number]>;
}
const FIX = JSON.parse(readFileSync('test/fixtures/market_booking_fit.json', 'utf8')) as Fixture;
const EVENTS = 'test/fixtures/market_booking_events.csv';

const close = (got: number, want: number, tol: number) => expect(Math.abs(got - want), `${got} vs ${want}`).toBeLessThanOrEqual(tol * (1 + Math.abs(want)));

describe('booking likelihood: derivatives', () => {
  it('gradient and Hessian match central finite differences (with and without the ridge)', () => {
    const rng = new Xoshiro128(7, 11, 13, 17);
    const G = 40;
    const x = Float64Array.from({ length: G }, () => (rng.uniform() - 0.5) * 1.2);
    const n = Float64Array.from({ length: G }, () => 1 + Math.floor(rng.uniform() * 20));
    const k = Float64Array.from(n, (m) => Math.floor(rng.uniform() * (m + 1)));
    const cols = { x, n, k };
    for (const ridge of [undefined, { lambda: 3.7, a0: -0.4, b0: -1.9 }]) {
      for (const [a, b] of [[-1.3, -2.1], [0.8, 0.5], [-6, 4]]) {
        const s = likelihoodSums(cols, 0, G, a, b, ridge);
        const h = 1e-5;
        const f = (p: number, q: number) => likelihoodSums(cols, 0, G, p, q, ridge);
        close(s.g0, (f(a + h, b).value - f(a - h, b).value) / (2 * h), 1e-7);
        close(s.g1, (f(a, b + h).value - f(a, b - h).value) / (2 * h), 1e-7);
        close(s.h00, (f(a + h, b).g0 - f(a - h, b).g0) / (2 * h), 1e-7);
        close(s.h01, (f(a, b + h).g0 - f(a, b - h).g0) / (2 * h), 1e-7);
        close(s.h01, (f(a + h, b).g1 - f(a - h, b).g1) / (2 * h), 1e-7);
        close(s.h11, (f(a, b + h).g1 - f(a, b - h).g1) / (2 * h), 1e-7);
      }
    }
  });

  it('Newton reaches a zero gradient; a Hessian without price variation and no ridge ends unconverged', () => {
    const cols = { x: Float64Array.from([-0.2, 0, 0.3]), n: Float64Array.from([10, 12, 9]), k: Float64Array.from([6, 4, 1]) };
    const r = newtonMaximise(cols, 0, 3, { a: 0, b: 0 });
    expect(r.converged).toBe(true);
    const s = likelihoodSums(cols, 0, 3, r.a, r.b);
    expect(Math.max(Math.abs(s.g0), Math.abs(s.g1))).toBeLessThan(1e-9 * 32);
    const flat = { x: Float64Array.from([0, 0]), n: Float64Array.from([10, 12]), k: Float64Array.from([6, 4]) };
    expect(newtonMaximise(flat, 0, 2, { a: 0, b: 0 }).converged).toBe(false);
    expect(newtonMaximise(flat, 0, 2, { a: 0, b: 0 }, { lambda: 1, a0: 0, b0: -1 }).converged).toBe(true);
  });
});

describe('booking fit against scipy (test/fixtures/market_booking_fit.py)', () => {
  const log = readEventLog(EVENTS);
  const tr = bookingTrials(log, ['zone', 'asset', 'time']);

  it('finds the same trials, segments (first-appearance order) and reference prices', () => {
    expect(tr.segmentIds).toEqual(FIX.segments);
    tr.segmentIds.forEach((id, s) => {
      close(tr.pRef[s], FIX.pRef[id], 1e-12);
      let n = 0;
      let k = 0;
      for (let g = tr.segStart[s]; g < tr.segStart[s + 1]; g++) {
        n += tr.n[g];
        k += tr.k[g];
      }
      expect([n, k]).toEqual([FIX.trials[id], FIX.bookings[id]]);
    });
    // prices repeat: fewer groups than trials
    expect(tr.n.length).toBeLessThan(tr.trials / 2);
    close(tr.pooledRef, FIX.pooled.pRef, 1e-12);
  });

  it('pooled and fixed-λ segment fits agree to 1e-6', () => {
    const t0 = fitPooled(tr);
    close(t0.a, FIX.pooled.a, 1e-6);
    close(t0.b, FIX.pooled.b, 1e-6);
    for (const [lam, want] of Object.entries(FIX.fixedLambda)) {
      const th = fitSegments(tr, t0, Number(lam));
      tr.segmentIds.forEach((id, s) => {
        close(th[s].a, want[id][0], 1e-6);
        close(th[s].b, want[id][1], 1e-6);
      });
    }
  });

  it('the held-out scores, their standard errors and the chosen λ agree; so does the whole fit', () => {
    const c = crossValidateLambda(tr, FIX.grid);
    expect(c.units).toBe(FIX.units);
    c.heldOutLogLikelihood.forEach((v, j) => close(v, FIX.heldOutLogLikelihood[j], 1e-7));
    c.heldOutStdErr.forEach((v, j) => close(v, FIX.heldOutStdErr[j], 1e-6));
    expect([c.lambda, c.bestLambda]).toEqual([FIX.lambda, FIX.bestLambda]);
    const m = fitBookingModel(log);
    expect(m.fit.lambda).toBe(FIX.lambda);
    for (const [id, [a, b]] of Object.entries(FIX.final)) {
      close(m.segments[id].a, a, 1e-6);
      close(m.segments[id].b, b, 1e-6);
    }
  });

  it('fold labels are balanced and a pure function of (m, K, seed, segment)', () => {
    const l = segmentFoldLabels(23, 5, 1, 3);
    expect(Array.from({ length: 5 }, (_, f) => l.filter((v) => v === f).length)).toEqual([5, 5, 5, 4, 4]);
    expect(segmentFoldLabels(23, 5, 1, 3)).toEqual(l);
    expect(segmentFoldLabels(23, 5, 1, 4)).not.toEqual(l);
  });
});

/** A simulated log: per segment (zone z, asset a, Monday evening or Saturday morning) trials with prices around base and outcomes from the true curve. */
function simulate(curves: { zone: string; asset: string; weekend: boolean; a: number; b: number; base: number; trials: number }[], seed: number): EventLog {
  const rng = new Xoshiro128(seed, seed * 3 + 1, 99, 1234);
  const zones: string[] = [];
  const assets: string[] = [];
  const cols = { time: [] as number[], type: [] as number[], zone: [] as number[], asset: [] as number[], price: [] as number[], booked: [] as number[] };
  for (const c of curves) {
    if (!zones.includes(c.zone)) zones.push(c.zone);
    if (!assets.includes(c.asset)) assets.push(c.asset);
    for (let t = 0; t < c.trials; t++) {
      const p = Math.round(c.base * Math.exp((rng.uniform() - 0.5) * 0.8) * 100) / 100;
      const q = 1 / (1 + Math.exp(-(c.a + c.b * Math.log(p / c.base))));
      const y = rng.uniform() < q ? 1 : 0;
      cols.time.push(c.weekend ? Date.UTC(2026, 2, 7, 9) : Date.UTC(2026, 2, 2, 19));
      cols.type.push(y ? EVENT_BOOKING : EVENT_SEARCH);
      cols.zone.push(zones.indexOf(c.zone));
      cols.asset.push(assets.indexOf(c.asset));
      cols.price.push(p);
      cols.booked.push(y);
    }
  }
  const n = cols.time.length;
  const nan = () => new Float64Array(n).fill(NaN);
  return {
    file: 'simulated', n, time: Float64Array.from(cols.time), type: Uint8Array.from(cols.type), zones, zone: Int32Array.from(cols.zone), assets, asset: Int32Array.from(cols.asset),
    items: [], item: new Int32Array(n).fill(-1), priceShown: Float64Array.from(cols.price), booked: Uint8Array.from(cols.booked), available: nan(), quantity: nan(), competitorPrice: nan(),
  };
}

describe('booking fit on simulated logs', () => {
  it('recovers known segment curves from 20 000 trials per segment, and keeps the shrinkage weak', () => {
    const truth = [
      { zone: 'north', asset: 'suv', weekend: false, a: -1.0, b: -3.0, base: 100 },
      { zone: 'north', asset: 'suv', weekend: true, a: -0.2, b: -1.0, base: 120 },
      { zone: 'north', asset: 'hatch', weekend: false, a: -2.0, b: -2.0, base: 50 },
      { zone: 'south', asset: 'suv', weekend: false, a: 0.5, b: -4.0, base: 80 },
      { zone: 'south', asset: 'hatch', weekend: true, a: -1.5, b: -0.5, base: 40 },
    ].map((c) => ({ ...c, trials: 20000 }));
    const m = fitBookingModel(simulate(truth, 5));
    for (const c of truth) {
      const id = `${c.zone}/${c.asset}/${c.weekend ? 'weekend-morning' : 'weekday-evening'}`;
      const s = m.segments[id];
      // the fitted curve is centred at the sample's geometric mean, not at base: compare curves at prices
      for (const p of [0.8 * c.base, c.base, 1.25 * c.base]) {
        const want = 1 / (1 + Math.exp(-(c.a + c.b * Math.log(p / c.base))));
        expect(Math.abs(bookingProbability(s, p) - want), `${id} at ${p}`).toBeLessThan(0.02);
      }
      expect(Math.abs(s.b - c.b), id).toBeLessThan(0.25);
    }
    expect(m.fit.lambda).toBeLessThanOrEqual(10);
  });

  it('chooses strong shrinkage when the segments share one curve', () => {
    const same = ['a', 'b', 'c', 'd', 'e', 'f'].map((zone) => ({ zone, asset: 'suv', weekend: false, a: -1, b: -2, base: 100, trials: 300 }));
    const m = fitBookingModel(simulate(same, 9));
    expect(m.fit.lambda).toBeGreaterThanOrEqual(100);
    for (const s of Object.values(m.segments)) {
      expect(Math.abs(s.a - m.pooled.a)).toBeLessThan(0.05);
      expect(Math.abs(s.b - m.pooled.b)).toBeLessThan(0.3);
    }
  });

  it('coarser segmentations pool the dimensions they leave out', () => {
    const log = readEventLog(EVENTS);
    const m = fitBookingModel(log, ['zone', 'time']);
    expect(Object.keys(m.segments).sort()).toEqual(['north/*/weekday-evening', 'north/*/weekend-morning', 'south/*/weekday-evening', 'south/*/weekend-morning']);
    expect(m.segmentBy).toEqual(['zone', 'time']);
    expect(curveFor(m, 'north', 'suv', 'weekend-morning', 90).segment).toBe('north/*/weekend-morning');
  });

  it('says why a log cannot be fitted: no trials, no bookings, bookings separated by price', () => {
    const none = simulate([{ zone: 'z', asset: 'a', weekend: false, a: -40, b: -1, base: 10, trials: 50 }], 1);
    expect(() => fitBookingModel(none)).toThrow(/needs both booked and unbooked trials, got 0 bookings of 50 trials/);
    const empty = { ...none, n: 0, type: new Uint8Array(0) };
    expect(() => fitBookingModel(empty)).toThrow(/no trials for the booking model/);
    const sep = simulate([{ zone: 'z', asset: 'a', weekend: false, a: -1, b: -1, base: 10, trials: 40 }], 2);
    sep.priceShown.forEach((_, i) => (sep.priceShown[i] = sep.booked[i] ? 5 + (i % 3) : 20 + (i % 4)));
    expect(() => fitBookingModel(sep)).toThrow(expect.objectContaining({ code: 'INPUT_UNREADABLE', message: expect.stringMatching(/no finite maximum-likelihood fit/) }));
  });
});

describe('market model file', () => {
  const model = (): MarketModel => JSON.parse(JSON.stringify(fitBookingModel(readEventLog(EVENTS), undefined, { createdAt: '2026-03-09T00:00:00.000Z' }))) as MarketModel;

  it('round-trips through a file; an unseen segment uses the pooled curve at the zone-level price', () => {
    const dir = mkdtempSync(join(tmpdir(), 'repricer-mm-'));
    const m = model();
    writeMarketModel(join(dir, 'm.json'), m);
    const back = loadMarketModel(join(dir, 'm.json'));
    expect(back).toEqual(m);
    expect(back.format).toBe('repricer.market-model/1');
    const seen = curveFor(back, 'north', 'suv', 'weekday-evening', 123);
    expect(seen).toMatchObject({ segment: 'north/suv/weekday-evening', pooled: false, a: m.segments['north/suv/weekday-evening'].a });
    const unseen = curveFor(back, 'north', 'suv', 'weekday-night', 123);
    expect(unseen).toEqual({ segment: 'north/suv/weekday-night', a: m.pooled.a, b: m.pooled.b, pRef: 123, pooled: true });
    expect(bookingProbability(unseen, 123)).toBeCloseTo(1 / (1 + Math.exp(-m.pooled.a)), 15);
  });

  it('rejects another version, a missing field, a malformed segment id, a segment against segmentBy, bookings above trials', () => {
    const err = (f: (m: MarketModel) => void) => {
      const m = model();
      f(m);
      try {
        validateMarketModel(m, 'm.json');
      } catch (e) {
        expect((e as RepricerError).code).toBe('MODEL_INVALID');
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err((m) => ((m as { format: string }).format = 'repricer.market-model/2'))).toMatch(/format: "repricer.market-model\/2" is not supported \(this repricer reads repricer.market-model\/1\)/);
    expect(err((m) => ((m as { format: string }).format = 'repricer.model/1'))).toMatch(/format: must be "repricer.market-model\/1"/);
    expect(err((m) => delete (m as Partial<MarketModel>).pooled)).toMatch(/pooled: is required/);
    expect(err((m) => (m.segments['north/suv'] = m.pooled))).toMatch(/segments\.north\/suv: segment id "north\/suv": expected zone\/asset\/bucket/);
    expect(err((m) => (m.segments['north/*/weekday-night'] = m.pooled))).toMatch(/segmented by zone,asset,time has \* in exactly the other dimensions/);
    expect(err((m) => (m.pooled.bookings = m.pooled.trials + 1))).toMatch(/pooled\.bookings: \d+ is more than the \d+ trials/);
    expect(err((m) => (m.pooled.pRef = 0))).toMatch(/pooled\.pRef: must be > 0/);
    expect(err((m) => m.fit.heldOutStdErr.pop())).toMatch(/one number per grid value/);
    const dir = mkdtempSync(join(tmpdir(), 'repricer-mm-'));
    writeFileSync(join(dir, 'bad.json'), '{');
    expect(() => loadMarketModel(join(dir, 'bad.json'))).toThrow(/not valid JSON/);
    expect(() => loadMarketModel(join(dir, 'none.json'))).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});
