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
 *   product's log-likelihood; mode `select`: the chain over the c_λ grid on the product's rows
 *   at the current fold's training weights and the held-out log-likelihood of each grid value
 *   on its rows of the held-out fold), through the same functions as the
 *   serial executor (src/model/stages.ts fitProduct, heldOutChain), so each product's result is
 *   identical to it.
 * Results come back as one transferred Float64Array per task, written and read only by the
 * encode / decode pairs below (named offsets: PASS_*, FIT_*).
 */
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { WasmCore } from '../core/wasm.js';
import type { ObservationColumns } from '../core/likelihood.js';
import { RepricerError } from '../core/errors.js';
import { fitProduct, heldOutChain, type Ctx, type FitSettings, type ParameterFit, type ProductFit, type ProductResult, type Strategy } from './stages.js';

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
  ctx: FitSettings;
  strategy: Strategy;
  /** number of products (λ_i depends on it) */
  M: number;
  theta0: Float64Array;
  /** product indices of this batch, and for each its rows: [from, to) all, [validFrom, validTo) the held-out fold's (select) */
  products: Int32Array;
  from: Int32Array;
  to: Int32Array;
  validFrom: Int32Array;
  validTo: Int32Array;
  /** fit: c_λ (0 when unused) */
  lambdaC: number;
  /** fit: warm starts, D per listed product */
  starts?: Float64Array;
  wantSe: boolean;
  commonCov?: Float64Array;
  commonStdErr?: Float64Array;
  /** select: the grid values in fitting order */
  grid?: Float64Array;
  /** select: byte offset of the current fold's training weights (stages.ts setTrainingFold) */
  trainWeight?: number;
}

// A `pass` result: [value, g (D), H (D×D)].
const PASS_VALUE = 0;
const PASS_G = 1;

/** Doubles of a `pass` result for D parameters. */
export function passSize(D: number): number {
  return PASS_G + D + D * D;
}

/** A likelihood pass over a row range: Σ w ℓ, its gradient and Hessian (views of the result). */
export interface PassResult {
  value: number;
  g: Float64Array;
  H: Float64Array;
}

export function decodePass(r: Float64Array, D: number): PassResult {
  return { value: r[PASS_VALUE], g: r.subarray(PASS_G, PASS_G + D), H: r.subarray(PASS_G + D, PASS_G + D + D * D) };
}

// One product's record in a `fit` result: [λ, shrunk, iterations, converged, log-likelihood,
// n, has cov, θ (D), cov (D×D), stdErr (D)].
const FIT_LAMBDA = 0;
const FIT_SHRUNK = 1;
const FIT_ITERATIONS = 2;
const FIT_CONVERGED = 3;
const FIT_LOGLIK = 4;
const FIT_N = 5;
const FIT_HAS_COV = 6;
const FIT_THETA = 7;

/** Doubles per product in a `fit` result. */
export function fitStride(D: number): number {
  return FIT_THETA + 2 * D + D * D;
}

function encodeProduct(out: Float64Array, o: number, r: ProductResult, D: number): void {
  const f = r.fit;
  out[o + FIT_LAMBDA] = f.lambda;
  out[o + FIT_SHRUNK] = f.shrunk ? 1 : 0;
  out[o + FIT_ITERATIONS] = f.iterations;
  out[o + FIT_CONVERGED] = f.converged ? 1 : 0;
  out[o + FIT_LOGLIK] = r.logLikelihood;
  out[o + FIT_N] = f.n;
  out[o + FIT_HAS_COV] = f.cov ? 1 : 0;
  out.set(f.theta, o + FIT_THETA);
  if (f.cov) out.set(f.cov, o + FIT_THETA + D);
  if (f.stdErr) out.set(f.stdErr, o + FIT_THETA + D + D * D);
}

