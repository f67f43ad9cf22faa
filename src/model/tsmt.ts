/**
 * The two-stage multi-task (TSMT) estimator of docs/math.md §1.8 and its two baselines: the one
 * implementation of the algorithm, run by an executor that decides where each piece is computed
 * (this thread: SerialExecutor below, fitTsmt; a worker pool over shared memory:
 * src/model/parallelFit.ts, FitPool / fitTsmtParallel).
 *
 *   stage I  : θ̂_0 = argmin_{‖θ‖≤W} L(θ; all rows)                       (pooled, ball-constrained)
 *   stage II : θ̂_i = argmin_{‖θ‖≤W} L(θ; rows of i) + λ_i·‖θ - θ̂_0‖₂      (L = average loss)
 *              λ_i = c_λ·sqrt(D·ln(2·D²·M) / n_i)                           (docs/math.md §1.8, the proposed default)
 *
 * Strategies: `tsmt` (both stages), `pooled` (θ̂_i = θ̂_0 for every product), `individual`
 * (λ_i = 0: each product's own ball-constrained MLE; a product with no rows falls back to θ̂_0 —
 * the `n_i = 0` rule of docs/math.md §1.8, not the `n_i < d` one).
 *
 * c_λ, when not given, is chosen from LAMBDA_GRID by K-fold held-out log-likelihood
 * (docs/math.md §1.8, "Choice of c_λ"): each product's rows are split into K = 5 seeded folds
 * (src/model/shrinkageCv.ts); for each fold, stage I is fitted on the other folds' rows and
 * every product's stage-II chain over the grid on its own rows of those folds, scored on its
 * rows of the held-out fold; the one-standard-error rule of shrinkageCv.ts (or the best score,
 * `lambdaRule: 'max'`) picks c_λ. The final fit then uses all rows. Standard errors:
 * src/model/stages.ts (with the per-product pieces of stage II).
 *
 * The skeleton decides what to compute, the executor where:
 * - stage I is the Newton loop of the WASM core (src/core/newton.ts NewtonRun, the loop of
 *   fitNewton) run on the main thread; each likelihood pass it asks for goes to the executor
 *   (`pass`), which runs it over the rows in one kernel call or as passes over row ranges summed
 *   in range order;
 * - the observed information at θ̂_0 (`information`), stage II of every product (`stageTwo`) and
 *   the held-out chains over the c_λ grid of one fold (`heldOut`) go to the executor whole; both executors
 *   run the same per-product functions (stages.ts fitProduct, heldOutChain).
 * The skeleton is a generator that yields what the executor returns, a value (serial) or a
 * promise (parallel); runSync and runAsync drive it.
 */
import type { WasmCore } from '../core/wasm.js';
import { checkNoise, conventionCode, type Convention, type NoiseSpec } from '../core/validate.js';
import { checkObservations, observedInformation, type ObservationColumns } from '../core/likelihood.js';
import type { SolverResult } from '../core/solvers.js';
import { NewtonRun, type NewtonRequest } from '../core/newton.js';
import { RepricerError } from '../core/errors.js';
import {
  LAMBDA_GRID, buildLayout, checkOptions, commonCovariance, fitProduct, fitSettings, foldParts, gridOrder, heldOutChain, parts,
  setTrainingFold, solverOpts, withLogScale,
  type FitSettings, type LambdaSelectionRecord, type Layout, type ParameterFit, type ProductFit, type ProductResult, type Strategy, type TsmtOptions, type TsmtResult,
} from './stages.js';
import { CV_SEED, DEFAULT_SHRINKAGE_RULE, chooseShrinkage } from './shrinkageCv.js';

export {
  STRATEGIES, LAMBDA_GRID, lambdaFor, groupRows, subsetRows, invertSpd, buildLayout, parts, gridOrder,
  makeCtx, fitSettings, defaultTol, checkOptions, commonCovariance, productEstimate, productFit, productLogLikelihood,
  fitProduct, heldOutChain, withLogScale, foldParts, setTrainingFold, foldRange,
} from './stages.js';
export type {
  LambdaSelectionRecord, Strategy, TsmtOptions, ParameterFit, ProductFit, TsmtResult, Ctx, FitSettings, ProductEstimate, ProductResult, Layout,
} from './stages.js';

/** What an executor returns: a value (this thread) or a promise of it (a worker pool). */
export type Step<T> = T | Promise<T>;

