// Solvers for the censored maximum-likelihood problems of docs/math.md §1.8 and §5.3:
//
//   J(θ) = -(1/N)·Σ_t w_t ℓ_t(θ) + penalty(θ)   subject to ‖θ‖ ≤ W           (docs/math.md §1.4, §1.6)
//
// N is the normaliser passed in (total weight for a mean, 1 for a sum). Penalty kind 0: none;
// 1: λ‖θ - θ0‖₂ (plain norm, NOT squared: TSMT stage II, docs/math.md §1.8); 2: ½(θ-θ0)ᵀP(θ-θ0), P a
// d×d precision (Gaussian prior, docs/math.md §5.3). With estimateScale the parameter vector is
// [θ, log σ]: the ball and the penalty act on θ only and log σ is free.
//
// Every vector here has at most D = d + 1 ≤ ~65 entries, so the linear algebra is plain scalar
// loops (the likelihood pass, n·D², dominates). The TS twin (src/core/twin/solvers.ts) repeats the
// same operations in the same order.
import { censoredLogLikelihood, censoredTerm, lastTermG1 } from "./likelihood";

export { censoredLogLikelihood } from "./likelihood";

// @ts-ignore: decorator
@inline function ld(p: usize, i: i32): f64 {
  return load<f64>(p + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline function st(p: usize, i: i32, v: f64): void {
  store<f64>(p + (<usize>i << 3), v);
}

function dotv(m: i32, a: usize, b: usize): f64 {
  let s: f64 = 0.0;
  for (let i = 0; i < m; i++) s += ld(a, i) * ld(b, i);
  return s;
}

function normv(m: i32, a: usize): f64 {
  return Math.sqrt(dotv(m, a, a));
}

/** ‖a - b‖ */
function distv(m: i32, a: usize, b: usize): f64 {
  let s: f64 = 0.0;
  for (let i = 0; i < m; i++) {
    const r = ld(a, i) - ld(b, i);
    s += r * r;
  }
  return Math.sqrt(s);
}

function copyv(m: i32, src: usize, dst: usize): void {
  for (let i = 0; i < m; i++) st(dst, i, ld(src, i));
}

// ------------------------------------------------------------------------------------------------
// Prox of t·λ‖v - c‖ plus the indicator of the ball ‖v‖ ≤ W (docs/math.md §1.6, §1.8).

/** v(μ) = c + max(0, 1 - tl/‖y - (1+μ)c‖)·(y/(1+μ) - c) into out; returns ‖v(μ)‖. */
function proxShifted(dim: i32, y: usize, c: usize, tl: f64, mu: f64, out: usize): f64 {
  const k = 1.0 + mu;
  let s: f64 = 0.0;
  for (let i = 0; i < dim; i++) {
    const r = ld(y, i) - k * ld(c, i);
    s += r * r;
  }
  const r = Math.sqrt(s);
  const f = r > tl ? 1.0 - tl / r : 0.0;
  let nv: f64 = 0.0;
  for (let i = 0; i < dim; i++) {
    const ci = ld(c, i);
    const v = ci + f * (ld(y, i) / k - ci);
    st(out, i, v);
    nv += v * v;
  }
  return Math.sqrt(nv);
}

/**
 * Exact prox of h(v) = tl·‖v - c‖ + ι{‖v‖ ≤ W} at y, into out (out must not alias y or c).
 * centerPtr = 0 or tl = 0: plain projection Π_W (docs/math.md §1.6).
 *
 * Method (exact, not Dykstra): the minimiser of ½‖v-y‖² + tl‖v-c‖ is the block soft-threshold
 * around c (docs/math.md §1.8). If it lies in the ball it is the answer. Otherwise the ball is active,
 * and by KKT v = v(μ) for the multiplier μ > 0 of ½μ‖v‖²: completing the square,
 * v(μ) = c + max(0, 1 - tl/‖y - (1+μ)c‖)·(y/(1+μ) - c). ‖v(μ)‖ is continuous and non-increasing
 * in μ and tends to 0, so μ is found by doubling and bisection to full precision; the result is
 * taken from the feasible end of the bracket and finally scaled into the ball against rounding.
 */
export function proxL2Ball(dim: i32, yPtr: usize, centerPtr: usize, tl: f64, radius: f64, outPtr: usize): void {
  if (centerPtr == 0 || !(tl > 0.0)) {
    const ny = normv(dim, yPtr);
    const f = ny > radius ? radius / ny : 1.0;
    for (let i = 0; i < dim; i++) st(outPtr, i, ld(yPtr, i) * f);
    return;
  }
  if (!(radius > 0.0)) {
    for (let i = 0; i < dim; i++) st(outPtr, i, 0.0);
    return;
  }
  if (proxShifted(dim, yPtr, centerPtr, tl, 0.0, outPtr) <= radius) return;
  let lo: f64 = 0.0;
  let hi: f64 = 1.0;
  let it = 0;
  while (proxShifted(dim, yPtr, centerPtr, tl, hi, outPtr) > radius && it < 2100) {
    lo = hi;
    hi *= 2.0;
    it++;
  }
  for (let k = 0; k < 200; k++) {
    const mid = 0.5 * (lo + hi);
    if (!(mid > lo && mid < hi)) break;
    if (proxShifted(dim, yPtr, centerPtr, tl, mid, outPtr) > radius) lo = mid;
    else hi = mid;
  }
  const nv = proxShifted(dim, yPtr, centerPtr, tl, hi, outPtr);
  if (nv > radius) {
    const f = radius / nv;
    for (let i = 0; i < dim; i++) st(outPtr, i, ld(outPtr, i) * f);
  }
}

// ------------------------------------------------------------------------------------------------
// Problem description, set once per solver call (per-instance globals; the kernels are not
// re-entrant, which is fine: one instance per thread).

let Pn: i32 = 0;
let Pd: i32 = 0;
let PD: i32 = 0;
let Px: usize = 0;
let Pwon: usize = 0;
let Pprice: usize = 0;
let Pcomp: usize = 0;
let Pweight: usize = 0;
let Pfamily: i32 = 0;
let Pscale: f64 = 1.0;
let Pconv: i32 = 0;
let Pest: i32 = 0;
let PinvN: f64 = 1.0;
let Pkind: i32 = 0;
let Pcenter: usize = 0;
let Plambda: f64 = 0.0;
let Pprec: usize = 0;
let Pradius: f64 = Infinity;

function setProblem(
  n: i32, d: i32, xPtr: usize, wonPtr: usize, pricePtr: usize, compPtr: usize, weightPtr: usize,
  family: i32, scale: f64, convention: i32, estimateScale: i32, normaliser: f64,
  penaltyKind: i32, centerPtr: usize, lambda: f64, precisionPtr: usize, radius: f64,
): void {
  Pn = n;
  Pd = d;
  Pest = estimateScale != 0 ? 1 : 0;
  PD = d + Pest;
  Px = xPtr;
  Pwon = wonPtr;
  Pprice = pricePtr;
  Pcomp = compPtr;
  Pweight = weightPtr;
  Pfamily = family;
  Pscale = scale;
  Pconv = convention;
  PinvN = 1.0 / normaliser;
  Pkind = penaltyKind;
  Pcenter = centerPtr;
  Plambda = lambda;
  Pprec = precisionPtr;
  Pradius = radius;
}

/**
 * Smooth part of J at θ: -(1/N)Σ w ℓ + [quadratic penalty]. gPtr (D) and hPtr (D×D) receive its
 * gradient and Hessian (skipped when 0).
 */
function smoothPart(thetaPtr: usize, gPtr: usize, hPtr: usize): f64 {
  return finishSmooth(thetaPtr, gPtr, hPtr, censoredLogLikelihood(
    Pn, Pd, Px, Pwon, Pprice, Pcomp, Pweight, thetaPtr, Pfamily, Pscale, Pconv, Pest, gPtr, hPtr,
  ));
}

/**
 * The smooth part from a likelihood pass: `value` = Σ w ℓ at θ, with its gradient and Hessian
 * already in gPtr / hPtr (skipped when 0), scaled by -1/N in place, plus the quadratic penalty.
 */
function finishSmooth(thetaPtr: usize, gPtr: usize, hPtr: usize, value: f64): f64 {
  const D = PD;
  const d = Pd;
  let f = -PinvN * value;
  const s = -PinvN;
  if (gPtr != 0) for (let i = 0; i < D; i++) st(gPtr, i, s * ld(gPtr, i));
  if (hPtr != 0) for (let i = 0; i < D * D; i++) st(hPtr, i, s * ld(hPtr, i));
  if (Pkind == 2) {
    // ½(θ-θ0)ᵀP(θ-θ0), gradient P(θ-θ0), Hessian P (docs/math.md §5.3)
    let quad: f64 = 0.0;
    for (let a = 0; a < d; a++) {
      let pa: f64 = 0.0;
      for (let b = 0; b < d; b++) pa += ld(Pprec, a * d + b) * (ld(thetaPtr, b) - ld(Pcenter, b));
      quad += (ld(thetaPtr, a) - ld(Pcenter, a)) * pa;
      if (gPtr != 0) st(gPtr, a, ld(gPtr, a) + pa);
      if (hPtr != 0) for (let b = 0; b < d; b++) st(hPtr, a * D + b, ld(hPtr, a * D + b) + ld(Pprec, a * d + b));
    }
    f += 0.5 * quad;
  }
  return f;
}

/** Non-smooth penalty λ‖θ - θ0‖ (kind 1), else 0. */
function nonSmooth(thetaPtr: usize): f64 {
  if (Pkind != 1) return 0.0;
  return Plambda * distv(Pd, thetaPtr, Pcenter);
}

function objective(thetaPtr: usize): f64 {
  return smoothPart(thetaPtr, 0, 0) + nonSmooth(thetaPtr);
}

/** prox_{t·h} on the θ-block (h = λ‖·-θ0‖ for kind 1, + ball); log σ passes through. */
function proxStep(yPtr: usize, t: f64, outPtr: usize): void {
  if (Pkind == 1) proxL2Ball(Pd, yPtr, Pcenter, t * Plambda, Pradius, outPtr);
  else proxL2Ball(Pd, yPtr, 0, 0.0, Pradius, outPtr);
  if (Pest != 0) st(outPtr, Pd, ld(yPtr, Pd));
}

/** Norm of the prox-gradient mapping (θ - prox_t(θ - t·g))/t: zero exactly at stationary points. */
function gradMapNorm(thetaPtr: usize, gPtr: usize, t: f64, aPtr: usize, bPtr: usize): f64 {
  const D = PD;
  for (let i = 0; i < D; i++) st(aPtr, i, ld(thetaPtr, i) - t * ld(gPtr, i));
  proxStep(aPtr, t, bPtr);
  let s: f64 = 0.0;
  for (let i = 0; i < D; i++) {
    const r = (ld(thetaPtr, i) - ld(bPtr, i)) / t;
    s += r * r;
  }
  return Math.sqrt(s);
}

/** y = H x (D×D) */
function matvec(D: i32, hPtr: usize, xPtr: usize, yPtr: usize): void {
  for (let a = 0; a < D; a++) {
    let s: f64 = 0.0;
    for (let b = 0; b < D; b++) s += ld(hPtr, a * D + b) * ld(xPtr, b);
    st(yPtr, a, s);
  }
}

/**
 * Upper estimate of λ_max(H) for a symmetric PSD H: 100 power iterations give ‖Ha‖ (a lower bound
 * that converges to λ_max); 2% headroom, capped by the Gershgorin bound (a true upper bound).
 */
function lambdaMax(D: i32, hPtr: usize, aPtr: usize, bPtr: usize): f64 {
  let s: f64 = 0.0;
  for (let i = 0; i < D; i++) {
    const v = 1.0 + 0.1 * <f64>i;
    st(aPtr, i, v);
    s += v * v;
  }
  s = 1.0 / Math.sqrt(s);
  for (let i = 0; i < D; i++) st(aPtr, i, ld(aPtr, i) * s);
  let nb: f64 = 0.0;
  for (let it = 0; it < 100; it++) {
    matvec(D, hPtr, aPtr, bPtr);
    nb = normv(D, bPtr);
    if (!(nb > 0.0)) break;
    const inv = 1.0 / nb;
    for (let i = 0; i < D; i++) st(aPtr, i, ld(bPtr, i) * inv);
  }
  let gersh: f64 = 0.0;
  for (let a = 0; a < D; a++) {
    let r: f64 = 0.0;
    for (let b = 0; b < D; b++) r += Math.abs(ld(hPtr, a * D + b));
    if (r > gersh) gersh = r;
  }
  let L = 1.02 * nb;
  if (L > gersh) L = gersh;
  if (!(L > 1e-12)) L = 1e-12;
  return L;
}

/**
 * Cholesky factor L (lower, D×D) of A + ridge·I_nr, the ridge added to the first nr diagonal
 * entries (nr = D: all). Fails (returns false) on a pivot that is not above 1e-13 times the
 * largest diagonal entry, so near-singular matrices also get a ridge.
 */
function cholesky(D: i32, aPtr: usize, lPtr: usize, ridge: f64, nr: i32): bool {
  let dmax: f64 = 0.0;
  for (let j = 0; j < D; j++) {
    const v = Math.abs(ld(aPtr, j * D + j));
    if (v > dmax) dmax = v;
  }
  const floor = 1e-13 * (dmax + ridge);
  for (let j = 0; j < D; j++) {
    let s = ld(aPtr, j * D + j) + (j < nr ? ridge : 0.0);
    for (let k = 0; k < j; k++) {
      const l = ld(lPtr, j * D + k);
      s -= l * l;
    }
    if (!(s > floor)) return false;
    const ljj = Math.sqrt(s);
    st(lPtr, j * D + j, ljj);
    for (let i = j + 1; i < D; i++) {
      let r = ld(aPtr, i * D + j);
      for (let k = 0; k < j; k++) r -= ld(lPtr, i * D + k) * ld(lPtr, j * D + k);
      st(lPtr, i * D + j, r / ljj);
    }
    for (let i = 0; i < j; i++) st(lPtr, i * D + j, 0.0);
  }
  return true;
}

/** Solve (L Lᵀ) x = b; x may alias b. */
function cholSolve(D: i32, lPtr: usize, bPtr: usize, xPtr: usize): void {
  for (let i = 0; i < D; i++) {
    let s = ld(bPtr, i);
    for (let k = 0; k < i; k++) s -= ld(lPtr, i * D + k) * ld(xPtr, k);
    st(xPtr, i, s / ld(lPtr, i * D + i));
  }
  for (let i = D - 1; i >= 0; i--) {
    let s = ld(xPtr, i);
    for (let k = i + 1; k < D; k++) s -= ld(lPtr, k * D + i) * ld(xPtr, k);
    st(xPtr, i, s / ld(lPtr, i * D + i));
  }
}

/**
 * Make H positive definite in place: factor it, and if that fails add a ridge
 * τ = 1e-10·max(1, max|H_ii|), growing ×10, to the diagonal of H until it factors.
 */
function makePD(D: i32, hPtr: usize, lPtr: usize): void {
  if (cholesky(D, hPtr, lPtr, 0.0, D)) return;
  let dmax: f64 = 1.0;
  for (let j = 0; j < D; j++) {
    const v = Math.abs(ld(hPtr, j * D + j));
    if (v > dmax) dmax = v;
  }
  let tau = 1e-10 * dmax;
  for (let k = 0; k < 40; k++) {
    if (cholesky(D, hPtr, lPtr, tau, D)) break;
    tau *= 10.0;
  }
  for (let j = 0; j < D; j++) st(hPtr, j * D + j, ld(hPtr, j * D + j) + tau);
}

const MAX_INNER: i32 = 50000;

/**
 * FISTA (with gradient-based adaptive restart, O'Donoghue & Candès 2015) on the proximal Newton
 * subproblem min_v gᵀ(v-θ) + ½(v-θ)ᵀH(v-θ) + h(v), step 1/Lm, Lm ≥ λ_max(H). Starts at θ; stops
 * when Lm·‖y - v⁺‖ ≤ innerTol. Result in vPtr.
 */
function fista(
  thetaPtr: usize, gPtr: usize, hPtr: usize, Lm: f64, innerTol: f64,
  vPtr: usize, vnPtr: usize, yPtr: usize, mPtr: usize, aPtr: usize,
): void {
  const D = PD;
  const t = 1.0 / Lm;
  copyv(D, thetaPtr, vPtr);
  copyv(D, thetaPtr, yPtr);
  let tk: f64 = 1.0;
  for (let it = 0; it < MAX_INNER; it++) {
    // model gradient at y: g + H(y - θ)
    for (let a = 0; a < D; a++) {
      let s = ld(gPtr, a);
      for (let b = 0; b < D; b++) s += ld(hPtr, a * D + b) * (ld(yPtr, b) - ld(thetaPtr, b));
      st(mPtr, a, s);
    }
    for (let a = 0; a < D; a++) st(aPtr, a, ld(yPtr, a) - t * ld(mPtr, a));
    proxStep(aPtr, t, vnPtr);
    const res = Lm * distv(D, yPtr, vnPtr);
    if (res <= innerTol) {
      copyv(D, vnPtr, vPtr);
      return;
    }
    // restart when the step goes against the momentum: (y - v⁺)ᵀ(v⁺ - v) > 0
    let dir: f64 = 0.0;
    for (let a = 0; a < D; a++) dir += (ld(yPtr, a) - ld(vnPtr, a)) * (ld(vnPtr, a) - ld(vPtr, a));
    if (dir > 0.0) {
      tk = 1.0;
      copyv(D, vnPtr, yPtr);
    } else {
      const tn = 0.5 * (1.0 + Math.sqrt(1.0 + 4.0 * tk * tk));
      const beta = (tk - 1.0) / tn;
      for (let a = 0; a < D; a++) {
        const vn = ld(vnPtr, a);
        st(yPtr, a, vn + beta * (vn - ld(vPtr, a)));
      }
      tk = tn;
    }
    copyv(D, vnPtr, vPtr);
  }
}

const MAX_SECULAR: i32 = 100;

/**
 * Exact minimiser of the quadratic model gᵀ(v-θ) + ½(v-θ)ᵀH(v-θ) over the ball ‖v_θ‖ ≤ W (no
 * λ-penalty; H positive definite after makePD), called when the Newton point, in vPtr on entry
 * with the factor of H in lPtr, lies outside the ball (docs/math.md §1.6). By KKT
 * v(μ) = (H + μE)⁻¹(Hθ - g), E = diag(1 on the θ-block, 0 on log σ), with μ > 0 the root of
 * ‖E v(μ)‖ = W; ‖E v(μ)‖ decreases in μ. The root is found by Newton on the secular equation
 * 1/‖Ev‖ - 1/W = 0 (Moré & Sorensen 1983; derivative ‖w‖²/‖Ev‖³ with L w = E v), safeguarded by a
 * bracket (bisection, or doubling while no upper end is known), to |‖Ev‖ - W| ≤ 1e-13·W; the
 * θ-block is finally scaled into the ball against rounding. One Cholesky factorisation per step
 * instead of thousands of FISTA steps when H is ill-conditioned (fewer rows than coefficients).
 * bPtr, wPtr: scratch (D). Returns false if a factorisation fails (the caller falls back to FISTA).
 */
function ballNewton(thetaPtr: usize, gPtr: usize, hPtr: usize, lPtr: usize, vPtr: usize, bPtr: usize, wPtr: usize): bool {
  const D = PD;
  const d = Pd;
  const W = Pradius;
  for (let r = 0; r < D; r++) {
    let s: f64 = 0.0;
    for (let c = 0; c < D; c++) s += ld(hPtr, r * D + c) * ld(thetaPtr, c);
    st(bPtr, r, s - ld(gPtr, r));
  }
  let hmax: f64 = 0.0;
  for (let j = 0; j < D; j++) if (ld(hPtr, j * D + j) > hmax) hmax = ld(hPtr, j * D + j);
  let lo: f64 = 0.0;
  let hi: f64 = Infinity;
  let mu: f64 = 0.0;
  let nv = normv(d, vPtr);
  for (let it = 0; it < MAX_SECULAR; it++) {
    if (it > 0) {
      if (!cholesky(D, hPtr, lPtr, mu, d)) return false;
      cholSolve(D, lPtr, bPtr, vPtr);
      nv = normv(d, vPtr);
    }
    if (Math.abs(nv - W) <= 1e-13 * W) break;
    if (nv > W) lo = mu;
    else hi = mu;
    if (hi < Infinity && hi - lo <= 1e-15 * hi) break;
    // Newton on the secular equation 1/‖Ev‖ - 1/W = 0: its derivative is ‖w‖²/‖Ev‖³, L w = E v
    for (let i = 0; i < D; i++) {
      let s: f64 = i < d ? ld(vPtr, i) : 0.0;
      for (let k = 0; k < i; k++) s -= ld(lPtr, i * D + k) * ld(wPtr, k);
      st(wPtr, i, s / ld(lPtr, i * D + i));
    }
    let next = mu + ((nv - W) / W) * ((nv * nv) / dotv(D, wPtr, wPtr));
    if (!(next > lo && next < hi)) next = hi < Infinity ? 0.5 * (lo + hi) : 2.0 * lo + 1e-8 * hmax;
    mu = next;
  }
  if (nv > W) {
    const f = W / nv;
    for (let i = 0; i < d; i++) st(vPtr, i, ld(vPtr, i) * f);
  }
  return true;
}


// Rounding error bound of the last predictedDecrease: gᵀΔ is a difference of products of size
// |g|·|θ|, so on the sphere with a large multiplier its sign is noise below this bound.
let predNoise: f64 = 0.0;

/** gᵀ(v - θ) + h(v) - h(θ): the first-order decrease of J along v - θ (docs/math.md §1.8 prox step). */
function predictedDecrease(thetaPtr: usize, gPtr: usize, vPtr: usize): f64 {
  let pred: f64 = 0.0;
  let mag: f64 = 0.0;
  for (let i = 0; i < PD; i++) {
    const g = ld(gPtr, i);
    const th = ld(thetaPtr, i);
    const v = ld(vPtr, i);
    pred += g * (v - th);
    mag += Math.abs(g) * (Math.abs(v) + Math.abs(th));
  }
  const hv = nonSmooth(vPtr);
  const ht = nonSmooth(thetaPtr);
  predNoise = 1e-15 * (mag + Math.abs(hv) + Math.abs(ht));
  return pred + (hv - ht);
}

/** Smallest Armijo step tried (2⁻⁴⁰ ≈ 9.1e-13); below it the line search has failed. */
const MIN_STEP: f64 = 1e-12;
/**
 * Consecutive stalled steps that stop the iteration: steps that lowered J by no more than the
 * rounding allowance and did not take ‖G‖ 10% below its best value so far. (Three, not one: a
 * linearly converging run, e.g. on a ridged model, still makes progress in ‖G‖ below the
 * resolution of J.)
 */
const STALL_STEPS: i32 = 3;

/**
 * Rounding-level floor of the stationarity measure ‖G‖ = ‖θ - prox_t(θ - t·g)‖/t, t = 1/Lm:
 * FLOOR_REL·(Lm·‖θ‖ + ‖g‖). Forming θ - t·g and dividing the difference by t loses about
 * ε·(Lm·‖θ‖ + ‖g‖) per entry, and g itself carries the rounding of the row sums (each row's
 * residual p - xᵀθ is off by ~ε·|x|·‖θ‖, which moves its gradient term by ~Lm·ε·‖θ‖).
 * FLOOR_REL = 1e-13 (≈ 450 ε) leaves a factor ~2 over the largest stall measured (6e-14, 31
 * coefficients and 30 rows; typical stalls sit at 1e-15 to 1e-14).
 */
const FLOOR_REL: f64 = 1e-13;

function stationarityFloor(thetaPtr: usize, gPtr: usize, Lm: f64): f64 {
  return FLOOR_REL * (Lm * normv(PD, thetaPtr) + normv(PD, gPtr));
}

// ------------------------------------------------------------------------------------------------
// The Newton loop as a resumable state machine. Every likelihood pass it needs is handed back to
// its driver as a request (θ, and where the gradient and Hessian go), so that the same loop runs
// with the pass inside this module (projectedNewton, over one block of rows) or outside it (the
// TS driver src/core/newton.ts: the TSMT stage I of src/model/, serial or summed over row ranges
// on worker threads). Nothing is kept in module globals between calls: the state block at the
// start of the work buffer holds the problem and the loop's variables, so several loops may be
// in flight on one instance.

// doubles of the state block (slots below)
const NEWTON_STATE: i32 = 32;
const S_BIGD: i32 = 0;
const S_D: i32 = 1;
const S_EST: i32 = 2;
const S_INVN: i32 = 3;
const S_KIND: i32 = 4;
const S_CENTER: i32 = 5;
const S_LAMBDA: i32 = 6;
const S_PREC: i32 = 7;
const S_RADIUS: i32 = 8;
const S_MAXITER: i32 = 9;
const S_TOL: i32 = 10;
const S_THETA: i32 = 11;
const S_INFO: i32 = 12;
const S_PHASE: i32 = 13;
const S_REQ_THETA: i32 = 14;
const S_REQ_G: i32 = 15;
const S_REQ_H: i32 = 16;
const S_ITERS: i32 = 17;
const S_GNORM: i32 = 18;
const S_F: i32 = 19;
const S_BESTG: i32 = 20;
const S_STALLS: i32 = 21;
const S_FLAT: i32 = 22;
const S_ALPHA: i32 = 23;
const S_PRED: i32 = 24;
const S_SLACK: i32 = 25;
const S_FLOOR: i32 = 26;
const S_LS_IT: i32 = 27;
const S_LS_F: i32 = 28;
const S_LS_GS: i32 = 29;
const S_LS_STEP: i32 = 30;
const S_LS_K: i32 = 31;

// phases: which pass the pending request is
/** exact-shrinkage check, log σ only: smooth part, gradient and Hessian at (θ0, log σ) */
const PH_LS_EVAL: i32 = 1;
/** exact-shrinkage check, log σ only: a trial point of its line search */
const PH_LS_TRY: i32 = 2;
/** exact-shrinkage check: gradient at the centre */
const PH_SHRINK_GRAD: i32 = 3;
/** exact shrinkage holds: the final pass at the centre */
const PH_SHRINK_FINAL: i32 = 4;
/** main loop: smooth part, gradient and Hessian at θ */
const PH_MAIN_EVAL: i32 = 5;
/** main loop: a trial point of the Armijo search */
const PH_MAIN_LS: i32 = 6;

/** Doubles of work needed by projectedNewton for d features (covers estimateScale, D = d + 1). */
export function newtonWorkSize(d: i32): i32 {
  const D = d + 1;
  return NEWTON_STATE + 2 * D * D + 8 * D;
}

/** The problem globals of the loop whose state block is at s. */
function loadProblem(s: usize): void {
  Pd = <i32>ld(s, S_D);
  Pest = <i32>ld(s, S_EST);
  PD = Pd + Pest;
  PinvN = ld(s, S_INVN);
  Pkind = <i32>ld(s, S_KIND);
  Pcenter = <usize>ld(s, S_CENTER);
  Plambda = ld(s, S_LAMBDA);
  Pprec = <usize>ld(s, S_PREC);
  Pradius = ld(s, S_RADIUS);
}

// the work vectors after the state block: g (D), H (D×D), L (D×D), then v, vn, y, m, a, b, tr (D each)
// @ts-ignore: decorator
@inline function wG(s: usize): usize {
  return s + (<usize>NEWTON_STATE << 3);
}
// @ts-ignore: decorator
@inline function wH(s: usize): usize {
  return wG(s) + (<usize>PD << 3);
}
// @ts-ignore: decorator
@inline function wL(s: usize): usize {
  return wH(s) + (<usize>(PD * PD) << 3);
}
/** k-th D-vector after L: 0 v, 1 vn, 2 y, 3 m, 4 a, 5 b, 6 tr */
// @ts-ignore: decorator
@inline function wVec(s: usize, k: i32): usize {
  return wL(s) + (<usize>(PD * PD + k * PD) << 3);
}

/** Record the pending pass (θ at thetaPtr; gradient into gPtr and Hessian into hPtr unless 0). */
function request(s: usize, phase: i32, thetaPtr: usize, gPtr: usize, hPtr: usize): i32 {
  st(s, S_PHASE, <f64>phase);
  st(s, S_REQ_THETA, <f64>thetaPtr);
  st(s, S_REQ_G, <f64>gPtr);
  st(s, S_REQ_H, <f64>hPtr);
  return 1;
}

/** Where the pending pass reads θ (field 0) and writes its gradient (1) and Hessian (2; 0: not wanted). */
export function newtonRequest(workPtr: usize, field: i32): usize {
  return <usize>ld(workPtr, S_REQ_THETA + field);
}

function finish(s: usize, converged: bool): i32 {
  const info = <usize>ld(s, S_INFO);
  st(info, 0, ld(s, S_ITERS));
  st(info, 1, ld(s, S_GNORM));
  st(info, 2, converged ? 1.0 : 0.0);
  st(info, 3, ld(s, S_F));
  st(s, S_PHASE, 0.0);
  return 0;
}

function mainLoop(s: usize): i32 {
  st(s, S_BESTG, Infinity);
  st(s, S_STALLS, 0.0);
  st(s, S_FLAT, 0.0);
  return request(s, PH_MAIN_EVAL, <usize>ld(s, S_THETA), wG(s), wH(s));
}

function shrinkGradient(s: usize): i32 {
  return request(s, PH_SHRINK_GRAD, wVec(s, 6), wG(s), 0);
}

/**
 * Start the loop of projectedNewton (arguments as there, without the rows): projects the start
 * into the ball and returns 1 with the first pass requested (newtonRequest), or 0 when done.
 */
export function newtonBegin(
  d: i32, estimateScale: i32, normaliser: f64, penaltyKind: i32, centerPtr: usize, lambda: f64,
  precisionPtr: usize, radius: f64, maxIter: i32, tol: f64, thetaPtr: usize, workPtr: usize, infoPtr: usize,
): i32 {
  const s = workPtr;
  const est = estimateScale != 0 ? 1 : 0;
  st(s, S_BIGD, <f64>(d + est));
  st(s, S_D, <f64>d);
  st(s, S_EST, <f64>est);
  st(s, S_INVN, 1.0 / normaliser);
  st(s, S_KIND, <f64>penaltyKind);
  st(s, S_CENTER, <f64>centerPtr);
  st(s, S_LAMBDA, lambda);
  st(s, S_PREC, <f64>precisionPtr);
  st(s, S_RADIUS, radius);
  st(s, S_MAXITER, <f64>maxIter);
  st(s, S_TOL, tol);
  st(s, S_THETA, <f64>thetaPtr);
  st(s, S_INFO, <f64>infoPtr);
  loadProblem(s);
  const aPtr = wVec(s, 4);
  const trPtr = wVec(s, 6);

  // feasible start
  proxL2Ball(d, thetaPtr, 0, 0.0, radius, aPtr);
  copyv(d, aPtr, thetaPtr);

  st(s, S_ITERS, 0.0);
  st(s, S_GNORM, Infinity);
  st(s, S_F, 0.0);

  // exact shrinkage to θ0 (docs/math.md §1.8: subgradient optimality of the non-squared norm)
  if (penaltyKind == 1 && normv(d, centerPtr) <= radius) {
    copyv(d, centerPtr, trPtr);
    if (est != 0) {
      // with θ fixed at the centre, minimise the smooth part over log σ first (safeguarded 1-D
      // Newton with halving, at most 100 steps of at most 60 halvings)
      st(trPtr, d, ld(thetaPtr, d));
      st(s, S_LS_IT, 0.0);
      return request(s, PH_LS_EVAL, trPtr, wG(s), wH(s));
    }
    return shrinkGradient(s);
  }
  return mainLoop(s);
}

/**
 * Continue the loop with the value Σ w ℓ of the pending pass (its gradient and Hessian already
 * written where newtonRequest said): returns 1 with the next pass requested, or 0 when done
 * (theta and info then hold the result, as projectedNewton leaves them).
 */
export function newtonResume(workPtr: usize, value: f64): i32 {
  const s = workPtr;
  loadProblem(s);
  const d = Pd;
  const D = PD;
  const phase = <i32>ld(s, S_PHASE);
  const thetaPtr = <usize>ld(s, S_THETA);
  const tol = ld(s, S_TOL);
  const gPtr = wG(s);
  const hPtr = wH(s);
  const lPtr = wL(s);
  const vPtr = wVec(s, 0);
  const vnPtr = wVec(s, 1);
  const yPtr = wVec(s, 2);
  const mPtr = wVec(s, 3);
  const aPtr = wVec(s, 4);
  const bPtr = wVec(s, 5);
  const trPtr = wVec(s, 6);

  if (phase == PH_LS_EVAL) {
    // log σ only, at tr (θ = centre); its trial points go to v
    const f = finishSmooth(trPtr, gPtr, hPtr, value);
    const gs = ld(gPtr, d);
    const hs = ld(hPtr, d * D + d);
    if (Math.abs(gs) <= 0.1 * tol) return shrinkGradient(s);
    const step = hs > 0.0 ? -gs / hs : -gs;
    copyv(D, trPtr, vPtr);
    const alpha: f64 = 1.0;
    st(s, S_LS_F, f);
    st(s, S_LS_GS, gs);
    st(s, S_LS_STEP, step);
    st(s, S_ALPHA, alpha);
    st(s, S_LS_K, 0.0);
    st(vPtr, d, ld(trPtr, d) + alpha * step);
    return request(s, PH_LS_TRY, vPtr, 0, 0);
  }
  if (phase == PH_LS_TRY) {
    const f = ld(s, S_LS_F);
    const gs = ld(s, S_LS_GS);
    const step = ld(s, S_LS_STEP);
    let alpha = ld(s, S_ALPHA);
    if (finishSmooth(vPtr, 0, 0, value) <= f + 1e-4 * alpha * step * gs) {
      st(trPtr, d, ld(vPtr, d));
      const it = <i32>ld(s, S_LS_IT) + 1;
      st(s, S_LS_IT, <f64>it);
      if (it < 100) return request(s, PH_LS_EVAL, trPtr, gPtr, hPtr);
      return shrinkGradient(s);
    }
    alpha *= 0.5;
    const k = <i32>ld(s, S_LS_K) + 1;
    if (k >= 60) return shrinkGradient(s);
    st(s, S_ALPHA, alpha);
    st(s, S_LS_K, <f64>k);
    st(vPtr, d, ld(trPtr, d) + alpha * step);
    return request(s, PH_LS_TRY, vPtr, 0, 0);
  }
  if (phase == PH_SHRINK_GRAD) {
    finishSmooth(trPtr, gPtr, 0, value);
    if (normv(d, gPtr) <= Plambda) {
      copyv(D, trPtr, thetaPtr);
      return request(s, PH_SHRINK_FINAL, thetaPtr, gPtr, hPtr);
    }
    return mainLoop(s);
  }
  if (phase == PH_SHRINK_FINAL) {
    const F = finishSmooth(thetaPtr, gPtr, hPtr, value) + nonSmooth(thetaPtr);
    makePD(D, hPtr, lPtr);
    const gnorm = gradMapNorm(thetaPtr, gPtr, 1.0 / lambdaMax(D, hPtr, aPtr, bPtr), aPtr, bPtr);
    st(s, S_F, F);
    st(s, S_GNORM, gnorm);
    return finish(s, gnorm < tol);
  }
  if (phase == PH_MAIN_EVAL) {
    const fs = finishSmooth(thetaPtr, gPtr, hPtr, value);
    const F = fs + nonSmooth(thetaPtr);
    makePD(D, hPtr, lPtr);
    const Lm = lambdaMax(D, hPtr, aPtr, bPtr);
    const gnorm = gradMapNorm(thetaPtr, gPtr, 1.0 / Lm, aPtr, bPtr);
    const floor = stationarityFloor(thetaPtr, gPtr, Lm);
    st(s, S_F, F);
    st(s, S_GNORM, gnorm);
    if (gnorm < tol) return finish(s, true);
    // stalled: STALL_STEPS steps in a row lowered J by no more than its rounding without taking
    // ‖G‖ 10% below its best value
    const flat = ld(s, S_FLAT) != 0.0;
    let bestG = ld(s, S_BESTG);
    const stalls = flat && !(gnorm < 0.9 * bestG) ? <i32>ld(s, S_STALLS) + 1 : 0;
    if (gnorm < bestG) bestG = gnorm;
    st(s, S_STALLS, <f64>stalls);
    st(s, S_BESTG, bestG);
    if (stalls >= STALL_STEPS) return finish(s, gnorm <= floor);
    if (<i32>ld(s, S_ITERS) >= <i32>ld(s, S_MAXITER)) return finish(s, false);
    // Newton target, kept when feasible and unpenalised by λ
    cholSolve(D, lPtr, gPtr, mPtr);
    for (let i = 0; i < D; i++) st(vPtr, i, ld(thetaPtr, i) - ld(mPtr, i));
    let innerTol = (gnorm < 0.1 ? gnorm : 0.1) * gnorm;
    if (innerTol < 0.01 * tol) innerTol = 0.01 * tol;
    if (Pkind == 1) fista(thetaPtr, gPtr, hPtr, Lm, innerTol, vPtr, vnPtr, yPtr, mPtr, aPtr);
    else if (normv(d, vPtr) > Pradius && !ballNewton(thetaPtr, gPtr, hPtr, lPtr, vPtr, yPtr, mPtr)) {
      fista(thetaPtr, gPtr, hPtr, Lm, innerTol, vPtr, vnPtr, yPtr, mPtr, aPtr);
    }
    // Armijo on θ + α(v - θ)
    let pred = predictedDecrease(thetaPtr, gPtr, vPtr);
    if (!(pred < predNoise)) {
      // the inexact model step is no descent direction at this precision (it happens on the
      // sphere with a large multiplier): fall back to the proximal-gradient point prox_t(θ - t·g)
      // left in b by gradMapNorm, for which gᵀΔ + h(v) - h(θ) <= -‖Δ‖²/t < 0
      copyv(D, bPtr, vPtr);
      pred = predictedDecrease(thetaPtr, gPtr, vPtr);
      if (!(pred < predNoise)) return finish(s, gnorm <= floor);
    }
    // Armijo with an allowance for rounding in J: near the optimum the predicted decrease falls
    // below the rounding error of the sum over rows, where the plain test would reject every step
    const slack = 1e-13 * (1.0 + Math.abs(F));
    const alpha: f64 = 1.0;
    st(s, S_PRED, pred);
    st(s, S_SLACK, slack);
    st(s, S_FLOOR, floor);
    st(s, S_ALPHA, alpha);
    trialPoint(D, thetaPtr, vPtr, alpha, trPtr);
    return request(s, PH_MAIN_LS, trPtr, 0, 0);
  }
  // PH_MAIN_LS
  const Ft = finishSmooth(trPtr, 0, 0, value) + nonSmooth(trPtr);
  const F = ld(s, S_F);
  const slack = ld(s, S_SLACK);
  let alpha = ld(s, S_ALPHA);
  if (Ft <= F + 1e-4 * alpha * ld(s, S_PRED) + slack) {
    // a step accepted only through the allowance did not lower J beyond its rounding
    st(s, S_FLAT, !(Ft < F - slack) ? 1.0 : 0.0);
    copyv(D, trPtr, thetaPtr);
    st(s, S_ITERS, ld(s, S_ITERS) + 1.0);
    return request(s, PH_MAIN_EVAL, thetaPtr, gPtr, hPtr);
  }
  alpha *= 0.5;
  if (!(alpha >= MIN_STEP)) return finish(s, ld(s, S_GNORM) <= ld(s, S_FLOOR));
  st(s, S_ALPHA, alpha);
  trialPoint(D, thetaPtr, vPtr, alpha, trPtr);
  return request(s, PH_MAIN_LS, trPtr, 0, 0);
}

/** tr = θ + α(v - θ) */
function trialPoint(D: i32, thetaPtr: usize, vPtr: usize, alpha: f64, trPtr: usize): void {
  for (let i = 0; i < D; i++) {
    const th = ld(thetaPtr, i);
    st(trPtr, i, th + alpha * (ld(vPtr, i) - th));
  }
}
/**
 * Proximal / projected Newton with Armijo backtracking for J (header comment).
 *
 * thetaPtr: start on entry (D entries; its θ-block is projected on the ball), solution on exit.
 * workPtr: newtonWorkSize(d) doubles. infoPtr: [iterations, gradNorm (prox-gradient mapping,
 * step 1/λ_max(H)), converged 0/1, objective J].
 *
 * Each iteration: g, H of the smooth part at θ (ridged if not PD); stop if the prox-gradient
 * mapping norm ‖G‖ < tol; target v = θ - H⁻¹g when there is no λ-penalty and v is inside the
 * ball; without the λ-penalty but outside the ball, the exact ball-constrained minimiser of the
 * quadratic model (ballNewton); with the λ-penalty, argmin of the quadratic model + h by FISTA
 * (exact prox: proxL2Ball; inner tolerance min(0.1, ‖G‖)·‖G‖, at least tol/100). Then
 * θ ← θ + α(v - θ) with α halved (down to MIN_STEP) until
 * J(θ+αΔ) ≤ J(θ) + 1e-4·α·[gᵀΔ + h(v) - h(θ)] + s, s = 1e-13·(1 + |J|) (the allowance s absorbs
 * the rounding of J near the optimum). If the predicted decrease gᵀΔ + h(v) - h(θ) is not
 * negative beyond its rounding bound, the proximal-gradient point prox_t(θ - t·g) replaces v.
 *
 * Stopping: converged = 1 when ‖G‖ < tol. The loop also stops early, before maxIter, when the
 * objective cannot be lowered any more at this precision: no descent direction even for the
 * proximal-gradient point, no Armijo step ≥ MIN_STEP, or STALL_STEPS steps in a row that lowered
 * J by no more than s (accepted only through the allowance) without bringing ‖G‖ 10% below its
 * best value. Then converged = 1 only if ‖G‖ is within the rounding floor (stationarityFloor:
 * FLOOR_REL·(Lm‖θ‖ + ‖g‖)), else 0. Without this, a tol below the floor made every step an
 * accepted no-op up to maxIter (e.g. σ = 0.002, 100 rows, 20 coefficients, l2norm penalty,
 * tol = 1e-12: 100 iterations; now 14, test/solverStopping.test.ts).
 *
 * Exact shrinkage (docs/math.md §1.8): with kind 1, θ0 inside the ball and ‖∇L(θ0)‖ ≤ λ (log σ
 * optimised first when estimated), θ0 is returned exactly.
 */
export function projectedNewton(
  n: i32, d: i32, xPtr: usize, wonPtr: usize, pricePtr: usize, compPtr: usize, weightPtr: usize,
  family: i32, scale: f64, convention: i32, estimateScale: i32, normaliser: f64,
  penaltyKind: i32, centerPtr: usize, lambda: f64, precisionPtr: usize, radius: f64,
  maxIter: i32, tol: f64, thetaPtr: usize, workPtr: usize, infoPtr: usize,
): void {
  const est = estimateScale != 0 ? 1 : 0;
  let pending = newtonBegin(d, est, normaliser, penaltyKind, centerPtr, lambda, precisionPtr, radius, maxIter, tol, thetaPtr, workPtr, infoPtr);
  while (pending != 0) {
    const value = censoredLogLikelihood(
      n, d, xPtr, wonPtr, pricePtr, compPtr, weightPtr, newtonRequest(workPtr, 0), family, scale, convention, est,
      newtonRequest(workPtr, 1), newtonRequest(workPtr, 2),
    );
    pending = newtonResume(workPtr, value);
  }
}

// ------------------------------------------------------------------------------------------------
// Projected stochastic gradient with AdaGrad and Polyak–Ruppert (suffix) averaging.

/** Doubles of work needed by projectedSgd for d features. */
export function sgdWorkSize(d: i32): i32 {
  return d * d + 6 * d;
}

/**
 * Projected SGD on J (θ only; the scale is fixed). steps = epochs·n, rows drawn uniformly with
 * replacement by mulberry32(seed) (32-bit; identical in the TS twin): i = ⌊(r/2³²)·n⌋. The sampled
 * gradient -(n/N)·w_i∇ℓ_i + ∇penalty (kind 1: λ(θ-θ0)/‖θ-θ0‖, 0 at θ0) is unbiased for ∇J.
 * AdaGrad (diagonal): G_j += g_j², θ_j -= η·g_j/(√G_j + 1e-12); then θ ← Π_W(θ). The returned θ
 * (in thetaPtr, which holds the start on entry) is the average of the iterates of the second half
 * of the run (suffix averaging; all of them when steps < 2). info: [steps, gradNorm (prox-gradient
 * mapping of J at the average, as in projectedNewton), converged (gradNorm < tol), objective].
 */
export function projectedSgd(
  n: i32, d: i32, xPtr: usize, wonPtr: usize, pricePtr: usize, compPtr: usize, weightPtr: usize,
  family: i32, scale: f64, convention: i32, normaliser: f64,
  penaltyKind: i32, centerPtr: usize, lambda: f64, precisionPtr: usize, radius: f64,
  epochs: i32, eta: f64, seed: i32, tol: f64, thetaPtr: usize, workPtr: usize, infoPtr: usize,
): void {
  setProblem(n, d, xPtr, wonPtr, pricePtr, compPtr, weightPtr, family, scale, convention, 0,
    normaliser, penaltyKind, centerPtr, lambda, precisionPtr, radius);
  const dd = <usize>d << 3;
  const accPtr = workPtr;
  const avgPtr = accPtr + dd;
  const sgPtr = avgPtr + dd;
  const gPtr = sgPtr + dd;
  const aPtr = gPtr + dd;
  const bPtr = aPtr + dd;
  const hPtr = bPtr + dd;

  proxL2Ball(d, thetaPtr, 0, 0.0, radius, aPtr);
  copyv(d, aPtr, thetaPtr);
  for (let j = 0; j < d; j++) {
    st(accPtr, j, 0.0);
    st(avgPtr, j, ld(thetaPtr, j));
  }
  const inv = 1.0 / scale;
  const lostTerm = convention == 0 ? 1 : 2;
  const nScale = <f64>n * PinvN;
  const steps: i64 = <i64>epochs * <i64>n;
  const burn: i64 = steps >> 1;
  const rowBytes = <usize>d << 3;
  let state: u32 = <u32>seed;
  let m: f64 = 0.0;
  for (let k: i64 = 0; k < steps; k++) {
    // mulberry32
    state += 0x6D2B79F5;
    let r: u32 = state;
    r = (r ^ (r >> 15)) * (r | 1);
    r ^= r + (r ^ (r >> 7)) * (r | 61);
    r = r ^ (r >> 14);
    const i = <i32>(<f64>r * 2.3283064365386963e-10 * <f64>n);
    const off = <usize>i << 3;
    const row = xPtr + <usize>i * rowBytes;
    let u: f64 = 0.0;
    for (let j = 0; j < d; j++) u += ld(row, j) * ld(thetaPtr, j);
    const wt: f64 = weightPtr != 0 ? load<f64>(weightPtr + off) : 1.0;
    let z: f64;
    if (load<f64>(wonPtr + off) != 0.0) {
      z = (load<f64>(compPtr + off) - u) * inv;
      censoredTerm(family, 0, z);
    } else {
      z = (load<f64>(pricePtr + off) - u) * inv;
      censoredTerm(family, lostTerm, z);
    }
    // ∇J_i = -(n/N)·w·∇ℓ_i = (n/N)·w·(g1/σ)·x
    const coef = nScale * wt * lastTermG1() * inv;
    for (let j = 0; j < d; j++) st(sgPtr, j, coef * ld(row, j));
    if (penaltyKind == 1) {
      const dist = distv(d, thetaPtr, centerPtr);
      if (dist > 0.0) {
        const f = lambda / dist;
        for (let j = 0; j < d; j++) st(sgPtr, j, ld(sgPtr, j) + f * (ld(thetaPtr, j) - ld(centerPtr, j)));
      }
    } else if (penaltyKind == 2) {
      for (let a = 0; a < d; a++) {
        let pa: f64 = 0.0;
        for (let b = 0; b < d; b++) pa += ld(precisionPtr, a * d + b) * (ld(thetaPtr, b) - ld(centerPtr, b));
        st(sgPtr, a, ld(sgPtr, a) + pa);
      }
    }
    let nt: f64 = 0.0;
    for (let j = 0; j < d; j++) {
      const g = ld(sgPtr, j);
      const acc = ld(accPtr, j) + g * g;
      st(accPtr, j, acc);
      const th = ld(thetaPtr, j) - eta * g / (Math.sqrt(acc) + 1e-12);
      st(thetaPtr, j, th);
      nt += th * th;
    }
    nt = Math.sqrt(nt);
    if (nt > radius) {
      const f = radius / nt;
      for (let j = 0; j < d; j++) st(thetaPtr, j, ld(thetaPtr, j) * f);
    }
    if (k >= burn) {
      m += 1.0;
      const im = 1.0 / m;
      for (let j = 0; j < d; j++) {
        const av = ld(avgPtr, j);
        st(avgPtr, j, av + (ld(thetaPtr, j) - av) * im);
      }
    }
  }
  copyv(d, avgPtr, thetaPtr);
  const fs = smoothPart(thetaPtr, gPtr, hPtr);
  const F = fs + nonSmooth(thetaPtr);
  const gnorm = gradMapNorm(thetaPtr, gPtr, 1.0 / lambdaMax(d, hPtr, aPtr, bPtr), aPtr, bPtr);
  st(infoPtr, 0, <f64>steps);
  st(infoPtr, 1, gnorm);
  st(infoPtr, 2, gnorm < tol ? 1.0 : 0.0);
  st(infoPtr, 3, F);
}
