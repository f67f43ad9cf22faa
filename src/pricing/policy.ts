/**
 * The policy file: business guardrails on the model's optimal price (bounds, margin floor,
 * maximum step, rounding, the circuit breaker), its schema and loader, and the status and reason
 * codes of a published row (docs/formats.md). How the guardrails combine into one price that obeys
 * all of them is src/pricing/guardrails.ts (docs/math.md §4.4).
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describeSchemaError } from '../core/schemaErrors.js';
import { RepricerError, readFailure } from '../core/errors.js';
import { checkInventoryParams, type InventoryParams } from './inventorySkew.js';

export interface Bounds {
  min?: number;
  max?: number;
}

export interface Policy {
  bounds?: Bounds;
  products?: Record<string, Bounds>;
  /** e.g. 30 for +-30% per run; needs current_price */
  maxChangePct?: number;
  /** e.g. 1.1: price >= 1.1 x cost; needs cost */
  minMarginOverCost?: number;
  /** price grid step, e.g. 0.01; mode nearest (default), down or up */
  rounding?: { step: number; mode?: 'nearest' | 'down' | 'up' };
  /** hold the current price when the model's quote is not trustworthy */
  breaker?: { maxStdErrorPct?: number; requireConcave?: boolean };
  /**
   * A return rate that grows with price, R(P) = rMin + (rMax - rMin) sigmoid(slope (P - midpoint))
   * (docs/math.md §4.1), for rows without a return_rate; `cost` is C_ret for rows without a
   * return_cost (default 0).
   */
  returns?: { rMin: number; rMax: number; slope: number; midpoint: number; cost?: number; segments?: Record<string, number>; seasons?: Record<string, number> };
  /** the expert blend of rows with an expert_price: tau = tauPct % of the expert price (docs/math.md §5.3); default 5 */
  expertBlend?: { tauPct: number };
  /** the inventory skew of rows with inventory and target_inventory (docs/math.md §3.4) */
  inventory?: InventoryParams;
  /** hold every price of a catalogue segment whose would-be moves look systemic (docs/math.md §4.4) */
  segmentBreaker?: SegmentBreakerPolicy;
  /** the marketplace settings, passed through unchecked here (validated by market/marketPolicy.ts) */
  market?: Record<string, unknown>;
}

/** The thresholds of the segment breaker (docs/math.md §4.4); a segment may override any of them. */
export interface SegmentThresholds {
  /** a row "moves" when |price - current_price| > this % of current_price */
  maxMovePct: number;
  /** the segment trips when more than this % of its rows move (or break a Greek threshold) */
  maxShareMovedPct: number;
  /** |Delta| at the published price above this breaks a threshold */
  maxAbsDelta?: number;
  /** |Gamma| at the published price above this breaks a threshold */
  maxGamma?: number;
  /** |Vega| at the published price above this breaks a threshold */
  maxVega?: number;
  /** price standard error above this % of the price breaks a threshold */
  maxStdErrorPct?: number;
  /** clean runs in a row after which a tripped segment resumes by itself (default 2) */
  resumeAfterRuns?: number;
}

export interface SegmentBreakerPolicy extends SegmentThresholds {
  /** per-segment overrides, by segment name */
  segments?: Record<string, Partial<SegmentThresholds>>;
}

export const REASONS = [
  'cold_start', 'margin_floor', 'max_step', 'floor', 'ceiling', 'rounded', 'breaker_std_error', 'breaker_gamma',
  'out_of_domain', 'invalid_cost', 'conflicting_bounds', 'step_infeasible', 'map_floor', 'invalid_elasticity',
  'invalid_returns', 'segment_breaker',
] as const;
export type Reason = (typeof REASONS)[number];
export const REASON_BIT: Record<Reason, number> = Object.fromEntries(REASONS.map((r, i) => [r, 1 << i])) as Record<Reason, number>;

