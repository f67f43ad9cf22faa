/**
 * The guardrails as invariants (docs/math.md §4.4): the published price of a row lies inside
 * every hard bound (the policy's global and per-product bounds, the row's min_price/max_price and
 * map_price, the margin floor cost x minMarginOverCost) after rounding, and inside the maximum step whenever
 * some grid price satisfies both. A row whose inputs leave no admissible price is rejected with
 * one reason instead of being published in breach.
 *
 * Every comparison is between doubles as they are published: a floor of 17.391 is met by 17.40,
 * never by 17.39, and a floor computed as 10 x 1.1 = 11.000000000000002 is met by 11.01.
 */
import { PRICE_LIMIT } from '../core/domain.js';
import { REASON_BIT, STATUS_CODE, type Bounds, type Policy } from './policy.js';

export interface PolicyRow {
  productId: string;
  modelPrice: number;
  /** the row's cost, else the model's reservation (the engine fills it in) */
  cost: number;
  currentPrice: number; // NaN when absent
  minPrice: number; // NaN when absent
  maxPrice: number; // NaN when absent
  /** the minimum advertised price: a floor like minPrice with its own reason (NaN when absent) */
  mapPrice: number;
  gamma: number; // at the model price
  stdError: number;
}

export interface PolicyResult {
  price: number;
  status: number;
  reasons: number;
  /** the price inside every bound before rounding onto the grid (the explanation's guardrail step) */
  unrounded: number;
}

const stepDecimals = new Map<number, { k: number; units: number }>();

/** A step as units / 10^k with integer units (0.05 -> 5 / 10^2), cached per step. */
let lastStep = NaN;
let lastDecimal = { k: 0, units: 1 };

function decimalStep(step: number): { k: number; units: number } {
  // every row of a job asks for the same step: the map only when it changes
  if (step === lastStep) return lastDecimal;
  let e = stepDecimals.get(step);
  if (!e) {
    let k = 0;
    while (k < 15 && Math.abs(Math.round(step * 10 ** k) - step * 10 ** k) > 1e-9 * step * 10 ** k) k++;
    e = { k, units: Math.round(step * 10 ** k) };
    stepDecimals.set(step, e);
  }
  lastStep = step;
  lastDecimal = e;
  return e;
}

/**
 * The r-th point of the grid of `step`: the double nearest the decimal r x step (an exact integer
 * divided by an exact power of ten is correctly rounded), so 0.1 x 3 prints as 0.3.
 */
export function gridPoint(r: number, step: number): number {
  const { k: dec, units } = decimalStep(step);
  const n = r * units;
  if (Math.abs(n) < 2 ** 53) return dec === 0 ? n : n / 10 ** dec;
  return Number((r * step).toPrecision(15));
}

/**
 * Round to the grid of `step`: nearest (half away from zero), down or up. For down and up a price
 * within 1e-9 grid steps of a grid point counts as on it, so the binary noise of a decimal price
 * never moves it a whole step.
 */
export function roundToGrid(p: number, step: number, mode: 'nearest' | 'down' | 'up'): number {
  const k = p / step;
  const r = mode === 'down' ? Math.floor(k + 1e-9) : mode === 'up' ? Math.ceil(k - 1e-9) : Math.round(k);
  return gridPoint(r, step);
}

/** The smallest grid point >= x as doubles (a floor stays a floor after rounding). */
export function gridAtOrAbove(x: number, step: number): number {
  let r = Math.ceil(x / step - 1e-9);
  let v = gridPoint(r, step);
  while (v < x) v = gridPoint(++r, step);
  return v;
}

/** The largest grid point <= x as doubles. */
export function gridAtOrBelow(x: number, step: number): number {
  let r = Math.floor(x / step + 1e-9);
  let v = gridPoint(r, step);
  while (v > x) v = gridPoint(--r, step);
  return v;
}

/**
 * The step band [stepLow, stepHigh] around a positive current price: prev x (100 -+ pct) / 100.
 * (100 - pct) / 100 rather than 1 - pct/100: 9 x 130 / 100 is the double 11.7, 9 x 1.3 is not.
 */
export function stepLow(prev: number, pct: number): number {
  return Math.max(0, (prev * (100 - pct)) / 100);
}

export function stepHigh(prev: number, pct: number): number {
  return (prev * (100 + pct)) / 100;
}

interface HardBounds {
  lo: number;
  hi: number;
  /** reason bits of the constraints equal to lo (floor, margin_floor) and to hi (ceiling) */
  loBits: number;
  hiBits: number;
}

/** Scratch for hardBounds: applyPolicy runs once per row, so it allocates nothing on the way. */
const bounds: HardBounds = { lo: 0, hi: Infinity, loBits: 0, hiBits: 0 };

