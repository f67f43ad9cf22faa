/**
 * The TSMT fit (src/model/tsmt.ts) on a Piscina pool of WASM workers over one shared memory: the
 * parallel executor of the one TSMT skeleton.
 *
 * - the observation rows are copied once into shared memory, sorted by product exactly as the
 *   serial executor lays them out (stages.ts buildLayout, run with a core over the shared
 *   memory);
 * - stage I (and the pooled fit behind the default radius) runs the Newton loop of the WASM core
 *   on the main thread (src/core/newton.ts, as the serial executor does); each likelihood pass it
 *   asks for is the sum of WASM passes over contiguous row ranges, one per worker, run in
 *   parallel and added in range order. Only the order of that sum differs from the serial fit,
 *   so θ̂_0 agrees with it to rounding (~1e-16 relative here; the tests allow 1e-10), and with
 *   one worker it is the serial θ̂_0 bit for bit;
 * - stage II runs the products in balanced batches across the pool (largest products first,
 *   longest-processing-time assignment to 4 batches per worker, taken dynamically by idle
 *   workers), with the same per-product functions as the serial executor: given the same θ̂_0
 *   each product's estimate, standard errors and log-likelihood are identical to it bit for bit;
 *   the held-out choice of c_λ runs, fold by fold, each product's whole grid chain in one task.
 *
 * Memory: the main thread instantiates a core over the shared memory; its arena holds, first,
 * 2 scratch regions per worker (REGION_BYTES each, claimed by the workers at start-up; two per
 * worker so that a replaced worker finds a free one) and then the data of the current fit (and
 * the small state block of a running Newton loop). The memory is created with room for the data
 * (FitPoolOptions.dataBytes, see layoutBytes), so loading does not grow it; loading more still
 * works (the arena grows the memory on the main thread before any task is dispatched, and
 * workers build fresh views per task, since a view of a grown memory keeps its old length).
 */
import { TaskPool, compiledTaskFile } from '../pool/taskPool.js';
import { WasmCore, compileCore, createSharedMemory, type Variant } from '../core/wasm.js';
import { checkObservations, type ObservationColumns } from '../core/likelihood.js';
import { checkNoise, conventionCode, type NoiseSpec, type Convention } from '../core/validate.js';
import type { NewtonRequest } from '../core/newton.js';
import {
  checkOptions, fitSteps, pooledSteps, runAsync,
  type HeldOutJob, type LikelihoodSpec, type RowSet, type StageTwoJob, type TsmtExecutor,
} from './tsmt.js';
import { buildLayout, foldRange, type FitSettings, type Layout, type ProductResult, type TsmtOptions, type TsmtResult } from './stages.js';
import {
  decodeChains, decodePass, decodeProducts, type FitWorkerData, type PassResult, type PassTask, type ProductsTask, type SharedColumns,
} from './fitTask.js';

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

/** Bytes the layout of n rows × d features takes in the pool's memory (stages.ts buildLayout + headroom). */
export function layoutBytes(n: number, d: number, weighted: boolean): number {
  const doubles = n * d + n * (weighted ? 5 : 4) + (1 << 16);
  return 8 * doubles + 16 * 8 + (1 << 20);
}

/** dist/src/model/fitTask.js (workers run compiled JS; from src/ under tsx or vitest, the compiled copy). */
export function fitWorkerFile(): string {
  return compiledTaskFile(import.meta.url, './fitTask.js');
}

/** Observations loaded into the pool's shared memory (sorted by product, stages.ts buildLayout). */
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

/** Options of FitPool.pooledFit (defaults as fitNewton). */
export interface PooledOptions {
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
    const need = 8 * (this.core.k.newtonWorkSize(obs.d) + 4 * P * P + 16 * P) + 4096;
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

  /**
   * Ball-constrained pooled MLE over the loaded rows (stage I; the pooled fit of the default
   * radius), normalised by the total weight: the WASM Newton loop over parallel passes.
   * Defaults as fitNewton: start 0 (log σ = log noise.scale), maxIter 100, tol 1e-8.
   */
  async pooledFit(h: LoadedObservations, noise: NoiseSpec, o: PooledOptions, weight: 'own' | 'train' = 'own'): Promise<PooledFit> {
    const s: FitSettings = { noise, radius: o.radius, convention: o.convention };
    if (o.maxIter !== undefined) s.maxIter = o.maxIter;
    if (o.tol !== undefined) s.tol = o.tol;
    return runAsync(pooledSteps(new ParallelExecutor(this.core, this.pool, this.workers, h.layout), weight === 'own' ? 'all' : 'train', s, o.estimateScale, o.start));
  }

  /** The TSMT fit of loaded observations (the skeleton of tsmt.ts with the parallel executor). */
  async fit(h: LoadedObservations, opts: TsmtOptions): Promise<TsmtResult> {
    checkOptions(h.source, h.groups, h.M, opts);
    return runAsync(fitSteps(new ParallelExecutor(this.core, this.pool, this.workers, h.layout), opts));
  }
}

/** The product batches of a layout with their row ranges (and the held-out rows of `fold`). */
function batchesOf(L: Layout, workers: number, fold = 0): { products: Int32Array; from: Int32Array; to: Int32Array; validFrom: Int32Array; validTo: Int32Array }[] {
  const counts = Array.from({ length: L.M }, (_, i) => L.start[i + 1] - L.start[i]);
  return balancedBatches(counts, BATCHES_PER_WORKER * workers).map((products) => ({
    products,
    from: Int32Array.from(products, (i) => L.start[i]),
    to: Int32Array.from(products, (i) => L.start[i + 1]),
    validFrom: Int32Array.from(products, (i) => foldRange(L, i, fold)[0]),
    validTo: Int32Array.from(products, (i) => foldRange(L, i, fold)[1]),
  }));
}

