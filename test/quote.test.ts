/**
 * Optimal quote (docs/math.md §1.5) and delta-method price variance (§5.3):
 * (1) WASM simd + scalar vs the TS twin on random tables with extremes;
 * (2) dp*\/du against central differences of p*(u) on a regime grid;
 * (3) reference values (docs/math.md §6.1, §6.2, §6.7) from test/fixtures/quote_greeks.py, and
 *     golden-section checks that p* maximises the expected reward;
 * plus fast-check properties, each with a deliberately wrong companion that must fail.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { WasmCore, type Variant } from '../src/core/wasm.js';
import { optimalQuote, virtualValuationInverse, winProbabilityAt, priceStdError, priceVariance, packSymmetric, packCovariances } from '../src/core/quote.js';
import { winProbabilityAt as twinWinProbabilityAt } from '../src/core/twin/pricing.js';
import * as twin from '../src/core/twin/quote.js';
import { erfc, normMillsRatio, normPdf, normCdf, logisticCdf } from '../src/core/twin/noise.js';
import type { NoiseSpec, NoiseFamily } from '../src/core/validate.js';

interface VvRow { a: number; scale: number; w: number }
interface PriceRow { family: NoiseFamily; u: number; scale: number; c: number; price: number; expectedReward: number; winProbability: number; golden: number }
interface Fixture {
  vvNormal: VvRow[];
  vvLogistic: VvRow[];
  vvNormalExtra: VvRow[];
  vvLogisticExtra: VvRow[];
  optimalPrice: PriceRow[];
  coldStart: { x: number[]; scale: number; c: number; posteriorMean: number[]; posteriorCov: number[]; u: number; price: number; dpdu: number; variance: number };
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/quote_greeks.json', import.meta.url), 'utf8')) as Fixture;

const variants: Variant[] = ['simd', 'scalar'];
const cores: Record<Variant, WasmCore> = { simd: WasmCore.create({ variant: 'simd' }), scalar: WasmCore.create({ variant: 'scalar' }) };
const FAMILY: Record<NoiseFamily, number> = { gaussian: 0, logistic: 1 };

/** |a - b| <= rel max(|a|,|b|) + abs, element-wise; reports the first offender. */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, abs: number | ArrayLike<number>, what: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const floor = typeof abs === 'number' ? abs : abs[i];
    const tol = rel * Math.max(Math.abs(got[i]), Math.abs(want[i])) + floor;
    if (!(Math.abs(got[i] - want[i]) <= tol) && !(Object.is(got[i], want[i]))) {
      throw new Error(`${what}[${i}]: got ${got[i]}, want ${want[i]} (|diff| ${Math.abs(got[i] - want[i])} > tol ${tol})`);
    }
  }
}

/** Deterministic uniform generator (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Twin optimal quote as columns. */
function twinQuote(family: number, scale: number, u: Float64Array, c: Float64Array) {
  const n = u.length;
  const out = new Float64Array(4 * n);
  twin.optimalQuote(family, scale, n, u, c, out);
  return { price: out.slice(0, n), winProbability: out.slice(n, 2 * n), expectedReward: out.slice(2 * n, 3 * n), dpdu: out.slice(3 * n) };
}

/** Expected reward R(p; u) = c + (p - c)(1 - F(p - u)) (docs/math.md §1.2), tail computed directly. */
function reward(family: NoiseFamily, scale: number, u: number, c: number, p: number): number {
  const z = (p - u) / scale;
  const S = family === 'gaussian' ? 0.5 * erfc(z * Math.SQRT1_2) : logisticCdf(-z);
  return c + (p - c) * S;
}

function goldenMax(f: (x: number) => number, a: number, b: number, iters = 200): number {
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc_ = f(c);
  let fd = f(d);
  for (let k = 0; k < iters && b - a > 1e-15 * Math.max(Math.abs(a), Math.abs(b)); k++) {
    if (fc_ >= fd) {
      b = d; d = c; fd = fc_; c = b - g * (b - a); fc_ = f(c);
    } else {
      a = c; c = d; fc_ = fd; d = a + g * (b - a); fd = f(d);
    }
  }
  return 0.5 * (a + b);
}

