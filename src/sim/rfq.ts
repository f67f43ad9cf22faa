/**
 * The synthetic RFQ market of MATH.md §1.10 and the online episodic policy of §1.7, for the
 * regret experiment of the TSMT paper (arXiv:2410.14839) and a cold-start measurement.
 *
 * Market (one instance) [RI settings of §1.10]:
 *   θ_0 uniform on the unit sphere S^{d-1};  g_i ~ N(0, 0.2·I + 1·1ᵀ), δ_i = δ_max·g_i/‖g_i‖;
 *   θ_i = θ_0 + δ_i;  x_t ~ N(0, I_d)/‖·‖ (X_max = 1, no intercept);  i_t from the arrival law;
 *   y_t = x_tᵀθ_{i_t} + z_t.
 * Deviation from §1.10, said plainly: the re-implementation's noise is a truncated normal
 * (mean 0.05, sd 0.05 on [0.02, 0.11], yield units), which the numeric core does not implement.
 * We use the §1.10 [DEF] Gaussian price-convention variant, z_t ~ N(0, σ²) with σ = 0.1
 * (or logistic with scale s), c = 0 (the paper's γ), W = 1 + δ_max (§1.6 default).
 *
 * Policy (§1.7): episode k covers rounds 2^{k-1} .. 2^k - 1; episode 1 prices with θ_init = 0;
 * at the start of episode k ≥ 2 the estimates are refitted from episode k-1's rows only and
 * frozen; p_t = p*(x_tᵀθ̂_{i_t}) (§1.5). Each policy sees its own censored feedback
 * (trade iff p_t ≤ y_t; y_t revealed on a trade). Policies: tsmt, pooled, individual (the
 * strategies of src/model/tsmt.ts) and clairvoyant (knows every θ_i).
 *
 * Regret is the expected regret of §1.2, R(p*_t; u*_t) - R(p_t; u*_t) with
 * R(p; u) = c + (p - c)·(1 - F(p - u)), summed over t; all policies of an instance share the
 * same θ's, arrivals, contexts and noise draws (common random numbers).
 *
 * Randomness: a xoshiro128** generator per (seed, instance, stream), so instance k is the same
 * whatever the number of instances, and the same seed gives bit-identical output.
 */
import type { WasmCore } from '../core/wasm.js';
import type { NoiseSpec } from '../core/validate.js';
import { erfc, logisticCdf } from '../core/twin/noise.js';
import type { ObservationColumns } from '../core/likelihood.js';
import { optimalQuote } from '../core/quote.js';
import { fitTsmt, lambdaFor, type Strategy } from '../model/tsmt.js';
import { fitNewton } from '../core/solvers.js';

export type Policy = Strategy | 'clairvoyant';
export const POLICIES: readonly Policy[] = ['tsmt', 'pooled', 'individual', 'clairvoyant'];
export type Arrivals = 'uniform' | 'polynomial' | 'exponential';
export const ARRIVALS: readonly Arrivals[] = ['uniform', 'polynomial', 'exponential'];

export interface RfqConfig {
  products: number;
  dim: number;
  delta: number;
  horizon: number;
  instances: number;
  seed: number;
  policies: Policy[];
  arrivals: Arrivals;
  /** Decay exponent α of the arrival law (ignored for uniform). */
  alpha: number;
  noise: NoiseSpec;
  /** c, the payoff without a trade. */
  reservation: number;
  /** W; default 1 + delta. */
  radius: number;
  /** c_λ for the tsmt policy, or 'auto' (held-out choice at every refit, as `repricer fit`). */
  lambdaC: number | 'auto';
  /** Solver tolerance of the refits. */
  tol: number;
}

/** Default c_λ of the simulator: chosen by held-out log-likelihood at every refit, as `repricer fit`. */
export const DEFAULT_LAMBDA_C = 'auto';
/**
 * Solver tolerance of the simulator's refits (norm of the prox-gradient mapping of the average
 * loss, whose gradients are O(1/σ²) = O(100) here). The regret study in docs/regret.md was run
 * with it; since the exact ball-constrained Newton step, tighter tolerances cost ~1.5x, not 10x.
 */
