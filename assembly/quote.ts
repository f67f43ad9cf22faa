// Optimal quote under competition with a known noise family (docs/math.md §1.5) and the delta-method
// variance of a learned price (docs/math.md §5.3). Kernels take raw byte offsets and check nothing.
//
// Notation: u = x'theta (mean competitor quote), c = payoff when we do not trade, a = c - u,
// w* = phi^-1(a), p* = u + w*. phi(v) = v - m(v) is the virtual valuation, m = (1-F)/f.
import { erfc, erfcxGap, normMillsRatio, logisticCdf, FAMILY_GAUSSIAN } from "./noise";
import {
  VV_START_T0, VV_START_K, VV_START_SLOTS, VV_GAUSS_EMAX, VV_GAUSS_TABLE, VV_LOGISTIC_EMAX, VV_LOGISTIC_TABLE,
} from "./vvstart";
import {
  vk, vi, vadd, vsub, vmul, vdiv, vsel, vhi26, vexp, storeLanes, erfSmallNum, erfSmallDen, erfcxMidNum, erfcxMidDen,
  kONE, kHALF, kTWO, kZERO, kINV_SQRT2, kINV_SQRT_2PI, kSQRT_HALF_PI, kSMALL, kONE_MINUS_ULP, iMANT, iONE_BITS,
} from "./simdmath";

const INV_SQRT2: f64 = 0.7071067811865476;
const SQRT_PI: f64 = 1.7724538509055159;
/** m(0) = sqrt(pi/2) for the standard normal, so phi(0) = -sqrt(pi/2). */
const SQRT_HALF_PI: f64 = 1.2533141373155003;
/** Largest double below 1: dp/du < 1 holds exactly (docs/math.md §1.5), so round down onto it. */
const ONE_MINUS_ULP: f64 = 0.9999999999999999;
const MAXIT: i32 = 100;

/**
 * phi_1^-1(a) for the standard normal (docs/math.md §1.5). phi(v) = v - m(v) is increasing and concave
 * (m is convex), so Newton started left of the root climbs to it monotonically; a step that leaves
 * the bracket (or is NaN) is replaced by bisection. Bracket:
 *  - a >= -sqrt(pi/2) = phi(0): root >= 0; [b0, b0 + m(b0)], b0 = max(a, 0) (the §1.5 bracket with
 *    its lower end raised to 0, valid since phi(0) <= a);
 *  - a <  phi(0): root < 0; on v <= 0, m(v) >= 1/(2 pdf(v)) and m(w*) = w* - a <= -a give
 *    w* >= -sqrt(2 ln(-a/sqrt(pi/2))) (tighter than a: ~0.7/|w*| below the root), upper end 0.
 * Start at the lower end; stop after a Newton step below 1e-9 max(1,|v|) (quadratic convergence
 * leaves an error below 1e-15 relative) or a bisection step below 1e-15 max(1,|v|).
 */
export function vvInverseGaussStd(a: f64): f64 {
  let lo: f64;
  let hi: f64;
  if (a < -SQRT_HALF_PI) {
    lo = -Math.sqrt(2.0 * Math.log(-a / SQRT_HALF_PI));
    if (lo < a) lo = a;
    hi = 0.0;
  } else {
    const b0 = a > 0.0 ? a : 0.0;
    lo = b0;
    hi = b0 + normMillsRatio(b0);
  }
  // Birnbaum's bound m(v) > (sqrt(v^2 + 4) - v)/2 makes the root of v - (sqrt(v^2 + 4) - v)/2 = a,
  // (3a + sqrt(a^2 + 8))/4, a point left of w*: a closer start from the same side
  const b = 0.25 * (3.0 * a + Math.sqrt(a * a + 8.0));
  if (b > lo && b < hi) lo = b;
  let x = lo;
  for (let it = 0; it < MAXIT; it++) {
    const m = normMillsRatio(x);
    const g = x - m - a;
    if (g == 0.0) return x;
    if (g < 0.0) lo = x;
    else hi = x;
    // phi'(v) = 2 - v m(v) (docs/math.md §1.5); divided through by m when m > 1, so that v m cannot
    // overflow far in the left tail (m ~ 1e308 at v ~ -37.6)
    let xn = m > 1.0 ? x - g / m / (2.0 / m - x) : x - g / (2.0 - x * m);
    // Newton's error after a step of size dx is ~(|phi''|/2phi') dx^2 <= (|v|/2 + 1) dx^2, so a
    // Newton step below 1e-9 max(1,|v|) leaves < 1e-15 relative; a bisection step must be tiny itself
    let tolStep = 1e-9;
    if (!(xn >= lo && xn <= hi)) {
      xn = lo + 0.5 * (hi - lo);
      tolStep = 1e-15;
    }
    const dx = Math.abs(xn - x);
    x = xn;
    if (dx <= tolStep * Math.max(1.0, Math.abs(x))) break;
  }
  return x;
}

