/**
 * Piscina worker of the parallel TSMT fit (src/model/parallelFit.ts).
 *
 * workerData (sent once): the compiled WebAssembly.Module, the shared WebAssembly.Memory, and the
 * scratch regions. On start the worker claims one free region (compare-and-swap on a shared flag
 * array) and instantiates one WasmCore over the shared memory whose arena starts at that region:
 * every allocation of this thread (kernel scratch, outputs, small copied inputs) stays inside it,
 * so threads never write each other's bytes and the worker never grows the memory (the main
 * thread sizes everything before it dispatches tasks).
 *
 * Tasks carry byte offsets and row ranges of the observation columns the main thread has already
 * copied into shared memory, never the rows themselves:
 * - `pass`: Σ w ℓ, its gradient and Hessian over rows [r0, r1) at θ (one WASM kernel call),
 *   returned as [value, g (D), H (D×D)];
 * - `products`: a batch of stage-II product fits (mode `fit`: estimate, standard errors and the
 *   product's log-likelihood; mode `select`: the chain over the c_λ grid on the training rows
 *   and the held-out log-likelihood of each grid value), through the same functions as the
 *   single-threaded fit (src/model/tsmt.ts), so each product's result is identical to it.
 * Results come back as one transferred Float64Array per task.
 */
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { WasmCore } from '../core/wasm.js';
import type { ObservationColumns } from '../core/likelihood.js';
import type { Convention, NoiseSpec } from '../core/validate.js';
import { productEstimate, productFit, productLogLikelihood, type Ctx, type ParameterFit, type Strategy } from './tsmt.js';

export interface FitWorkerData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  variant: 'simd' | 'scalar';
  /** byte offset of region 0; region k starts at regionBase + k·regionBytes */
  regionBase: number;
  regionBytes: number;
  /** one Int32 flag per region (0 free, 1 claimed), over a SharedArrayBuffer */
  claims: Int32Array;
}

/** The observation columns in shared memory: byte offsets (weight 0: unit weights). */
export interface SharedColumns {
  n: number;
  d: number;
  x: number;
  won: number;
  price: number;
  competitor: number;
  weight: number;
}

export interface PassTask {
  kind: 'pass';
  cols: SharedColumns;
  r0: number;
  r1: number;
  /** D = d (+1 with estimateScale) entries */
  theta: Float64Array;
  family: number;
  scale: number;
  convention: number;
  estimateScale: number;
  gradient: boolean;
  hessian: boolean;
}

export interface ProductsTask {
  kind: 'products';
  mode: 'fit' | 'select';
  cols: SharedColumns;
  ctx: { noise: NoiseSpec; radius: number; convention: Convention; maxIter?: number; tol?: number };
  strategy: Strategy;
  /** number of products (λ_i depends on it) */
  M: number;
  theta0: Float64Array;
  /** product indices of this batch, and for each its rows: [from, to) all, [from, trainEnd) training */
  products: Int32Array;
  from: Int32Array;
  to: Int32Array;
  trainEnd: Int32Array;
  /** fit: c_λ (0 when unused) */
  lambdaC: number;
  /** fit: warm starts, D per listed product */
  starts?: Float64Array;
  wantSe: boolean;
  commonCov?: Float64Array;
  commonStdErr?: Float64Array;
  /** select: the grid values in fitting order */
  grid?: Float64Array;
}

/** Doubles per product in a `fit` result: [λ, shrunk, iterations, converged, logLik, hasCov, θ (D), cov (D²), stdErr (D)]. */
export function fitStride(D: number): number {
  return 6 + 2 * D + D * D;
}

const data = workerData as FitWorkerData;
let core: WasmCore | undefined;
let regionEnd = 0;

function getCore(): WasmCore {
  if (core) return core;
  const { claims, regionBase, regionBytes } = data;
  let k = -1;
  for (let i = 0; i < claims.length && k < 0; i++) if (Atomics.compareExchange(claims, i, 0, 1) === 0) k = i;
  if (k < 0) throw new Error(`fitWorker: no free scratch region (${claims.length} regions, all claimed)`);
  const base = regionBase + k * regionBytes;
  regionEnd = base + regionBytes;
  core = WasmCore.create({ variant: data.variant, module: data.module, memory: data.memory, arenaBase: base });
  return core;
}

