/**
 * The market solvers reach the KKT conditions of the market-clearing prices (every positive price
 * clears, excess supply only at price 0): the deterministic ones to 1e-9, accelerated in fewer
 * steps than plain gradient; the stochastic ones within a tolerance that shrinks with the steps,
 * from the same seed to the same prices.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { WasmCore } from '../src/core/wasm.js';
import { MarketPotential, type Market } from '../src/market/potential.js';
import { randomMarket } from '../src/market/randomMarket.js';
import { kktResidual, solveMarket, type MarketMethod, type MarketOracle } from '../src/market/solvers.js';

const core = WasmCore.create({ variant: 'simd' });

/** A market whose last product is a by-product: negative unit costs, low values — it clears at price 0 with excess supply. */
function byProductMarket(): Market {
  const mk = randomMarket(21, { products: 4, nests: 2, consumers: 12, suppliers: 3 });
  const n = 4;
  for (let k = 0; k < 3; k++) mk.costs[k * n + 3] = -2;
  for (let j = 0; j < 12; j++) mk.values[j * n + 3] = -6;
  return mk;
}

const markets: [string, Market][] = [
  ['4 products, 2 nests, 12 consumers, 3 suppliers', randomMarket(11, { products: 4, nests: 2, consumers: 12, suppliers: 3 })],
  ['outside option, 5 products, 3 nests', randomMarket(12, { products: 5, nests: 3, consumers: 10, suppliers: 2, outsideOption: true })],
  ['a by-product that clears at price 0', byProductMarket()],
];

const pots = markets.map(([name, mk]) => [name, new MarketPotential(mk, core)] as const);
afterAll(() => {
  for (const [, p] of [...pots].reverse()) p.dispose();
});

/** KKT with tolerance tol: positive prices clear within tol, no excess demand beyond tol at price 0. */
function expectKkt(prices: Float64Array, excess: Float64Array, tol: number): void {
  for (let i = 0; i < prices.length; i++) {
    expect(prices[i]).toBeGreaterThanOrEqual(0);
    expect(excess[i]).toBeGreaterThanOrEqual(-tol);
    expect(Math.min(prices[i], Math.abs(excess[i]))).toBeLessThanOrEqual(tol);
  }
}

describe('deterministic market solvers', () => {
  for (const [name, pot] of pots) {
    it(`${name}: gradient and accelerated reach the clearing prices; accelerated needs fewer steps`, () => {
      const g = solveMarket(pot, { method: 'gradient' });
      const a = solveMarket(pot, { method: 'accelerated' });
      for (const r of [g, a]) {
        expect(r.residual).toBeLessThanOrEqual(1e-9);
        expect(kktResidual(r.prices, r.excess)).toBe(r.residual);
        expectKkt(r.prices, r.excess, 1e-9);
        for (let i = 0; i < r.prices.length; i++) expect(r.excess[i]).toBeCloseTo(r.supply[i] - r.demand[i], 12);
      }
      for (let i = 0; i < g.prices.length; i++) expect(Math.abs(g.prices[i] - a.prices[i])).toBeLessThan(1e-6);
      expect(a.steps).toBeLessThan(g.steps);
      if (name.startsWith('a by-product')) {
        expect(a.prices[3]).toBe(0);
        expect(a.excess[3]).toBeGreaterThan(1);
        expect(Math.min(...Array.from(a.prices.subarray(0, 3)))).toBeGreaterThan(0);
      }
    });
  }
});

describe('stochastic market solvers', () => {
  const runs: [MarketMethod, MarketOracle][] = [
    ['sgd', 'probabilities'],
    ['sgd', 'purchase'],
    ['adagrad', 'probabilities'],
    ['adagrad', 'purchase'],
    ['smd', 'probabilities'],
  ];
  for (const [name, pot] of pots) {
    const star = solveMarket(pot, { method: 'accelerated', tol: 1e-12 });
    for (const [method, oracle] of runs) {
      it(`${name}: ${method} (${oracle}) approaches the clearing prices as the steps grow`, () => {
        // O(1/√T): the residual (in units of quantity) within 80/√T, the prices within 20/√T of p*
        const res: number[] = [];
        for (const steps of [2000, 20000, 200000]) {
          const r = solveMarket(pot, { method, oracle, steps, seed: 3 });
          expect(r.steps).toBe(steps);
          expect(r.residual).toBeLessThanOrEqual(80 / Math.sqrt(steps));
          const dist = Math.max(...Array.from(r.prices, (p, i) => Math.abs(p - star.prices[i])));
          expect(dist).toBeLessThanOrEqual(20 / Math.sqrt(steps));
          expectKkt(r.prices, r.excess, 80 / Math.sqrt(steps));
          res.push(r.residual);
        }
        expect(res[2]).toBeLessThan(res[0] / 3);
      });
    }
  }
});

describe('solver options', () => {
  const pot = pots[0][1];
  it('the same seed gives the same prices, another seed other prices', () => {
    const a = solveMarket(pot, { method: 'sgd', steps: 3000, seed: 7 });
    const b = solveMarket(pot, { method: 'sgd', steps: 3000, seed: 7 });
    const c = solveMarket(pot, { method: 'sgd', steps: 3000, seed: 8 });
    expect(Array.from(a.prices)).toEqual(Array.from(b.prices));
    expect(Array.from(a.prices)).not.toEqual(Array.from(c.prices));
  });

  it('rejects a bad method, step count, step size, start or box, naming it', () => {
    expect(() => solveMarket(pot, { method: 'newton' as MarketMethod })).toThrow(/method must be one of sgd, adagrad, smd, gradient, accelerated/);
    expect(() => solveMarket(pot, { method: 'sgd', steps: 0 })).toThrow(/steps must be a positive integer/);
    expect(() => solveMarket(pot, { method: 'sgd', eta: -1 })).toThrow(/eta must be a finite number > 0/);
    expect(() => solveMarket(pot, { method: 'gradient', start: new Float64Array(2) })).toThrow(/start must hold 4 finite prices/);
    expect(() => solveMarket(pot, { method: 'smd', steps: 10, box: { min: 0, max: 1 } })).toThrow(/smd box must satisfy 0 < min < max/);
    // without an outside option 12 consumers cannot be served by a total capacity of 4.8
    const short = randomMarket(11, { products: 4, nests: 2, consumers: 12, suppliers: 3, capacity: [0.4, 0.4] });
    const p2 = new MarketPotential(short, core);
    try {
      expect(() => solveMarket(p2, { method: 'gradient' })).toThrow(/market solve: total capacity 4\.8\d* does not exceed the consumers' total weight 12/);
    } finally {
      p2.dispose();
    }
    const p3 = new MarketPotential({ ...short, outsideOption: true }, core);
    try {
      const r = solveMarket(p3, { method: 'accelerated' });
      expect(r.residual).toBeLessThanOrEqual(1e-9);
      // supply is at capacity for every product: the prices ration demand down to it
      for (let i = 0; i < 4; i++) expect(r.supply[i]).toBeCloseTo(1.2, 6);
    } finally {
      p3.dispose();
    }
  });
});
