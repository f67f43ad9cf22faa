/**
 * Observations -> model (`repricer.model/1`, README "Files"): reads the rows, runs the TSMT estimator
 * (src/model/tsmt.ts) and packs the result.
 *
 * Defaults (our choices), documented in the README:
 * - noise scale: estimated jointly (log σ as an extra parameter) unless `scale` is given;
 *   the starting value is half the standard deviation of the prices.
 * - radius W: `3·max(‖θ̂_0‖, σ)`, where θ̂_0 is a pooled fit inside a ball large enough not to
 *   bind (10⁶·(1 + max|price|)). docs/math.md §1.6's default `‖θ_0‖ + δ_max` needs δ_max, which data
 *   do not give; this allows product deviations up to twice the common parameter's norm.
 * - workers: 1 (this thread). With `workers: N > 1` (fitTableAsync, fitObservationsFile, CLI
 *   `--workers N`) the fit runs on a pool of N WASM workers over shared memory
 *   (src/model/parallelFit.ts); it equals the single-threaded fit to rounding.
 */
import type { WasmCore } from '../core/wasm.js';
import { defaultCore } from '../core/wasm.js';
import type { NoiseFamily } from '../core/validate.js';
import { fitNewton } from '../core/solvers.js';
import { RepricerError } from '../core/errors.js';
import { readObservations, type ObservationTable, type ReadObservationsOptions } from './observations.js';
import { MODEL_FORMAT, validateModel, type Model, type ModelStrategy, type ThetaEntry } from './format.js';
import { fitTsmt, type TsmtResult, type ParameterFit } from './tsmt.js';
import { bayesFromIndividual, fitBayes, individualOptions, type BayesFitResult } from './bayesFit.js';
import { FitPool, layoutBytes } from './parallelFit.js';
import type { ShrinkageRule } from './shrinkageCv.js';

export interface FitOptions {
  /** tsmt, pooled, individual (docs/math.md §1.8) or bayes (empirical-Bayes MAP, §5.3) */
  strategy?: ModelStrategy;
  family?: NoiseFamily;
  /** Known noise scale; omit to estimate it. */
  scale?: number;
  /** Estimate the scale even if `scale` is given (then `scale` is the starting value). */
  estimateScale?: boolean;
  radius?: number;
  lambdaC?: number;
  /** How the held-out choice of c_λ reads its scores (src/model/shrinkageCv.ts; default one-se). */
  lambdaRule?: ShrinkageRule;
  /** Payoff when we do not trade (model `reservation`), default 0. */
  reservation?: number;
  /** Timestamp written to `createdAt` (default now); tests pass a fixed one. */
  createdAt?: string;
  /** Worker threads (default 1: this thread; > 1 needs fitTableAsync or fitObservationsFile). */
  workers?: number;
  /** Compiled worker module for workers > 1 (default dist/src/model/fitTask.js). */
  workerFile?: string;
}

function sd(a: Float64Array): number {
  if (a.length < 2) return 1;
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i];
  m /= a.length;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - m) ** 2;
  return Math.sqrt(s / (a.length - 1));
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** The pooled fit behind the default radius: a ball too large to bind, the starting scale. */
function radiusProblem(table: ObservationTable, scale: number | undefined): { big: number; start: number } {
  const obs = table.columns;
  return { big: 1e6 * (1 + maxAbs(obs.price)), start: scale ?? Math.max(1e-6, 0.5 * sd(obs.price)) };
}

function radiusFrom(r: { theta: Float64Array; logScale?: number }, start: number): number {
  const sigma = r.logScale !== undefined ? Math.exp(r.logScale) : start;
  return 3 * Math.max(norm(r.theta), sigma);
}

/** The default radius of the file comment. */
export function defaultRadius(core: WasmCore, table: ObservationTable, family: NoiseFamily, scale: number | undefined): number {
  const { big, start } = radiusProblem(table, scale);
  const r = fitNewton(core, table.columns, { family, scale: start }, { radius: big, normalize: 'mean', estimateScale: scale === undefined });
  return radiusFrom(r, start);
}

function entry(p: ParameterFit): ThetaEntry {
  const e: ThetaEntry = { theta: Array.from(p.theta), n: p.n };
  if (p.stdErr) e.stdErr = Array.from(p.stdErr);
  if (p.cov) e.cov = Array.from(p.cov);
  return e;
}

/** Pack a TSMT or bayes result as a model object (validated). */
export function toModel(table: ObservationTable, res: TsmtResult | BayesFitResult, radius: number, opts: FitOptions): Model {
  const products: Record<string, ThetaEntry> = {};
  table.productIds.forEach((id, i) => (products[id] = entry(res.products[i])));
  const noise: Model['noise'] = { family: res.noise.family, scale: res.noise.scale, estimated: res.scaleEstimated };
  const fit: Model['fit'] = { logLikelihood: res.logLikelihood, iterations: res.iterations, converged: res.converged, rows: table.columns.n, productCount: table.productIds.length };
  if (res.strategy !== 'bayes' && res.lambdaC !== null) {
    const sel = res.lambdaSelection;
    fit.lambda = { c: res.lambdaC, formula: 'c*sqrt(D*ln(2*D^2*M)/n_i)', chosen: sel ? `${sel.folds}-fold held-out log-likelihood` : 'given' };
    if (sel) {
      // the evidence of the choice (docs/math.md §1.8, "Choice of c_λ")
      Object.assign(fit.lambda, {
        rule: sel.rule, bestC: sel.bestC, folds: sel.folds, foldSeed: sel.foldSeed, units: sel.units,
        grid: sel.grid, heldOutLogLikelihood: sel.heldOutLogLikelihood, heldOutStdErr: sel.heldOutStdErr,
      });
    }
  }
  if (res.logScaleStdErr !== undefined) fit.logScaleStdErr = res.logScaleStdErr;
  if (res.strategy === 'bayes') {
    const p = res.prior;
    fit.prior = { method: p.method, products: p.products, minRows: p.minRows, epsilon: p.epsilon, eigenvalueFloor: p.floor, clippedEigenvalues: p.clipped, spreadResolved: p.spreadResolved };
  }
  const m: Model = {
    format: MODEL_FORMAT,
    createdAt: opts.createdAt ?? new Date().toISOString(),
    features: [...table.features],
    intercept: table.intercept,
    noise,
    reservation: opts.reservation ?? 0,
    radius,
    strategy: res.strategy,
    common: entry(res.common),
    products,
    fit,
  };
  if (res.strategy === 'bayes') m.prior = { theta: Array.from(res.prior.theta), cov: Array.from(res.prior.cov) };
  return validateModel(JSON.parse(JSON.stringify(m)));
}

