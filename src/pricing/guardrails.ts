/**
 * The guardrails as invariants (docs/math.md §4.4): the published price of a row lies inside
 * every hard bound (the policy's global and per-product bounds, the row's min_price/max_price,
 * the margin floor cost x minMarginOverCost) after rounding, and inside the maximum step whenever
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

/** The step band [lo, hi] around a positive current price: prev x (100 -+ pct) / 100. */
export function stepBand(prev: number, pct: number): [number, number] {
  // (100 - pct) / 100 rather than 1 - pct/100: 9 x 130 / 100 is the double 11.7, 9 x 1.3 is not
  return [Math.max(0, (prev * (100 - pct)) / 100), (prev * (100 + pct)) / 100];
}

interface HardBounds {
  lo: number;
  hi: number;
  /** reason bits of the constraints equal to lo (floor, margin_floor) and to hi (ceiling) */
  loBits: number;
  hiBits: number;
}

/**
 * The intersection of every hard lower and upper bound of the row, or a reason it is empty.
 * Bounds: global, then per-product, then the row's columns (all must hold at once); the margin
 * floor joins the lower side.
 */
function hardBounds(policy: Policy, row: PolicyRow): HardBounds | number {
  let lo = 0;
  let hi = Infinity;
  const take = (b?: Bounds) => {
    if (!b) return;
    if (b.min !== undefined) lo = Math.max(lo, b.min);
    if (b.max !== undefined) hi = Math.min(hi, b.max);
  };
  take(policy.bounds);
  take(policy.products?.[row.productId]);
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
  const margin = policy.minMarginOverCost !== undefined ? row.cost * policy.minMarginOverCost : 0;
  if (!Number.isFinite(margin)) return REASON_BIT.out_of_domain;
  lo = Math.max(lo, margin);
  // a floor above the price domain (a huge cost times the margin): no price can be published
  if (lo > PRICE_LIMIT) return REASON_BIT.out_of_domain;
  if (lo > hi) return REASON_BIT.conflicting_bounds;
  let loBits = 0;
  if (lo > 0 && lo === floor) loBits |= REASON_BIT.floor;
  if (lo > 0 && lo === margin) loBits |= REASON_BIT.margin_floor;
  return { lo, hi, loBits, hiBits: REASON_BIT.ceiling };
}

/** The grid points nearest inside the hard bounds. */
function gridBounds(h: HardBounds, step: number): [number, number] {
  return [gridAtOrAbove(h.lo, step), gridAtOrBelow(h.hi, step)];
}

/** Clamp p into [lo, hi], reporting which side moved it: -1 raised, 1 lowered, 0 not moved. */
function side(p: number, lo: number, hi: number): -1 | 0 | 1 {
  return p < lo ? -1 : p > hi ? 1 : 0;
}

/**
 * Apply the policy to one row. Pure; the same function serves the batch job and the HTTP API.
 * Order (docs/math.md §4.4): the row's domain, the hard bounds, the breaker (a held price obeys
 * the bounds too), then the model price clamped into bounds and step and rounded inside both.
 */