describe('virtualValuationInverse: reference values (docs/math.md §6.1, fixture)', () => {
  for (const v of variants) {
    it(`${v}: Gaussian and logistic tables, including the extra oracle rows`, () => {
      const core = cores[v];
      const groups: Array<[NoiseFamily, VvRow[]]> = [
        ['gaussian', fx.vvNormal], ['gaussian', fx.vvNormalExtra], ['logistic', fx.vvLogistic], ['logistic', fx.vvLogisticExtra],
      ];
      for (const [family, rows] of groups) {
        for (const r of rows) {
          const got = virtualValuationInverse(core, new Float64Array([r.a]), { family, scale: r.scale })[0];
          // the oracle bisects to adjacent doubles; floor: a few ulps of the scale where w crosses 0
          expectClose([got], [r.w], 2e-13, 1e-15 * Math.max(r.scale, Math.abs(r.a)), `${family} a=${r.a} s=${r.scale}`);
          const tw = new Float64Array(1);
          twin.virtualValuationInverse(FAMILY[family], r.scale, 1, new Float64Array([r.a]), tw);
          expectClose([tw[0]], [r.w], 2e-13, 1e-15 * Math.max(r.scale, Math.abs(r.a)), `twin ${family} a=${r.a}`);
        }
      }
      // docs/math.md §6.1 printed digits, tolerance 1e-8 as §6 states
      const printed = [0.1317359900, 0.4220404278, 0.7517915247, 1.1173271158, 1.5129092166];
      const w = virtualValuationInverse(core, new Float64Array([-1, -0.5, 0, 0.5, 1]), { family: 'gaussian', scale: 1 });
      expectClose(w, printed, 1e-8, 0, 'docs/math.md §6.1');
      const l = [
        virtualValuationInverse(core, new Float64Array([0, -1]), { family: 'logistic', scale: 1 }),
        virtualValuationInverse(core, new Float64Array([0.5]), { family: 'logistic', scale: 0.3 }),
      ];
      expectClose([l[0][0], l[0][1], l[1][0]], [1.2784645428, 0.5671432904, 0.8195311747], 1e-8, 0, 'docs/math.md §6.1 logistic');
    });
  }

  it('solves phi(w) = a to rounding level from a = -1e300 to 1e300 (standardised)', () => {
    const as = [-1.7e308, -1e300, -1e100, -1e10, -40, -10, -1.2533141373155003, -1e-12, 0, 1e-12, 3, 40, 1e8, 1e300];
    const core = cores.simd;
    const w = virtualValuationInverse(core, new Float64Array(as), { family: 'gaussian', scale: 1 });
    as.forEach((a, i) => {
      const res = w[i] - normMillsRatio(w[i]) - a;
      // residual relative to |a|; m's own conditioning |w| m'/m ~ w^2 costs up to ~40 ulps at w ~ -37
      expect(Math.abs(res)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(a)));
    });
    const wl = virtualValuationInverse(core, new Float64Array(as.slice(1)), { family: 'logistic', scale: 1 });
    as.slice(1).forEach((a, i) => {
      const x = wl[i];
      // phi(w) = w - 1 - e^-w; for w < 0 compare e^-w = w - 1 - a in logs (e^-w may be ~1e300)
      if (x < 0) expect(Math.abs(-x - Math.log(x - 1 - a))).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(x)));
      else expect(Math.abs(x - 1 - Math.exp(-x) - a)).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(a)));
    });
  });
});