export const DEFAULT_SIM_TOL = 1e-5;

export function defaultRfqConfig(partial: Partial<RfqConfig> = {}): RfqConfig {
  const delta = partial.delta ?? 0.5;
  return {
    products: 10,
    dim: 30,
    delta,
    horizon: 2047,
    instances: 30,
    seed: 1,
    policies: [...POLICIES],
    arrivals: 'uniform',
    alpha: partial.arrivals === 'exponential' ? 1 : 2,
    noise: { family: 'gaussian', scale: 0.1 },
    reservation: 0,
    radius: 1 + delta,
    lambdaC: DEFAULT_LAMBDA_C,
    tol: DEFAULT_SIM_TOL,
    ...partial,
  };
}

// ---------------------------------------------------------------- random numbers

/** splitmix32 step, used to seed xoshiro128**. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** xoshiro128** (Blackman & Vigna), 32-bit state words; doubles from 53 bits. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(...keys: number[]) {
    const st = { s: 0x12345678 };
    for (const k of keys) {
      st.s = (st.s ^ Math.imul((k | 0) + 0x7f4a7c15, 0x9e3779b1)) | 0;
      splitmix32(st);
    }
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform on [0, 1). */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box–Muller, polar form). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * m;
        return u * m;
      }
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const STREAM_THETA = 1;
const STREAM_ARRIVALS = 2;
const STREAM_CONTEXT = 3;
const STREAM_NOISE = 4;
const STREAM_COLD = 5;

// ---------------------------------------------------------------- market

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

function unitVector(rng: Rng, d: number): Float64Array {
  const v = new Float64Array(d);
  let s = 0;
  for (let j = 0; j < d; j++) {
    v[j] = rng.normal();
    s += v[j] * v[j];
  }
  const n = Math.sqrt(s);
  for (let j = 0; j < d; j++) v[j] /= n;
  return v;
}

/** δ = δ_max·g/‖g‖ with g ~ N(0, 0.2·I + 1·1ᵀ) (MATH.md §1.10). */
function deviation(rng: Rng, d: number, delta: number): Float64Array {
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

function noiseDraw(rng: Rng, noise: NoiseSpec): number {
  if (noise.family === 'gaussian') return noise.scale * rng.normal();
  let u = rng.uniform();
  while (u === 0) u = rng.uniform();
  return noise.scale * Math.log(u / (1 - u));
}

// ---------------------------------------------------------------- rewards

/** 1 - F(w) for the noise (Φ̄ computed as ½·erfc, never as 1 - Φ). */
export function survival(noise: NoiseSpec, w: number): number {
  return noise.family === 'gaussian' ? 0.5 * erfc(w / (noise.scale * Math.SQRT2)) : logisticCdf(-w / noise.scale);
}

/** Expected reward R(p; u) = c + (p - c)·(1 - F(p - u)) (MATH.md §1.2). */
export function expectedReward(noise: NoiseSpec, c: number, p: number, u: number): number {
  return c + (p - c) * survival(noise, p - u);
}

/** Optimal prices p*(u) for a batch of u (MATH.md §1.5), through the numeric core. */
export function optimalPrices(core: WasmCore, u: Float64Array, c: number, noise: NoiseSpec): Float64Array {
  if (u.length === 0) return new Float64Array(0);
  const q = optimalQuote(core, u, new Float64Array(u.length).fill(c), noise);
  return Float64Array.from(q.price);
}

function dotRow(x: Float64Array, t: number, theta: Float64Array, i: number, d: number): number {
  let s = 0;
  const ox = t * d;
  const ot = i * d;
  for (let j = 0; j < d; j++) s += x[ox + j] * theta[ot + j];
  return s;
}

// ---------------------------------------------------------------- policies

/** Episode boundaries of §1.7 over rounds 1..T: [start, end] 1-based inclusive. */
export function episodes(T: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let k = 1; 2 ** (k - 1) <= T; k++) out.push([2 ** (k - 1), Math.min(2 ** k - 1, T)]);
  return out;
}