export function applyPolicy(policy: Policy, row: PolicyRow, coldStart: boolean): PolicyResult {
  const cold = coldStart ? REASON_BIT.cold_start : 0;
  const reject = (bit: number): PolicyResult => ({ price: NaN, status: STATUS_CODE.rejected, reasons: cold | bit });
  const c = row.cost;
  if (Number.isNaN(c) || c < 0 || c === Infinity) return reject(REASON_BIT.invalid_cost);
  if (c > PRICE_LIMIT) return reject(REASON_BIT.out_of_domain);
  const p0 = row.modelPrice;
  if (!(Number.isFinite(p0) && Math.abs(p0) <= PRICE_LIMIT) || !(row.stdError >= 0 && row.stdError <= PRICE_LIMIT)) return reject(REASON_BIT.out_of_domain);
  const prev = row.currentPrice;
  const hasPrev = Number.isFinite(prev) && prev > 0;
  if (hasPrev && prev > PRICE_LIMIT) return reject(REASON_BIT.out_of_domain);

  const h = hardBounds(policy, row);
  if (typeof h === 'number') return reject(h);
  const step = policy.rounding?.step;
  let glo = h.lo;
  let ghi = h.hi;
  if (step !== undefined) {
    [glo, ghi] = gridBounds(h, step);
    if (glo > ghi) return reject(REASON_BIT.conflicting_bounds);
  }

  const br = policy.breaker;
  if (br && hasPrev) {
    // fail closed: a NaN Gamma or standard error trips the breaker
    let bit = 0;
    if (br.requireConcave !== false && !(row.gamma < 0)) bit = REASON_BIT.breaker_gamma;
    else if (br.maxStdErrorPct !== undefined && !(row.stdError <= (br.maxStdErrorPct / 100) * Math.abs(p0))) bit = REASON_BIT.breaker_std_error;
    if (bit) return hold(policy, h, glo, ghi, prev, cold | bit);
  }

  let reasons = cold;
  let lo = h.lo;
  let hi = h.hi;
  let loBits = h.loBits;
  let hiBits = h.hiBits;
  let g: [number, number] = [glo, ghi];
  if (policy.maxChangePct !== undefined && hasPrev) {
    const [sl, sh] = stepBand(prev, policy.maxChangePct);
    const L = Math.max(lo, sl);
    const H = Math.min(hi, sh);
    const gs: [number, number] = step !== undefined ? [gridAtOrAbove(L, step), gridAtOrBelow(H, step)] : [L, H];
    if (gs[0] <= gs[1]) {
      // the step is feasible with the bounds (on the grid): it joins them
      if (sl > lo) loBits = REASON_BIT.max_step;
      else if (sl === lo) loBits |= REASON_BIT.max_step;
      if (sh < hi) hiBits = REASON_BIT.max_step;
      else if (sh === hi) hiBits |= REASON_BIT.max_step;
      lo = L;
      hi = H;
      g = gs;
    } else {
      // no admissible price within the step: the bounds win, and the row says the step gave way
      reasons |= REASON_BIT.step_infeasible;
    }
  }
  const target = reasons & REASON_BIT.step_infeasible ? nearestToBand(p0, prev, policy.maxChangePct ?? 0) : p0;
  if (target !== p0) reasons |= REASON_BIT.max_step;
  let p = target;
  const s = side(p, lo, hi);
  if (s < 0) {
    p = lo;
    reasons |= loBits;
  } else if (s > 0) {
    p = hi;
    reasons |= hiBits;
  }
  if (step !== undefined) {
    let r = roundToGrid(p, step, policy.rounding?.mode ?? 'nearest');
    if (r < g[0]) r = g[0];
    if (r > g[1]) r = g[1];
    if (r !== p) reasons |= REASON_BIT.rounded;
    p = r;
  }
  const clipped = reasons & (REASON_BIT.margin_floor | REASON_BIT.max_step | REASON_BIT.floor | REASON_BIT.ceiling | REASON_BIT.step_infeasible);
  const status = clipped ? STATUS_CODE.clipped : coldStart ? STATUS_CODE.cold_start : STATUS_CODE.ok;
  return { price: p, status, reasons };
}

/** With the step band out of reach, aim for the band's nearer edge: the bounds then decide. */
function nearestToBand(p0: number, prev: number, pct: number): number {
  const [sl, sh] = stepBand(prev, pct);
  return p0 < sl ? sl : p0 > sh ? sh : p0;
}

/**
 * A held price: today's price when it obeys every bound (kept as it is, off the grid or not: it
 * is not a new price), else moved onto the nearest bound (and the grid inside it), still `held`,
 * with the bound's reason; `step_infeasible` when that move exceeds the maximum step.
 */
function hold(policy: Policy, h: HardBounds, glo: number, ghi: number, prev: number, reasons: number): PolicyResult {
  const s = side(prev, h.lo, h.hi);
  if (s === 0) return { price: prev, status: STATUS_CODE.held, reasons };
  let p = s < 0 ? h.lo : h.hi;
  reasons |= s < 0 ? h.loBits : h.hiBits;
  const q = s < 0 ? glo : ghi;
  if (q !== p) reasons |= REASON_BIT.rounded;
  p = q;
  if (policy.maxChangePct !== undefined) {
    const [sl, sh] = stepBand(prev, policy.maxChangePct);
    if (p < sl || p > sh) reasons |= REASON_BIT.step_infeasible;
  }
  return { price: p, status: STATUS_CODE.held, reasons };
}
