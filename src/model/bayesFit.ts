/**
 * The `bayes` strategy of `repricer fit` (docs/math.md §5.3): stage I and every product's own
 * MLE come from the TSMT skeleton run as `individual` (src/model/tsmt.ts, serial or on the worker
 * pool); then, on this thread, the empirical-Bayes prior is estimated from them and every product
 * gets its k-shot MAP estimate under the prior with the Laplace posterior covariance
 * (src/model/empiricalBayes.ts).
 *
 * Every product is refitted, not only those with few rows: the MAP is the posterior mode, which
 * tends to the product's own MLE as its rows grow (docs/math.md §5.3), so one rule serves all and
 * no row threshold has to be chosen for the adaptation step.
 */
import type { WasmCore } from '../core/wasm.js';
import { censoredLogLikelihood, type ObservationColumns } from '../core/likelihood.js';
import { RepricerError } from '../core/errors.js';
import { buildLayout, parts, fitTsmt, type ParameterFit, type TsmtOptions, type TsmtResult } from './tsmt.js';
import { empiricalBayesPrior, kShotMap, laplacePosterior, type EmpiricalBayesPrior, type MapSettings } from './empiricalBayes.js';

export interface BayesFitResult extends Omit<TsmtResult, 'strategy' | 'products' | 'lambdaC' | 'lambdaSelection'> {
  strategy: 'bayes';
  products: ParameterFit[];
  prior: EmpiricalBayesPrior;
  /** Cov(θ̂_0) + Σ_0: the covariance of a product the model has not seen (docs/math.md §5.3) */
  coldStartCov: Float64Array;
  lambdaC: null;
}

function weightOf(p: ObservationColumns): number {
  if (!p.weight) return p.n;
  let s = 0;
  for (let i = 0; i < p.n; i++) s += p.weight[i];
  return s;
}

function diagSqrt(cov: Float64Array, D: number): Float64Array {
  const se = new Float64Array(D);
  for (let i = 0; i < D; i++) se[i] = Math.sqrt(Math.max(0, cov[i * D + i]));
  return se;
}

/** Options of stage I and the individual MLEs that the bayes fit runs first. */
export function individualOptions(opts: TsmtOptions): TsmtOptions {
  const o: TsmtOptions = { ...opts, strategy: 'individual', standardErrors: true };
  delete o.lambdaC;
  return o;
}

/**
 * The prior, MAP and Laplace steps on top of an `individual` fit of the same rows (`indiv`, with
 * standard errors). `groups[r]` is the product of row r.
 */
export function bayesFromIndividual(core: WasmCore, obs: ObservationColumns, groups: Int32Array, M: number, indiv: TsmtResult, opts: TsmtOptions): BayesFitResult {
  const D = obs.d;
  const common = indiv.common;
  if (!common.cov) throw new RepricerError('JOB_FAILED', 'fit --strategy bayes: the pooled estimate has no covariance (its information matrix is singular), so the prior cannot be formed');
  const mark = core.arena.mark();
  try {
    const L = buildLayout(core, obs, groups, M);
    const rows = parts(L);
    const mles = indiv.products.flatMap((p, i) => (p.cov ? [{ theta: p.theta, cov: p.cov, n: weightOf(rows[i]) }] : []));
    const prior = empiricalBayesPrior(common.theta, mles, D, { radius: opts.radius });
    const settings: MapSettings = { noise: indiv.noise, convention: opts.convention ?? 'price' };
    if (opts.tol !== undefined) settings.tol = opts.tol;
    if (opts.maxIter !== undefined) settings.maxIter = opts.maxIter;
    let iterations = indiv.common.iterations;
    let converged = indiv.common.converged;
    let logLikelihood = 0;
    const products = rows.map((part): ParameterFit => {
      const m = kShotMap(core, part, prior, settings);
      const cov = laplacePosterior(core, part, m.theta, prior, settings);
      iterations += m.iterations;
      converged &&= m.converged;
      if (part.n > 0) logLikelihood += censoredValue(core, part, m.theta, settings);
      return { theta: m.theta, n: part.n, cov, stdErr: diagSqrt(cov, D), iterations: m.iterations, converged: m.converged };
    });
    const coldStartCov = new Float64Array(D * D);
    for (let i = 0; i < D * D; i++) coldStartCov[i] = common.cov[i] + prior.cov[i];
    const res: BayesFitResult = { strategy: 'bayes', noise: indiv.noise, scaleEstimated: indiv.scaleEstimated, common, products, prior, coldStartCov, lambdaC: null, logLikelihood, iterations, converged };
    if (indiv.logScaleStdErr !== undefined) res.logScaleStdErr = indiv.logScaleStdErr;
    return res;
  } finally {
    core.arena.release(mark);
  }
}

function censoredValue(core: WasmCore, part: ObservationColumns, theta: Float64Array, s: MapSettings): number {
  return censoredLogLikelihood(core, part, theta, s.noise, { convention: s.convention ?? 'price' }).value;
}

/** The whole bayes fit on this thread. */
export function fitBayes(core: WasmCore, obs: ObservationColumns, groups: Int32Array, M: number, opts: TsmtOptions): BayesFitResult {
  const indiv = fitTsmt(core, obs, groups, M, individualOptions(opts));
  return bayesFromIndividual(core, obs, groups, M, indiv, opts);
}
