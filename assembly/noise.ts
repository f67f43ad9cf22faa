// Noise families of docs/math.md §1.3, in standardised units (scale 1). Callers divide by the scale.
// Gaussian tails go through erfcx so that log Phi, the inverse Mills ratio and the hazard keep
// full relative precision far into the tails (Cody's erfcx, < 1e-15 on [-26, 26.5]).

export const FAMILY_GAUSSIAN: i32 = 0;
export const FAMILY_LOGISTIC: i32 = 1;

const SQRT2: f64 = 1.4142135623730951;
const INV_SQRT2: f64 = 0.7071067811865476;
const INV_SQRTPI: f64 = 0.5641895835477563;
const SQRT_2_OVER_PI: f64 = 0.7978845608028654;
const LN_SQRT_2PI: f64 = 0.9189385332046728;
const INV_SQRT_2PI: f64 = 0.3989422804014327;

// see: W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 1969,
// and SPECFUN CALERF (1990): three intervals, |x| <= 0.46875, <= 4, > 4.
// @ts-ignore: decorator
@inline function erfSmall(x: f64): f64 {
  const z = x * x;
  let num = 1.85777706184603153e-1 * z;
  let den = z;
  num = (num + 3.16112374387056560e0) * z; den = (den + 2.36012909523441209e1) * z;
  num = (num + 1.13864154151050156e2) * z; den = (den + 2.44024637934444173e2) * z;
  num = (num + 3.77485237685302021e2) * z; den = (den + 1.28261652607737228e3) * z;
  return x * (num + 3.20937758913846947e3) / (den + 2.84423683343917062e3);
}

// erfcx on 0.46875 < y <= 4
// @ts-ignore: decorator
@inline function erfcxMid(y: f64): f64 {
  let num = 2.15311535474403846e-8 * y;
  let den = y;
  num = (num + 5.64188496988670089e-1) * y; den = (den + 1.57449261107098347e1) * y;
  num = (num + 8.88314979438837594e0) * y; den = (den + 1.17693950891312499e2) * y;
  num = (num + 6.61191906371416295e1) * y; den = (den + 5.37181101862009858e2) * y;
  num = (num + 2.98635138197400131e2) * y; den = (den + 1.62138957456669019e3) * y;
  num = (num + 8.81952221241769090e2) * y; den = (den + 3.29079923573345963e3) * y;
  num = (num + 1.71204761263407058e3) * y; den = (den + 4.36261909014324716e3) * y;
  num = (num + 2.05107837782607147e3) * y; den = (den + 3.43936767414372164e3) * y;
  return (num + 1.23033935479799725e3) / (den + 1.23033935480374942e3);
}

// For y > 4: 1/sqrt(pi) - y*erfcx(y) = (1/y^2) P(1/y^2)/Q(1/y^2), free of cancellation.
// @ts-ignore: decorator
@inline function erfcxTailGap(y: f64): f64 {
  const r = 1.0 / (y * y);
  let num = 1.63153871373020978e-2 * r;
  let den = r;
  num = (num + 3.05326634961232344e-1) * r; den = (den + 2.56852019228982242e0) * r;
  num = (num + 3.60344899949804439e-1) * r; den = (den + 1.87295284992346047e0) * r;
  num = (num + 1.25781726111229246e-1) * r; den = (den + 5.27905102951428412e-1) * r;
  num = (num + 1.60837851487422766e-2) * r; den = (den + 6.05183413124413191e-2) * r;
  return r * (num + 6.58749161529837803e-4) / (den + 2.33520497626869185e-3);
}

// exp(x*x) without the rounding error of squaring a large x (Cody's split at 1/16).
// @ts-ignore: decorator
@inline function expSquare(x: f64): f64 {
  const t = Math.trunc(x * 16.0) / 16.0;
  const del = (x - t) * (x + t);
  return Math.exp(t * t) * Math.exp(del);
}

// exp(-x*x), same split.
// @ts-ignore: decorator
@inline function expNegSquare(x: f64): f64 {
  const t = Math.trunc(x * 16.0) / 16.0;
  const del = (x - t) * (x + t);
  return Math.exp(-t * t) * Math.exp(-del);
}

/** Scaled complementary error function exp(x^2) erfc(x). */
export function erfcx(x: f64): f64 {
  const y = Math.abs(x);
  let r: f64;
  if (y <= 0.46875) return Math.exp(x * x) * (1.0 - erfSmall(x));
  if (y <= 4.0) r = erfcxMid(y);
  else r = (INV_SQRTPI - erfcxTailGap(y)) / y;
  if (x < 0.0) {
    if (x < -26.628) return Infinity;
    r = 2.0 * expSquare(y) - r;
  }
  return r;
}

/** Complementary error function. */
export function erfc(x: f64): f64 {
  const y = Math.abs(x);
  if (y <= 0.46875) return 1.0 - erfSmall(x);
  let r: f64;
  if (y <= 4.0) r = erfcxMid(y);
  else if (y < 27.3) r = (INV_SQRTPI - erfcxTailGap(y)) / y;
  else r = 0.0;
  r *= expNegSquare(y);
  return x < 0.0 ? 2.0 - r : r;
}

/** 1/sqrt(pi) - y erfcx(y) for y >= 0, accurate for large y (used by the Mills-ratio curvature). */
export function erfcxGap(y: f64): f64 {
  if (y > 4.0) return erfcxTailGap(y);
  return INV_SQRTPI - y * erfcx(y);
}

