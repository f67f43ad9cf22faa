/**
 * Empirical-Bayes cold start (docs/math.md §5.3): a Gaussian prior N(θ_0, Σ_0) shared by all
 * products, estimated from the products with many rows, then every product's k-shot MAP estimate
 * under that prior and its Laplace posterior covariance.
 *
 *   prior mean      θ_0 = the pooled MLE (stage I of docs/math.md §1.8)
 *   prior cov       Σ_0 = clip( sym( (1/S)Σ_s (θ̂_s − θ_0)(θ̂_s − θ_0)ᵀ − (1/S)Σ_s V_s ) )
 *                   over the S products with n_s ≥ 5·D (θ̂_s their own MLE, V_s its covariance),
 *                   every eigenvalue raised to at least ε·tr/D (ε = PRIOR_EIGEN_FLOOR)
 *   k-shot MAP      θ̂ = argmin −Σ_t w_t ℓ_t(θ) + ½(θ − θ_0)ᵀ Σ_0⁻¹ (θ − θ_0)
 *   Laplace         Σ_post = (I(θ̂) + Σ_0⁻¹)⁻¹,  I = −Σ w ∇²ℓ (observed information, §1.4)
 *
 * The likelihood, its derivatives and the Newton solver with its quadratic (Gaussian-prior)
 * penalty are the WASM core's (src/core/likelihood.ts, src/core/solvers.ts); nothing here loops
 * over rows.
 */
import type { WasmCore } from '../core/wasm.js';
import type { Convention, NoiseSpec } from '../core/validate.js';
import { censoredLogLikelihood, inverseSpd, observedInformation, type ObservationColumns } from '../core/likelihood.js';
import { fitNewton } from '../core/solvers.js';
import { RepricerError } from '../core/errors.js';
import { fromEigen, symmetricEigen } from './symmetricEigen.js';

/** A product qualifies for the prior with n_s ≥ PRIOR_ROWS_PER_COEFFICIENT·D rows (its MLE and V_s are then trustworthy). */
export const PRIOR_ROWS_PER_COEFFICIENT = 5;
/**
 * ε of the eigenvalue floor ε·tr/D: no direction of Σ_0 may carry less than a tenth of the average
 * variance per coefficient. With S products the moment estimate has rank at most S, so with S < D
 * most directions are not estimated at all; the floor keeps the prior from pinning a new
 * product's deviation to zero there (and keeps Σ_0 invertible).
 */
export const PRIOR_EIGEN_FLOOR = 0.1;
/** Fewest qualifying products for a moment estimate of Σ_0 (below it, the fallbacks of empiricalBayesPrior). */
export const PRIOR_MIN_PRODUCTS = 3;

/** One product's own estimate, as the prior needs it. */
export interface ProductMle {
  theta: ArrayLike<number>;
  /** covariance V_s of θ̂_s, D×D row-major (inverse observed information) */
  cov: ArrayLike<number>;
  /** total row weight n_s */
  n: number;
}

/**
 * How Σ_0 was obtained:
 * - `moments`: the moment estimate over products with n_s ≥ 5·D;
 * - `moments-few-rows`: fewer than PRIOR_MIN_PRODUCTS such products, so the same estimate over
 *   products with n_s ≥ D (identified, but V_s less reliable);
 * - `ball`: fewer than PRIOR_MIN_PRODUCTS products with n_s ≥ D either: Σ_0 = (W²/D)·I, the
 *   deviation the parameter ball allows (a weak prior; MAP then is close to the own MLE).
 */
export type PriorMethod = 'moments' | 'moments-few-rows' | 'ball';

export interface EmpiricalBayesPrior {
  /** prior mean θ_0 (the pooled MLE) */
  theta: Float64Array;
  /** prior covariance Σ_0, D×D row-major, positive definite */
  cov: Float64Array;
  /** Σ_0⁻¹ */
  precision: Float64Array;
  method: PriorMethod;
  /** products the moment estimate used (0 for `ball`) */
  products: number;
  /** the row threshold they passed */
  minRows: number;
  epsilon: number;
  /** the eigenvalue floor ε·tr/D */
  floor: number;
  /** eigenvalues raised to the floor */
  clipped: number;
  /**
   * false when the moment matrix had a trace ≤ 0 (the products' spread is no larger than their
   * sampling noise): the floor is then ε·tr(V̄)/D with V̄ the mean V_s, a strong pull to θ_0
   */
  spreadResolved: boolean;
}

/**
 * The symmetrised moment matrix (1/S)Σ(θ̂_s − θ_0)(θ̂_s − θ_0)ᵀ − (1/S)ΣV_s over `products`
 * (before clipping), and the mean of the V_s.
 */
