import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { validatePolicy, reasonString, reasonMaskPossible, STATUS_CODE, REASON_BIT, type Policy } from '../src/pricing/policy.js';
import { applyPolicy, type PolicyRow, type PolicyResult } from '../src/pricing/guardrails.js';

const row = (over: Partial<PolicyRow>): PolicyRow => ({
  productId: 'A', modelPrice: 10, cost: 0, currentPrice: NaN, minPrice: NaN, maxPrice: NaN, mapPrice: NaN, gamma: -1, stdError: 0, ...over,
});
const why = (r: PolicyResult) => reasonString(r.reasons);

describe('policy: guardrails', () => {
  it('leaves an in-bounds price alone with status ok', () => {
    expect(applyPolicy({}, row({}), false)).toMatchObject({ price: 10, status: STATUS_CODE.ok, reasons: 0 });
  });
  it('margin floor at cost x 1.1 (seed document), max step of +-30%, bounds: the binding one is named', () => {
    const p: Policy = { minMarginOverCost: 1.1, maxChangePct: 30 };
    const r = applyPolicy(p, row({ modelPrice: 5, cost: 8 }), false);
    expect(r.price).toBe(8 * 1.1);
    expect(why(r)).toBe('margin_floor');
    const s = applyPolicy(p, row({ modelPrice: 20, currentPrice: 10 }), false);
    expect(s.price).toBe(13);
    expect(why(s)).toBe('max_step');
    expect(s.status).toBe(STATUS_CODE.clipped);
    // the ceiling 12 is inside the step band [7, 13]: the ceiling is what binds
    const b = applyPolicy({ bounds: { max: 12 }, maxChangePct: 30 }, row({ modelPrice: 20, currentPrice: 10 }), false);
    expect(b).toMatchObject({ price: 12, status: STATUS_CODE.clipped, reasons: REASON_BIT.ceiling });
  });
  it('rounding never breaks the margin floor: cost 15.81 x 1.1 = 17.391 publishes 17.40, not 17.39', () => {
    const r = applyPolicy({ minMarginOverCost: 1.1, rounding: { step: 0.01 } }, row({ modelPrice: 12, cost: 15.81 }), false);
    expect(r.price).toBe(17.4);
    expect(r.price).toBeGreaterThanOrEqual(15.81 * 1.1);
    expect(why(r)).toBe('margin_floor;rounded');
    // a floor that is 3.3 in decimal but 3.3000000000000003 as the double product 3 x 1.1: the
    // next cent, because a user's check price >= cost * 1.1 is done in doubles
    const t = applyPolicy({ minMarginOverCost: 1.1, rounding: { step: 0.01 } }, row({ modelPrice: 1, cost: 3 }), false);
    expect(3 * 1.1).toBeGreaterThan(3.3);
    expect(t.price).toBe(3.31);
  });
  it('rounding never breaks the step: 56.33 with a 30 % step rounds up onto the band (39.44, not 39.43)', () => {
    const r = applyPolicy({ maxChangePct: 30, rounding: { step: 0.01 } }, row({ modelPrice: 20, currentPrice: 56.33 }), false);
    expect(r.price).toBe(39.44);
    expect(Math.abs(r.price / 56.33 - 1)).toBeLessThanOrEqual(0.3);
    expect(why(r)).toBe('max_step;rounded');
  });
  it('rounding down onto a ceiling and up onto a floor, whatever the mode', () => {
    expect(applyPolicy({ rounding: { step: 0.05, mode: 'up' }, bounds: { max: 10.02 } }, row({ modelPrice: 10.03 }), false)).toMatchObject({ price: 10, reasons: REASON_BIT.ceiling | REASON_BIT.rounded });
    expect(applyPolicy({ rounding: { step: 0.05, mode: 'down' }, bounds: { min: 10.02 } }, row({ modelPrice: 9 }), false)).toMatchObject({ price: 10.05, reasons: REASON_BIT.floor | REASON_BIT.rounded });
  });
  it('no grid price inside the bounds: rejected (conflicting_bounds), never published unrounded', () => {
    const r = applyPolicy({ rounding: { step: 0.01 } }, row({ modelPrice: 13.3, minPrice: 13.335, maxPrice: 13.337 }), false);
    expect(r).toMatchObject({ status: STATUS_CODE.rejected, reasons: REASON_BIT.conflicting_bounds });
    expect(r.price).toBeNaN();
  });
  it('contradictory bounds are rejected with a reason: row min > max, row max < policy min, max_price below bounds.min', () => {
    const rej = { status: STATUS_CODE.rejected, reasons: REASON_BIT.conflicting_bounds };
    expect(applyPolicy({}, row({ minPrice: 30, maxPrice: 10 }), false)).toMatchObject(rej);
    expect(applyPolicy({ bounds: { min: 1 } }, row({ maxPrice: 0.5 }), false)).toMatchObject(rej);
    expect(applyPolicy({ products: { A: { min: 11 } } }, row({ maxPrice: 9.5 }), false)).toMatchObject(rej);
    expect(applyPolicy({ bounds: { max: 20 } }, row({ minPrice: 25 }), false)).toMatchObject(rej);
    // the margin floor above the ceiling leaves no price either
    expect(applyPolicy({ minMarginOverCost: 1.5 }, row({ cost: 10, maxPrice: 12 }), false)).toMatchObject(rej);
    expect(applyPolicy({}, row({ minPrice: -1 }), false)).toMatchObject(rej);
    expect(applyPolicy({}, row({ maxPrice: 0 }), false)).toMatchObject(rej);
  });
  it('a negative or non-finite cost is rejected (invalid_cost)', () => {
    for (const cost of [-5, -Infinity, Infinity, NaN]) expect(applyPolicy({}, row({ cost }), false)).toMatchObject({ status: STATUS_CODE.rejected, reasons: REASON_BIT.invalid_cost });
    expect(why(applyPolicy({}, row({ cost: -5 }), true))).toBe('cold_start;invalid_cost');
  });
  it('a model price outside the price domain is rejected with one reason (out_of_domain), never held or clipped', () => {
    for (const modelPrice of [NaN, Infinity, 9.24e307, 2e12]) {
      const r = applyPolicy({ bounds: { max: 40 } }, row({ modelPrice, currentPrice: 4 }), false);
      expect(r).toMatchObject({ status: STATUS_CODE.rejected, reasons: REASON_BIT.out_of_domain });
    }
    expect(applyPolicy({}, row({ stdError: NaN }), false)).toMatchObject({ status: STATUS_CODE.rejected, reasons: REASON_BIT.out_of_domain });
  });
  it('per-product policy bounds and per-SKU columns all apply; the tightest wins', () => {
    const p: Policy = { bounds: { min: 1, max: 100 }, products: { A: { min: 11 } } };
    expect(applyPolicy(p, row({}), false).price).toBe(11);
    expect(applyPolicy(p, row({ minPrice: 12 }), false).price).toBe(12);
    expect(applyPolicy(p, row({ modelPrice: 50, maxPrice: 30 }), false).price).toBe(30);
  });
  it('cold start is flagged; a clipped cold start says both', () => {
    expect(applyPolicy({}, row({}), true).status).toBe(STATUS_CODE.cold_start);
    const r = applyPolicy({ bounds: { max: 5 } }, row({}), true);
    expect(r.status).toBe(STATUS_CODE.clipped);
    expect(why(r)).toBe('cold_start;ceiling');
  });
  it('the breaker holds today\'s price when gamma >= 0 or the std error is too large', () => {
    const p: Policy = { breaker: { maxStdErrorPct: 10 } };
    expect(applyPolicy(p, row({ currentPrice: 9, gamma: 0.1 }), false)).toMatchObject({ price: 9, status: STATUS_CODE.held, reasons: REASON_BIT.breaker_gamma });
    const r = applyPolicy(p, row({ currentPrice: 9, stdError: 2 }), false);
    expect(r.status).toBe(STATUS_CODE.held);
    expect(why(r)).toBe('breaker_std_error');
  });
  it('the breaker fails closed: a NaN Gamma holds the price', () => {
    expect(applyPolicy({ breaker: {} }, row({ currentPrice: 9, gamma: NaN }), false)).toMatchObject({ price: 9, status: STATUS_CODE.held, reasons: REASON_BIT.breaker_gamma });
  });
  it('a held price obeys every bound: moved onto the nearest one (and the grid), still held, with the bound named', () => {
    const p: Policy = { breaker: {}, bounds: { max: 500 }, rounding: { step: 0.01 } };
    const below = applyPolicy(p, row({ currentPrice: 0.5, gamma: 1, cost: 12, minPrice: 10, maxPrice: 30 }), false);
    expect(below).toMatchObject({ price: 10, status: STATUS_CODE.held, reasons: REASON_BIT.breaker_gamma | REASON_BIT.floor });
    const above = applyPolicy(p, row({ currentPrice: 900, gamma: 1, cost: 12, minPrice: 10, maxPrice: 30 }), false);
    expect(above).toMatchObject({ price: 30, status: STATUS_CODE.held, reasons: REASON_BIT.breaker_gamma | REASON_BIT.ceiling });
    // today's price inside the bounds is kept exactly, even off the grid
    expect(applyPolicy(p, row({ currentPrice: 12.345, gamma: 1, minPrice: 10, maxPrice: 30 }), false).price).toBe(12.345);
    // a move onto a bound beyond the step says the step gave way
    const far = applyPolicy({ ...p, maxChangePct: 30 }, row({ currentPrice: 900, gamma: 1, maxPrice: 30 }), false);
    expect(far).toMatchObject({ price: 30, status: STATUS_CODE.held });
    expect(why(far)).toBe('ceiling;breaker_gamma;step_infeasible');
  });
  it('the step gives way to the hard bounds when no price satisfies both, and says so', () => {
    const r = applyPolicy({ maxChangePct: 10, bounds: { max: 50 } }, row({ modelPrice: 80, currentPrice: 100 }), false);
    expect(r).toMatchObject({ price: 50, status: STATUS_CODE.clipped });
    expect(why(r)).toBe('max_step;ceiling;step_infeasible');
  });
  it('every mask the rules produce is one the formatters print (reasonMaskPossible)', () => {
    const seen = [
      applyPolicy({ breaker: {}, maxChangePct: 30, rounding: { step: 0.01 } }, row({ currentPrice: 900, gamma: 1, maxPrice: 30.005 }), true),
      applyPolicy({}, row({ cost: -1 }), true),
    ];
    for (const r of seen) expect(reasonMaskPossible(r.reasons)).toBe(true);
    expect(reasonMaskPossible(REASON_BIT.invalid_cost | REASON_BIT.floor)).toBe(false);
    expect(reasonMaskPossible(REASON_BIT.breaker_gamma | REASON_BIT.breaker_std_error)).toBe(false);
  });
  it('rejects a bad policy file naming the field', () => {
    expect(() => validatePolicy({ maxChangePct: -3 }, 'p.json')).toThrow(/p.json: invalid policy: maxChangePct/);
    expect(() => validatePolicy({ bounds: { min: 5, max: 2 } }, 'p.json')).toThrow(/min 5 > max 2/);
    expect(() => validatePolicy({ roundign: {} }, 'p.json')).toThrow(/roundign/);
    expect(() => validatePolicy({ bounds: { max: 10 }, products: { A: { min: 12 } } }, 'p.json')).toThrow('p.json: invalid policy: products.A.min 12 > bounds.max 10');
    expect(() => validatePolicy({ bounds: { min: 10 }, products: { A: { max: 5 } } }, 'p.json')).toThrow('p.json: invalid policy: products.A.max 5 < bounds.min 10');
  });
  it('says what is allowed: the values of an enum, the options of an object, what is required', () => {
    expect(() => validatePolicy({ rounding: { step: 0.01, mode: 'ceil' } }, 'p.json')).toThrow('p.json: invalid policy: rounding.mode: must be one of nearest, down, up');
    expect(() => validatePolicy({ roundign: {} }, 'p.json')).toThrow(
      'p.json: invalid policy: roundign: is not a policy option (allowed: bounds, products, maxChangePct, minMarginOverCost, rounding, breaker, returns, inventory, expertBlend, segmentBreaker, market)',
    );
    expect(() => validatePolicy({ breaker: { maxStdError: 5 } }, 'p.json')).toThrow('breaker.maxStdError: is not a policy option (allowed: maxStdErrorPct, requireConcave)');
    expect(() => validatePolicy({ products: { A: { mn: 1 } } }, 'p.json')).toThrow('products.A.mn: is not a policy option (allowed: min, max)');
    expect(() => validatePolicy({ rounding: { mode: 'up' } }, 'p.json')).toThrow('rounding.step: is required');
  });
});

