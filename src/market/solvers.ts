/**
 * Market-clearing prices (docs/math.md §2.3): minimise the potential ER over p ≥ 0 with
 *   - `gradient`: projected gradient, step 1/L_ER (the smoothness bound);
 *   - `accelerated`: FISTA-style projected accelerated gradient, step 1/L_ER, with the
 *     gradient-based adaptive restart (momentum is dropped when it points uphill);
 *   - `sgd`: projected stochastic gradient with η_t = η_0/√(t+1) and the η-weighted
 *     (Polyak–Ruppert) average of the iterates;
 *   - `adagrad`: diagonal AdaGrad, p_i ← max(0, p_i − η g_i/(√G_i + 1e-8)), uniform average;
 *   - `smd`: entropic stochastic mirror descent on the box [min, max]^n,
 *     p_i ← clip(p_i exp(−η_t g_i), min, max), η-weighted average.
 * The stochastic methods draw one market participant per step, uniformly, from a seeded generator
 * (the same seed gives the same prices), and use its oracle: the participant's exact choice
 * probabilities (`probabilities`) or one sampled purchase (`purchase`).
 */
import { RepricerError } from '../core/errors.js';
import type { MarketPotential } from './potential.js';
import { MarketRng } from './random.js';

export const MARKET_METHODS = ['sgd', 'adagrad', 'smd', 'gradient', 'accelerated'] as const;
export type MarketMethod = (typeof MARKET_METHODS)[number];
export const MARKET_ORACLES = ['probabilities', 'purchase'] as const;
export type MarketOracle = (typeof MARKET_ORACLES)[number];

/** Default step counts: the deterministic methods stop earlier once the residual is below `tol`. */
export const DEFAULT_STEPS: Record<MarketMethod, number> = { sgd: 100000, adagrad: 100000, smd: 100000, gradient: 100000, accelerated: 20000 };
export const DEFAULT_TOL = 1e-9;

export interface SolveOptions {
  method: MarketMethod;
  /** iterations (oracle calls for the stochastic methods); default DEFAULT_STEPS[method] */
  steps?: number;
  seed?: number;
  /** starting prices (default 0; smd starts at the box's lower end or above) */
  start?: Float64Array;
  /** base step: sgd η_0, adagrad η, smd η_0; defaults in `defaultStep` */
  eta?: number;
  /** stochastic oracle (default `probabilities`) */
  oracle?: MarketOracle;
  /** deterministic methods stop when the KKT residual is at most this (default 1e-9) */
  tol?: number;
  /** smd's box (default `defaultBox`) */
  box?: { min: number; max: number };
  /**
   * Step counts (increasing integers ≥ 1) after which `onCheckpoint` sees the method's current
   * output: the averaged iterate p̄_t of the stochastic methods, the iterate of `gradient`, the `x`
   * of `accelerated`. A deterministic method that stops early at `tol` reports its final prices at
   * the checkpoints it did not reach (up to `steps`).
   */
  checkpoints?: readonly number[];
  /** called with the step count and the output after that many steps (a view: copy to keep) */
  onCheckpoint?: (steps: number, prices: Float64Array) => void;
}

/** Calls `o.onCheckpoint` at the steps listed in `o.checkpoints` (a cursor over the sorted list). */
class Checkpoints {
  private next = 0;
  constructor(
    private readonly at: readonly number[],
    private readonly fn: ((steps: number, prices: Float64Array) => void) | undefined,
  ) {}
  /** after `t` steps with output `p` */
  step(t: number, p: Float64Array): void {
    if (!this.fn) return;
    while (this.next < this.at.length && this.at[this.next] <= t) {
      if (this.at[this.next] === t) this.fn(t, p);
      this.next++;
    }
  }
  /** stopped early at `t`: the remaining checkpoints up to `steps` get the final prices */
  rest(steps: number, p: Float64Array): void {
    if (!this.fn) return;
    for (; this.next < this.at.length && this.at[this.next] <= steps; this.next++) this.fn(this.at[this.next], p);
  }
}

export interface SolveResult {
  method: MarketMethod;
  prices: Float64Array;
  /** iterations run */
  steps: number;
  /** ER at the prices */
  value: number;
  supply: Float64Array;
  demand: Float64Array;
  /** supply − demand = ∇ER */
  excess: Float64Array;
  /** KKT residual max_i |p_i − max(0, p_i − ∇_i ER)| (0 exactly at the clearing prices) */
  residual: number;
}

