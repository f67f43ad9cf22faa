/**
 * The pieces of the two-stage multi-task (TSMT) estimator of docs/math.md §1.8 that do not depend
 * on where they run: its types and options, λ_i, the layout of the rows by product, and the
 * per-product work of stage II (estimate, standard errors, log-likelihood, the held-out chain
 * over the c_λ grid). The algorithm that strings them together, and runs stage I, is
 * src/model/tsmt.ts; the serial executor there and the worker tasks of the parallel one
 * (src/model/fitTask.ts) call the per-product functions below, so given the same θ̂_0 a product's
 * results are the same bit for bit wherever they are computed.
 *
 *   stage II : θ̂_i = argmin_{‖θ‖≤W} L(θ; rows of i) + λ_i·‖θ - θ̂_0‖₂      (L = average loss)
 *              λ_i = c_λ·sqrt(D·ln(2·D²·M) / n_i)                           (docs/math.md §1.8, the proposed default)
 *
 * Standard errors: cov_i = (I_i + P_i + I/W²)⁻¹, where I_i is the observed Fisher information of
 * product i's rows at θ̂_i (docs/math.md §1.4: -Σ∇²ℓ_t), P_i the curvature of the stage-II
 * penalty in sum scale (n_i·λ_i·(I - vvᵀ)/r with r = ‖θ̂_i - θ̂_0‖, v the unit direction; zero for
 * `individual`), and I/W² a weak prior of sd W standing for the ball constraint, which keeps the
 * matrix invertible for products with fewer rows than coefficients (it is negligible once a
 * product has data in every direction). A product shrunk exactly onto θ̂_0 (and every product
 * under `pooled`) reports the covariance of θ̂_0 (from all rows). With an estimated scale, stage I
 * estimates log σ jointly and the θ block of the (D+1)×(D+1) inverse is reported; stage II holds
 * σ at the stage-I estimate.
 */
import type { WasmCore } from '../core/wasm.js';
import type { NoiseSpec, Convention } from '../core/validate.js';
import { censoredLogLikelihood, type ObservationColumns } from '../core/likelihood.js';
import { fitNewton, observedInformation, type NewtonOptions, type Penalty } from '../core/solvers.js';
import { CV_FOLDS, CV_SEED, SHRINKAGE_RULES, foldLabels, type ShrinkageRule } from './shrinkageCv.js';

export type Strategy = 'tsmt' | 'pooled' | 'individual';
export const STRATEGIES: readonly Strategy[] = ['tsmt', 'pooled', 'individual'];

/** Grid for c_λ, log-spaced (docs/math.md §1.8 suggests [0.01, 1]; 3 is added for small-σ data, see docs/regret.md). */
export const LAMBDA_GRID: readonly number[] = [0.01, 0.03, 0.1, 0.3, 1, 3];

export interface TsmtOptions {
  strategy?: Strategy;
  /** Noise family and scale (the starting value when `estimateScale`). */
  noise: NoiseSpec;
  /** Estimate log σ jointly in stage I (then held fixed in stage II). */
  estimateScale?: boolean;
  /** Radius W of the parameter ball (docs/math.md §1.6). */
  radius: number;
  /** c_λ; undefined: chosen from `lambdaGrid` by K-fold held-out log-likelihood (tsmt only; src/model/shrinkageCv.ts). */
  lambdaC?: number;
  lambdaGrid?: readonly number[];
  /** How the held-out scores choose c_λ (default DEFAULT_SHRINKAGE_RULE, the one-standard-error rule). */
  lambdaRule?: ShrinkageRule;
  convention?: Convention;
  /** Compute covariances and standard errors (default true). */
  standardErrors?: boolean;
  maxIter?: number;
  /** Solver tolerance (default `defaultTol(noise.scale)` = 1e-7/σ). */
  tol?: number;
  /** Warm starts for the per-product fits (same order as products), e.g. the previous episode. */
  start?: Float64Array;
}

export interface ParameterFit {
  theta: Float64Array;
  /** Number of rows (weights not applied). */
  n: number;
  cov?: Float64Array;
  stdErr?: Float64Array;
  iterations: number;
  converged: boolean;
}

export interface ProductFit extends ParameterFit {
  /** λ_i used in stage II (0 for individual, Infinity for pooled). */
  lambda: number;
  /** θ̂_i equals θ̂_0 exactly (pooled, no rows, or the exact-shrinkage condition of §1.8 held). */
  shrunk: boolean;
}

