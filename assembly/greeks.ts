// "Greeks" of the expected-profit function Pi(P) = Q(P) M(P) - H (docs/math.md §4), the return-aware
// optimum (Delta = 0, §4.3) and the constant-R closed-form price (§4.3). Batched over n SKUs.
//
// Input: a column-major block of 13 columns of n (column k at inPtr + k*n*8):
//   0 P, 1 C, 2 Cret, 3 Rmin, 4 Rmax, 5 kR, 6 Pmid, 7 A, 8 B, 9 E, 10 deltaQ, 11 holding, 12 inventory
// demandKind 0: win probability Q = A (1 - F((P - B)/E)), F normal (A = N, B = mu, E = sigma);
//            1: same with F logistic; 2: constant elasticity Q = A (P/B)^E (A = Q0, B = P0, E = eps).
// Return rate: the logistic curve R(P) = Rmin + (Rmax - Rmin) S, S = sigmoid(kR (P - Pmid)) (§4.1),
// constant (R = Rmin) when Rmin == Rmax or kR == 0.
import { erfc, normPdf, logisticCdf } from "./noise";
import { vvInverseStd } from "./quote";
import {
  vk, vadd, vsub, vmul, vdiv, vsel, vhi26, vexp, storeLanes, erfSmallNum, erfSmallDen, erfcxMidNum, erfcxMidDen,
  erfcTailGapNum, erfcTailGapDen, kONE, kHALF, kTWO, kFOUR, kZERO, kMINUS_HALF, kMINUS_TWO, kINV_SQRT2,
  kINV_SQRTPI, kINV_SQRT_2PI, kSMALL, kZ_MAX_NORMAL, kEXP_ARG_MAX,
} from "./simdmath";

const INV_SQRT2: f64 = 0.7071067811865476;
/** 1/golden ratio */
const GOLD: f64 = 0.6180339887498949;
const MAXIT: i32 = 200;

const KIND_CE: i32 = 2;

// Parameters of the current SKU (loaded once per row).
let pC: f64 = 0.0;
let pCret: f64 = 0.0;
let pRmin: f64 = 0.0;
let pRmax: f64 = 0.0;
let pkR: f64 = 0.0;
let pPmid: f64 = 0.0;
let pA: f64 = 0.0;
let pB: f64 = 0.0;
let pE: f64 = 0.0;

// Model at one price (set by evalModel).
let mQ: f64 = 0.0;
let mQ1: f64 = 0.0;
let mQ2: f64 = 0.0;
let mM: f64 = 0.0;
let mM1: f64 = 0.0;
let mM2: f64 = 0.0;
let mR: f64 = 0.0;
let mK: f64 = 0.0; // P - C + Cret
let mz: f64 = 0.0; // standardised price (win-probability demand)
let mf: f64 = 0.0; // f(z)
let mfp: f64 = 0.0; // f'(z)
let mDelta: f64 = 0.0;
let mGamma: f64 = 0.0;
let mProfit: f64 = 0.0;

// @ts-ignore: decorator
@inline function col(ptr: usize, n: i32, k: i32, i: i32): f64 {
  return load<f64>(ptr + ((<usize>k * <usize>n + <usize>i) << 3));
}

function loadParams(inPtr: usize, n: i32, i: i32): void {
  pC = col(inPtr, n, 1, i);
  pCret = col(inPtr, n, 2, i);
  pRmin = col(inPtr, n, 3, i);
  pRmax = col(inPtr, n, 4, i);
  pkR = col(inPtr, n, 5, i);
  pPmid = col(inPtr, n, 6, i);
  pA = col(inPtr, n, 7, i);
  pB = col(inPtr, n, 8, i);
  pE = col(inPtr, n, 9, i);
}

// @ts-ignore: decorator
@inline function returnRateConstant(): bool {
  return pRmin == pRmax || pkR == 0.0;
}

/** R(P) of the logistic curve (docs/math.md §4.1). */
function returnRate(P: f64): f64 {
  if (returnRateConstant()) return pRmin;
  return pRmin + (pRmax - pRmin) * logisticCdf(pkR * (P - pPmid));
}

