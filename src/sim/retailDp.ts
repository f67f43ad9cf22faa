/**
 * The optimum of the finite-stock season by dynamic programming (docs/retail.md, "The optimum"):
 * the largest expected profit any pricing rule can make from the start, knowing the demand curve,
 * the noise law, the day and the stock — the yardstick of the regret columns.
 *
 *   V_T(s) = −(C − salvage)·s      (the write-off of what is left; salvage = the unit cost by default)
 *   V_t(s) = max_{P ∈ G} E[ n·M(P) − h·(s − n) + V_{t+1}(s − n) ],   n = min(s, d),
 *
 * with d the environment's realised demand (./retailEnv.ts), M(P) the profit per unit sold. The
 * stock is not discretised: demand is rounded to whole units, so s ∈ {0, …, S0} is the exact state
 * space. The law of d is exact too: P(d ≤ k) = Φ(((k + ½)/D(P) − 1)/σ) for k ≥ 0 (rounding half up,
 * the mass of 1 + σz ≤ 0 at d = 0), over k within 8.5σ of D(P) (the mass outside is below 10⁻¹⁶ and
 * is put on the end points), with Φ from the core's noise kernel. Demand of S0 or more is one
 * outcome (every state sells out). The price is the one approximation: a grid G of `gridSize` prices
 * spaced evenly in log between lo and hi (240 points on [11, 200]: 1.2 % apart, so the best grid price
 * is within 0.6 % of the best price and loses about 0.375·0.006² ≈ 10⁻⁵ of the profit, docs/retail.md).
 * With σ = 0 every realised demand is round(D(P)), and G also holds, for every sale d the range
 * allows, the highest price that sells d: with a unit margin increasing in the price (a constant
 * return rate) that price is the best way to sell d, so the deterministic optimum is exact.
 */
import type { WasmCore } from '../core/wasm.js';
import { noiseTable } from '../core/noise.js';
import { expectedDemand, salvageValue, unitMargin, type RetailEnvConfig } from './retailEnv.js';

export interface RetailDpOptions {
  /** lowest and highest price of the grid (the guardrails' floor and ceiling) */
  lo: number;
  hi: number;
  /** log-spaced grid points; default 240 */
  gridSize?: number;
}

export interface RetailDpSolution {
  /** V_0(S0): expected profit of the optimal policy over the season */
  value: number;
  /** the candidate prices, ascending */
  grid: Float64Array;
  /** optimal price by day and stock: policy[day·(S0 + 1) + stock] */
  policy: Float64Array;
  /** V_0(s) for every starting stock s */
  valueByStock: Float64Array;
  initialStock: number;
  days: number;
}

/** Largest initial stock the DP takes (its tables grow with S0·days). */
export const MAX_DP_STOCK = 200_000;
export const DEFAULT_DP_GRID = 240;
/** Half-width of the demand law's support in standard deviations. */
const SUPPORT_SD = 8.5;

/** Demand laws of the candidate prices, flattened: pmf over k = kmin[j] … kmax[j]. */
interface DemandLaws {
  kmin: Int32Array;
  kmax: Int32Array;
  offset: Int32Array;
  pmf: Float64Array;
  /** P(d ≥ k) at the same positions (tail[offset + k − kmin] = Σ_{k' ≥ k} pmf) */
  tail: Float64Array;
}

function candidatePrices(env: RetailEnvConfig, lo: number, hi: number, size: number): Float64Array {
  const ps: number[] = [];
  if (lo === hi || size === 1) ps.push(lo);
  else for (let i = 0; i < size; i++) ps.push(i === size - 1 ? hi : lo * Math.pow(hi / lo, i / (size - 1)));
  if (env.noise_sd === 0 && env.q0 > 0) {
    // the highest price that sells d units: D(P) ≥ d − ½, nudged down until it rounds to d
    const dHi = Math.min(env.initial_stock, Math.round(expectedDemand(env, lo)));
    for (let d = Math.max(1, Math.round(expectedDemand(env, hi))); d <= dHi; d++) {
      let p = env.p0 * Math.pow((d - 0.5) / env.q0, 1 / env.elasticity);
      for (let i = 0; i < 60 && Math.round(expectedDemand(env, p)) < d; i++) p *= 1 - 2 ** (i - 52);
      if (p >= lo && p <= hi && Math.round(expectedDemand(env, p)) === d) ps.push(p);
    }
  }
  return Float64Array.from(ps).sort();
}