/** The evidence of a held-out choice of c_λ (docs/math.md §1.8; written to the model's fit.lambda). */
export interface LambdaSelectionRecord {
  grid: number[];
  /** per grid value, Σ over folds and products of the held-out log-likelihood */
  heldOutLogLikelihood: number[];
  /** per grid value, the standard error of its paired difference to the best value (shrinkageCv.ts) */
  heldOutStdErr: number[];
  rule: ShrinkageRule;
  /** the grid value with the best summed score (the chosen c_λ under the `max` rule) */
  bestC: number;
  folds: number;
  foldSeed: number;
  /** (fold, product) pairs with held-out rows */
  units: number;
}

export interface TsmtResult {
  strategy: Strategy;
  noise: NoiseSpec;
  scaleEstimated: boolean;
  /** Standard error of log σ when estimated. */
  logScaleStdErr?: number;
  common: ParameterFit;
  products: ProductFit[];
  lambdaC: number | null;
  lambdaSelection?: LambdaSelectionRecord;
  /** Σ_t ℓ_t at each row's own product estimate. */
  logLikelihood: number;
  iterations: number;
  converged: boolean;
}

/**
 * λ_i = c·sqrt(D·ln(2D²M)/n_i) (docs/math.md §1.8, the proposed default; average-loss scale). With row weights,
 * n_i is the product's total weight, so a weight of 2 acts exactly like a duplicated row.
 */
export function lambdaFor(c: number, D: number, M: number, n: number): number {
  if (n <= 0) return Infinity;
  return c * Math.sqrt((D * Math.log(2 * D * D * Math.max(M, 1))) / n);
}

/** Row indices of each product (groups[r] ∈ [0, M)). */
export function groupRows(groups: Int32Array, M: number): Int32Array[] {
  const counts = new Int32Array(M);
  for (let r = 0; r < groups.length; r++) counts[groups[r]]++;
  const out = Array.from({ length: M }, (_, i) => new Int32Array(counts[i]));
  const fill = new Int32Array(M);
  for (let r = 0; r < groups.length; r++) {
    const g = groups[r];
    out[g][fill[g]++] = r;
  }
  return out;
}