/** Q, M and their first two P-derivatives, Pi, Delta, Gamma at P (docs/math.md §4.1, §4.2). */
function evalModel(kind: i32, P: f64): void {
  // return rate and margin (§4.1); 1 - 2S computed as G - S, G = 1 - S = sigmoid(-x)
  let R: f64;
  let R1: f64 = 0.0;
  let R2: f64 = 0.0;
  if (returnRateConstant()) {
    R = pRmin;
  } else {
    const x = pkR * (P - pPmid);
    const S = logisticCdf(x);
    const G = logisticCdf(-x);
    const dR = pRmax - pRmin;
    R = pRmin + dR * S;
    R1 = dR * pkR * S * G;
    R2 = dR * pkR * pkR * S * G * (G - S);
  }
  const K = P - pC + pCret;
  mR = R;
  mK = K;
  mM = (P - pC) * (1.0 - R) - pCret * R;
  mM1 = 1.0 - R - R1 * K;
  mM2 = -2.0 * R1 - R2 * K;
  // demand (§4.1)
  if (kind == KIND_CE) {
    const Q = pA * Math.pow(P / pB, pE);
    mQ = Q;
    mQ1 = pE * Q / P;
    mQ2 = pE * (pE - 1.0) * Q / (P * P);
    mz = 0.0;
    mf = 0.0;
    mfp = 0.0;
  } else {
    const z = (P - pB) / pE;
    let f: f64;
    let fp: f64;
    let G: f64;
    if (kind == 0) {
      f = normPdf(z);
      G = 0.5 * erfc(z * INV_SQRT2);
      fp = -z * f;
    } else {
      const F = logisticCdf(z);
      G = logisticCdf(-z);
      f = F * G;
      fp = f * (G - F);
    }
    mz = z;
    mf = f;
    mfp = fp;
    mQ = pA * G;
    mQ1 = -pA * f / pE;
    mQ2 = -pA * fp / (pE * pE);
  }
  mProfit = mQ * mM;
  mDelta = mQ1 * mM + mQ * mM1;
  mGamma = mQ2 * mM + 2.0 * mQ1 * mM1 + mQ * mM2;
}

/** One row of greeks: loadParams + evalModel, then the formulas of its comment (the scalar path). */
function greeksRow(demandKind: i32, n: i32, inPtr: usize, outPtr: usize, i: i32): void {
  const stride = <usize>n << 3;
  loadParams(inPtr, n, i);
  const P = col(inPtr, n, 0, i);
  evalModel(demandKind, P);
  let vega: f64 = 0.0;
  let vanna: f64 = 0.0;
  if (demandKind != KIND_CE) {
    // dQ/dsigma = A z f(z)/sigma; dQ'/dsigma = A (f + z f')/sigma^2
    const zf = mz * mf;
    vega = mM * pA * zf / pE;
    vanna = mM * pA * (mf + mz * mfp) / (pE * pE) + mM1 * pA * zf / pE;
  }
  const theta = -col(inPtr, n, 10, i) * mQ * mM - col(inPtr, n, 11, i) * col(inPtr, n, 12, i);
  const o = outPtr + (<usize>i << 3);
  store<f64>(o, mProfit);
  store<f64>(o + stride, mDelta);
  store<f64>(o + 2 * stride, mGamma);
  store<f64>(o + 3 * stride, vega);
  store<f64>(o + 4 * stride, vanna);
  store<f64>(o + 5 * stride, -mQ * mK);
  store<f64>(o + 6 * stride, theta);
}

