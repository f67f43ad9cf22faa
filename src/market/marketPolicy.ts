/**
 * The `market` object of the policy file (docs/formats.md "Policy file: market settings"): the
 * weights of the item-price objective (docs/math.md §2.6) and the zone band. The pricing layer's
 * policy schema lets `market` through as an opaque object; this file validates it (Ajv, then the
 * rule that not every weight is zero) and fills in the defaults. `watcher` is kept as given: its
 * fields are checked by the watcher's own validation.
 */
import { Ajv } from 'ajv';
import { describeSchemaError } from '../core/schemaErrors.js';
import { RepricerError } from '../core/errors.js';

export interface MarketWeights {
  /** weight of the expected revenue, in units of the zone-level price */
  revenue: number;
  /** weight of the booking probability (the item's expected utilisation from one search) */
  utilisation: number;
  /** weight of the expected lost sales: the shown price times the probability of no booking, in units of the zone-level price */
  lostSales: number;
  /** weight of the squared relative change from the previous price */
  volatility: number;
}

export interface MarketPolicy {
  weights: MarketWeights;
  /** zone bounds = zone-level price x [1 - zoneBand, 1 + zoneBand] */
  zoneBand: number;
  /** the watcher's settings, validated by the watcher */
  watcher?: Record<string, unknown>;
}

export const DEFAULT_MARKET_WEIGHTS: Readonly<MarketWeights> = Object.freeze({ revenue: 1, utilisation: 0, lostSales: 0, volatility: 0 });
export const DEFAULT_ZONE_BAND = 0.2;

const weight = { type: 'number', minimum: 0 } as const;

export const marketPolicySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    weights: {
      type: 'object',
      additionalProperties: false,
      properties: { revenue: weight, utilisation: weight, lostSales: weight, volatility: weight },
    },
    zoneBand: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
    watcher: { type: 'object' },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile(marketPolicySchema);

/**
 * The market policy of a policy file's `market` value (undefined: every default). A weight left
 * out takes its default (revenue 1, the others 0). INVALID_ARGUMENT naming the field, as for the
 * rest of the policy file.
 */
export function validateMarketPolicy(obj: unknown, file = 'policy'): MarketPolicy {
  if (obj === undefined) return { weights: { ...DEFAULT_MARKET_WEIGHTS }, zoneBand: DEFAULT_ZONE_BAND };
  if (!validate(obj)) {
    const msg = (validate.errors ?? []).map((e) => describeSchemaError({ ...e, instancePath: `/market${e.instancePath}` }, { properties: { market: marketPolicySchema } }, 'market policy option')).join('; ');
    throw new RepricerError('INVALID_ARGUMENT', `${file}: invalid policy: ${msg}`);
  }
  const m = obj as { weights?: Partial<MarketWeights>; zoneBand?: number; watcher?: Record<string, unknown> };
  const weights: MarketWeights = { ...DEFAULT_MARKET_WEIGHTS, ...(m.weights ?? {}) };
  if (weights.revenue + weights.utilisation + weights.lostSales + weights.volatility === 0) {
    throw new RepricerError('INVALID_ARGUMENT', `${file}: invalid policy: market.weights: at least one of revenue, utilisation, lostSales, volatility must be > 0`);
  }
  return { weights, zoneBand: m.zoneBand ?? DEFAULT_ZONE_BAND, ...(m.watcher !== undefined ? { watcher: m.watcher } : {}) };
}