export interface PolicyRun {
  /** Instantaneous expected regret per round (index t-1). */
  regret: Float64Array;
  /** Expected reward per round. */
  reward: Float64Array;
  /** Estimates at the end (fitted on the last complete episode), M×d. */
  theta: Float64Array;
  /** Stage-I estimate at the last refit. */
  theta0: Float64Array;
  /** c_λ of the last tsmt refit (null for the other policies or before any refit). */
  lambdaC: number | null;
  /** c_λ of every refit, in episode order (tsmt; empty for the other policies). */
  lambdaHistory: number[];
}

/** Fit the estimates a strategy uses from one episode's rows. */
function refit(core: WasmCore, cfg: RfqConfig, strategy: Strategy, obs: ObservationColumns, groups: Int32Array, M: number): { theta: Float64Array; theta0: Float64Array; lambdaC: number | null } {
  // no warm start from the previous episode: estimates come from episode k-1's rows only (§1.7);
  // stage II starts at θ̂_0
  const opts: Parameters<typeof fitTsmt>[4] = { strategy, noise: cfg.noise, radius: cfg.radius, standardErrors: false, tol: cfg.tol };
  if (strategy === 'tsmt' && cfg.lambdaC !== 'auto') opts.lambdaC = cfg.lambdaC;
  const r = fitTsmt(core, obs, groups, M, opts);
  const d = obs.d;
  const theta = new Float64Array(M * d);
  r.products.forEach((p, i) => theta.set(p.theta, i * d));
  return { theta, theta0: r.common.theta, lambdaC: r.lambdaC };
}

/** Run one policy on one market; `pStar` are the clairvoyant prices, `rStar` their rewards. */
export function runPolicy(core: WasmCore, cfg: RfqConfig, mk: Market, policy: Policy, pStar: Float64Array, rStar: Float64Array): PolicyRun {
  const { d, M, T } = mk;
  const regret = new Float64Array(T);
  const reward = new Float64Array(T);
  let theta: Float64Array = new Float64Array(M * d); // θ_init = 0 (§1.7)
  let theta0: Float64Array = new Float64Array(d);
  let lambdaC: number | null = null;
  const lambdaHistory: number[] = [];
  if (policy === 'clairvoyant') {
    reward.set(rStar);
    return { regret, reward, theta: mk.theta.slice(), theta0: mk.theta0.slice(), lambdaC: null, lambdaHistory: [] };
  }
  for (const [s, e] of episodes(T)) {
    const n = e - s + 1;
    const u = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const t = s - 1 + k;
      u[k] = dotRow(mk.x, t, theta, mk.arrivals[t], d);
    }
    const p = optimalPrices(core, u, cfg.reservation, cfg.noise);
    const obs: ObservationColumns = { n, d, x: mk.x.slice((s - 1) * d, e * d), won: new Float64Array(n), price: p, competitor: new Float64Array(n) };
    const groups = mk.arrivals.slice(s - 1, e);
    for (let k = 0; k < n; k++) {
      const t = s - 1 + k;
      const uStar = dotRow(mk.x, t, mk.theta, mk.arrivals[t], d);
      const y = uStar + mk.z[t];
      const won = p[k] <= y;
      obs.won[k] = won ? 1 : 0;
      obs.competitor[k] = won ? y : NaN;
      reward[t] = expectedReward(cfg.noise, cfg.reservation, p[k], uStar);
      regret[t] = rStar[t] - reward[t];
    }
    if (e < T) {
      const f = refit(core, cfg, policy, obs, groups, M);
      theta = f.theta;
      theta0 = f.theta0;
      lambdaC = f.lambdaC;
      if (f.lambdaC !== null) lambdaHistory.push(f.lambdaC);
    }
  }
  return { regret, reward, theta, theta0, lambdaC, lambdaHistory };
}