/**
 * Rows i, i + 1 of greeks for win-probability demand (kind 0 normal, 1 logistic), SIMD build only
 * (with full = false: row i alone, splat into both lanes, for the last row of an odd n).
 * evalModel's formulas with the two rows in the lanes of f64x2 vectors, branch-free (every branch
 * of the special functions evaluated, one selected per lane), with the exp of assembly/simdmath.ts:
 *  - return curve: e = exp(-|x|), sigma(|x|) = 1/(1 + e), sigma(-|x|) = e/(1 + e) (logisticCdf);
 *  - normal: exp(-z^2/2) once, with z^2 split exactly (Dekker), for both f = pdf(z) and
 *    1 - F = erfc(y)/2, y = z/sqrt2 (Cody's three intervals as in noise.ts' erfc: |y| <= 0.46875:
 *    1 - erf; then erfcx(|y|) exp(-y^2), reflected as 2 - erfc(|y|) for y < 0; the y > 4 rational
 *    only when a lane needs it);
 *  - logistic: F = sigma(z), 1 - F = sigma(-z) as for the return curve.
 * A row goes through greeksRow instead when it is outside the range where this path is exact to
 * rounding (or holds a NaN there): |kR (P - Pmid)| > 700 on a non-constant return curve (exp(-|x|)
 * would leave the normal range), |z| > 37 (normal: exp(-z^2/2)) or |z| > 700 (logistic). That
 * choice depends on the row alone and lanes do not interact, so a row's Greeks are the same bits in
 * any batch and at any position (the batch path relies on it). The arguments of a declined lane are
 * replaced by 0 and its results are not stored.
 */