export function momentsCovariance(theta0: ArrayLike<number>, products: readonly ProductMle[], D: number): { moments: Float64Array; meanV: Float64Array } {
  const S = products.length;
  if (S === 0) throw new RepricerError('INTERNAL', 'momentsCovariance: no products');
  const m = new Float64Array(D * D);
  const meanV = new Float64Array(D * D);
  const dev = new Float64Array(D);
  for (const p of products) {
    for (let a = 0; a < D; a++) dev[a] = p.theta[a] - theta0[a];
    for (let a = 0; a < D; a++) {
      for (let b = 0; b < D; b++) {
        m[a * D + b] += dev[a] * dev[b];
        meanV[a * D + b] += 0.5 * (p.cov[a * D + b] + p.cov[b * D + a]);
      }
    }
  }
  for (let i = 0; i < D * D; i++) {
    m[i] /= S;
    meanV[i] /= S;
  }
  const moments = new Float64Array(D * D);
  for (let a = 0; a < D; a++) {
    for (let b = a; b < D; b++) {
      const v = 0.5 * (m[a * D + b] + m[b * D + a]) - meanV[a * D + b];
      moments[a * D + b] = v;
      moments[b * D + a] = v;
    }
  }
  return { moments, meanV };
}

function trace(a: ArrayLike<number>, D: number): number {
  let t = 0;
  for (let i = 0; i < D; i++) t += a[i * D + i];
  return t;
}

/**
 * Raise every eigenvalue of the symmetric `a` to at least ε·t/D, with t = tr(a) when positive,
 * else `fallbackTrace` (docs/math.md §5.3).
 */
export function clipEigenvalues(a: ArrayLike<number>, D: number, epsilon: number, fallbackTrace: number): { cov: Float64Array; floor: number; clipped: number; spreadResolved: boolean } {
  const t = trace(a, D);
  const spreadResolved = t > 0;
  const floor = (epsilon * (spreadResolved ? t : fallbackTrace)) / D;
  if (!(floor > 0) || !Number.isFinite(floor)) throw new RepricerError('INTERNAL', `clipEigenvalues: the eigenvalue floor must be a finite number > 0, got ${floor}`);
  const { values, vectors } = symmetricEigen(a, D);
  let clipped = 0;
  for (let j = 0; j < D; j++) {
    if (values[j] < floor) {
      values[j] = floor;
      clipped++;
    }
  }
  return { cov: fromEigen(values, vectors, D), floor, clipped, spreadResolved };
}

export interface PriorOptions {
  /** radius W of the parameter ball (the `ball` fallback) */
  radius: number;
  /** ε (default PRIOR_EIGEN_FLOOR) */
  epsilon?: number;
  /** rows per coefficient for the moment estimate (default PRIOR_ROWS_PER_COEFFICIENT) */
  rowsPerCoefficient?: number;
}

/**
 * The shared prior N(θ_0, Σ_0) of docs/math.md §5.3 from the pooled MLE `theta0` and every
 * product's own MLE with its covariance (products in any order; those below the row threshold
 * are skipped).
 */
export function empiricalBayesPrior(theta0: ArrayLike<number>, products: readonly ProductMle[], D: number, opts: PriorOptions): EmpiricalBayesPrior {
  const epsilon = opts.epsilon ?? PRIOR_EIGEN_FLOOR;
  const perCoef = opts.rowsPerCoefficient ?? PRIOR_ROWS_PER_COEFFICIENT;
  const theta = Float64Array.from(theta0);
  const tiers: Array<{ method: PriorMethod; minRows: number }> = [
    { method: 'moments', minRows: perCoef * D },
    { method: 'moments-few-rows', minRows: D },
  ];
  for (const { method, minRows } of tiers) {
    const used = products.filter((p) => p.n >= minRows);
    if (used.length < PRIOR_MIN_PRODUCTS) continue;
    const { moments, meanV } = momentsCovariance(theta0, used, D);
    const c = clipEigenvalues(moments, D, epsilon, trace(meanV, D));
    return { theta, cov: c.cov, precision: symmetricInverse(c.cov, D), method, products: used.length, minRows, epsilon, floor: c.floor, clipped: c.clipped, spreadResolved: c.spreadResolved };
  }
  const v = (opts.radius * opts.radius) / D;
  const cov = new Float64Array(D * D);
  for (let i = 0; i < D; i++) cov[i * D + i] = v;
  return { theta, cov, precision: symmetricInverse(cov, D), method: 'ball', products: 0, minRows: D, epsilon, floor: v, clipped: 0, spreadResolved: false };
}

