/**
 * The simulated marketplace of `repricer simulate marketplace --watcher` (docs/marketplace.md
 * "Watcher"): zones × assets, hourly periods, demand that shifts at injected times and by a
 * calendar. Each zone is a nest of a nested-logit market (docs/math.md §2.1) with one consumer
 * type (its searchers, of mass λ_z per period) and one supplier (its hosts). In a period with
 * prices p a zone gets N_z ~ Poisson(λ_z) searches; each chooses a product of its zone or nothing
 * with the model's probabilities; hosts offer Poisson(x(p)) units of each product (x the
 * supplier's optimal supply); bookings are the smaller of the two. Clearing prices for any
 * demand levels come from the market-clearing solver (`accelerated`).
 */
import { RepricerError } from '../core/errors.js';
import type { WasmCore } from '../core/wasm.js';
import { MarketPotential, type Market } from '../market/potential.js';
import { solveMarket } from '../market/solvers.js';
import type { Rng } from './random.js';

export interface WatcherWorldSpec {
  zones: string[];
  assets: string[];
  /** searches per period in each zone at the nominal demand */
  searchRate: number;
  /** consumers' values of each asset (same in every zone) */
  values: number[];
  /** overall and nest scale of the nested logit */
  mu: number;
  muNest: number;
  /** hosts: adjustment-cost weight, unit cost of each asset, capacity of each asset */
  beta: number;
  costs: number[];
  capacity: number[];
}

export const DEFAULT_WORLD: WatcherWorldSpec = {
  zones: ['north', 'south', 'centre', 'east'],
  assets: ['car', 'van'],
  searchRate: 60,
  values: [6, 8],
  mu: 1,
  muNest: 0.6,
  beta: 0.25,
  costs: [2, 3],
  capacity: [30, 30],
};

/** A value that keeps a consumer of one zone out of another zone's products (e^{-50} of a share). */
const AWAY_VALUE = -30;

/** The market with demand levels `rates` (searches per period of each zone); products zone-major. */
export function worldMarket(w: WatcherWorldSpec, rates: ArrayLike<number>): Market {
  const Z = w.zones.length;
  const A = w.assets.length;
  const n = Z * A;
  const values = new Float64Array(Z * n).fill(AWAY_VALUE);
  const costs = new Float64Array(Z * n);
  const capacity = new Float64Array(Z * n);
  const nest = new Int32Array(n);
  for (let z = 0; z < Z; z++) {
    if (!(rates[z] > 0)) throw new RepricerError('INTERNAL', `watcher world: the demand level of zone ${w.zones[z]} must be > 0, got ${rates[z]}`);
    for (let a = 0; a < A; a++) {
      const i = z * A + a;
      nest[i] = z;
      values[z * n + i] = w.values[a];
      for (let k = 0; k < Z; k++) costs[k * n + i] = w.costs[a];
      capacity[z * n + i] = w.capacity[a];
    }
  }
  return {
    mu: w.mu,
    muNest: new Float64Array(Z).fill(w.muNest),
    nest,
    weight: Float64Array.from(rates),
    values,
    beta: new Float64Array(Z).fill(w.beta),
    costs,
    capacity,
    outsideOption: true,
  };
}

/** Clearing prices of the world at demand levels `rates` (accelerated to a KKT residual of 1e-9). */
export function clearingPrices(w: WatcherWorldSpec, rates: ArrayLike<number>, core?: WasmCore, start?: Float64Array): Float64Array {
  const pot = new MarketPotential(worldMarket(w, rates), core);
  try {
    const r = solveMarket(pot, { method: 'accelerated', steps: 100000, start });
    if (!(r.residual <= 1e-9)) throw new RepricerError('INTERNAL', `watcher world: the clearing prices did not converge (KKT residual ${r.residual})`);
    return r.prices;
  } finally {
    pot.dispose();
  }
}

/** Per-search choice probabilities and hosts' supply at prices p (one evaluation of the market with unit weights). */
export interface WorldAtPrices {
  /** P_z(i) for product i of zone z (the consumer of its zone), zone-major */
  choice: Float64Array;
  /** x(p): units the hosts offer per period */
  supply: Float64Array;
}

export function worldAtPrices(w: WatcherWorldSpec, p: Float64Array, core?: WasmCore): WorldAtPrices {
  const pot = new MarketPotential(worldMarket(w, new Float64Array(w.zones.length).fill(1)), core);
  try {
    const s = pot.evaluate(p);
    return { choice: s.demand, supply: s.supply };
  } finally {
    pot.dispose();
  }
}

/** Poisson(λ) by inversion of the cumulative distribution; λ above 200 is split in halves (e^{−λ} would underflow). */
export function poisson(rng: Rng, lambda: number): number {
  if (!(lambda >= 0 && Number.isFinite(lambda))) throw new RepricerError('INTERNAL', `poisson: rate must be finite and >= 0, got ${lambda}`);
  if (lambda > 200) return poisson(rng, lambda / 2) + poisson(rng, lambda / 2);
  const u = rng.uniform();
  let p = Math.exp(-lambda);
  let F = p;
  let k = 0;
  while (u > F && p > 0) {
    k++;
    p *= lambda / k;
    F += p;
  }
  return k;
}

/** One period of one zone: searches, each product's demand, units offered and bookings. */
export interface ZonePeriod {
  searches: number;
  demand: number[];
  offered: number[];
  booked: number[];
}

/** Draw a zone's period: N ~ Poisson(rate), each search's choice by inversion, offers ~ Poisson(x(p)). */
export function drawZonePeriod(rng: Rng, at: WorldAtPrices, zone: number, assets: number, rate: number): ZonePeriod {
  const searches = poisson(rng, rate);
  const demand = new Array<number>(assets).fill(0);
  for (let s = 0; s < searches; s++) {
    const u = rng.uniform();
    let F = 0;
    for (let a = 0; a < assets; a++) {
      F += at.choice[zone * assets + a];
      if (u < F) {
        demand[a]++;
        break;
      }
    }
  }
  const offered = demand.map((_, a) => poisson(rng, at.supply[zone * assets + a]));
  const booked = demand.map((d, a) => Math.min(d, offered[a]));
  return { searches, demand, offered, booked };
}
