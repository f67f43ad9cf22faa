/**
 * Typed wrappers of the optimal-quote kernels (docs/math.md §1.5) and of the delta-method price
 * variance (docs/math.md §5.3). Arguments are validated here; the kernels check nothing.
 */
import type { WasmCore } from './wasm.js';
import { checkNoise, checkFiniteArray, checkInteger, checkArray, type NoiseSpec } from './validate.js';

/**
 * `views: true` returns views of WASM memory allocated in the caller's open arena scope (valid
 * until it ends) instead of fresh arrays: for hot paths that price chunk after chunk.
 */
export interface ArenaResult {
  views?: boolean;
}

export interface OptimalQuote {
  /** p* = u + phi^-1(c - u) */
  price: Float64Array;
  /** 1 - F(p* - u), the probability that the competitor's quote is at least p* */
  winProbability: Float64Array;
  /** c + (p* - c)(1 - F(p* - u)) */
  expectedReward: Float64Array;
  /** d p* / d u = 1 - 1/phi'(w*), in [0, 1) */
  dpdu: Float64Array;
}

function checkStandardised(fn: string, a: Float64Array, scale: number, what: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i] / scale)) {
      throw new RangeError(`${fn}: ${what} at index ${i} divided by noise.scale ${scale} is not finite (${a[i]}); rescale the inputs`);
    }
  }
}

/**
 * Optimal quotes for mean competitor quotes u and no-trade payoffs c (same length), under one noise
 * family. Throws RangeError naming the argument and index for non-finite values, unequal lengths, a
 * bad noise spec, or (c - u)/scale overflowing.
 */
export function optimalQuote(core: WasmCore, u: Float64Array, c: Float64Array, noise: NoiseSpec, opts: ArenaResult = {}): OptimalQuote {
  const fn = 'optimalQuote';
  const { family, scale } = checkNoise(fn, noise);
  checkFiniteArray(fn, 'u', u);
  const n = u.length;
  checkFiniteArray(fn, 'c', c, n);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite((c[i] - u[i]) / scale)) {
      throw new RangeError(`${fn}: c - u at index ${i} divided by noise.scale ${scale} is not finite (${c[i] - u[i]}); rescale the inputs`);
    }
  }
  if (opts.views) {
    // in the caller's arena scope: views, no copies
    const out = core.output(4 * n);
    core.k.optimalQuote(family, scale, n, core.input(u), core.input(c), out.ptr);
    const v = out.view();
    return { price: v.subarray(0, n), winProbability: v.subarray(n, 2 * n), expectedReward: v.subarray(2 * n, 3 * n), dpdu: v.subarray(3 * n, 4 * n) };
  }
  return core.arena.scoped(() => {
    const pu = core.input(u);
    const pc = core.input(c);
    const out = core.output(4 * n);
    core.k.optimalQuote(family, scale, n, pu, pc, out.ptr);
    const v = out.view();
    return {
      price: v.slice(0, n),
      winProbability: v.slice(n, 2 * n),
      expectedReward: v.slice(2 * n, 3 * n),
      dpdu: v.slice(3 * n, 4 * n),
    };
  });
}

/**
 * P(competitor >= p) = 1 - F(p - u) for mean competitor quotes u and prices p (same length), any
 * price, not only p*: the winProbabilityAt kernel, an upper tail (½ erfc for the Gaussian, never
 * 1 - Phi). Throws RangeError for non-finite values, unequal lengths or a bad noise spec.
 */
export function winProbabilityAt(core: WasmCore, u: Float64Array, p: Float64Array, noise: NoiseSpec): Float64Array {
  const fn = 'winProbabilityAt';
  const { family, scale } = checkNoise(fn, noise);
  checkFiniteArray(fn, 'u', u);
  const n = u.length;
  checkFiniteArray(fn, 'p', p, n);
  return core.arena.scoped(() => {
    const pu = core.input(u);
    const pp = core.input(p);
    const out = core.output(n);
    core.k.winProbabilityAt(family, scale, n, pu, pp, out.ptr);
    return out.view().slice();
  });
}

/** w = phi^-1(a) for each a (the virtual-valuation inverse of docs/math.md §1.5). */
export function virtualValuationInverse(core: WasmCore, a: Float64Array, noise: NoiseSpec): Float64Array {
  const fn = 'virtualValuationInverse';
  const { family, scale } = checkNoise(fn, noise);
  checkFiniteArray(fn, 'a', a);
  checkStandardised(fn, a, scale, 'a');
  const n = a.length;
  return core.arena.scoped(() => {
    const pa = core.input(a);
    const out = core.output(n);
    core.k.virtualValuationInverse(family, scale, n, pa, out.ptr);
    return out.view().slice();
  });
}

/**
 * Pack K symmetric d x d row-major matrices into the kernel's layout: each matrix's upper triangle
 * row by row (row r: entries (r, r..d-1)), d(d+1)/2 values per matrix.
 */
export function packSymmetric(dense: Float64Array, d: number, out?: Float64Array, outOffset = 0): Float64Array {
  const dd = d * d;
  const P = (d * (d + 1)) / 2;
  const K = dense.length / dd;
  const dst = out ?? new Float64Array(K * P);
  for (let k = 0; k < K; k++) {
    let o = outOffset + k * P;
    for (let r = 0; r < d; r++) for (let c = r; c < d; c++) dst[o++] = dense[k * dd + r * d + c];
  }
  return dst;
}

/** Covariance matrices in the delta-method kernel's layout (see packCovariances). */
export interface PackedCovariances {
  values: Float64Array;
  /** per matrix: >= 0, a packed upper triangle at values[at]; < 0, a diagonal at values[-at - 1] */
  at: Int32Array;
}

