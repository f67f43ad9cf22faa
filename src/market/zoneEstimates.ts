/**
 * From a zone's periods to its censored-demand estimate (docs/math.md §2.7) and, when weights are
 * given, the zone-level multiplier for the next period; and the `repricer.market-em/1` document
 * the CLI writes (docs/formats.md "Zone periods").
 */
import { fitCensoredDemand, type EmResult, type EmStatus } from './censoredDemandEm.js';
import type { ObjectiveWeights } from './demandObjective.js';
import type { ZonePeriods } from './periodsFile.js';
import { chooseZoneMultiplier, priceResponse } from './zoneCycle.js';

export interface ZoneEstimateOptions {
  /** ε of m(p) = (p / pRef)^(−ε) (default 0: no price response) */
  elasticity?: number;
  /** pRef for every zone (default: the geometric mean of the zone's prices) */
  referencePrice?: number;
  weights?: ObjectiveWeights;
  range?: [number, number];
  tol?: number;
  maxIterations?: number;
}

export interface ZoneMultiplier {
  /** the price of the last period times this is the next period's zone price */
  value: number;
  price: number;
  objective: number;
  expectedUtilisation: number;
  expectedLostDemand: number;
}

export interface ZoneEstimate {
  zone: string;
  status: EmStatus;
  /** demand per unit of exposure at the reference price; null when there is no finite estimate */
  lambda: number | null;
  stdErr: number | null;
  information: number | null;
  iterations: number;
  converged: boolean;
  periods: number;
  soldOut: number;
  bookings: number;
  lostDemand: number | null;
  referencePrice: number;
  logLikPath: number[];
  /** present with weights, when λ is estimated and the last period had a unit available */
  multiplier?: ZoneMultiplier;
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function geometricMeanPrice(price: Float64Array): number {
  let s = 0;
  for (let i = 0; i < price.length; i++) s += Math.log(price[i]);
  return Math.exp(s / price.length);
}

export function estimateZone(z: ZonePeriods, o: ZoneEstimateOptions = {}): ZoneEstimate {
  const eps = o.elasticity ?? 0;
  const pRef = o.referencePrice ?? geometricMeanPrice(z.price);
  const a = new Float64Array(z.price.length);
  for (let t = 0; t < a.length; t++) a[t] = priceResponse(z.price[t], pRef, eps) * z.exposure[t];
  const r: EmResult = fitCensoredDemand({ multiplier: a, bookings: z.bookings, available: z.available }, { ...(o.tol !== undefined ? { tol: o.tol } : {}), ...(o.maxIterations !== undefined ? { maxIterations: o.maxIterations } : {}) });
  const out: ZoneEstimate = {
    zone: z.zone,
    status: r.status,
    lambda: finite(r.lambda),
    stdErr: finite(r.stdErr),
    information: finite(r.information),
    iterations: r.iterations,
    converged: r.converged,
    periods: r.periods,
    soldOut: r.soldOut,
    bookings: r.bookings,
    lostDemand: finite(r.lostDemand),
    referencePrice: pRef,
    logLikPath: r.logLikPath,
  };
  const last = z.price.length - 1;
  if (o.weights && r.status === 'estimated' && z.available[last] >= 1) {
    const m = chooseZoneMultiplier(r.lambda, { price: z.price[last], exposure: z.exposure[last], capacity: z.available[last] }, { referencePrice: pRef, elasticity: eps }, o.weights, o.range);
    out.multiplier = { value: m.multiplier, price: m.multiplier * z.price[last], objective: m.objective, expectedUtilisation: m.expectedUtilisation, expectedLostDemand: m.expectedLost };
  }
  return out;
}

export interface EmDocument {
  format: 'repricer.market-em/1';
  elasticity: number;
  weights: ObjectiveWeights | null;
  zones: ZoneEstimate[];
}

export function emDocument(zones: ZoneEstimate[], o: ZoneEstimateOptions): EmDocument {
  return { format: 'repricer.market-em/1', elasticity: o.elasticity ?? 0, weights: o.weights ?? null, zones };
}