/**
 * W0(e^t), the principal Lambert W at e^t. Halley on w e^w = x (start log1p(x) for x < 3, else
 * ln x - ln ln x = t - ln t), as in docs/math.md Appendix A; when e^t would overflow (t > 700) Newton on
 * w + ln w = t instead (docs/math.md §1.5).
 */
export function lambertW0Exp(t: f64): f64 {
  if (t > 700.0) {
    let w = t - Math.log(t);
    for (let it = 0; it < MAXIT; it++) {
      const wn = w - (w + Math.log(w) - t) / (1.0 + 1.0 / w);
      const dw = Math.abs(wn - w);
      w = wn;
      if (dw <= 1e-15 * w) break;
    }
    return w;
  }
  const x = Math.exp(t);
  let w = x < 3.0 ? Math.log1p(x) : t - Math.log(t);
  for (let it = 0; it < MAXIT; it++) {
    const ew = Math.exp(w);
    const f = w * ew - x;
    const wn = w - f / (ew * (w + 1.0) - (w + 2.0) * f / (2.0 * w + 2.0));
    const dw = Math.abs(wn - w);
    w = wn;
    if (dw <= 1e-15 * (1.0 + Math.abs(w))) break;
  }
  return w;
}

/**
 * phi_1^-1(a) for the standard logistic (docs/math.md §1.5): a + 1 + W0(e^t), t = -(a + 1).
 * For t > 0 (a < -1) use the identity W + ln W = t, i.e. a + 1 + W = -ln W, which avoids the
 * cancellation of a + 1 + W when a is very negative.
 */
export function vvInverseLogisticStd(a: f64): f64 {
  const t = -(a + 1.0);
  const W = lambertW0Exp(t);
  if (t > 0.0) return -Math.log(W);
  return a + 1.0 + W;
}

/** Standardised phi^-1 for a family code (0 gaussian, 1 logistic). */
export function vvInverseStd(family: i32, a: f64): f64 {
  return family == FAMILY_GAUSSIAN ? vvInverseGaussStd(a) : vvInverseLogisticStd(a);
}