describe('optimalQuote: reference values (docs/math.md §6.2, §6.7, fixture) and golden section', () => {
  for (const v of variants) {
    it(`${v}: §6.2 rows (normal and logistic): price, expected reward, sale probability`, () => {
      for (const r of fx.optimalPrice) {
        const q = optimalQuote(cores[v], new Float64Array([r.u]), new Float64Array([r.c]), { family: r.family, scale: r.scale });
        expectClose(q.price, [r.price], 1e-13, 0, `${r.family} price`);
        expectClose(q.expectedReward, [r.expectedReward], 1e-13, 0, `${r.family} reward`);
        expectClose(q.winProbability, [r.winProbability], 1e-13, 0, `${r.family} win`);
        // the golden-section maximiser of the fixture agrees to its own precision (~sqrt(eps))
        expectClose(q.price, [r.golden], 1e-7, 0, `${r.family} golden`);
      }
      const printed = [0.9179465009, 0.2335207221, 1.8813618187];
      const q = optimalQuote(cores[v], new Float64Array([1.0, 0.3, 2.0]), new Float64Array([0.2, 0.0, 0.5]), { family: 'gaussian', scale: 1 });
      // different sigma per row: run them one by one against docs/math.md's printed digits
      const sig = [0.5, 0.1, 1.0];
      const got = [1.0, 0.3, 2.0].map((u, i) => optimalQuote(cores[v], new Float64Array([u]), new Float64Array([[0.2, 0.0, 0.5][i]]), { family: 'gaussian', scale: sig[i] }).price[0]);
      expectClose(got, printed, 1e-8, 0, 'docs/math.md §6.2');
      expect(q.price.length).toBe(3);
      const lg = optimalQuote(cores[v], new Float64Array([1.0]), new Float64Array([0.2]), { family: 'logistic', scale: 0.3 });
      expectClose(lg.price, [0.9078585877], 1e-8, 0, 'docs/math.md §6.2 logistic');
    });

    it(`${v}: §6.7 cold start: p-hat, dp/du and the delta-method variance with the posterior covariance`, () => {
      const cs = fx.coldStart;
      const u = cs.x[0] * cs.posteriorMean[0] + cs.x[1] * cs.posteriorMean[1];
      const q = optimalQuote(cores[v], new Float64Array([u]), new Float64Array([cs.c]), { family: 'gaussian', scale: cs.scale });
      expectClose(q.price, [cs.price], 1e-12, 0, 'p-hat');
      expectClose(q.dpdu, [cs.dpdu], 1e-12, 0, 'dp/du');
      const cov = new Float64Array(cs.posteriorCov);
      const variance = priceVariance(cores[v], new Float64Array(cs.x), 2, q.dpdu, cov);
      expectClose(variance, [cs.variance], 1e-12, 0, 'Var(p-hat)');
      const se = priceStdError(cores[v], new Float64Array(cs.x), 2, q.dpdu, cov);
      expectClose(se, [Math.sqrt(cs.variance)], 1e-12, 0, 'std error');
      expectClose([q.price[0], q.dpdu[0], variance[0]], [1.1814737354, 0.4704905851, 0.0141991682], 1e-8, 0, 'docs/math.md §6.7');
    });
  }

  it('p* maximises the expected reward (golden section on a regime grid)', () => {
    const core = cores.simd;
    for (const family of ['gaussian', 'logistic'] as NoiseFamily[]) {
      for (const scale of [1e-4, 0.3, 1, 250]) {
        for (const aStd of [-30, -6, -1.5, -0.2, 0, 0.7, 4, 25]) {
          for (const u of [0, 3 * scale, -1e3]) {
            const c = u + aStd * scale;
            const q = optimalQuote(core, new Float64Array([u]), new Float64Array([c]), { family, scale });
            const p = q.price[0];
            const f = (x: number) => reward(family, scale, u, c, x);
            // the maximiser lies in [u + a, u + a + m(max(a,0)) + ...]; search a generous window
            const lo = Math.min(u, c) - 40 * scale;
            const hi = Math.max(u, c) + 40 * scale;
            const pg = goldenMax(f, lo, hi);
            const where = `${family} s=${scale} a=${aStd} u=${u}`;
            // reward at p* is not beaten by the golden point (beyond rounding of R)
            expect(f(p), where).toBeGreaterThanOrEqual(f(pg) - 4e-16 * (Math.abs(c) + Math.abs(p) + scale));
            // and the two maximisers agree to golden-section precision, sqrt(eps |R| / |R''|) with
            // |R''| ~ (1 - F)/scale, when R is curved enough to see (R - c falls like 1 - F far in
            // the never-trade tail, where R is flat to rounding)
            const S = q.winProbability[0];
            if (S > 1e-6) {
              const tol = 2e-7 * scale + 1e-7 * Math.sqrt(scale * (Math.abs(c) + Math.abs(p)) / S);
              expect(Math.abs(pg - p), where).toBeLessThanOrEqual(tol);
            }
            // expected reward output matches the formula
            expectClose(q.expectedReward, [f(p)], 1e-14, 1e-15 * (Math.abs(c) + scale), where);
          }
        }
      }
    }
  });
});