/**
 * The intersection of every hard lower and upper bound of the row into `bounds`; 0, or the
 * reason it is empty. Bounds: global, then per-product, then the row's columns (all must hold at
 * once); the margin floor joins the lower side.
 */
function hardBounds(policy: Policy, row: PolicyRow): number {
  let lo = 0;
  let hi = Infinity;
  const g = policy.bounds;
  if (g) {
    if (g.min !== undefined) lo = g.min;
    if (g.max !== undefined) hi = g.max;
  }
  const pb: Bounds | undefined = policy.products?.[row.productId];
  if (pb) {
    if (pb.min !== undefined) lo = Math.max(lo, pb.min);
    if (pb.max !== undefined) hi = Math.min(hi, pb.max);
  }
  const mn = row.minPrice;
  const mx = row.maxPrice;
  if (Number.isFinite(mn)) {
    if (mn < 0) return REASON_BIT.conflicting_bounds;
    lo = Math.max(lo, mn);
  } else if (!Number.isNaN(mn)) return REASON_BIT.conflicting_bounds;
  if (Number.isFinite(mx)) {
    if (mx <= 0) return REASON_BIT.conflicting_bounds;
    hi = Math.min(hi, mx);
  } else if (!Number.isNaN(mx)) return REASON_BIT.conflicting_bounds;
  const floor = lo;
  const map = row.mapPrice;
  if (Number.isFinite(map)) {
    if (map < 0) return REASON_BIT.conflicting_bounds;
    lo = Math.max(lo, map);
  } else if (!Number.isNaN(map)) return REASON_BIT.conflicting_bounds;
  const margin = policy.minMarginOverCost !== undefined ? row.cost * policy.minMarginOverCost : 0;
  if (!Number.isFinite(margin)) return REASON_BIT.out_of_domain;
  lo = Math.max(lo, margin);
  // a floor above the price domain (a huge cost times the margin): no price can be published
  if (lo > PRICE_LIMIT) return REASON_BIT.out_of_domain;
  if (lo > hi) return REASON_BIT.conflicting_bounds;
  let loBits = 0;
  if (lo > 0 && lo === floor) loBits |= REASON_BIT.floor;
  if (lo > 0 && lo === margin) loBits |= REASON_BIT.margin_floor;
  if (lo > 0 && lo === map) loBits |= REASON_BIT.map_floor;
  bounds.lo = lo;
  bounds.hi = hi;
  bounds.loBits = loBits;
  bounds.hiBits = REASON_BIT.ceiling;
  return 0;
}

/**
 * The row's hard price bounds [lo, hi] as applyPolicy sees them (global, per-product, the row's
 * min/max/map columns, the margin floor), or null when they leave no price (applyPolicy rejects
 * the row). The agent step maps its action into them (pricing/agentStep.ts).
 */
export function hardPriceBounds(policy: Policy, row: PolicyRow): { lo: number; hi: number } | null {
  if (hardBounds(policy, row)) return null;
  return { lo: bounds.lo, hi: bounds.hi };
}

/**
 * Whether some grid point lies in [lo, hi] (as doubles). An interval two steps wide always holds
 * one, so the grid is consulted only for narrow ones.
 */
function gridMeets(lo: number, hi: number, step: number): boolean {
  return hi - lo >= 2 * step || gridAtOrAbove(lo, step) <= gridAtOrBelow(hi, step);
}

/** Clamp p into [lo, hi], reporting which side moved it: -1 raised, 1 lowered, 0 not moved. */
function side(p: number, lo: number, hi: number): -1 | 0 | 1 {
  return p < lo ? -1 : p > hi ? 1 : 0;
}

function rejected(cold: number, bit: number): PolicyResult {
  return { price: NaN, status: STATUS_CODE.rejected, reasons: cold | bit, unrounded: NaN };
}

/**
 * Apply the policy to one row. Pure; the same function serves the batch job and the HTTP API.
 * `segmentHeld`: the row's segment is held by the segment breaker (docs/math.md §4.4).
 * Order (docs/math.md §4.4): the row's domain, the hard bounds, the breaker (a held price obeys
 * the bounds too), then the model price clamped into bounds and step and rounded inside both.
 */
