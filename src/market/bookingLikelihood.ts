/**
 * The booking model's log-likelihood for one set of grouped trials, with its analytic gradient and
 * Hessian in θ = (a, b), and the ridge toward the pooled fit (docs/math.md §2.6):
 *
 *   F(θ) = Σ_g [k_g·η_g − n_g·log(1 + e^(η_g))] − (λ/2)·‖θ − θ₀‖²,   η_g = a + b·x_g,
 *   ∇F   = Σ_g (k_g − n_g·σ_g)·(1, x_g) − λ(θ − θ₀),
 *   ∇²F  = −Σ_g n_g·σ_g(1 − σ_g)·[[1, x_g], [x_g, x_g²]] − λI.
 *
 * A group is the trials of one segment at one price: n_g trials, k_g of them booked, x_g the log
 * of the price over the segment's reference price. The sums run over the groups [from, to) of
 * plain arrays (no per-group calls), with the counts taken from `n` and `k` (the total counts, a
 * fold's held-out counts, or the training counts of a fold).
 */

/** log(1 + e^η) without overflow or loss of digits. */
export function softplus(eta: number): number {
  return Math.max(eta, 0) + Math.log1p(Math.exp(-Math.abs(eta)));
}

/** σ(η) = 1 / (1 + e^(−η)) without overflow. */
export function logistic(eta: number): number {
  if (eta >= 0) return 1 / (1 + Math.exp(-eta));
  const e = Math.exp(eta);
  return e / (1 + e);
}

/** Value, gradient (g0, g1) and Hessian (h00, h01, h11) of F at θ = (a, b). */
export interface LikelihoodSums {
  value: number;
  g0: number;
  g1: number;
  h00: number;
  h01: number;
  h11: number;
}

/** The grouped trials the sums read: per group its log-price ratio x and its counts. */
export interface GroupColumns {
  x: Float64Array;
  n: Float64Array;
  k: Float64Array;
}

/** The ridge of F: strength λ ≥ 0 toward (a0, b0). */
export interface Ridge {
  lambda: number;
  a0: number;
  b0: number;
}

const NO_RIDGE: Ridge = { lambda: 0, a0: 0, b0: 0 };

/** F, ∇F and ∇²F over the groups [from, to) at (a, b). */
export function likelihoodSums(cols: GroupColumns, from: number, to: number, a: number, b: number, ridge: Ridge = NO_RIDGE): LikelihoodSums {
  const { x, n, k } = cols;
  let value = 0;
  let g0 = 0;
  let g1 = 0;
  let h00 = 0;
  let h01 = 0;
  let h11 = 0;
  for (let g = from; g < to; g++) {
    const ng = n[g];
    if (ng === 0) continue;
    const xg = x[g];
    const eta = a + b * xg;
    // one exponential for both σ(η) and log(1 + e^η)
    const e = Math.exp(-Math.abs(eta));
    const s = eta >= 0 ? 1 / (1 + e) : e / (1 + e);
    value += k[g] * eta - ng * (Math.max(eta, 0) + Math.log1p(e));
    const r = k[g] - ng * s;
    g0 += r;
    g1 += r * xg;
    const w = ng * s * (1 - s);
    h00 += w;
    h01 += w * xg;
    h11 += w * xg * xg;
  }
  const { lambda, a0, b0 } = ridge;
  const da = a - a0;
  const db = b - b0;
  return {
    value: value - 0.5 * lambda * (da * da + db * db),
    g0: g0 - lambda * da,
    g1: g1 - lambda * db,
    h00: -h00 - lambda,
    h01: -h01,
    h11: -h11 - lambda,
  };
}

/** Σ_g [k_g·η_g − n_g·log(1 + e^(η_g))] over [from, to) (the held-out score; no ridge). */
export function logLikelihood(cols: GroupColumns, from: number, to: number, a: number, b: number): number {
  const { x, n, k } = cols;
  let value = 0;
  for (let g = from; g < to; g++) {
    if (n[g] === 0) continue;
    const eta = a + b * x[g];
    value += k[g] * eta - n[g] * softplus(eta);
  }
  return value;
}

/** How a Newton maximisation of F ended. */
export interface NewtonResult {
  a: number;
  b: number;
  value: number;
  iterations: number;
  converged: boolean;
}

/**
 * Maximise F over θ by Newton steps with step halving (F never falls by more than its rounding),
 * from (a, b). Stops when
 * max(|∂F/∂a|, |∂F/∂b|) ≤ tol·(1 + Σ n_g) or after maxIter steps; `converged` says which. F must
 * be concave (it is: a sum of concave terms and a ridge); a singular Hessian (no price variation
 * and no ridge) ends the search unconverged.
 */
export function newtonMaximise(cols: GroupColumns, from: number, to: number, start: { a: number; b: number }, ridge: Ridge = NO_RIDGE, tol = 1e-9, maxIter = 100): NewtonResult {
  let total = 0;
  for (let g = from; g < to; g++) total += cols.n[g];
  const limit = tol * (1 + total);
  let a = start.a;
  let b = start.b;
  let s = likelihoodSums(cols, from, to, a, b, ridge);
  for (let it = 0; it < maxIter; it++) {
    if (Math.max(Math.abs(s.g0), Math.abs(s.g1)) <= limit) return { a, b, value: s.value, iterations: it, converged: true };
    // the Newton direction −H⁻¹g of the 2x2 system; H is negative definite when F is strictly concave
    const det = s.h00 * s.h11 - s.h01 * s.h01;
    if (!(det > 0) || !(s.h00 < 0)) return { a, b, value: s.value, iterations: it, converged: false };
    const da = -(s.h11 * s.g0 - s.h01 * s.g1) / det;
    const db = -(-s.h01 * s.g0 + s.h00 * s.g1) / det;
    // near the optimum the gain of a step falls below the rounding of a sum of many terms: a
    // fall of F within that rounding does not count as a fall
    const slack = 1e-13 * (1 + Math.abs(s.value));
    let t = 1;
    let next = likelihoodSums(cols, from, to, a + da, b + db, ridge);
    while (!(next.value >= s.value - slack) && t > 1e-10) {
      t *= 0.5;
      next = likelihoodSums(cols, from, to, a + t * da, b + t * db, ridge);
    }
    if (!(next.value >= s.value - slack)) return { a, b, value: s.value, iterations: it, converged: false };
    a += t * da;
    b += t * db;
    s = next;
  }
  return { a, b, value: s.value, iterations: maxIter, converged: Math.max(Math.abs(s.g0), Math.abs(s.g1)) <= limit };
}