describe('optimalQuote: WASM (simd, scalar) vs TS twin', () => {
  function table(seed: number, n: number, scale: number) {
    const r = rng(seed);
    const u = new Float64Array(n);
    const c = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const aStd = -40 + 80 * r(); // standardised a = (c - u)/scale in [-40, 40]
      const k = r();
      u[i] = k < 0.2 ? 0 : k < 0.6 ? (r() - 0.5) * 10 * scale : (r() - 0.5) * 2e6; // large |u| included
      c[i] = u[i] + aStd * scale;
    }
    // extremes: the bracket corners and deep tails
    const extra = [-40, -39.999, -1.2533141373155003, -1, -1e-9, 0, 1e-9, 1, 37, 40];
    extra.forEach((a, j) => {
      u[j] = j % 2 ? 1e6 : -3;
      c[j] = u[j] + a * scale;
    });
    return { u, c };
  }
  for (const family of ['gaussian', 'logistic'] as NoiseFamily[]) {
    for (const scale of [1e-7, 0.01, 1, 3e5]) {
      it(`${family}, scale ${scale}: all four columns within 1e-12 relative`, () => {
        const { u, c } = table(scale * 1e7 + (family === 'gaussian' ? 1 : 2), 2000, scale);
        const want = twinQuote(FAMILY[family], scale, u, c);
        for (const v of variants) {
          const got = optimalQuote(cores[v], u, c, { family, scale });
          // price: floor a few ulps of the inputs it is built from
          const pf = Array.from(u, (ui, i) => 1e-15 * (Math.abs(ui) + Math.abs(c[i]) + scale));
          expectClose(got.price, want.price, 1e-12, pf, `${v} price`);
          expectClose(got.winProbability, want.winProbability, 1e-12, 1e-300, `${v} win`);
          expectClose(got.expectedReward, want.expectedReward, 1e-12, pf, `${v} reward`);
          expectClose(got.dpdu, want.dpdu, 1e-12, 1e-300, `${v} dpdu`);
          for (let i = 0; i < u.length; i++) {
            expect(got.dpdu[i]).toBeGreaterThanOrEqual(0);
            expect(got.dpdu[i]).toBeLessThan(1);
          }
        }
      });
    }
  }

  it('virtualValuationInverse and priceVariance (shared and per-row matrices) agree with the twin', () => {
    const r = rng(99);
    const n = 501;
    const a = Float64Array.from({ length: n }, () => (r() - 0.5) * 80);
    for (const family of ['gaussian', 'logistic'] as NoiseFamily[]) {
      const want = new Float64Array(n);
      twin.virtualValuationInverse(FAMILY[family], 0.7, n, a.map((x) => x * 0.7), want);
      for (const v of variants) {
        expectClose(virtualValuationInverse(cores[v], a.map((x) => x * 0.7), { family, scale: 0.7 }), want, 1e-12, 1e-15, `${v} ${family}`);
      }
    }
    for (const d of [1, 2, 3, 5, 8, 17]) {
      const K = 4; // matrices 0-2 dense, 3 diagonal (a product fitted with standard errors only)
      const x = Float64Array.from({ length: n * d }, () => r() * 2 - 1);
      const g = Float64Array.from({ length: n }, () => r());
      const cov = new Float64Array(K * d * d);
      for (let k = 0; k < K; k++) {
        // B B' + I/10 is symmetric positive definite
        const B = Float64Array.from({ length: d * d }, () => r() - 0.5);
        for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
          let s = i === j ? 0.1 : 0;
          for (let l = 0; l < d; l++) s += B[i * d + l] * B[j * d + l];
          cov[k * d * d + i * d + j] = k === 3 && i !== j ? 0 : s;
        }
      }
      const packed = packCovariances(cov, d);
      expect(Array.from(packed.at).map((a) => a < 0)).toEqual([d === 1, d === 1, d === 1, true]); // d = 1: every matrix is diagonal
      const idx = Float64Array.from({ length: n }, (_, i) => i % K);
      const want = new Float64Array(n);
      twin.priceVariance(n, d, x, g, packed.values, packed.at, idx, want);
      const allDense = new Float64Array(n);
      twin.priceVariance(n, d, x, g, packSymmetric(cov, d), null, idx, allDense);
      expect(Array.from(allDense)).toEqual(Array.from(want)); // a diagonal stored as such adds in the same order
      const want1 = new Float64Array(n);
      twin.priceVariance(n, d, x, g, packSymmetric(cov.subarray(0, d * d), d), null, null, want1);
      // an independent plain double loop
      for (let i = 0; i < n; i++) {
        let q = 0;
        const o = (i % K) * d * d;
        for (let p = 0; p < d; p++) for (let s = 0; s < d; s++) q += x[i * d + p] * cov[o + p * d + s] * x[i * d + s];
        expect(Math.abs(want[i] - g[i] * g[i] * q)).toBeLessThanOrEqual(1e-13 * Math.abs(want[i]) + 1e-300);
      }
      for (const v of variants) {
        expectClose(priceVariance(cores[v], x, d, g, cov, idx), want, 1e-13, 1e-300, `${v} d=${d}`);
        expectClose(priceVariance(cores[v], x, d, g, cov.slice(0, d * d)), want1, 1e-13, 1e-300, `${v} shared d=${d}`);
        expectClose(priceStdError(cores[v], x, d, g, cov, idx), want.map(Math.sqrt), 1e-13, 1e-300, `${v} se d=${d}`);
      }
    }
  });
});

