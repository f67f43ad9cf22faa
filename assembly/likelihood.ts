// Censored log-likelihood of the competitor model y = xᵀθ + σ·z (docs/math.md §1.4), its gradient and
// Hessian, optionally in (θ, log σ). This is the benchmark kernel: one pass over n rows of x.
//
// Per row t, with w_t = v_t - x_tᵀθ (v = competitor price y when won, our price p when lost) and
// z = w/σ, the log-term T(z) is log f0 (won), log F0 (lost, price convention) or log(1 - F0) (lost,
// yield convention), standardised. With g1 = T'(z), g2 = T''(z):
//   ℓ        = T(z) - 1{won}·log σ
//   ∂ℓ/∂θ    = -(g1/σ)·x                     ∂²ℓ/∂θ²  = (g2/σ²)·x xᵀ            (docs/math.md §1.4)
// and with s = log σ (∂z/∂s = -z):
//   ∂ℓ/∂s    = -z·g1 - 1{won}                 ∂²ℓ/∂s²  = z·g1 + z²·g2
//   ∂²ℓ/∂θ∂s = ((g2·z + g1)/σ)·x
//
// Layout of the work: rows go in blocks of four. The SIMD build takes the block's four dot products
// in one pass over θ (dotRow4), evaluates the log-terms of the block in f64x2 lanes (gaussQuad /
// logisticQuad: two row pairs whose dependency chains interleave, branch-free, with the exp/log of
// expS/logS written out lane-wise); then the gradient and the Hessian's upper triangle get one
// rank-4 update per block (one load/store of each Hessian pair per four rows). The Hessian goes
// two rows at a time (axpy4x2: rows a and a + 1, a even, both from column a): each pair of x
// entries is loaded once for both rows, so a Hessian pair costs 3 loads per block instead of 5,
// with the eight coefficients h_k·x_k[a], h_k·x_k[a+1] held in registers across the row. The pass
// behaves as bound by vector loads and arithmetic, not by latency (measured on a Zen 5 with V8
// 11.3: longer row tiles, 4×2 register tiles of Hessian entries and software pipelining did not
// pay; bench/RESULTS.md).
// The order of floating-point operations is fixed and the same in both builds, per Hessian entry
// acc = c0·x0[b]; acc += c1·x1[b]; acc += c2·x2[b]; acc += c3·x3[b]; H += acc with c_k = h_k·x_k[a]
// (the scalar build goes one Hessian row at a time): the builds are bit-identical, and the TS twin
// (src/core/twin/likelihood.ts) repeats the order with V8's Math.exp/Math.log/Math.log1p in place
// of expS/logS (agreement to an ulp or so per term).

const SQRT2: f64 = 1.4142135623730951;
const INV_SQRT2: f64 = 0.7071067811865476;
const INV_SQRTPI: f64 = 0.5641895835477563;
const SQRT_2_OVER_PI: f64 = 0.7978845608028654;
const LN_SQRT_2PI: f64 = 0.9189385332046728;
const INV_SQRT_2PI: f64 = 0.3989422804014327;

// First and second z-derivative of the last log-term evaluated (multi-value result, per instance).
let termG1: f64 = 0.0;
let termG2: f64 = 0.0;

// exp and log on the bounded domains met here, scalar (expS, logS) and f64x2 (written out in
// gaussQuad / logisticQuad) with the same operations lane by lane, so the SIMD and scalar builds
// agree to the last bit. Arguments: exp: x in [-700, 0] (-y² with y <= 4, or -|z| with
// |z| <= 700); log: a in [7e-9, 2] (Phi(zz) with |zz| <= 4√2, or 1 + e^-|z|). No overflow,
// underflow or special value can occur there and none is handled; callers route other arguments
// to Math.exp / Math.log / Math.log1p.
//   exp: k = round(x/ln2) (1.5·2^52 shifter), r = x - k·ln2 (Cody–Waite, fdlibm's split of ln2),
//        e^r by its Taylor polynomial to degree 13 (|r| <= 0.347: truncation < 1e-17 relative,
//        Estrin), times 2^k added to the exponent bits.
//   log: a = 2^k·m, m in [√2/2, √2), f = m - 1, s = f/(2 + f), log(1+f) = f - hfsq + s(hfsq + R(s²))
//        with fdlibm's e_log.c polynomial Lg1..Lg7 (error < 1 ulp), + k·ln2.
const SHIFT: f64 = 6755399441055744.0; // 1.5·2^52
const LOG2E: f64 = 1.4426950408889634;
const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const E2: f64 = 0.5;
const E3: f64 = 1.6666666666666666e-1;
const E4: f64 = 4.1666666666666664e-2;
const E5: f64 = 8.3333333333333332e-3;
const E6: f64 = 1.3888888888888889e-3;
const E7: f64 = 1.9841269841269841e-4;
const E8: f64 = 2.4801587301587302e-5;
const E9: f64 = 2.7557319223985893e-6;
const E10: f64 = 2.7557319223985888e-7;
const E11: f64 = 2.5052108385441720e-8;
const E12: f64 = 2.0876756987868100e-9;
const E13: f64 = 1.6059043836821613e-10;
const LG1: f64 = 6.666666666666735130e-01;
const LG2: f64 = 3.999999999940941908e-01;
const LG3: f64 = 2.857142874366239149e-01;
const LG4: f64 = 2.222219843214978396e-01;
const LG5: f64 = 1.818357216161805012e-01;
const LG6: f64 = 1.531383769920937332e-01;
const LG7: f64 = 1.479819860511658591e-01;
const SQRT_HALF_BITS: i64 = 0x3fe6a09e667f3bcd;
const EXP_MASK: i64 = -4503599627370496; // 0xfff0000000000000
const SHIFT_BITS: i64 = 0x4338000000000000;

// @ts-ignore: decorator
@inline function expS(x: f64): f64 {
  const kds = x * LOG2E + SHIFT;
  const kd = kds - SHIFT;
  const r = (x - kd * LN2_HI) - kd * LN2_LO;
  const r2 = r * r;
  const r4 = r2 * r2;
  const r8 = r4 * r4;
  const p = ((1.0 + r) + (E2 + E3 * r) * r2) + ((E4 + E5 * r) + (E6 + E7 * r) * r2) * r4
    + (((E8 + E9 * r) + (E10 + E11 * r) * r2) + (E12 + E13 * r) * r4) * r8;
  return reinterpret<f64>(reinterpret<i64>(p) + (reinterpret<i64>(kds) << 52));
}

// @ts-ignore: decorator
@inline function logS(a: f64): f64 {
  const bits = reinterpret<i64>(a);
  const tmp = bits - SQRT_HALF_BITS;
  const dk = <f64>(tmp >> 52);
  const f = reinterpret<f64>(bits - (tmp & EXP_MASK)) - 1.0;
  const hfsq = 0.5 * f * f;
  const s = f / (2.0 + f);
  const z = s * s;
  const w = z * z;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const R = t2 + t1;
  return s * (hfsq + R) + dk * LN2_LO - hfsq + f + dk * LN2_HI;
}

// @ts-ignore: decorator
@inline function vadd(a: v128, b: v128): v128 { return f64x2.add(a, b); }
// @ts-ignore: decorator
@inline function vsub(a: v128, b: v128): v128 { return f64x2.sub(a, b); }
// @ts-ignore: decorator
@inline function vmul(a: v128, b: v128): v128 { return f64x2.mul(a, b); }
// @ts-ignore: decorator
@inline function vc(a: f64): v128 { return f64x2.splat(a); }