// ---------------------------------------------------------------------------------------------
// f64x2 phi^-1 (SIMD build): two rows per vector, branch-free, a fixed amount of work per row.
//
// 1. Start: w0 from the piecewise polynomial of assembly/vvstart.ts (cell from the exponent and top
//    mantissa bits of t = T0 - a, a degree-5 polynomial in the remaining bits); |w0 - w*| <= 2.5e-8
//    on the whole SIMD domain (the generator's dense check; test/simd-kernels.test.ts compares the
//    kernels with the scalar solvers on a dense grid of a, cell edges included).
// 2. One Halley step on phi(v) - a at w0 (docs/math.md §1.5). Halley's error after one step is about
//    C e0^3, C = |phi'''/(6 phi') - (phi''/(2 phi'))^2| <= 2.7 on the Gaussian domain (largest at
//    w = -5.61) and <= 1/12 for the logistic, so below 1e-22: w1 = w0 + h is w* to rounding.
// 3. What the quote needs at w1 (m, 1 - F, phi') follows from the values at w0 by Taylor in h
//    (|h| <= 2.5e-8: the dropped third-order terms are below 1e-20 relative), so each special
//    function is evaluated once per row.
// Gaussian: phi' = 2 - v m, phi'' = -m'' = -(m + v m'), m' = v m - 1. erfcx(x), x = w0/sqrt2,
// |x| < 4, is Cody's: |x| <= 0.46875: exp(x^2)(1 - erf x); else the (0.46875, 4] rational at |x|,
// reflected for x < 0 as 2 exp(x^2) - erfcx(|x|); both rationals are evaluated and one is selected.
// exp(w0^2/2) = exp(x^2) comes from vexp with w0^2 split exactly (Dekker), and one division gives
// both erfcx = N/D and exp(-x^2) = 1/X, through 1/(D X).
// Logistic: m = 1 + e^-v, phi' = 1 + e^-v, phi'' = -e^-v; one vexp.
// SIMD domain: standardised a in [A_MIN, A_MAX] (Gaussian: w* in [-5.61, 5.19], |x| < 4;
// logistic: w* in [-22.2, 6.01]); a row outside it (or NaN) goes to the scalar solver (quotePair).

/** Largest standardised a of the SIMD paths: t = T0 - a >= 1, the first cell of the start tables. */
const A_MAX: f64 = VV_START_T0 - 1.0;
/** Smallest standardised a of the Gaussian SIMD path (t < 2^24); phi^-1(A_MIN) = -5.6065. */
const A_MIN_GAUSS: f64 = VV_START_T0 + 8.0 - <f64>(1 << VV_GAUSS_EMAX);
/** Smallest standardised a of the logistic SIMD path (t < 2^32); phi^-1(A_MIN) = -22.18. */
const A_MIN_LOGISTIC: f64 = VV_START_T0 + 8.0 - <f64>(<i64>1 << VV_LOGISTIC_EMAX);

/** The start w0 (step 1 above) from a start table, for a in its domain, lane-wise. */
// @ts-ignore: decorator
@inline function vvStart(A: v128, T0V: v128, table: usize): v128 {
  const T = vsub(T0V, A);
  // cell = biased exponent of t and its top K mantissa bits; s = the other mantissa bits in [0, 1)
  const CELL = i64x2.shr_u(T, 52 - VV_START_K);
  const S = vsub(v128.or(v128.and(i64x2.shl(T, VV_START_K), vi(iMANT)), vi(iONE_BITS)), vk(kONE));
  const cellBytes = <usize>(VV_START_SLOTS << 3);
  const base = table - (<usize>1023 << VV_START_K) * cellBytes;
  const p0 = base + <usize>i64x2.extract_lane(CELL, 0) * cellBytes;
  const p1 = base + <usize>i64x2.extract_lane(CELL, 1) * cellBytes;
  // coefficient pairs (c0, c1), (c2, c3), (c4, c5) of both cells, regrouped lane-wise
  const L01 = v128.load(p0);
  const R01 = v128.load(p1);
  const L23 = v128.load(p0, 16);
  const R23 = v128.load(p1, 16);
  const L45 = v128.load(p0, 32);
  const R45 = v128.load(p1, 32);
  const S2 = vmul(S, S);
  const P01 = vadd(f64x2.shuffle(L01, R01, 0, 2), vmul(f64x2.shuffle(L01, R01, 1, 3), S));
  const P23 = vadd(f64x2.shuffle(L23, R23, 0, 2), vmul(f64x2.shuffle(L23, R23, 1, 3), S));
  const P45 = vadd(f64x2.shuffle(L45, R45, 0, 2), vmul(f64x2.shuffle(L45, R45, 1, 3), S));
  return vadd(P01, vmul(vadd(P23, vmul(P45, S2)), S2));
}

