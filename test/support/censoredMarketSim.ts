/**
 * A simulated zone for the censored-demand tests: Poisson demand with known levels, censored by
 * availability. The sampler is inversion by the probability recurrence (exact for the means used
 * in tests, up to a few hundred), driven by the project's seeded generator.
 */
import { MarketRng } from '../../src/market/random.js';
import { priceResponse, type ItemHistory, type ZoneHistory } from '../../src/market/zoneCycle.js';

export function poissonSample(rng: MarketRng, mu: number): number {
  if (mu > 500) throw new Error('poissonSample: mean too large for inversion');
  const u = rng.uniform();
  let k = 0;
  let p = Math.exp(-mu);
  let F = p;
  while (u > F && k < 10_000) {
    k++;
    p *= mu / k;
    F += p;
  }
  return k;
}

/** Periods of one zone: D_t ~ Poisson(λ a_t), B_t = min(D_t, c_t). */
export function simulatePeriods(rng: MarketRng, lambda: number, multiplier: Float64Array, available: Float64Array): { bookings: Float64Array; demand: Float64Array } {
  const n = multiplier.length;
  const bookings = new Float64Array(n), demand = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    demand[t] = poissonSample(rng, lambda * multiplier[t]);
    bookings[t] = Math.min(demand[t], available[t]);
  }
  return { bookings, demand };
}

export interface SimItem {
  id: string;
  /** true θ_i = λ_z s_i */
  level: number;
  capacity: number;
}

/** T periods of a zone's items at the given price per item and period, exposure e_t. */
export function simulateZoneHistory(
  rng: MarketRng,
  items: SimItem[],
  prices: (i: number, t: number) => number,
  exposure: Float64Array,
  model: { referencePrice: number; elasticity: number },
): ItemHistory[] {
  const T = exposure.length;
  return items.map((it, i) => {
    const price = new Float64Array(T), bookings = new Float64Array(T), available = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      price[t] = prices(i, t);
      available[t] = it.capacity;
      const d = poissonSample(rng, it.level * priceResponse(price[t], model.referencePrice, model.elasticity) * exposure[t]);
      bookings[t] = Math.min(d, it.capacity);
    }
    return { id: it.id, price, bookings, available, plannedCapacity: it.capacity };
  });
}

export function appendHistory(z: ZoneHistory, more: ItemHistory[], exposure: Float64Array): ZoneHistory {
  const cat = (a: Float64Array, b: Float64Array): Float64Array => {
    const out = new Float64Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  return {
    ...z,
    exposure: cat(z.exposure, exposure),
    items: z.items.map((it, i) => ({ ...it, price: cat(it.price, more[i].price), bookings: cat(it.bookings, more[i].bookings), available: cat(it.available, more[i].available) })),
  };
}
