/**
 * The inventory skew (docs/math.md §3.4, src/pricing/inventorySkew.ts): exactly 1 at target,
 * decreasing in inventory, positive and finite on wild inputs, the columnar form equal to the
 * scalar one bit for bit, the validator naming the field, and values against the independent
 * 60-digit oracle test/fixtures/inventory_skew_oracle.py (inventory_skew.json).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Rng } from '../src/sim/random.js';
import { RepricerError } from '../src/core/errors.js';
import {
  checkInventoryParams,
  inventorySkewFactor,
  inventorySkewFactors,
  inventorySkewSlope,
  type InventoryParams,
} from '../src/pricing/inventorySkew.js';

const R = new Rng(20261205, 3);
const logU = (lo: number, hi: number) => Math.exp(Math.log(lo) + R.uniform() * (Math.log(hi) - Math.log(lo)));
function randomParams(): InventoryParams {
  return checkInventoryParams({
    riskAversion: logU(1e-3, 1e3),
    volatility: logU(1e-4, 1),
    horizonDays: logU(0.01, 3650),
    holdingCost: R.uniform() < 0.3 ? 0 : logU(1e-6, 0.1),
    maxFactor: 1 + logU(1e-4, 100),
  });
}
const base = checkInventoryParams({ riskAversion: 10, volatility: 0.05, horizonDays: 30, holdingCost: 0.0002 });

describe('inventory skew factor', () => {
  it('is exactly 1 at target, for any parameters and target', () => {
    for (let k = 0; k < 2000; k++) {
      const p = randomParams();
      const t = R.uniform() < 0.1 ? 0 : logU(1e-6, 1e9);
      expect(inventorySkewFactor(t, t, p)).toBe(1);
    }
  });

  it('is exactly 1 without skew parameters or with missing values', () => {
    const none = checkInventoryParams({ riskAversion: 0, volatility: 0.3, horizonDays: 30 });
    expect(inventorySkewFactor(5000, 10, none)).toBe(1);
    expect(inventorySkewFactor(NaN, 1000, base)).toBe(1);
    expect(inventorySkewFactor(1000, NaN, base)).toBe(1);
    expect(inventorySkewFactor(1000, -5, base)).toBe(1);
    expect(inventorySkewFactor(1000, Infinity, base)).toBe(1);
  });

  it('overstock lowers the price, scarcity raises it; target 0 saturates', () => {
    expect(inventorySkewFactor(1500, 1000, base)).toBeLessThan(1);
    expect(inventorySkewFactor(500, 1000, base)).toBeGreaterThan(1);
    expect(inventorySkewFactor(5, 0, base)).toBe(0.5); // 1/maxFactor
    expect(inventorySkewFactor(-5, 0, base)).toBe(2);
    expect(inventorySkewFactor(0, 0, base)).toBe(1);
    // to first order it is the Avellaneda–Stoikov shift exp(−κq): κ = 30·(10·0.0025 + 0.0002) = 0.756
    expect(inventorySkewSlope(base)).toBeCloseTo(0.756, 14);
    const q = 0.001;
    expect(inventorySkewFactor(1000 * (1 + q), 1000, base)).toBeCloseTo(Math.exp(-0.756 * q), 9);
  });

  it('holding cost alone skews too (γσ²τ = 0, h > 0)', () => {
    const h = checkInventoryParams({ riskAversion: 0, volatility: 0, horizonDays: 30, holdingCost: 0.001 });
    expect(inventorySkewFactor(1200, 1000, h)).toBeLessThan(inventorySkewFactor(1100, 1000, h));
    expect(inventorySkewFactor(900, 1000, h)).toBeGreaterThan(1);
  });

  it('property: decreasing in inventory over random parameters (strictly where the change is visible)', () => {
    let strict = 0;
    for (let k = 0; k < 3000; k++) {
      const p = randomParams();
      const target = logU(1e-3, 1e7);
      const a = target * logU(1e-3, 1e3);
      const b = a * (1 + logU(1e-6, 10));
      const fa = inventorySkewFactor(a, target, p);
      const fb = inventorySkewFactor(b, target, p);
      expect(fb, `a=${a} b=${b} target=${target} ${JSON.stringify(p)}`).toBeLessThanOrEqual(fa);
      // strict wherever tanh is not saturated and the step in κq is far above rounding
      const kappa = inventorySkewSlope(p);
      const L = Math.log(p.maxFactor);
      const xa = (kappa * (a - target)) / target / L;
      const xb = (kappa * (b - target)) / target / L;
      if (Math.abs(xa) < 5 && Math.abs(xb) < 5 && xb - xa > 1e-9) {
        expect(fb).toBeLessThan(fa);
        strict++;
      }
    }
    expect(strict).toBeGreaterThan(500);
  });

  it('positive, finite and inside [1/maxFactor, maxFactor] on wild inputs', () => {
    const wild = [0, -0, 1e-320, 5e-324, 1e-300, 1, 1e15, 1e300, 1.7976931348623157e308, -1, -1e308, Infinity, -Infinity, NaN];
    for (let k = 0; k < 200; k++) {
      const p = randomParams();
      for (const inv of wild) {
        for (const t of wild) {
          const f = inventorySkewFactor(inv, t, p);
          expect(Number.isFinite(f) && f > 0, `inv=${inv} target=${t}`).toBe(true);
          expect(f).toBeGreaterThanOrEqual(1 / p.maxFactor - 1e-15);
          expect(f).toBeLessThanOrEqual(p.maxFactor * (1 + 1e-15));
        }
      }
    }
  });

  it('the columnar form equals the scalar one bit for bit, in place too', () => {
    const n = 5000;
    const inv = new Float64Array(n);
    const tg = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      tg[i] = R.uniform() < 0.05 ? 0 : logU(1, 1e5);
      inv[i] = R.uniform() < 0.02 ? NaN : tg[i] * logU(0.01, 100);
    }
    const out = new Float64Array(n);
    inventorySkewFactors(inv, tg, base, out);
    for (let i = 0; i < n; i++) expect(Object.is(out[i], inventorySkewFactor(inv[i], tg[i], base))).toBe(true);
    const copy = inv.slice();
    inventorySkewFactors(copy, tg, base, copy);
    expect(Array.from(copy)).toEqual(Array.from(out));
    expect(() => inventorySkewFactors(inv, tg.subarray(1), base, out)).toThrow(/one length/);
    const none = checkInventoryParams({ riskAversion: 0, volatility: 0, horizonDays: 1 });
    inventorySkewFactors(inv, tg, none, out);
    expect(out.every((v) => v === 1)).toBe(true);
  });
});

describe('checkInventoryParams', () => {
  const bad = (obj: unknown, re: RegExp) => {
    let err: unknown;
    try {
      checkInventoryParams(obj, 'policy.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RepricerError);
    expect((err as RepricerError).code).toBe('INVALID_ARGUMENT');
    expect((err as RepricerError).message).toMatch(re);
  };
  it('fills the defaults', () => {
    expect(checkInventoryParams({ riskAversion: 1, volatility: 0.1, horizonDays: 7 })).toEqual({ riskAversion: 1, volatility: 0.1, horizonDays: 7, holdingCost: 0, maxFactor: 2 });
  });
  it('names the field and what was expected', () => {
    bad(null, /^policy\.json: invalid policy: inventory must be an object/);
    bad([], /inventory must be an object/);
    bad({ volatility: 0.1, horizonDays: 7 }, /inventory\.riskAversion is required/);
    bad({ riskAversion: -1, volatility: 0.1, horizonDays: 7 }, /inventory\.riskAversion must be a finite number >= 0, got -1/);
    bad({ riskAversion: 1, volatility: '0.1', horizonDays: 7 }, /inventory\.volatility must be a finite number >= 0 .*got "0\.1"/);
    bad({ riskAversion: 1, volatility: 0.1, horizonDays: 0 }, /inventory\.horizonDays must be a finite number > 0/);
    bad({ riskAversion: 1, volatility: 0.1, horizonDays: 7, holdingCost: -0.1 }, /inventory\.holdingCost must be/);
    bad({ riskAversion: 1, volatility: 0.1, horizonDays: 7, maxFactor: 1 }, /inventory\.maxFactor must be a finite number > 1, got 1/);
    bad({ riskAversion: 1, volatility: 0.1, horizonDays: 7, target: 3 }, /inventory\.target: unknown field/);
    bad({ riskAversion: 1e300, volatility: 1e10, horizonDays: 7 }, /must be finite, got Infinity/);
  });
});

describe('inventory skew against the independent oracle (test/fixtures/inventory_skew_oracle.py)', () => {
  type Enc = number | 'NaN' | 'Infinity' | '-Infinity';
  const dec = (v: Enc) => (typeof v === 'number' ? v : Number(v));
  const fx = JSON.parse(readFileSync('test/fixtures/inventory_skew.json', 'utf8')) as {
    cases: { inventory: Enc; target: Enc; params: InventoryParams; factor: number }[];
  };
  it('every case within 1e-13 relative (exactly 1 where the oracle says 1)', () => {
    expect(fx.cases.length).toBeGreaterThan(600);
    let saturated = 0;
    let interior = 0;
    for (const c of fx.cases) {
      const p = checkInventoryParams(c.params);
      const got = inventorySkewFactor(dec(c.inventory), dec(c.target), p);
      const tag = JSON.stringify(c);
      if (c.factor === 1) expect(got, tag).toBe(1);
      else expect(Math.abs(got - c.factor) / c.factor, tag).toBeLessThan(1e-13);
      if (Math.abs(Math.log(c.factor)) > 0.999 * Math.log(p.maxFactor)) saturated++;
      else if (c.factor !== 1) interior++;
    }
    // the fixture covers both regimes
    expect(saturated).toBeGreaterThan(20);
    expect(interior).toBeGreaterThan(200);
  });
});