// @ts-ignore: decorator
@inline function greeksPair(kind: i32, n: i32, inPtr: usize, outPtr: usize, stride: usize, i: i32, full: bool): void {
  const b = inPtr + (<usize>i << 3);
  const P = full ? v128.load(b) : v128.load64_splat(b);
  const Rmin = full ? v128.load(b + 3 * stride) : v128.load64_splat(b + 3 * stride);
  const Rmax = full ? v128.load(b + 4 * stride) : v128.load64_splat(b + 4 * stride);
  const kR = full ? v128.load(b + 5 * stride) : v128.load64_splat(b + 5 * stride);
  const Pmid = full ? v128.load(b + 6 * stride) : v128.load64_splat(b + 6 * stride);
  const B = full ? v128.load(b + 8 * stride) : v128.load64_splat(b + 8 * stride);
  const E = full ? v128.load(b + 9 * stride) : v128.load64_splat(b + 9 * stride);
  const CONSTR = v128.or(f64x2.eq(Rmin, Rmax), f64x2.eq(kR, vk(kZERO)));
  const XR0 = vsel(vk(kZERO), vmul(kR, vsub(P, Pmid)), CONSTR);
  const Z0 = vdiv(vsub(P, B), E);
  const ZMAX = kind == 0 ? vk(kZ_MAX_NORMAL) : vk(kEXP_ARG_MAX);
  const OK = v128.and(f64x2.le(f64x2.abs(XR0), vk(kEXP_ARG_MAX)), f64x2.le(f64x2.abs(Z0), ZMAX));
  const want = full ? 3 : 1;
  const lanes = i64x2.bitmask(OK) & want;
  if (lanes != 0) {
    const XR = vsel(XR0, vk(kZERO), OK);
    const Z = vsel(Z0, vk(kZERO), OK);
    const C = full ? v128.load(b + stride) : v128.load64_splat(b + stride);
    const Cret = full ? v128.load(b + 2 * stride) : v128.load64_splat(b + 2 * stride);
    const A = full ? v128.load(b + 7 * stride) : v128.load64_splat(b + 7 * stride);
    // return rate and margin (docs/math.md §4.1)
    const EX = vexp(f64x2.neg(f64x2.abs(XR)), vk(kZERO));
    const U1R = vadd(vk(kONE), EX);
    const BIGR = vdiv(vk(kONE), U1R);
    const SMLR = vdiv(EX, U1R);
    const POSR = f64x2.ge(XR, vk(kZERO));
    const SR = vsel(BIGR, SMLR, POSR);
    const GR = vsel(SMLR, BIGR, POSR);
    const DR = vsub(Rmax, Rmin);
    const DRK = vmul(DR, kR);
    const R = vsel(Rmin, vadd(Rmin, vmul(DR, SR)), CONSTR);
    const R1 = vsel(vk(kZERO), vmul(vmul(DRK, SR), GR), CONSTR);
    const R2 = vsel(vk(kZERO), vmul(vmul(vmul(vmul(DRK, kR), SR), GR), vsub(GR, SR)), CONSTR);
    const K = vadd(vsub(P, C), Cret);
    const ONEMR = vsub(vk(kONE), R);
    const M = vsub(vmul(vsub(P, C), ONEMR), vmul(Cret, R));
    const M1 = vsub(ONEMR, vmul(R1, K));
    const M2 = vsub(vmul(vk(kMINUS_TWO), R1), vmul(R2, K));
    // demand (docs/math.md §4.1): f, f' = df/dz and G = 1 - F at z
    let f: v128, fp: v128, G: v128;
    if (kind == 0) {
      // exp(-z^2/2), z = zh + zl, z^2 = zh^2 + zl (z + zh) (zh^2 exact)
      const ZH = vhi26(Z);
      const EZ = vexp(vmul(vk(kMINUS_HALF), vmul(ZH, ZH)), vmul(vmul(vk(kMINUS_HALF), vsub(Z, ZH)), vadd(Z, ZH)));
      f = vmul(vk(kINV_SQRT_2PI), EZ);
      fp = vmul(f64x2.neg(Z), f);
      const XS = vmul(Z, vk(kINV_SQRT2));
      const Y = f64x2.abs(XS);
      const Y2 = vmul(Y, Y);
      const Y4 = vmul(Y2, Y2);
      const SMALL = f64x2.le(Y, vk(kSMALL));
      let NM = erfcxMidNum(Y, Y2, Y4);
      let DM = erfcxMidDen(Y, Y2, Y4);
      const TAIL = f64x2.gt(Y, vk(kFOUR));
      if (v128.any_true(TAIL)) {
        // erfcx(y) = (1/sqrt(pi) - gap)/y, gap = TN/(s TD), s = y^2: (s TD/sqrt(pi) - TN)/(s y TD)
        const Y8 = vmul(Y4, Y4);
        const TN = erfcTailGapNum(Y2, Y4, Y8);
        const STD = vmul(Y2, erfcTailGapDen(Y2, Y4, Y8));
        NM = vsel(vsub(vmul(vk(kINV_SQRTPI), STD), TN), NM, TAIL);
        DM = vsel(vmul(STD, Y), DM, TAIL);
      }
      const DS = erfSmallDen(Y2, Y4);
      // erfc(|y|) = (DS - |y| NS)/DS (small) or erfcx(|y|) exp(-y^2); y < 0 outside small: 2 - erfc(|y|)
      const EC = vdiv(vsel(vsub(DS, vmul(XS, erfSmallNum(Y2, Y4))), vmul(NM, EZ), SMALL), vsel(DS, DM, SMALL));
      G = vmul(vk(kHALF), vsel(vsub(vk(kTWO), EC), EC, v128.andnot(f64x2.lt(XS, vk(kZERO)), SMALL)));
    } else {
      const EZ = vexp(f64x2.neg(f64x2.abs(Z)), vk(kZERO));
      const U1Z = vadd(vk(kONE), EZ);
      const BIGZ = vdiv(vk(kONE), U1Z);
      const SMLZ = vdiv(EZ, U1Z);
      const POSZ = f64x2.ge(Z, vk(kZERO));
      const F = vsel(BIGZ, SMLZ, POSZ);
      G = vsel(SMLZ, BIGZ, POSZ);
      f = vmul(F, G);
      fp = vmul(f, vsub(G, F));
    }
    // the twin's operation order, divisions included (a reciprocal would cost an ulp per term,
    // which the cancellation in Delta, Gamma and Vanna can amplify)
    const E2 = vmul(E, E);
    const NA = f64x2.neg(A);
    const Q = vmul(A, G);
    const Q1 = vdiv(vmul(NA, f), E);
    const Q2 = vdiv(vmul(NA, fp), E2);
    const ZF = vmul(Z, f);
    const MA = vmul(M, A);
    const dQ = full ? v128.load(b + 10 * stride) : v128.load64_splat(b + 10 * stride);
    const hold = full ? v128.load(b + 11 * stride) : v128.load64_splat(b + 11 * stride);
    const inv = full ? v128.load(b + 12 * stride) : v128.load64_splat(b + 12 * stride);
    const o = outPtr + (<usize>i << 3);
    const PI = vmul(Q, M);
    const DELTA = vadd(vmul(Q1, M), vmul(Q, M1));
    const GAMMA = vadd(vadd(vmul(Q2, M), vmul(vmul(vk(kTWO), Q1), M1)), vmul(Q, M2));
    const VEGA = vdiv(vmul(MA, ZF), E);
    const VANNA = vadd(vdiv(vmul(MA, vadd(f, vmul(Z, fp))), E2), vdiv(vmul(vmul(M1, A), ZF), E));
    const RHO = vmul(f64x2.neg(Q), K);
    const THETA = vsub(vmul(vmul(f64x2.neg(dQ), Q), M), vmul(hold, inv));
    // one branch for all seven stores (a branch between the stores costs V8 far more than it saves)
    if (lanes == 3) {
      v128.store(o, PI);
      v128.store(o + stride, DELTA);
      v128.store(o + 2 * stride, GAMMA);
      v128.store(o + 3 * stride, VEGA);
      v128.store(o + 4 * stride, VANNA);
      v128.store(o + 5 * stride, RHO);
      v128.store(o + 6 * stride, THETA);
    } else {
      storeLanes(o, PI, lanes);
      storeLanes(o + stride, DELTA, lanes);
      storeLanes(o + 2 * stride, GAMMA, lanes);
      storeLanes(o + 3 * stride, VEGA, lanes);
      storeLanes(o + 4 * stride, VANNA, lanes);
      storeLanes(o + 5 * stride, RHO, lanes);
      storeLanes(o + 6 * stride, THETA, lanes);
    }
  }
  if (lanes != want) {
    const rows = full ? 2 : 1;
    for (let j = 0; j < rows; j++) {
      if (!((lanes >> j) & 1)) greeksRow(kind, n, inPtr, outPtr, i + j);
    }
  }
}

