/**
 * The numeric domain of a model file (docs/formats.md "Model file", docs/math.md §4.4): what the
 * JSON schema cannot say. A covariance must be a covariance (finite, symmetric, positive
 * semi-definite: a negative variance makes the price's standard error NaN, and a NaN must never
 * reach the breaker), the noise scale and the coefficients must keep prices inside the price
 * domain. Each problem names its field.
 */
import { PRICE_LIMIT, SCALE_MAX, SCALE_MIN } from '../core/domain.js';
import { choleskyFactor } from '../core/likelihood.js';

export interface DomainEntry {
  theta: number[];
  stdErr?: number[];
  cov?: number[];
}

/**
 * Whether a symmetric D x D matrix (row-major) is positive semi-definite up to rounding: the
 * Cholesky factorisation of A + delta I succeeds, delta = tol x D x (largest diagonal). A PSD
 * matrix plus delta I is positive definite; a matrix with an eigenvalue below -delta fails at
 * some pivot. Returns that pivot's index, or -1.
 */
export function semidefiniteFailure(m: ArrayLike<number>, D: number, tol = 1e-12): number {
  let scale = 0;
  for (let i = 0; i < D; i++) scale = Math.max(scale, Math.abs(m[i * D + i]));
  return choleskyFactor(m, D, tol * D * scale + Number.MIN_VALUE).fail;
}

/** Every domain problem of one theta entry (`name` is its path, e.g. products.SKU-1), at most a few. */
export function entryDomainProblems(name: string, e: DomainEntry, D: number): string[] {
  const out: string[] = [];
  e.theta.forEach((t, j) => {
    if (!(Math.abs(t) <= PRICE_LIMIT)) out.push(`${name}.theta[${j}]: ${t} is outside [-${PRICE_LIMIT}, ${PRICE_LIMIT}] (coefficients in price units)`);
  });
  e.stdErr?.forEach((s, j) => {
    if (!(s >= 0 && s <= PRICE_LIMIT)) out.push(`${name}.stdErr[${j}]: ${s} must be a standard error in [0, ${PRICE_LIMIT}]`);
  });
  const c = e.cov;
  if (c && c.length === D * D) {
    for (let r = 0; r < D && out.length < 5; r++) {
      for (let s = r; s < D; s++) {
        const a = c[r * D + s];
        const b = c[s * D + r];
        if (!(Math.abs(a) <= PRICE_LIMIT * PRICE_LIMIT) || !(Math.abs(b) <= PRICE_LIMIT * PRICE_LIMIT)) {
          out.push(`${name}.cov: entry (${r}, ${s}) must be a finite number up to ${PRICE_LIMIT * PRICE_LIMIT} in magnitude, got ${a}`);
          return out;
        }
        if (Math.abs(a - b) > 1e-12 * Math.max(Math.abs(a), Math.abs(b))) {
          out.push(`${name}.cov: not symmetric at (${r}, ${s}): ${a} vs ${b}`);
          return out;
        }
      }
      if (c[r * D + r] < 0) {
        out.push(`${name}.cov: variance (${r}, ${r}) is ${c[r * D + r]}, must be >= 0`);
        return out;
      }
    }
    const f = semidefiniteFailure(c, D);
    if (f >= 0) out.push(`${name}.cov: not positive semi-definite (a negative variance along a combination of coefficients 0..${f})`);
  }
  return out;
}

/** Domain problems of the model-wide numbers. */
export function noiseDomainProblems(scale: number, reservation: number, estimated = false): string[] {
  const out: string[] = [];
  if (!(scale >= SCALE_MIN && scale <= SCALE_MAX)) {
    // an estimate collapses toward 0 when the observations cannot identify it (too few rows, or
    // won and lost rows that a zero-noise model separates exactly)
    const why = estimated ? '; it was estimated from the observations, which cannot identify it: give the scale' : '';
    out.push(`noise.scale: ${scale} is outside [${SCALE_MIN}, ${SCALE_MAX}] (the noise's scale in price units${why})`);
  }
  if (!(reservation >= 0 && reservation <= PRICE_LIMIT)) out.push(`reservation: ${reservation} must be a cost in [0, ${PRICE_LIMIT}]`);
  return out;
}

/**
 * Domain problems of the empirical-Bayes prior (docs/math.md §5.3): θ_0 in the price domain and
 * Σ_0 a covariance like any other (finite, symmetric, positive semi-definite), with a positive
 * variance on every coefficient: the fit inverts Σ_0 (its eigenvalues are clipped away from 0),
 * and a zero variance would claim that new products cannot deviate at all along a coefficient.
 */
export function priorDomainProblems(prior: { theta: number[]; cov: number[] }, D: number): string[] {
  const out = entryDomainProblems('prior', prior, D);
  for (let r = 0; r < D && out.length === 0; r++) {
    if (!(prior.cov[r * D + r] > 0)) out.push(`prior.cov: variance (${r}, ${r}) is ${prior.cov[r * D + r]}, must be > 0`);
  }
  return out;
}
