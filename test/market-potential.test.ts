/**
 * The market kernels (assembly/market.ts) against their twin (src/core/twin/market.ts) on both WASM
 * builds; the gradient of ER against central finite differences; the oracle's exact expectation
 * over participants equals ∇ER, the sampled-purchase mean lies within 4 standard errors of it; the
 * one-nest μ_1 = μ case against the multinomial-logit closed form.
 */
import { describe, expect, it } from 'vitest';
import { WasmCore } from '../src/core/wasm.js';
import { MarketPotential, checkMarket, clearingProblem, smoothnessBound, type Market } from '../src/market/potential.js';
import { randomMarket } from '../src/market/randomMarket.js';
import { MarketRng } from '../src/market/random.js';
import * as twin from '../src/core/twin/market.js';

const cores = { simd: WasmCore.create({ variant: 'simd' }), scalar: WasmCore.create({ variant: 'scalar' }) };

function setupTwin(mk: Market): void {
  const { n, m, L, K } = checkMarket(mk);
  twin.marketSetup(n, m, L, K, mk.mu, mk.outsideOption ? 1 : 0, mk.values, mk.weight, mk.nest, mk.muNest, mk.costs, mk.capacity, mk.beta);
}

function close(a: number, b: number, rel: number, scale = 1): boolean {
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), scale);
}

function randomPrices(rng: MarketRng, n: number, hi = 4): Float64Array {
  // some prices at 0 and some below every cost, to cross every branch of the supply curve
  return Float64Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : hi * rng.uniform()));
}

const markets: [string, Market][] = [
  ['default 10x100x5, 3 nests', randomMarket(1)],
  ['outside option, 7 products, 4 nests', randomMarket(2, { products: 7, nests: 4, consumers: 20, suppliers: 3, outsideOption: true })],
  ['one product, large values', randomMarket(3, { products: 1, nests: 1, consumers: 5, suppliers: 2, values: [30, 60] })],
  ['small capacities (full-capacity branch)', randomMarket(4, { products: 6, nests: 2, consumers: 30, suppliers: 4, capacity: [0.05, 0.3] })],
];

describe('market kernels vs twin', () => {
  for (const [name, mk] of markets) {
    for (const [variant, core] of Object.entries(cores)) {
      it(`${name}: ${variant} potential, supply, demand, gradient and oracles equal the twin to 1e-12`, () => {
        const pot = new MarketPotential(mk, core);
        try {
          const { n } = pot.size;
          const rng = new MarketRng(7);
          for (let rep = 0; rep < 5; rep++) {
            const p = randomPrices(rng, n, rep === 4 ? 40 : 4);
            const s = pot.evaluate(p);
            setupTwin(mk);
            const ts = new Float64Array(n), td = new Float64Array(n), tg = new Float64Array(n);
            const tv = twin.marketPotential(p, ts, td, tg);
            expect(close(s.value, tv, 1e-12)).toBe(true);
            for (let i = 0; i < n; i++) {
              expect(close(s.supply[i], ts[i], 1e-12)).toBe(true);
              expect(close(s.demand[i], td[i], 1e-12)).toBe(true);
              // the gradient is a difference: relative to the size of its terms
              expect(close(s.grad[i], tg[i], 1e-12, ts[i] + td[i])).toBe(true);
            }
            const g = new Float64Array(n), h = new Float64Array(n), tmp = new Float64Array(n);
            for (let q = 0; q < pot.participants; q += 3) {
              pot.oracle(p, q, g);
              twin.marketOracle(p, q, h);
              for (let i = 0; i < n; i++) expect(close(g[i], h[i], 1e-12)).toBe(true);
              const u = rng.uniform();
              const b1 = pot.oracleSampled(p, q, u, g);
              const b2 = twin.marketOracleSampled(p, q, u, h, tmp);
              expect(b1).toBe(b2);
              for (let i = 0; i < n; i++) expect(close(g[i], h[i], 1e-12)).toBe(true);
            }
          }
        } finally {
          pot.dispose();
        }
      });
    }
  }
});