function demandLaws(core: WasmCore, env: RetailEnvConfig, grid: Float64Array): DemandLaws {
  const n = grid.length;
  const S0 = env.initial_stock;
  const sd = env.noise_sd;
  const kmin = new Int32Array(n);
  const kmax = new Int32Array(n);
  const offset = new Int32Array(n + 1);
  const mean = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const D = expectedDemand(env, grid[j]);
    mean[j] = D;
    if (sd === 0 || D === 0) {
      kmin[j] = kmax[j] = Math.min(S0, Math.round(D)); // the environment's own rounding
    } else {
      kmin[j] = Math.min(S0, Math.max(0, Math.floor(D * (1 - SUPPORT_SD * sd))));
      kmax[j] = Math.min(S0, Math.ceil(D * (1 + SUPPORT_SD * sd)));
    }
    offset[j + 1] = offset[j] + kmax[j] - kmin[j] + 1;
  }
  // P(d ≤ k) for k = kmin … kmax − 1 (the last point takes the rest of the mass)
  const w = new Float64Array(offset[n]);
  for (let j = 0; j < n; j++) for (let k = kmin[j]; k < kmax[j]; k++) w[offset[j] + k - kmin[j]] = ((k + 0.5) / mean[j] - 1) / sd;
  const cdf = new Float64Array(offset[n]);
  const CHUNK = 8192; // the kernel's table is 12 columns: keep each call small in the arena
  for (let a = 0; a < w.length; a += CHUNK) cdf.set(noiseTable(core, { family: 'gaussian', scale: 1 }, w.subarray(a, a + CHUNK)).F, a);
  const pmf = new Float64Array(offset[n]);
  const tail = new Float64Array(offset[n]);
  for (let j = 0; j < n; j++) {
    const o = offset[j];
    const len = kmax[j] - kmin[j] + 1;
    if (len === 1) {
      pmf[o] = 1;
    } else {
      let prev = 0;
      for (let i = 0; i < len - 1; i++) {
        pmf[o + i] = cdf[o + i] - prev;
        prev = cdf[o + i];
      }
      pmf[o + len - 1] = 1 - prev;
    }
    let t = 0;
    for (let i = len - 1; i >= 0; i--) {
      t += pmf[o + i];
      tail[o + i] = t;
    }
  }
  return { kmin, kmax, offset, pmf, tail };
}

/** Solve the season by backward induction (see the header). */
export function solveRetailDp(core: WasmCore, env: RetailEnvConfig, opts: RetailDpOptions): RetailDpSolution {
  const S0 = env.initial_stock;
  if (S0 > MAX_DP_STOCK) throw new RangeError(`solveRetailDp: initial_stock must be <= ${MAX_DP_STOCK} for the dynamic programme, got ${S0}`);
  if (!(opts.lo > 0 && opts.lo <= opts.hi && Number.isFinite(opts.hi))) throw new RangeError(`solveRetailDp: need 0 < lo <= hi, finite; got lo = ${opts.lo}, hi = ${opts.hi}`);
  const size = opts.gridSize ?? DEFAULT_DP_GRID;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`solveRetailDp: gridSize must be an integer >= 1, got ${size}`);
  const grid = candidatePrices(env, opts.lo, opts.hi, size);
  const laws = demandLaws(core, env, grid);
  const m = Float64Array.from(grid, (p) => unitMargin(env, p));
  const h = env.holding_cost;
  const T = env.days;
  const width = S0 + 1;
  const policy = new Float64Array(T * width);
  let next = new Float64Array(width); // V_{t+1}
  for (let s = 0; s <= S0; s++) next[s] = -(env.unit_cost - salvageValue(env)) * s;
  let cur = new Float64Array(width);
  const { kmin, kmax, offset, pmf, tail } = laws;
  for (let t = T - 1; t >= 0; t--) {
    for (let s = 0; s <= S0; s++) {
      let best = -Infinity;
      let arg = 0;
      for (let j = 0; j < grid.length; j++) {
        const o = offset[j] - kmin[j];
        const mj = m[j];
        // outcomes that leave stock: k < s; the rest sell out
        const top = Math.min(s - 1, kmax[j]);
        let e = 0;
        for (let k = kmin[j]; k <= top; k++) e += pmf[o + k] * (k * (mj + h) - h * s + next[s - k]);
        const pOut = s <= kmin[j] ? 1 : s > kmax[j] ? 0 : tail[o + s];
        if (pOut > 0) e += pOut * (s * mj + next[0]);
        if (e > best) {
          best = e;
          arg = j;
        }
      }
      cur[s] = best;
      policy[t * width + s] = grid[arg];
    }
    const tmp = next;
    next = cur;
    cur = tmp;
  }
  return { value: next[S0], grid, policy, valueByStock: next.slice(), initialStock: S0, days: T };
}

/** The optimal price on `day` with `stock` units left. */
export function dpPrice(sol: RetailDpSolution, day: number, stock: number): number {
  return sol.policy[day * (sol.initialStock + 1) + Math.min(stock, sol.initialStock)];
}