describe('policy: properties', () => {
  const arb = fc.record({
    model: fc.double({ min: 0, max: 1e4, noNaN: true }),
    cur: fc.option(fc.double({ min: 0.01, max: 1e3, noNaN: true }), { nil: undefined }),
    lo: fc.double({ min: 0, max: 50, noNaN: true }),
    width: fc.double({ min: 0, max: 100, noNaN: true }),
    step: fc.option(fc.constantFrom(0.01, 0.05, 0.1, 1), { nil: undefined }),
    maxChange: fc.option(fc.double({ min: 1, max: 90, noNaN: true }), { nil: undefined }),
  });
  const inBounds = (apply: (p: Policy, r: PolicyRow) => PolicyResult) =>
    fc.property(arb, (a) => {
      const p: Policy = { bounds: { min: a.lo, max: a.lo + a.width }, maxChangePct: a.maxChange, rounding: a.step ? { step: a.step } : undefined };
      const r = apply(p, row({ modelPrice: a.model, currentPrice: a.cur ?? NaN }));
      if (r.status === STATUS_CODE.rejected) {
        // only when no grid point lies inside the bounds
        if (r.reasons !== REASON_BIT.conflicting_bounds || a.step === undefined) return false;
        const hi = a.lo + a.width;
        const k0 = Math.floor(a.lo / a.step) - 1;
        for (let k = k0; k <= k0 + 3; k++) {
          const g = Number((k * a.step).toFixed(10)); // the decimal grid point as a double
          if (g >= a.lo && g <= hi) return false;
        }
        return true;
      }
      return Number.isFinite(r.price) && r.price >= a.lo && r.price <= a.lo + a.width;
    });
  it('published prices are finite and inside the hard bounds, with no tolerance (or the row is rejected because no grid price fits)', () => {
    fc.assert(inBounds((p, r) => applyPolicy(p, r, false)), { numRuns: 5000 });
  });
  it('companion: applying bounds before the max-step rule (wrong order) breaks the property', () => {
    const wrong = (p: Policy, r: PolicyRow): PolicyResult => {
      const a = applyPolicy({ bounds: p.bounds }, r, false);
      return applyPolicy({ maxChangePct: p.maxChangePct }, { ...r, modelPrice: a.price }, false);
    };
    expect(fc.check(inBounds(wrong), { numRuns: 5000 }).failed).toBe(true);
  });
});

