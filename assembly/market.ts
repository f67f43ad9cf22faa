// Market-clearing potential under nested-logit demand (docs/math.md §2): the potential ER(p), its
// gradient (supply minus expected demand), the supply and demand vectors, and the one-participant
// stochastic oracle. Columnar, zero-copy: the market lives in linear memory, set once per call
// sequence by marketSetup.
//
// Layout (byte offsets): a (m x n, consumer j's values at a + j*n*8), w (m), nest (n i32, nest
// index 0..L-1 of each product), muL (L), c (K x n), cap (K x n), beta (K); work: 3L doubles.
// Every nest must hold at least one product (the wrapper checks).

let gN: i32 = 0;
let gM: i32 = 0;
let gL: i32 = 0;
let gK: i32 = 0;
let gMu: f64 = 1.0;
let gOutside: i32 = 0;
let gA: usize = 0;
let gW: usize = 0;
let gNest: usize = 0;
let gMuL: usize = 0;
let gC: usize = 0;
let gCap: usize = 0;
let gBeta: usize = 0;
let gWork: usize = 0;

/** Doubles of scratch the kernels need for a market with L nests. */
export function marketWorkSize(L: i32): i32 {
  return 3 * L;
}

export function marketSetup(
  n: i32, m: i32, L: i32, K: i32, mu: f64, outside: i32,
  a: usize, w: usize, nest: usize, muL: usize, c: usize, cap: usize, beta: usize, work: usize,
): void {
  gN = n; gM = m; gL = L; gK = K; gMu = mu; gOutside = outside;
  gA = a; gW = w; gNest = nest; gMuL = muL; gC = c; gCap = cap; gBeta = beta; gWork = work;
}

// @ts-ignore: decorator
@inline function f(ptr: usize, i: i32): f64 {
  return load<f64>(ptr + (<usize>i << 3));
}
// @ts-ignore: decorator
@inline function setf(ptr: usize, i: i32, v: f64): void {
  store<f64>(ptr + (<usize>i << 3), v);
}
// @ts-ignore: decorator
@inline function nestOf(i: i32): i32 {
  return load<i32>(gNest + (<usize>i << 2));
}

/**
 * Consumer j at prices p: returns E_j(p); when out != 0 adds scale * P_j(i) to out[i].
 * work[0..L): nest maxima of V/mu_l, [L..2L): nest sums, [2L..3L): (mu_l/mu) I_l.
 */
function consumer(j: i32, p: usize, out: usize, scale: f64): f64 {
  const n = gN;
  const L = gL;
  const row = gA + ((<usize>j * <usize>n) << 3);
  const mx = gWork;
  const sm = gWork + ((<usize>L) << 3);
  const tl = gWork + ((<usize>(2 * L)) << 3);
  for (let l = 0; l < L; l++) {
    setf(mx, l, -Infinity);
    setf(sm, l, 0.0);
  }
  for (let i = 0; i < n; i++) {
    const l = nestOf(i);
    const v = (f(row, i) - f(p, i)) / f(gMuL, l);
    if (v > f(mx, l)) setf(mx, l, v);
  }
  for (let i = 0; i < n; i++) {
    const l = nestOf(i);
    const v = (f(row, i) - f(p, i)) / f(gMuL, l);
    setf(sm, l, f(sm, l) + Math.exp(v - f(mx, l)));
  }
  let top: f64 = gOutside != 0 ? 0.0 : -Infinity;
  for (let l = 0; l < L; l++) {
    const t = (f(gMuL, l) / gMu) * (f(mx, l) + Math.log(f(sm, l)));
    setf(tl, l, t);
    if (t > top) top = t;
  }
  let s: f64 = gOutside != 0 ? Math.exp(-top) : 0.0;
  for (let l = 0; l < L; l++) s += Math.exp(f(tl, l) - top);
  if (out != 0) {
    for (let l = 0; l < L; l++) setf(tl, l, Math.exp(f(tl, l) - top) / s / f(sm, l)); // P(l) / s_l
    for (let i = 0; i < n; i++) {
      const l = nestOf(i);
      const v = (f(row, i) - f(p, i)) / f(gMuL, l);
      setf(out, i, f(out, i) + scale * (f(tl, l) * Math.exp(v - f(mx, l))));
    }
  }
  return gMu * (top + Math.log(s));
}

