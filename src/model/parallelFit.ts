/**
 * The TSMT fit (src/model/tsmt.ts) on a Piscina pool of WASM workers over one shared memory
 * (issue 3 "Scale"):
 *
 * - the observation rows are copied once into shared memory, sorted by product exactly as the
 *   single-threaded fit lays them out (tsmt.ts buildLayout, run with a core over the shared
 *   memory);
 * - stage I (and the pooled fit behind the default radius) runs the Newton loop of the TS twin
 *   (src/core/twin/solvers.ts newtonSteps: the same algorithm and operation order as the WASM
 *   projectedNewton) on the main thread; each likelihood evaluation it asks for is the sum of WASM
 *   passes over contiguous row ranges, one per worker, run in parallel and added in range order.
 *   Only the order of that sum differs from the single-threaded fit, so θ̂_0 agrees with it to
 *   rounding (~1e-13 relative here; the tests allow 1e-10);
 * - stage II runs the products in balanced batches across the pool (largest products first,
 *   longest-processing-time assignment to 4 batches per worker, taken dynamically by idle
 *   workers), with the same per-product functions as the single-threaded fit: given the same
 *   θ̂_0 each product's estimate, standard errors and log-likelihood are identical to it bit for
 *   bit; the held-out choice of c_λ runs each product's whole grid chain in one task.
 *
 * Memory: the main thread instantiates a core over the shared memory; its arena holds, first,
 * 2 scratch regions per worker (REGION_BYTES each, claimed by the workers at start-up; two per
 * worker so that a replaced worker finds a free one) and then the data of the current fit.
 * The memory is created with room for the data (FitPoolOptions.dataBytes, see layoutBytes), so
 * loading does not grow it; loading more still works (the arena grows the memory on the main
 * thread before any task is dispatched, and workers build fresh views per task, since a view of
 * a grown memory keeps its old length).
 */
import { TaskPool, compiledTaskFile } from '../pool/taskPool.js';
import { WasmCore, compileCore, createSharedMemory, type Variant } from '../core/wasm.js';
import { checkObservations, type ObservationColumns } from '../core/likelihood.js';
import { checkNoise, conventionCode, type NoiseSpec, type Convention } from '../core/validate.js';
import { newtonSteps, newtonWorkSize, type LikelihoodRequest, type NewtonSpec } from '../core/twin/solvers.js';
import {
  LAMBDA_GRID, bestOf, buildLayout, checkOptions, commonCovariance, gridOrder, makeCtx, withLogScale,
  type Ctx, type Layout, type ParameterFit, type ProductFit, type TsmtOptions, type TsmtResult,
} from './tsmt.js';
import { fitStride, type FitWorkerData, type PassTask, type ProductsTask, type SharedColumns } from './fitTask.js';

/** Bytes of one worker's scratch region (kernel work buffers, outputs, small copied inputs). */
export const REGION_BYTES = 4 * 1024 * 1024;
/** Product batches per worker (dynamic balancing of stage II). */
export const BATCHES_PER_WORKER = 4;

export interface FitPoolOptions {
  /** worker threads (>= 1) */
  workers: number;
  /** bytes of observation data to reserve up front (layoutBytes(n, d, weighted)); default 0 */
  dataBytes?: number;
  /** WASM build; default 'simd' */
  variant?: Variant;
  /** compiled worker module; default fitWorkerFile() */
  workerFile?: string;
}

/** Bytes the layout of n rows × d features takes in the pool's memory (tsmt.ts buildLayout + headroom). */
export function layoutBytes(n: number, d: number, weighted: boolean): number {
  const doubles = n * d + n * (weighted ? 5 : 4) + (1 << 16);
  return 8 * doubles + 16 * 8 + (1 << 20);
}

/** dist/src/model/fitTask.js (workers run compiled JS; from src/ under tsx or vitest, the compiled copy). */
export function fitWorkerFile(): string {
  return compiledTaskFile(import.meta.url, './fitTask.js');
}

/** Observations loaded into the pool's shared memory (sorted by product, tsmt.ts layout). */
export interface LoadedObservations {
  readonly layout: Layout;
  readonly groups: Int32Array;
  readonly M: number;
  /** arena mark to release on unload */
  readonly mark: number;
  /** the original (unsorted) table, for validation messages */
  readonly source: ObservationColumns;
}

/** Result of a pooled (stage-I type) fit. */
export interface PooledFit {
  theta: Float64Array;
  logScale?: number;
  iterations: number;
  converged: boolean;
  gradNorm: number;
  objective: number;
}

