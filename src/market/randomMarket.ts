/**
 * A random nested-logit market (docs/math.md §2.4): the default test market of the solvers' tests
 * and the bench. Values a ~ U[aLo, aHi], nest scales μ_l ~ U[0.3, 1]·μ, costs ~ U[0.5, 1.5],
 * capacities ~ U[5, 20], β_k = 1, weights 1; nests of near-equal sizes, the first ones larger.
 */
import type { Market } from './potential.js';
import { MarketRng } from './random.js';

export interface RandomMarketOptions {
  products?: number;
  nests?: number;
  consumers?: number;
  suppliers?: number;
  mu?: number;
  outsideOption?: boolean;
  /** values range [lo, hi] (default [1, 3]) */
  values?: [number, number];
  /** capacity range (default [5, 20]) */
  capacity?: [number, number];
}

export function randomMarket(seed: number, o: RandomMarketOptions = {}): Market {
  const n = o.products ?? 10;
  const L = Math.min(o.nests ?? 3, n);
  const m = o.consumers ?? 100;
  const K = o.suppliers ?? 5;
  const mu = o.mu ?? 1;
  const [aLo, aHi] = o.values ?? [1, 3];
  const [xLo, xHi] = o.capacity ?? [5, 20];
  const rng = new MarketRng(seed);
  const u = (lo: number, hi: number) => lo + (hi - lo) * rng.uniform();
  const nest = new Int32Array(n);
  // sizes ceil/floor of n/L, larger nests first (10 products in 3 nests: 4/3/3)
  let i = 0;
  for (let l = 0; l < L; l++) {
    const size = Math.floor(n / L) + (l < n % L ? 1 : 0);
    for (let s = 0; s < size; s++) nest[i++] = l;
  }
  const muNest = Float64Array.from({ length: L }, () => mu * u(0.3, 1));
  const values = Float64Array.from({ length: m * n }, () => u(aLo, aHi));
  const costs = Float64Array.from({ length: K * n }, () => u(0.5, 1.5));
  const capacity = Float64Array.from({ length: K * n }, () => u(xLo, xHi));
  return {
    mu,
    muNest,
    nest,
    weight: new Float64Array(m).fill(1),
    values,
    beta: new Float64Array(K).fill(1),
    costs,
    capacity,
    outsideOption: o.outsideOption ?? false,
  };
}