/** The rows `idx` of `obs` as a new ObservationColumns (copies). */
export function subsetRows(obs: ObservationColumns, idx: ArrayLike<number>): ObservationColumns {
  const n = idx.length;
  const d = obs.d;
  const x = new Float64Array(n * d);
  const won = new Float64Array(n);
  const price = new Float64Array(n);
  const competitor = new Float64Array(n);
  const weight = obs.weight ? new Float64Array(n) : undefined;
  for (let k = 0; k < n; k++) {
    const r = idx[k];
    x.set(obs.x.subarray(r * d, r * d + d), k * d);
    won[k] = obs.won[r];
    price[k] = obs.price[r];
    competitor[k] = obs.competitor[r];
    if (weight) weight[k] = obs.weight![r];
  }
  const s: ObservationColumns = { n, d, x, won, price, competitor };
  if (weight) s.weight = weight;
  return s;
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** Inverse of a symmetric positive-definite matrix by Cholesky; null if not SPD. */
export function invertSpd(a: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) return null;
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  // inverse of L (lower), then A⁻¹ = L⁻ᵀ L⁻¹
  const Li = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    Li[i * n + i] = 1 / L[i * n + i];
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= L[i * n + k] * Li[k * n + j];
      Li[i * n + j] = s / L[i * n + i];
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += Li[k * n + i] * Li[k * n + j];
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

function diagSqrt(cov: Float64Array, n: number): Float64Array {
  const se = new Float64Array(n);
  for (let i = 0; i < n; i++) se[i] = Math.sqrt(Math.max(0, cov[i * n + i]));
  return se;
}

function totalWeight(obs: ObservationColumns): number {
  if (!obs.weight) return obs.n;
  let s = 0;
  for (let i = 0; i < obs.n; i++) s += obs.weight[i];
  return s;
}

/** Solver settings of a fit, wherever it runs (plain data: they travel to the workers). */
export interface FitSettings {
  noise: NoiseSpec;
  radius: number;
  convention: Convention;
  maxIter?: number;
  tol?: number;
}

/** What the per-product fits need: the settings and the core that runs them. */
export interface Ctx extends FitSettings {
  core: WasmCore;
}

/** Newton options of a fit's solves: the settings' radius, convention, maxIter and tol, mean loss. */
export function solverOpts(s: FitSettings, extra: { penalty?: Penalty; start?: Float64Array; estimateScale?: boolean }): NewtonOptions {
  const o: NewtonOptions = { radius: s.radius, normalize: 'mean', convention: s.convention };
  if (s.maxIter !== undefined) o.maxIter = s.maxIter;
  if (s.tol !== undefined) o.tol = s.tol;
  if (extra.penalty) o.penalty = extra.penalty;
  if (extra.start) o.start = extra.start;
  if (extra.estimateScale) o.estimateScale = true;
  return o;
}

/**
 * Stage II for one product: penalised fit around θ̂_0, with the exact-shrinkage shortcut of
 * docs/math.md §1.8 (θ̂_0 strictly inside the ball and ‖∇L_i(θ̂_0)‖ ≤ λ_i ⇒ θ̂_i = θ̂_0).
 */
function stageTwo(ctx: Ctx, obs: ObservationColumns, theta0: Float64Array, lambda: number, start?: Float64Array): { theta: Float64Array; shrunk: boolean; iterations: number; converged: boolean } {
  if (obs.n === 0) return { theta: theta0.slice(), shrunk: true, iterations: 0, converged: true };
  if (lambda > 0) {
    if (!Number.isFinite(lambda)) return { theta: theta0.slice(), shrunk: true, iterations: 0, converged: true };
    if (norm(theta0) < ctx.radius * (1 - 1e-9)) {
      const g = censoredLogLikelihood(ctx.core, obs, theta0, ctx.noise, { convention: ctx.convention, gradient: true }).gradient!;
      const w = totalWeight(obs);
      if (w > 0 && norm(g) / w <= lambda) return { theta: theta0.slice(), shrunk: true, iterations: 0, converged: true };
    }
  }
  const penalty: Penalty = lambda > 0 ? { kind: 'l2norm', center: theta0, lambda } : { kind: 'none' };
  const r = fitNewton(ctx.core, obs, ctx.noise, solverOpts(ctx, { penalty, start: start ?? theta0 }));
  const theta = Float64Array.from(r.theta);
  let same = true;
  for (let j = 0; j < theta.length; j++) if (theta[j] !== theta0[j]) same = false;
  return { theta, shrunk: same, iterations: r.iterations, converged: r.converged };
}

export interface ProductEstimate {
  theta: Float64Array;
  lambda: number;
  shrunk: boolean;
  iterations: number;
  converged: boolean;
}

/** One product's estimate for one value of c_λ (strategy semantics applied); M = product count. */
export function productEstimate(ctx: Ctx, strategy: Strategy, p: ObservationColumns, theta0: Float64Array, c: number, D: number, M: number, start?: Float64Array): ProductEstimate {
  if (strategy === 'pooled' || p.n === 0) return { theta: theta0.slice(), lambda: Infinity, shrunk: true, iterations: 0, converged: true };
  // n_i of §1.8 is the product's total row weight (= its row count when unweighted)
  const lambda = strategy === 'individual' ? 0 : lambdaFor(c, D, M, totalWeight(p));
  const r = stageTwo(ctx, p, theta0, lambda, start);
  return { ...r, lambda };
}

/**
 * The rows sorted by product, copied once into WASM memory so that every kernel call reads them
 * in place: product i's rows are the block [start[i], start[i+1]); within it, the rows of each
 * of the `folds` folds of the held-out choice of c_λ (shrinkageCv.ts foldLabels) are contiguous,
 * fold 0 first, file order within a fold. Parts are zero-copy subarrays.
 */
export interface Layout {
  obs: ObservationColumns;
  M: number;
  start: Int32Array;
  /** number of folds K */
  folds: number;
  /** product i's fold k is [foldStart[i·(K+1) + k], foldStart[i·(K+1) + k + 1]) */
  foldStart: Int32Array;
  /**
   * Row weights of the current training fold (setTrainingFold): the rows' own weights with the
   * held-out fold's rows at 0. Stage I of a fold and the products' training fits read all rows
   * at these weights.
   */
  trainWeight: Float64Array;
}

/** Allocate the layout in the arena (caller releases the arena mark). */
export function buildLayout(core: WasmCore, obs: ObservationColumns, groups: Int32Array, M: number): Layout {
  const rows = groupRows(groups, M);
  const { n, d } = obs;
  const K = CV_FOLDS;
  const start = new Int32Array(M + 1);
  const foldStart = new Int32Array(M * (K + 1));
  const order = new Int32Array(n);
  let o = 0;
  for (let i = 0; i < M; i++) {
    start[i] = o;
    const idx = rows[i];
    const label = foldLabels(idx.length, K, CV_SEED, i);
    for (let f = 0; f < K; f++) {
      foldStart[i * (K + 1) + f] = o;
      for (let k = 0; k < idx.length; k++) if (label[k] === f) order[o++] = idx[k];
    }
    foldStart[i * (K + 1) + K] = o;
  }
  start[M] = o;
  const a = core.arena;
  const x = a.f64(n * d);
  const won = a.f64(n);
  const price = a.f64(n);
  const competitor = a.f64(n);
  const weight = obs.weight ? a.f64(n) : undefined;
  const tw = a.f64(n);
  // headroom for the per-call scratch of the kernels, so that the memory does not grow (and the
  // views above stay zero-copy) during the fit
  a.release(a.alloc(1 << 16));
  const views = { x: a.view(x.byteOffset, n * d), won: a.view(won.byteOffset, n), price: a.view(price.byteOffset, n), competitor: a.view(competitor.byteOffset, n), weight: weight ? a.view(weight.byteOffset, n) : undefined };
  const sx = obs.x;
  const vx = views.x;
  // locals, not property loads in the loop (measured 1.45 s -> see bench/RESULTS.md "Fit ingest")
  const [sWon, sPrice, sComp, sWeight] = [obs.won, obs.price, obs.competitor, obs.weight];
  const [vWon, vPrice, vComp, vWeight] = [views.won, views.price, views.competitor, views.weight];
  for (let k = 0; k < n; k++) {
    const r = order[k];
    // a plain loop: subarray().set() per row was twice as slow for short rows
    for (let j = 0, i0 = r * d, o0 = k * d; j < d; j++) vx[o0 + j] = sx[i0 + j];
    vWon[k] = sWon[r];
    vPrice[k] = sPrice[r];
    vComp[k] = sComp[r];
  }
  if (vWeight && sWeight) for (let k = 0; k < n; k++) vWeight[k] = sWeight[order[k]];
  const trainWeight = a.view(tw.byteOffset, n);
  const sorted: ObservationColumns = { n, d, x: views.x, won: views.won, price: views.price, competitor: views.competitor };
  if (views.weight) sorted.weight = views.weight;
  const L: Layout = { obs: sorted, M, start, folds: K, foldStart, trainWeight };
  setTrainingFold(L, 0);
  return L;
}

/** The held-out rows [from, to) of product i in fold k. */
export function foldRange(L: Layout, i: number, k: number): [number, number] {
  const b = i * (L.folds + 1) + k;
  return [L.foldStart[b], L.foldStart[b + 1]];
}

/**
 * Make fold k the held-out fold: trainWeight = the rows' weights (1 when unweighted) with fold
 * k's rows of every product at 0 (block copies and fills, one per product).
 */
export function setTrainingFold(L: Layout, k: number): void {
  const tw = L.trainWeight;
  const w = L.obs.weight;
  if (w) tw.set(w);
  else tw.fill(1);
  for (let i = 0; i < L.M; i++) {
    const [a, b] = foldRange(L, i, k);
    tw.fill(0, a, b);
  }
}

/** Rows [from, to) of the layout as a zero-copy ObservationColumns. */
function slice(L: Layout, from: number, to: number): ObservationColumns {
  const o = L.obs;
  const d = o.d;
  const s: ObservationColumns = { n: to - from, d, x: o.x.subarray(from * d, to * d), won: o.won.subarray(from, to), price: o.price.subarray(from, to), competitor: o.competitor.subarray(from, to) };
  if (o.weight) s.weight = o.weight.subarray(from, to);
  return s;
}

/** Every product's rows (zero-copy). */
export function parts(L: Layout): ObservationColumns[] {
  return Array.from({ length: L.M }, (_, i) => slice(L, L.start[i], L.start[i + 1]));
}

/**
 * Every product's rows for the current training fold (setTrainingFold): `train` all its rows at
 * the training weights (the held-out ones at 0), `valid` its rows of held-out fold k at their
 * own weights.
 */
export function foldParts(L: Layout, k: number): { train: ObservationColumns; valid: ObservationColumns }[] {
  return Array.from({ length: L.M }, (_, i) => {
    const train = slice(L, L.start[i], L.start[i + 1]);
    train.weight = L.trainWeight.subarray(L.start[i], L.start[i + 1]);
    const [a, b] = foldRange(L, i, k);
    return { train, valid: slice(L, a, b) };
  });
}


/** The c_λ grid in fitting order: largest first (most shrinkage), each value with its grid index. */
export function gridOrder(grid: readonly number[]): { c: number; k: number }[] {
  return grid.map((c, k) => ({ c, k })).sort((a, b) => b.c - a.c);
}


export function makeCtx(core: WasmCore, opts: TsmtOptions): Ctx {
  return { core, ...fitSettings(opts) };
}

/** The solver settings of a fit: the options' noise, radius, convention, maxIter, tol (default defaultTol). */
export function fitSettings(opts: TsmtOptions): FitSettings {
  const s: FitSettings = { noise: { family: opts.noise.family, scale: opts.noise.scale }, radius: opts.radius, convention: opts.convention ?? 'price' };
  if (opts.maxIter !== undefined) s.maxIter = opts.maxIter;
  s.tol = opts.tol ?? defaultTol(opts.noise.scale);
  return s;
}

/**
 * Default solver tolerance on the prox-gradient mapping of the average loss: 1e-7/σ. Gradients of
 * the average loss are O(1/σ), and an absolute 1e-8 sits at the rounding floor of sums over
 * thousands of rows (the solver now stops when its line search cannot lower the objective, so a
 * tighter tolerance costs iterations, not a run to maxIter).
 */
export function defaultTol(scale: number): number {
  return 1e-7 / scale;
}

export function checkOptions(obs: ObservationColumns, groups: Int32Array, M: number, opts: TsmtOptions): void {
  if (!(opts.radius > 0) || !Number.isFinite(opts.radius)) throw new RangeError(`fitTsmt: radius must be a finite number > 0, got ${opts.radius}`);
  if (!(opts.noise.scale > 0) || !Number.isFinite(opts.noise.scale)) throw new RangeError(`fitTsmt: noise.scale must be a finite number > 0, got ${opts.noise.scale}`);
  if (opts.lambdaC !== undefined && !(opts.lambdaC >= 0)) throw new RangeError(`fitTsmt: lambdaC must be >= 0, got ${opts.lambdaC}`);
  if (groups.length !== obs.n) throw new RangeError(`fitTsmt: groups must have one entry per row (${obs.n}), got ${groups.length}`);
  if (!Number.isInteger(M) || M < 1) throw new RangeError(`fitTsmt: M must be an integer >= 1, got ${M}`);
  for (let r = 0; r < groups.length; r++) {
    if (!(groups[r] >= 0 && groups[r] < M)) throw new RangeError(`fitTsmt: groups[${r}] must be in [0, ${M}), got ${groups[r]}`);
  }
  if (opts.lambdaRule !== undefined && !SHRINKAGE_RULES.includes(opts.lambdaRule)) throw new RangeError(`fitTsmt: lambdaRule must be one of ${SHRINKAGE_RULES.join(', ')}, got ${String(opts.lambdaRule)}`);
  if (opts.lambdaGrid !== undefined && (opts.lambdaGrid.length === 0 || !opts.lambdaGrid.every((c) => c >= 0 && Number.isFinite(c)))) throw new RangeError(`fitTsmt: lambdaGrid must be a non-empty list of finite numbers >= 0, got ${JSON.stringify(opts.lambdaGrid)}`);
  if (opts.strategy !== undefined && !STRATEGIES.includes(opts.strategy)) throw new RangeError(`fitTsmt: strategy must be one of ${STRATEGIES.join(', ')}, got ${String(opts.strategy)}`);
}

/**
 * Covariance and standard errors of θ̂_0 from the observed information of all rows at θ̂_0
 * (`info`, P×P with P = D (+1 with an estimated scale), overwritten) plus the I/W² prior; sets
 * `common.cov`/`common.stdErr` and returns the standard error of log σ when estimated.
 */
export function commonCovariance(common: ParameterFit, info: Float64Array, D: number, estimateScale: boolean, radius: number): number | undefined {
  const P = estimateScale ? D + 1 : D;
  const prior = 1 / (radius * radius);
  for (let j = 0; j < D; j++) info[j * P + j] += prior;
  const inv = invertSpd(info, P);
  if (!inv) return undefined;
  const cov = new Float64Array(D * D);
  for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) cov[i * D + j] = inv[i * P + j];
  common.cov = cov;
  common.stdErr = diagSqrt(cov, D);
  return estimateScale ? Math.sqrt(Math.max(0, inv[D * P + D])) : undefined;
}