/**
 * Gaussian w1 = phi^-1(a) for a row pair whose lanes are in the SIMD domain (steps 1-2); with
 * `quote`, also the four optimalQuote columns at w1 (step 3), stored for the rows in `lanes` at o
 * (column stride `stride`).
 */
// @ts-ignore: decorator
@inline function gaussPair(
  A: v128, T0V: v128, quote: bool, U: v128, C: v128, SCALE: v128, o: usize, stride: usize, lanes: i32,
): v128 {
  const Z0 = vvStart(A, T0V, VV_GAUSS_TABLE);
  // X = exp(w0^2/2) = exp(x^2), w0^2 split exactly: w0 = zh + zl, w0^2 = zh^2 + zl (w0 + zh)
  const ZH = vhi26(Z0);
  const X = vexp(vmul(vk(kHALF), vmul(ZH, ZH)), vmul(vmul(vk(kHALF), vsub(Z0, ZH)), vadd(Z0, ZH)));
  const XS = vmul(Z0, vk(kINV_SQRT2));
  const Y = f64x2.abs(XS);
  const Y2 = vmul(Y, Y);
  const Y4 = vmul(Y2, Y2);
  const DS = erfSmallDen(Y2, Y4);
  const NM = erfcxMidNum(Y, Y2, Y4);
  const DM = erfcxMidDen(Y, Y2, Y4);
  const SMALL = f64x2.le(Y, vk(kSMALL));
  // erfcx(x) = N/D: X (1 - erf x) = X (DS - x NS)/DS; NM/DM; 2X - NM/DM = (2X DM - NM)/DM
  const N = vsel(
    vmul(X, vsub(DS, vmul(XS, erfSmallNum(Y2, Y4)))),
    vsel(vsub(vmul(vmul(vk(kTWO), X), DM), NM), NM, f64x2.lt(Z0, vk(kZERO))),
    SMALL,
  );
  const D = vsel(DS, DM, SMALL);
  const IDX = vdiv(vk(kONE), vmul(D, X));
  const M0 = vmul(vk(kSQRT_HALF_PI), vmul(vmul(N, X), IDX)); // m(w0) = sqrt(pi/2) erfcx(x)
  // one Halley step: h = -2 f phi' / (2 phi'^2 - f phi''), f = phi(w0) - a, phi'' = -m''
  const F = vsub(vsub(Z0, M0), A);
  const MP = vsub(vmul(Z0, M0), vk(kONE)); // m'
  const FP = vsub(vk(kONE), MP); // phi' = 2 - w m
  const M2 = vadd(M0, vmul(Z0, MP)); // m''
  const H = f64x2.neg(vdiv(vmul(vmul(vk(kTWO), F), FP), vadd(vmul(vmul(vk(kTWO), FP), FP), vmul(F, M2))));
  const Z1 = vadd(Z0, H);
  if (quote) {
    const S0 = vmul(vk(kHALF), vmul(N, IDX)); // 1 - Phi(w0) = erfc(x)/2 = erfcx(x) exp(-x^2)/2
    const PDF0 = vmul(vk(kINV_SQRT_2PI), vmul(D, IDX)); // pdf(w0) = exp(-x^2)/sqrt(2 pi)
    // values at w1 = w0 + h by Taylor: m + h (m' + h m''/2); S' = -pdf, S'' = w pdf
    const M1 = vadd(M0, vmul(H, vadd(MP, vmul(vmul(vk(kHALF), H), M2))));
    const S1 = vsub(S0, vmul(vmul(H, PDF0), vsub(vk(kONE), vmul(vmul(vk(kHALF), H), Z0))));
    // dpdu = g/(1 + g), g = phi' - 1 = 1 - w m
    const G = vsub(vk(kONE), vmul(Z1, M1));
    quoteStore(o, stride, lanes, U, C, SCALE, Z1, vmul(SCALE, M1), S1, vdiv(G, vadd(vk(kONE), G)));
  }
  return Z1;
}

