// f64x2 building blocks shared by the SIMD paths of assembly/quote.ts and assembly/greeks.ts:
// exp on a bounded range, Dekker's split (for an exact z^2), Cody's erf/erfc/erfcx rationals and
// lane-masked stores. Everything here is SIMD-build only: callers use it inside
// `if (ASC_FEATURE_SIMD)`, and route the lanes outside the documented argument ranges to the scalar
// code of assembly/noise.ts (the same approach as assembly/likelihood.ts).
//
// Constants are read with one splat-load each from the read-only table VC below (a v128 constant
// costs V8 several instructions to materialise on x64); kN names the index of each constant.

// exp (see vexp): Cody-Waite reduction with fdlibm's split of ln2, Taylor polynomial to degree 13.
const LOG2E: f64 = 1.4426950408889634;
const SHIFT: f64 = 6755399441055744.0; // 1.5 * 2^52: adding it rounds to an integer in the low bits
const LN2_HI: f64 = 6.93147180369123816490e-01;
const LN2_LO: f64 = 1.90821492927058770002e-10;

export const kLOG2E: i32 = 0;
export const kSHIFT: i32 = 1;
export const kLN2_HI: i32 = 2;
export const kLN2_LO: i32 = 3;
export const kONE: i32 = 4;
// 5..16: Taylor coefficients 1/2! .. 1/13!
export const kHALF: i32 = 17;
export const kTWO: i32 = 18;
export const kINV_SQRT2: i32 = 19;
export const kINV_SQRTPI: i32 = 20;
export const kINV_SQRT_2PI: i32 = 21;
export const kSQRT_HALF_PI: i32 = 22;
export const kSMALL: i32 = 23; // 0.46875, Cody's first break point
export const kFOUR: i32 = 24; // Cody's second break point
// 25..34: erf on |x| <= 0.46875, x P(x^2)/Q(x^2): P from the constant term up (5), Q (5, monic)
// 35..52: erfcx on 0.46875 < y <= 4, P(y)/Q(y): P (9), Q (9, monic)
// 53..64: erfcx for y > 4 as polynomials in s = y^2 (Cody's tail rational times s^5), see erfcTail*
export const kZERO: i32 = 65;
export const kMINUS_HALF: i32 = 66;
export const kONE_MINUS_ULP: i32 = 67;
export const kZ_MAX_NORMAL: i32 = 68; // 37: exp(-z^2/2) >= exp(-684.5) stays normal
export const kEXP_ARG_MAX: i32 = 69; // 700: exp(-x) stays normal for |x| <= 700
export const kMINUS_TWO: i32 = 70;

export const VC: usize = memory.data<f64>([
  LOG2E, SHIFT, LN2_HI, LN2_LO, 1.0,
  0.5, 1.6666666666666666e-1, 4.1666666666666664e-2, 8.3333333333333332e-3, 1.3888888888888889e-3,
  1.9841269841269841e-4, 2.4801587301587302e-5, 2.7557319223985893e-6, 2.7557319223985888e-7,
  2.5052108385441720e-8, 2.0876756987868100e-9, 1.6059043836821613e-10,
  0.5, 2.0, 0.7071067811865476, 0.5641895835477563, 0.3989422804014327, 1.2533141373155003,
  0.46875, 4.0,
  // 25: erf small, numerator P0..P4, then denominator Q0..Q3 and 1 (index 34)
  3.20937758913846947e3, 3.77485237685302021e2, 1.13864154151050156e2, 3.16112374387056560e0, 1.85777706184603153e-1,
  2.84423683343917062e3, 1.28261652607737228e3, 2.44024637934444173e2, 2.36012909523441209e1, 1.0,
  // 35: erfcx mid, numerator P0..P8, then denominator Q0..Q7 and 1 (index 52)
  1.23033935479799725e3, 2.05107837782607147e3, 1.71204761263407058e3, 8.81952221241769090e2, 2.98635138197400131e2,
  6.61191906371416295e1, 8.88314979438837594e0, 5.64188496988670089e-1, 2.15311535474403846e-8,
  1.23033935480374942e3, 3.43936767414372164e3, 4.36261909014324716e3, 3.29079923573345963e3, 1.62138957456669019e3,
  5.37181101862009858e2, 1.17693950891312499e2, 1.57449261107098347e1, 1.0,
  // 53: tail, s^5 P(1/s) from the constant term up: Cody's P5..P0 (6), then s^5 Q(1/s): Q5 = 1 .. Q0 (6)
  1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
  1.60837851487422766e-2, 6.58749161529837803e-4,
  1.0, 2.56852019228982242e0, 1.87295284992346047e0, 5.27905102951428412e-1, 6.05183413124413191e-2,
  2.33520497626869185e-3,
  0.0, -0.5, 0.9999999999999999, 37.0, 700.0, -2.0,
], 16);

