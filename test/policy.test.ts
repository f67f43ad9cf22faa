import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { applyPolicy, validatePolicy, reasonString, STATUS_CODE, type Policy, type PolicyRow, type PolicyResult } from '../src/pricing/policy.js';

const row = (over: Partial<PolicyRow>): PolicyRow => ({
  productId: 'A', modelPrice: 10, cost: NaN, currentPrice: NaN, minPrice: NaN, maxPrice: NaN, gamma: -1, stdError: 0, ...over,
});

describe('policy: guardrails', () => {
  it('leaves an in-bounds price alone with status ok', () => {
    expect(applyPolicy({}, row({}), false)).toEqual({ price: 10, status: STATUS_CODE.ok, reasons: 0 });
  });
  it('margin floor at cost x 1.1 (seed document), then max step of +-30%, then bounds', () => {
    const p: Policy = { minMarginOverCost: 1.1, maxChangePct: 30 };
    const r = applyPolicy(p, row({ modelPrice: 5, cost: 8 }), false);
    expect(r.price).toBeCloseTo(8.8, 12);
    expect(reasonString(r.reasons)).toBe('margin_floor');
    const s = applyPolicy(p, row({ modelPrice: 20, currentPrice: 10 }), false);
    expect(s.price).toBe(13);
    expect(reasonString(s.reasons)).toBe('max_step');
    expect(s.status).toBe(STATUS_CODE.clipped);
    const b = applyPolicy({ bounds: { max: 12 }, maxChangePct: 30 }, row({ modelPrice: 20, currentPrice: 10 }), false);
    expect(b.price).toBe(12);
    expect(reasonString(b.reasons)).toBe('max_step;ceiling');
  });
  it('per-product policy bounds and per-SKU columns both apply; the tighter wins', () => {
    const p: Policy = { bounds: { min: 1, max: 100 }, products: { A: { min: 11 } } };
    expect(applyPolicy(p, row({}), false).price).toBe(11);
    expect(applyPolicy(p, row({ minPrice: 12 }), false).price).toBe(12);
    expect(applyPolicy(p, row({ maxPrice: 9.5 }), false).price).toBe(11); // contradictory: SKU min absent -> product min wins, max lifted
  });
  it('rounds to the grid without leaving the bounds', () => {
    const r = applyPolicy({ rounding: { step: 0.05 }, bounds: { max: 10.02 } }, row({ modelPrice: 10.03 }), false);
    expect(r.price).toBe(10);
    expect(reasonString(r.reasons)).toBe('ceiling;rounded');
  });
  it('cold start is flagged; a clipped cold start says both', () => {
    expect(applyPolicy({}, row({}), true).status).toBe(STATUS_CODE.cold_start);
    const r = applyPolicy({ bounds: { max: 5 } }, row({}), true);
    expect(r.status).toBe(STATUS_CODE.clipped);
    expect(reasonString(r.reasons)).toBe('cold_start;ceiling');
  });
  it('the breaker holds today\'s price when gamma >= 0 or the std error is too large', () => {
    const p: Policy = { breaker: { maxStdErrorPct: 10 } };
    expect(applyPolicy(p, row({ currentPrice: 9, gamma: 0.1 }), false)).toEqual({ price: 9, status: STATUS_CODE.held, reasons: 1 << 7 });
    const r = applyPolicy(p, row({ currentPrice: 9, stdError: 2 }), false);
    expect(r.status).toBe(STATUS_CODE.held);
    expect(reasonString(r.reasons)).toBe('breaker_std_error');
  });
  it('a non-finite model price is never published', () => {
    expect(applyPolicy({}, row({ modelPrice: NaN }), false).status).toBe(STATUS_CODE.rejected);
    expect(applyPolicy({}, row({ modelPrice: Infinity, currentPrice: 4 }), false)).toMatchObject({ price: 4, status: STATUS_CODE.held });
  });
  it('rejects a bad policy file naming the field', () => {
    expect(() => validatePolicy({ maxChangePct: -3 }, 'p.json')).toThrow(/p.json: invalid policy: maxChangePct/);
    expect(() => validatePolicy({ bounds: { min: 5, max: 2 } }, 'p.json')).toThrow(/min 5 > max 2/);
    expect(() => validatePolicy({ roundign: {} }, 'p.json')).toThrow(/roundign/);
  });
  it('says what is allowed: the values of an enum, the options of an object, what is required', () => {
    expect(() => validatePolicy({ rounding: { step: 0.01, mode: 'ceil' } }, 'p.json')).toThrow('p.json: invalid policy: rounding.mode: must be one of nearest, down, up');
    expect(() => validatePolicy({ roundign: {} }, 'p.json')).toThrow(
      'p.json: invalid policy: roundign: is not a policy option (allowed: bounds, products, maxChangePct, minMarginOverCost, rounding, breaker)',
    );
    expect(() => validatePolicy({ breaker: { maxStdError: 5 } }, 'p.json')).toThrow('breaker.maxStdError: is not a policy option (allowed: maxStdErrorPct, requireConcave)');
    expect(() => validatePolicy({ products: { A: { mn: 1 } } }, 'p.json')).toThrow('products.A.mn: is not a policy option (allowed: min, max)');
    expect(() => validatePolicy({ rounding: { mode: 'up' } }, 'p.json')).toThrow('rounding.step: is required');
  });
});

describe('policy: properties', () => {
  const arb = fc.record({
    model: fc.double({ min: -1e4, max: 1e4, noNaN: true }),
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
      return Number.isFinite(r.price) && r.price >= a.lo - 1e-9 && r.price <= a.lo + a.width + 1e-9;
    });
  it('published prices are finite and inside the hard bounds', () => {
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