/** Logistic counterpart of gaussPair: m = 1 + e^-w, 1 - F = e^-w/(1 + e^-w), dpdu = 1 - F. */
// @ts-ignore: decorator
@inline function logisticPair(
  A: v128, T0V: v128, quote: bool, U: v128, C: v128, SCALE: v128, o: usize, stride: usize, lanes: i32,
): v128 {
  const Z0 = vvStart(A, T0V, VV_LOGISTIC_TABLE);
  const E0 = vexp(f64x2.neg(Z0), vk(kZERO)); // e^-w0, w0 in [-22.2, 6.01]
  // one Halley step: f = w0 - 1 - e^-w0 - a, phi' = 1 + e^-w0, phi'' = -e^-w0
  const F = vsub(vsub(vsub(Z0, vk(kONE)), E0), A);
  const FP = vadd(vk(kONE), E0);
  const H = f64x2.neg(vdiv(vmul(vmul(vk(kTWO), F), FP), vadd(vmul(vmul(vk(kTWO), FP), FP), vmul(F, E0))));
  const Z1 = vadd(Z0, H);
  if (quote) {
    // e^-w1 = e^-w0 e^-h = e^-w0 (1 - h (1 - h/2))
    const E1 = vmul(E0, vsub(vk(kONE), vmul(H, vsub(vk(kONE), vmul(vk(kHALF), H)))));
    const S1 = vdiv(E1, vadd(vk(kONE), E1));
    quoteStore(o, stride, lanes, U, C, SCALE, Z1, vmul(SCALE, vadd(vk(kONE), E1)), S1, S1);
  }
  return Z1;
}

/**
 * The optimalQuote columns of a row pair from w1 (standardised), p* - c = scale m(w1), S = 1 - F(w1)
 * and dpdu: price c + (p* - c) when w1 >= 0, else u + scale w1; reward c + (p* - c) S; dpdu rounded
 * down onto ONE_MINUS_ULP when it is not below 1 (as quoteRow). Rows in `lanes` only.
 */
// @ts-ignore: decorator
@inline function quoteStore(
  o: usize, stride: usize, lanes: i32, U: v128, C: v128, SCALE: v128, Z1: v128, PC: v128, S1: v128, DP: v128,
): void {
  const PRICE = vsel(vadd(C, PC), vadd(U, vmul(SCALE, Z1)), f64x2.ge(Z1, vk(kZERO)));
  const REWARD = vadd(C, vmul(PC, S1));
  const DPDU = vsel(DP, vk(kONE_MINUS_ULP), f64x2.lt(DP, vk(kONE)));
  // one branch for all four stores (see greeksPair)
  if (lanes == 3) {
    v128.store(o, PRICE);
    v128.store(o + stride, S1);
    v128.store(o + 2 * stride, REWARD);
    v128.store(o + 3 * stride, DPDU);
  } else {
    storeLanes(o, PRICE, lanes);
    storeLanes(o + stride, S1, lanes);
    storeLanes(o + 2 * stride, REWARD, lanes);
    storeLanes(o + 3 * stride, DPDU, lanes);
  }
}

// Row pairs (or, with full = false, the last row of an odd n, splat into both lanes) of the two
// kernels below, SIMD build. A row is computed in a lane when its own a is in the SIMD domain and by
// the scalar solver otherwise, whatever its partner: lanes do not interact, so a row's result is
// the same bits in any batch, at any position (the batch path relies on this: a chunk of n rows
// prices each row exactly as a single-row call does). A lane outside the domain (or NaN) is
// replaced by a = 0 before the table look-up and its results are not stored.