interface PooledOptions {
  radius: number;
  estimateScale: boolean;
  convention: Convention;
  maxIter?: number;
  tol?: number;
  start?: Float64Array;
}

function pointersOf(o: ObservationColumns): SharedColumns {
  return {
    n: o.n, d: o.d, x: o.x.byteOffset, won: o.won.byteOffset, price: o.price.byteOffset,
    competitor: o.competitor.byteOffset, weight: o.weight ? o.weight.byteOffset : 0,
  };
}

/** Σ w (row order, as checkObservations sums it). */
function weightSum(o: ObservationColumns): number {
  if (!o.weight) return o.n;
  let s = 0;
  for (let t = 0; t < o.n; t++) s += o.weight[t];
  return s;
}

/**
 * Product batches balanced by rows: products by decreasing row count (ties by index) go to the
 * currently lightest of `B` batches; each batch lists its products in increasing index order.
 */
export function balancedBatches(counts: ArrayLike<number>, B: number): Int32Array[] {
  const M = counts.length;
  const nb = Math.max(1, Math.min(B, M));
  const idx = Array.from({ length: M }, (_, i) => i).sort((a, b) => counts[b] - counts[a] || a - b);
  const load = new Float64Array(nb);
  const members: number[][] = Array.from({ length: nb }, () => []);
  for (const i of idx) {
    let k = 0;
    for (let j = 1; j < nb; j++) if (load[j] < load[k]) k = j;
    // a fixed per-product cost (validation, tiny solves) besides the rows
    load[k] += counts[i] + 200;
    members[k].push(i);
  }
  return members.filter((m) => m.length > 0).map((m) => Int32Array.from(m.sort((a, b) => a - b)));
}

/** A pool of fit workers over one shared WASM memory; reuse it across fits, destroy() at the end. */
export class FitPool {
  readonly workers: number;
  /** main-thread core over the shared memory (its arena holds the regions and the loaded data) */
  readonly core: WasmCore;
  private readonly pool: TaskPool;

  private constructor(workers: number, core: WasmCore, pool: TaskPool) {
    this.workers = workers;
    this.core = core;
    this.pool = pool;
  }