/**
 * Greeks at the P column (docs/math.md §4.2). Output: 7 columns of n: profit Pi = Q M (H omitted),
 * delta, gamma, vega = dPi/dsigma, vanna = d2Pi/dP dsigma, rho = -Q (P - C + Cret),
 * theta = -deltaQ Q M - h q. Constant elasticity: vega = vanna = 0.
 * SIMD build, win-probability demand: rows through greeksPair (and those it declines through
 * greeksRow); constant elasticity: greeksRow.
 */
export function greeks(demandKind: i32, n: i32, inPtr: usize, outPtr: usize): void {
  const stride = <usize>n << 3;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    if (demandKind == 0) {
      for (; i + 2 <= n; i += 2) greeksPair(0, n, inPtr, outPtr, stride, i, true);
      if (i < n) greeksPair(0, n, inPtr, outPtr, stride, i, false);
      return;
    }
    if (demandKind == 1) {
      for (; i + 2 <= n; i += 2) greeksPair(1, n, inPtr, outPtr, stride, i, true);
      if (i < n) greeksPair(1, n, inPtr, outPtr, stride, i, false);
      return;
    }
  }
  for (; i < n; i++) greeksRow(demandKind, n, inPtr, outPtr, i);
}

/** The building blocks at the P column (docs/math.md §4.1): 7 columns of n: R, M, M', M'', Q, Q', Q''. */
export function profitTerms(demandKind: i32, n: i32, inPtr: usize, outPtr: usize): void {
  const stride = <usize>n << 3;
  for (let i = 0; i < n; i++) {
    loadParams(inPtr, n, i);
    evalModel(demandKind, col(inPtr, n, 0, i));
    const o = outPtr + (<usize>i << 3);
    store<f64>(o, mR);
    store<f64>(o + stride, mM);
    store<f64>(o + 2 * stride, mM1);
    store<f64>(o + 3 * stride, mM2);
    store<f64>(o + 4 * stride, mQ);
    store<f64>(o + 5 * stride, mQ1);
    store<f64>(o + 6 * stride, mQ2);
  }
}

/**
 * Closed-form optimum for a constant return rate R (docs/math.md §4.3), C_eff = C + R Cret/(1 - R):
 * constant elasticity P* = |eps|/(|eps| - 1) C_eff (NaN unless eps < -1 and C_eff > 0);
 * win probability P* = mu + sigma phi_std^-1((C_eff - mu)/sigma). NaN unless 0 <= R < 1.
 */
