/**
 * Zone bounds (docs/math.md §2.6): the price range an item of a (zone, asset) may take, the pair's
 * zone-level price p⁰ (its market-clearing price, §2.1) times [1 − band, 1 + band]. The zone level
 * sets the range; the item level (src/market/itemPrice.ts) chooses inside it.
 */
import { RepricerError } from '../core/errors.js';
import type { LoadedMarket } from './marketFile.js';

export interface ZoneBound {
  zone: string;
  asset: string;
  /** p⁰ */
  zonePrice: number;
  lower: number;
  upper: number;
}

/** [p⁰(1 − band), p⁰(1 + band)] for p⁰ > 0 and band in (0, 1). */
export function zoneBounds(zonePrice: number, band: number): { lower: number; upper: number } {
  if (!(band > 0 && band < 1)) throw new RepricerError('INVALID_ARGUMENT', `zone band must be in (0, 1), got ${band}`);
  if (!(zonePrice > 0) || !Number.isFinite(zonePrice)) throw new RepricerError('INVALID_ARGUMENT', `a zone-level price must be a finite number > 0 to bound item prices, got ${zonePrice}`);
  return { lower: zonePrice * (1 - band), upper: zonePrice * (1 + band) };
}

/** The key of a (zone, asset) pair in the bounds table. */
export function pairKey(zone: string, asset: string): string {
  return `${zone}\u0000${asset}`;
}

/**
 * The zone bounds of every product of a market whose zone-level price is known and positive
 * (`prices[i]` for product i; NaN for unknown). A product at price 0 (free at the clearing prices)
 * or unknown has no entry: its items cannot be priced inside a band around it.
 */
export function zoneBoundsTable(loaded: LoadedMarket, prices: ArrayLike<number>, band: number): Map<string, ZoneBound> {
  const out = new Map<string, ZoneBound>();
  for (let i = 0; i < loaded.productIds.length; i++) {
    const p = prices[i];
    if (!(p > 0) || !Number.isFinite(p)) continue;
    const { lower, upper } = zoneBounds(p, band);
    out.set(pairKey(loaded.zones[i], loaded.assets[i]), { zone: loaded.zones[i], asset: loaded.assets[i], zonePrice: p, lower, upper });
  }
  return out;
}