describe('policy: rounding grid', () => {
  const onGrid = (round: (p: number, step: number) => number) =>
    fc.property(fc.double({ min: 0.01, max: 1e6, noNaN: true }), fc.constantFrom(0.01, 0.05, 0.1, 0.25, 1, 5), (p, step) => {
      const r = round(p, step);
      const decimals = (String(r).split('.')[1] ?? '').length;
      const stepDecimals = (String(step).split('.')[1] ?? '').length;
      return decimals <= stepDecimals && Math.abs(r - p) <= step / 2 + 1e-9 * p;
    });
  const viaPolicy = (p: number, step: number) => applyPolicy({ rounding: { step } }, row({ modelPrice: p }), false).price;
  it('rounded prices print with no more decimals than the step and move by at most half a step', () => {
    fc.assert(onGrid(viaPolicy), { numRuns: 5000 });
  });
  it('companion: naive Math.round(p / step) * step leaves binary noise and fails', () => {
    expect(fc.check(onGrid((p, step) => Math.round(p / step) * step), { numRuns: 5000 }).failed).toBe(true);
  });
});

describe('model and policy files share one schema-error wording (core/schemaErrors.ts)', () => {
  it('a model file names the field and the allowed values', async () => {
    const { validateModel } = await import('../src/model/format.js');
    const bad = {
      format: 'repricer.model/1', createdAt: 't', features: ['f1'], intercept: true,
      noise: { family: 'cauchy', scale: 1 }, reservation: 0, radius: 1, strategy: 'pooled',
      common: { theta: [0, 0], n: 1 }, products: {}, fit: { logLikelihood: 0, iterations: 0, converged: true },
    };
    expect(() => validateModel(bad, 'm.json')).toThrow('m.json: invalid model: noise.family: must be one of gaussian, logistic');
    const { common: _c, ...noCommon } = bad;
    expect(() => validateModel({ ...noCommon, noise: { family: 'gaussian', scale: 1 } }, 'm.json')).toThrow('m.json: invalid model: common: is required');
  });
});