// Constants of the f64x2 code, read with one splat-load each (a v128 constant costs V8 three
// instructions to materialise on x64). Read-only static data, safe to share between threads.
// Index: 0 LOG2E, 1 SHIFT, 2 LN2_HI, 3 LN2_LO, 4 1.0, 5 E2, 6 E3, 7 E4, 8 E5, 9 E6, 10 E7, 11 E8, 12 E9, 13 E10, 14 E11, 15 E12, 16 E13, 17 0.5, 18 2.0, 19 LG2, 20 LG4, 21 LG6, 22 LG1, 23 LG3, 24 LG5, 25 LG7, 26 INV_SQRT2, 27 4.0, 28 3.20937758913846947e3, 29 3.77485237685302021e2, 30 1.13864154151050156e2, 31 3.16112374387056560e0, 32 1.85777706184603153e-1, 33 2.84423683343917062e3, 34 1.28261652607737228e3, 35 2.44024637934444173e2, 36 2.36012909523441209e1, 37 1.23033935479799725e3, 38 2.05107837782607147e3, 39 1.71204761263407058e3, 40 8.81952221241769090e2, 41 2.98635138197400131e2, 42 6.61191906371416295e1, 43 8.88314979438837594e0, 44 5.64188496988670089e-1, 45 2.15311535474403846e-8, 46 1.23033935480374942e3, 47 3.43936767414372164e3, 48 4.36261909014324716e3, 49 3.29079923573345963e3, 50 1.62138957456669019e3, 51 5.37181101862009858e2, 52 1.17693950891312499e2, 53 1.57449261107098347e1, 54 0.46875, 55 INV_SQRT_2PI, 56 -0.5, 57 LN_SQRT_2PI, 58 -1.0, 59 700.0, 60 -2.0
const VCONST: usize = memory.data<f64>([
  LOG2E, SHIFT, LN2_HI, LN2_LO, 1.0, E2, E3, E4, E5, E6, E7, E8, E9, E10, E11, E12, E13, 0.5, 2.0, LG2, LG4, LG6, LG1, LG3, LG5, LG7, INV_SQRT2, 4.0, 3.20937758913846947e3, 3.77485237685302021e2, 1.13864154151050156e2, 3.16112374387056560e0, 1.85777706184603153e-1, 2.84423683343917062e3, 1.28261652607737228e3, 2.44024637934444173e2, 2.36012909523441209e1, 1.23033935479799725e3, 2.05107837782607147e3, 1.71204761263407058e3, 8.81952221241769090e2, 2.98635138197400131e2, 6.61191906371416295e1, 8.88314979438837594e0, 5.64188496988670089e-1, 2.15311535474403846e-8, 1.23033935480374942e3, 3.43936767414372164e3, 4.36261909014324716e3, 3.29079923573345963e3, 1.62138957456669019e3, 5.37181101862009858e2, 1.17693950891312499e2, 1.57449261107098347e1, 0.46875, INV_SQRT_2PI, -0.5, LN_SQRT_2PI, -1.0, 700.0, -2.0,
], 16);
const VCONST_I: usize = memory.data<i64>([0x3fe6a09e667f3bcd, 0x4338000000000000, -4503599627370496], 16);