/** Rows of a likelihood pass: all rows at their weights, or the current training fold of the held-out choice (held-out rows at weight 0). */
export type RowSet = 'all' | 'train';

/** The likelihood of a pass: noise, convention, and whether θ carries log σ as its last entry. */
export interface LikelihoodSpec {
  noise: NoiseSpec;
  convention: Convention;
  estimateScale: boolean;
}

/** Stage II of every product for one c_λ. */
export interface StageTwoJob {
  settings: FitSettings;
  strategy: Strategy;
  theta0: Float64Array;
  /** c_λ (0 when the strategy has none) */
  lambdaC: number;
  wantSe: boolean;
  /** θ̂_0 with its covariance (reported by products shrunk onto it) */
  common: ParameterFit;
  /** warm starts, D per product in product order */
  starts?: Float64Array;
}

/** The held-out chains of every product over the c_λ grid, for the held-out fold the layout's trainWeight leaves out. */
export interface HeldOutJob {
  settings: FitSettings;
  /** the held-out fold (setTrainingFold was called with it) */
  fold: number;
  theta0: Float64Array;
  /** grid values in fitting order (gridOrder) */
  grid: Float64Array;
}

/** Where the pieces of a fit run. The layout's rows live in `core`'s memory. */
export interface TsmtExecutor {
  /** the main-thread core: holds the layout and runs the Newton loop of stage I */
  readonly core: WasmCore;
  readonly layout: Layout;
  /** Σ w ℓ over `rows` at the request's θ, gradient and Hessian written where it says. */
  pass(req: NewtonRequest, rows: RowSet, lik: LikelihoodSpec): Step<number>;
  /** Observed information -Σ w ∇²ℓ of all rows at θ (D×D, D = θ.length). */
  information(theta: Float64Array, lik: LikelihoodSpec): Step<Float64Array>;
  /** Stage II of every product; results in product order. */
  stageTwo(job: StageTwoJob): Step<ProductResult[]>;
  /** Per product (in product order), the held-out log-likelihood at each grid position. */
  heldOut(job: HeldOutJob): Step<Float64Array[]>;
}

/** The skeleton's steps: it yields what the executor returned and is sent back its value. */
export type Steps<T> = Generator<unknown, T, unknown>;

function* wait<T>(v: Step<T>): Generator<Step<T>, T, unknown> {
  return (yield v) as T;
}

/** Drive steps whose executor answers on this thread. */
export function runSync<T>(steps: Steps<T>): T {
  let r = steps.next();
  while (!r.done) {
    if (r.value instanceof Promise) throw new RepricerError('INTERNAL', 'runSync: the executor returned a promise; use runAsync');
    r = steps.next(r.value);
  }
  return r.value;
}

/** Drive steps whose executor answers with promises (a failure is thrown into the steps, so their cleanup runs). */
export async function runAsync<T>(steps: Steps<T>): Promise<T> {
  let r = steps.next();
  while (!r.done) {
    let v: unknown;
    try {
      v = await r.value;
    } catch (err) {
      r = steps.throw(err);
      continue;
    }
    r = steps.next(v);
  }
  return r.value;
}

/** Σ w of the rows of a row set (row order, as checkObservations sums it). */
function rowWeight(L: Layout, rows: RowSet): number {
  const w = rows === 'train' ? L.trainWeight : L.obs.weight;
  if (!w) return L.obs.n;
  let s = 0;
  for (let t = 0; t < L.obs.n; t++) s += w[t];
  return s;
}

/**
 * Ball-constrained pooled MLE over a row set, normalised by its total weight (stage I; the pooled
 * fit behind fit.ts's default radius): the Newton loop of fitNewton with the settings' radius,
 * convention, maxIter and tol (defaults as fitNewton: 100, 1e-8), from `start` (default 0, log σ =
 * log noise.scale), every likelihood pass through the executor.
 */
export function* pooledSteps(ex: TsmtExecutor, rows: RowSet, s: FitSettings, estimateScale: boolean, start?: Float64Array): Steps<SolverResult> {
  const opts = solverOpts(s, start ? { estimateScale, start } : { estimateScale });
  const run = NewtonRun.start(ex.core, ex.layout.obs.d, s.noise, rowWeight(ex.layout, rows), opts);
  const lik: LikelihoodSpec = { noise: s.noise, convention: s.convention, estimateScale };
  try {
    for (let q = run.request; q; q = run.request) run.resume(yield* wait(ex.pass(q, rows, lik)));
    return run.result();
  } finally {
    run.close();
  }
}