/** Inverse of a symmetric positive definite matrix, symmetrised (the solver checks the precision's symmetry). */
export function symmetricInverse(a: Float64Array, D: number): Float64Array {
  const inv = inverseSpd(a, D, 'empiricalBayes');
  for (let i = 0; i < D; i++) {
    for (let j = i + 1; j < D; j++) {
      const v = 0.5 * (inv[i * D + j] + inv[j * D + i]);
      inv[i * D + j] = v;
      inv[j * D + i] = v;
    }
  }
  return inv;
}

/** A prior as the MAP needs it: its mean and precision. */
export interface GaussianPrior {
  theta: Float64Array;
  precision: Float64Array;
}

export interface MapSettings {
  noise: NoiseSpec;
  convention?: Convention;
  /** tolerance on the mean-scale prox-gradient mapping (the fit's defaultTol); scaled by the rows' weight here */
  tol?: number;
  maxIter?: number;
}

/**
 * The k-shot MAP objective J(θ) = −Σ w_t ℓ_t(θ) + ½(θ − θ_0)ᵀ P (θ − θ_0) (sum scale, P = Σ_0⁻¹)
 * with its gradient and Hessian: the kernel's likelihood pass plus the penalty's closed form.
 */
export function kShotObjective(core: WasmCore, obs: ObservationColumns, theta: Float64Array, prior: GaussianPrior, s: MapSettings): { value: number; gradient: Float64Array; hessian: Float64Array } {
  const D = theta.length;
  const l = censoredLogLikelihood(core, obs, theta, s.noise, { convention: s.convention ?? 'price', gradient: true, hessian: true });
  const g = l.gradient!;
  const H = l.hessian!;
  const dev = new Float64Array(D);
  for (let a = 0; a < D; a++) dev[a] = theta[a] - prior.theta[a];
  let quad = 0;
  const gradient = new Float64Array(D);
  const hessian = new Float64Array(D * D);
  for (let a = 0; a < D; a++) {
    let pa = 0;
    for (let b = 0; b < D; b++) {
      pa += prior.precision[a * D + b] * dev[b];
      hessian[a * D + b] = -H[a * D + b] + prior.precision[a * D + b];
    }
    quad += dev[a] * pa;
    gradient[a] = -g[a] + pa;
  }
  return { value: -l.value + 0.5 * quad, gradient, hessian };
}

function totalWeight(obs: ObservationColumns): number {
  if (!obs.weight) return obs.n;
  let w = 0;
  for (let i = 0; i < obs.n; i++) w += obs.weight[i];
  return w;
}

/**
 * The k-shot MAP estimate of docs/math.md §5.3: Newton on J (kShotObjective) from θ_0, by the
 * core's solver with its quadratic penalty (sum scale, so the prior weighs as Σ_0⁻¹ against k
 * rows). No ball: the Gaussian prior already makes J strictly convex with a unique minimiser,
 * and the ball (a stand-in for a prior, §1.8) would only bias the closed-form Gaussian case.
 * A product without rows (or with zero total weight) gets θ_0.
 */
export function kShotMap(core: WasmCore, obs: ObservationColumns, prior: GaussianPrior, s: MapSettings): { theta: Float64Array; iterations: number; converged: boolean } {
  const w = totalWeight(obs);
  if (obs.n === 0 || !(w > 0)) return { theta: prior.theta.slice(), iterations: 0, converged: true };
  const opts: Parameters<typeof fitNewton>[3] = {
    normalize: 'sum',
    penalty: { kind: 'quadratic', center: prior.theta, precision: prior.precision },
    start: prior.theta,
    convention: s.convention ?? 'price',
    tol: (s.tol ?? 1e-7 / s.noise.scale) * Math.max(1, w),
  };
  if (s.maxIter !== undefined) opts.maxIter = s.maxIter;
  const r = fitNewton(core, obs, s.noise, opts);
  return { theta: Float64Array.from(r.theta), iterations: r.iterations, converged: r.converged };
}

/** The Laplace posterior covariance (I(θ̂) + Σ_0⁻¹)⁻¹ at the MAP estimate (Σ_0 itself without rows). */
export function laplacePosterior(core: WasmCore, obs: ObservationColumns, thetaMap: Float64Array, prior: GaussianPrior, s: MapSettings): Float64Array {
  const D = thetaMap.length;
  const info = obs.n === 0 ? new Float64Array(D * D) : observedInformation(core, obs, thetaMap, s.noise, { convention: s.convention ?? 'price' });
  for (let i = 0; i < D * D; i++) info[i] += prior.precision[i];
  return symmetricInverse(info, D);
}
