// TypeScript twin of assembly/solvers.ts (the parity reference): projected / proximal Newton and
// projected AdaGrad SGD for J(θ) = -(1/N)Σ w ℓ(θ) + penalty(θ), ‖θ‖ ≤ W (docs/math.md §1.6, §1.8, §5.3).
// Pointers become Float64Array views (work buffers are subarrays at the same offsets); the
// operations and their order are those of the AssemblyScript source.
//
// The Newton loop is a generator (newtonSteps) that yields each likelihood evaluation it needs
// (Σ w ℓ, gradient, Hessian at a θ) and receives the value back: projectedNewton drives it with
// the twin likelihood over the rows; the worker-pool fit (src/model/parallelFit.ts) drives the
// same loop with sums of WASM passes over row ranges run in parallel.
import { censoredLogLikelihood, censoredTerm, lastTermG1 } from './likelihood.js';

function dotv(m: number, a: Float64Array, b: Float64Array): number {
  let s = 0.0;
  for (let i = 0; i < m; i++) s += a[i] * b[i];
  return s;
}

function normv(m: number, a: Float64Array): number {
  return Math.sqrt(dotv(m, a, a));
}

function distv(m: number, a: Float64Array, b: Float64Array): number {
  let s = 0.0;
  for (let i = 0; i < m; i++) {
    const r = a[i] - b[i];
    s += r * r;
  }
  return Math.sqrt(s);
}

function copyv(m: number, src: Float64Array, dst: Float64Array): void {
  for (let i = 0; i < m; i++) dst[i] = src[i];
}

function proxShifted(dim: number, y: Float64Array, c: Float64Array, tl: number, mu: number, out: Float64Array): number {
  const k = 1.0 + mu;
  let s = 0.0;
  for (let i = 0; i < dim; i++) {
    const r = y[i] - k * c[i];
    s += r * r;
  }
  const r = Math.sqrt(s);
  const f = r > tl ? 1.0 - tl / r : 0.0;
  let nv = 0.0;
  for (let i = 0; i < dim; i++) {
    const ci = c[i];
    const v = ci + f * (y[i] / k - ci);
    out[i] = v;
    nv += v * v;
  }
  return Math.sqrt(nv);
}

/**
 * Exact prox of tl·‖v - c‖ + ι{‖v‖ ≤ W} at y into out (center null or tl = 0: projection Π_W).
 * Block soft-threshold, then if outside the ball, bisection on the KKT multiplier (see the AS source).
 */
export function proxL2Ball(dim: number, y: Float64Array, center: Float64Array | null, tl: number, radius: number, out: Float64Array): void {
  if (center === null || !(tl > 0.0)) {
    const ny = normv(dim, y);
    const f = ny > radius ? radius / ny : 1.0;
    for (let i = 0; i < dim; i++) out[i] = y[i] * f;
    return;
  }
  if (!(radius > 0.0)) {
    for (let i = 0; i < dim; i++) out[i] = 0.0;
    return;
  }
  if (proxShifted(dim, y, center, tl, 0.0, out) <= radius) return;
  let lo = 0.0;
  let hi = 1.0;
  let it = 0;
  while (proxShifted(dim, y, center, tl, hi, out) > radius && it < 2100) {
    lo = hi;
    hi *= 2.0;
    it++;
  }
  for (let k = 0; k < 200; k++) {
    const mid = 0.5 * (lo + hi);
    if (!(mid > lo && mid < hi)) break;
    if (proxShifted(dim, y, center, tl, mid, out) > radius) lo = mid;
    else hi = mid;
  }
  const nv = proxShifted(dim, y, center, tl, hi, out);
  if (nv > radius) {
    const f = radius / nv;
    for (let i = 0; i < dim; i++) out[i] = out[i] * f;
  }
}

/**
 * A likelihood evaluation requested by the Newton loop: Σ_t w_t ℓ_t at `theta` (D entries), with
 * its gradient written into `g` and its Hessian (D×D) into `H` when they are not null — what the
 * censoredLogLikelihood kernel computes. The value is sent back into the generator.
 */