describe('dp*/du against central differences of p*(u)', () => {
  it('regime grid: deep tails, tiny and large scale, large |u|', () => {
    for (const v of variants) {
      const core = cores[v];
      for (const family of ['gaussian', 'logistic'] as NoiseFamily[]) {
        for (const scale of [1e-3, 1, 1e3]) {
          for (const aStd of [-35, -8, -2, -1, -0.3, 0, 0.5, 2, 8, 30]) {
            for (const uStd of [0, 40, -5e3]) {
              const u = uStd * scale;
              const c = u + aStd * scale;
              // h follows the noise's own length (the scale), 1e-4 of it
              const h = 1e-4 * scale;
              const us = new Float64Array([u, u + h, u - h]);
              const q = optimalQuote(core, us, new Float64Array([c, c, c]), { family, scale });
              const fd = (q.price[1] - q.price[2]) / (2 * h);
              const an = q.dpdu[0];
              // roundoff of the difference: ~eps (|u| + |c|)/h
              const floor = 1e-9 + 4e-16 * (Math.abs(u) + Math.abs(c)) / h;
              const where = `${v} ${family} s=${scale} a=${aStd} u=${u}: fd ${fd} vs ${an}`;
              expect(Math.abs(fd - an), where).toBeLessThanOrEqual(1e-6 * Math.abs(an) + floor);
            }
          }
        }
      }
    }
  });
});

