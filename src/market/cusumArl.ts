/**
 * Average run lengths of the CUSUM and the threshold that gives a chosen in-control average run
 * length (docs/math.md §2.8). Siegmund's approximation for a one-sided CUSUM
 * S_t = max(0, S_{t−1} + Y_t − k) on Y_t ~ N(δ, 1), alarm at S_t > h:
 *
 *   ARL(δ) ≈ (exp(−2Δb) + 2Δb − 1) / (2Δ²),  Δ = δ − k, b = h + 1.166   (Δ ≠ 0)
 *   ARL(δ) ≈ b²                                                           (Δ = 0)
 *
 * The two-sided CUSUM (both sides share the threshold, alarm when either crosses) has
 * 1/ARL₂ ≈ 1/ARL₊(δ) + 1/ARL₋(δ) with ARL₋(δ) = ARL₊(−δ); in control (δ = 0) ARL₂ = ARL₊(0)/2.
 */
import { RepricerError } from '../core/errors.js';

/** Siegmund's correction of the threshold for the overshoot of a Gaussian random walk: ρ = 0.583, 2ρ = 1.166. */
export const SIEGMUND_OVERSHOOT = 1.166;

/** One-sided CUSUM with reference k and threshold h on N(δ, 1) observations: Siegmund's ARL. */
export function siegmundArl(h: number, k: number, delta = 0): number {
  const b = h + SIEGMUND_OVERSHOOT;
  const d = delta - k;
  if (Math.abs(d) < 1e-12) return b * b;
  const x = 2 * d * b;
  // exp(−x) − 1 + x, written with expm1 so that small |x| keeps its digits
  return (Math.expm1(-x) + x) / (2 * d * d);
}

/** Two-sided CUSUM (both sides at h, reference ±k) on N(δ, 1): 1/(1/ARL₊(δ) + 1/ARL₋(δ)). */
export function siegmundArlTwoSided(h: number, k: number, delta = 0): number {
  const up = siegmundArl(h, k, delta);
  const down = siegmundArl(h, k, -delta);
  return 1 / (1 / up + 1 / down);
}

/**
 * The threshold h at which the two-sided CUSUM with reference k has in-control ARL `arl0`
 * (Siegmund's approximation), by bisection: the ARL rises strictly with h. Thresholds below 0
 * are not CUSUMs: an `arl0` that would need one is refused.
 */
export function thresholdForArl(arl0: number, k: number): number {
  if (!(k > 0 && Number.isFinite(k))) throw new RepricerError('INVALID_ARGUMENT', `watcher: reference k must be a number > 0, got ${k}`);
  if (!(arl0 > 1 && Number.isFinite(arl0))) throw new RepricerError('INVALID_ARGUMENT', `watcher: in-control ARL must be a number > 1, got ${arl0}`);
  const at0 = siegmundArlTwoSided(0, k);
  if (arl0 < at0) throw new RepricerError('INVALID_ARGUMENT', `watcher: an in-control ARL of ${arl0} needs a threshold below 0 for k = ${k} (the smallest is ${at0.toPrecision(4)} at h = 0)`);
  let lo = 0;
  let hi = 1;
  while (siegmundArlTwoSided(hi, k) < arl0) {
    hi *= 2;
    if (hi > 1e6) throw new RepricerError('INVALID_ARGUMENT', `watcher: no threshold gives an in-control ARL of ${arl0} for k = ${k}`);
  }
  for (let it = 0; it < 200 && hi - lo > 1e-12 * hi; it++) {
    const mid = (lo + hi) / 2;
    if (siegmundArlTwoSided(mid, k) < arl0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