export interface LikelihoodRequest {
  theta: Float64Array;
  g: Float64Array | null;
  H: Float64Array | null;
}

/** A computation that yields likelihood requests and finally returns T. */
export type LikelihoodSteps<T> = Generator<LikelihoodRequest, T, number>;

/** Runs `steps`, answering each request with `evaluate`. */
export function runSteps<T>(steps: LikelihoodSteps<T>, evaluate: (req: LikelihoodRequest) => number): T {
  let r = steps.next();
  while (!r.done) r = steps.next(evaluate(r.value));
  return r.value;
}

/** The problem of one solver call (the AS source keeps it in module globals); rows not included. */
interface Problem {
  d: number;
  D: number;
  est: number;
  invN: number;
  kind: number;
  center: Float64Array | null;
  lambda: number;
  prec: Float64Array | null;
  radius: number;
}

function* smoothPart(P: Problem, theta: Float64Array, g: Float64Array | null, H: Float64Array | null): LikelihoodSteps<number> {
  const D = P.D;
  const d = P.d;
  let f = -P.invN * (yield { theta, g, H });
  const s = -P.invN;
  if (g !== null) for (let i = 0; i < D; i++) g[i] = s * g[i];
  if (H !== null) for (let i = 0; i < D * D; i++) H[i] = s * H[i];
  if (P.kind === 2) {
    const prec = P.prec as Float64Array;
    const c = P.center as Float64Array;
    let quad = 0.0;
    for (let a = 0; a < d; a++) {
      let pa = 0.0;
      for (let b = 0; b < d; b++) pa += prec[a * d + b] * (theta[b] - c[b]);
      quad += (theta[a] - c[a]) * pa;
      if (g !== null) g[a] = g[a] + pa;
      if (H !== null) for (let b = 0; b < d; b++) H[a * D + b] = H[a * D + b] + prec[a * d + b];
    }
    f += 0.5 * quad;
  }
  return f;
}

function nonSmooth(P: Problem, theta: Float64Array): number {
  if (P.kind !== 1) return 0.0;
  return P.lambda * distv(P.d, theta, P.center as Float64Array);
}

function* objective(P: Problem, theta: Float64Array): LikelihoodSteps<number> {
  return (yield* smoothPart(P, theta, null, null)) + nonSmooth(P, theta);
}

function proxStep(P: Problem, y: Float64Array, t: number, out: Float64Array): void {
  if (P.kind === 1) proxL2Ball(P.d, y, P.center, t * P.lambda, P.radius, out);
  else proxL2Ball(P.d, y, null, 0.0, P.radius, out);
  if (P.est !== 0) out[P.d] = y[P.d];
}

function gradMapNorm(P: Problem, theta: Float64Array, g: Float64Array, t: number, a: Float64Array, b: Float64Array): number {
  const D = P.D;
  for (let i = 0; i < D; i++) a[i] = theta[i] - t * g[i];
  proxStep(P, a, t, b);
  let s = 0.0;
  for (let i = 0; i < D; i++) {
    const r = (theta[i] - b[i]) / t;
    s += r * r;
  }
  return Math.sqrt(s);
}

function matvec(D: number, H: Float64Array, x: Float64Array, y: Float64Array): void {
  for (let a = 0; a < D; a++) {
    let s = 0.0;
    for (let b = 0; b < D; b++) s += H[a * D + b] * x[b];
    y[a] = s;
  }
}