describe('fast-check properties (each with a wrong companion that must fail)', () => {
  const core = cores.simd;
  const family = fc.constantFrom<NoiseFamily>('gaussian', 'logistic');
  const scaleArb = fc.double({ min: -6, max: 6, noNaN: true }).map((e) => 10 ** e);
  const money = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });
  const cfg = { numRuns: 300, seed: 20241018 };

  type Quote = (u: number, c: number, noise: NoiseSpec) => { price: number; dpdu: number; win: number; reward: number };
  const right: Quote = (u, c, noise) => {
    const q = optimalQuote(core, new Float64Array([u]), new Float64Array([c]), noise);
    return { price: q.price[0], dpdu: q.dpdu[0], win: q.winProbability[0], reward: q.expectedReward[0] };
  };
  const w = (a: number, noise: NoiseSpec) => virtualValuationInverse(core, new Float64Array([a]), noise)[0];

  // p* non-decreasing in u (dp*/du >= 0). Slack: a few ulps of the quantities p* is built from.
  const monotone = (f: Quote) => fc.property(family, scaleArb, money, money, money, (fam, scale, u1, u2, c) => {
    const noise = { family: fam, scale };
    const [lo, hi] = u1 <= u2 ? [u1, u2] : [u2, u1];
    const p1 = f(lo, c, noise).price;
    const p2 = f(hi, c, noise).price;
    return p1 <= p2 + 1e-15 * (Math.abs(hi) + Math.abs(lo) + Math.abs(c) + scale);
  });
  // wrong: u and c swapped in the outer term, p = c + phi^-1(c - u)
  const swapped: Quote = (u, c, noise) => ({ ...right(u, c, noise), price: c + w(c - u, noise) });
  it('p* is non-decreasing in u', () => {
    expect(fc.check(monotone(right), cfg).failed).toBe(false);
    expect(fc.check(monotone(swapped), cfg).failed).toBe(true);
  });

  const slope = (f: Quote) => fc.property(family, scaleArb, money, money, (fam, scale, u, c) => {
    const d = f(u, c, { family: fam, scale }).dpdu;
    return d >= 0 && d < 1;
  });
  // wrong: forgot the 1 - 1/(.) and returned phi'(w*) - 1
  const slopeWrong: Quote = (u, c, noise) => {
    const q = right(u, c, noise);
    return { ...q, dpdu: 1 / (1 - q.dpdu) - 1 };
  };
  it('0 <= dp*/du < 1', () => {
    expect(fc.check(slope(right), cfg).failed).toBe(false);
    expect(fc.check(slope(slopeWrong), cfg).failed).toBe(true);
  });

  const finite = (f: Quote) => fc.property(family, scaleArb, money, money, (fam, scale, u, c) => {
    const q = f(u, c, { family: fam, scale });
    return Number.isFinite(q.price) && Number.isFinite(q.dpdu) && Number.isFinite(q.win) && Number.isFinite(q.reward);
  });
  // wrong: p = c + m(w*) with m = (1 - F)/f evaluated naively (0/0 in the upper tail, inf/... below)
  const naiveMills: Quote = (u, c, noise) => {
    const q = right(u, c, noise);
    const z = w(c - u, noise) / noise.scale;
    const m = noise.family === 'gaussian' ? (1 - normCdf(z)) / normPdf(z) : (1 - logisticCdf(z)) / (logisticCdf(z) * (1 - logisticCdf(z)));
    return { ...q, price: c + noise.scale * m };
  };
  it('prices, probabilities, rewards and slopes are finite for finite inputs over a wide range', () => {
    expect(fc.check(finite(right), cfg).failed).toBe(false);
    expect(fc.check(finite(naiveMills), cfg).failed).toBe(true);
  });

  const probability = (f: Quote) => fc.property(family, scaleArb, money, money, (fam, scale, u, c) => {
    const p = f(u, c, { family: fam, scale }).win;
    return p >= 0 && p <= 1;
  });
  // wrong: the density f(w*) instead of the tail 1 - F(w*)
  const density: Quote = (u, c, noise) => {
    const q = right(u, c, noise);
    const z = w(c - u, noise) / noise.scale;
    const f = noise.family === 'gaussian' ? normPdf(z) : logisticCdf(z) * logisticCdf(-z);
    return { ...q, win: f / noise.scale };
  };
  it('win probability is in [0, 1]', () => {
    expect(fc.check(probability(right), cfg).failed).toBe(false);
    expect(fc.check(probability(density), cfg).failed).toBe(true);
  });
});

