/**
 * Business guardrails applied after the model's optimal price (docs/formats.md prices `status` and
 * `reason`). Order, highest priority last, so a later rule always holds in the published price:
 *   1. margin floor     price >= cost * minMarginOverCost                      (margin_floor)
 *   2. max step         |price/previous - 1| <= maxChangePct/100                (max_step)
 *   3. bounds           global, then per-product policy, then per-SKU columns   (floor / ceiling)
 *   4. rounding         to a price grid, never leaving the bounds               (rounded)
 * A circuit breaker on the Greeks (docs/math.md §4) holds today's price when the model's optimum is
 * not a strict maximum (gamma >= 0) or its standard error is too large relative to the price.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describeSchemaError } from '../core/schemaErrors.js';
import { RepricerError, readFailure } from '../core/errors.js';

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
}

export const REASONS = ['cold_start', 'margin_floor', 'max_step', 'floor', 'ceiling', 'rounded', 'breaker_std_error', 'breaker_gamma', 'non_finite'] as const;
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

// every combination, built once: the batch formatter asks for one per row
const REASON_STRINGS = Array.from({ length: 1 << REASONS.length }, (_, m) => buildReasonString(m));

export function reasonString(mask: number): string {
  return REASON_STRINGS[mask] ?? buildReasonString(mask);
}

const boundsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { min: { type: 'number', minimum: 0 }, max: { type: 'number', exclusiveMinimum: 0 } },
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
  for (const [k, b] of Object.entries(p.products ?? {})) chk(`products.${k}`, b);
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

export interface PolicyRow {
  productId: string;
  modelPrice: number;
  cost: number; // NaN when absent
  currentPrice: number; // NaN when absent
  minPrice: number; // NaN when absent
  maxPrice: number; // NaN when absent
  gamma: number; // at the model price
  stdError: number;
}

export interface PolicyResult {
  price: number;
  status: number;
  reasons: number;
}

const stepDecimals = new Map<number, { k: number; units: number }>();

/** A step as units / 10^k with integer units (0.05 -> 5 / 10^2), cached per step. */
function decimalStep(step: number): { k: number; units: number } {
  let e = stepDecimals.get(step);
  if (!e) {
    let k = 0;
    while (k < 15 && Math.abs(Math.round(step * 10 ** k) - step * 10 ** k) > 1e-9 * step * 10 ** k) k++;
    e = { k, units: Math.round(step * 10 ** k) };
    stepDecimals.set(step, e);
  }
  return e;
}

/**
 * Round to the grid of `step`. The result is the double nearest to the decimal r x step (an exact
 * integer divided by an exact power of ten is correctly rounded), so 0.1 x 3 prints as 0.3.
 */
function roundTo(p: number, step: number, mode: 'nearest' | 'down' | 'up'): number {
  const k = p / step;
  const r = mode === 'down' ? Math.floor(k + 1e-9) : mode === 'up' ? Math.ceil(k - 1e-9) : Math.round(k);
  const { k: dec, units } = decimalStep(step);
  const n = r * units;
  if (Math.abs(n) < 2 ** 53) return dec === 0 ? n : n / 10 ** dec;
  return Number((r * step).toPrecision(15));
}

/** Apply the policy to one row. Pure; the same function serves the batch job and the HTTP API. */
export function applyPolicy(policy: Policy, row: PolicyRow, coldStart: boolean): PolicyResult {
  let reasons = coldStart ? REASON_BIT.cold_start : 0;
  const prev = row.currentPrice;
  const hasPrev = Number.isFinite(prev) && prev > 0;
  let p = row.modelPrice;

  if (!Number.isFinite(p)) {
    if (hasPrev) return { price: prev, status: STATUS_CODE.held, reasons: reasons | REASON_BIT.non_finite };
    return { price: NaN, status: STATUS_CODE.rejected, reasons: reasons | REASON_BIT.non_finite };
  }

  const br = policy.breaker;
  if (br && hasPrev) {
    if (br.requireConcave !== false && !(row.gamma < 0)) return { price: prev, status: STATUS_CODE.held, reasons: reasons | REASON_BIT.breaker_gamma };
    if (br.maxStdErrorPct !== undefined && row.stdError > (br.maxStdErrorPct / 100) * Math.abs(p)) {
      return { price: prev, status: STATUS_CODE.held, reasons: reasons | REASON_BIT.breaker_std_error };
    }
  }

  let clipped = false;
  if (policy.minMarginOverCost !== undefined && Number.isFinite(row.cost)) {
    const floor = row.cost * policy.minMarginOverCost;
    if (p < floor) {
      p = floor;
      reasons |= REASON_BIT.margin_floor;
      clipped = true;
    }
  }
  if (policy.maxChangePct !== undefined && hasPrev) {
    const m = policy.maxChangePct / 100;
    const lo = prev * (1 - m);
    const hi = prev * (1 + m);
    if (p < lo || p > hi) {
      p = p < lo ? lo : hi;
      reasons |= REASON_BIT.max_step;
      clipped = true;
    }
  }
  let lo = -Infinity;
  let hi = Infinity;
  const tighten = (b?: Bounds) => {
    if (!b) return;
    if (b.min !== undefined) lo = Math.max(lo, b.min);
    if (b.max !== undefined) hi = Math.min(hi, b.max);
  };
  tighten(policy.bounds);
  tighten(policy.products?.[row.productId]);
  if (Number.isFinite(row.minPrice)) lo = Math.max(lo, row.minPrice);
  if (Number.isFinite(row.maxPrice)) hi = Math.min(hi, row.maxPrice);
  if (lo > hi) {
    // contradictory bounds from different layers: the SKU's own columns are the most specific
    lo = Number.isFinite(row.minPrice) ? row.minPrice : lo;
    hi = Math.max(lo, Number.isFinite(row.maxPrice) ? row.maxPrice : hi);
  }
  if (p < lo) {
    p = lo;
    reasons |= REASON_BIT.floor;
    clipped = true;
  } else if (p > hi) {
    p = hi;
    reasons |= REASON_BIT.ceiling;
    clipped = true;
  }
  if (policy.rounding) {
    const mode = policy.rounding.mode ?? 'nearest';
    let r = roundTo(p, policy.rounding.step, mode);
    if (r < lo) r = roundTo(lo, policy.rounding.step, 'up');
    if (r > hi) r = roundTo(hi, policy.rounding.step, 'down');
    if (r >= lo && r <= hi && r !== p) {
      p = r;
      reasons |= REASON_BIT.rounded;
    }
  }
  const status = clipped ? STATUS_CODE.clipped : coldStart ? STATUS_CODE.cold_start : STATUS_CODE.ok;
  return { price: p, status, reasons };
}
