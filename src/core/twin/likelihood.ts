// TypeScript twin of assembly/likelihood.ts (the parity reference): censored log-likelihood of
// docs/math.md §1.4 with gradient and Hessian in (θ) or (θ, log σ). Same algorithm and the same order of
// floating-point operations as both WASM builds, row by row (the WASM f64x2 lanes are rows here;
// the dot product's lanes are the even/odd accumulators). One difference: where the WASM code uses
// its own exp/log on bounded domains (expS/logS, and log1p(e) = log(u) - ((u-1) - e)/u), this
// twin calls Math.exp, Math.log and Math.log1p, so the two agree to about an ulp per term.

const SQRT2 = 1.4142135623730951;
const INV_SQRT2 = 0.7071067811865476;
const INV_SQRTPI = 0.5641895835477563;
const SQRT_2_OVER_PI = 0.7978845608028654;
const LN_SQRT_2PI = 0.9189385332046728;
const INV_SQRT_2PI = 0.3989422804014327;

let termG1 = 0.0;
let termG2 = 0.0;

// Cody's rational approximations (W. J. Cody, Math. Comp. 1969; SPECFUN CALERF; the same
// coefficients as assembly/noise.ts) evaluated by Estrin's scheme instead of Horner's: the
// numerator and denominator polynomials have positive coefficients and arguments, so there is no
// cancellation either way, and the dependency chain is about half as long (this pass is latency
// bound). Coefficients are listed from the constant term up: erf(x) = x·P(x²)/Q(x²) for
// |x| <= 0.46875 (degree 4), erfcx(y) = P(y)/Q(y) for 0.46875 < y <= 4 (degree 8), and below.

/** 1/√π - y·erfcx(y) for y > 4: r·P(r)/Q(r), r = 1/y², degree 5 (free of cancellation). */
function erfcxTailGapE(y: number): number {
  const r = 1.0 / (y * y);
  const r2 = r * r;
  const r4 = r2 * r2;
  const num = (6.58749161529837803e-4 + 1.60837851487422766e-2 * r) + (1.25781726111229246e-1 + 3.60344899949804439e-1 * r) * r2
    + (3.05326634961232344e-1 + 1.63153871373020978e-2 * r) * r4;
  const den = (2.33520497626869185e-3 + 6.05183413124413191e-2 * r) + (5.27905102951428412e-1 + 1.87295284992346047e0 * r) * r2
    + (2.56852019228982242e0 + r) * r4;
  return r * num / den;
}

/**
 * log Phi(zz) and, scaled by the mirror sign sgn, its z-derivatives (docs/math.md §1.3): the lower-tail
 * inverse Mills ratio lambda = phi/Phi and -lambda·(zz + lambda).
 *
 * For y = |zz|/√2 <= 4 the two signs share one formula, without data-dependent branches (the sign
 * of zz is random in real data and a mispredicted branch here costs as much as the arithmetic):
 * P = erfc(y)/2 is the smaller tail, from Cody's erf rational (y <= 0.46875) or his erfcx rational
 * times E = exp(-y²) (both evaluated, one selected); Phi(zz) = A = P or 1 - P; lambda = E/(√(2π)·A);
 * log Phi = log A, corrected for zz >= 0 as log1p(-P) = log A - ((A - 1) + P)/A (exact to
 * rounding, also when A rounds to 1). For y > 4 (rare) the cancellation-free tail forms:
 * zz < 0: e = erfcx(y), lambda = √(2/π)/e, zz + lambda = √2·(1/√π - y·e)/e with Cody's tail gap,
 * log Phi = log(e/2) - zz²/2; zz > 0: q = e·exp(-y²)/2, log Phi = log1p(-q).
 */