/** A product's ParameterFit from its estimate: standard errors of the file comment when `wantSe`. */
export function productFit(ctx: Ctx, e: ProductEstimate, part: ObservationColumns, theta0: Float64Array, common: ParameterFit, wantSe: boolean): ProductFit {
  const D = theta0.length;
  const prior = 1 / (ctx.radius * ctx.radius);
  const pf: ProductFit = { theta: e.theta, n: part.n, lambda: e.lambda, shrunk: e.shrunk, iterations: e.iterations, converged: e.converged };
  if (wantSe) {
    if (e.shrunk && common.cov) {
      pf.cov = common.cov.slice();
      pf.stdErr = common.stdErr!.slice();
    } else {
      const info = Float64Array.from(observedInformation(ctx.core, part, e.theta, ctx.noise, { convention: ctx.convention }));
      for (let j = 0; j < D; j++) info[j * D + j] += prior;
      if (e.lambda > 0 && Number.isFinite(e.lambda)) {
        const v = new Float64Array(D);
        for (let j = 0; j < D; j++) v[j] = e.theta[j] - theta0[j];
        const r = norm(v);
        if (r > 0) {
          const k = (totalWeight(part) * e.lambda) / r;
          for (let a = 0; a < D; a++) for (let b = 0; b < D; b++) info[a * D + b] += k * ((a === b ? 1 : 0) - (v[a] * v[b]) / (r * r));
        }
      }
      const cov = invertSpd(info, D);
      if (cov) {
        pf.cov = cov;
        pf.stdErr = diagSqrt(cov, D);
      }
    }
  }
  return pf;
}