export interface LambdaSelection extends LambdaSelectionRecord {
  c: number;
}

/**
 * Choose c_λ by K-fold held-out log-likelihood (see the file comment; docs/math.md §1.8). The
 * scores of every (fold, product) pair with held-out rows go to chooseShrinkage (with no such
 * pair at all, every score is 0 and the tie goes to the largest c_λ).
 */
export function* selectSteps(ex: TsmtExecutor, opts: TsmtOptions): Steps<LambdaSelection> {
  const grid = [...(opts.lambdaGrid ?? LAMBDA_GRID)];
  const rule = opts.lambdaRule ?? DEFAULT_SHRINKAGE_RULE;
  const L = ex.layout;
  // from the largest c (most shrinkage) down, each product warm-started from the previous value
  const order = gridOrder(grid);
  const units: Float64Array[] = [];
  const estimateScale = opts.estimateScale ?? false;
  // stage I of fold k starts at fold k−1's estimate: the training sets share (K−2)/(K−1) of their
  // rows, so the estimates are close and Newton needs a few steps instead of a full solve
  let start: Float64Array | undefined;
  try {
    for (let fold = 0; fold < L.folds; fold++) {
      setTrainingFold(L, fold);
      // a fold with nothing held out, or nothing left to train on (a handful of rows), scores nothing
      let held = 0;
      for (let i = 0; i < L.M; i++) held += L.foldStart[i * (L.folds + 1) + fold + 1] - L.foldStart[i * (L.folds + 1) + fold];
      if (held === 0 || !(rowWeight(L, 'train') > 0)) continue;
      const settings = fitSettings(opts);
      const s1 = yield* pooledSteps(ex, 'train', settings, estimateScale, start);
      if (s1.logScale !== undefined) settings.noise = { family: settings.noise.family, scale: Math.exp(s1.logScale) };
      const theta0 = Float64Array.from(s1.theta);
      start = estimateScale ? withLogScale(theta0, settings.noise.scale) : theta0;
      const chains = yield* wait(ex.heldOut({ settings, fold, theta0, grid: Float64Array.from(order, (o) => o.c) }));
      for (let i = 0; i < L.M; i++) {
        const b = i * (L.folds + 1) + fold;
        if (L.foldStart[b + 1] - L.foldStart[b] === 0) continue;
        // back from fitting order to grid order
        const u = new Float64Array(grid.length);
        order.forEach(({ k }, pos) => (u[k] = chains[i][pos]));
        units.push(u);
      }
    }
  } finally {
    setTrainingFold(L, 0);
  }
  const ch = chooseShrinkage(grid, units, rule);
  return {
    c: ch.c, grid, heldOutLogLikelihood: ch.heldOutLogLikelihood, heldOutStdErr: ch.heldOutStdErr, rule, bestC: ch.bestC,
    folds: L.folds, foldSeed: CV_SEED, units: ch.units,
  };
}

/** The whole fit of the layout's rows (see the file comment). */
export function* fitSteps(ex: TsmtExecutor, opts: TsmtOptions): Steps<TsmtResult> {
  const strategy = opts.strategy ?? 'tsmt';
  const L = ex.layout;
  const M = L.M;
  const D = L.obs.d;
  const wantSe = opts.standardErrors ?? true;
  const estimateScale = opts.estimateScale ?? false;

  let lambdaC: number | null = null;
  let lambdaSelection: TsmtResult['lambdaSelection'];
  if (strategy === 'tsmt') {
    if (opts.lambdaC !== undefined) lambdaC = opts.lambdaC;
    else {
      const { c, ...record } = yield* selectSteps(ex, opts);
      lambdaC = c;
      lambdaSelection = record;
    }
  }

  const settings = fitSettings(opts);
  const s1 = yield* pooledSteps(ex, 'all', settings, estimateScale);
  if (s1.logScale !== undefined) settings.noise = { family: settings.noise.family, scale: Math.exp(s1.logScale) };
  const theta0 = Float64Array.from(s1.theta);
  let iterations = s1.iterations;
  let converged = s1.converged;

  const common: ParameterFit = { theta: theta0, n: L.obs.n, iterations: s1.iterations, converged: s1.converged };
  let logScaleStdErr: number | undefined;
  if (wantSe) {
    const th = estimateScale ? withLogScale(theta0, settings.noise.scale) : theta0;
    const info = yield* wait(ex.information(th, { noise: settings.noise, convention: settings.convention, estimateScale }));
    logScaleStdErr = commonCovariance(common, info, D, estimateScale, opts.radius);
  }

  const job: StageTwoJob = { settings, strategy, theta0, lambdaC: lambdaC ?? 0, wantSe, common };
  if (opts.start) job.starts = opts.start;
  const results = yield* wait(ex.stageTwo(job));
  const products: ProductFit[] = new Array(M);
  let logLikelihood = 0;
  for (let i = 0; i < M; i++) {
    const { fit, logLikelihood: ll } = results[i];
    products[i] = fit;
    iterations += fit.iterations;
    converged &&= fit.converged;
    if (L.start[i + 1] - L.start[i] > 0) logLikelihood += ll;
  }

  const res: TsmtResult = { strategy, noise: settings.noise, scaleEstimated: estimateScale, common, products, lambdaC, logLikelihood, iterations, converged };
  if (lambdaSelection) res.lambdaSelection = lambdaSelection;
  if (logScaleStdErr !== undefined) res.logScaleStdErr = logScaleStdErr;
  return res;
}

