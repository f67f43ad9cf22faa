/**
 * The censored-demand EM (docs/math.md §2.7): the Poisson tail pieces against mpmath
 * (test/fixtures/censored_poisson.py), the EM's answer on a data set whose MLE scipy and mpmath
 * found, the score, Hessian and Louis' information against finite differences, the observed-data
 * log-likelihood never decreasing (fast-check), the plain MLE without censoring, and λ recovered
 * within its standard error on simulated censored demand.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fitCensoredDemand, eStep, hessian, logLikelihood, louisInformation, score, type CensoredPeriods } from '../src/market/censoredDemandEm.js';
import { logFactorial, logPoissonPmf, poissonTail, salesAndLost } from '../src/market/poissonTail.js';
import { MarketRng } from '../src/market/random.js';
import { RepricerError } from '../src/core/errors.js';
import { simulatePeriods } from './support/censoredMarketSim.js';

interface Fixture {
  tails: { c: number; mu: number; logTail: number; mean: number; variance: number; hazard: number }[];
  pmf: { k: number; mu: number; logPmf: number }[];
  sales: { c: number; mu: number; sales: number; lost: number }[];
  dataset: { multiplier: number[]; bookings: number[]; available: number[]; lambdaHat: number; logLikAtHat: number; informationAtHat: number; soldOut: number };
}
const ref = JSON.parse(readFileSync(new URL('./fixtures/censored_poisson.json', import.meta.url), 'utf8')) as Fixture;

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

function periods(a: number[], b: number[], c: number[]): CensoredPeriods {
  return { multiplier: Float64Array.from(a), bookings: Float64Array.from(b), available: Float64Array.from(c) };
}

/** A random data set: n periods, multipliers in [0.3, 3], availability 0..cMax, λ. */
function randomPeriods(seed: number, n: number, lambda: number, cMax: number): CensoredPeriods {
  const rng = new MarketRng(seed);
  const a = new Float64Array(n).map(() => 0.3 + 2.7 * rng.uniform());
  const c = new Float64Array(n).map(() => Math.floor(rng.uniform() * (cMax + 1)));
  return { multiplier: a, available: c, bookings: simulatePeriods(rng, lambda, a, c).bookings };
}

describe('Poisson tail pieces against mpmath (40 digits)', () => {
  it('log P(D >= c), E and Var of D given D >= c, and the hazard, from c = 1 to 10^6', () => {
    for (const t of ref.tails) {
      const got = poissonTail(t.c, t.mu);
      // measured: at most 6e-15 (log Q, hazard), 1e-16 (mean), 3e-13 (variance; 4e-10 at mu = 1e-9,
      // where the variance is itself 1e-9 and the terms of its sum differ by 9 orders)
      expect(Math.abs(got.logTail - t.logTail), `${t.c} ${t.mu}`).toBeLessThanOrEqual(5e-14 * Math.max(1, Math.abs(t.logTail)));
      expect(rel(got.mean, t.mean), `mean ${t.c} ${t.mu}`).toBeLessThanOrEqual(1e-14);
      expect(rel(got.variance, t.variance), `var ${t.c} ${t.mu}`).toBeLessThanOrEqual(t.mu < 1e-6 ? 1e-9 : 1e-12);
      expect(rel(got.hazard, t.hazard), `hazard ${t.c} ${t.mu}`).toBeLessThanOrEqual(5e-14);
    }
  });

  it('log P(D = k) by the saddle-point form, including k = 10^6', () => {
    for (const p of ref.pmf) expect(Math.abs(logPoissonPmf(p.k, p.mu) - p.logPmf), `${p.k} ${p.mu}`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(p.logPmf)));
    // log n! against the sum of logs
    let s = 0;
    for (let n = 1; n <= 200; n++) {
      s += Math.log(n);
      expect(rel(logFactorial(n), s)).toBeLessThan(1e-13);
    }
  });

  it('expected sales E[min(D, c)] and lost demand E[(D - c)+]', () => {
    for (const s of ref.sales) {
      const got = salesAndLost(s.c, s.mu);
      expect(rel(got.sales, s.sales)).toBeLessThan(1e-11);
      expect(Math.abs(got.lost - s.lost)).toBeLessThan(1e-11 * s.mu);
    }
  });

  it('the hazard is d log P(D >= c)/dmu and Var = mu dE/dmu (finite differences)', () => {
    for (const [c, mu] of [[1, 0.4], [4, 2], [4, 9], [30, 28], [30, 45], [500, 480], [20000, 20100]] as const) {
      const h = 1e-5 * mu;
      const t = poissonTail(c, mu), up = poissonTail(c, mu + h), dn = poissonTail(c, mu - h);
      expect(rel((up.logTail - dn.logTail) / (2 * h), t.hazard), `${c} ${mu}`).toBeLessThan(1e-6);
      // D given D >= c is an exponential family in log mu: dE/dlog mu = Var
      expect(rel((mu * (up.mean - dn.mean)) / (2 * h), t.variance), `${c} ${mu}`).toBeLessThan(1e-5);
    }
  });
});