/** Σ_t ℓ_t of a product's rows at θ (rows with weights: Σ w_t ℓ_t). */
export function productLogLikelihood(ctx: Ctx, part: ObservationColumns, theta: Float64Array): number {
  return censoredLogLikelihood(ctx.core, part, theta, ctx.noise, { convention: ctx.convention }).value;
}

export function withLogScale(theta: Float64Array, scale: number): Float64Array {
  const t = new Float64Array(theta.length + 1);
  t.set(theta);
  t[theta.length] = Math.log(scale);
  return t;
}

/** A product's stage-II result: its fit and the log-likelihood of its rows at θ̂_i (0 without rows). */
export interface ProductResult {
  fit: ProductFit;
  logLikelihood: number;
}

/**
 * Stage II of one product with c_λ = c (strategy semantics applied): estimate, standard errors
 * when `wantSe` (`common` carries θ̂_0's covariance for shrunk products) and log-likelihood.
 */
export function fitProduct(
  ctx: Ctx, strategy: Strategy, part: ObservationColumns, theta0: Float64Array, c: number, D: number, M: number,
  start: Float64Array | undefined, common: ParameterFit, wantSe: boolean,
): ProductResult {
  const e = productEstimate(ctx, strategy, part, theta0, c, D, M, start);
  const fit = productFit(ctx, e, part, theta0, common, wantSe);
  return { fit, logLikelihood: part.n === 0 ? 0 : productLogLikelihood(ctx, part, fit.theta) };
}

/**
 * The held-out chain of one product in one fold: stage II (tsmt) on its training rows (`train`:
 * weights with the held-out rows at 0, so n_i of λ_i is the training weight) for each c_λ of
 * `grid` in that order (largest first, gridOrder), each warm-started from the previous estimate,
 * and the log-likelihood of its held-out rows at each estimate (0 without held-out rows).
 */
export function heldOutChain(ctx: Ctx, train: ObservationColumns, valid: ObservationColumns, theta0: Float64Array, grid: ArrayLike<number>, D: number, M: number): Float64Array {
  const out = new Float64Array(grid.length);
  let start: Float64Array | undefined;
  for (let k = 0; k < grid.length; k++) {
    const e = productEstimate(ctx, 'tsmt', train, theta0, grid[k], D, M, start);
    start = e.theta;
    out[k] = valid.n === 0 ? 0 : productLogLikelihood(ctx, valid, e.theta);
  }
  return out;
}