function checkWorkers(workers: unknown): number {
  if (workers === undefined) return 1;
  if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 1) throw new RangeError(`fit: workers must be an integer >= 1, got ${String(workers)}`);
  return workers;
}

/** Fit a model to an observation table already in memory (this thread; see fitTableAsync for workers). */
export function fitTable(table: ObservationTable, opts: FitOptions = {}, core: WasmCore = defaultCore()): Model {
  if (checkWorkers(opts.workers) > 1) throw new RangeError(`fitTable runs on this thread; use fitTableAsync for workers = ${String(opts.workers)}`);
  const family = opts.family ?? 'gaussian';
  if (table.columns.n === 0) throw new RepricerError('INPUT_UNREADABLE', `${table.file}: no observation rows`, { file: table.file });
  const estimateScale = opts.estimateScale ?? opts.scale === undefined;
  const radius = opts.radius ?? defaultRadius(core, table, family, estimateScale ? undefined : opts.scale);
  const scale = opts.scale ?? Math.max(1e-6, 0.5 * sd(table.columns.price));
  const strategy = opts.strategy ?? 'tsmt';
  const tsmtOpts: Parameters<typeof fitTsmt>[4] = { strategy: strategy === 'bayes' ? 'individual' : strategy, noise: { family, scale }, estimateScale, radius };
  if (opts.lambdaC !== undefined) tsmtOpts.lambdaC = opts.lambdaC;
  if (opts.lambdaRule !== undefined) tsmtOpts.lambdaRule = opts.lambdaRule;
  const res = strategy === 'bayes'
    ? fitBayes(core, table.columns, table.product, table.productIds.length, tsmtOpts)
    : fitTsmt(core, table.columns, table.product, table.productIds.length, tsmtOpts);
  return toModel(table, res, radius, opts);
}

/**
 * fitTable with `opts.workers` threads: 1 runs fitTable here; more run the default radius and the
 * TSMT fit on a worker pool over shared memory (created for this call, destroyed after it).
 */
export async function fitTableAsync(table: ObservationTable, opts: FitOptions = {}, core: WasmCore = defaultCore()): Promise<Model> {
  const workers = checkWorkers(opts.workers);
  if (workers === 1) return fitTable(table, opts, core);
  const family = opts.family ?? 'gaussian';
  if (table.columns.n === 0) throw new RepricerError('INPUT_UNREADABLE', `${table.file}: no observation rows`, { file: table.file });
  const estimateScale = opts.estimateScale ?? opts.scale === undefined;
  const scale = opts.scale ?? Math.max(1e-6, 0.5 * sd(table.columns.price));
  const cols = table.columns;
  const dataBytes = layoutBytes(cols.n, cols.d, cols.weight !== undefined);
  const pool = FitPool.create(opts.workerFile ? { workers, dataBytes, workerFile: opts.workerFile } : { workers, dataBytes });
  try {
    const h = pool.load(table.columns, table.product, table.productIds.length);
    try {
      let radius = opts.radius;
      if (radius === undefined) {
        const rp = radiusProblem(table, estimateScale ? undefined : opts.scale);
        radius = radiusFrom(await pool.pooledFit(h, { family, scale: rp.start }, { radius: rp.big, estimateScale, convention: 'price' }), rp.start);
      }
      const strategy = opts.strategy ?? 'tsmt';
      const tsmtOpts: Parameters<typeof fitTsmt>[4] = { strategy: strategy === 'bayes' ? 'individual' : strategy, noise: { family, scale }, estimateScale, radius };
      if (opts.lambdaC !== undefined) tsmtOpts.lambdaC = opts.lambdaC;
      if (opts.lambdaRule !== undefined) tsmtOpts.lambdaRule = opts.lambdaRule;
      if (strategy !== 'bayes') return toModel(table, await pool.fit(h, tsmtOpts), radius, opts);
      // stage I and the own MLEs on the pool; the prior and the MAP steps are cheap, on this thread
      const indiv = await pool.fit(h, individualOptions(tsmtOpts));
      return toModel(table, bayesFromIndividual(core, table.columns, table.product, table.productIds.length, indiv, tsmtOpts), radius, opts);
    } finally {
      pool.unload(h);
    }
  } finally {
    await pool.destroy();
  }
}

/** Read an observations file and fit a model (`opts.workers` threads). */
export async function fitObservationsFile(file: string, opts: FitOptions & ReadObservationsOptions = {}, core?: WasmCore): Promise<Model> {
  const readOpts: ReadObservationsOptions = {};
  if (opts.features) readOpts.features = opts.features;
  if (opts.intercept !== undefined) readOpts.intercept = opts.intercept;
  if (opts.allowExtraColumns !== undefined) readOpts.allowExtraColumns = opts.allowExtraColumns;
  const table = await readObservations(file, readOpts);
  return fitTableAsync(table, opts, core ?? defaultCore());
}