/** Clairvoyant prices and rewards of a market. */
export function clairvoyant(core: WasmCore, cfg: RfqConfig, mk: Market): { pStar: Float64Array; rStar: Float64Array } {
  const { d, T } = mk;
  const uStar = new Float64Array(T);
  for (let t = 0; t < T; t++) uStar[t] = dotRow(mk.x, t, mk.theta, mk.arrivals[t], d);
  const pStar = optimalPrices(core, uStar, cfg.reservation, cfg.noise);
  const rStar = new Float64Array(T);
  for (let t = 0; t < T; t++) rStar[t] = expectedReward(cfg.noise, cfg.reservation, pStar[t], uStar[t]);
  return { pStar, rStar };
}

export interface RfqResult {
  config: RfqConfig;
  /** Per policy: cumulative regret of each instance (instances × T, row-major). */
  cumulative: Record<string, Float64Array>;
  /** Per policy: mean and sd (n - 1 denominator) over instances of the cumulative regret. */
  mean: Record<string, Float64Array>;
  sd: Record<string, Float64Array>;
  /** Per policy: total expected reward of each instance. */
  totalReward: Record<string, number[]>;
  /** tsmt only: how often each c_λ was used, per refit episode (index 0 = the refit after episode 1). */
  lambdaChoices: Array<Record<string, number>>;
}

function checkConfig(cfg: RfqConfig): void {
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`simulateRfq: ${name} must be an integer >= ${min}, got ${v}`);
  };
  int('products', cfg.products, 1);
  int('dim', cfg.dim, 1);
  int('horizon', cfg.horizon, 1);
  int('instances', cfg.instances, 1);
  int('seed', cfg.seed, 0);
  if (!(cfg.delta >= 0) || !Number.isFinite(cfg.delta)) throw new RangeError(`simulateRfq: delta must be a finite number >= 0, got ${cfg.delta}`);
  if (!(cfg.radius > 0)) throw new RangeError(`simulateRfq: radius must be > 0, got ${cfg.radius}`);
  if (!(cfg.alpha >= 0)) throw new RangeError(`simulateRfq: alpha must be >= 0, got ${cfg.alpha}`);
  if (!ARRIVALS.includes(cfg.arrivals)) throw new RangeError(`simulateRfq: arrivals must be one of ${ARRIVALS.join(', ')}, got ${String(cfg.arrivals)}`);
  if (cfg.policies.length === 0) throw new RangeError('simulateRfq: policies must not be empty');
  for (const p of cfg.policies) if (!POLICIES.includes(p)) throw new RangeError(`simulateRfq: unknown policy ${JSON.stringify(p)} (one of ${POLICIES.join(', ')})`);
  if (cfg.lambdaC !== 'auto' && !(cfg.lambdaC >= 0)) throw new RangeError(`simulateRfq: lambdaC must be >= 0 or 'auto', got ${cfg.lambdaC}`);
}

/** Run the regret experiment. `onInstance` is told after each instance (progress). */
export function simulateRfq(core: WasmCore, cfg: RfqConfig, onInstance?: (k: number) => void): RfqResult {
  checkConfig(cfg);
  const T = cfg.horizon;
  const K = cfg.instances;
  const cumulative: Record<string, Float64Array> = {};
  const totalReward: Record<string, number[]> = {};
  for (const p of cfg.policies) {
    cumulative[p] = new Float64Array(K * T);
    totalReward[p] = [];
  }
  const lambdaChoices: Array<Record<string, number>> = [];
  for (let k = 0; k < K; k++) {
    const mk = generateMarket(cfg, k);
    const { pStar, rStar } = clairvoyant(core, cfg, mk);
    for (const p of cfg.policies) {
      const run = runPolicy(core, cfg, mk, p, pStar, rStar);
      const row = cumulative[p].subarray(k * T, (k + 1) * T);
      let acc = 0;
      let rew = 0;
      for (let t = 0; t < T; t++) {
        acc += run.regret[t];
        rew += run.reward[t];
        row[t] = acc;
      }
      totalReward[p].push(rew);
      run.lambdaHistory.forEach((c, e) => {
        const row = (lambdaChoices[e] ??= {});
        row[String(c)] = (row[String(c)] ?? 0) + 1;
      });
    }
    onInstance?.(k);
  }
  const mean: Record<string, Float64Array> = {};
  const sd: Record<string, Float64Array> = {};
  for (const p of cfg.policies) {
    const m = new Float64Array(T);
    const s = new Float64Array(T);
    const c = cumulative[p];
    for (let t = 0; t < T; t++) {
      let a = 0;
      for (let k = 0; k < K; k++) a += c[k * T + t];
      a /= K;
      let v = 0;
      for (let k = 0; k < K; k++) v += (c[k * T + t] - a) ** 2;
      m[t] = a;
      s[t] = K > 1 ? Math.sqrt(v / (K - 1)) : 0;
    }
    mean[p] = m;
    sd[p] = s;
  }
  return { config: cfg, cumulative, mean, sd, totalReward, lambdaChoices };
}