function lambdaMax(D: number, H: Float64Array, a: Float64Array, b: Float64Array): number {
  let s = 0.0;
  for (let i = 0; i < D; i++) {
    const v = 1.0 + 0.1 * i;
    a[i] = v;
    s += v * v;
  }
  s = 1.0 / Math.sqrt(s);
  for (let i = 0; i < D; i++) a[i] = a[i] * s;
  let nb = 0.0;
  for (let it = 0; it < 100; it++) {
    matvec(D, H, a, b);
    nb = normv(D, b);
    if (!(nb > 0.0)) break;
    const inv = 1.0 / nb;
    for (let i = 0; i < D; i++) a[i] = b[i] * inv;
  }
  let gersh = 0.0;
  for (let r = 0; r < D; r++) {
    let acc = 0.0;
    for (let c = 0; c < D; c++) acc += Math.abs(H[r * D + c]);
    if (acc > gersh) gersh = acc;
  }
  let L = 1.02 * nb;
  if (L > gersh) L = gersh;
  if (!(L > 1e-12)) L = 1e-12;
  return L;
}

/** Cholesky factor of A + ridge·I_nr (ridge on the first nr diagonal entries; see the AS source). */
function cholesky(D: number, A: Float64Array, L: Float64Array, ridge: number, nr: number): boolean {
  let dmax = 0.0;
  for (let j = 0; j < D; j++) {
    const v = Math.abs(A[j * D + j]);
    if (v > dmax) dmax = v;
  }
  const floor = 1e-13 * (dmax + ridge);
  for (let j = 0; j < D; j++) {
    let s = A[j * D + j] + (j < nr ? ridge : 0.0);
    for (let k = 0; k < j; k++) {
      const l = L[j * D + k];
      s -= l * l;
    }
    if (!(s > floor)) return false;
    const ljj = Math.sqrt(s);
    L[j * D + j] = ljj;
    for (let i = j + 1; i < D; i++) {
      let r = A[i * D + j];
      for (let k = 0; k < j; k++) r -= L[i * D + k] * L[j * D + k];
      L[i * D + j] = r / ljj;
    }
    for (let i = 0; i < j; i++) L[i * D + j] = 0.0;
  }
  return true;
}

function cholSolve(D: number, L: Float64Array, b: Float64Array, x: Float64Array): void {
  for (let i = 0; i < D; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * D + k] * x[k];
    x[i] = s / L[i * D + i];
  }
  for (let i = D - 1; i >= 0; i--) {
    let s = x[i];
    for (let k = i + 1; k < D; k++) s -= L[k * D + i] * x[k];
    x[i] = s / L[i * D + i];
  }
}

function makePD(D: number, H: Float64Array, L: Float64Array): void {
  if (cholesky(D, H, L, 0.0, D)) return;
  let dmax = 1.0;
  for (let j = 0; j < D; j++) {
    const v = Math.abs(H[j * D + j]);
    if (v > dmax) dmax = v;
  }
  let tau = 1e-10 * dmax;
  for (let k = 0; k < 40; k++) {
    if (cholesky(D, H, L, tau, D)) break;
    tau *= 10.0;
  }
  for (let j = 0; j < D; j++) H[j * D + j] = H[j * D + j] + tau;
}

const MAX_INNER = 50000;

function fista(
  P: Problem, theta: Float64Array, g: Float64Array, H: Float64Array, Lm: number, innerTol: number,
  v: Float64Array, vn: Float64Array, y: Float64Array, m: Float64Array, a: Float64Array,
): void {
  const D = P.D;
  const t = 1.0 / Lm;
  copyv(D, theta, v);
  copyv(D, theta, y);
  let tk = 1.0;
  for (let it = 0; it < MAX_INNER; it++) {
    for (let r = 0; r < D; r++) {
      let s = g[r];
      for (let c = 0; c < D; c++) s += H[r * D + c] * (y[c] - theta[c]);
      m[r] = s;
    }
    for (let r = 0; r < D; r++) a[r] = y[r] - t * m[r];
    proxStep(P, a, t, vn);
    const res = Lm * distv(D, y, vn);
    if (res <= innerTol) {
      copyv(D, vn, v);
      return;
    }
    let dir = 0.0;
    for (let r = 0; r < D; r++) dir += (y[r] - vn[r]) * (vn[r] - v[r]);
    if (dir > 0.0) {
      tk = 1.0;
      copyv(D, vn, y);
    } else {
      const tn = 0.5 * (1.0 + Math.sqrt(1.0 + 4.0 * tk * tk));
      const beta = (tk - 1.0) / tn;
      for (let r = 0; r < D; r++) {
        const vv = vn[r];
        y[r] = vv + beta * (vv - v[r]);
      }
      tk = tn;
    }
    copyv(D, vn, v);
  }
}