function closedFormConstR(kind: i32, R: f64): f64 {
  if (!(R >= 0.0 && R < 1.0)) return NaN;
  const Ceff = pC + R * pCret / (1.0 - R);
  if (kind == KIND_CE) {
    if (!(pE < -1.0) || !(Ceff > 0.0)) return NaN;
    const ae = -pE;
    return ae / (ae - 1.0) * Ceff;
  }
  return pB + pE * vvInverseStd(kind, (Ceff - pB) / pE);
}

/**
 * The §4.3 closed form, out[i] = P*; NaN where it does not apply (R not constant, R outside [0,1),
 * and for constant elasticity eps >= -1 or C_eff <= 0). The P column is not read.
 */
export function closedFormPrice(demandKind: i32, n: i32, inPtr: usize, outPtr: usize): void {
  for (let i = 0; i < n; i++) {
    loadParams(inPtr, n, i);
    const P = returnRateConstant() ? closedFormConstR(demandKind, pRmin) : NaN;
    store<f64>(outPtr + (<usize>i << 3), P);
  }
}

// Result of localMax / optimumOne.
let oPrice: f64 = 0.0;
let oConv: f64 = 0.0;
let oIter: i32 = 0;

/** Cells of the coarse scan that looks for a higher peak than the first local search found. */
const SCAN: i32 = 24;

/**
 * A local maximum of Pi on [lo, hi] for the loaded SKU (docs/math.md §4.3); sets oPrice, oConv, oIter.
 * 1. A bracket [a, b] with Delta(a) > 0 > Delta(b) holds a local maximum. If the endpoints do not
 *    give one, golden-section search on Pi shrinks [lo, hi] around a local maximum, and switches to
 *    step 2 as soon as its endpoints do; otherwise it stops when the interval is <= tol (a maximum
 *    at a boundary, or a flat Pi) and takes its best point.
 * 2. Newton on Delta = 0 with Gamma as derivative, from `start` clamped into the bracket (its
 *    midpoint when start is NaN) or from the best golden point; a step is replaced by bisection on
 *    Delta's sign when Gamma >= 0 or it leaves the bracket. Converged when a step or the bracket is
 *    <= tol (after a Newton step that small the error is of order tol^2).
 */
function localMax(kind: i32, lo: f64, hi: f64, start: f64, tol: f64): void {
  let it: i32 = 0;
  let conv: f64 = 0.0;
  evalModel(kind, lo);
  let a = lo;
  let da = mDelta;
  evalModel(kind, hi);
  let b = hi;
  let db = mDelta;
  let x: f64 = NaN;
  if (!(lo < hi)) {
    x = lo;
    conv = 1.0;
  } else {
    let bracketed = da > 0.0 && db < 0.0;
    let best: f64 = NaN; // best interior golden point, a start for Newton
    if (!bracketed) {
      let c = b - GOLD * (b - a);
      let d = a + GOLD * (b - a);
      evalModel(kind, c);
      let pc = mProfit;
      let dc = mDelta;
      evalModel(kind, d);
      let pd = mProfit;
      let dd = mDelta;
      while (it < MAXIT) {
        it++;
        if (pc >= pd) {
          b = d;
          db = dd;
          d = c;
          pd = pc;
          dd = dc;
          c = b - GOLD * (b - a);
          evalModel(kind, c);
          pc = mProfit;
          dc = mDelta;
        } else {
          a = c;
          da = dc;
          c = d;
          pc = pd;
          dc = dd;
          d = a + GOLD * (b - a);
          evalModel(kind, d);
          pd = mProfit;
          dd = mDelta;
        }
        best = pc >= pd ? c : d;
        if (da > 0.0 && db < 0.0) {
          bracketed = true;
          break;
        }
        if (b - a <= tol) {
          x = best;
          conv = 1.0;
          break;
        }
      }
      if (!bracketed && conv == 0.0) x = best;
    }
    if (bracketed) {
      x = best;
      if (!(x > a && x < b)) {
        x = start;
        if (x < a) x = a;
        else if (x > b) x = b;
        else if (x != x) x = a + 0.5 * (b - a);
      }
      while (it < MAXIT) {
        it++;
        evalModel(kind, x);
        const dl = mDelta;
        if (dl == 0.0) {
          conv = 1.0;
          break;
        }
        if (dl > 0.0) a = x;
        else b = x;
        let xn = mGamma < 0.0 ? x - dl / mGamma : NaN;
        if (!(xn >= a && xn <= b)) xn = a + 0.5 * (b - a);
        const dx = Math.abs(xn - x);
        x = xn;
        if (dx <= tol || b - a <= tol) {
          conv = 1.0;
          break;
        }
      }
    }
  }
  oPrice = x;
  oConv = conv;
  oIter = it;
}

