// TypeScript twin of assembly/greeks.ts (the parity reference): same algorithms, same operation
// order; arrays instead of pointers. "Greeks" of the expected-profit function Pi(P) = Q(P) M(P) - H
// (docs/math.md §4), the return-aware optimum (Delta = 0, §4.3) and the constant-R closed-form price
// (§4.3). Batched over n SKUs.
//
// Input: a column-major block of 13 columns of n (column k at input[k*n .. k*n + n)):
//   0 P, 1 C, 2 Cret, 3 Rmin, 4 Rmax, 5 kR, 6 Pmid, 7 A, 8 B, 9 E, 10 deltaQ, 11 holding, 12 inventory
// demandKind 0: win probability Q = A (1 - F((P - B)/E)), F normal (A = N, B = mu, E = sigma);
//            1: same with F logistic; 2: constant elasticity Q = A (P/B)^E (A = Q0, B = P0, E = eps).
// Return rate: the logistic curve R(P) = Rmin + (Rmax - Rmin) S, S = sigmoid(kR (P - Pmid)) (§4.1),
// constant (R = Rmin) when Rmin == Rmax or kR == 0.
import { erfc, normPdf, logisticCdf } from './noise.js';
import { vvInverseStd } from './quote.js';

const INV_SQRT2: number = 0.7071067811865476;
/** 1/golden ratio */
const GOLD: number = 0.6180339887498949;
const MAXIT: number = 200;

const KIND_CE: number = 2;

// Parameters of the current SKU (loaded once per row).
let pC: number = 0.0;
let pCret: number = 0.0;
let pRmin: number = 0.0;
let pRmax: number = 0.0;
let pkR: number = 0.0;
let pPmid: number = 0.0;
let pA: number = 0.0;
let pB: number = 0.0;
let pE: number = 0.0;

// Model at one price (set by evalModel).
let mQ: number = 0.0;
let mQ1: number = 0.0;
let mQ2: number = 0.0;
let mM: number = 0.0;
let mM1: number = 0.0;
let mM2: number = 0.0;
let mR: number = 0.0;
let mK: number = 0.0; // P - C + Cret
let mz: number = 0.0; // standardised price (win-probability demand)
let mf: number = 0.0; // f(z)
let mfp: number = 0.0; // f'(z)
let mDelta: number = 0.0;
let mGamma: number = 0.0;
let mProfit: number = 0.0;

function col(input: Float64Array, n: number, k: number, i: number): number {
  return input[k * n + i];
}

function loadParams(input: Float64Array, n: number, i: number): void {
  pC = col(input, n, 1, i);
  pCret = col(input, n, 2, i);
  pRmin = col(input, n, 3, i);
  pRmax = col(input, n, 4, i);
  pkR = col(input, n, 5, i);
  pPmid = col(input, n, 6, i);
  pA = col(input, n, 7, i);
  pB = col(input, n, 8, i);
  pE = col(input, n, 9, i);
}

function returnRateConstant(): boolean {
  return pRmin == pRmax || pkR == 0.0;
}

/** R(P) of the logistic curve (docs/math.md §4.1). */
function returnRate(P: number): number {
  if (returnRateConstant()) return pRmin;
  return pRmin + (pRmax - pRmin) * logisticCdf(pkR * (P - pPmid));
}

