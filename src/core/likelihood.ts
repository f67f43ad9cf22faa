/**
 * Typed wrappers of the censored log-likelihood kernel (docs/math.md §1.4): value, gradient and
 * Hessian of Σ_t w_t ℓ_t(θ), optionally in (θ, log σ); observed information and standard errors.
 */
import type { WasmCore } from './wasm.js';
import {
  checkArray, checkNoise, conventionCode, type Convention, type NoiseSpec,
} from './validate.js';

/** Observation table, column by column (docs/formats.md "Observations"). */
export interface ObservationColumns {
  n: number;
  d: number;
  /** n*d row-major features */
  x: Float64Array;
  /** 1 when we traded (competitor price revealed), 0 when not (censored) */
  won: Float64Array;
  /** our quote p (or yield q) */
  price: Float64Array;
  /** competitor price y; NaN allowed where won = 0 */
  competitor: Float64Array;
  /** row weights >= 0; absent = all 1 */
  weight?: Float64Array;
}

export interface LikelihoodOptions {
  convention?: Convention;
  gradient?: boolean;
  hessian?: boolean;
  /** parameter vector [θ, log σ] (length d+1); noise.scale is then ignored by the kernel */
  estimateScale?: boolean;
}

export interface LikelihoodResult {
  value: number;
  gradient?: Float64Array;
  /** D×D row-major, D = d (+1 with estimateScale) */
  hessian?: Float64Array;
}

/** Checks an observation table; returns its sizes and the total weight. */
export function checkObservations(fn: string, obs: ObservationColumns): { n: number; d: number; totalWeight: number } {
  if (obs === null || typeof obs !== 'object') throw new TypeError(`${fn}: obs must be an object of columns, got ${String(obs)}`);
  const { n, d } = obs;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new RangeError(`${fn}: obs.n must be an integer >= 0, got ${String(n)}`);
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) throw new RangeError(`${fn}: obs.d must be an integer >= 1, got ${String(d)}`);
  const x = checkArray(fn, 'obs.x', obs.x, n * d);
  const won = checkArray(fn, 'obs.won', obs.won, n);
  const price = checkArray(fn, 'obs.price', obs.price, n);
  const comp = checkArray(fn, 'obs.competitor', obs.competitor, n);
  for (let i = 0; i < n * d; i++) {
    if (!Number.isFinite(x[i])) {
      throw new RangeError(`${fn}: obs.x[${i}] (row ${Math.floor(i / d)}, column ${i % d}) must be finite, got ${x[i]}`);
    }
  }
  for (let t = 0; t < n; t++) {
    const w = won[t];
    if (w !== 0 && w !== 1) throw new RangeError(`${fn}: obs.won[${t}] must be 0 or 1, got ${w}`);
    if (!Number.isFinite(price[t])) throw new RangeError(`${fn}: obs.price[${t}] must be finite, got ${price[t]}`);
    if (w === 1 && !Number.isFinite(comp[t])) {
      throw new RangeError(`${fn}: obs.competitor[${t}] must be finite where won = 1, got ${comp[t]}`);
    }
  }
  let totalWeight = n;
  if (obs.weight !== undefined) {
    const wt = checkArray(fn, 'obs.weight', obs.weight, n);
    totalWeight = 0;
    for (let t = 0; t < n; t++) {
      if (!(Number.isFinite(wt[t]) && wt[t] >= 0)) throw new RangeError(`${fn}: obs.weight[${t}] must be finite and >= 0, got ${wt[t]}`);
      totalWeight += wt[t];
    }
  }
  return { n, d, totalWeight };
}

/** Checks a parameter vector of length `length`, all entries finite. */
export function checkTheta(fn: string, name: string, theta: unknown, length: number, what: string): Float64Array {
  if (!(theta instanceof Float64Array)) throw new TypeError(`${fn}: ${name} must be a Float64Array, got ${theta === null ? 'null' : typeof theta}`);
  if (theta.length !== length) throw new RangeError(`${fn}: ${name} must have length ${length} (${what}), got ${theta.length}`);
  for (let i = 0; i < length; i++) {
    if (!Number.isFinite(theta[i])) throw new RangeError(`${fn}: ${name}[${i}] must be finite, got ${theta[i]}`);
  }
  return theta;
}

/** Pointers of the observation columns (zero-copy for WASM views); call inside arena.scoped. */
export function observationPointers(core: WasmCore, obs: ObservationColumns): {
  x: number; won: number; price: number; comp: number; weight: number;
} {
  return {
    x: core.input(obs.x),
    won: core.input(obs.won),
    price: core.input(obs.price),
    comp: core.input(obs.competitor),
    weight: obs.weight !== undefined ? core.input(obs.weight) : 0,
  };
}

function thetaWhat(d: number, est: boolean): string {
  return est ? `d + 1 = ${d + 1}: θ then log σ` : `d = ${d}`;
}

/**
 * Σ_t w_t ℓ_t(θ) over the table, with its gradient and Hessian on request (docs/math.md §1.4).
 * With estimateScale, theta = [θ, log σ] and noise.scale is not used (but still validated).
 */