/** Rows [from, to) of the shared columns as zero-copy views (fresh: views do not follow a grow). */
function rows(c: WasmCore, cols: SharedColumns, from: number, to: number): ObservationColumns {
  const buf = c.memory.buffer;
  const n = to - from;
  const d = cols.d;
  const o: ObservationColumns = {
    n,
    d,
    x: new Float64Array(buf, cols.x + from * d * 8, n * d),
    won: new Float64Array(buf, cols.won + from * 8, n),
    price: new Float64Array(buf, cols.price + from * 8, n),
    competitor: new Float64Array(buf, cols.competitor + from * 8, n),
  };
  if (cols.weight !== 0) o.weight = new Float64Array(buf, cols.weight + from * 8, n);
  return o;
}

function checkScratch(c: WasmCore): void {
  if (c.arena.mark() > regionEnd) throw new Error(`fitWorker: scratch region overflow (${c.arena.mark() - regionEnd} bytes past its end)`);
}

export function runPass(t: PassTask): Float64Array {
  const c = getCore();
  const { cols, r0, r1 } = t;
  const d = cols.d;
  const D = t.theta.length;
  const out = new Float64Array(1 + D + D * D);
  c.arena.scoped(() => {
    const th = c.output(D);
    th.view().set(t.theta);
    const g = t.gradient ? c.output(D) : undefined;
    const h = t.hessian ? c.output(D * D) : undefined;
    checkScratch(c);
    out[0] = c.k.censoredLogLikelihood(
      r1 - r0, d, cols.x + r0 * d * 8, cols.won + r0 * 8, cols.price + r0 * 8, cols.competitor + r0 * 8,
      cols.weight !== 0 ? cols.weight + r0 * 8 : 0, th.ptr, t.family, t.scale, t.convention, t.estimateScale,
      g ? g.ptr : 0, h ? h.ptr : 0,
    );
    if (g) out.set(g.view(), 1);
    if (h) out.set(h.view(), 1 + D);
  });
  return out;
}

export function runProducts(t: ProductsTask): Float64Array {
  const c = getCore();
  const D = t.cols.d;
  const ctx: Ctx = { core: c, noise: t.ctx.noise, radius: t.ctx.radius, convention: t.ctx.convention };
  if (t.ctx.maxIter !== undefined) ctx.maxIter = t.ctx.maxIter;
  if (t.ctx.tol !== undefined) ctx.tol = t.ctx.tol;
  const m = t.products.length;
  if (t.mode === 'select') {
    const grid = t.grid as Float64Array;
    const G = grid.length;
    const out = new Float64Array(m * G);
    for (let q = 0; q < m; q++) {
      const train = rows(c, t.cols, t.from[q], t.trainEnd[q]);
      const valid = rows(c, t.cols, t.trainEnd[q], t.to[q]);
      let start: Float64Array | undefined;
      for (let k = 0; k < G; k++) {
        const e = productEstimate(ctx, 'tsmt', train, t.theta0, grid[k], D, t.M, start);
        start = e.theta;
        out[q * G + k] = valid.n === 0 ? 0 : productLogLikelihood(ctx, valid, e.theta);
        checkScratch(c);
      }
    }
    return out;
  }
  const S = fitStride(D);
  const out = new Float64Array(m * S);
  const common: ParameterFit = { theta: t.theta0, n: 0, iterations: 0, converged: true };
  if (t.commonCov) common.cov = t.commonCov;
  if (t.commonStdErr) common.stdErr = t.commonStdErr;
  for (let q = 0; q < m; q++) {
    const part = rows(c, t.cols, t.from[q], t.to[q]);
    const start = t.starts ? t.starts.subarray(q * D, (q + 1) * D) : undefined;
    const e = productEstimate(ctx, t.strategy, part, t.theta0, t.lambdaC, D, t.M, start);
    const pf = productFit(ctx, e, part, t.theta0, common, t.wantSe);
    const o = q * S;
    out[o] = pf.lambda;
    out[o + 1] = pf.shrunk ? 1 : 0;
    out[o + 2] = pf.iterations;
    out[o + 3] = pf.converged ? 1 : 0;
    out[o + 4] = part.n === 0 ? 0 : productLogLikelihood(ctx, part, pf.theta);
    out[o + 5] = pf.cov ? 1 : 0;
    out.set(pf.theta, o + 6);
    if (pf.cov) out.set(pf.cov, o + 6 + D);
    if (pf.stdErr) out.set(pf.stdErr, o + 6 + D + D * D);
    checkScratch(c);
  }
  return out;
}

/** Wrap a Float64Array so its buffer is transferred, not cloned, back to the main thread. */
function transfer(a: Float64Array): unknown {
  return move({
    get [transferableSymbol]() {
      return [a.buffer];
    },
    get [valueSymbol]() {
      return a;
    },
  } as unknown as ArrayBuffer);
}

export default function task(t: PassTask | ProductsTask): unknown {
  return transfer(t.kind === 'pass' ? runPass(t) : runProducts(t));
}