const MAX_SECULAR = 100;

/**
 * Exact minimiser of the model gᵀ(v-θ) + ½(v-θ)ᵀH(v-θ) over ‖v_θ‖ ≤ W, H positive definite, when
 * the Newton point (in v on entry) lies outside the ball (see the AS source). b, w: scratch (D).
 * Returns false if a factorisation fails (the caller falls back to FISTA).
 */
function ballNewton(P: Problem, theta: Float64Array, g: Float64Array, H: Float64Array, L: Float64Array, v: Float64Array, bv: Float64Array, w: Float64Array): boolean {
  const D = P.D;
  const d = P.d;
  const W = P.radius;
  for (let r = 0; r < D; r++) {
    let s = 0.0;
    for (let c = 0; c < D; c++) s += H[r * D + c] * theta[c];
    bv[r] = s - g[r];
  }
  let hmax = 0.0;
  for (let j = 0; j < D; j++) if (H[j * D + j] > hmax) hmax = H[j * D + j];
  let lo = 0.0;
  let hi = Infinity;
  let mu = 0.0;
  let nv = normv(d, v);
  for (let it = 0; it < MAX_SECULAR; it++) {
    if (it > 0) {
      if (!cholesky(D, H, L, mu, d)) return false;
      cholSolve(D, L, bv, v);
      nv = normv(d, v);
    }
    if (Math.abs(nv - W) <= 1e-13 * W) break;
    if (nv > W) lo = mu;
    else hi = mu;
    if (hi < Infinity && hi - lo <= 1e-15 * hi) break;
    // Newton on the secular equation 1/‖Ev‖ - 1/W = 0: its derivative is ‖w‖²/‖Ev‖³, L w = E v
    for (let i = 0; i < D; i++) {
      let s = i < d ? v[i] : 0.0;
      for (let k = 0; k < i; k++) s -= L[i * D + k] * w[k];
      w[i] = s / L[i * D + i];
    }
    let next = mu + ((nv - W) / W) * ((nv * nv) / dotv(D, w, w));
    if (!(next > lo && next < hi)) next = hi < Infinity ? 0.5 * (lo + hi) : 2.0 * lo + 1e-8 * hmax;
    mu = next;
  }
  if (nv > W) {
    const f = W / nv;
    for (let i = 0; i < d; i++) v[i] = v[i] * f;
  }
  return true;
}

function* fitLogScaleOnly(P: Problem, theta: Float64Array, g: Float64Array, H: Float64Array, tr: Float64Array, tol: number): LikelihoodSteps<void> {
  const d = P.d;
  const D = P.D;
  for (let it = 0; it < 100; it++) {
    const f = yield* smoothPart(P, theta, g, H);
    const gs = g[d];
    const hs = H[d * D + d];
    if (Math.abs(gs) <= 0.1 * tol) return;
    const step = hs > 0.0 ? -gs / hs : -gs;
    copyv(D, theta, tr);
    let alpha = 1.0;
    let ok = false;
    for (let ls = 0; ls < 60; ls++) {
      tr[d] = theta[d] + alpha * step;
      if ((yield* smoothPart(P, tr, null, null)) <= f + 1e-4 * alpha * step * gs) {
        ok = true;
        break;
      }
      alpha *= 0.5;
    }
    if (!ok) return;
    theta[d] = tr[d];
  }
}

let predNoise = 0.0;

/** gᵀ(v - θ) + h(v) - h(θ), with its rounding bound in predNoise (see the AS source). */
function predictedDecrease(P: Problem, theta: Float64Array, g: Float64Array, v: Float64Array): number {
  let pred = 0.0;
  let mag = 0.0;
  for (let i = 0; i < P.D; i++) {
    const gi = g[i];
    const th = theta[i];
    const vi = v[i];
    pred += gi * (vi - th);
    mag += Math.abs(gi) * (Math.abs(vi) + Math.abs(th));
  }
  const hv = nonSmooth(P, v);
  const ht = nonSmooth(P, theta);
  predNoise = 1e-15 * (mag + Math.abs(hv) + Math.abs(ht));
  return pred + (hv - ht);
}

