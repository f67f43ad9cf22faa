/** The policy file's `market` object (docs/formats.md): defaults, validation naming the field, pass-through by the pricing schema. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MARKET_WEIGHTS, DEFAULT_ZONE_BAND, validateMarketPolicy } from '../src/market/marketPolicy.js';
import { validatePolicy } from '../src/pricing/policy.js';

function message(obj: unknown): string {
  try {
    validateMarketPolicy(obj, 'p.json');
  } catch (err) {
    expect((err as { code: string }).code).toBe('INVALID_ARGUMENT');
    return (err as Error).message;
  }
  throw new Error('no error');
}

describe('market policy', () => {
  it('fills in defaults: no market object, an empty one, a partial weights object', () => {
    expect(validateMarketPolicy(undefined)).toEqual({ weights: { revenue: 1, utilisation: 0, lostSales: 0, volatility: 0 }, zoneBand: 0.2 });
    expect(validateMarketPolicy({})).toEqual({ weights: { ...DEFAULT_MARKET_WEIGHTS }, zoneBand: DEFAULT_ZONE_BAND });
    expect(validateMarketPolicy({ weights: { volatility: 0.5 }, zoneBand: 0.1 })).toEqual({ weights: { revenue: 1, utilisation: 0, lostSales: 0, volatility: 0.5 }, zoneBand: 0.1 });
    expect(validateMarketPolicy({ weights: { revenue: 0, utilisation: 1 } }).weights).toEqual({ revenue: 0, utilisation: 1, lostSales: 0, volatility: 0 });
  });

  it('keeps the watcher object as given (validated by the watcher)', () => {
    const watcher = { threshold: 0.95, anything: [1, 2] };
    expect(validateMarketPolicy({ watcher }).watcher).toEqual(watcher);
  });

  it('rejects negative weights, all-zero weights, a band outside (0,1), unknown keys, naming the field', () => {
    expect(message({ weights: { lostSales: -1 } })).toBe('p.json: invalid policy: market.weights.lostSales: must be >= 0');
    expect(message({ weights: { revenue: 0, utilisation: 0, lostSales: 0, volatility: 0 } })).toMatch(/market\.weights: at least one of revenue, utilisation, lostSales, volatility must be > 0/);
    expect(message({ weights: { revenue: 0 } })).toMatch(/at least one/);
    expect(message({ zoneBand: 1 })).toMatch(/market\.zoneBand: must be < 1/);
    expect(message({ zoneBand: 0 })).toMatch(/market\.zoneBand: must be > 0/);
    expect(message({ weights: { price: 1 } })).toMatch(/market\.weights\.price: is not a market policy option \(allowed: revenue, utilisation, lostSales, volatility\)/);
    expect(message({ band: 0.1 })).toMatch(/market\.band: is not a market policy option \(allowed: weights, zoneBand, watcher\)/);
    expect(message({ watcher: 3 })).toMatch(/market\.watcher: must be object/);
    expect(message([])).toMatch(/market: must be object/);
  });

  it('the pricing policy lets a market object through and still rejects a market that is not an object', () => {
    expect(validatePolicy({ market: { zoneBand: 0.3 }, bounds: { min: 1 } }).market).toEqual({ zoneBand: 0.3 });
    expect(() => validatePolicy({ market: 5 })).toThrow(/market: must be object/);
  });
});