/**
 * K symmetric d x d row-major matrices in the kernel's layout: a diagonal matrix (a product
 * fitted with standard errors only, docs/formats.md) as its d diagonal entries, any other as its packed
 * upper triangle (packSymmetric). The kernel then reads d values per row for the first kind.
 */
export function packCovariances(dense: Float64Array, d: number): PackedCovariances {
  const dd = d * d;
  const P = (d * (d + 1)) / 2;
  const K = dense.length / dd;
  const diagonal = new Uint8Array(K);
  let total = 0;
  for (let k = 0; k < K; k++) {
    let off = false;
    for (let r = 0; r < d && !off; r++) for (let c = 0; c < d; c++) if (c !== r && dense[k * dd + r * d + c] !== 0) { off = true; break; }
    diagonal[k] = off ? 0 : 1;
    total += off ? P : d;
  }
  if (total >= 2 ** 31) throw new RangeError(`packCovariances: ${total} values exceed the kernel's 32-bit offsets`);
  const values = new Float64Array(total);
  const at = new Int32Array(K);
  let o = 0;
  for (let k = 0; k < K; k++) {
    if (diagonal[k]) {
      at[k] = -o - 1;
      for (let r = 0; r < d; r++) values[o + r] = dense[k * dd + r * d + r];
      o += d;
    } else {
      at[k] = o;
      packSymmetric(dense.subarray(k * dd, (k + 1) * dd), d, values, o);
      o += P;
    }
  }
  return { values, at };
}

/**
 * Delta-method variance (docs/math.md §5.3): Var_i = dpdu_i^2 x_i' Sigma_k(i) x_i, with x an n x d
 * row-major block (n = dpdu.length), cov a block of K d x d row-major matrices and covIndex[i] in
 * [0, K) choosing the matrix of row i (omitted: K must be 1). Matrices must be symmetric; a matrix
 * that is not positive semi-definite can give a negative variance.
 */
export function priceVariance(
  core: WasmCore, x: Float64Array, d: number, dpdu: Float64Array, cov: Float64Array, covIndex?: Float64Array,
): Float64Array {
  const fn = 'priceVariance';
  checkInteger(fn, 'd', d, 1);
  checkFiniteArray(fn, 'dpdu', dpdu);
  const n = dpdu.length;
  checkFiniteArray(fn, 'x', x, n * d);
  checkArray(fn, 'cov', cov);
  const dd = d * d;
  if (cov.length === 0 || cov.length % dd !== 0) {
    throw new RangeError(`${fn}: cov must hold K >= 1 matrices of d*d = ${dd} values, got length ${cov.length}`);
  }
  const K = cov.length / dd;
  // Only the matrices some row uses are checked (finite, symmetric): O(n d^2) like the kernel,
  // not O(K d^2) for a large catalogue.
  const seen = new Uint8Array(K);
  const checkMatrix = (k: number): void => {
    if (seen[k]) return;
    seen[k] = 1;
    const o = k * dd;
    for (let r = 0; r < d; r++) {
      for (let s = 0; s < d; s++) {
        const a = cov[o + r * d + s];
        if (!Number.isFinite(a)) throw new RangeError(`${fn}: cov[${o + r * d + s}] (matrix ${k}, entry (${r}, ${s})) must be finite, got ${a}`);
        if (s > r) {
          const b = cov[o + s * d + r];
          if (Math.abs(a - b) > 1e-12 * Math.max(Math.abs(a), Math.abs(b))) {
            throw new RangeError(`${fn}: cov matrix ${k} is not symmetric at (${r}, ${s}): ${a} vs ${b}`);
          }
        }
      }
    }
  };
  if (covIndex === undefined) {
    if (K !== 1) throw new RangeError(`${fn}: cov holds ${K} matrices; pass covIndex to choose one per row`);
    checkMatrix(0);
  } else {
    checkArray(fn, 'covIndex', covIndex, n);
    for (let i = 0; i < n; i++) {
      const k = covIndex[i];
      if (!Number.isInteger(k) || k < 0 || k >= K) {
        throw new RangeError(`${fn}: covIndex[${i}] must be an integer in [0, ${K - 1}], got ${k}`);
      }
      checkMatrix(k);
    }
  }
  // the kernel's layout (packCovariances) for the matrices the rows use, renumbered in order of use
  const used = new Int32Array(K).fill(-1);
  let U = 0;
  let idx: Float64Array | undefined;
  if (covIndex !== undefined) {
    idx = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const k = covIndex[i];
      if (used[k] < 0) used[k] = U++;
      idx[i] = used[k];
    }
  } else {
    used[0] = U++;
  }
  const dense = new Float64Array(U * dd);
  for (let k = 0; k < K; k++) if (used[k] >= 0) dense.set(cov.subarray(k * dd, (k + 1) * dd), used[k] * dd);
  const packed = packCovariances(dense, d);
  return core.arena.scoped(() => {
    const px = core.input(x);
    const pg = core.input(dpdu);
    const pcov = core.input(packed.values);
    const pat = core.inputInt32(packed.at);
    const pk = idx === undefined ? 0 : core.input(idx);
    const out = core.output(n);
    core.k.priceVariance(n, d, px, pg, pcov, pat, pk, out.ptr);
    return out.view().slice();
  });
}

/** Standard errors sqrt(Var_i) of the learned prices (docs/math.md §5.3; see priceVariance). */
export function priceStdError(
  core: WasmCore, x: Float64Array, d: number, dpdu: Float64Array, cov: Float64Array, covIndex?: Float64Array,
): Float64Array {
  const v = priceVariance(core, x, d, dpdu, cov, covIndex);
  for (let i = 0; i < v.length; i++) v[i] = Math.sqrt(v[i]);
  return v;
}