// @ts-ignore: decorator
@inline function vvInversePair(
  family: i32, scale: f64, inv: f64, INV: v128, SCALE: v128, AMIN: v128, AMAX: v128, T0V: v128,
  aPtr: usize, outPtr: usize, i: i32, full: bool,
): void {
  const off = <usize>i << 3;
  const A = vmul(full ? v128.load(aPtr + off) : v128.load64_splat(aPtr + off), INV);
  const OK = v128.and(f64x2.ge(A, AMIN), f64x2.le(A, AMAX));
  const want = full ? 3 : 1;
  const lanes = i64x2.bitmask(OK) & want;
  if (lanes != 0) {
    const AS = vsel(A, vk(kZERO), OK);
    const ZERO = vk(kZERO);
    const W = family == FAMILY_GAUSSIAN
      ? gaussPair(AS, T0V, false, ZERO, ZERO, SCALE, 0, 0, 0)
      : logisticPair(AS, T0V, false, ZERO, ZERO, SCALE, 0, 0, 0);
    storeLanes(outPtr + off, vmul(SCALE, W), lanes);
  }
  if (lanes != want) {
    const rows = full ? 2 : 1;
    for (let j = 0; j < rows; j++) {
      if ((lanes >> j) & 1) continue;
      const o = off + (<usize>j << 3);
      store<f64>(outPtr + o, scale * vvInverseStd(family, load<f64>(aPtr + o) * inv));
    }
  }
}

// @ts-ignore: decorator
@inline function quotePair(
  family: i32, scale: f64, inv: f64, INV: v128, SCALE: v128, AMIN: v128, AMAX: v128, T0V: v128,
  uPtr: usize, cPtr: usize, outPtr: usize, stride: usize, i: i32, full: bool,
): void {
  const off = <usize>i << 3;
  const U = full ? v128.load(uPtr + off) : v128.load64_splat(uPtr + off);
  const C = full ? v128.load(cPtr + off) : v128.load64_splat(cPtr + off);
  const A = vmul(vsub(C, U), INV);
  const OK = v128.and(f64x2.ge(A, AMIN), f64x2.le(A, AMAX));
  const want = full ? 3 : 1;
  const lanes = i64x2.bitmask(OK) & want;
  if (lanes != 0) {
    const AS = vsel(A, vk(kZERO), OK);
    if (family == FAMILY_GAUSSIAN) gaussPair(AS, T0V, true, U, C, SCALE, outPtr + off, stride, lanes);
    else logisticPair(AS, T0V, true, U, C, SCALE, outPtr + off, stride, lanes);
  }
  if (lanes != want) {
    const rows = full ? 2 : 1;
    for (let j = 0; j < rows; j++) {
      if (!((lanes >> j) & 1)) quoteRow(family, scale, inv, uPtr, cPtr, outPtr, stride, i + j);
    }
  }
}

/**
 * w = phi^-1(a) with scale (docs/math.md §1.5: phi_sigma^-1(a) = sigma phi_1^-1(a/sigma); the logistic
 * closed form scales the same way). out[i] = w_i. SIMD build: rows inside the SIMD domain take the
 * f64x2 path above (steps 1 and 2), the others vvInverseStd.
 */
export function virtualValuationInverse(family: i32, scale: f64, n: i32, aPtr: usize, outPtr: usize): void {
  const inv = 1.0 / scale;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const INV = f64x2.splat(inv);
    const SCALE = f64x2.splat(scale);
    const AMIN = f64x2.splat(family == FAMILY_GAUSSIAN ? A_MIN_GAUSS : A_MIN_LOGISTIC);
    const AMAX = f64x2.splat(A_MAX);
    const T0V = f64x2.splat(VV_START_T0);
    for (; i + 2 <= n; i += 2) vvInversePair(family, scale, inv, INV, SCALE, AMIN, AMAX, T0V, aPtr, outPtr, i, true);
    if (i < n) vvInversePair(family, scale, inv, INV, SCALE, AMIN, AMAX, T0V, aPtr, outPtr, i, false);
    return;
  }
  for (; i < n; i++) {
    const off = <usize>i << 3;
    store<f64>(outPtr + off, scale * vvInverseStd(family, load<f64>(aPtr + off) * inv));
  }
}