// ---------------------------------------------------------------- outputs

function num(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(10))) : '';
}

/** regret.csv: t, then `<policy>_mean,<policy>_sd` of the cumulative regret. */
export function regretCsv(r: RfqResult): string {
  const pol = r.config.policies;
  const lines = ['t,' + pol.map((p) => `${p}_mean,${p}_sd`).join(',')];
  for (let t = 0; t < r.config.horizon; t++) lines.push(`${t + 1},` + pol.map((p) => `${num(r.mean[p][t])},${num(r.sd[p][t])}`).join(','));
  return lines.join('\n') + '\n';
}

export interface RfqSummary {
  format: 'repricer.simulate-rfq/1';
  config: RfqConfig;
  finalRegret: Record<string, { mean: number; sd: number; stdError: number; perInstance: number[] }>;
  totalReward: Record<string, { mean: number; perInstance: number[] }>;
  /** Best non-clairvoyant policy by mean final regret. */
  best: string | null;
  /** tsmt's final regret / the better of pooled and individual (when all three ran). */
  tsmtVsBetterBaseline: number | null;
  /** Paired over instances: tsmt - better baseline (by mean), mean and standard error. */
  tsmtMinusBetterBaseline: { baseline: string; mean: number; stdError: number } | null;
  /** tsmt's c_λ choices per refit episode (counts over instances). */
  lambdaChoices: Array<Record<string, number>>;
}

export function summarize(r: RfqResult): RfqSummary {
  const T = r.config.horizon;
  const K = r.config.instances;
  const finalRegret: RfqSummary['finalRegret'] = {};
  const totalReward: RfqSummary['totalReward'] = {};
  for (const p of r.config.policies) {
    const per: number[] = [];
    for (let k = 0; k < K; k++) per.push(Number(r.cumulative[p][k * T + T - 1].toPrecision(12)));
    const sd = r.sd[p][T - 1];
    finalRegret[p] = { mean: Number(r.mean[p][T - 1].toPrecision(12)), sd: Number(sd.toPrecision(12)), stdError: Number((sd / Math.sqrt(K)).toPrecision(12)), perInstance: per };
    const tr = r.totalReward[p].map((v) => Number(v.toPrecision(12)));
    totalReward[p] = { mean: Number((tr.reduce((a, b) => a + b, 0) / K).toPrecision(12)), perInstance: tr };
  }
  const learners = r.config.policies.filter((p) => p !== 'clairvoyant');
  let best: string | null = null;
  for (const p of learners) if (best === null || finalRegret[p].mean < finalRegret[best].mean) best = p;
  let ratio: number | null = null;
  if (finalRegret.tsmt && finalRegret.pooled && finalRegret.individual) {
    ratio = Number((finalRegret.tsmt.mean / Math.min(finalRegret.pooled.mean, finalRegret.individual.mean)).toPrecision(6));
  }
  let paired: RfqSummary['tsmtMinusBetterBaseline'] = null;
  if (finalRegret.tsmt && finalRegret.pooled && finalRegret.individual) {
    const base = finalRegret.pooled.mean <= finalRegret.individual.mean ? 'pooled' : 'individual';
    const diff = finalRegret.tsmt.perInstance.map((v, k) => v - finalRegret[base].perInstance[k]);
    const m = diff.reduce((a, b) => a + b, 0) / K;
    const sd = K > 1 ? Math.sqrt(diff.reduce((a, b) => a + (b - m) ** 2, 0) / (K - 1)) : 0;
    paired = { baseline: base, mean: Number(m.toPrecision(8)), stdError: Number((sd / Math.sqrt(K)).toPrecision(8)) };
  }
  return { format: 'repricer.simulate-rfq/1', config: r.config, finalRegret, totalReward, best, tsmtVsBetterBaseline: ratio, tsmtMinusBetterBaseline: paired, lambdaChoices: r.lambdaChoices };
}