function gaussCensored(zz: number, sgn: number): number {
  const y = Math.abs(zz) * INV_SQRT2;
  let lam: number, shift: number, val: number;
  if (y <= 4.0) {
    const y2 = y * y;
    const E = Math.exp(-y2);
    const y4 = y2 * y2;
    const ns = (3.20937758913846947e3 + 3.77485237685302021e2 * y2)
      + (1.13864154151050156e2 + 3.16112374387056560e0 * y2) * y4 + 1.85777706184603153e-1 * (y4 * y4);
    const ds = (2.84423683343917062e3 + 1.28261652607737228e3 * y2)
      + (2.44024637934444173e2 + 2.36012909523441209e1 * y2) * y4 + y4 * y4;
    const y8 = y4 * y4;
    const nm = ((1.23033935479799725e3 + 2.05107837782607147e3 * y) + (1.71204761263407058e3 + 8.81952221241769090e2 * y) * y2)
      + ((2.98635138197400131e2 + 6.61191906371416295e1 * y) + (8.88314979438837594e0 + 5.64188496988670089e-1 * y) * y2) * y4
      + 2.15311535474403846e-8 * y8;
    const dm = ((1.23033935480374942e3 + 3.43936767414372164e3 * y) + (4.36261909014324716e3 + 3.29079923573345963e3 * y) * y2)
      + ((1.62138957456669019e3 + 5.37181101862009858e2 * y) + (1.17693950891312499e2 + 1.57449261107098347e1 * y) * y2) * y4
      + y8;
    const small = y <= 0.46875;
    const P = 0.5 * (small ? ds - y * ns : nm * E) / (small ? ds : dm);
    const lower = zz < 0.0;
    const A = (lower ? P : 1.0 - P);
    const iA = 1.0 / A;
    val = Math.log(A) - (lower ? 0.0 : ((A - 1.0) + P) * iA);
    lam = INV_SQRT_2PI * E * iA;
    shift = zz + lam;
  } else {
    const gap = erfcxTailGapE(y);
    const e = (INV_SQRTPI - gap) / y;
    if (zz < 0.0) {
      const ie = 1.0 / e;
      lam = SQRT_2_OVER_PI * ie;
      shift = SQRT2 * gap * ie;
      val = Math.log(0.5 * e) - 0.5 * zz * zz;
    } else {
      const ex = Math.exp(-0.5 * zz * zz);
      const q = 0.5 * e * ex;
      lam = INV_SQRT_2PI * ex / (1.0 - q);
      shift = zz + lam;
      val = Math.log1p(-q);
    }
  }
  termG1 = sgn * lam;
  termG2 = -lam * shift;
  return val;
}

/**
 * Logistic log-terms with one exp and one log1p (docs/math.md §1.3, standardised s = 1):
 * F = σ_L(z), G = 1 - F; log f0 = log F + log G, (log f0)' = G - F, (log f0)'' = -2FG;
 * (log F)' = G, (log F)'' = -FG; (log G)' = -F, (log G)'' = -FG.
 */
function logisticTerm(term: number, z: number): number {
  const a = Math.abs(z);
  const e = Math.exp(-a);
  const l = Math.log1p(e);
  const big = 1.0 / (1.0 + e);
  const small = e * big;
  const pos = z >= 0.0;
  const F = (pos ? big : small);
  const G = (pos ? small : big);
  const logF = (pos ? -l : -a - l);
  const logG = (pos ? -a - l : -l);
  if (term === 0) {
    termG1 = G - F;
    termG2 = -2.0 * F * G;
    return logF + logG;
  }
  termG2 = -F * G;
  if (term === 1) {
    termG1 = G;
    return logF;
  }
  termG1 = -F;
  return logG;
}

/** Standardised log-term T(z) (term 0: log f0, 1: log F0, 2: log(1-F0)); T', T'' via lastTermG1/G2. */
export function censoredTerm(family: number, term: number, z: number): number {
  if (family === 0) {
    if (term === 0) {
      termG1 = -z;
      termG2 = -1.0;
      return -0.5 * z * z - LN_SQRT_2PI;
    }
    if (term === 1) return gaussCensored(z, 1.0);
    return gaussCensored(-z, -1.0);
  }
  return logisticTerm(term, z);
}

export function lastTermG1(): number {
  return termG1;
}

function dotRow(x: Float64Array, row: number, theta: Float64Array, d: number): number {
  let j = 0;
  let a0 = 0.0;
  let a1 = 0.0;
  for (; j + 2 <= d; j += 2) {
    a0 = a0 + x[row + j] * theta[j];
    a1 = a1 + x[row + j + 1] * theta[j + 1];
  }
  let u = a0 + a1;
  if (j < d) u += x[row + j] * theta[j];
  return u;
}

let rowC = 0.0;
let rowH = 0.0;
let rowK = 0.0;
let rowGs = 0.0;
let rowHss = 0.0;

function rowTerms(
  t: number, x: Float64Array, row: number, d: number, won: Float64Array, price: Float64Array,
  comp: Float64Array, weight: Float64Array | null, theta: Float64Array, family: number,
  lostTerm: number, inv: number, inv2: number, logSigma: number,
): number {
  const u = dotRow(x, row, theta, d);
  const wt = weight !== null ? weight[t] : 1.0;
  let z: number, ell: number, dens: number;
  if (won[t] !== 0.0) {
    z = (comp[t] - u) * inv;
    ell = censoredTerm(family, 0, z) - logSigma;
    dens = 1.0;
  } else {
    z = (price[t] - u) * inv;
    ell = censoredTerm(family, lostTerm, z);
    dens = 0.0;
  }
  const g1 = termG1;
  const g2 = termG2;
  rowC = -(wt * g1) * inv;
  rowH = (wt * g2) * inv2;
  rowK = wt * (g2 * z + g1) * inv;
  rowGs = wt * (-z * g1 - dens);
  rowHss = wt * (z * g1 + z * z * g2);
  return wt * ell;
}