export function applyPolicy(policy: Policy, row: PolicyRow, coldStart: boolean, segmentHeld = false): PolicyResult {
  const cold = coldStart ? REASON_BIT.cold_start : 0;
  const c = row.cost;
  if (Number.isNaN(c) || c < 0 || c === Infinity) return rejected(cold, REASON_BIT.invalid_cost);
  if (c > PRICE_LIMIT) return rejected(cold, REASON_BIT.out_of_domain);
  const p0 = row.modelPrice;
  if (!(Number.isFinite(p0) && Math.abs(p0) <= PRICE_LIMIT) || !(row.stdError >= 0 && row.stdError <= PRICE_LIMIT)) return rejected(cold, REASON_BIT.out_of_domain);
  const prev = row.currentPrice;
  const hasPrev = Number.isFinite(prev) && prev > 0;
  if (hasPrev && prev > PRICE_LIMIT) return rejected(cold, REASON_BIT.out_of_domain);

  const why = hardBounds(policy, row);
  if (why) return rejected(cold, why);
  const step = policy.rounding?.step;
  if (step !== undefined && !gridMeets(bounds.lo, bounds.hi, step)) return rejected(cold, REASON_BIT.conflicting_bounds);

  const br = policy.breaker;
  if (br && hasPrev) {
    // fail closed: a NaN Gamma or standard error trips the breaker
    let bit = 0;
    if (br.requireConcave !== false && !(row.gamma < 0)) bit = REASON_BIT.breaker_gamma;
    else if (br.maxStdErrorPct !== undefined && !(row.stdError <= (br.maxStdErrorPct / 100) * Math.abs(p0))) bit = REASON_BIT.breaker_std_error;
    if (bit) return hold(policy, prev, cold | bit);
  }
  // a segment the segment breaker tripped is held whole, by the same rule as the row breaker (a
  // row's own breaker reason comes first: the breaker reasons exclude each other)
  if (segmentHeld && hasPrev) return hold(policy, prev, cold | REASON_BIT.segment_breaker);

  let reasons = cold;
  let lo = bounds.lo;
  let hi = bounds.hi;
  let loBits = bounds.loBits;
  let hiBits = bounds.hiBits;
  let target = p0;
  const pct = policy.maxChangePct;
  if (pct !== undefined && hasPrev) {
    const sl = stepLow(prev, pct);
    const sh = stepHigh(prev, pct);
    const L = Math.max(lo, sl);
    const H = Math.min(hi, sh);
    if (step !== undefined ? gridMeets(L, H, step) : L <= H) {
      // the step is feasible with the bounds (on the grid): it joins them
      if (sl > lo) loBits = REASON_BIT.max_step;
      else if (sl === lo) loBits |= REASON_BIT.max_step;
      if (sh < hi) hiBits = REASON_BIT.max_step;
      else if (sh === hi) hiBits |= REASON_BIT.max_step;
      lo = L;
      hi = H;
    } else {
      // no admissible price within the step: the bounds win, and the row says the step gave way;
      // the target is the band's nearer edge
      reasons |= REASON_BIT.step_infeasible;
      target = p0 < sl ? sl : p0 > sh ? sh : p0;
      if (target !== p0) reasons |= REASON_BIT.max_step;
    }
  }
  let p = target;
  const s = side(p, lo, hi);
  if (s < 0) {
    p = lo;
    reasons |= loBits;
  } else if (s > 0) {
    p = hi;
    reasons |= hiBits;
  }
  const unrounded = p;
  if (step !== undefined) {
    // a grid point below lo is below the first one at or above it, and so on: the grid's ends
    // inside [lo, hi] are looked up only when the rounded price leaves it
    let r = roundToGrid(p, step, policy.rounding?.mode ?? 'nearest');
    if (r < lo) r = gridAtOrAbove(lo, step);
    else if (r > hi) r = gridAtOrBelow(hi, step);
    if (r !== p) reasons |= REASON_BIT.rounded;
    p = r;
  }
  const clipped = reasons & (REASON_BIT.margin_floor | REASON_BIT.max_step | REASON_BIT.floor | REASON_BIT.ceiling | REASON_BIT.step_infeasible | REASON_BIT.map_floor);
  const status = clipped ? STATUS_CODE.clipped : coldStart ? STATUS_CODE.cold_start : STATUS_CODE.ok;
  return { price: p, status, reasons, unrounded };
}

/**
 * A held price: today's price when it obeys every bound in `bounds` (kept as it is, off the grid
 * or not: it is not a new price), else moved onto the nearest bound (and the grid inside it),
 * still `held`, with the bound's reason; `step_infeasible` when that move exceeds the maximum step.
 */
function hold(policy: Policy, prev: number, reasons: number): PolicyResult {
  const s = side(prev, bounds.lo, bounds.hi);
  if (s === 0) return { price: prev, status: STATUS_CODE.held, reasons, unrounded: prev };
  const p = s < 0 ? bounds.lo : bounds.hi;
  reasons |= s < 0 ? bounds.loBits : bounds.hiBits;
  const step = policy.rounding?.step;
  const q = step === undefined ? p : s < 0 ? gridAtOrAbove(p, step) : gridAtOrBelow(p, step);
  if (q !== p) reasons |= REASON_BIT.rounded;
  const pct = policy.maxChangePct;
  if (pct !== undefined && (q < stepLow(prev, pct) || q > stepHigh(prev, pct))) reasons |= REASON_BIT.step_infeasible;
  return { price: q, status: STATUS_CODE.held, reasons, unrounded: p };
}