/** Supplier k at prices p: returns S_k(p); when out != 0 adds scale * x_k(p) to out. */
function supplier(k: i32, p: usize, out: usize, scale: f64): f64 {
  const n = gN;
  const cr = gC + ((<usize>k * <usize>n) << 3);
  const xr = gCap + ((<usize>k * <usize>n) << 3);
  const b = f(gBeta, k);
  let total: f64 = 0.0;
  for (let i = 0; i < n; i++) {
    const v = f(p, i) - f(cr, i);
    if (v <= 0.0) continue;
    const xbar = f(xr, i);
    let x: f64;
    if (v <= b * xbar) {
      total += (v * v) / (2.0 * b);
      x = v / b;
    } else {
      total += v * xbar - (b * xbar * xbar) / 2.0;
      x = xbar;
    }
    if (out != 0) setf(out, i, f(out, i) + scale * x);
  }
  return total;
}

/**
 * ER(p) = sum_k S_k(p) + sum_j w_j E_j(p); writes supply = sum_k x_k(p), demand = sum_j w_j P_j(p)
 * and grad = supply - demand (each n doubles).
 */
export function marketPotential(p: usize, supply: usize, demand: usize, grad: usize): f64 {
  const n = gN;
  for (let i = 0; i < n; i++) {
    setf(supply, i, 0.0);
    setf(demand, i, 0.0);
  }
  let er: f64 = 0.0;
  for (let k = 0; k < gK; k++) er += supplier(k, p, supply, 1.0);
  for (let j = 0; j < gM; j++) {
    const wj = f(gW, j);
    er += wj * consumer(j, p, demand, wj);
  }
  for (let i = 0; i < n; i++) setf(grad, i, f(supply, i) - f(demand, i));
  return er;
}

/**
 * The one-participant oracle with uniform draw probability 1/(K+m): participant q < K is supplier
 * q (g = (K+m) x_q(p)), otherwise consumer j = q - K (g = -(K+m) w_j P_j(p)). Writes g (n).
 */
export function marketOracle(p: usize, q: i32, g: usize): void {
  const n = gN;
  const scale = <f64>(gK + gM);
  for (let i = 0; i < n; i++) setf(g, i, 0.0);
  if (q < gK) supplier(q, p, g, scale);
  else {
    const j = q - gK;
    consumer(j, p, g, -scale * f(gW, j));
  }
}

/**
 * The sampled-purchase oracle: as marketOracle for a supplier; a consumer j draws its purchase i
 * from P_j(p) by the uniform u in [0, 1) (the first i whose cumulative probability exceeds u, in
 * product order; no purchase when u falls in the outside option's share; without an outside option
 * a u beyond the rounded total buys the last product) and g = -(K+m) w_j e_i.
 * Returns the product bought, -1 for none (or a supplier). `tmp` is n doubles of scratch.
 */
export function marketOracleSampled(p: usize, q: i32, u: f64, g: usize, tmp: usize): i32 {
  const n = gN;
  const scale = <f64>(gK + gM);
  for (let i = 0; i < n; i++) setf(g, i, 0.0);
  if (q < gK) {
    supplier(q, p, g, scale);
    return -1;
  }
  const j = q - gK;
  for (let i = 0; i < n; i++) setf(tmp, i, 0.0);
  consumer(j, p, tmp, 1.0);
  let cum: f64 = 0.0;
  for (let i = 0; i < n; i++) {
    cum += f(tmp, i);
    if (u < cum) {
      setf(g, i, -scale * f(gW, j));
      return i;
    }
  }
  if (gOutside == 0) {
    // rounding left cum just below 1: the last product
    setf(g, n - 1, -scale * f(gW, j));
    return n - 1;
  }
  return -1;
}
