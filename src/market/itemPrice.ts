/**
 * The item price (docs/math.md §2.6): inside the zone bounds [L, U] of its (zone, asset), the
 * price of one item maximises
 *
 *   J(p) = w_rev·(p/p⁰)·q(p) + w_util·q(p) − w_lost·(p/p⁰)·(1 − q(p)) − w_vol·((p − p_prev)/p_prev)²
 *
 * with q the booking curve of the item's segment, p⁰ the zone-level price and p_prev the item's
 * previous price (the last term is 0 without one). J need not be concave on [L, U], so the search
 * is global: J on a grid of 201 prices from L to U, then a golden-section search on the two grid
 * intervals around the best grid price; the better of the two is returned.
 */
import { goldenSectionMax } from '../core/goldenSection.js';
import { RepricerError } from '../core/errors.js';
import { logistic } from './bookingLikelihood.js';
import type { BookingCurve } from './bookingModel.js';
import type { MarketWeights } from './marketPolicy.js';

export interface ItemPriceProblem {
  curve: BookingCurve;
  /** p⁰ > 0 */
  zonePrice: number;
  lower: number;
  upper: number;
  /** the item's previous price (> 0), if any */
  previousPrice?: number;
  weights: MarketWeights;
}

export interface ItemPrice {
  price: number;
  bookingProbability: number;
  objective: number;
}

/** Prices of the global grid, ends included. */
export const ITEM_PRICE_GRID = 201;

/** q(p) and J(p) of §2.6. */
export function itemObjective(pr: ItemPriceProblem, p: number): { q: number; value: number } {
  const { curve, zonePrice, previousPrice, weights: w } = pr;
  const q = logistic(curve.a + curve.b * Math.log(p / curve.pRef));
  const rel = p / zonePrice;
  let value = w.revenue * rel * q + w.utilisation * q - w.lostSales * rel * (1 - q);
  if (previousPrice !== undefined && w.volatility > 0) {
    const d = (p - previousPrice) / previousPrice;
    value -= w.volatility * d * d;
  }
  return { q, value };
}

function check(pr: ItemPriceProblem): void {
  const bad = (what: string, v: unknown): never => {
    throw new RepricerError('INVALID_ARGUMENT', `optimiseItemPrice: ${what}, got ${String(v)}`);
  };
  if (!(pr.zonePrice > 0) || !Number.isFinite(pr.zonePrice)) bad('the zone-level price must be a finite number > 0', pr.zonePrice);
  if (!(pr.lower > 0 && pr.lower <= pr.upper) || !Number.isFinite(pr.upper)) bad('the bounds must satisfy 0 < lower <= upper < infinity', `[${pr.lower}, ${pr.upper}]`);
  if (pr.previousPrice !== undefined && (!(pr.previousPrice > 0) || !Number.isFinite(pr.previousPrice))) bad('the previous price must be a finite number > 0', pr.previousPrice);
  if (!(pr.curve.pRef > 0) || !Number.isFinite(pr.curve.a) || !Number.isFinite(pr.curve.b)) bad('the booking curve needs finite a, b and pRef > 0', JSON.stringify(pr.curve));
  const w = pr.weights;
  for (const k of ['revenue', 'utilisation', 'lostSales', 'volatility'] as const) if (!(w[k] >= 0) || !Number.isFinite(w[k])) bad(`weights.${k} must be a finite number >= 0`, w[k]);
}

/** The price in [lower, upper] that maximises J (§2.6), with its booking probability and J. */
export function optimiseItemPrice(pr: ItemPriceProblem): ItemPrice {
  check(pr);
  const { lower: L, upper: U } = pr;
  const J = (p: number) => itemObjective(pr, p).value;
  if (L === U) return result(pr, L);
  const M = ITEM_PRICE_GRID - 1;
  const step = (U - L) / M;
  const at = (j: number) => (j === M ? U : L + j * step);
  let best = 0;
  let bestValue = J(L);
  for (let j = 1; j <= M; j++) {
    const v = J(at(j));
    if (v > bestValue) {
      best = j;
      bestValue = v;
    }
  }
  // golden-section search on the bracket around the best grid price (docs/math.md §2.6)
  const refined = goldenSectionMax(J, at(Math.max(0, best - 1)), at(Math.min(M, best + 1)), 1e-10, U).x;
  const p = J(refined) > bestValue ? refined : at(best);
  return result(pr, Math.min(U, Math.max(L, p)));
}

function result(pr: ItemPriceProblem, p: number): ItemPrice {
  const { q, value } = itemObjective(pr, p);
  return { price: p, bookingProbability: q, objective: value };
}