/** Q, M and their first two P-derivatives, Pi, Delta, Gamma at P (docs/math.md §4.1, §4.2). */
function evalModel(kind: number, P: number): void {
  // return rate and margin (§4.1); 1 - 2S computed as G - S, G = 1 - S = sigmoid(-x)
  let R: number;
  let R1: number = 0.0;
  let R2: number = 0.0;
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
    let f: number;
    let fp: number;
    let G: number;
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

/**
 * Greeks at the P column (docs/math.md §4.2). Output: 7 columns of n: profit Pi = Q M (H omitted),
 * delta, gamma, vega = dPi/dsigma, vanna = d2Pi/dP dsigma, rho = -Q (P - C + Cret),
 * theta = -deltaQ Q M - h q. Constant elasticity: vega = vanna = 0.
 */
export function greeks(demandKind: number, n: number, input: Float64Array, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    loadParams(input, n, i);
    const P = col(input, n, 0, i);
    evalModel(demandKind, P);
    let vega: number = 0.0;
    let vanna: number = 0.0;
    if (demandKind != KIND_CE) {
      // dQ/dsigma = A z f(z)/sigma; dQ'/dsigma = A (f + z f')/sigma^2
      const zf = mz * mf;
      vega = mM * pA * zf / pE;
      vanna = mM * pA * (mf + mz * mfp) / (pE * pE) + mM1 * pA * zf / pE;
    }
    const theta = -col(input, n, 10, i) * mQ * mM - col(input, n, 11, i) * col(input, n, 12, i);
    out[i] = mProfit;
    out[n + i] = mDelta;
    out[2 * n + i] = mGamma;
    out[3 * n + i] = vega;
    out[4 * n + i] = vanna;
    out[5 * n + i] = -mQ * mK;
    out[6 * n + i] = theta;
  }
}

/** The building blocks at the P column (docs/math.md §4.1): 7 columns of n: R, M, M', M'', Q, Q', Q''. */
export function profitTerms(demandKind: number, n: number, input: Float64Array, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    loadParams(input, n, i);
    evalModel(demandKind, col(input, n, 0, i));
    out[i] = mR;
    out[n + i] = mM;
    out[2 * n + i] = mM1;
    out[3 * n + i] = mM2;
    out[4 * n + i] = mQ;
    out[5 * n + i] = mQ1;
    out[6 * n + i] = mQ2;
  }
}

/**
 * Closed-form optimum for a constant return rate R (docs/math.md §4.3), C_eff = C + R Cret/(1 - R):
 * constant elasticity P* = |eps|/(|eps| - 1) C_eff (NaN unless eps < -1 and C_eff > 0);
 * win probability P* = mu + sigma phi_std^-1((C_eff - mu)/sigma). NaN unless 0 <= R < 1.
 */
function closedFormConstR(kind: number, R: number): number {
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
export function closedFormPrice(demandKind: number, n: number, input: Float64Array, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    loadParams(input, n, i);
    const P = returnRateConstant() ? closedFormConstR(demandKind, pRmin) : NaN;
    out[i] = P;
  }
}

// Result of localMax / optimumOne.
let oPrice: number = 0.0;
let oConv: number = 0.0;
let oIter: number = 0;

/** Cells of the coarse scan that looks for a higher peak than the first local search found. */
const SCAN: number = 24;

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
function localMax(kind: number, lo: number, hi: number, start: number, tol: number): void {
  let it: number = 0;
  let conv: number = 0.0;
  evalModel(kind, lo);
  let a = lo;
  let da = mDelta;
  evalModel(kind, hi);
  let b = hi;
  let db = mDelta;
  let x: number = NaN;
  if (!(lo < hi)) {
    x = lo;
    conv = 1.0;
  } else {
    let bracketed = da > 0.0 && db < 0.0;
    let best: number = NaN; // best interior golden point, a start for Newton
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
function optimumOne(kind: number, lo: number, hi: number): void {
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
    const h = (hi - lo) / SCAN;
    let jBest: number = -1;
    let pBest = px;
    for (let j = 1; j < SCAN; j++) {
      evalModel(kind, lo + j * h);
      if (mProfit > pBest) {
        pBest = mProfit;
        jBest = j;
      }
    }
    if (jBest > 0) {
      const a = lo + (jBest - 1) * h;
      const b = jBest == SCAN - 1 ? hi : lo + (jBest + 1) * h;
      localMax(kind, a, b, lo + jBest * h, tol);
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
export function returnAwareOptimum(
  demandKind: number, n: number, input: Float64Array, lo: Float64Array, hi: Float64Array, out: Float64Array,
): void {
  for (let i = 0; i < n; i++) {
    loadParams(input, n, i);
    optimumOne(demandKind, lo[i], hi[i]);
    evalModel(demandKind, oPrice);
    out[i] = oPrice;
    out[n + i] = mGamma;
    out[2 * n + i] = mProfit;
    out[3 * n + i] = oConv;
    out[4 * n + i] = oIter;
  }
}