export const STATUSES = ['ok', 'clipped', 'held', 'cold_start', 'rejected'] as const;
export type Status = (typeof STATUSES)[number];
export const STATUS_CODE: Record<Status, number> = { ok: 0, clipped: 1, held: 2, cold_start: 3, rejected: 4 };

function buildReasonString(mask: number): string {
  const out: string[] = [];
  for (let i = 0; i < REASONS.length; i++) if (mask & (1 << i)) out.push(REASONS[i]);
  return out.join(';');
}

// built on first use: the batch formatter asks for one per row
const REASON_STRINGS: (string | undefined)[] = new Array<string | undefined>(1 << REASONS.length);

export function reasonString(mask: number): string {
  return (REASON_STRINGS[mask] ??= buildReasonString(mask));
}

/** A rejection names one cause (with cold_start beside it): docs/formats.md `reason`. */
export const REJECTION_BITS = (1 << 8) | (1 << 9) | (1 << 10) | (1 << 13) | (1 << 14);

/** The held reasons: the row breaker's two and the segment breaker's; a held row has one of them. */
export const BREAKER_BITS = (1 << 6) | (1 << 7) | (1 << 15);

/**
 * Whether the engine can publish this reason mask: a rejection cause stands alone (with
 * cold_start); the breakers exclude each other, and a held price is never moved by the step (it
 * has no max_step). The WASM formatters' string tables hold strings only for these (650 of the
 * 65 536 masks; the table of (offset, length) pairs is indexed by the whole mask).
 */
export function reasonMaskPossible(mask: number): boolean {
  if (mask >>> REASONS.length) return false;
  const cause = mask & REJECTION_BITS;
  if (cause) return (cause & (cause - 1)) === 0 && (mask & ~(cause | 1)) === 0;
  const held = mask & BREAKER_BITS;
  if (held === 0) return true;
  return (held & (held - 1)) === 0 && (mask & (1 << 2)) === 0;
}

const boundsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { min: { type: 'number', minimum: 0 }, max: { type: 'number', exclusiveMinimum: 0 } },
} as const;

/** The segment breaker's thresholds (the top level requires the first two; a segment's overrides need none). */
const segmentThresholdProps = {
  maxMovePct: { type: 'number', exclusiveMinimum: 0 },
  maxShareMovedPct: { type: 'number', minimum: 0, exclusiveMaximum: 100 },
  maxAbsDelta: { type: 'number', exclusiveMinimum: 0 },
  maxGamma: { type: 'number', exclusiveMinimum: 0 },
  maxVega: { type: 'number', exclusiveMinimum: 0 },
  maxStdErrorPct: { type: 'number', exclusiveMinimum: 0 },
  resumeAfterRuns: { type: 'integer', minimum: 1 },
} as const;

export const policySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    bounds: boundsSchema,
    products: { type: 'object', additionalProperties: boundsSchema },
    maxChangePct: { type: 'number', exclusiveMinimum: 0 },
    minMarginOverCost: { type: 'number', minimum: 0 },
    rounding: {
      type: 'object',
      additionalProperties: false,
      required: ['step'],
      properties: { step: { type: 'number', exclusiveMinimum: 0 }, mode: { enum: ['nearest', 'down', 'up'] } },
    },
    breaker: {
      type: 'object',
      additionalProperties: false,
      properties: { maxStdErrorPct: { type: 'number', exclusiveMinimum: 0 }, requireConcave: { type: 'boolean' } },
    },
    returns: {
      type: 'object',
      additionalProperties: false,
      required: ['rMin', 'rMax', 'slope', 'midpoint'],
      properties: {
        rMin: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
        rMax: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
        slope: { type: 'number', minimum: 0 },
        midpoint: { type: 'number', minimum: 0 },
        cost: { type: 'number', minimum: 0 },
        segments: { type: 'object', additionalProperties: { type: 'number', minimum: 0 } },
        seasons: { type: 'object', additionalProperties: { type: 'number', minimum: 0 } },
      },
    },
    // checked field by field by checkInventoryParams (pricing/inventorySkew.ts)
    inventory: { type: 'object' },
    expertBlend: {
      type: 'object',
      additionalProperties: false,
      required: ['tauPct'],
      properties: { tauPct: { type: 'number', exclusiveMinimum: 0 } },
    },
    segmentBreaker: {
      type: 'object',
      additionalProperties: false,
      required: ['maxMovePct', 'maxShareMovedPct'],
      properties: {
        ...segmentThresholdProps,
        segments: {
          type: 'object',
          propertyNames: { minLength: 1 },
          additionalProperties: { type: 'object', additionalProperties: false, properties: segmentThresholdProps },
        },
      },
    },
    // the marketplace's weights, zone band and watcher: validated by the market layer
    // (market/marketPolicy.ts), which the pricing layer does not import
    market: { type: 'object' },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile(policySchema);