/**
 * The parallel executor: likelihood passes over one row range per worker, summed in range
 * order; stage II and the held-out chains in product batches balanced by rows.
 */
class ParallelExecutor implements TsmtExecutor {
  constructor(
    readonly core: WasmCore,
    private readonly pool: TaskPool,
    private readonly workers: number,
    readonly layout: Layout,
  ) {}

  /** The layout's columns as byte offsets (weights: their own, or the training weights). */
  private columns(rows: RowSet): SharedColumns {
    const o = this.layout.obs;
    const w = rows === 'train' ? this.layout.trainWeight : o.weight;
    return {
      n: o.n, d: o.d, x: o.x.byteOffset, won: o.won.byteOffset, price: o.price.byteOffset,
      competitor: o.competitor.byteOffset, weight: w ? w.byteOffset : 0,
    };
  }

  /** Σ w ℓ at θ (and gradient / Hessian when asked) over all rows: one pass per worker, in row-range order. */
  private async passes(theta: Float64Array, rows: RowSet, lik: LikelihoodSpec, gradient: boolean, hessian: boolean): Promise<PassResult[]> {
    const cols = this.columns(rows);
    const { family, scale } = checkNoise('censoredLogLikelihood', lik.noise);
    const convention = conventionCode('censoredLogLikelihood', lik.convention);
    const { n } = cols;
    const W = Math.max(1, Math.min(this.workers, n));
    const tasks: Promise<Float64Array>[] = [];
    for (let k = 0; k < W; k++) {
      const t: PassTask = {
        kind: 'pass', cols, r0: Math.floor((n * k) / W), r1: Math.floor((n * (k + 1)) / W), theta, family, scale,
        convention, estimateScale: lik.estimateScale ? 1 : 0, gradient, hessian,
      };
      tasks.push(this.pool.run<Float64Array>(t));
    }
    return (await Promise.all(tasks)).map((r) => decodePass(r, theta.length));
  }

  async pass(q: NewtonRequest, rows: RowSet, lik: LikelihoodSpec): Promise<number> {
    const a = this.core.arena;
    const D = q.D;
    const parts = await this.passes(a.view(q.theta, D).slice(), rows, lik, q.g !== 0, q.H !== 0);
    let value = 0;
    for (const p of parts) value += p.value;
    // views made after the await: the memory may have grown meanwhile
    if (q.g !== 0) {
      const g = a.view(q.g, D);
      for (let j = 0; j < D; j++) g[j] = 0;
      for (const p of parts) for (let j = 0; j < D; j++) g[j] += p.g[j];
    }
    if (q.H !== 0) {
      const H = a.view(q.H, D * D);
      for (let j = 0; j < D * D; j++) H[j] = 0;
      for (const p of parts) for (let j = 0; j < D * D; j++) H[j] += p.H[j];
    }
    return value;
  }

  async information(theta: Float64Array, lik: LikelihoodSpec): Promise<Float64Array> {
    const P = theta.length;
    const parts = await this.passes(Float64Array.from(theta), 'all', lik, false, true);
    const H = new Float64Array(P * P);
    for (const p of parts) for (let j = 0; j < P * P; j++) H[j] += p.H[j];
    return H.map((v) => -v);
  }

  async stageTwo(job: StageTwoJob): Promise<ProductResult[]> {
    const L = this.layout;
    const D = L.obs.d;
    const cols = this.columns('all');
    const batches = batchesOf(L, this.workers);
    const results = await Promise.all(batches.map((b) => {
      const t: ProductsTask = {
        kind: 'products', mode: 'fit', cols, ctx: job.settings, strategy: job.strategy, M: L.M, theta0: job.theta0, ...b,
        lambdaC: job.lambdaC, wantSe: job.wantSe,
      };
      if (job.starts) {
        const st = new Float64Array(b.products.length * D);
        b.products.forEach((i, q) => st.set(job.starts!.subarray(i * D, (i + 1) * D), q * D));
        t.starts = st;
      }
      if (job.common.cov) t.commonCov = job.common.cov;
      if (job.common.stdErr) t.commonStdErr = job.common.stdErr;
      return this.pool.run<Float64Array>(t);
    }));
    const out: ProductResult[] = new Array(L.M);
    batches.forEach((b, j) => decodeProducts(results[j], D).forEach((r, q) => (out[b.products[q]] = r)));
    return out;
  }

  async heldOut(job: HeldOutJob): Promise<Float64Array[]> {
    const L = this.layout;
    const cols = this.columns('all');
    const batches = batchesOf(L, this.workers, job.fold);
    const trainWeight = L.trainWeight.byteOffset;
    const results = await Promise.all(batches.map((b) => {
      const t: ProductsTask = {
        kind: 'products', mode: 'select', cols, ctx: job.settings, strategy: 'tsmt', M: L.M, theta0: job.theta0, ...b,
        lambdaC: 0, wantSe: false, grid: job.grid, trainWeight,
      };
      return this.pool.run<Float64Array>(t);
    }));
    const out: Float64Array[] = new Array(L.M);
    batches.forEach((b, j) => decodeChains(results[j], job.grid.length).forEach((r, q) => (out[b.products[q]] = r)));
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