describe('market potential: calculus and the oracles', () => {
  for (const [name, mk] of markets) {
    it(`${name}: ∇ER equals central finite differences of ER`, () => {
      const pot = new MarketPotential(mk, cores.simd);
      try {
        const { n } = pot.size;
        const rng = new MarketRng(11);
        for (let rep = 0; rep < 3; rep++) {
          const p = Float64Array.from({ length: n }, () => 0.2 + 3 * rng.uniform());
          const s = pot.evaluate(p);
          for (let i = 0; i < n; i++) {
            const h = 1e-5;
            const up = p.slice(), dn = p.slice();
            up[i] += h;
            dn[i] -= h;
            const fd = (pot.evaluate(up).value - pot.evaluate(dn).value) / (2 * h);
            // ER is C1 with a piecewise-quadratic supplier part: central differences are exact up
            // to O(h^2) and rounding of ER / h
            expect(Math.abs(fd - s.grad[i])).toBeLessThan(1e-6 * (1 + Math.abs(s.value)));
          }
        }
      } finally {
        pot.dispose();
      }
    });

    it(`${name}: the oracle's expectation over participants equals ∇ER; the sampled-purchase mean is within 4 standard errors`, () => {
      const pot = new MarketPotential(mk, cores.simd);
      try {
        const { n } = pot.size;
        const N = pot.participants;
        const p = Float64Array.from({ length: n }, (_, i) => 0.5 + 0.25 * i);
        const grad = pot.evaluate(p).grad;
        const g = new Float64Array(n);
        const mean = new Float64Array(n);
        let scale = 0;
        for (let q = 0; q < N; q++) {
          pot.oracle(p, q, g);
          for (let i = 0; i < n; i++) {
            mean[i] += g[i] / N;
            scale = Math.max(scale, Math.abs(g[i]) / N);
          }
        }
        for (let i = 0; i < n; i++) expect(Math.abs(mean[i] - grad[i])).toBeLessThanOrEqual(1e-12 * Math.max(1, scale * N));
        // sampled purchase: draws of (participant, u)
        const rng = new MarketRng(5);
        const draws = 40000;
        const sum = new Float64Array(n), sum2 = new Float64Array(n);
        for (let d = 0; d < draws; d++) {
          pot.oracleSampled(p, rng.below(N), rng.uniform(), g);
          for (let i = 0; i < n; i++) {
            sum[i] += g[i];
            sum2[i] += g[i] * g[i];
          }
        }
        for (let i = 0; i < n; i++) {
          const m1 = sum[i] / draws;
          const sd = Math.sqrt(Math.max(0, sum2[i] / draws - m1 * m1));
          const se = sd / Math.sqrt(draws);
          expect(se).toBeGreaterThan(0);
          expect(Math.abs(m1 - grad[i])).toBeLessThan(4 * se);
        }
      } finally {
        pot.dispose();
      }
    });
  }

  it('one nest with μ_1 = μ is multinomial logit: ER, demand and surplus against the closed form', () => {
    const base = randomMarket(9, { products: 5, nests: 1, consumers: 8, suppliers: 2, mu: 0.7 });
    for (const outside of [false, true]) {
      const mk: Market = { ...base, muNest: new Float64Array([0.7]), outsideOption: outside };
      const pot = new MarketPotential(mk, cores.simd);
      try {
        const n = 5;
        const p = Float64Array.from({ length: n }, (_, i) => 1 + 0.3 * i);
        const s = pot.evaluate(p);
        let er = 0;
        const demand = new Float64Array(n);
        for (let j = 0; j < 8; j++) {
          const ex = Array.from({ length: n }, (_, i) => Math.exp((mk.values[j * n + i] - p[i]) / 0.7));
          const z = ex.reduce((x, y) => x + y, 0) + (outside ? 1 : 0);
          er += mk.weight[j] * 0.7 * Math.log(z);
          for (let i = 0; i < n; i++) demand[i] += (mk.weight[j] * ex[i]) / z;
        }
        const supply = new Float64Array(n);
        for (let k = 0; k < 2; k++) {
          for (let i = 0; i < n; i++) {
            const v = p[i] - mk.costs[k * n + i];
            const xbar = mk.capacity[k * n + i];
            const b = mk.beta[k];
            const x = Math.min(Math.max(v / b, 0), xbar);
            supply[i] += x;
            er += v <= 0 ? 0 : x < xbar ? (v * v) / (2 * b) : v * xbar - (b * xbar * xbar) / 2;
          }
        }
        expect(close(s.value, er, 1e-12)).toBe(true);
        for (let i = 0; i < n; i++) {
          expect(close(s.demand[i], demand[i], 1e-12)).toBe(true);
          expect(close(s.supply[i], supply[i], 1e-12)).toBe(true);
        }
      } finally {
        pot.dispose();
      }
    }
  });

  it('rejects a malformed market naming the field, tells when no prices clear it, and states the smoothness bound', () => {
    const mk = randomMarket(1, { products: 3, nests: 2, consumers: 2, suppliers: 1 });
    expect(() => checkMarket({ ...mk, muNest: new Float64Array([0.5, 1.5]) })).toThrow(/muNest\[1\]: must be in \(0, mu = 1\]/);
    expect(() => checkMarket({ ...mk, nest: new Int32Array([0, 0, 0]) })).toThrow(/muNest\[1\]: the nest holds no product/);
    expect(() => checkMarket({ ...mk, capacity: new Float64Array([1, -1, 1]) })).toThrow(/capacity\[0\]\[1\]/);
    expect(() => checkMarket({ ...mk, values: new Float64Array(5) })).toThrow(/values: must hold 2 x 3 values/);
    expect(clearingProblem(mk)).toBeNull();
    expect(clearingProblem({ ...mk, capacity: new Float64Array([1, 0, 1]) })).toEqual({ product: 1, message: 'has capacity 0 at every supplier: no finite price clears it' });
    // 2 consumers, total capacity 1.5: clears only with an outside option
    const tight = { ...mk, capacity: new Float64Array([0.5, 0.5, 0.5]) };
    expect(clearingProblem(tight)?.message).toMatch(/^total capacity 1\.5 does not exceed the consumers' total weight 2/);
    expect(clearingProblem({ ...tight, outsideOption: true })).toBeNull();
    const L = smoothnessBound(mk);
    expect(L).toBeCloseTo(1 / mk.beta[0] + 2 / Math.min(...mk.muNest), 12);
  });
});