const COLORS: Record<string, string> = { tsmt: '#d62728', pooled: '#1f77b4', individual: '#2ca02c', clairvoyant: '#7f7f7f' };

function niceStep(range: number, ticks: number): number {
  const raw = range / Math.max(1, ticks);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** regret.svg: mean ± 1 sd of the cumulative regret per policy (hand-written SVG). */
export function regretSvg(r: RfqResult, title?: string): string {
  const W = 720;
  const H = 440;
  const L = 70;
  const R = 150;
  const Tm = 40;
  const B = 50;
  const T = r.config.horizon;
  const pol = r.config.policies;
  let ymax = 0;
  for (const p of pol) for (let t = 0; t < T; t++) ymax = Math.max(ymax, r.mean[p][t] + r.sd[p][t]);
  if (!(ymax > 0)) ymax = 1;
  const ystep = niceStep(ymax, 5);
  ymax = Math.ceil(ymax / ystep) * ystep;
  const xstep = niceStep(T, 6);
  const px = (t: number) => L + ((W - L - R) * t) / T;
  const py = (v: number) => Tm + (H - Tm - B) * (1 - v / ymax);
  const f = (v: number) => v.toFixed(1);
  // at most ~400 points per path
  const stride = Math.max(1, Math.floor(T / 400));
  const idx: number[] = [];
  for (let t = 0; t < T; t += stride) idx.push(t);
  if (idx[idx.length - 1] !== T - 1) idx.push(T - 1);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  const cfg = r.config;
  const law = cfg.arrivals === 'uniform' ? 'uniform arrivals' : `${cfg.arrivals} arrivals (alpha=${cfg.alpha})`;
  const head = title ?? `M=${cfg.products}, d=${cfg.dim}, delta=${cfg.delta}, ${law}, ${cfg.instances} instances`;
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(head)}</text>`);
  for (let v = 0; v <= ymax + 1e-12; v += ystep) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${f(py(v))}" y2="${f(py(v))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${L - 6}" y="${f(py(v) + 4)}" text-anchor="end">${num(Number(v.toPrecision(6)))}</text>`);
  }
  for (let t = 0; t <= T; t += xstep) {
    out.push(`<line x1="${f(px(t))}" x2="${f(px(t))}" y1="${H - B}" y2="${H - B + 5}" stroke="black"/>`);
    out.push(`<text x="${f(px(t))}" y="${H - B + 18}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="black"/>`);
  out.push(`<line x1="${L}" x2="${L}" y1="${Tm}" y2="${H - B}" stroke="black"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">round t</text>`);
  out.push(`<text transform="translate(16 ${(Tm + H - B) / 2}) rotate(-90)" text-anchor="middle">cumulative regret (mean ± 1 sd)</text>`);
  pol.forEach((p, n) => {
    const col = COLORS[p] ?? '#000000';
    const m = r.mean[p];
    const s = r.sd[p];
    const up = idx.map((t) => `${f(px(t + 1))},${f(py(m[t] + s[t]))}`);
    const lo = idx.map((t) => `${f(px(t + 1))},${f(py(Math.max(0, m[t] - s[t])))}`).reverse();
    out.push(`<polygon points="${[...up, ...lo].join(' ')}" fill="${col}" fill-opacity="0.15" stroke="none"/>`);
    out.push(`<polyline points="${idx.map((t) => `${f(px(t + 1))},${f(py(m[t]))}`).join(' ')}" fill="none" stroke="${col}" stroke-width="2"/>`);
    const ly = Tm + 10 + n * 20;
    out.push(`<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${ly}" y2="${ly}" stroke="${col}" stroke-width="2"/>`);
    out.push(`<text x="${W - R + 46}" y="${ly + 4}">${esc(p)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------- cold start

export interface ColdStartConfig {
  products: number;
  dim: number;
  delta: number;
  instances: number;
  seed: number;
  /** Rounds of the online tsmt policy on the old products before the new one appears. */
  warmup: number;
  /** Own-observation counts to evaluate. */
  grid: number[];
  /** Fresh contexts for the expected-reward ratio. */
  evalContexts: number;
  noise: NoiseSpec;
  reservation: number;
  radius: number;
  /** c_λ for the new product's stage II; 'auto': the value the warm-up's last tsmt refit chose. */
  lambdaC: number | 'auto';
  tol: number;
  /** Target share of the clairvoyant expected reward. */
  target: number;
}

export function defaultColdStartConfig(partial: Partial<ColdStartConfig> = {}): ColdStartConfig {
  const delta = partial.delta ?? 0.5;
  return {
    products: 10,
    dim: 30,
    delta,
    instances: 30,
    seed: 1,
    warmup: 1023,
    grid: [0, 1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500],
    evalContexts: 2000,
    noise: { family: 'gaussian', scale: 0.1 },
    reservation: 0,
    radius: 1 + delta,
    lambdaC: DEFAULT_LAMBDA_C,
    tol: DEFAULT_SIM_TOL,
    target: 0.9,
    ...partial,
  };
}

export interface ColdStartResult {
  config: ColdStartConfig;
  /** Per method, per grid point: reward ratio of each instance (instances × grid). */
  ratio: Record<'tsmt' | 'individual' | 'pooled', number[][]>;
  /** Per method: mean ratio per grid point. */
  meanRatio: Record<'tsmt' | 'individual' | 'pooled', number[]>;
  /** Per method: per instance, the smallest n in the grid from which the ratio stays >= target (null: never). */
  needed: Record<'tsmt' | 'individual' | 'pooled', (number | null)[]>;
  /** c_λ used for the new product, per instance. */
  lambdaC: number[];
}

/**
 * Cold start: products 1..M trade for `warmup` rounds under the online tsmt policy; then a new
 * product (θ_new = θ_0 + δ_new, drawn like the others) gets n of its own quotes, priced at the
 * cold-start price p*(xᵀθ̂_0) with θ̂_0 the stage-I estimate of the last refit. From those n rows
 * TSMT stage II (around θ̂_0, λ for M+1 products) and individual learning (ball-constrained MLE,
 * θ̂_0 at n = 0) each estimate θ_new; the score is Σ R(p*(xᵀθ̂); xᵀθ_new) / Σ R(p*(xᵀθ_new); xᵀθ_new)
 * over fresh contexts x (with c = 0 every reward is positive).
 */
export function simulateColdStart(core: WasmCore, cs: ColdStartConfig, onInstance?: (k: number) => void): ColdStartResult {
  const methods = ['tsmt', 'individual', 'pooled'] as const;
  const ratio = { tsmt: [] as number[][], individual: [] as number[][], pooled: [] as number[][] };
  const nMax = Math.max(...cs.grid);
  const chosen: number[] = [];
  const d = cs.dim;
  for (let k = 0; k < cs.instances; k++) {
    const cfg = defaultRfqConfig({ products: cs.products, dim: d, delta: cs.delta, horizon: cs.warmup, instances: 1, seed: cs.seed, noise: cs.noise, reservation: cs.reservation, radius: cs.radius, lambdaC: cs.lambdaC, tol: cs.tol, policies: ['tsmt'] });
    const mk = generateMarket(cfg, k);
    const { pStar, rStar } = clairvoyant(core, cfg, mk);
    const run = runPolicy(core, cfg, mk, 'tsmt', pStar, rStar);
    const theta0 = run.theta0;
    const cLam = cs.lambdaC === 'auto' ? (run.lambdaC ?? 0.3) : cs.lambdaC;
    chosen.push(cLam);
    const rng = new Rng(cs.seed, k, STREAM_COLD);
    const thetaNew = new Float64Array(d);
    const del = deviation(rng, d, cs.delta);
    for (let j = 0; j < d; j++) thetaNew[j] = mk.theta0[j] + del[j];
    // the new product's own quotes, priced at the cold-start price
    const x = new Float64Array(nMax * d);
    const uHat = new Float64Array(nMax);
    const uTrue = new Float64Array(nMax);
    for (let t = 0; t < nMax; t++) {
      x.set(unitVector(rng, d), t * d);
      uHat[t] = dotRow(x, t, theta0, 0, d);
      uTrue[t] = dotRow(x, t, thetaNew, 0, d);
    }
    const price = optimalPrices(core, uHat, cs.reservation, cs.noise);
    const won = new Float64Array(nMax);
    const comp = new Float64Array(nMax);
    for (let t = 0; t < nMax; t++) {
      const y = uTrue[t] + noiseDraw(rng, cs.noise);
      won[t] = price[t] <= y ? 1 : 0;
      comp[t] = won[t] ? y : NaN;
    }
    // evaluation contexts
    const xe = new Float64Array(cs.evalContexts * d);
    const ue = new Float64Array(cs.evalContexts);
    for (let t = 0; t < cs.evalContexts; t++) {
      xe.set(unitVector(rng, d), t * d);
      ue[t] = dotRow(xe, t, thetaNew, 0, d);
    }
    const pe = optimalPrices(core, ue, cs.reservation, cs.noise);
    let best = 0;
    for (let t = 0; t < cs.evalContexts; t++) best += expectedReward(cs.noise, cs.reservation, pe[t], ue[t]);
    const score = (th: Float64Array): number => {
      const u = new Float64Array(cs.evalContexts);
      for (let t = 0; t < cs.evalContexts; t++) u[t] = dotRow(xe, t, th, 0, d);
      const p = optimalPrices(core, u, cs.reservation, cs.noise);
      let s = 0;
      for (let t = 0; t < cs.evalContexts; t++) s += expectedReward(cs.noise, cs.reservation, p[t], ue[t]);
      return s / best;
    };
    const row = { tsmt: [] as number[], individual: [] as number[], pooled: [] as number[] };
    const pooledScore = score(theta0);
    for (const n of cs.grid) {
      row.pooled.push(pooledScore);
      if (n === 0) {
        row.tsmt.push(pooledScore);
        row.individual.push(pooledScore);
        continue;
      }
      const obs: ObservationColumns = { n, d, x: x.slice(0, n * d), won: won.slice(0, n), price: price.slice(0, n), competitor: comp.slice(0, n) };
      const lam = lambdaFor(cLam, d, cs.products + 1, n);
      const ts = fitNewton(core, obs, cs.noise, { radius: cs.radius, normalize: 'mean', penalty: { kind: 'l2norm', center: theta0, lambda: lam }, start: theta0, tol: cs.tol });
      const ind = fitNewton(core, obs, cs.noise, { radius: cs.radius, normalize: 'mean', start: theta0, tol: cs.tol });
      row.tsmt.push(score(Float64Array.from(ts.theta)));
      row.individual.push(score(Float64Array.from(ind.theta)));
    }
    for (const m of methods) ratio[m].push(row[m]);
    onInstance?.(k);
  }
  const meanRatio = { tsmt: [] as number[], individual: [] as number[], pooled: [] as number[] };
  const needed = { tsmt: [] as (number | null)[], individual: [] as (number | null)[], pooled: [] as (number | null)[] };
  for (const m of methods) {
    for (let g = 0; g < cs.grid.length; g++) meanRatio[m].push(ratio[m].reduce((a, r) => a + r[g], 0) / cs.instances);
    for (const r of ratio[m]) {
      let first: number | null = null;
      for (let g = cs.grid.length - 1; g >= 0; g--) {
        if (r[g] >= cs.target) first = cs.grid[g];
        else break;
      }
      needed[m].push(first);
    }
  }
  return { config: cs, ratio, meanRatio, needed, lambdaC: chosen };
}