describe('winProbabilityAt: 1 - F(p - u) at any price, WASM (simd, scalar) vs TS twin and the §1.5 quote', () => {
  it('agrees with the twin to a few ulps, tails included, and with optimalQuote at p = p* (away from the far tail, where rounding p* - u is amplified)', () => {
    const r = rng(11);
    const n = 2000;
    const u = Float64Array.from({ length: n }, () => 4 * r() - 2);
    const c = Float64Array.from({ length: n }, () => 2 * r() - 1);
    for (const family of ['gaussian', 'logistic'] as const) {
      for (const scale of [0.1, 1.3]) {
        // prices from 30 scales below to 30 above u: far into both tails
        const p = u.map((x) => x + scale * (60 * r() - 30));
        const want = new Float64Array(n);
        twinWinProbabilityAt(FAMILY[family], scale, n, u, p, want);
        const q = optimalQuote(cores.simd, u, c, { family, scale });
        const body = q.winProbability.map((s) => (s > 1e-12 ? 1 : 0));
        for (const v of variants) {
          expectClose(winProbabilityAt(cores[v], u, p, { family, scale }), want, 4e-15, 0, `${v} ${family} ${scale}`);
          const atStar = winProbabilityAt(cores[v], u, q.price, { family, scale });
          expectClose(atStar.filter((_, i) => body[i]), q.winProbability.filter((_, i) => body[i]), 1e-13, 0, `${v} ${family} ${scale} at p*`);
        }
      }
    }
  });
});

