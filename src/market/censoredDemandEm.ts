/**
 * Demand censored by availability, estimated by EM (docs/math.md §2.7). Period t has latent demand
 * D_t ~ Poisson(λ·a_t), with a_t > 0 the known multiplier of the demand level (price response ×
 * exposure); we see B_t = min(D_t, c_t), c_t the units available, and a period is censored (sold
 * out) when B_t = c_t. The same scalar EM serves the zone (λ = the zone's demand level) and an
 * item (λ = the item's share of its zone, a_t then carrying the zone's level).
 */
import { RepricerError } from '../core/errors.js';
import type { WasmCore } from '../core/wasm.js';
import { CensoredColumns } from './censoredEStep.js';
import { logFactorial, poissonTail } from './poissonTail.js';

/** The periods of one zone (or item): three equal-length columns. */
export interface CensoredPeriods {
  /** a_t > 0: the known multiplier of λ in the period's mean demand */
  multiplier: Float64Array;
  /** B_t: bookings, an integer in [0, c_t] */
  bookings: Float64Array;
  /** c_t: units available, an integer ≥ 0 */
  available: Float64Array;
}

/** Rejects columns the model cannot hold, naming the period (0-based) and what was expected. */
export function checkPeriods(d: CensoredPeriods): void {
  const n = d.multiplier.length;
  if (d.bookings.length !== n || d.available.length !== n) throw new RepricerError('INVALID_ARGUMENT', `censored periods: columns of lengths ${n}, ${d.bookings.length}, ${d.available.length}; expected equal lengths`);
  for (let t = 0; t < n; t++) {
    const a = d.multiplier[t], b = d.bookings[t], c = d.available[t];
    if (!(a > 0 && Number.isFinite(a))) throw new RepricerError('INVALID_ARGUMENT', `censored periods: period ${t}: multiplier must be a finite number > 0, got ${a}`);
    if (!(Number.isInteger(c) && c >= 0)) throw new RepricerError('INVALID_ARGUMENT', `censored periods: period ${t}: available must be an integer >= 0, got ${c}`);
    if (!(Number.isInteger(b) && b >= 0 && b <= c)) throw new RepricerError('INVALID_ARGUMENT', `censored periods: period ${t}: bookings must be an integer in [0, available = ${c}], got ${b}`);
  }
}

/** One E-step: the imputed demand and its conditional variance per period, and ℓ(λ). */
export interface EStep {
  /** ℓ(λ), the observed-data log-likelihood (with its −log B! constants) */
  logLik: number;
  /** D̂_t = E[D_t | B_t]: B_t when not sold out, E[D | D ≥ c_t] when sold out */
  demand: Float64Array;
  /** Var[D_t | B_t]: 0 when not sold out */
  variance: Float64Array;
  /** d log P(D ≥ c_t)/dμ_t per period (0 when not sold out), for the direct Hessian */
  hazard: Float64Array;
}

/**
 * The E-step at λ > 0 (§2.7): ℓ(λ) = Σ_open [B log μ − μ − log B!] + Σ_sold-out log P(D ≥ c; μ),
 * μ_t = λ a_t, and the conditional moments of each sold-out period's demand.
 */
export function eStep(d: CensoredPeriods, lambda: number): EStep {
  const n = d.multiplier.length;
  const demand = new Float64Array(n), variance = new Float64Array(n), hazard = new Float64Array(n);
  let ll = 0;
  for (let t = 0; t < n; t++) {
    const mu = lambda * d.multiplier[t], b = d.bookings[t], c = d.available[t];
    if (b < c) {
      ll += (b > 0 ? b * Math.log(mu) : 0) - mu - logFactorial(b);
      demand[t] = b;
    } else {
      const tail = poissonTail(c, mu);
      ll += tail.logTail;
      demand[t] = tail.mean;
      variance[t] = tail.variance;
      hazard[t] = tail.hazard;
    }
  }
  return { logLik: ll, demand, variance, hazard };
}

export function logLikelihood(d: CensoredPeriods, lambda: number): number {
  return eStep(d, lambda).logLik;
}

function sum(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s;
}

/** dℓ/dλ = Σ_t (D̂_t − λ a_t)/λ (Fisher's identity: the complete-data score at the imputed demand). */
export function score(d: CensoredPeriods, lambda: number, e: EStep = eStep(d, lambda)): number {
  return (sum(e.demand) - lambda * sum(d.multiplier)) / lambda;
}

/**
 * d²ℓ/dλ² differentiated directly: −B/λ² for an open period; for a sold-out one
 * a² [h((c − 1)/μ − 1) − h²] with h = P(D = c − 1)/P(D ≥ c) (§2.7).
 */
export function hessian(d: CensoredPeriods, lambda: number, e: EStep = eStep(d, lambda)): number {
  let hs = 0;
  for (let t = 0; t < d.multiplier.length; t++) {
    const a = d.multiplier[t], b = d.bookings[t], c = d.available[t];
    if (b < c) hs -= b / (lambda * lambda);
    else if (c > 0) {
      const mu = lambda * a, h = e.hazard[t];
      hs += a * a * (h * ((c - 1) / mu - 1) - h * h);
    }
  }
  return hs;
}