/** The executor of this thread: every piece on `core`, over a layout in its memory. */
export class SerialExecutor implements TsmtExecutor {
  constructor(
    readonly core: WasmCore,
    readonly layout: Layout,
  ) {}

  pass(q: NewtonRequest, rows: RowSet, lik: LikelihoodSpec): number {
    const o = this.layout.obs;
    const w = rows === 'train' ? this.layout.trainWeight : o.weight;
    const { family, scale } = checkNoise('censoredLogLikelihood', lik.noise);
    return this.core.k.censoredLogLikelihood(
      o.n, o.d, o.x.byteOffset, o.won.byteOffset, o.price.byteOffset, o.competitor.byteOffset, w ? w.byteOffset : 0,
      q.theta, family, scale, conventionCode('censoredLogLikelihood', lik.convention), lik.estimateScale ? 1 : 0, q.g, q.H,
    );
  }

  information(theta: Float64Array, lik: LikelihoodSpec): Float64Array {
    return Float64Array.from(observedInformation(this.core, this.layout.obs, theta, lik.noise, { convention: lik.convention, estimateScale: lik.estimateScale }));
  }

  stageTwo(job: StageTwoJob): ProductResult[] {
    const L = this.layout;
    const D = L.obs.d;
    const ctx = { core: this.core, ...job.settings };
    return parts(L).map((part, i) =>
      fitProduct(ctx, job.strategy, part, job.theta0, job.lambdaC, D, L.M, job.starts?.slice(i * D, (i + 1) * D), job.common, job.wantSe));
  }

  heldOut(job: HeldOutJob): Float64Array[] {
    const L = this.layout;
    const ctx = { core: this.core, ...job.settings };
    return foldParts(L, job.fold).map(({ train, valid }) => heldOutChain(ctx, train, valid, job.theta0, job.grid, L.obs.d, L.M));
  }
}

/** Validate, lay the rows out in the core's arena and run `steps` on this thread. */
function onThisThread<T>(core: WasmCore, obs: ObservationColumns, groups: Int32Array, M: number, opts: TsmtOptions, steps: (ex: TsmtExecutor) => Steps<T>): T {
  checkOptions(obs, groups, M, opts);
  checkObservations('fitTsmt', obs);
  const mark = core.arena.mark();
  try {
    return runSync(steps(new SerialExecutor(core, buildLayout(core, obs, groups, M))));
  } finally {
    core.arena.release(mark);
  }
}

/**
 * Fit θ̂_0 and θ̂_1..θ̂_M on this thread. `groups[r]` is the product index of row r; `M` the
 * number of products (products with no rows get θ̂_0).
 */
export function fitTsmt(core: WasmCore, obs: ObservationColumns, groups: Int32Array, M: number, opts: TsmtOptions): TsmtResult {
  return onThisThread(core, obs, groups, M, opts, (ex) => fitSteps(ex, opts));
}

/** Choose c_λ by held-out log-likelihood on this thread (see the file comment). */
export function selectLambdaC(core: WasmCore, obs: ObservationColumns, groups: Int32Array, M: number, opts: TsmtOptions): LambdaSelection {
  return onThisThread(core, obs, groups, M, opts, (ex) => selectSteps(ex, opts));
}