describe('wrapper validation names the argument and the value', () => {
  const core = cores.simd;
  const g: NoiseSpec = { family: 'gaussian', scale: 1 };
  it('optimalQuote', () => {
    expect(() => optimalQuote(core, new Float64Array([1, 2, NaN]), new Float64Array(3), g)).toThrow(/optimalQuote: u\[2\] must be finite, got NaN/);
    expect(() => optimalQuote(core, new Float64Array(3), new Float64Array(2), g)).toThrow(/c must have length 3, got 2/);
    expect(() => optimalQuote(core, new Float64Array(1), new Float64Array([Infinity]), g)).toThrow(/c\[0\] must be finite/);
    expect(() => optimalQuote(core, new Float64Array(1), new Float64Array(1), { family: 'gaussian', scale: 0 })).toThrow(/noise.scale must be a finite number > 0, got 0/);
    expect(() => optimalQuote(core, new Float64Array(1), new Float64Array(1), { family: 'cauchy' as NoiseFamily, scale: 1 })).toThrow(/noise.family/);
    expect(() => optimalQuote(core, new Float64Array([-1e300]), new Float64Array([1e300]), { family: 'gaussian', scale: 1e-300 })).toThrow(/c - u at index 0/);
    expect(optimalQuote(core, new Float64Array(0), new Float64Array(0), g).price.length).toBe(0);
  });
  it('winProbabilityAt', () => {
    expect(() => winProbabilityAt(core, new Float64Array([0, NaN]), new Float64Array(2), g)).toThrow(/winProbabilityAt: u\[1\] must be finite, got NaN/);
    expect(() => winProbabilityAt(core, new Float64Array(2), new Float64Array(3), g)).toThrow(/p must have length 2, got 3/);
    expect(() => winProbabilityAt(core, new Float64Array(1), new Float64Array(1), { family: 'gaussian', scale: -1 })).toThrow(/noise.scale/);
    expect(winProbabilityAt(core, new Float64Array(0), new Float64Array(0), g).length).toBe(0);
  });
  it('virtualValuationInverse', () => {
    expect(() => virtualValuationInverse(core, new Float64Array([0, -Infinity]), g)).toThrow(/a\[1\] must be finite, got -Infinity/);
    expect(() => virtualValuationInverse(core, [0] as unknown as Float64Array, g)).toThrow(TypeError);
  });
  it('priceStdError / priceVariance', () => {
    const x = new Float64Array([1, 0, 1, 1]);
    const dp = new Float64Array([0.5, 0.5]);
    const cov = new Float64Array([1, 0.1, 0.1, 2]);
    expect(() => priceStdError(core, x, 0, dp, cov)).toThrow(/d must be an integer >= 1, got 0/);
    expect(() => priceStdError(core, x.subarray(0, 3), 2, dp, cov)).toThrow(/x must have length 4, got 3/);
    expect(() => priceStdError(core, x, 2, dp, cov.subarray(0, 3))).toThrow(/cov must hold K >= 1 matrices/);
    expect(() => priceStdError(core, x, 2, dp, new Float64Array([1, 0.1, 0.2, 2]))).toThrow(/not symmetric at \(0, 1\)/);
    expect(() => priceStdError(core, x, 2, dp, new Float64Array([1, 0, 0, NaN]))).toThrow(/cov\[3\] \(matrix 0, entry \(1, 1\)\) must be finite/);
    const two = new Float64Array([...cov, ...cov]);
    expect(() => priceStdError(core, x, 2, dp, two)).toThrow(/pass covIndex/);
    expect(() => priceStdError(core, x, 2, dp, two, new Float64Array([0, 2]))).toThrow(/covIndex\[1\] must be an integer in \[0, 1\], got 2/);
    expect(() => priceStdError(core, x, 2, dp, two, new Float64Array([0.5, 1]))).toThrow(/covIndex\[0\]/);
    const se = priceStdError(core, x, 2, dp, two, new Float64Array([1, 0]));
    expectClose(se, [0.5, 0.5 * Math.sqrt(1 + 0.2 + 2)], 1e-15, 0, 'se');
  });
});

describe('arena views (the engine hot path)', () => {
  it('optimalQuote and greeks with { views: true } return the same numbers, as views valid in the caller scope', async () => {
    const { greeks } = await import('../src/core/greeks.js');
    const core = cores.simd;
    const n = 300;
    const u = Float64Array.from({ length: n }, (_, i) => 10 + Math.sin(i));
    const c = Float64Array.from({ length: n }, (_, i) => 5 + Math.cos(i));
    const noise: NoiseSpec = { family: 'gaussian', scale: 1.5 };
    const plain = optimalQuote(core, u, c, noise);
    const input = { P: plain.price, C: c, Cret: 0, Rmin: 0, Rmax: 0, kR: 0, Pmid: 0, A: 1, B: u, E: 1.5, deltaQ: 0, holding: 0, inventory: 0 };
    const gPlain = greeks(core, { kind: 'winProbability', family: 'gaussian' }, input);
    core.arena.scoped(() => {
      const q = optimalQuote(core, u, c, noise, { views: true });
      expect(core.owns(q.price)).toBe(true);
      const g = greeks(core, { kind: 'winProbability', family: 'gaussian' }, { ...input, P: q.price }, { views: true });
      for (const k of ['price', 'winProbability', 'expectedReward', 'dpdu'] as const) expect(Array.from(q[k])).toEqual(Array.from(plain[k]));
      for (const k of ['delta', 'gamma', 'vega', 'profit'] as const) expect(Array.from(g[k])).toEqual(Array.from(gPlain[k]));
    });
    expect(() => optimalQuote(core, u, c.map((x, i) => (i === 7 ? Infinity : x)), noise, { views: true })).toThrow(/c\[7\] must be finite/);
  });
});