  static create(opts: FitPoolOptions): FitPool {
    const workers = opts.workers;
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`FitPool: workers must be an integer >= 1, got ${String(workers)}`);
    const variant = opts.variant ?? 'simd';
    const module = compileCore(variant);
    const regions = 2 * workers;
    const dataBytes = opts.dataBytes ?? 0;
    if (!(Number.isFinite(dataBytes) && dataBytes >= 0)) throw new RangeError(`FitPool: dataBytes must be a finite number >= 0, got ${String(dataBytes)}`);
    // heap base (static data) + the regions + the data: all of it now, never grown (file comment)
    const memory = createSharedMemory((1 << 20) + regions * REGION_BYTES + dataBytes);
    const core = WasmCore.create({ variant, module, memory });
    const regionBase = core.arena.alloc((regions * REGION_BYTES) / 8);
    const claims = new Int32Array(new SharedArrayBuffer(4 * regions));
    const workerData: FitWorkerData = { module, memory, variant, regionBase, regionBytes: REGION_BYTES, claims };
    const pool = new TaskPool({ taskFile: opts.workerFile ?? fitWorkerFile(), threads: workers, idleTimeoutMs: 60_000, workerData });
    return new FitPool(workers, core, pool);
  }

  async destroy(): Promise<void> {
    await this.pool.destroy();
  }

  /**
   * Copy the rows into shared memory in the layout of the single-threaded fit (validated as
   * fitTsmt validates them). Release with unload(); loads nest like an arena.
   */
  load(obs: ObservationColumns, groups: Int32Array, M: number): LoadedObservations {
    checkObservations('fitTsmt', obs);
    if (groups.length !== obs.n) throw new RangeError(`fitTsmt: groups must have one entry per row (${obs.n}), got ${groups.length}`);
    if (!Number.isInteger(M) || M < 1) throw new RangeError(`fitTsmt: M must be an integer >= 1, got ${M}`);
    for (let r = 0; r < groups.length; r++) {
      if (!(groups[r] >= 0 && groups[r] < M)) throw new RangeError(`fitTsmt: groups[${r}] must be in [0, ${M}), got ${groups[r]}`);
    }
    // a worker's largest scratch use (Newton work, Hessians, copied inputs) must fit its region
    const P = obs.d + 1;
    const need = 8 * (newtonWorkSize(obs.d) + 4 * P * P + 16 * P) + 4096;
    if (need > REGION_BYTES) throw new RangeError(`fitTsmt: ${obs.d} coefficients need ${need} bytes of worker scratch, more than the ${REGION_BYTES} of a region`);
    const mark = this.core.arena.mark();
    const layout = buildLayout(this.core, obs, groups, M);
    return { layout, groups, M, mark, source: obs };
  }

  unload(h: LoadedObservations): void {
    this.core.arena.release(h.mark);
  }

  /** The whole TSMT fit: load, fit, unload. */
  async fitTsmt(obs: ObservationColumns, groups: Int32Array, M: number, opts: TsmtOptions): Promise<TsmtResult> {
    checkOptions(obs, groups, M, opts);
    const h = this.load(obs, groups, M);
    try {
      return await this.fit(h, opts);
    } finally {
      this.unload(h);
    }
  }

  /** Columns of the loaded rows as the views of the current buffer (after any growth). */
  private columns(h: LoadedObservations, weight: 'own' | 'train'): { obs: ObservationColumns; cols: SharedColumns } {
    const L = h.layout;
    const a = this.core.arena;
    const o = L.obs;
    const n = o.n;
    const obs: ObservationColumns = {
      n, d: o.d, x: a.view(o.x.byteOffset, n * o.d), won: a.view(o.won.byteOffset, n), price: a.view(o.price.byteOffset, n),
      competitor: a.view(o.competitor.byteOffset, n),
    };
    if (weight === 'train') obs.weight = a.view(L.trainWeight.byteOffset, n);
    else if (o.weight) obs.weight = a.view(o.weight.byteOffset, n);
    return { obs, cols: pointersOf(obs) };
  }

  /** Σ w ℓ (and gradient / Hessian into req.g / req.H) over all rows: one pass per worker, summed in row-range order. */
  private async pass(cols: SharedColumns, req: LikelihoodRequest, noise: { family: number; scale: number }, convention: number, estimateScale: number): Promise<number> {
    const { n } = cols;
    const W = Math.max(1, Math.min(this.workers, n));
    const D = req.theta.length;
    const tasks: Promise<Float64Array>[] = [];
    for (let k = 0; k < W; k++) {
      const r0 = Math.floor((n * k) / W);
      const r1 = Math.floor((n * (k + 1)) / W);
      const t: PassTask = {
        kind: 'pass', cols, r0, r1, theta: Float64Array.from(req.theta), family: noise.family, scale: noise.scale,
        convention, estimateScale, gradient: req.g !== null, hessian: req.H !== null,
      };
      tasks.push(this.pool.run(t) as Promise<Float64Array>);
    }
    const parts = await Promise.all(tasks);
    let value = 0;
    for (const p of parts) value += p[0];
    if (req.g) {
      const g = req.g;
      for (let j = 0; j < D; j++) g[j] = 0;
      for (const p of parts) for (let j = 0; j < D; j++) g[j] += p[1 + j];
    }
    if (req.H) {
      const H = req.H;
      for (let j = 0; j < D * D; j++) H[j] = 0;
      for (const p of parts) for (let j = 0; j < D * D; j++) H[j] += p[1 + D + j];
    }
    return value;
  }

  /**
   * Ball-constrained pooled MLE over the loaded rows (stage I; the pooled fit of the default
   * radius), normalised by the total weight: the twin Newton loop over parallel WASM passes.
   * Defaults as fitNewton: start 0 (log σ = log noise.scale), maxIter 100, tol 1e-8.
   */
  async pooledFit(h: LoadedObservations, noise: NoiseSpec, o: PooledOptions, weight: 'own' | 'train' = 'own'): Promise<PooledFit> {
    const { family, scale } = checkNoise('fitNewton', noise);
    const { obs, cols } = this.columns(h, weight);
    const d = obs.d;
    const est = o.estimateScale ? 1 : 0;
    const D = d + est;
    const N = weightSum(obs);
    if (!(N > 0)) throw new RangeError(`fitNewton: normalize "mean" needs a positive total weight, got ${N}`);
    const theta = new Float64Array(D);
    if (o.start) theta.set(o.start);
    else if (est) theta[d] = Math.log(scale);
    const spec: NewtonSpec = {
      d, estimateScale: est, normaliser: N, penaltyKind: 0, center: null, lambda: 0, precision: null,
      radius: o.radius, maxIter: o.maxIter ?? 100, tol: o.tol ?? 1e-8,
    };
    const conv = conventionCode('fitNewton', o.convention);
    const work = new Float64Array(newtonWorkSize(d));
    const info = new Float64Array(4);
    const steps = newtonSteps(spec, theta, work, info);
    let r = steps.next();
    while (!r.done) r = steps.next(await this.pass(cols, r.value, { family, scale }, conv, est));
    const res: PooledFit = { theta: theta.slice(0, d), iterations: info[0], gradNorm: info[1], converged: info[2] === 1, objective: info[3] };
    if (est) res.logScale = theta[d];
    return res;
  }

  /** Stage I as tsmt.ts stageOne: the pooled fit with the context's tolerances. */
  private stageOne(h: LoadedObservations, ctx: Ctx, estimateScale: boolean, weight: 'own' | 'train'): Promise<PooledFit> {
    const o: PooledOptions = { radius: ctx.radius, estimateScale, convention: ctx.convention };
    if (ctx.maxIter !== undefined) o.maxIter = ctx.maxIter;
    if (ctx.tol !== undefined) o.tol = ctx.tol;
    return this.pooledFit(h, ctx.noise, o, weight);
  }

  private taskCtx(ctx: Ctx): ProductsTask['ctx'] {
    const c: ProductsTask['ctx'] = { noise: { family: ctx.noise.family, scale: ctx.noise.scale }, radius: ctx.radius, convention: ctx.convention };
    if (ctx.maxIter !== undefined) c.maxIter = ctx.maxIter;
    if (ctx.tol !== undefined) c.tol = ctx.tol;
    return c;
  }

  /** The product batches of a loaded layout with their row ranges. */
  private batches(h: LoadedObservations): { products: Int32Array; from: Int32Array; to: Int32Array; trainEnd: Int32Array }[] {
    const L = h.layout;
    const counts = Array.from({ length: L.M }, (_, i) => L.start[i + 1] - L.start[i]);
    return balancedBatches(counts, BATCHES_PER_WORKER * this.workers).map((products) => ({
      products,
      from: Int32Array.from(products, (i) => L.start[i]),
      to: Int32Array.from(products, (i) => L.start[i + 1]),
      trainEnd: Int32Array.from(products, (i) => L.trainEnd[i]),
    }));
  }

  /** Held-out choice of c_λ (tsmt.ts selectOnLayout) with stage I in parallel passes and the grid chains across the pool. */
  private async select(h: LoadedObservations, opts: TsmtOptions): Promise<{ c: number; grid: number[]; heldOutLogLikelihood: number[] }> {
    const grid = [...(opts.lambdaGrid ?? LAMBDA_GRID)];
    const ctx = makeCtx(this.core, opts);
    const s1 = await this.stageOne(h, ctx, opts.estimateScale ?? false, 'train');
    if (s1.logScale !== undefined) ctx.noise = { family: ctx.noise.family, scale: Math.exp(s1.logScale) };
    const theta0 = Float64Array.from(s1.theta);
    const L = h.layout;
    const { cols } = this.columns(h, 'own');
    const order = gridOrder(grid);
    const G = grid.length;
    const gridVals = Float64Array.from(order, (o) => o.c);
    const batches = this.batches(h);
    const results = await Promise.all(batches.map((b) => {
      const t: ProductsTask = {
        kind: 'products', mode: 'select', cols, ctx: this.taskCtx(ctx), strategy: 'tsmt', M: L.M, theta0, ...b,
        lambdaC: 0, wantSe: false, grid: gridVals,
      };
      return this.pool.run(t) as Promise<Float64Array>;
    }));
    // per product, per position in the fitting order
    const llp = new Float64Array(L.M * G);
    batches.forEach((b, j) => b.products.forEach((i, q) => llp.set(results[j].subarray(q * G, (q + 1) * G), i * G)));
    const ll = new Array<number>(G);
    order.forEach(({ k }, pos) => {
      let s = 0;
      for (let i = 0; i < L.M; i++) {
        if (L.start[i + 1] - L.trainEnd[i] === 0) continue;
        s += llp[i * G + pos];
      }
      ll[k] = s;
    });
    return { c: grid[bestOf(order, ll)], grid, heldOutLogLikelihood: ll };
  }

  /** The TSMT fit of loaded observations (tsmt.ts fitOnLayout, in parallel). */
  async fit(h: LoadedObservations, opts: TsmtOptions): Promise<TsmtResult> {
    checkOptions(h.source, h.groups, h.M, opts);
    const strategy = opts.strategy ?? 'tsmt';
    const L = h.layout;
    const M = L.M;
    const D = L.obs.d;
    const wantSe = opts.standardErrors ?? true;
    const estimateScale = opts.estimateScale ?? false;

    let lambdaC: number | null = null;
    let lambdaSelection: TsmtResult['lambdaSelection'];
    if (strategy === 'tsmt') {
      if (opts.lambdaC !== undefined) lambdaC = opts.lambdaC;
      else {
        const sel = await this.select(h, opts);
        lambdaC = sel.c;
        lambdaSelection = { grid: sel.grid, heldOutLogLikelihood: sel.heldOutLogLikelihood };
      }
    }

    const ctx = makeCtx(this.core, opts);
    const s1 = await this.stageOne(h, ctx, estimateScale, 'own');
    if (s1.logScale !== undefined) ctx.noise = { family: ctx.noise.family, scale: Math.exp(s1.logScale) };
    const theta0 = Float64Array.from(s1.theta);
    let iterations = s1.iterations;
    let converged = s1.converged;

    const common: ParameterFit = { theta: theta0, n: L.obs.n, iterations: s1.iterations, converged: s1.converged };
    let logScaleStdErr: number | undefined;
    const { cols } = this.columns(h, 'own');
    if (wantSe) {
      // observed information -Σ w ∇²ℓ at θ̂_0 over all rows, in parallel passes
      const th = estimateScale ? withLogScale(theta0, ctx.noise.scale) : theta0;
      const P = th.length;
      const H = new Float64Array(P * P);
      const { family, scale } = checkNoise('censoredLogLikelihood', ctx.noise);
      await this.pass(cols, { theta: th, g: null, H }, { family, scale }, conventionCode('censoredLogLikelihood', ctx.convention), estimateScale ? 1 : 0);
      const info = H.map((v) => -v);
      logScaleStdErr = commonCovariance(common, info, D, estimateScale, opts.radius);
    }

    const batches = this.batches(h);
    const results = await Promise.all(batches.map((b) => {
      const t: ProductsTask = {
        kind: 'products', mode: 'fit', cols, ctx: this.taskCtx(ctx), strategy, M, theta0, ...b, lambdaC: lambdaC ?? 0, wantSe,
      };
      if (opts.start) {
        const st = new Float64Array(b.products.length * D);
        b.products.forEach((i, q) => st.set(opts.start!.subarray(i * D, (i + 1) * D), q * D));
        t.starts = st;
      }
      if (common.cov) t.commonCov = common.cov;
      if (common.stdErr) t.commonStdErr = common.stdErr;
      return this.pool.run(t) as Promise<Float64Array>;
    }));
    const S = fitStride(D);
    const packed: { res: Float64Array; o: number }[] = new Array(M);
    batches.forEach((b, j) => b.products.forEach((i, q) => (packed[i] = { res: results[j], o: q * S })));
    const products: ProductFit[] = new Array(M);
    let logLikelihood = 0;
    for (let i = 0; i < M; i++) {
      const { res, o } = packed[i];
      const n = L.start[i + 1] - L.start[i];
      const pf: ProductFit = {
        theta: res.slice(o + 6, o + 6 + D), n, lambda: res[o], shrunk: res[o + 1] === 1, iterations: res[o + 2], converged: res[o + 3] === 1,
      };
      if (res[o + 5] === 1) {
        pf.cov = res.slice(o + 6 + D, o + 6 + D + D * D);
        pf.stdErr = res.slice(o + 6 + D + D * D, o + 6 + 2 * D + D * D);
      }
      products[i] = pf;
      iterations += pf.iterations;
      converged &&= pf.converged;
      if (n > 0) logLikelihood += res[o + 4];
    }

    const out: TsmtResult = { strategy, noise: ctx.noise, scaleEstimated: estimateScale, common, products, lambdaC, logLikelihood, iterations, converged };
    if (lambdaSelection) out.lambdaSelection = lambdaSelection;
    if (logScaleStdErr !== undefined) out.logScaleStdErr = logScaleStdErr;
    return out;
  }
}

/** fitTsmt on a pool of `workers` threads created for this call (and destroyed after it). */
export async function fitTsmtParallel(obs: ObservationColumns, groups: Int32Array, M: number, opts: TsmtOptions, pool: FitPoolOptions): Promise<TsmtResult> {
  const p = FitPool.create({ ...pool, dataBytes: pool.dataBytes ?? layoutBytes(obs.n, obs.d, obs.weight !== undefined) });
  try {
    return await p.fitTsmt(obs, groups, M, opts);
  } finally {
    await p.destroy();
  }
}