export function validatePolicy(obj: unknown, file = 'policy'): Policy {
  if (!validate(obj)) {
    const msg = (validate.errors ?? []).map((e) => describeSchemaError(e, policySchema, 'policy option')).join('; ');
    throw new RepricerError('INVALID_ARGUMENT', `${file}: invalid policy: ${msg}`);
  }
  const p = obj as Policy;
  const chk = (where: string, b?: Bounds) => {
    if (b && b.min !== undefined && b.max !== undefined && b.min > b.max) throw new RepricerError('INVALID_ARGUMENT', `${file}: invalid policy: ${where}: min ${b.min} > max ${b.max}`);
  };
  chk('bounds', p.bounds);
  if (p.inventory !== undefined) p.inventory = checkInventoryParams(p.inventory, file);
  if (p.returns && p.returns.rMin > p.returns.rMax) throw new RepricerError('INVALID_ARGUMENT', `${file}: invalid policy: returns: rMin ${p.returns.rMin} > rMax ${p.returns.rMax}`);
  // the multiplied curve must stay a rate below 1 at every price, for every segment and season
  // together (a row's multiplier is its segment's times its season's)
  const worst = (o?: Record<string, number>) => Object.entries(o ?? {}).reduce<[string, number]>((w, [k, m]) => (m > w[1] ? [k, m] : w), ['', 1]);
  if (p.returns && (p.returns.segments || p.returns.seasons)) {
    const [sg, ms] = worst(p.returns.segments);
    const [ss, mt] = worst(p.returns.seasons);
    const r = ms * mt * p.returns.rMax;
    if (!(r < 1)) {
      const what = [sg ? `returns.segments.${sg} ${ms}` : '', ss ? `returns.seasons.${ss} ${mt}` : ''].filter(Boolean).join(' x ');
      throw new RepricerError('INVALID_ARGUMENT', `${file}: invalid policy: ${what} x rMax ${p.returns.rMax} = ${r} is not a return rate below 1`);
    }
  }
  const g = p.bounds ?? {};
  for (const [k, b] of Object.entries(p.products ?? {})) {
    chk(`products.${k}`, b);
    // every row of that product would be rejected: the file is wrong, not the rows
    if (b.min !== undefined && g.max !== undefined && b.min > g.max) throw new RepricerError('INVALID_ARGUMENT', `${file}: invalid policy: products.${k}.min ${b.min} > bounds.max ${g.max}`);
    if (b.max !== undefined && g.min !== undefined && b.max < g.min) throw new RepricerError('INVALID_ARGUMENT', `${file}: invalid policy: products.${k}.max ${b.max} < bounds.min ${g.min}`);
  }
  return p;
}

export function loadPolicy(file: string): Policy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw readFailure(file, 'policy', err);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new RepricerError('INPUT_UNREADABLE', `${file}: not valid JSON (${(err as Error).message})`);
  }
  return validatePolicy(obj, file);
}

/** Whether the policy bounds some products by id (then the engine needs every row's id as text). */
export function hasProductBounds(policy: Policy): boolean {
  return policy.products !== undefined && Object.keys(policy.products).length > 0;
}