/** Smallest Armijo step tried (2⁻⁴⁰ ≈ 9e-13); below it the line search has failed. */
const MIN_STEP = 1e-12;
/** Consecutive stalled steps that stop the iteration (see the AS source). */
const STALL_STEPS = 3;
/** Rounding-level floor of ‖G‖, relative to Lm·‖θ‖ + ‖g‖ (see the AS source). */
const FLOOR_REL = 1e-13;

function stationarityFloor(D: number, theta: Float64Array, g: Float64Array, Lm: number): number {
  return FLOOR_REL * (Lm * normv(D, theta) + normv(D, g));
}

export function newtonWorkSize(d: number): number {
  const D = d + 1;
  return 2 * D * D + 8 * D;
}

/** A Newton problem without its rows (the rows are behind the likelihood requests). */
export interface NewtonSpec {
  d: number;
  /** 1: the parameter vector is [θ, log σ] (D = d + 1) */
  estimateScale: number;
  normaliser: number;
  penaltyKind: number;
  center: Float64Array | null;
  lambda: number;
  precision: Float64Array | null;
  radius: number;
  maxIter: number;
  tol: number;
}

/** Proximal / projected Newton (see assembly/solvers.ts). theta: start in, solution out; info[4]. */
export function projectedNewton(
  n: number, d: number, x: Float64Array, won: Float64Array, price: Float64Array, comp: Float64Array,
  weight: Float64Array | null, family: number, scale: number, convention: number, estimateScale: number,
  normaliser: number, penaltyKind: number, center: Float64Array | null, lambda: number,
  precision: Float64Array | null, radius: number, maxIter: number, tol: number,
  theta: Float64Array, work: Float64Array, info: Float64Array,
): void {
  const spec: NewtonSpec = { d, estimateScale, normaliser, penaltyKind, center, lambda, precision, radius, maxIter, tol };
  runSteps(newtonSteps(spec, theta, work, info), (q) =>
    censoredLogLikelihood(n, d, x, won, price, comp, weight, q.theta, family, scale, convention, estimateScale !== 0 ? 1 : 0, q.g, q.H));
}

/**
 * The Newton loop of projectedNewton as a generator of likelihood requests (theta: start in,
 * solution out; work: newtonWorkSize(d) doubles; info[4] as in the AS source).
 */