export function normPdf(z: f64): f64 {
  return INV_SQRT_2PI * Math.exp(-0.5 * z * z);
}

/** Phi(z) */
export function normCdf(z: f64): f64 {
  return 0.5 * erfc(-z * INV_SQRT2);
}

/** log Phi(z), relative error ~1e-15 on [-37, 8] (docs/math.md §1.3 numerical note). */
export function normLogCdf(z: f64): f64 {
  if (z < -1.0) {
    const t = -z * INV_SQRT2;
    return Math.log(0.5 * erfcx(t)) - 0.5 * z * z;
  }
  if (z > 0.0) return Math.log1p(-0.5 * erfc(z * INV_SQRT2));
  return Math.log(0.5 * erfc(-z * INV_SQRT2));
}

/** lambda(z) = phi(z)/Phi(z), the lower-tail inverse Mills ratio (docs/math.md §1.3). */
export function normMills(z: f64): f64 {
  if (z < 0.0) return SQRT_2_OVER_PI / erfcx(-z * INV_SQRT2);
  return normPdf(z) / normCdf(z);
}

/** z + lambda(z) >= 0 without cancellation in the left tail. */
export function normMillsShift(z: f64): f64 {
  if (z < 0.0) {
    const t = -z * INV_SQRT2;
    // z + lambda = sqrt2 (1/sqrt(pi) - t erfcx(t)) / erfcx(t)
    return SQRT2 * erfcxGap(t) / erfcx(t);
  }
  return z + normPdf(z) / normCdf(z);
}

/** Mills ratio m(v) = (1 - Phi(v))/phi(v) = sqrt(pi/2) erfcx(v/sqrt2) (docs/math.md §1.5). */
export function normMillsRatio(v: f64): f64 {
  return 1.2533141373155003 * erfcx(v * INV_SQRT2);
}

// ---------------------------------------------------------------------------------------------
// Logistic, standardised: F = sigmoid(z).

export function logisticCdf(z: f64): f64 {
  if (z >= 0.0) return 1.0 / (1.0 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1.0 + e);
}

/** log sigmoid(z), stable for both signs. */
export function logisticLogCdf(z: f64): f64 {
  if (z >= 0.0) return -Math.log1p(Math.exp(-z));
  return z - Math.log1p(Math.exp(z));
}

// ---------------------------------------------------------------------------------------------
// The three log-terms of the censored likelihood and their first two derivatives in z.
// term 0: log f0(z) (density, a revealed competitor price); term 1: log F0(z); term 2: log(1-F0(z)).
// Results go to the globals below to avoid a multi-value return.

export let termValue: f64 = 0.0;
export let termD1: f64 = 0.0;
export let termD2: f64 = 0.0;

export function logTerm(family: i32, term: i32, z: f64): void {
  if (family == FAMILY_GAUSSIAN) {
    if (term == 0) {
      termValue = -0.5 * z * z - LN_SQRT_2PI;
      termD1 = -z;
      termD2 = -1.0;
    } else {
      // term 2 is term 1 mirrored: log(1 - Phi(z)) = log Phi(-z)
      const s: f64 = term == 1 ? 1.0 : -1.0;
      const zz = s * z;
      const lam = normMills(zz);
      termValue = normLogCdf(zz);
      termD1 = s * lam;
      termD2 = -lam * normMillsShift(zz);
    }
  } else {
    const F = logisticCdf(z);
    const G = logisticCdf(-z);
    if (term == 0) {
      termValue = logisticLogCdf(z) + logisticLogCdf(-z);
      termD1 = G - F;
      termD2 = -2.0 * F * G;
    } else if (term == 1) {
      termValue = logisticLogCdf(z);
      termD1 = G;
      termD2 = -F * G;
    } else {
      termValue = logisticLogCdf(-z);
      termD1 = -F;
      termD2 = -F * G;
    }
  }
}

/**
 * Evaluate a noise family on a vector w with scale s (docs/math.md §1.3). Output: 12 columns of n
 * values, column-major at outPtr: f, F, 1-F, log f, log F, log(1-F), (log f)', (log f)'',
 * (log F)', (log F)'', (log(1-F))', (log(1-F))''.
 */
export function noiseTable(family: i32, scale: f64, n: i32, wPtr: usize, outPtr: usize): void {
  const stride = <usize>n << 3;
  const inv = 1.0 / scale;
  const inv2 = inv * inv;
  const logScale = Math.log(scale);
  for (let i = 0; i < n; i++) {
    const z = load<f64>(wPtr + (<usize>i << 3)) * inv;
    const o = outPtr + (<usize>i << 3);
    logTerm(family, 0, z);
    const logf = termValue - logScale;
    store<f64>(o + 3 * stride, logf);
    store<f64>(o, Math.exp(logf));
    store<f64>(o + 6 * stride, termD1 * inv);
    store<f64>(o + 7 * stride, termD2 * inv2);
    logTerm(family, 1, z);
    store<f64>(o + 4 * stride, termValue);
    store<f64>(o + stride, Math.exp(termValue));
    store<f64>(o + 8 * stride, termD1 * inv);
    store<f64>(o + 9 * stride, termD2 * inv2);
    logTerm(family, 2, z);
    store<f64>(o + 5 * stride, termValue);
    store<f64>(o + 2 * stride, Math.exp(termValue));
    store<f64>(o + 10 * stride, termD1 * inv);
    store<f64>(o + 11 * stride, termD2 * inv2);
  }
}