/** out[o+from..o+d) += c0·x[r0..] + c1·x[r1..] + c2·x[r2..] + c3·x[r3..] in that order. */
function axpy4(
  out: Float64Array, o: number, from: number, d: number, x: Float64Array,
  r0: number, r1: number, r2: number, r3: number, c0: number, c1: number, c2: number, c3: number,
): void {
  for (let b = from; b < d; b++) {
    let a = c0 * x[r0 + b];
    a = a + c1 * x[r1 + b];
    a = a + c2 * x[r2 + b];
    a = a + c3 * x[r3 + b];
    out[o + b] = out[o + b] + a;
  }
}

function axpy1(out: Float64Array, o: number, from: number, d: number, x: Float64Array, r: number, c: number): void {
  for (let b = from; b < d; b++) out[o + b] = out[o + b] + c * x[r + b];
}

/**
 * Weighted sum of censored log-likelihood terms (docs/math.md §1.4); see assembly/likelihood.ts.
 * weight null = unit weights; grad (D) / hess (D×D) null to skip. estimateScale: theta[d] = log σ.
 */
export function censoredLogLikelihood(
  n: number, d: number, x: Float64Array, won: Float64Array, price: Float64Array, comp: Float64Array,
  weight: Float64Array | null, theta: Float64Array, family: number, scale: number, convention: number,
  estimateScale: number, grad: Float64Array | null, hess: Float64Array | null,
): number {
  const est = estimateScale !== 0;
  const D = est ? d + 1 : d;
  let logSigma: number, sigma: number;
  if (est) {
    logSigma = theta[d];
    sigma = Math.exp(logSigma);
  } else {
    sigma = scale;
    logSigma = Math.log(scale);
  }
  const inv = 1.0 / sigma;
  const inv2 = inv * inv;
  const lostTerm = convention === 0 ? 1 : 2;
  if (grad !== null) grad.fill(0, 0, D);
  if (hess !== null) hess.fill(0, 0, D * D);
  const cross = d * D;
  let sum = 0.0;
  let gs = 0.0;
  let hss = 0.0;
  let t = 0;
  for (; t + 4 <= n; t += 4) {
    const r0 = t * d;
    const r1 = r0 + d;
    const r2 = r1 + d;
    const r3 = r2 + d;
    sum += rowTerms(t, x, r0, d, won, price, comp, weight, theta, family, lostTerm, inv, inv2, logSigma);
    const c0 = rowC, h0 = rowH, k0 = rowK;
    gs += rowGs;
    hss += rowHss;
    sum += rowTerms(t + 1, x, r1, d, won, price, comp, weight, theta, family, lostTerm, inv, inv2, logSigma);
    const c1 = rowC, h1 = rowH, k1 = rowK;
    gs += rowGs;
    hss += rowHss;
    sum += rowTerms(t + 2, x, r2, d, won, price, comp, weight, theta, family, lostTerm, inv, inv2, logSigma);
    const c2 = rowC, h2 = rowH, k2 = rowK;
    gs += rowGs;
    hss += rowHss;
    sum += rowTerms(t + 3, x, r3, d, won, price, comp, weight, theta, family, lostTerm, inv, inv2, logSigma);
    const c3 = rowC, h3 = rowH, k3 = rowK;
    gs += rowGs;
    hss += rowHss;
    if (grad !== null) axpy4(grad, 0, 0, d, x, r0, r1, r2, r3, c0, c1, c2, c3);
    if (hess !== null) {
      for (let a = 0; a < d; a++) {
        axpy4(hess, a * D, a & ~1, d, x, r0, r1, r2, r3, h0 * x[r0 + a], h1 * x[r1 + a], h2 * x[r2 + a], h3 * x[r3 + a]);
      }
      if (est) axpy4(hess, cross, 0, d, x, r0, r1, r2, r3, k0, k1, k2, k3);
    }
  }
  for (; t < n; t++) {
    const r0 = t * d;
    sum += rowTerms(t, x, r0, d, won, price, comp, weight, theta, family, lostTerm, inv, inv2, logSigma);
    const c0 = rowC, h0 = rowH, k0 = rowK;
    gs += rowGs;
    hss += rowHss;
    if (grad !== null) axpy1(grad, 0, 0, d, x, r0, c0);
    if (hess !== null) {
      for (let a = 0; a < d; a++) axpy1(hess, a * D, a & ~1, d, x, r0, h0 * x[r0 + a]);
      if (est) axpy1(hess, cross, 0, d, x, r0, k0);
    }
  }
  if (grad !== null && est) grad[d] = gs;
  if (hess !== null) {
    for (let a = 0; a < d; a++) {
      for (let b = a + 1; b < d; b++) hess[b * D + a] = hess[a * D + b];
    }
    if (est) {
      for (let a = 0; a < d; a++) hess[a * D + d] = hess[cross + a];
      hess[cross + d] = hss;
    }
  }
  return sum;
}