/**
 * The KKT residual of prices p with gradient g: the largest |p_i − max(0, p_i − g_i)|. It is 0
 * exactly when p ≥ 0, g ≥ 0 and p_i g_i = 0: every positive price clears, excess supply only at 0.
 */
export function kktResidual(p: ArrayLike<number>, g: ArrayLike<number>): number {
  let r = 0;
  for (let i = 0; i < p.length; i++) r = Math.max(r, Math.abs(p[i] - Math.max(0, p[i] - g[i])));
  return r;
}

/**
 * The price scale of a market: the largest value any consumer puts on a product plus the dearest
 * full-capacity supply price, max_{j,i} a_{j,i} + max_{k,i}(c_{k,i} + β_k x̄_{k,i}) (at least 1).
 */
export function priceScale(pot: MarketPotential): number {
  return pot.scale;
}

/** smd's default box: [1e-9·scale, 2·scale] with scale = priceScale. */
export function defaultBox(pot: MarketPotential): { min: number; max: number } {
  const s = priceScale(pot);
  return { min: 1e-9 * s, max: 2 * s };
}

/**
 * Default base steps, tuned on the random test markets of §2.4: sgd η_0 = 10/L_ER; smd
 * η_0 = 3/(L_ER·p̂) with p̂ = max(1, mean unit cost) (the multiplicative step moves a price by
 * about η p g); adagrad η = scale/100.
 */
export function defaultStep(pot: MarketPotential, method: MarketMethod): number {
  if (method === 'adagrad') return priceScale(pot) / 100;
  if (method === 'smd') return 3 / (pot.lipschitz * Math.max(1, pot.meanCost));
  return 10 / pot.lipschitz;
}

function positive(name: string, v: number | undefined, integer = false): void {
  if (v === undefined) return;
  if (!(Number.isFinite(v) && v > 0 && (!integer || Number.isInteger(v)))) throw new RepricerError('INVALID_ARGUMENT', `market solve: ${name} must be a ${integer ? 'positive integer' : 'finite number > 0'}, got ${v}`);
}

export function solveMarket(pot: MarketPotential, o: SolveOptions): SolveResult {
  if (!(MARKET_METHODS as readonly string[]).includes(o.method)) throw new RepricerError('INVALID_ARGUMENT', `market solve: method must be one of ${MARKET_METHODS.join(', ')}, got ${String(o.method)}`);
  if (o.oracle !== undefined && !(MARKET_ORACLES as readonly string[]).includes(o.oracle)) throw new RepricerError('INVALID_ARGUMENT', `market solve: oracle must be one of ${MARKET_ORACLES.join(', ')}, got ${String(o.oracle)}`);
  positive('steps', o.steps, true);
  positive('eta', o.eta);
  positive('tol', o.tol);
  const n = pot.size.n;
  if (o.start && (o.start.length !== n || o.start.some((v) => !(Number.isFinite(v) && v >= 0)))) throw new RepricerError('INVALID_ARGUMENT', `market solve: start must hold ${n} finite prices >= 0`);
  if (o.seed !== undefined && !(Number.isInteger(o.seed) && o.seed >= 0)) throw new RepricerError('INVALID_ARGUMENT', `market solve: seed must be an integer >= 0, got ${o.seed}`);
  if (o.checkpoints && o.checkpoints.some((c, i) => !(Number.isInteger(c) && c >= 1 && (i === 0 || c > o.checkpoints![i - 1])))) throw new RepricerError('INVALID_ARGUMENT', 'market solve: checkpoints must be increasing integers >= 1');
  const problem = pot.clearingProblem;
  if (problem) throw new RepricerError('INVALID_ARGUMENT', `market solve: ${problem.product !== undefined ? `product ${problem.product} ` : ''}${problem.message}`);
  const steps = o.steps ?? DEFAULT_STEPS[o.method];
  const p0 = o.start ? Float64Array.from(o.start) : new Float64Array(n);
  const cp = new Checkpoints(o.checkpoints ?? [], o.onCheckpoint);
  let prices: Float64Array;
  let done: number;
  switch (o.method) {
    case 'gradient':
      [prices, done] = projectedGradient(pot, p0, steps, o.tol ?? DEFAULT_TOL, cp);
      break;
    case 'accelerated':
      [prices, done] = accelerated(pot, p0, steps, o.tol ?? DEFAULT_TOL, cp);
      break;
    default:
      prices = stochastic(pot, o.method, p0, steps, o.seed ?? 1, o.eta ?? defaultStep(pot, o.method), o.oracle ?? 'probabilities', o.box ?? defaultBox(pot), cp);
      done = steps;
  }
  const s = pot.evaluate(prices);
  return { method: o.method, prices, steps: done, value: s.value, supply: s.supply, demand: s.demand, excess: s.grad, residual: kktResidual(prices, s.grad) };
}

