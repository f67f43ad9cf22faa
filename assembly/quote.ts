// Optimal quote under competition with a known noise family (MATH.md §1.5) and the delta-method
// variance of a learned price (MATH.md §5.3). Kernels take raw byte offsets and check nothing.
//
// Notation: u = x'theta (mean competitor quote), c = payoff when we do not trade, a = c - u,
// w* = phi^-1(a), p* = u + w*. phi(v) = v - m(v) is the virtual valuation, m = (1-F)/f.
import { erfc, erfcxGap, normMillsRatio, logisticCdf, FAMILY_GAUSSIAN } from "./noise";

const INV_SQRT2: f64 = 0.7071067811865476;
const SQRT_PI: f64 = 1.7724538509055159;
/** m(0) = sqrt(pi/2) for the standard normal, so phi(0) = -sqrt(pi/2). */
const SQRT_HALF_PI: f64 = 1.2533141373155003;
/** Largest double below 1: dp/du < 1 holds exactly (MATH.md §1.5), so round down onto it. */
const ONE_MINUS_ULP: f64 = 0.9999999999999999;
const MAXIT: i32 = 100;

/**
 * phi_1^-1(a) for the standard normal (MATH.md §1.5). phi(v) = v - m(v) is increasing and concave
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
    // phi'(v) = 2 - v m(v) (MATH.md §1.5); divided through by m when m > 1, so that v m cannot
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
 * ln x - ln ln x = t - ln t), as in MATH.md Appendix A; when e^t would overflow (t > 700) Newton on
 * w + ln w = t instead (MATH.md §1.5).
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
 * phi_1^-1(a) for the standard logistic (MATH.md §1.5): a + 1 + W0(e^t), t = -(a + 1).
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

/**
 * w = phi^-1(a) with scale (MATH.md §1.5: phi_sigma^-1(a) = sigma phi_1^-1(a/sigma); the logistic
 * closed form scales the same way). out[i] = w_i.
 */
export function virtualValuationInverse(family: i32, scale: f64, n: i32, aPtr: usize, outPtr: usize): void {
  const inv = 1.0 / scale;
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 3;
    store<f64>(outPtr + off, scale * vvInverseStd(family, load<f64>(aPtr + off) * inv));
  }
}

/**
 * Optimal quote p* = u + phi^-1(c - u) (MATH.md §1.5). Output: 4 columns of n (column-major):
 *  0 price p*;
 *  1 winProbability 1 - F(w*) (the upper tail, never 1 - F);
 *  2 expectedReward R = c + (p* - c)(1 - F(w*)) (MATH.md §1.2);
 *  3 dpdu = 1 - 1/phi'(w*) in [0, 1).
 * The first-order condition gives p* - c = m(w*) exactly; that form is used for p* - c, and for the
 * price itself when w* >= 0 (then p* = c + m(w*) has no cancellation, whereas u + w* cancels when
 * u << c). When w* < 0, p* = u + w* with |w*| small against u.
 * dpdu: Gaussian, with g = 1 - z m(z) (z = w* / sigma), phi' = 1 + g and dpdu = g/(1 + g); for z >= 0,
 * g = sqrt(pi) (1/sqrt(pi) - y erfcx(y)), y = z/sqrt2, free of cancellation. Logistic:
 * phi' = 1 + e^-z, so dpdu = e^-z/(1 + e^-z) = 1 - F(w*).
 */
export function optimalQuote(family: i32, scale: f64, n: i32, uPtr: usize, cPtr: usize, outPtr: usize): void {
  const stride = <usize>n << 3;
  const inv = 1.0 / scale;
  for (let i = 0; i < n; i++) {
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
}

/**
 * Delta-method variance of a learned price (MATH.md §5.3): Var_i = dpdu_i^2 x_i' Sigma_k(i) x_i.
 * x: n x d row-major; cov: a block of d x d row-major matrices; covIndex[i] (f64) picks the matrix
 * of row i, covIndexPtr == 0 means one shared matrix. out[i] = variance.
 * The inner products run in two lanes (f64x2 with SIMD, two scalar accumulators without), so both
 * builds and the TS twin add in the same order.
 */
export function priceVariance(
  n: i32, d: i32, xPtr: usize, dpduPtr: usize, covPtr: usize, covIndexPtr: usize, outPtr: usize,
): void {
  const rowBytes = <usize>d << 3;
  const matBytes = <usize>d * rowBytes;
  const d2 = d & ~1;
  for (let i = 0; i < n; i++) {
    const xi = xPtr + <usize>i * rowBytes;
    let cov = covPtr;
    if (covIndexPtr != 0) cov += <usize>(<i32>load<f64>(covIndexPtr + (<usize>i << 3))) * matBytes;
    let q: f64 = 0.0;
    for (let r = 0; r < d; r++) {
      const row = cov + <usize>r * rowBytes;
      let s0: f64 = 0.0;
      let s1: f64 = 0.0;
      if (ASC_FEATURE_SIMD) {
        let acc = f64x2.splat(0.0);
        for (let k = 0; k < d2; k += 2) {
          const ko = <usize>k << 3;
          acc = f64x2.add(acc, f64x2.mul(v128.load(row + ko), v128.load(xi + ko)));
        }
        s0 = f64x2.extract_lane(acc, 0);
        s1 = f64x2.extract_lane(acc, 1);
      } else {
        for (let k = 0; k < d2; k += 2) {
          const ko = <usize>k << 3;
          s0 += load<f64>(row + ko) * load<f64>(xi + ko);
          s1 += load<f64>(row + ko + 8) * load<f64>(xi + ko + 8);
        }
      }
      let s = s0 + s1;
      if (d2 < d) {
        const ko = <usize>d2 << 3;
        s += load<f64>(row + ko) * load<f64>(xi + ko);
      }
      q += load<f64>(xi + (<usize>r << 3)) * s;
    }
    const g = load<f64>(dpduPtr + (<usize>i << 3));
    store<f64>(outPtr + (<usize>i << 3), g * g * q);
  }
}