/**
 * Optimal quote p* = u + phi^-1(c - u) (docs/math.md §1.5). Output: 4 columns of n (column-major):
 *  0 price p*;
 *  1 winProbability 1 - F(w*) (the upper tail, never 1 - F);
 *  2 expectedReward R = c + (p* - c)(1 - F(w*)) (docs/math.md §1.2);
 *  3 dpdu = 1 - 1/phi'(w*) in [0, 1).
 * The first-order condition gives p* - c = m(w*) exactly; that form is used for p* - c, and for the
 * price itself when w* >= 0 (then p* = c + m(w*) has no cancellation, whereas u + w* cancels when
 * u << c). When w* < 0, p* = u + w* with |w*| small against u.
 * dpdu: Gaussian, with g = 1 - z m(z) (z = w* / sigma), phi' = 1 + g and dpdu = g/(1 + g); for z >= 0,
 * g = sqrt(pi) (1/sqrt(pi) - y erfcx(y)), y = z/sqrt2, free of cancellation. Logistic:
 * phi' = 1 + e^-z, so dpdu = e^-z/(1 + e^-z) = 1 - F(w*).
 * SIMD build: rows inside the SIMD domain take gaussPair / logisticPair (the same formulas, with the
 * values at w1 from the Taylor step), the others quoteRow.
 */
export function optimalQuote(family: i32, scale: f64, n: i32, uPtr: usize, cPtr: usize, outPtr: usize): void {
  const stride = <usize>n << 3;
  const inv = 1.0 / scale;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const INV = f64x2.splat(inv);
    const SCALE = f64x2.splat(scale);
    const AMIN = f64x2.splat(family == FAMILY_GAUSSIAN ? A_MIN_GAUSS : A_MIN_LOGISTIC);
    const AMAX = f64x2.splat(A_MAX);
    const T0V = f64x2.splat(VV_START_T0);
    for (; i + 2 <= n; i += 2) quotePair(family, scale, inv, INV, SCALE, AMIN, AMAX, T0V, uPtr, cPtr, outPtr, stride, i, true);
    if (i < n) quotePair(family, scale, inv, INV, SCALE, AMIN, AMAX, T0V, uPtr, cPtr, outPtr, stride, i, false);
    return;
  }
  for (; i < n; i++) quoteRow(family, scale, inv, uPtr, cPtr, outPtr, stride, i);
}

/** One row of optimalQuote: vvInverseStd, then the formulas of its comment (the scalar path). */
function quoteRow(family: i32, scale: f64, inv: f64, uPtr: usize, cPtr: usize, outPtr: usize, stride: usize, i: i32): void {
  const off = <usize>i << 3;
  const u = load<f64>(uPtr + off);
  const c = load<f64>(cPtr + off);
  const z = vvInverseStd(family, (c - u) * inv);
  let mStd: f64;
  let S: f64;
  let dpdu: f64;
  if (family == FAMILY_GAUSSIAN) {
    mStd = normMillsRatio(z);
    S = 0.5 * erfc(z * INV_SQRT2);
    const g = z >= 0.0 ? SQRT_PI * erfcxGap(z * INV_SQRT2) : 1.0 - z * mStd;
    dpdu = g / (1.0 + g);
  } else {
    mStd = 1.0 + Math.exp(-z);
    S = logisticCdf(-z);
    dpdu = S;
  }
  if (!(dpdu < 1.0)) dpdu = ONE_MINUS_ULP;
  const pc = scale * mStd;
  const price = z >= 0.0 ? c + pc : u + scale * z;
  const o = outPtr + off;
  store<f64>(o, price);
  store<f64>(o + stride, S);
  store<f64>(o + 2 * stride, c + pc * S);
  store<f64>(o + 3 * stride, dpdu);
}