function projectedGradient(pot: MarketPotential, p: Float64Array, steps: number, tol: number, cp: Checkpoints): [Float64Array, number] {
  const n = p.length;
  const g = new Float64Array(n);
  const step = 1 / pot.lipschitz;
  for (let t = 0; t < steps; t++) {
    pot.gradient(p, g);
    if (kktResidual(p, g) <= tol) {
      cp.rest(steps, p);
      return [p, t];
    }
    for (let i = 0; i < n; i++) p[i] = Math.max(0, p[i] - step * g[i]);
    cp.step(t + 1, p);
  }
  return [p, steps];
}

function accelerated(pot: MarketPotential, x: Float64Array, steps: number, tol: number, cp: Checkpoints): [Float64Array, number] {
  const n = x.length;
  const g = new Float64Array(n);
  const y = Float64Array.from(x);
  const xn = new Float64Array(n);
  const step = 1 / pot.lipschitz;
  let t = 1;
  for (let k = 0; k < steps; k++) {
    if (k % 10 === 0) {
      pot.gradient(x, g);
      if (kktResidual(x, g) <= tol) {
        cp.rest(steps, x);
        return [x, k];
      }
    }
    pot.gradient(y, g);
    let uphill = 0;
    for (let i = 0; i < n; i++) {
      xn[i] = Math.max(0, y[i] - step * g[i]);
      uphill += (y[i] - xn[i]) * (xn[i] - x[i]);
    }
    const tn = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    const beta = uphill > 0 ? 0 : (t - 1) / tn;
    for (let i = 0; i < n; i++) {
      y[i] = xn[i] + beta * (xn[i] - x[i]);
      x[i] = xn[i];
    }
    t = uphill > 0 ? 1 : tn;
    cp.step(k + 1, x);
  }
  return [x, steps];
}

function stochastic(pot: MarketPotential, method: 'sgd' | 'adagrad' | 'smd', p: Float64Array, steps: number, seed: number, eta: number, oracle: MarketOracle, box: { min: number; max: number }, cp: Checkpoints): Float64Array {
  const n = p.length;
  const N = pot.participants;
  const rng = new MarketRng(seed);
  const g = new Float64Array(n);
  const avg = new Float64Array(n);
  const G = new Float64Array(n);
  if (method === 'smd') {
    if (!(box.min > 0 && box.max > box.min && Number.isFinite(box.max))) throw new RepricerError('INVALID_ARGUMENT', `market solve: smd box must satisfy 0 < min < max, got [${box.min}, ${box.max}]`);
    // from the default start 0: the mean unit cost (a multiplicative step cannot leave a price
    // near 0 quickly); then clipped into the box
    const zero = p.every((v) => v === 0);
    for (let i = 0; i < n; i++) p[i] = Math.min(Math.max(zero ? pot.meanCost : p[i], box.min), box.max);
  }
  let weight = 0;
  for (let t = 0; t < steps; t++) {
    const eta_t = method === 'adagrad' ? eta : eta / Math.sqrt(t + 1);
    // average of p_0 .. p_{T-1}: η-weighted for sgd and smd, uniform for adagrad
    const w = method === 'adagrad' ? 1 : eta_t;
    weight += w;
    for (let i = 0; i < n; i++) avg[i] += (w / weight) * (p[i] - avg[i]);
    const q = rng.below(N);
    if (oracle === 'purchase') pot.oracleSampled(p, q, rng.uniform(), g);
    else pot.oracle(p, q, g);
    if (method === 'sgd') {
      for (let i = 0; i < n; i++) p[i] = Math.max(0, p[i] - eta_t * g[i]);
    } else if (method === 'adagrad') {
      for (let i = 0; i < n; i++) {
        G[i] += g[i] * g[i];
        p[i] = Math.max(0, p[i] - (eta * g[i]) / (Math.sqrt(G[i]) + 1e-8));
      }
    } else {
      for (let i = 0; i < n; i++) p[i] = Math.min(Math.max(p[i] * Math.exp(-eta_t * g[i]), box.min), box.max);
    }
    // avg now holds the average of p_0 .. p_t: the output after t + 1 steps
    cp.step(t + 1, avg);
  }
  return avg;
}