/** The products of a `fit` result, in the order of the task's product list. */
export function decodeProducts(r: Float64Array, D: number): ProductResult[] {
  const S = fitStride(D);
  const out: ProductResult[] = [];
  for (let o = 0; o < r.length; o += S) {
    const fit: ProductFit = {
      theta: r.slice(o + FIT_THETA, o + FIT_THETA + D), n: r[o + FIT_N], lambda: r[o + FIT_LAMBDA], shrunk: r[o + FIT_SHRUNK] === 1,
      iterations: r[o + FIT_ITERATIONS], converged: r[o + FIT_CONVERGED] === 1,
    };
    if (r[o + FIT_HAS_COV] === 1) {
      fit.cov = r.slice(o + FIT_THETA + D, o + FIT_THETA + D + D * D);
      fit.stdErr = r.slice(o + FIT_THETA + D + D * D, o + FIT_THETA + 2 * D + D * D);
    }
    out.push({ fit, logLikelihood: r[o + FIT_LOGLIK] });
  }
  return out;
}

/** The chains of a `select` result: per product of the task, the held-out log-likelihood per grid position. */
export function decodeChains(r: Float64Array, G: number): Float64Array[] {
  const out: Float64Array[] = [];
  for (let o = 0; o < r.length; o += G) out.push(r.subarray(o, o + G));
  return out;
}

const data = workerData as FitWorkerData;
let core: WasmCore | undefined;
let regionEnd = 0;

function getCore(): WasmCore {
  if (core) return core;
  const { claims, regionBase, regionBytes } = data;
  let k = -1;
  for (let i = 0; i < claims.length && k < 0; i++) if (Atomics.compareExchange(claims, i, 0, 1) === 0) k = i;
  if (k < 0) throw new RepricerError('INTERNAL', `fitWorker: no free scratch region (${claims.length} regions, all claimed)`);
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
  if (c.arena.mark() > regionEnd) throw new RepricerError('INTERNAL', `fitWorker: scratch region overflow (${c.arena.mark() - regionEnd} bytes past its end)`);
}

export function runPass(t: PassTask): Float64Array {
  const c = getCore();
  const { cols, r0, r1 } = t;
  const d = cols.d;
  const D = t.theta.length;
  const out = new Float64Array(passSize(D));
  c.arena.scoped(() => {
    const th = c.output(D);
    th.view().set(t.theta);
    const g = t.gradient ? c.output(D) : undefined;
    const h = t.hessian ? c.output(D * D) : undefined;
    checkScratch(c);
    out[PASS_VALUE] = c.k.censoredLogLikelihood(
      r1 - r0, d, cols.x + r0 * d * 8, cols.won + r0 * 8, cols.price + r0 * 8, cols.competitor + r0 * 8,
      cols.weight !== 0 ? cols.weight + r0 * 8 : 0, th.ptr, t.family, t.scale, t.convention, t.estimateScale,
      g ? g.ptr : 0, h ? h.ptr : 0,
    );
    if (g) out.set(g.view(), PASS_G);
    if (h) out.set(h.view(), PASS_G + D);
  });
  return out;
}

export function runProducts(t: ProductsTask): Float64Array {
  const c = getCore();
  const D = t.cols.d;
  const ctx: Ctx = { core: c, ...t.ctx };
  const m = t.products.length;
  if (t.mode === 'select') {
    const grid = t.grid as Float64Array;
    const G = grid.length;
    const out = new Float64Array(m * G);
    for (let q = 0; q < m; q++) {
      const train = rows(c, { ...t.cols, weight: t.trainWeight as number }, t.from[q], t.to[q]);
      const valid = rows(c, t.cols, t.validFrom[q], t.validTo[q]);
      out.set(heldOutChain(ctx, train, valid, t.theta0, grid, D, t.M), q * G);
      checkScratch(c);
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
    encodeProduct(out, q * S, fitProduct(ctx, t.strategy, part, t.theta0, t.lambdaC, D, t.M, start, common, t.wantSe), D);
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