/**
 * Maximise Pi on [lo, hi] for the loaded SKU (docs/math.md §4.3).
 * 1. localMax from the closed-form start: C_eff with R frozen at R((lo+hi)/2).
 * 2. Pi can have several local maxima (a steep return-rate step splits the profit curve), so a
 *    coarse scan of SCAN + 1 equally spaced prices looks for a higher value; when it finds one,
 *    localMax runs again on the two scan cells around it and the better result is kept. A peak
 *    narrower than (hi - lo)/SCAN can still be missed.
 * 3. The result is the best of that, lo and hi (so a boundary maximum is returned exactly).
 * tol = 1e-12 max(|lo|, |hi|, hi - lo); converged/iterations are those of the search that won
 * (iterations: golden + Newton/bisection steps of both searches; scan points not counted).
 */
function optimumOne(kind: i32, lo: f64, hi: f64): void {
  const tol = 1e-12 * Math.max(Math.max(Math.abs(lo), Math.abs(hi)), hi - lo);
  evalModel(kind, lo);
  const piLo = mProfit;
  evalModel(kind, hi);
  const piHi = mProfit;
  const start = closedFormConstR(kind, returnRate(lo + 0.5 * (hi - lo)));
  localMax(kind, lo, hi, start, tol);
  let x = oPrice;
  let conv = oConv;
  let it = oIter;
  evalModel(kind, x);
  let px = mProfit;
  if (lo < hi) {
    const h = (hi - lo) / <f64>SCAN;
    let jBest: i32 = -1;
    let pBest = px;
    for (let j = 1; j < SCAN; j++) {
      evalModel(kind, lo + <f64>j * h);
      if (mProfit > pBest) {
        pBest = mProfit;
        jBest = j;
      }
    }
    if (jBest > 0) {
      const a = lo + <f64>(jBest - 1) * h;
      const b = jBest == SCAN - 1 ? hi : lo + <f64>(jBest + 1) * h;
      localMax(kind, a, b, lo + <f64>jBest * h, tol);
      it += oIter;
      evalModel(kind, oPrice);
      if (mProfit > px) {
        x = oPrice;
        px = mProfit;
        conv = oConv;
      }
    }
  }
  if (piLo > px) {
    x = lo;
    px = piLo;
  }
  if (piHi > px) x = hi;
  oPrice = x;
  oConv = conv;
  oIter = it;
}

/**
 * Return-aware optimum on [lo_i, hi_i] (docs/math.md §4.3; see optimumOne). The P column is not read.
 * Output: 5 columns of n: price, gamma at the price, profit at the price, converged (1/0),
 * iterations (golden-section + Newton/bisection steps).
 */
export function returnAwareOptimum(demandKind: i32, n: i32, inPtr: usize, loPtr: usize, hiPtr: usize, outPtr: usize): void {
  const stride = <usize>n << 3;
  for (let i = 0; i < n; i++) {
    loadParams(inPtr, n, i);
    const off = <usize>i << 3;
    optimumOne(demandKind, load<f64>(loPtr + off), load<f64>(hiPtr + off));
    evalModel(demandKind, oPrice);
    const o = outPtr + off;
    store<f64>(o, oPrice);
    store<f64>(o + stride, mGamma);
    store<f64>(o + 2 * stride, mProfit);
    store<f64>(o + 3 * stride, oConv);
    store<f64>(o + 4 * stride, <f64>oIter);
  }
}
