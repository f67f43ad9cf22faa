/**
 * The Poisson pieces the censored-demand EM needs (docs/math.md §2.7), stable for large counts and
 * means: the log probability mass by Loader's saddle-point form (no `c·log μ − log c!`
 * cancellation), and the upper tail `Q(c, μ) = P(D ≥ c)` in log space together with the moments of
 * `D` given `D ≥ c`. Counts are integers; every function here is scalar and allocation-free.
 */

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * stirlerr(n) = log n! − (n + ½) log n + n − log √(2π), the error of Stirling's formula. Below 16
 * it comes from the exact factorial (n! < 2^53 there); above, from its asymptotic series (the
 * truncation error is below 1e-17 from n = 16 on).
 */
const STIRLERR_SMALL: number[] = (() => {
  const out = [0];
  let f = 1;
  for (let n = 1; n <= 15; n++) {
    f *= n;
    out.push(Math.log(f) - (n + 0.5) * Math.log(n) + n - LN_SQRT_2PI);
  }
  return out;
})();

export function stirlingError(n: number): number {
  if (n <= 15) return STIRLERR_SMALL[n];
  const nn = n * n;
  const S0 = 1 / 12, S1 = 1 / 360, S2 = 1 / 1260, S3 = 1 / 1680, S4 = 1 / 1188;
  return (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n;
}

/** log n! for an integer n ≥ 0, through stirlingError (relative error ~1e-16 at any n). */
export function logFactorial(n: number): number {
  if (n <= 1) return 0;
  return (n + 0.5) * Math.log(n) - n + LN_SQRT_2PI + stirlingError(n);
}

/**
 * bd0(x, m) = x log(x/m) + m − x ≥ 0, the deviance term of the saddle-point form, by its series in
 * v = (x − m)/(x + m) when x is near m (where the direct formula cancels).
 */
export function devianceTerm(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    let v = (x - m) / (x + m);
    let s = (x - m) * v;
    let ej = 2 * x * v;
    v *= v;
    for (let j = 1; j < 1000; j++) {
      ej *= v;
      const s1 = s + ej / (2 * j + 1);
      if (s1 === s) return s1;
      s = s1;
    }
    return s;
  }
  return x * Math.log(x / m) + m - x;
}

/** log P(D = k) for D ~ Poisson(μ), k ≥ 0 integer, μ > 0 (Loader 2000). */
export function logPoissonPmf(k: number, mu: number): number {
  if (k === 0) return -mu;
  return -LN_SQRT_2PI - 0.5 * Math.log(k) - stirlingError(k) - devianceTerm(k, mu);
}

/** What the E-step and the information need from one censored period (§2.7). */
export interface PoissonTail {
  /** log P(D ≥ c) */
  logTail: number;
  /** E[D | D ≥ c] */
  mean: number;
  /** Var[D | D ≥ c] */
  variance: number;
  /** P(D = c − 1) / P(D ≥ c) = d log P(D ≥ c) / dμ (0 when c = 0) */
  hazard: number;
}

const MAX_TERMS = 100_000_000;

/**
 * The upper tail of D ~ Poisson(μ) at an integer c ≥ 0 (μ > 0), two ways by where c lies:
 *
 * - μ < c + 1: P(D ≥ c) = P(D = c) · S with S = Σ_{n≥0} t_n, t_0 = 1, t_n = t_{n−1} μ/(c + n)
 *   (every ratio is below 1, so the terms fall from the first); D − c given D ≥ c has weights t_n,
 *   so its mean and variance are accumulated with the terms (weighted Welford, no cancellation),
 *   and the hazard is c/(μ S).
 * - μ ≥ c + 1: P(D ≤ c − 1) = μ P(D = c − 1) · H with H the continued fraction of the upper
 *   incomplete gamma function (modified Lentz); then P(D ≥ c) = 1 − P(D ≤ c − 1) ≥ ½ and
 *   log P(D ≥ c) = log1p(−P(D ≤ c − 1)); E = μ(1 + h), Var = μ + μh(c − μ) − μ²h².
 *
 * Near c ≈ μ both need O(√μ) terms; far from it a handful.
 */
export function poissonTail(c: number, mu: number): PoissonTail {
  if (c === 0) return { logTail: 0, mean: mu, variance: mu, hazard: 0 };
  if (mu < c + 1) {
    let t = 1;
    let w = 1; // Σ t_n
    let m = 0; // weighted mean of n
    let m2 = 0; // weighted sum of squared deviations
    for (let n = 1; n < MAX_TERMS; n++) {
      t *= mu / (c + n);
      if (t < 1e-17 * w) break;
      w += t;
      const d = n - m;
      m += (d * t) / w;
      m2 += t * d * (n - m);
    }
    return { logTail: logPoissonPmf(c, mu) + Math.log(w), mean: c + m, variance: m2 / w, hazard: c / (mu * w) };
  }
  // modified Lentz for 1/(x+1−a− 1(1−a)/(x+3−a− 2(2−a)/(x+5−a− …))) with a = c, x = μ
  const tiny = 1e-300;
  let b = mu + 1 - c;
  let cc = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_TERMS; i++) {
    const an = -i * (i - c);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    cc = b + an / cc;
    if (Math.abs(cc) < tiny) cc = tiny;
    d = 1 / d;
    const del = d * cc;
    h *= del;
    // converged, or a NaN (a NaN mean): stop either way rather than run out the cap
    if (!(Math.abs(del - 1) >= 1e-16)) break;
  }
  const pPrev = Math.exp(logPoissonPmf(c - 1, mu)); // P(D = c − 1)
  const below = mu * pPrev * h; // P(D ≤ c − 1)
  const tail = 1 - below;
  const hz = pPrev / tail;
  return { logTail: Math.log1p(-below), mean: mu * (1 + hz), variance: mu + mu * hz * (c - mu) - mu * mu * hz * hz, hazard: hz };
}

/**
 * Expected sales E[min(D, c)] and expected lost demand E[(D − c)⁺] for D ~ Poisson(μ) and an
 * integer capacity c ≥ 0: E[(D − c)⁺] = P(D ≥ c)·(E[D | D ≥ c] − c), sales = μ − lost.
 */
export function salesAndLost(c: number, mu: number): { sales: number; lost: number } {
  if (mu <= 0) return { sales: 0, lost: 0 };
  if (c === 0) return { sales: 0, lost: mu };
  const t = poissonTail(c, mu);
  const lost = Math.exp(t.logTail) * (t.mean - c);
  return { sales: mu - lost, lost };
}