/**
 * Delta-method variance of a learned price (docs/math.md §5.3): Var_i = dpdu_i^2 x_i' Sigma_k(i) x_i.
 * x: n x d row-major. cov: the matrices' values, each stored one of two ways, which covAt (i32
 * per matrix) says: covAt[k] >= 0, matrix k is dense, its upper triangle row by row (row r holds
 * entries (r, r..d-1); d(d+1)/2 values) from cov[covAt[k]]; covAt[k] < 0, matrix k is diagonal,
 * its d diagonal entries from cov[-covAt[k] - 1]. covAtPtr == 0: every matrix dense, matrix k at
 * k d(d+1)/2. The matrices are picked at random per row, so this kernel is bound by memory
 * traffic: a product fitted with standard errors only (docs/formats.md) costs d values, not d(d+1)/2.
 * covIndex[i] (f64) picks the matrix of row i; covIndexPtr == 0 means one shared matrix.
 * x' S x = sum_r x_r (S_rr x_r + 2 sum_{s>r} S_rs x_s). The inner sums run in two lanes (f64x2
 * with SIMD, two scalar accumulators without), so both builds and the TS twin add in the same
 * order; a diagonal matrix gives the same value the dense form of it would (t = 0 exactly).
 * out[i] = variance.
 */
export function priceVariance(
  n: i32, d: i32, xPtr: usize, dpduPtr: usize, covPtr: usize, covAtPtr: usize, covIndexPtr: usize, outPtr: usize,
): void {
  const rowBytes = <usize>d << 3;
  const matBytes = (<usize>d * <usize>(d + 1) >> 1) << 3;
  for (let i = 0; i < n; i++) {
    const xi = xPtr + <usize>i * rowBytes;
    const k: i32 = covIndexPtr != 0 ? <i32>load<f64>(covIndexPtr + (<usize>i << 3)) : 0;
    let q: f64 = 0.0;
    let at: i32 = 0;
    if (covAtPtr != 0) at = load<i32>(covAtPtr + (<usize>k << 2));
    if (at < 0) {
      const diag = covPtr + (<usize>(-at - 1) << 3);
      for (let r = 0; r < d; r++) {
        const xr = load<f64>(xi + (<usize>r << 3));
        q += xr * (load<f64>(diag + (<usize>r << 3)) * xr);
      }
    } else {
      let row = covPtr + (covAtPtr != 0 ? <usize>at << 3 : <usize>k * matBytes);
      for (let r = 0; r < d; r++) {
        // row r of the triangle: S_rr at row, S_r,s at row + 8 (s - r)
        const m = d - r - 1; // off-diagonal entries
        const m2 = m & ~1;
        const off = row + 8;
        const xo = xi + (<usize>(r + 1) << 3);
        let s0: f64 = 0.0;
        let s1: f64 = 0.0;
        if (ASC_FEATURE_SIMD) {
          let acc = f64x2.splat(0.0);
          for (let kk = 0; kk < m2; kk += 2) {
            const ko = <usize>kk << 3;
            acc = f64x2.add(acc, f64x2.mul(v128.load(off + ko), v128.load(xo + ko)));
          }
          s0 = f64x2.extract_lane(acc, 0);
          s1 = f64x2.extract_lane(acc, 1);
        } else {
          for (let kk = 0; kk < m2; kk += 2) {
            const ko = <usize>kk << 3;
            s0 += load<f64>(off + ko) * load<f64>(xo + ko);
            s1 += load<f64>(off + ko + 8) * load<f64>(xo + ko + 8);
          }
        }
        let t = s0 + s1;
        if (m2 < m) {
          const ko = <usize>m2 << 3;
          t += load<f64>(off + ko) * load<f64>(xo + ko);
        }
        const xr = load<f64>(xi + (<usize>r << 3));
        q += xr * (load<f64>(row) * xr + 2.0 * t);
        row += (<usize>(m + 1)) << 3;
      }
    }
    const g = load<f64>(dpduPtr + (<usize>i << 3));
    store<f64>(outPtr + (<usize>i << 3), g * g * q);
  }
}