/**
 * The observed information by Louis' method: the complete-data information at the imputed demand
 * minus the conditional variance of the complete-data score, I(λ) = Σ_t (D̂_t − Var[D_t | B_t])/λ².
 * It equals −hessian() (§2.7 shows the algebra); computed from different quantities, the two check
 * each other.
 */
export function louisInformation(d: CensoredPeriods, lambda: number, e: EStep = eStep(d, lambda)): number {
  return (sum(e.demand) - sum(e.variance)) / (lambda * lambda);
}

/**
 * - `estimated`: an open period exists (so ℓ → −∞ as λ → ∞) and some booking was seen;
 * - `no-demand`: no booking at all: λ̂ = 0 (the information is unbounded there; no SE);
 * - `unbounded`: every period with units sold out: ℓ keeps rising with λ, no finite estimate;
 * - `no-data`: no period had a unit available: the data say nothing about λ.
 */
export type EmStatus = 'estimated' | 'no-demand' | 'unbounded' | 'no-data';

export interface EmOptions {
  /** starting λ (default: Σ B / Σ a, the estimate that ignores censoring, floored at 1e-12) */
  start?: number;
  /** stop when |λ_{k+1} − λ_k| ≤ tol·λ_k (default 1e-10) */
  tol?: number;
  /** at most this many EM steps (default 100 000) */
  maxIterations?: number;
  /** the WASM core whose kernel runs the E-step passes (default: the process's core) */
  core?: WasmCore;
}

export interface EmResult {
  status: EmStatus;
  /** λ̂ (0 for no-demand; NaN for unbounded and no-data) */
  lambda: number;
  /** SE(λ̂) = 1/√I(λ̂), I by Louis' method; NaN when there is none */
  stdErr: number;
  /** the observed information at λ̂ by Louis' method and by the direct Hessian */
  information: number;
  hessian: number;
  /** EM steps taken */
  iterations: number;
  converged: boolean;
  /** ℓ(λ_0), ℓ(λ_1), …, ℓ(λ̂): never decreasing (up to rounding) */
  logLikPath: number[];
  periods: number;
  /** periods that sold out with at least one unit available */
  soldOut: number;
  bookings: number;
  /** Σ_t (D̂_t − B_t) at λ̂: the demand the sold-out periods turned away */
  lostDemand: number;
}

/**
 * EM for λ (§2.7): E-step D̂_t = E[D_t | B_t; λ_k], M-step λ_{k+1} = Σ D̂_t / Σ a_t, the
 * complete-data Poisson MLE. Without sold-out periods this is Σ B / Σ a after one step. The
 * E-step sums come from the WASM kernel; `eStep` above is the same computation per period.
 */
export function fitCensoredDemand(d: CensoredPeriods, opts: EmOptions = {}): EmResult {
  checkPeriods(d);
  const n = d.multiplier.length;
  const tol = opts.tol ?? 1e-10;
  const maxIt = opts.maxIterations ?? 100_000;
  let open = 0, soldOut = 0, bookings = 0;
  for (let t = 0; t < n; t++) {
    bookings += d.bookings[t];
    if (d.bookings[t] < d.available[t]) open++;
    else if (d.available[t] > 0) soldOut++;
  }
  const base = { periods: n, soldOut, bookings };
  if (open === 0) {
    const status: EmStatus = soldOut > 0 ? 'unbounded' : 'no-data';
    return { ...base, status, lambda: NaN, stdErr: NaN, information: NaN, hessian: NaN, iterations: 0, converged: false, logLikPath: [], lostDemand: NaN };
  }
  const sa = sum(d.multiplier);
  if (bookings === 0) {
    // every period open with no booking: ℓ(λ) = −λ Σa is maximised at the boundary λ = 0
    return { ...base, status: 'no-demand', lambda: 0, stdErr: NaN, information: NaN, hessian: NaN, iterations: 0, converged: true, logLikPath: [0], lostDemand: 0 };
  }
  let lambda = opts.start ?? Math.max(bookings / sa, 1e-12);
  if (!(lambda > 0 && Number.isFinite(lambda))) throw new RepricerError('INVALID_ARGUMENT', `censored-demand EM: start must be a finite number > 0, got ${lambda}`);
  // every E-step is one pass of the WASM kernel over the columns (assembly/censoredDemand.ts)
  const cols = new CensoredColumns(d, opts.core);
  try {
    let s = cols.sums(lambda);
    const path = [s.logLik];
    let it = 0;
    let converged = false;
    while (it < maxIt) {
      const next = s.demand / sa;
      it++;
      const step = Math.abs(next - lambda);
      lambda = next;
      s = cols.sums(lambda);
      path.push(s.logLik);
      if (step <= tol * lambda) {
        converged = true;
        break;
      }
    }
    // Louis: I = Σ (D̂ − Var)/λ²
    const info = (s.demand - s.variance) / (lambda * lambda);
    return {
      ...base,
      status: 'estimated',
      lambda,
      stdErr: info > 0 ? 1 / Math.sqrt(info) : NaN,
      information: info,
      hessian: s.hessian,
      iterations: it,
      converged,
      logLikPath: path,
      lostDemand: s.demand - bookings,
    };
  } finally {
    cols.dispose();
  }
}
