// One E-step pass of the censored-demand EM (docs/math.md §2.7) over columns in linear memory:
// period t has mean demand mu_t = lambda * a_t, bookings b_t and units available c_t (both
// integers stored as f64); it is sold out when b_t = c_t. The pass writes five sums to out:
//   out[0] = l(lambda), the observed-data log-likelihood (with its -log b! constants)
//   out[1] = sum of the imputed demand D^_t (b_t when open, E[D | D >= c_t] when sold out)
//   out[2] = sum of Var[D_t | b_t] (0 when open)              -> Louis' information
//   out[3] = d2l/dlambda2 differentiated directly
//   out[4] = sum of a_t
// The Poisson tail follows src/market/poissonTail.ts: Loader's saddle-point pmf, the series for
// mu < c + 1 (conditional moments by a weighted running mean), the continued fraction otherwise.

const LN_SQRT_2PI: f64 = 0.9189385332046727;

// stirlerr(n) = log n! - (n + 1/2) log n + n - log sqrt(2 pi), n = 0..15 (40-digit values)
const STIRLERR: StaticArray<f64> = [
  0.0,
  0.08106146679532726, 0.0413406959554093, 0.02767792568499834, 0.020790672103765093,
  0.016644691189821193, 0.013876128823070748, 0.01189670994589177, 0.010411265261972096,
  0.009255462182712733, 0.00833056343336287, 0.007573675487951841, 0.00694284010720953,
  0.006408994188004207, 0.0059513701127588475, 0.005554733551962801,
];

function stirlingError(n: f64): f64 {
  if (n <= 15.0) return unchecked(STIRLERR[<i32>n]);
  const nn = n * n;
  return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - (1.0 / 1188.0) / nn) / nn) / nn) / nn) / n;
}

function logFactorial(n: f64): f64 {
  if (n <= 1.0) return 0.0;
  return (n + 0.5) * Math.log(n) - n + LN_SQRT_2PI + stirlingError(n);
}

function devianceTerm(x: f64, m: f64): f64 {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    let v = (x - m) / (x + m);
    let s = (x - m) * v;
    let ej = 2.0 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / <f64>(2 * j + 1);
      if (s1 == s) return s1;
      s = s1;
    }
    return s;
  }
  return x * Math.log(x / m) + m - x;
}

function logPoissonPmf(k: f64, mu: f64): f64 {
  if (k == 0.0) return -mu;
  return -LN_SQRT_2PI - 0.5 * Math.log(k) - stirlingError(k) - devianceTerm(k, mu);
}

// results of the tail of one sold-out period (globals: no allocation per period)
let tLog: f64 = 0.0;
let tMean: f64 = 0.0;
let tVar: f64 = 0.0;
let tHaz: f64 = 0.0;

function poissonTail(c: f64, mu: f64): void {
  if (c == 0.0) {
    tLog = 0.0; tMean = mu; tVar = mu; tHaz = 0.0;
    return;
  }
  if (mu < c + 1.0) {
    let t: f64 = 1.0;
    let w: f64 = 1.0;
    let m: f64 = 0.0;
    let m2: f64 = 0.0;
    for (let n = 1; n < 100000000; n++) {
      t *= mu / (c + <f64>n);
      if (t < 1e-17 * w) break;
      w += t;
      const d = <f64>n - m;
      m += (d * t) / w;
      m2 += t * d * (<f64>n - m);
    }
    tLog = logPoissonPmf(c, mu) + Math.log(w);
    tMean = c + m;
    tVar = m2 / w;
    tHaz = c / (mu * w);
    return;
  }
  const tiny: f64 = 1e-300;
  let b = mu + 1.0 - c;
  let cc = 1.0 / tiny;
  let d = 1.0 / b;
  let h = d;
  for (let i = 1; i < 100000000; i++) {
    const an = -<f64>i * (<f64>i - c);
    b += 2.0;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    cc = b + an / cc;
    if (Math.abs(cc) < tiny) cc = tiny;
    d = 1.0 / d;
    const del = d * cc;
    h *= del;
    if (!(Math.abs(del - 1.0) >= 1e-16)) break; // converged, or NaN
  }
  const pPrev = Math.exp(logPoissonPmf(c - 1.0, mu));
  const below = mu * pPrev * h;
  const hz = pPrev / (1.0 - below);
  tLog = Math.log1p(-below);
  tMean = mu * (1.0 + hz);
  tVar = mu + mu * hz * (c - mu) - mu * mu * hz * hz;
  tHaz = hz;
}

/** The E-step sums over periods [0, n) at lambda > 0; see the header for out[0..5). */
export function censoredPoissonEStep(a: usize, b: usize, c: usize, n: i32, lambda: f64, out: usize): void {
  let ll: f64 = 0.0;
  let sd: f64 = 0.0;
  let sv: f64 = 0.0;
  let hs: f64 = 0.0;
  let sa: f64 = 0.0;
  const l2 = lambda * lambda;
  for (let t = 0; t < n; t++) {
    const off = <usize>t << 3;
    const at = load<f64>(a + off);
    const bt = load<f64>(b + off);
    const ct = load<f64>(c + off);
    const mu = lambda * at;
    sa += at;
    if (bt < ct) {
      ll += (bt > 0.0 ? bt * Math.log(mu) : 0.0) - mu - logFactorial(bt);
      sd += bt;
      hs -= bt / l2;
    } else {
      poissonTail(ct, mu);
      ll += tLog;
      sd += tMean;
      sv += tVar;
      if (ct > 0.0) hs += at * at * (tHaz * ((ct - 1.0) / mu - 1.0) - tHaz * tHaz);
    }
  }
  store<f64>(out, ll);
  store<f64>(out + 8, sd);
  store<f64>(out + 16, sv);
  store<f64>(out + 24, hs);
  store<f64>(out + 32, sa);
}