describe('the censored-demand EM', () => {
  it('reaches the MLE that scipy and mpmath found, with its log-likelihood and observed information', () => {
    const d = ref.dataset;
    const r = fitCensoredDemand(periods(d.multiplier, d.bookings, d.available), { tol: 1e-13 });
    expect(r.status).toBe('estimated');
    expect(r.converged).toBe(true);
    expect(r.soldOut).toBe(d.soldOut);
    expect(rel(r.lambda, d.lambdaHat)).toBeLessThan(1e-10);
    expect(Math.abs(r.logLikPath.at(-1)! - d.logLikAtHat)).toBeLessThan(1e-10 * Math.abs(d.logLikAtHat));
    expect(rel(r.information, d.informationAtHat)).toBeLessThan(1e-7);
    expect(rel(-r.hessian, d.informationAtHat)).toBeLessThan(1e-7);
    expect(r.stdErr).toBeCloseTo(1 / Math.sqrt(d.informationAtHat), 9);
    // the sold-out periods hid demand: the EM's λ is above the one that ignores censoring
    const naive = d.bookings.reduce((s, b) => s + b, 0) / d.multiplier.reduce((s, a) => s + a, 0);
    expect(r.lambda).toBeGreaterThan(naive);
  });

  it('score, Hessian and Louis information against finite differences of the log-likelihood', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const d = randomPeriods(seed, 80, 2 + seed, 6);
      for (const lam of [1.5, 4, 9]) {
        const h = 1e-4 * lam;
        const fdScore = (logLikelihood(d, lam + h) - logLikelihood(d, lam - h)) / (2 * h);
        expect(rel(score(d, lam), fdScore), `score seed ${seed} λ ${lam}`).toBeLessThan(1e-6);
        const fdHess = (score(d, lam + h) - score(d, lam - h)) / (2 * h);
        expect(rel(hessian(d, lam), fdHess), `hessian seed ${seed} λ ${lam}`).toBeLessThan(1e-6);
        expect(rel(louisInformation(d, lam), -hessian(d, lam)), `Louis seed ${seed} λ ${lam}`).toBeLessThan(1e-9);
      }
    }
  });

  it('the observed-data log-likelihood never decreases along the EM path (property)', () => {
    const period = fc.tuple(fc.double({ min: 0.05, max: 5, noNaN: true }), fc.integer({ min: 0, max: 12 }), fc.double({ min: 0, max: 1, noNaN: true }));
    fc.assert(
      fc.property(fc.array(period, { minLength: 1, maxLength: 40 }), fc.double({ min: 0.01, max: 50, noNaN: true }), (rows, start) => {
        const d = periods(rows.map((r) => r[0]), rows.map((r) => Math.min(r[1], Math.floor(r[2] * (r[1] + 3)))), rows.map((r) => r[1]));
        const r = fitCensoredDemand(d, { start, maxIterations: 300 });
        for (let k = 1; k < r.logLikPath.length; k++) expect(r.logLikPath[k] - r.logLikPath[k - 1]).toBeGreaterThanOrEqual(-1e-10 * (1 + Math.abs(r.logLikPath[k])));
        if (r.status === 'estimated') expect(r.logLikPath.at(-1)!).toBeGreaterThanOrEqual(r.logLikPath[0] - 1e-10 * (1 + Math.abs(r.logLikPath[0])));
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('without a sold-out period: the plain MLE Σ B / Σ a in one step, SE = √(Σ B)/Σ a', () => {
    const d = randomPeriods(11, 200, 3, 1000); // availability up to 1000: nothing sells out
    for (let t = 0; t < 200; t++) d.available[t] = 1000;
    const sb = d.bookings.reduce((s, b) => s + b, 0), sa = d.multiplier.reduce((s, a) => s + a, 0);
    const r = fitCensoredDemand(d, { start: 1 });
    expect(r.soldOut).toBe(0);
    expect(r.iterations).toBe(2); // from λ = 1 the first step lands on the MLE, the second confirms it
    expect(rel(r.lambda, sb / sa)).toBeLessThan(1e-15);
    expect(rel(r.stdErr, Math.sqrt(sb) / sa)).toBeLessThan(1e-12);
    expect(r.lostDemand).toBe(0);
  });

  it('recovers λ within its standard error on simulated censored demand (coverage over 200 data sets)', () => {
    const lambda = 6;
    let inside = 0;
    let sumZ = 0;
    for (let s = 0; s < 200; s++) {
      const d = randomPeriods(1000 + s, 150, lambda, 8);
      const r = fitCensoredDemand(d);
      expect(r.status).toBe('estimated');
      expect(r.soldOut).toBeGreaterThan(20); // heavily censored
      const z = (r.lambda - lambda) / r.stdErr;
      sumZ += z;
      if (Math.abs(z) <= 1.96) inside++;
    }
    // a 95 % interval covers about 95 % (binomial sd 1.5 %); the z-scores centre on 0
    expect(inside / 200).toBeGreaterThan(0.9);
    expect(inside / 200).toBeLessThanOrEqual(0.99);
    expect(Math.abs(sumZ / 200)).toBeLessThan(0.25);
  });

  it('one large data set: within 3 SE of the truth, and the naive estimate is far outside', () => {
    const d = randomPeriods(42, 20000, 5, 7);
    const r = fitCensoredDemand(d);
    expect(Math.abs(r.lambda - 5)).toBeLessThan(3 * r.stdErr);
    const naive = d.bookings.reduce((s, b) => s + b, 0) / d.multiplier.reduce((s, a) => s + a, 0);
    expect((5 - naive) / r.stdErr).toBeGreaterThan(10);
  });

  it('large counts: a zone with ~10^5 units per period stays finite and recovers λ', () => {
    const rng = new MarketRng(9);
    const n = 60;
    const a = new Float64Array(n).fill(1e5);
    const c = new Float64Array(n).map(() => Math.round(1e5 * (1.5 + rng.uniform())));
    // demand ~ Poisson(2e5): drawn as a rounded normal, exact enough at this size for the check
    const b = new Float64Array(n).map((_, t) => {
      const u1 = rng.uniform() || 1e-16, u2 = rng.uniform();
      const dd = Math.round(2e5 + Math.sqrt(2e5) * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
      return Math.min(dd, c[t]);
    });
    const r = fitCensoredDemand({ multiplier: a, bookings: b, available: c });
    expect(r.status).toBe('estimated');
    expect(r.soldOut).toBeGreaterThan(5);
    expect(Number.isFinite(r.logLikPath.at(-1)!)).toBe(true);
    expect(Math.abs(r.lambda - 2)).toBeLessThan(4 * r.stdErr);
  });

  it('statuses: unbounded when every period sold out, no-data without units, no-demand without bookings', () => {
    expect(fitCensoredDemand(periods([1, 2], [3, 1], [3, 1])).status).toBe('unbounded');
    expect(fitCensoredDemand(periods([1, 2], [0, 0], [0, 0])).status).toBe('no-data');
    const none = fitCensoredDemand(periods([1, 2], [0, 0], [4, 0]));
    expect(none.status).toBe('no-demand');
    expect(none.lambda).toBe(0);
  });

  it('rejects impossible periods, naming the period', () => {
    const bad = (a: number[], b: number[], c: number[]): RepricerError => {
      try {
        fitCensoredDemand(periods(a, b, c));
      } catch (e) {
        return e as RepricerError;
      }
      throw new Error('accepted');
    };
    expect(bad([1, 1], [5, 1], [4, 2]).message).toContain('period 0: bookings must be an integer in [0, available = 4], got 5');
    expect(bad([1, 0], [1, 1], [4, 2]).message).toContain('period 1: multiplier must be a finite number > 0');
    expect(bad([1, 1], [1, 1], [4, 2.5]).code).toBe('INVALID_ARGUMENT');
  });

  it('the E-step imputes B when open and E[D | D >= c] when sold out', () => {
    const d = periods([1, 2, 0.5], [2, 3, 0], [5, 3, 2]);
    const e = eStep(d, 2);
    expect(e.demand[0]).toBe(2);
    expect(e.demand[2]).toBe(0);
    expect(e.demand[1]).toBe(poissonTail(3, 4).mean);
  });
});