export function* newtonSteps(spec: NewtonSpec, theta: Float64Array, work: Float64Array, info: Float64Array): LikelihoodSteps<void> {
  const { d, estimateScale, normaliser, penaltyKind, center, lambda, precision, radius, maxIter, tol } = spec;
  const est = estimateScale !== 0 ? 1 : 0;
  const D = d + est;
  const P: Problem = {
    d, D, est, invN: 1.0 / normaliser, kind: penaltyKind, center, lambda, prec: precision, radius,
  };
  let o = 0;
  const take = (len: number): Float64Array => {
    const v = work.subarray(o, o + len);
    o += len;
    return v;
  };
  const g = take(D);
  const H = take(D * D);
  const L = take(D * D);
  const v = take(D);
  const vn = take(D);
  const y = take(D);
  const m = take(D);
  const a = take(D);
  const b = take(D);
  const tr = take(D);

  proxL2Ball(d, theta, null, 0.0, radius, a);
  copyv(d, a, theta);

  let iters = 0;
  let gnorm = Infinity;
  let converged = false;
  let F = 0.0;

  if (penaltyKind === 1 && normv(d, center as Float64Array) <= radius) {
    copyv(d, center as Float64Array, tr);
    if (est !== 0) {
      tr[d] = theta[d];
      yield* fitLogScaleOnly(P, tr, g, H, v, tol);
    }
    yield* smoothPart(P, tr, g, null);
    if (normv(d, g) <= lambda) {
      copyv(D, tr, theta);
      F = (yield* smoothPart(P, theta, g, H)) + nonSmooth(P, theta);
      makePD(D, H, L);
      gnorm = gradMapNorm(P, theta, g, 1.0 / lambdaMax(D, H, a, b), a, b);
      info[0] = 0.0;
      info[1] = gnorm;
      info[2] = gnorm < tol ? 1.0 : 0.0;
      info[3] = F;
      return;
    }
  }

  let bestG = Infinity;
  let stalls = 0;
  let flat = false;
  for (;;) {
    const fs = yield* smoothPart(P, theta, g, H);
    F = fs + nonSmooth(P, theta);
    makePD(D, H, L);
    const Lm = lambdaMax(D, H, a, b);
    gnorm = gradMapNorm(P, theta, g, 1.0 / Lm, a, b);
    const floor = stationarityFloor(D, theta, g, Lm);
    if (gnorm < tol) {
      converged = true;
      break;
    }
    // stalled: STALL_STEPS steps in a row lowered J by no more than its rounding without taking
    // ‖G‖ 10% below its best value
    stalls = flat && !(gnorm < 0.9 * bestG) ? stalls + 1 : 0;
    if (gnorm < bestG) bestG = gnorm;
    if (stalls >= STALL_STEPS) {
      converged = gnorm <= floor;
      break;
    }
    if (iters >= maxIter) break;
    cholSolve(D, L, g, m);
    for (let i = 0; i < D; i++) v[i] = theta[i] - m[i];
    let innerTol = (gnorm < 0.1 ? gnorm : 0.1) * gnorm;
    if (innerTol < 0.01 * tol) innerTol = 0.01 * tol;
    if (penaltyKind === 1) fista(P, theta, g, H, Lm, innerTol, v, vn, y, m, a);
    else if (normv(d, v) > radius && !ballNewton(P, theta, g, H, L, v, y, m)) fista(P, theta, g, H, Lm, innerTol, v, vn, y, m, a);
    let pred = predictedDecrease(P, theta, g, v);
    if (!(pred < predNoise)) {
      copyv(D, b, v);
      pred = predictedDecrease(P, theta, g, v);
      if (!(pred < predNoise)) {
        converged = gnorm <= floor;
        break;
      }
    }
    // Armijo with an allowance for rounding in J: near the optimum the predicted decrease falls
    // below the rounding error of the sum over rows, where the plain test would reject every step
    const slack = 1e-13 * (1.0 + Math.abs(F));
    let alpha = 1.0;
    let accepted = false;
    let Ft = F;
    while (alpha >= MIN_STEP) {
      for (let i = 0; i < D; i++) {
        const th = theta[i];
        tr[i] = th + alpha * (v[i] - th);
      }
      Ft = yield* objective(P, tr);
      if (Ft <= F + 1e-4 * alpha * pred + slack) {
        accepted = true;
        break;
      }
      alpha *= 0.5;
    }
    if (!accepted) {
      converged = gnorm <= floor;
      break;
    }
    flat = !(Ft < F - slack);
    copyv(D, tr, theta);
    iters++;
  }
  info[0] = iters;
  info[1] = gnorm;
  info[2] = converged ? 1.0 : 0.0;
  info[3] = F;
}

export function sgdWorkSize(d: number): number {
  return d * d + 6 * d;
}

