// TypeScript twin of assembly/censoredDemand.ts (the parity reference): same algorithm, same
// operation order; arrays instead of pointers. One E-step pass of the censored-demand EM
// (docs/math.md §2.7), returning [l(lambda), sum D^, sum Var, d2l/dlambda2, sum a].

const LN_SQRT_2PI = 0.9189385332046727;

const STIRLERR = [
  0.0,
  0.08106146679532726, 0.0413406959554093, 0.02767792568499834, 0.020790672103765093,
  0.016644691189821193, 0.013876128823070748, 0.01189670994589177, 0.010411265261972096,
  0.009255462182712733, 0.00833056343336287, 0.007573675487951841, 0.00694284010720953,
  0.006408994188004207, 0.0059513701127588475, 0.005554733551962801,
];

function stirlingError(n: number): number {
  if (n <= 15.0) return STIRLERR[n | 0];
  const nn = n * n;
  return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0 - 1.0 / 1188.0 / nn) / nn) / nn) / nn) / n;
}

function logFactorial(n: number): number {
  if (n <= 1.0) return 0.0;
  return (n + 0.5) * Math.log(n) - n + LN_SQRT_2PI + stirlingError(n);
}

function devianceTerm(x: number, m: number): number {
  if (Math.abs(x - m) < 0.1 * (x + m)) {
    let v = (x - m) / (x + m);
    let s = (x - m) * v;
    let ej = 2.0 * x * v;
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

function logPoissonPmf(k: number, mu: number): number {
  if (k === 0.0) return -mu;
  return -LN_SQRT_2PI - 0.5 * Math.log(k) - stirlingError(k) - devianceTerm(k, mu);
}

/** [log P(D >= c), E[D | D >= c], Var[D | D >= c], hazard] */
function poissonTail(c: number, mu: number): [number, number, number, number] {
  if (c === 0.0) return [0.0, mu, mu, 0.0];
  if (mu < c + 1.0) {
    let t = 1.0;
    let w = 1.0;
    let m = 0.0;
    let m2 = 0.0;
    for (let n = 1; n < 100000000; n++) {
      t *= mu / (c + n);
      if (t < 1e-17 * w) break;
      w += t;
      const d = n - m;
      m += (d * t) / w;
      m2 += t * d * (n - m);
    }
    return [logPoissonPmf(c, mu) + Math.log(w), c + m, m2 / w, c / (mu * w)];
  }
  const tiny = 1e-300;
  let b = mu + 1.0 - c;
  let cc = 1.0 / tiny;
  let d = 1.0 / b;
  let h = d;
  for (let i = 1; i < 100000000; i++) {
    const an = -i * (i - c);
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
  return [Math.log1p(-below), mu * (1.0 + hz), mu + mu * hz * (c - mu) - mu * mu * hz * hz, hz];
}

export function censoredPoissonEStep(a: Float64Array, b: Float64Array, c: Float64Array, n: number, lambda: number): [number, number, number, number, number] {
  let ll = 0.0;
  let sd = 0.0;
  let sv = 0.0;
  let hs = 0.0;
  let sa = 0.0;
  const l2 = lambda * lambda;
  for (let t = 0; t < n; t++) {
    const at = a[t];
    const bt = b[t];
    const ct = c[t];
    const mu = lambda * at;
    sa += at;
    if (bt < ct) {
      ll += (bt > 0.0 ? bt * Math.log(mu) : 0.0) - mu - logFactorial(bt);
      sd += bt;
      hs -= bt / l2;
    } else {
      const [lg, mean, v, hz] = poissonTail(ct, mu);
      ll += lg;
      sd += mean;
      sv += v;
      if (ct > 0.0) hs += at * at * (hz * ((ct - 1.0) / mu - 1.0) - hz * hz);
    }
  }
  return [ll, sd, sv, hs, sa];
}
