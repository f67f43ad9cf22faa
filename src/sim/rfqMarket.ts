/**
 * The synthetic RFQ market of docs/math.md §1.10: instances, arrival probabilities, expected
 * rewards and optimal prices.
 *
 * Market (one instance) [RI settings of §1.10]:
 *   θ_0 uniform on the unit sphere S^{d-1};  g_i ~ N(0, 0.2·I + 1·1ᵀ), δ_i = δ_max·g_i/‖g_i‖;
 *   θ_i = θ_0 + δ_i;  x_t ~ N(0, I_d)/‖·‖ (X_max = 1, no intercept);  i_t from the arrival law;
 *   y_t = x_tᵀθ_{i_t} + z_t.
 * Deviation from §1.10, said plainly: the re-implementation's noise is a truncated normal
 * (mean 0.05, sd 0.05 on [0.02, 0.11], yield units), which the numeric core does not implement.
 * We use the Gaussian price-convention variant of docs/math.md §1.10, z_t ~ N(0, σ²) with σ = 0.1
 * (or logistic with scale s), c = 0 (the paper's γ), W = 1 + δ_max (§1.6 default).
 */
import type { WasmCore } from '../core/wasm.js';
import type { NoiseSpec } from '../core/validate.js';
import { optimalQuote, winProbabilityAt } from '../core/quote.js';
import type { Arrivals, RfqConfig } from './config.js';
import { Rng, STREAM_ARRIVALS, STREAM_CONTEXT, STREAM_NOISE, STREAM_THETA, noiseDraw, unitVector } from './random.js';

export interface Market {
  d: number;
  M: number;
  theta0: Float64Array;
  /** θ_i row-major, M×d. */
  theta: Float64Array;
  T: number;
  arrivals: Int32Array;
  /** x_t row-major, T×d. */
  x: Float64Array;
  /** z_t. */
  z: Float64Array;
}

/** δ = δ_max·g/‖g‖ with g ~ N(0, 0.2·I + 1·1ᵀ) (docs/math.md §1.10). */
export function deviation(rng: Rng, d: number, delta: number): Float64Array {
  const g = new Float64Array(d);
  const common = rng.normal();
  let s = 0;
  for (let j = 0; j < d; j++) {
    g[j] = Math.sqrt(0.2) * rng.normal() + common;
    s += g[j] * g[j];
  }
  const n = Math.sqrt(s);
  for (let j = 0; j < d; j++) g[j] = (delta * g[j]) / n;
  return g;
}

/** Arrival probabilities P(i), i = 1..M. */
export function arrivalProbabilities(M: number, arrivals: Arrivals, alpha: number): Float64Array {
  const w = new Float64Array(M);
  for (let i = 0; i < M; i++) w[i] = arrivals === 'uniform' ? 1 : arrivals === 'polynomial' ? Math.pow(i + 1, -alpha) : Math.exp(-alpha * i);
  let s = 0;
  for (let i = 0; i < M; i++) s += w[i];
  for (let i = 0; i < M; i++) w[i] /= s;
  return w;
}

function drawIndex(rng: Rng, cdf: Float64Array): number {
  const u = rng.uniform();
  let i = 0;
  while (i < cdf.length - 1 && u >= cdf[i]) i++;
  return i;
}

/** Draw one market instance (deterministic in (seed, instance)). */
export function generateMarket(cfg: RfqConfig, instance: number): Market {
  const { dim: d, products: M, horizon: T } = cfg;
  const rt = new Rng(cfg.seed, instance, STREAM_THETA);
  const theta0 = unitVector(rt, d);
  const theta = new Float64Array(M * d);
  for (let i = 0; i < M; i++) {
    const del = deviation(rt, d, cfg.delta);
    for (let j = 0; j < d; j++) theta[i * d + j] = theta0[j] + del[j];
  }
  const p = arrivalProbabilities(M, cfg.arrivals, cfg.alpha);
  const cdf = new Float64Array(M);
  let acc = 0;
  for (let i = 0; i < M; i++) cdf[i] = acc += p[i];
  const ra = new Rng(cfg.seed, instance, STREAM_ARRIVALS);
  const arrivals = new Int32Array(T);
  for (let t = 0; t < T; t++) arrivals[t] = drawIndex(ra, cdf);
  const rx = new Rng(cfg.seed, instance, STREAM_CONTEXT);
  const x = new Float64Array(T * d);
  for (let t = 0; t < T; t++) x.set(unitVector(rx, d), t * d);
  const rz = new Rng(cfg.seed, instance, STREAM_NOISE);
  const z = new Float64Array(T);
  for (let t = 0; t < T; t++) z[t] = noiseDraw(rz, cfg.noise);
  return { d, M, theta0, theta, T, arrivals, x, z };
}

// ---------------------------------------------------------------- rewards

/**
 * 1 - F(w) for the noise at each w, through the numeric core (Φ̄ computed as ½·erfc, never as
 * 1 - Φ).
 */
export function survival(core: WasmCore, noise: NoiseSpec, w: Float64Array): Float64Array {
  return winProbabilityAt(core, new Float64Array(w.length), w, noise);
}

/**
 * Expected rewards R(p_t; u_t) = c + (p_t - c)·(1 - F(p_t - u_t)) (docs/math.md §1.2) for
 * columns of prices p and mean competitor quotes u, the survival through the numeric core in one
 * call.
 */
export function expectedReward(core: WasmCore, noise: NoiseSpec, c: number, p: Float64Array, u: Float64Array): Float64Array {
  const s = winProbabilityAt(core, u, p, noise);
  for (let t = 0; t < s.length; t++) s[t] = c + (p[t] - c) * s[t];
  return s;
}

/** Optimal prices p*(u) for a batch of u (docs/math.md §1.5), through the numeric core. */
export function optimalPrices(core: WasmCore, u: Float64Array, c: number, noise: NoiseSpec): Float64Array {
  if (u.length === 0) return new Float64Array(0);
  const q = optimalQuote(core, u, new Float64Array(u.length).fill(c), noise);
  return Float64Array.from(q.price);
}

/** x_tᵀθ_i: row t of the row-major x times row i of the row-major θ, both of width d. */
export function dotRow(x: Float64Array, t: number, theta: Float64Array, i: number, d: number): number {
  let s = 0;
  const ox = t * d;
  const ot = i * d;
  for (let j = 0; j < d; j++) s += x[ox + j] * theta[ot + j];
  return s;
}