/** Projected AdaGrad SGD with suffix averaging (see assembly/solvers.ts). */
export function projectedSgd(
  n: number, d: number, x: Float64Array, won: Float64Array, price: Float64Array, comp: Float64Array,
  weight: Float64Array | null, family: number, scale: number, convention: number, normaliser: number,
  penaltyKind: number, center: Float64Array | null, lambda: number, precision: Float64Array | null,
  radius: number, epochs: number, eta: number, seed: number, tol: number,
  theta: Float64Array, work: Float64Array, info: Float64Array,
): void {
  const P: Problem = {
    d, D: d, est: 0, invN: 1.0 / normaliser, kind: penaltyKind, center, lambda, prec: precision, radius,
  };
  let o = 0;
  const take = (len: number): Float64Array => {
    const v = work.subarray(o, o + len);
    o += len;
    return v;
  };
  const acc = take(d);
  const avg = take(d);
  const sg = take(d);
  const g = take(d);
  const a = take(d);
  const b = take(d);
  const H = take(d * d);

  proxL2Ball(d, theta, null, 0.0, radius, a);
  copyv(d, a, theta);
  for (let j = 0; j < d; j++) {
    acc[j] = 0.0;
    avg[j] = theta[j];
  }
  const inv = 1.0 / scale;
  const lostTerm = convention === 0 ? 1 : 2;
  const nScale = n * P.invN;
  const steps = epochs * n;
  const burn = Math.floor(steps / 2);
  let state = seed | 0;
  let m = 0.0;
  for (let k = 0; k < steps; k++) {
    // mulberry32 (32-bit, Math.imul / >>> 0 mirror the u32 ops of the AS source)
    state = (state + 0x6d2b79f5) | 0;
    let r = state;
    r = Math.imul(r ^ (r >>> 15), r | 1);
    r ^= r + Math.imul(r ^ (r >>> 7), r | 61);
    const ru = (r ^ (r >>> 14)) >>> 0;
    const i = Math.floor(ru * 2.3283064365386963e-10 * n);
    const row = i * d;
    let u = 0.0;
    for (let j = 0; j < d; j++) u += x[row + j] * theta[j];
    const wt = weight !== null ? weight[i] : 1.0;
    let z: number;
    if (won[i] !== 0.0) {
      z = (comp[i] - u) * inv;
      censoredTerm(family, 0, z);
    } else {
      z = (price[i] - u) * inv;
      censoredTerm(family, lostTerm, z);
    }
    const coef = nScale * wt * lastTermG1() * inv;
    for (let j = 0; j < d; j++) sg[j] = coef * x[row + j];
    if (penaltyKind === 1) {
      const c = center as Float64Array;
      const dist = distv(d, theta, c);
      if (dist > 0.0) {
        const f = lambda / dist;
        for (let j = 0; j < d; j++) sg[j] = sg[j] + f * (theta[j] - c[j]);
      }
    } else if (penaltyKind === 2) {
      const c = center as Float64Array;
      const prec = precision as Float64Array;
      for (let p = 0; p < d; p++) {
        let pa = 0.0;
        for (let q = 0; q < d; q++) pa += prec[p * d + q] * (theta[q] - c[q]);
        sg[p] = sg[p] + pa;
      }
    }
    let nt = 0.0;
    for (let j = 0; j < d; j++) {
      const gj = sg[j];
      const aj = acc[j] + gj * gj;
      acc[j] = aj;
      const th = theta[j] - eta * gj / (Math.sqrt(aj) + 1e-12);
      theta[j] = th;
      nt += th * th;
    }
    nt = Math.sqrt(nt);
    if (nt > radius) {
      const f = radius / nt;
      for (let j = 0; j < d; j++) theta[j] = theta[j] * f;
    }
    if (k >= burn) {
      m += 1.0;
      const im = 1.0 / m;
      for (let j = 0; j < d; j++) {
        const av = avg[j];
        avg[j] = av + (theta[j] - av) * im;
      }
    }
  }
  copyv(d, avg, theta);
  const fs = runSteps(smoothPart(P, theta, g, H), (q) =>
    censoredLogLikelihood(n, d, x, won, price, comp, weight, q.theta, family, scale, convention, 0, q.g, q.H));
  const F = fs + nonSmooth(P, theta);
  const gnorm = gradMapNorm(P, theta, g, 1.0 / lambdaMax(d, H, a, b), a, b);
  info[0] = steps;
  info[1] = gnorm;
  info[2] = gnorm < tol ? 1.0 : 0.0;
  info[3] = F;
}