// Integer constants: 0 the mask that keeps the top 26 significant bits of a double (Dekker split),
// 1 the bits of 1.0, 2 the mantissa mask.
export const VI: usize = memory.data<i64>([-134217728, 0x3ff0000000000000, 0x000fffffffffffff], 16);
export const iHI26: i32 = 0;
export const iONE_BITS: i32 = 1;
export const iMANT: i32 = 2;

/** The constant VC[i] in both lanes. */
// @ts-ignore: decorator
@inline export function vk(i: i32): v128 {
  return v128.load64_splat(VC + (<usize>i << 3));
}

/** The integer constant VI[i] in both lanes. */
// @ts-ignore: decorator
@inline export function vi(i: i32): v128 {
  return v128.load64_splat(VI + (<usize>i << 3));
}

// @ts-ignore: decorator
@inline export function vadd(a: v128, b: v128): v128 { return f64x2.add(a, b); }
// @ts-ignore: decorator
@inline export function vsub(a: v128, b: v128): v128 { return f64x2.sub(a, b); }
// @ts-ignore: decorator
@inline export function vmul(a: v128, b: v128): v128 { return f64x2.mul(a, b); }
// @ts-ignore: decorator
@inline export function vdiv(a: v128, b: v128): v128 { return f64x2.div(a, b); }
/** a where mask, else b (mask lanes all ones or all zeros, e.g. from a comparison). */
// @ts-ignore: decorator
@inline export function vsel(a: v128, b: v128, mask: v128): v128 { return v128.bitselect(a, b, mask); }

/**
 * v[lane] stored at p + 8 lane for the lanes in `lanes` (bit 0: lane 0, bit 1: lane 1); both with
 * one store when lanes == 3.
 */
// @ts-ignore: decorator
@inline export function storeLanes(p: usize, v: v128, lanes: i32): void {
  if (lanes == 3) {
    v128.store(p, v);
  } else {
    if (lanes & 1) v128.store64_lane(p, v, 0);
    if (lanes & 2) v128.store64_lane(p, v, 1, 8);
  }
}

/** The top 26 significant bits of x: x = hi + (x - hi) exactly, and hi * hi is exact. */
// @ts-ignore: decorator
@inline export function vhi26(x: v128): v128 {
  return v128.and(x, vi(iHI26));
}

/**
 * exp(hi + lo), lane-wise, for hi in [-700, 700] and |lo| <= 1e-3 |hi| (a correction term, e.g. the
 * rounding error of hi). k = round(hi/ln2) by the 1.5*2^52 shifter, r = (hi - k ln2_hi) - k ln2_lo
 * + lo (fdlibm's two-part ln2: k ln2_hi is exact, and so is hi - k ln2_hi when hi has at most 52
 * significant bits below 2^5), e^r by its Taylor polynomial to degree 13 in Estrin form (|r| <=
 * 0.347: truncation < 1e-17 relative), and 2^k added to the exponent bits (no overflow, underflow
 * or special value can occur on the range; callers route other arguments to the scalar code).
 * Error < 1 ulp plus the error of lo. The scheme of expS in assembly/likelihood.ts, with the
 * polynomial summed from its small terms up.
 */