export function censoredLogLikelihood(
  core: WasmCore, obs: ObservationColumns, theta: Float64Array, noise: NoiseSpec, opts: LikelihoodOptions = {},
): LikelihoodResult {
  const fn = 'censoredLogLikelihood';
  const { family, scale } = checkNoise(fn, noise);
  const { n, d } = checkObservations(fn, obs);
  const conv = conventionCode(fn, opts.convention ?? 'price');
  const est = opts.estimateScale === true;
  const D = est ? d + 1 : d;
  checkTheta(fn, 'theta', theta, D, thetaWhat(d, est));
  return core.arena.scoped(() => {
    const p = observationPointers(core, obs);
    const pt = core.input(theta);
    const g = opts.gradient ? core.output(D) : undefined;
    const h = opts.hessian ? core.output(D * D) : undefined;
    const value = core.k.censoredLogLikelihood(
      n, d, p.x, p.won, p.price, p.comp, p.weight, pt, family, scale, conv, est ? 1 : 0, g ? g.ptr : 0, h ? h.ptr : 0,
    );
    const res: LikelihoodResult = { value };
    if (g) res.gradient = g.view().slice();
    if (h) res.hessian = h.view().slice();
    return res;
  });
}

/** Observed Fisher information -Σ w ∇²ℓ at theta (D×D row-major; docs/math.md §5.3). */
export function observedInformation(
  core: WasmCore, obs: ObservationColumns, theta: Float64Array, noise: NoiseSpec,
  opts: { convention?: Convention; estimateScale?: boolean } = {},
): Float64Array {
  const h = censoredLogLikelihood(core, obs, theta, noise, { ...opts, hessian: true }).hessian as Float64Array;
  for (let i = 0; i < h.length; i++) h[i] = -h[i];
  return h;
}

/**
 * The lower Cholesky factor L of the symmetric d×d matrix a + shift·I (row-major), stopping at
 * the first pivot that is not above `minPivot`: `fail` is its index (-1 when none) and `pivot` its
 * value. Used to invert information matrices and to test covariances for semi-definiteness.
 */
export function choleskyFactor(a: ArrayLike<number>, d: number, shift = 0, minPivot = 0): { L: Float64Array; fail: number; pivot: number } {
  const L = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    let s = a[j * d + j] + shift;
    for (let k = 0; k < j; k++) s -= L[j * d + k] * L[j * d + k];
    if (!(s > minPivot)) return { L, fail: j, pivot: s };
    const ljj = Math.sqrt(s);
    L[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let r = a[i * d + j];
      for (let k = 0; k < j; k++) r -= L[i * d + k] * L[j * d + k];
      L[i * d + j] = r / ljj;
    }
  }
  return { L, fail: -1, pivot: NaN };
}

/** Lower Cholesky factor of a symmetric matrix; throws naming the failing pivot. */
function choleskyOrThrow(fn: string, a: Float64Array, d: number): Float64Array {
  let dmax = 0;
  for (let j = 0; j < d; j++) dmax = Math.max(dmax, Math.abs(a[j * d + j]));
  const c = choleskyFactor(a, d, 0, 1e-14 * dmax);
  if (c.fail >= 0) {
    throw new RangeError(`${fn}: information matrix is singular or not positive definite (pivot ${c.fail} = ${c.pivot}); the parameters are not identified by these data`);
  }
  return c.L;
}

/** Inverse of a symmetric positive definite d×d matrix through its Cholesky factor. */
export function inverseSpd(info: Float64Array, d: number, fn = 'inverseSpd'): Float64Array {
  const L = choleskyOrThrow(fn, info, d);
  const inv = new Float64Array(d * d);
  const col = new Float64Array(d);
  for (let c = 0; c < d; c++) {
    col.fill(0);
    col[c] = 1;
    for (let i = 0; i < d; i++) {
      let s = col[i];
      for (let k = 0; k < i; k++) s -= L[i * d + k] * col[k];
      col[i] = s / L[i * d + i];
    }
    for (let i = d - 1; i >= 0; i--) {
      let s = col[i];
      for (let k = i + 1; k < d; k++) s -= L[k * d + i] * col[k];
      col[i] = s / L[i * d + i];
    }
    for (let i = 0; i < d; i++) inv[i * d + c] = col[i];
  }
  return inv;
}

/** Standard errors sqrt(diag(info⁻¹)) from an information matrix (d×d, row-major). */
export function standardErrors(info: Float64Array, d: number): Float64Array {
  const fn = 'standardErrors';
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) throw new RangeError(`${fn}: d must be an integer >= 1, got ${String(d)}`);
  checkArray(fn, 'info', info, d * d);
  for (let i = 0; i < d * d; i++) {
    if (!Number.isFinite(info[i])) throw new RangeError(`${fn}: info[${i}] must be finite, got ${info[i]}`);
  }
  const inv = inverseSpd(info, d, fn);
  const se = new Float64Array(d);
  for (let i = 0; i < d; i++) se[i] = Math.sqrt(inv[i * d + i]);
  return se;
}
