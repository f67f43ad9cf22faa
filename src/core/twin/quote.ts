// TypeScript twin of assembly/quote.ts (the parity reference): same algorithms, same operation
// order. Optimal quote (docs/math.md §1.5) and delta-method price variance (docs/math.md §5.3).
import { erfc, erfcxGap, normMillsRatio, logisticCdf, FAMILY_GAUSSIAN } from './noise.js';

const INV_SQRT2 = 0.7071067811865476;
const SQRT_PI = 1.7724538509055159;
/** m(0) = sqrt(pi/2) for the standard normal, so phi(0) = -sqrt(pi/2). */
const SQRT_HALF_PI = 1.2533141373155003;
/** Largest double below 1: dp/du < 1 holds exactly (docs/math.md §1.5), so round down onto it. */
const ONE_MINUS_ULP = 0.9999999999999999;
const MAXIT = 100;

/** phi_1^-1(a), standard normal: safeguarded Newton from the lower end of a bracket (see the AS kernel). */
export function vvInverseGaussStd(a: number): number {
  let lo: number;
  let hi: number;
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

/** W0(e^t): Halley on w e^w = x, or Newton on w + ln w = t when e^t would overflow (t > 700). */
export function lambertW0Exp(t: number): number {
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

/** phi_1^-1(a), standard logistic: a + 1 + W0(e^-(a+1)), as -ln W when a < -1. */
export function vvInverseLogisticStd(a: number): number {
  const t = -(a + 1.0);
  const W = lambertW0Exp(t);
  if (t > 0.0) return -Math.log(W);
  return a + 1.0 + W;
}

export function vvInverseStd(family: number, a: number): number {
  return family == FAMILY_GAUSSIAN ? vvInverseGaussStd(a) : vvInverseLogisticStd(a);
}

/** out[i] = phi^-1(a[i]) for the family and scale (docs/math.md §1.5). */
export function virtualValuationInverse(family: number, scale: number, n: number, a: Float64Array, out: Float64Array): void {
  const inv = 1.0 / scale;
  for (let i = 0; i < n; i++) out[i] = scale * vvInverseStd(family, a[i] * inv);
}

/** 4 columns of n: price, winProbability, expectedReward, dpdu (see the AS kernel). */
export function optimalQuote(family: number, scale: number, n: number, u: Float64Array, c: Float64Array, out: Float64Array): void {
  const inv = 1.0 / scale;
  for (let i = 0; i < n; i++) {
    const ui = u[i];
    const ci = c[i];
    const z = vvInverseStd(family, (ci - ui) * inv);
    let mStd: number;
    let S: number;
    let dpdu: number;
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
    out[i] = z >= 0.0 ? ci + pc : ui + scale * z;
    out[n + i] = S;
    out[2 * n + i] = ci + pc * S;
    out[3 * n + i] = dpdu;
  }
}

/**
 * out[i] = dpdu[i]^2 x_i' Sigma_k(i) x_i (docs/math.md §5.3); cov holds the matrices as covAt says
 * (covAt[k] >= 0: packed upper triangle at that offset, see packSymmetric; < 0: the diagonal at
 * -covAt[k] - 1; covAt null: all packed, matrix k at k d(d+1)/2); covIndex null: one shared matrix.
 */
export function priceVariance(
  n: number, d: number, x: Float64Array, dpdu: Float64Array, cov: Float64Array, covAt: Int32Array | null, covIndex: Float64Array | null, out: Float64Array,
): void {
  const P = (d * (d + 1)) / 2;
  for (let i = 0; i < n; i++) {
    const xi = i * d;
    const k = covIndex === null ? 0 : covIndex[i] | 0;
    const at = covAt === null ? k * P : covAt[k];
    let q = 0.0;
    if (at < 0) {
      const diag = -at - 1;
      for (let r = 0; r < d; r++) {
        const xr = x[xi + r];
        q += xr * (cov[diag + r] * xr);
      }
    } else {
      let row = at;
      for (let r = 0; r < d; r++) {
        const m = d - r - 1;
        const m2 = m & ~1;
        const off = row + 1;
        const xo = xi + r + 1;
        let s0 = 0.0;
        let s1 = 0.0;
        for (let kk = 0; kk < m2; kk += 2) {
          s0 += cov[off + kk] * x[xo + kk];
          s1 += cov[off + kk + 1] * x[xo + kk + 1];
        }
        let t = s0 + s1;
        if (m2 < m) t += cov[off + m2] * x[xo + m2];
        const xr = x[xi + r];
        q += xr * (cov[row] * xr + 2.0 * t);
        row += m + 1;
      }
    }
    const g = dpdu[i];
    out[i] = g * g * q;
  }
}