// @ts-ignore: decorator
@inline export function vexp(hi: v128, lo: v128): v128 {
  const kds = vadd(vmul(hi, vk(kLOG2E)), vk(kSHIFT));
  const kd = vsub(kds, vk(kSHIFT));
  const r = vadd(vsub(vsub(hi, vmul(kd, vk(kLN2_HI))), vmul(kd, vk(kLN2_LO))), lo);
  const r2 = vmul(r, r);
  const r4 = vmul(r2, r2);
  const q0 = vmul(vadd(vk(5), vmul(vk(6), r)), r2);
  const q1 = vadd(vadd(vk(7), vmul(vk(8), r)), vmul(vadd(vk(9), vmul(vk(10), r)), r2));
  const q2 = vadd(vadd(vadd(vk(11), vmul(vk(12), r)), vmul(vadd(vk(13), vmul(vk(14), r)), r2)), vmul(vadd(vk(15), vmul(vk(16), r)), r4));
  // 1 + (r + (r^2/2 + ...)): the small terms summed first, the 1 added last (max error 0.93 ulp
  // over [-700, 16] against a 40-digit reference, mean 0.27 ulp, like V8's Math.exp)
  const p = vadd(vk(kONE), vadd(r, vadd(q0, vmul(vadd(q1, vmul(q2, r4)), r4))));
  return i64x2.add(p, i64x2.shl(kds, 52));
}

// Cody's rational approximations (W. J. Cody, Math. Comp. 1969; SPECFUN CALERF; the coefficients
// of assembly/noise.ts) in Estrin form: numerator and denominator have positive coefficients and
// arguments, so there is no cancellation either way, and the dependency chains are short.

/** erf(x) = x * erfSmallNum(s) / erfSmallDen(s), s = x^2, |x| <= 0.46875. */
// @ts-ignore: decorator
@inline export function erfSmallNum(s: v128, s2: v128): v128 {
  return vadd(vadd(vadd(vk(25), vmul(vk(26), s)), vmul(vadd(vk(27), vmul(vk(28), s)), s2)), vmul(vk(29), vmul(s2, s2)));
}
// @ts-ignore: decorator
@inline export function erfSmallDen(s: v128, s2: v128): v128 {
  return vadd(vadd(vadd(vk(30), vmul(vk(31), s)), vmul(vadd(vk(32), vmul(vk(33), s)), s2)), vmul(s2, s2));
}

/** erfcx(y) = erfcxMidNum / erfcxMidDen for 0.46875 < y <= 4 (y2 = y^2, y4 = y^4). */
// @ts-ignore: decorator
@inline export function erfcxMidNum(y: v128, y2: v128, y4: v128): v128 {
  return vadd(
    vadd(
      vadd(vadd(vk(35), vmul(vk(36), y)), vmul(vadd(vk(37), vmul(vk(38), y)), y2)),
      vmul(vadd(vadd(vk(39), vmul(vk(40), y)), vmul(vadd(vk(41), vmul(vk(42), y)), y2)), y4),
    ),
    vmul(vk(43), vmul(y4, y4)),
  );
}
// @ts-ignore: decorator
@inline export function erfcxMidDen(y: v128, y2: v128, y4: v128): v128 {
  return vadd(
    vadd(
      vadd(vadd(vk(44), vmul(vk(45), y)), vmul(vadd(vk(46), vmul(vk(47), y)), y2)),
      vmul(vadd(vadd(vk(48), vmul(vk(49), y)), vmul(vadd(vk(50), vmul(vk(51), y)), y2)), y4),
    ),
    vmul(y4, y4),
  );
}

/**
 * For y > 4, Cody's 1/sqrt(pi) - y erfcx(y) = r P(r)/Q(r) with r = 1/y^2 (degree 5), written with
 * s = y^2 as erfcTailGapNum(s) / (s erfcTailGapDen(s)) (numerator and denominator times s^5, so no
 * division by y^2 is needed; s <= 700 keeps s^5 far from overflow).
 */
// @ts-ignore: decorator
@inline export function erfcTailGapNum(s: v128, s2: v128, s4: v128): v128 {
  return vadd(
    vadd(vadd(vk(53), vmul(vk(54), s)), vmul(vadd(vk(55), vmul(vk(56), s)), s2)),
    vmul(vadd(vk(57), vmul(vk(58), s)), s4),
  );
}
// @ts-ignore: decorator
@inline export function erfcTailGapDen(s: v128, s2: v128, s4: v128): v128 {
  return vadd(
    vadd(vadd(vk(59), vmul(vk(60), s)), vmul(vadd(vk(61), vmul(vk(62), s)), s2)),
    vmul(vadd(vk(63), vmul(vk(64), s)), s4),
  );
}
