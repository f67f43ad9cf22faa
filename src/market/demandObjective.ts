/**
 * The weighted objective the EM's M-step prices by (docs/math.md §2.7, "Choosing the multiplier"):
 * revenue and utilisation are rewarded, lost sales and price volatility penalised, each on a scale
 * free of currency and zone size, under Poisson demand censored by capacity.
 */
import { goldenSectionMax } from '../core/goldenSection.js';
import { RepricerError } from '../core/errors.js';
import type { MarketWeights } from './marketPolicy.js';
import { salesAndLost } from './poissonTail.js';

/**
 * The four weights (all ≥ 0): the policy file's `market.weights` (src/market/marketPolicy.ts),
 * here applied to demand censored by capacity.
 */
export type ObjectiveWeights = MarketWeights;

export function checkWeights(w: ObjectiveWeights, where = 'weights'): void {
  for (const k of ['revenue', 'utilisation', 'lostSales', 'volatility'] as const) {
    const v = w[k];
    if (!(Number.isFinite(v) && v >= 0)) throw new RepricerError('INVALID_ARGUMENT', `${where}.${k} must be a finite number >= 0, got ${v}`);
  }
  // with every weight 0 the objective is flat and any multiplier is "best"
  if (w.revenue + w.utilisation + w.lostSales + w.volatility === 0) throw new RepricerError('INVALID_ARGUMENT', `${where}: at least one of revenue, utilisation, lostSales, volatility must be > 0`);
}

/**
 * One priced unit (a zone, or an item of a zone) for one planning period: mean demand μ0 at the
 * price in force p0, capacity c (an integer ≥ 1) and the price elasticity ε of the response
 * m(p) = (p / pRef)^(−ε), so at price p0·q the mean demand is μ0·q^(−ε).
 */
export interface PricedUnit {
  demandAtCurrent: number;
  currentPrice: number;
  capacity: number;
  elasticity: number;
}

/** The components of the objective of a set of units at new prices (sums over the units). */
export interface ObjectiveTerms {
  /** Σ price × expected sales */
  revenue: number;
  /** Σ expected sales */
  sales: number;
  /** Σ expected lost demand E[(D − c)⁺] */
  lost: number;
  /** Σ capacity × (log of the price change)² */
  volatility: number;
  /** Σ capacity */
  capacity: number;
}

export function emptyTerms(): ObjectiveTerms {
  return { revenue: 0, sales: 0, lost: 0, volatility: 0, capacity: 0 };
}

/** Adds unit u priced at `price` to `acc` (the mean demand follows its price response). */
export function addUnit(acc: ObjectiveTerms, u: PricedUnit, price: number): ObjectiveTerms {
  const q = price / u.currentPrice;
  const mu = u.demandAtCurrent * Math.pow(q, -u.elasticity);
  const { sales, lost } = salesAndLost(u.capacity, mu);
  const lq = Math.log(q);
  acc.revenue += price * sales;
  acc.sales += sales;
  acc.lost += lost;
  acc.volatility += u.capacity * lq * lq;
  acc.capacity += u.capacity;
  return acc;
}

/**
 * J = w_r · revenue/(pRef · C) + w_u · sales/C − w_l · lost/C − w_v · volatility/C with C the total
 * capacity: revenue per unit of capacity in units of the reference price, utilisation, lost demand
 * per unit of capacity, and the capacity-weighted mean squared log price change. pRef is fixed for
 * a zone, so J does not move with the prices in force.
 */
export function objectiveValue(t: ObjectiveTerms, w: ObjectiveWeights, referencePrice: number, totalCapacity: number = t.capacity): number {
  const C = totalCapacity;
  return (w.revenue * t.revenue) / (referencePrice * C) + (w.utilisation * t.sales) / C - (w.lostSales * t.lost) / C - (w.volatility * t.volatility) / C;
}

/**
 * argmax of f on [lo, hi] (0 < lo ≤ hi): the best of a 121-point grid, even in log x (f need not
 * be unimodal), then golden-section search between that point's neighbours to 1e-10 relative.
 */
export function maximiseOnInterval(f: (x: number) => number, lo: number, hi: number): { x: number; value: number } {
  if (!(lo > 0 && hi >= lo && Number.isFinite(hi))) throw new RepricerError('INVALID_ARGUMENT', `multiplier range [${lo}, ${hi}] must satisfy 0 < lo <= hi`);
  if (hi === lo) return { x: lo, value: f(lo) };
  const N = 120;
  const llo = Math.log(lo), lhi = Math.log(hi);
  const xs: number[] = [];
  for (let i = 0; i <= N; i++) xs.push(i === 0 ? lo : i === N ? hi : Math.exp(llo + ((lhi - llo) * i) / N));
  let best = 0, bestV = -Infinity;
  for (let i = 0; i <= N; i++) {
    const v = f(xs[i]);
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  const { a, b } = goldenSectionMax(f, xs[Math.max(0, best - 1)], xs[Math.min(N, best + 1)], 1e-10);
  const xm = (a + b) / 2;
  const vm = f(xm);
  // the grid point wins if the refinement found nothing better (a kink at the boundary)
  return vm >= bestV ? { x: xm, value: vm } : { x: xs[best], value: bestV };
}