// @ts-ignore: decorator
@inline function kc(i: i32): v128 {
  return v128.load64_splat(VCONST + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline function ki(i: i32): v128 {
  return v128.load64_splat(VCONST_I + (<usize>i << 3));
}

// Cody's rational approximations (W. J. Cody, Math. Comp. 1969; SPECFUN CALERF; the same
// coefficients as assembly/noise.ts) evaluated by Estrin's scheme instead of Horner's: the
// numerator and denominator polynomials have positive coefficients and arguments, so there is no
// cancellation either way, and the dependency chain is about half as long (this pass is latency
// bound). Coefficients are listed from the constant term up: erf(x) = x·P(x²)/Q(x²) for
// |x| <= 0.46875 (degree 4), erfcx(y) = P(y)/Q(y) for 0.46875 < y <= 4 (degree 8), and below.

/**
 * a if c else b, without a branch: measured here, V8's code for an f64 `select` on x64 still paid
 * for mispredictions on random data (it behaves like a branch); an integer blend of the bit
 * patterns cannot.
 */
// @ts-ignore: decorator
@inline function fsel(a: f64, b: f64, c: bool): f64 {
  const m: i64 = -(<i64>c);
  return reinterpret<f64>((reinterpret<i64>(a) & m) | (reinterpret<i64>(b) & ~m));
}

/** 1/√π - y·erfcx(y) for y > 4: r·P(r)/Q(r), r = 1/y², degree 5 (free of cancellation). */
// @ts-ignore: decorator
@inline function erfcxTailGapE(y: f64): f64 {
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
// @ts-ignore: decorator
@inline function gaussCensored(zz: f64, sgn: f64): f64 {
  const y = Math.abs(zz) * INV_SQRT2;
  let lam: f64, shift: f64, val: f64;
  if (y <= 4.0) {
    const y2 = y * y;
    const E = expS(-y2);
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
    const P = 0.5 * fsel(ds - y * ns, nm * E, small) / fsel(ds, dm, small);
    const lower = zz < 0.0;
    const A = fsel(P, 1.0 - P, lower);
    const iA = 1.0 / A;
    val = logS(A) - fsel(0.0, ((A - 1.0) + P) * iA, lower);
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
 * Logistic log-terms with one exp and one log (docs/math.md §1.3, standardised s = 1; log1p(e) as
 * log(u) - ((u - 1) - e)/u with u = 1 + e; |z| > 700 through Math.exp/Math.log1p):
 * F = σ_L(z), G = 1 - F; log f0 = log F + log G, (log f0)' = G - F, (log f0)'' = -2FG;
 * (log F)' = G, (log F)'' = -FG; (log G)' = -F, (log G)'' = -FG.
 */
// @ts-ignore: decorator
@inline function logisticTerm(term: i32, z: f64): f64 {
  const a = Math.abs(z);
  let e: f64, l: f64, big: f64;
  if (a <= 700.0) {
    e = expS(-a);
    const u = 1.0 + e;
    big = 1.0 / u;
    l = logS(u) - ((u - 1.0) - e) * big;
  } else {
    e = Math.exp(-a);
    big = 1.0 / (1.0 + e);
    l = Math.log1p(e);
  }
  const small = e * big;
  const pos = z >= 0.0;
  const F = fsel(big, small, pos);
  const G = fsel(small, big, pos);
  const logF = fsel(-l, -a - l, pos);
  const logG = fsel(-a - l, -l, pos);
  if (term == 0) {
    termG1 = G - F;
    termG2 = -2.0 * F * G;
    return logF + logG;
  }
  termG2 = -F * G;
  if (term == 1) {
    termG1 = G;
    return logF;
  }
  termG1 = -F;
  return logG;
}

/**
 * Standardised log-term T(z) of one observation (term 0: log f0, 1: log F0, 2: log(1 - F0));
 * returns T and leaves T', T'' in termG1/termG2. Family 0 Gaussian, 1 logistic.
 */
// @ts-ignore: decorator
@inline export function censoredTerm(family: i32, term: i32, z: f64): f64 {
  if (family == 0) {
    if (term == 0) {
      termG1 = -z;
      termG2 = -1.0;
      return -0.5 * z * z - LN_SQRT_2PI;
    }
    if (term == 1) return gaussCensored(z, 1.0);
    return gaussCensored(-z, -1.0);
  }
  return logisticTerm(term, z);
}

export function lastTermG1(): f64 {
  return termG1;
}

/** x·θ over d entries: two lane accumulators (even, odd index), summed, then the odd tail. */
// @ts-ignore: decorator
@inline function dotRow(row: usize, thetaPtr: usize, d: i32): f64 {
  let j = 0;
  let u: f64;
  if (ASC_FEATURE_SIMD) {
    let acc = f64x2.splat(0.0);
    for (; j + 2 <= d; j += 2) {
      const off = <usize>j << 3;
      acc = f64x2.add(acc, f64x2.mul(v128.load(row + off), v128.load(thetaPtr + off)));
    }
    u = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  } else {
    let a0: f64 = 0.0;
    let a1: f64 = 0.0;
    for (; j + 2 <= d; j += 2) {
      const off = <usize>j << 3;
      a0 = a0 + load<f64>(row + off) * load<f64>(thetaPtr + off);
      a1 = a1 + load<f64>(row + off, 8) * load<f64>(thetaPtr + off, 8);
    }
    u = a0 + a1;
  }
  if (j < d) u += load<f64>(row + (<usize>j << 3)) * load<f64>(thetaPtr + (<usize>j << 3));
  return u;
}

// x·θ of four rows at once (SIMD build): dotRow's operations for each row, with one pass over θ.
let dotU1: f64 = 0.0;
let dotU2: f64 = 0.0;
let dotU3: f64 = 0.0;

/** dotRow of rows r0..r3 (SIMD build): returns row 0's, leaves rows 1..3's in dotU1..dotU3. */
// @ts-ignore: decorator
@inline function dotRow4(r0: usize, r1: usize, r2: usize, r3: usize, thetaPtr: usize, d: i32): f64 {
  let j = 0;
  let a0 = f64x2.splat(0.0), a1 = f64x2.splat(0.0), a2 = f64x2.splat(0.0), a3 = f64x2.splat(0.0);
  for (; j + 2 <= d; j += 2) {
    const off = <usize>j << 3;
    const T = v128.load(thetaPtr + off);
    a0 = f64x2.add(a0, f64x2.mul(v128.load(r0 + off), T));
    a1 = f64x2.add(a1, f64x2.mul(v128.load(r1 + off), T));
    a2 = f64x2.add(a2, f64x2.mul(v128.load(r2 + off), T));
    a3 = f64x2.add(a3, f64x2.mul(v128.load(r3 + off), T));
  }
  let u0 = f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1);
  let u1 = f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1);
  let u2 = f64x2.extract_lane(a2, 0) + f64x2.extract_lane(a2, 1);
  let u3 = f64x2.extract_lane(a3, 0) + f64x2.extract_lane(a3, 1);
  if (j < d) {
    const off = <usize>j << 3;
    const th = load<f64>(thetaPtr + off);
    u0 += load<f64>(r0 + off) * th;
    u1 += load<f64>(r1 + off) * th;
    u2 += load<f64>(r2 + off) * th;
    u3 += load<f64>(r3 + off) * th;
  }
  dotU1 = u1;
  dotU2 = u2;
  dotU3 = u3;
  return u0;
}

// Per-row results of rowTerms (weighted): gradient, Hessian and θ-s cross coefficients, the
// s-gradient and s-s Hessian contributions.
let rowC: f64 = 0.0;
let rowH: f64 = 0.0;
let rowK: f64 = 0.0;
let rowGs: f64 = 0.0;
let rowHss: f64 = 0.0;

/** Weighted ℓ_t of row t; coefficients to rowC/rowH/rowK/rowGs/rowHss. */
// @ts-ignore: decorator
@inline function rowTerms(
  t: i32, u: f64, wonPtr: usize, pricePtr: usize, compPtr: usize, weightPtr: usize,
  family: i32, lostTerm: i32, inv: f64, inv2: f64, logSigma: f64,
): f64 {
  const off = <usize>t << 3;
  const won = load<f64>(wonPtr + off) != 0.0;
  const wt: f64 = weightPtr != 0 ? load<f64>(weightPtr + off) : 1.0;
  let z: f64, ell: f64, dens: f64;
  if (won) {
    z = (load<f64>(compPtr + off) - u) * inv;
    ell = censoredTerm(family, 0, z) - logSigma;
    dens = 1.0;
  } else {
    z = (load<f64>(pricePtr + off) - u) * inv;
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

// Results of gaussQuad for its four rows, as rowTerms would give them row by row.
let quadW0: f64 = 0.0;
let quadW1: f64 = 0.0;
let quadW2: f64 = 0.0;
let quadW3: f64 = 0.0;
let quadC0: f64 = 0.0;
let quadC1: f64 = 0.0;
let quadC2: f64 = 0.0;
let quadC3: f64 = 0.0;
let quadH0: f64 = 0.0;
let quadH1: f64 = 0.0;
let quadH2: f64 = 0.0;
let quadH3: f64 = 0.0;
let quadK0: f64 = 0.0;
let quadK1: f64 = 0.0;
let quadK2: f64 = 0.0;
let quadK3: f64 = 0.0;
let quadGs0: f64 = 0.0;
let quadGs1: f64 = 0.0;
let quadGs2: f64 = 0.0;
let quadGs3: f64 = 0.0;
let quadHss0: f64 = 0.0;
let quadHss1: f64 = 0.0;
let quadHss2: f64 = 0.0;
let quadHss3: f64 = 0.0;

/**
 * Gaussian rows t..t+3 (SIMD build only): rows t, t+1 in the lanes of the "A" vectors and t+2,
 * t+3 in the "B" vectors, every step written for A and then for B so that the two independent
 * dependency chains interleave (the special functions are latency bound). Branch-free: won lanes
 * evaluate the censored term at 0 and take the density instead; lost lanes take
 * gaussCensored's y <= 4 formula with expS/logS, the same operations lane by lane as
 * rowTerms → censoredTerm → gaussCensored (so the scalar build gives the same bits). A block with
 * a lost lane in the far tail (|z|/√2 > 4, rare) goes through rowTerms.
 */
// @ts-ignore: decorator
@inline function gaussQuad(
  t: i32, u0: f64, u1: f64, u2: f64, u3: f64, wonPtr: usize, pricePtr: usize, compPtr: usize,
  weightPtr: usize, lostTerm: i32, inv: f64, inv2: f64, logSigma: f64,
): void {
  const off = <usize>t << 3;
  const offB = off + 16;
  const ZERO = f64x2.splat(0.0);
  const INV = f64x2.splat(inv);
  const INV2 = f64x2.splat(inv2);
  const LOGSIG = f64x2.splat(logSigma);
  const SGN = f64x2.splat(lostTerm == 1 ? 1.0 : -1.0);
  const WA = f64x2.ne(v128.load(wonPtr + off), ZERO);
  const WB = f64x2.ne(v128.load(wonPtr + offB), ZERO);
  const VA = v128.bitselect(v128.load(compPtr + off), v128.load(pricePtr + off), WA);
  const VB = v128.bitselect(v128.load(compPtr + offB), v128.load(pricePtr + offB), WB);
  const ZA = vmul(vsub(VA, f64x2.replace_lane(vc(u0), 1, u1)), INV);
  const ZB = vmul(vsub(VB, f64x2.replace_lane(vc(u2), 1, u3)), INV);
  const ZZA = v128.bitselect(ZERO, vmul(ZA, SGN), WA);
  const ZZB = v128.bitselect(ZERO, vmul(ZB, SGN), WB);
  const YA = vmul(f64x2.abs(ZZA), kc(26));
  const YB = vmul(f64x2.abs(ZZB), kc(26));
  const CHECKA = f64x2.gt(YA, kc(27));
  const CHECKB = f64x2.gt(YB, kc(27));
  if (v128.any_true(v128.or(CHECKA, CHECKB))) {
    quadW0 = rowTerms(t, u0, wonPtr, pricePtr, compPtr, weightPtr, 0, lostTerm, inv, inv2, logSigma);
    quadC0 = rowC; quadH0 = rowH; quadK0 = rowK; quadGs0 = rowGs; quadHss0 = rowHss;
    quadW1 = rowTerms(t + 1, u1, wonPtr, pricePtr, compPtr, weightPtr, 0, lostTerm, inv, inv2, logSigma);
    quadC1 = rowC; quadH1 = rowH; quadK1 = rowK; quadGs1 = rowGs; quadHss1 = rowHss;
    quadW2 = rowTerms(t + 2, u2, wonPtr, pricePtr, compPtr, weightPtr, 0, lostTerm, inv, inv2, logSigma);
    quadC2 = rowC; quadH2 = rowH; quadK2 = rowK; quadGs2 = rowGs; quadHss2 = rowHss;
    quadW3 = rowTerms(t + 3, u3, wonPtr, pricePtr, compPtr, weightPtr, 0, lostTerm, inv, inv2, logSigma);
    quadC3 = rowC; quadH3 = rowH; quadK3 = rowK; quadGs3 = rowGs; quadHss3 = rowHss;
    return;
  }
  const Y2A = vmul(YA, YA);
  const Y2B = vmul(YB, YB);
  const XA = f64x2.neg(Y2A);
  const XB = f64x2.neg(Y2B);
  const KDSEA = vadd(vmul(XA, kc(0)), kc(1));
  const KDSEB = vadd(vmul(XB, kc(0)), kc(1));
  const KDEA = vsub(KDSEA, kc(1));
  const KDEB = vsub(KDSEB, kc(1));
  const REA = vsub(vsub(XA, vmul(KDEA, kc(2))), vmul(KDEA, kc(3)));
  const REB = vsub(vsub(XB, vmul(KDEB, kc(2))), vmul(KDEB, kc(3)));
  const R2EA = vmul(REA, REA);
  const R2EB = vmul(REB, REB);
  const R4EA = vmul(R2EA, R2EA);
  const R4EB = vmul(R2EB, R2EB);
  const R8EA = vmul(R4EA, R4EA);
  const R8EB = vmul(R4EB, R4EB);
  const Q0EA = vadd(vadd(kc(4), REA), vmul(vadd(kc(5), vmul(kc(6), REA)), R2EA));
  const Q0EB = vadd(vadd(kc(4), REB), vmul(vadd(kc(5), vmul(kc(6), REB)), R2EB));
  const Q1EA = vadd(vadd(kc(7), vmul(kc(8), REA)), vmul(vadd(kc(9), vmul(kc(10), REA)), R2EA));
  const Q1EB = vadd(vadd(kc(7), vmul(kc(8), REB)), vmul(vadd(kc(9), vmul(kc(10), REB)), R2EB));
  const Q2EA = vadd(vadd(vadd(kc(11), vmul(kc(12), REA)), vmul(vadd(kc(13), vmul(kc(14), REA)), R2EA)), vmul(vadd(kc(15), vmul(kc(16), REA)), R4EA));
  const Q2EB = vadd(vadd(vadd(kc(11), vmul(kc(12), REB)), vmul(vadd(kc(13), vmul(kc(14), REB)), R2EB)), vmul(vadd(kc(15), vmul(kc(16), REB)), R4EB));
  const PXEA = vadd(vadd(Q0EA, vmul(Q1EA, R4EA)), vmul(Q2EA, R8EA));
  const PXEB = vadd(vadd(Q0EB, vmul(Q1EB, R4EB)), vmul(Q2EB, R8EB));
  const EA = i64x2.add(PXEA, i64x2.shl(KDSEA, 52));
  const EB = i64x2.add(PXEB, i64x2.shl(KDSEB, 52));
  const Y4A = vmul(Y2A, Y2A);
  const Y4B = vmul(Y2B, Y2B);
  const NSA = vadd(vadd(vadd(kc(28), vmul(kc(29), Y2A)), vmul(vadd(kc(30), vmul(kc(31), Y2A)), Y4A)), vmul(kc(32), vmul(Y4A, Y4A)));
  const NSB = vadd(vadd(vadd(kc(28), vmul(kc(29), Y2B)), vmul(vadd(kc(30), vmul(kc(31), Y2B)), Y4B)), vmul(kc(32), vmul(Y4B, Y4B)));
  const DSA = vadd(vadd(vadd(kc(33), vmul(kc(34), Y2A)), vmul(vadd(kc(35), vmul(kc(36), Y2A)), Y4A)), vmul(Y4A, Y4A));
  const DSB = vadd(vadd(vadd(kc(33), vmul(kc(34), Y2B)), vmul(vadd(kc(35), vmul(kc(36), Y2B)), Y4B)), vmul(Y4B, Y4B));
  const Y8A = vmul(Y4A, Y4A);
  const Y8B = vmul(Y4B, Y4B);
  const NMA = vadd(vadd(vadd(vadd(kc(37), vmul(kc(38), YA)), vmul(vadd(kc(39), vmul(kc(40), YA)), Y2A)), vmul(vadd(vadd(kc(41), vmul(kc(42), YA)), vmul(vadd(kc(43), vmul(kc(44), YA)), Y2A)), Y4A)), vmul(kc(45), Y8A));
  const NMB = vadd(vadd(vadd(vadd(kc(37), vmul(kc(38), YB)), vmul(vadd(kc(39), vmul(kc(40), YB)), Y2B)), vmul(vadd(vadd(kc(41), vmul(kc(42), YB)), vmul(vadd(kc(43), vmul(kc(44), YB)), Y2B)), Y4B)), vmul(kc(45), Y8B));
  const DMA = vadd(vadd(vadd(vadd(kc(46), vmul(kc(47), YA)), vmul(vadd(kc(48), vmul(kc(49), YA)), Y2A)), vmul(vadd(vadd(kc(50), vmul(kc(51), YA)), vmul(vadd(kc(52), vmul(kc(53), YA)), Y2A)), Y4A)), Y8A);
  const DMB = vadd(vadd(vadd(vadd(kc(46), vmul(kc(47), YB)), vmul(vadd(kc(48), vmul(kc(49), YB)), Y2B)), vmul(vadd(vadd(kc(50), vmul(kc(51), YB)), vmul(vadd(kc(52), vmul(kc(53), YB)), Y2B)), Y4B)), Y8B);
  const SMALLA = f64x2.le(YA, kc(54));
  const SMALLB = f64x2.le(YB, kc(54));
  const PA = f64x2.div(vmul(kc(17), v128.bitselect(vsub(DSA, vmul(YA, NSA)), vmul(NMA, EA), SMALLA)), v128.bitselect(DSA, DMA, SMALLA));
  const PB = f64x2.div(vmul(kc(17), v128.bitselect(vsub(DSB, vmul(YB, NSB)), vmul(NMB, EB), SMALLB)), v128.bitselect(DSB, DMB, SMALLB));
  const LOWERA = f64x2.lt(ZZA, ZERO);
  const LOWERB = f64x2.lt(ZZB, ZERO);
  const AA = v128.bitselect(PA, vsub(kc(4), PA), LOWERA);
  const AB = v128.bitselect(PB, vsub(kc(4), PB), LOWERB);
  const IAA = f64x2.div(kc(4), AA);
  const IAB = f64x2.div(kc(4), AB);
  const LTLOGAA = i64x2.sub(AA, ki(0));
  const LTLOGAB = i64x2.sub(AB, ki(0));
  const LDKLOGAA = vsub(i64x2.add(i64x2.shr_s(LTLOGAA, 52), ki(1)), kc(1));
  const LDKLOGAB = vsub(i64x2.add(i64x2.shr_s(LTLOGAB, 52), ki(1)), kc(1));
  const LFLOGAA = vsub(i64x2.sub(AA, v128.and(LTLOGAA, ki(2))), kc(4));
  const LFLOGAB = vsub(i64x2.sub(AB, v128.and(LTLOGAB, ki(2))), kc(4));
  const LHLOGAA = vmul(vmul(kc(17), LFLOGAA), LFLOGAA);
  const LHLOGAB = vmul(vmul(kc(17), LFLOGAB), LFLOGAB);
  const LSLOGAA = f64x2.div(LFLOGAA, vadd(kc(18), LFLOGAA));
  const LSLOGAB = f64x2.div(LFLOGAB, vadd(kc(18), LFLOGAB));
  const LZLOGAA = vmul(LSLOGAA, LSLOGAA);
  const LZLOGAB = vmul(LSLOGAB, LSLOGAB);
  const LWLOGAA = vmul(LZLOGAA, LZLOGAA);
  const LWLOGAB = vmul(LZLOGAB, LZLOGAB);
  const LT1LOGAA = vmul(LWLOGAA, vadd(kc(19), vmul(LWLOGAA, vadd(kc(20), vmul(LWLOGAA, kc(21))))));
  const LT1LOGAB = vmul(LWLOGAB, vadd(kc(19), vmul(LWLOGAB, vadd(kc(20), vmul(LWLOGAB, kc(21))))));
  const LT2LOGAA = vmul(LZLOGAA, vadd(kc(22), vmul(LWLOGAA, vadd(kc(23), vmul(LWLOGAA, vadd(kc(24), vmul(LWLOGAA, kc(25))))))));
  const LT2LOGAB = vmul(LZLOGAB, vadd(kc(22), vmul(LWLOGAB, vadd(kc(23), vmul(LWLOGAB, vadd(kc(24), vmul(LWLOGAB, kc(25))))))));
  const LRLOGAA = vadd(LT2LOGAA, LT1LOGAA);
  const LRLOGAB = vadd(LT2LOGAB, LT1LOGAB);
  const LOGAA = vadd(vadd(vsub(vadd(vmul(LSLOGAA, vadd(LHLOGAA, LRLOGAA)), vmul(LDKLOGAA, kc(3))), LHLOGAA), LFLOGAA), vmul(LDKLOGAA, kc(2)));
  const LOGAB = vadd(vadd(vsub(vadd(vmul(LSLOGAB, vadd(LHLOGAB, LRLOGAB)), vmul(LDKLOGAB, kc(3))), LHLOGAB), LFLOGAB), vmul(LDKLOGAB, kc(2)));
  const TCA = vsub(LOGAA, v128.bitselect(ZERO, vmul(vadd(vsub(AA, kc(4)), PA), IAA), LOWERA));
  const TCB = vsub(LOGAB, v128.bitselect(ZERO, vmul(vadd(vsub(AB, kc(4)), PB), IAB), LOWERB));
  const LAMA = vmul(vmul(kc(55), EA), IAA);
  const LAMB = vmul(vmul(kc(55), EB), IAB);
  const SHZA = vadd(ZZA, LAMA);
  const SHZB = vadd(ZZB, LAMB);
  const TDA = vsub(vsub(vmul(vmul(kc(56), ZA), ZA), kc(57)), LOGSIG);
  const TDB = vsub(vsub(vmul(vmul(kc(56), ZB), ZB), kc(57)), LOGSIG);
  const ELLA = v128.bitselect(TDA, TCA, WA);
  const ELLB = v128.bitselect(TDB, TCB, WB);
  const G1A = v128.bitselect(f64x2.neg(ZA), vmul(SGN, LAMA), WA);
  const G1B = v128.bitselect(f64x2.neg(ZB), vmul(SGN, LAMB), WB);
  const G2A = v128.bitselect(kc(58), vmul(f64x2.neg(LAMA), SHZA), WA);
  const G2B = v128.bitselect(kc(58), vmul(f64x2.neg(LAMB), SHZB), WB);
  const DENSA = v128.bitselect(kc(4), ZERO, WA);
  const DENSB = v128.bitselect(kc(4), ZERO, WB);
  const WTA = weightPtr != 0 ? v128.load(weightPtr + off) : kc(4);
  const WTB = weightPtr != 0 ? v128.load(weightPtr + offB) : kc(4);
  const CA = vmul(f64x2.neg(vmul(WTA, G1A)), INV);
  const CB = vmul(f64x2.neg(vmul(WTB, G1B)), INV);
  const HA = vmul(vmul(WTA, G2A), INV2);
  const HB = vmul(vmul(WTB, G2B), INV2);
  const KA = vmul(vmul(WTA, vadd(vmul(G2A, ZA), G1A)), INV);
  const KB = vmul(vmul(WTB, vadd(vmul(G2B, ZB), G1B)), INV);
  const GSA = vmul(WTA, vsub(vmul(f64x2.neg(ZA), G1A), DENSA));
  const GSB = vmul(WTB, vsub(vmul(f64x2.neg(ZB), G1B), DENSB));
  const HSSA = vmul(WTA, vadd(vmul(ZA, G1A), vmul(vmul(ZA, ZA), G2A)));
  const HSSB = vmul(WTB, vadd(vmul(ZB, G1B), vmul(vmul(ZB, ZB), G2B)));
  const WELLA = vmul(WTA, ELLA);
  const WELLB = vmul(WTB, ELLB);
  quadW0 = f64x2.extract_lane(WELLA, 0); quadC0 = f64x2.extract_lane(CA, 0); quadH0 = f64x2.extract_lane(HA, 0);
  quadK0 = f64x2.extract_lane(KA, 0); quadGs0 = f64x2.extract_lane(GSA, 0); quadHss0 = f64x2.extract_lane(HSSA, 0);
  quadW1 = f64x2.extract_lane(WELLA, 1); quadC1 = f64x2.extract_lane(CA, 1); quadH1 = f64x2.extract_lane(HA, 1);
  quadK1 = f64x2.extract_lane(KA, 1); quadGs1 = f64x2.extract_lane(GSA, 1); quadHss1 = f64x2.extract_lane(HSSA, 1);
  quadW2 = f64x2.extract_lane(WELLB, 0); quadC2 = f64x2.extract_lane(CB, 0); quadH2 = f64x2.extract_lane(HB, 0);
  quadK2 = f64x2.extract_lane(KB, 0); quadGs2 = f64x2.extract_lane(GSB, 0); quadHss2 = f64x2.extract_lane(HSSB, 0);
  quadW3 = f64x2.extract_lane(WELLB, 1); quadC3 = f64x2.extract_lane(CB, 1); quadH3 = f64x2.extract_lane(HB, 1);
  quadK3 = f64x2.extract_lane(KB, 1); quadGs3 = f64x2.extract_lane(GSB, 1); quadHss3 = f64x2.extract_lane(HSSB, 1);
}

/**
 * Logistic rows t..t+3 (SIMD build only), interleaved like gaussQuad: logisticTerm's formulas
 * (with expS/logS: log1p(e) = log(u) - ((u - 1) - e)/u, u = 1 + e) for all four lanes, the term
 * picked per lane by won / lostTerm. A block with |z| > 700 (exp would leave the normal range)
 * goes through rowTerms.
 */
// @ts-ignore: decorator
@inline function logisticQuad(
  t: i32, u0: f64, u1: f64, u2: f64, u3: f64, wonPtr: usize, pricePtr: usize, compPtr: usize,
  weightPtr: usize, lostTerm: i32, inv: f64, inv2: f64, logSigma: f64,
): void {
  const off = <usize>t << 3;
  const offB = off + 16;
  const ZERO = f64x2.splat(0.0);
  const INV = f64x2.splat(inv);
  const INV2 = f64x2.splat(inv2);
  const LOGSIG = f64x2.splat(logSigma);
  const TERM1 = i64x2.splat(lostTerm == 1 ? -1 : 0);
  const WA = f64x2.ne(v128.load(wonPtr + off), ZERO);
  const WB = f64x2.ne(v128.load(wonPtr + offB), ZERO);
  const VA = v128.bitselect(v128.load(compPtr + off), v128.load(pricePtr + off), WA);
  const VB = v128.bitselect(v128.load(compPtr + offB), v128.load(pricePtr + offB), WB);
  const ZA = vmul(vsub(VA, f64x2.replace_lane(vc(u0), 1, u1)), INV);
  const ZB = vmul(vsub(VB, f64x2.replace_lane(vc(u2), 1, u3)), INV);
  const AZA = f64x2.abs(ZA);
  const AZB = f64x2.abs(ZB);
  const CHECKA = f64x2.gt(AZA, kc(59));
  const CHECKB = f64x2.gt(AZB, kc(59));
  if (v128.any_true(v128.or(CHECKA, CHECKB))) {
    quadW0 = rowTerms(t, u0, wonPtr, pricePtr, compPtr, weightPtr, 1, lostTerm, inv, inv2, logSigma);
    quadC0 = rowC; quadH0 = rowH; quadK0 = rowK; quadGs0 = rowGs; quadHss0 = rowHss;
    quadW1 = rowTerms(t + 1, u1, wonPtr, pricePtr, compPtr, weightPtr, 1, lostTerm, inv, inv2, logSigma);
    quadC1 = rowC; quadH1 = rowH; quadK1 = rowK; quadGs1 = rowGs; quadHss1 = rowHss;
    quadW2 = rowTerms(t + 2, u2, wonPtr, pricePtr, compPtr, weightPtr, 1, lostTerm, inv, inv2, logSigma);
    quadC2 = rowC; quadH2 = rowH; quadK2 = rowK; quadGs2 = rowGs; quadHss2 = rowHss;
    quadW3 = rowTerms(t + 3, u3, wonPtr, pricePtr, compPtr, weightPtr, 1, lostTerm, inv, inv2, logSigma);
    quadC3 = rowC; quadH3 = rowH; quadK3 = rowK; quadGs3 = rowGs; quadHss3 = rowHss;
    return;
  }
  const XA = f64x2.neg(AZA);
  const XB = f64x2.neg(AZB);
  const KDSEA = vadd(vmul(XA, kc(0)), kc(1));
  const KDSEB = vadd(vmul(XB, kc(0)), kc(1));
  const KDEA = vsub(KDSEA, kc(1));
  const KDEB = vsub(KDSEB, kc(1));
  const REA = vsub(vsub(XA, vmul(KDEA, kc(2))), vmul(KDEA, kc(3)));
  const REB = vsub(vsub(XB, vmul(KDEB, kc(2))), vmul(KDEB, kc(3)));
  const R2EA = vmul(REA, REA);
  const R2EB = vmul(REB, REB);
  const R4EA = vmul(R2EA, R2EA);
  const R4EB = vmul(R2EB, R2EB);
  const R8EA = vmul(R4EA, R4EA);
  const R8EB = vmul(R4EB, R4EB);
  const Q0EA = vadd(vadd(kc(4), REA), vmul(vadd(kc(5), vmul(kc(6), REA)), R2EA));
  const Q0EB = vadd(vadd(kc(4), REB), vmul(vadd(kc(5), vmul(kc(6), REB)), R2EB));
  const Q1EA = vadd(vadd(kc(7), vmul(kc(8), REA)), vmul(vadd(kc(9), vmul(kc(10), REA)), R2EA));
  const Q1EB = vadd(vadd(kc(7), vmul(kc(8), REB)), vmul(vadd(kc(9), vmul(kc(10), REB)), R2EB));
  const Q2EA = vadd(vadd(vadd(kc(11), vmul(kc(12), REA)), vmul(vadd(kc(13), vmul(kc(14), REA)), R2EA)), vmul(vadd(kc(15), vmul(kc(16), REA)), R4EA));
  const Q2EB = vadd(vadd(vadd(kc(11), vmul(kc(12), REB)), vmul(vadd(kc(13), vmul(kc(14), REB)), R2EB)), vmul(vadd(kc(15), vmul(kc(16), REB)), R4EB));
  const PXEA = vadd(vadd(Q0EA, vmul(Q1EA, R4EA)), vmul(Q2EA, R8EA));
  const PXEB = vadd(vadd(Q0EB, vmul(Q1EB, R4EB)), vmul(Q2EB, R8EB));
  const EA = i64x2.add(PXEA, i64x2.shl(KDSEA, 52));
  const EB = i64x2.add(PXEB, i64x2.shl(KDSEB, 52));
  const U1A = vadd(kc(4), EA);
  const U1B = vadd(kc(4), EB);
  const BIGA = f64x2.div(kc(4), U1A);
  const BIGB = f64x2.div(kc(4), U1B);
  const SMLA = vmul(EA, BIGA);
  const SMLB = vmul(EB, BIGB);
  const LTLOGUA = i64x2.sub(U1A, ki(0));
  const LTLOGUB = i64x2.sub(U1B, ki(0));
  const LDKLOGUA = vsub(i64x2.add(i64x2.shr_s(LTLOGUA, 52), ki(1)), kc(1));
  const LDKLOGUB = vsub(i64x2.add(i64x2.shr_s(LTLOGUB, 52), ki(1)), kc(1));
  const LFLOGUA = vsub(i64x2.sub(U1A, v128.and(LTLOGUA, ki(2))), kc(4));
  const LFLOGUB = vsub(i64x2.sub(U1B, v128.and(LTLOGUB, ki(2))), kc(4));
  const LHLOGUA = vmul(vmul(kc(17), LFLOGUA), LFLOGUA);
  const LHLOGUB = vmul(vmul(kc(17), LFLOGUB), LFLOGUB);
  const LSLOGUA = f64x2.div(LFLOGUA, vadd(kc(18), LFLOGUA));
  const LSLOGUB = f64x2.div(LFLOGUB, vadd(kc(18), LFLOGUB));
  const LZLOGUA = vmul(LSLOGUA, LSLOGUA);
  const LZLOGUB = vmul(LSLOGUB, LSLOGUB);
  const LWLOGUA = vmul(LZLOGUA, LZLOGUA);
  const LWLOGUB = vmul(LZLOGUB, LZLOGUB);
  const LT1LOGUA = vmul(LWLOGUA, vadd(kc(19), vmul(LWLOGUA, vadd(kc(20), vmul(LWLOGUA, kc(21))))));
  const LT1LOGUB = vmul(LWLOGUB, vadd(kc(19), vmul(LWLOGUB, vadd(kc(20), vmul(LWLOGUB, kc(21))))));
  const LT2LOGUA = vmul(LZLOGUA, vadd(kc(22), vmul(LWLOGUA, vadd(kc(23), vmul(LWLOGUA, vadd(kc(24), vmul(LWLOGUA, kc(25))))))));
  const LT2LOGUB = vmul(LZLOGUB, vadd(kc(22), vmul(LWLOGUB, vadd(kc(23), vmul(LWLOGUB, vadd(kc(24), vmul(LWLOGUB, kc(25))))))));
  const LRLOGUA = vadd(LT2LOGUA, LT1LOGUA);
  const LRLOGUB = vadd(LT2LOGUB, LT1LOGUB);
  const LOGUA = vadd(vadd(vsub(vadd(vmul(LSLOGUA, vadd(LHLOGUA, LRLOGUA)), vmul(LDKLOGUA, kc(3))), LHLOGUA), LFLOGUA), vmul(LDKLOGUA, kc(2)));
  const LOGUB = vadd(vadd(vsub(vadd(vmul(LSLOGUB, vadd(LHLOGUB, LRLOGUB)), vmul(LDKLOGUB, kc(3))), LHLOGUB), LFLOGUB), vmul(LDKLOGUB, kc(2)));
  const LA = vsub(LOGUA, vmul(vsub(vsub(U1A, kc(4)), EA), BIGA));
  const LB = vsub(LOGUB, vmul(vsub(vsub(U1B, kc(4)), EB), BIGB));
  const POSA = f64x2.ge(ZA, ZERO);
  const POSB = f64x2.ge(ZB, ZERO);
  const FA = v128.bitselect(BIGA, SMLA, POSA);
  const FB = v128.bitselect(BIGB, SMLB, POSB);
  const GA = v128.bitselect(SMLA, BIGA, POSA);
  const GB = v128.bitselect(SMLB, BIGB, POSB);
  const LOGFA = v128.bitselect(f64x2.neg(LA), vsub(XA, LA), POSA);
  const LOGFB = v128.bitselect(f64x2.neg(LB), vsub(XB, LB), POSB);
  const LOGGA = v128.bitselect(vsub(XA, LA), f64x2.neg(LA), POSA);
  const LOGGB = v128.bitselect(vsub(XB, LB), f64x2.neg(LB), POSB);
  const ELLA = v128.bitselect(vsub(vadd(LOGFA, LOGGA), LOGSIG), v128.bitselect(LOGFA, LOGGA, TERM1), WA);
  const ELLB = v128.bitselect(vsub(vadd(LOGFB, LOGGB), LOGSIG), v128.bitselect(LOGFB, LOGGB, TERM1), WB);
  const G1A = v128.bitselect(vsub(GA, FA), v128.bitselect(GA, f64x2.neg(FA), TERM1), WA);
  const G1B = v128.bitselect(vsub(GB, FB), v128.bitselect(GB, f64x2.neg(FB), TERM1), WB);
  const G2A = v128.bitselect(vmul(vmul(kc(60), FA), GA), vmul(f64x2.neg(FA), GA), WA);
  const G2B = v128.bitselect(vmul(vmul(kc(60), FB), GB), vmul(f64x2.neg(FB), GB), WB);
  const DENSA = v128.bitselect(kc(4), ZERO, WA);
  const DENSB = v128.bitselect(kc(4), ZERO, WB);
  const WTA = weightPtr != 0 ? v128.load(weightPtr + off) : kc(4);
  const WTB = weightPtr != 0 ? v128.load(weightPtr + offB) : kc(4);
  const CA = vmul(f64x2.neg(vmul(WTA, G1A)), INV);
  const CB = vmul(f64x2.neg(vmul(WTB, G1B)), INV);
  const HA = vmul(vmul(WTA, G2A), INV2);
  const HB = vmul(vmul(WTB, G2B), INV2);
  const KA = vmul(vmul(WTA, vadd(vmul(G2A, ZA), G1A)), INV);
  const KB = vmul(vmul(WTB, vadd(vmul(G2B, ZB), G1B)), INV);
  const GSA = vmul(WTA, vsub(vmul(f64x2.neg(ZA), G1A), DENSA));
  const GSB = vmul(WTB, vsub(vmul(f64x2.neg(ZB), G1B), DENSB));
  const HSSA = vmul(WTA, vadd(vmul(ZA, G1A), vmul(vmul(ZA, ZA), G2A)));
  const HSSB = vmul(WTB, vadd(vmul(ZB, G1B), vmul(vmul(ZB, ZB), G2B)));
  const WELLA = vmul(WTA, ELLA);
  const WELLB = vmul(WTB, ELLB);
  quadW0 = f64x2.extract_lane(WELLA, 0); quadC0 = f64x2.extract_lane(CA, 0); quadH0 = f64x2.extract_lane(HA, 0);
  quadK0 = f64x2.extract_lane(KA, 0); quadGs0 = f64x2.extract_lane(GSA, 0); quadHss0 = f64x2.extract_lane(HSSA, 0);
  quadW1 = f64x2.extract_lane(WELLA, 1); quadC1 = f64x2.extract_lane(CA, 1); quadH1 = f64x2.extract_lane(HA, 1);
  quadK1 = f64x2.extract_lane(KA, 1); quadGs1 = f64x2.extract_lane(GSA, 1); quadHss1 = f64x2.extract_lane(HSSA, 1);
  quadW2 = f64x2.extract_lane(WELLB, 0); quadC2 = f64x2.extract_lane(CB, 0); quadH2 = f64x2.extract_lane(HB, 0);
  quadK2 = f64x2.extract_lane(KB, 0); quadGs2 = f64x2.extract_lane(GSB, 0); quadHss2 = f64x2.extract_lane(HSSB, 0);
  quadW3 = f64x2.extract_lane(WELLB, 1); quadC3 = f64x2.extract_lane(CB, 1); quadH3 = f64x2.extract_lane(HB, 1);
  quadK3 = f64x2.extract_lane(KB, 1); quadGs3 = f64x2.extract_lane(GSB, 1); quadHss3 = f64x2.extract_lane(HSSB, 1);
}

/** out[0..d) += c0·r0 + c1·r1 + c2·r2 + c3·r3 (accumulated in that order). */
// @ts-ignore: decorator
@inline function axpy4(
  out: usize, from: i32, d: i32, r0: usize, r1: usize, r2: usize, r3: usize,
  c0: f64, c1: f64, c2: f64, c3: f64,
): void {
  let b = from;
  if (ASC_FEATURE_SIMD) {
    const C0 = f64x2.splat(c0);
    const C1 = f64x2.splat(c1);
    const C2 = f64x2.splat(c2);
    const C3 = f64x2.splat(c3);
    for (; b + 2 <= d; b += 2) {
      const o = <usize>b << 3;
      let acc = f64x2.mul(C0, v128.load(r0 + o));
      acc = f64x2.add(acc, f64x2.mul(C1, v128.load(r1 + o)));
      acc = f64x2.add(acc, f64x2.mul(C2, v128.load(r2 + o)));
      acc = f64x2.add(acc, f64x2.mul(C3, v128.load(r3 + o)));
      v128.store(out + o, f64x2.add(v128.load(out + o), acc));
    }
  } else {
    for (; b + 2 <= d; b += 2) {
      const o = <usize>b << 3;
      let a0 = c0 * load<f64>(r0 + o);
      let a1 = c0 * load<f64>(r0 + o, 8);
      a0 = a0 + c1 * load<f64>(r1 + o);
      a1 = a1 + c1 * load<f64>(r1 + o, 8);
      a0 = a0 + c2 * load<f64>(r2 + o);
      a1 = a1 + c2 * load<f64>(r2 + o, 8);
      a0 = a0 + c3 * load<f64>(r3 + o);
      a1 = a1 + c3 * load<f64>(r3 + o, 8);
      store<f64>(out + o, load<f64>(out + o) + a0);
      store<f64>(out + o, load<f64>(out + o, 8) + a1, 8);
    }
  }
  if (b < d) {
    const o = <usize>b << 3;
    let a = c0 * load<f64>(r0 + o);
    a = a + c1 * load<f64>(r1 + o);
    a = a + c2 * load<f64>(r2 + o);
    a = a + c3 * load<f64>(r3 + o);
    store<f64>(out + o, load<f64>(out + o) + a);
  }
}

/**
 * Two Hessian rows a, a + 1 (a even) at once, both from column a (SIMD build): each x pair is loaded
 * once for both rows; per entry the same operations, in the same order, as axpy4.
 */
// @ts-ignore: decorator
@inline function axpy4x2(
  outA: usize, outB: usize, from: i32, d: i32, r0: usize, r1: usize, r2: usize, r3: usize,
  A0: v128, A1: v128, A2: v128, A3: v128, B0: v128, B1: v128, B2: v128, B3: v128,
): void {
  let b = from;
  for (; b + 2 <= d; b += 2) {
    const o = <usize>b << 3;
    const X0 = v128.load(r0 + o);
    const X1 = v128.load(r1 + o);
    const X2 = v128.load(r2 + o);
    const X3 = v128.load(r3 + o);
    let acc = f64x2.mul(A0, X0);
    let bcc = f64x2.mul(B0, X0);
    acc = f64x2.add(acc, f64x2.mul(A1, X1));
    bcc = f64x2.add(bcc, f64x2.mul(B1, X1));
    acc = f64x2.add(acc, f64x2.mul(A2, X2));
    bcc = f64x2.add(bcc, f64x2.mul(B2, X2));
    acc = f64x2.add(acc, f64x2.mul(A3, X3));
    bcc = f64x2.add(bcc, f64x2.mul(B3, X3));
    v128.store(outA + o, f64x2.add(v128.load(outA + o), acc));
    v128.store(outB + o, f64x2.add(v128.load(outB + o), bcc));
  }
  if (b < d) {
    const o = <usize>b << 3;
    const x0 = load<f64>(r0 + o), x1 = load<f64>(r1 + o), x2 = load<f64>(r2 + o), x3 = load<f64>(r3 + o);
    let a = f64x2.extract_lane(A0, 0) * x0;
    a = a + f64x2.extract_lane(A1, 0) * x1;
    a = a + f64x2.extract_lane(A2, 0) * x2;
    a = a + f64x2.extract_lane(A3, 0) * x3;
    store<f64>(outA + o, load<f64>(outA + o) + a);
    let c = f64x2.extract_lane(B0, 0) * x0;
    c = c + f64x2.extract_lane(B1, 0) * x1;
    c = c + f64x2.extract_lane(B2, 0) * x2;
    c = c + f64x2.extract_lane(B3, 0) * x3;
    store<f64>(outB + o, load<f64>(outB + o) + c);
  }
}

/** out[from..d) += c·r (one row). */
// @ts-ignore: decorator
@inline function axpy1(out: usize, from: i32, d: i32, r: usize, c: f64): void {
  let b = from;
  if (ASC_FEATURE_SIMD) {
    const C = f64x2.splat(c);
    for (; b + 2 <= d; b += 2) {
      const o = <usize>b << 3;
      v128.store(out + o, f64x2.add(v128.load(out + o), f64x2.mul(C, v128.load(r + o))));
    }
  } else {
    for (; b + 2 <= d; b += 2) {
      const o = <usize>b << 3;
      store<f64>(out + o, load<f64>(out + o) + c * load<f64>(r + o));
      store<f64>(out + o, load<f64>(out + o, 8) + c * load<f64>(r + o, 8), 8);
    }
  }
  if (b < d) {
    const o = <usize>b << 3;
    store<f64>(out + o, load<f64>(out + o) + c * load<f64>(r + o));
  }
}

/**
 * Weighted sum of censored log-likelihood terms (docs/math.md §1.4), with gradient and Hessian.
 *
 * x: n×d row-major; won: 0/1; price: p; comp: competitor price y (read only where won = 1);
 * weightPtr = 0 means unit weights. convention 0 = price (lost ⇒ log F(p - xθ)), 1 = yield
 * (lost ⇒ log(1 - F(q - xθ))). estimateScale = 0: θ has d entries and σ = scale;
 * estimateScale = 1: θ has D = d + 1 entries [θ, log σ] and `scale` is ignored.
 * gradPtr (D doubles) and hessPtr (D×D, full and symmetric) are overwritten with the weighted sums
 * of ∇ℓ_t and ∇²ℓ_t; either is skipped when its pointer is 0. Returns Σ w_t ℓ_t.
 */
export function censoredLogLikelihood(
  n: i32, d: i32, xPtr: usize, wonPtr: usize, pricePtr: usize, compPtr: usize, weightPtr: usize,
  thetaPtr: usize, family: i32, scale: f64, convention: i32, estimateScale: i32,
  gradPtr: usize, hessPtr: usize,
): f64 {
  const est = estimateScale != 0;
  const D = est ? d + 1 : d;
  let logSigma: f64, sigma: f64;
  if (est) {
    logSigma = load<f64>(thetaPtr + (<usize>d << 3));
    sigma = Math.exp(logSigma);
  } else {
    sigma = scale;
    logSigma = Math.log(scale);
  }
  const inv = 1.0 / sigma;
  const inv2 = inv * inv;
  const lostTerm = convention == 0 ? 1 : 2;
  const wantG = gradPtr != 0;
  const wantH = hessPtr != 0;
  if (wantG) memory.fill(gradPtr, 0, <usize>D << 3);
  if (wantH) memory.fill(hessPtr, 0, (<usize>D * <usize>D) << 3);
  const rowBytes = <usize>d << 3;
  const hStride = <usize>D << 3;
  const crossRow = hessPtr + <usize>d * hStride; // Hessian row d (θ-s cross terms), lower triangle
  let sum: f64 = 0.0;
  let gs: f64 = 0.0;
  let hss: f64 = 0.0;
  let t = 0;
  for (; t + 4 <= n; t += 4) {
    const r0 = xPtr + <usize>t * rowBytes;
    const r1 = r0 + rowBytes;
    const r2 = r1 + rowBytes;
    const r3 = r2 + rowBytes;
    // the four dot products first: they do not wait for the (branchy) log-terms
    let u0: f64, u1: f64, u2: f64, u3: f64;
    if (ASC_FEATURE_SIMD) {
      u0 = dotRow4(r0, r1, r2, r3, thetaPtr, d);
      u1 = dotU1;
      u2 = dotU2;
      u3 = dotU3;
    } else {
      u0 = dotRow(r0, thetaPtr, d);
      u1 = dotRow(r1, thetaPtr, d);
      u2 = dotRow(r2, thetaPtr, d);
      u3 = dotRow(r3, thetaPtr, d);
    }
    let c0: f64, h0: f64, k0: f64, c1: f64, h1: f64, k1: f64;
    let c2: f64, h2: f64, k2: f64, c3: f64, h3: f64, k3: f64;
    if (ASC_FEATURE_SIMD) {
      if (family == 0) gaussQuad(t, u0, u1, u2, u3, wonPtr, pricePtr, compPtr, weightPtr, lostTerm, inv, inv2, logSigma);
      else logisticQuad(t, u0, u1, u2, u3, wonPtr, pricePtr, compPtr, weightPtr, lostTerm, inv, inv2, logSigma);
      sum += quadW0; gs += quadGs0; hss += quadHss0;
      sum += quadW1; gs += quadGs1; hss += quadHss1;
      sum += quadW2; gs += quadGs2; hss += quadHss2;
      sum += quadW3; gs += quadGs3; hss += quadHss3;
      c0 = quadC0; h0 = quadH0; k0 = quadK0; c1 = quadC1; h1 = quadH1; k1 = quadK1;
      c2 = quadC2; h2 = quadH2; k2 = quadK2; c3 = quadC3; h3 = quadH3; k3 = quadK3;
    } else {
      sum += rowTerms(t, u0, wonPtr, pricePtr, compPtr, weightPtr, family, lostTerm, inv, inv2, logSigma);
      c0 = rowC; h0 = rowH; k0 = rowK;
      gs += rowGs;
      hss += rowHss;
      sum += rowTerms(t + 1, u1, wonPtr, pricePtr, compPtr, weightPtr, family, lostTerm, inv, inv2, logSigma);
      c1 = rowC; h1 = rowH; k1 = rowK;
      gs += rowGs;
      hss += rowHss;
      sum += rowTerms(t + 2, u2, wonPtr, pricePtr, compPtr, weightPtr, family, lostTerm, inv, inv2, logSigma);
      c2 = rowC; h2 = rowH; k2 = rowK;
      gs += rowGs;
      hss += rowHss;
      sum += rowTerms(t + 3, u3, wonPtr, pricePtr, compPtr, weightPtr, family, lostTerm, inv, inv2, logSigma);
      c3 = rowC; h3 = rowH; k3 = rowK;
      gs += rowGs;
      hss += rowHss;
    }
    if (wantG) axpy4(gradPtr, 0, d, r0, r1, r2, r3, c0, c1, c2, c3);
    if (ASC_FEATURE_SIMD) {
      if (wantH) {
        const H0 = f64x2.splat(h0), H1 = f64x2.splat(h1), H2 = f64x2.splat(h2), H3 = f64x2.splat(h3);
        let a = 0;
        for (; a + 2 <= d; a += 2) {
          const o = <usize>a << 3;
          const X0 = v128.load(r0 + o), X1 = v128.load(r1 + o), X2 = v128.load(r2 + o), X3 = v128.load(r3 + o);
          // (h_k·x_k[a], h_k·x_k[a+1]), then each lane splatted
          const P0 = vmul(H0, X0), P1 = vmul(H1, X1), P2 = vmul(H2, X2), P3 = vmul(H3, X3);
          const rowA = hessPtr + <usize>a * hStride;
          axpy4x2(
            rowA, rowA + hStride, a, d, r0, r1, r2, r3,
            i64x2.shuffle(P0, P0, 0, 0), i64x2.shuffle(P1, P1, 0, 0), i64x2.shuffle(P2, P2, 0, 0), i64x2.shuffle(P3, P3, 0, 0),
            i64x2.shuffle(P0, P0, 1, 1), i64x2.shuffle(P1, P1, 1, 1), i64x2.shuffle(P2, P2, 1, 1), i64x2.shuffle(P3, P3, 1, 1),
          );
        }
        if (a < d) {
          const o = <usize>a << 3;
          axpy4(
            hessPtr + <usize>a * hStride, a, d, r0, r1, r2, r3,
            h0 * load<f64>(r0 + o), h1 * load<f64>(r1 + o), h2 * load<f64>(r2 + o), h3 * load<f64>(r3 + o),
          );
        }
        if (est) axpy4(crossRow, 0, d, r0, r1, r2, r3, k0, k1, k2, k3);
      }
    } else if (wantH) {
      // upper triangle, rank 4; each row starts at the even column at or below the diagonal so
      // that pairs stay on the same grid (the one extra sub-diagonal entry is overwritten below)
      for (let a = 0; a < d; a++) {
        const o = <usize>a << 3;
        axpy4(
          hessPtr + <usize>a * hStride, a & ~1, d, r0, r1, r2, r3,
          h0 * load<f64>(r0 + o), h1 * load<f64>(r1 + o), h2 * load<f64>(r2 + o), h3 * load<f64>(r3 + o),
        );
      }
      if (est) axpy4(crossRow, 0, d, r0, r1, r2, r3, k0, k1, k2, k3);
    }
  }
  for (; t < n; t++) {
    const r0 = xPtr + <usize>t * rowBytes;
    sum += rowTerms(t, dotRow(r0, thetaPtr, d), wonPtr, pricePtr, compPtr, weightPtr, family, lostTerm, inv, inv2, logSigma);
    const c0 = rowC, h0 = rowH, k0 = rowK;
    gs += rowGs;
    hss += rowHss;
    if (wantG) axpy1(gradPtr, 0, d, r0, c0);
    if (wantH) {
      for (let a = 0; a < d; a++) {
        axpy1(hessPtr + <usize>a * hStride, a & ~1, d, r0, h0 * load<f64>(r0 + (<usize>a << 3)));
      }
      if (est) axpy1(crossRow, 0, d, r0, k0);
    }
  }
  if (wantG && est) store<f64>(gradPtr + (<usize>d << 3), gs);
  if (wantH) {
    for (let a = 0; a < d; a++) {
      for (let b = a + 1; b < d; b++) {
        store<f64>(hessPtr + <usize>b * hStride + (<usize>a << 3), load<f64>(hessPtr + <usize>a * hStride + (<usize>b << 3)));
      }
    }
    if (est) {
      for (let a = 0; a < d; a++) {
        store<f64>(hessPtr + <usize>a * hStride + (<usize>d << 3), load<f64>(crossRow + (<usize>a << 3)));
      }
      store<f64>(crossRow + (<usize>d << 3), hss);
    }
  }
  return sum;
}
