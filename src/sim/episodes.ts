/**
 * The online episodic policy of docs/math.md §1.7 on the synthetic RFQ market (./rfqMarket.ts),
 * for the regret experiment of the TSMT paper (arXiv:2410.14839).
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
 */
import type { WasmCore } from '../core/wasm.js';
import type { ObservationColumns } from '../core/likelihood.js';
import { fitTsmt, type Strategy } from '../model/tsmt.js';
import { checkRfqConfig, type Policy, type RfqConfig } from './config.js';
import { dotRow, expectedReward, generateMarket, optimalPrices, type Market } from './rfqMarket.js';

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
  /** With `keepRows`: every round's observation (this policy's prices and feedback) and its product. */
  rows?: { obs: ObservationColumns; groups: Int32Array };
}

/** Fit the estimates a strategy uses from one episode's rows. */
function refit(core: WasmCore, cfg: RfqConfig, strategy: Strategy, obs: ObservationColumns, groups: Int32Array, M: number): { theta: Float64Array; theta0: Float64Array; lambdaC: number | null } {
  // no warm start from the previous episode: estimates come from episode k-1's rows only (§1.7);
  // stage II starts at θ̂_0
  const opts: Parameters<typeof fitTsmt>[4] = { strategy, noise: cfg.noise, radius: cfg.radius, standardErrors: false, tol: cfg.tol };
  if (strategy === 'tsmt' && cfg.lambdaC !== 'auto') opts.lambdaC = cfg.lambdaC;
  if (strategy === 'tsmt' && cfg.lambdaC === 'auto') opts.lambdaRule = cfg.lambdaRule;
  const r = fitTsmt(core, obs, groups, M, opts);
  const d = obs.d;
  const theta = new Float64Array(M * d);
  r.products.forEach((p, i) => theta.set(p.theta, i * d));
  return { theta, theta0: r.common.theta, lambdaC: r.lambdaC };
}

/**
 * Run one policy on one market; `pStar` are the clairvoyant prices, `rStar` their rewards.
 * `keepRows`: also return every round's row (the cold-start measurement's prior uses them all).
 */
export function runPolicy(core: WasmCore, cfg: RfqConfig, mk: Market, policy: Policy, pStar: Float64Array, rStar: Float64Array, keepRows = false): PolicyRun {
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
  const kept = keepRows ? { obs: { n: T, d, x: mk.x.slice(0, T * d), won: new Float64Array(T), price: new Float64Array(T), competitor: new Float64Array(T) }, groups: mk.arrivals.slice(0, T) } : undefined;
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
    const uStar = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const t = s - 1 + k;
      uStar[k] = dotRow(mk.x, t, mk.theta, mk.arrivals[t], d);
      const y = uStar[k] + mk.z[t];
      const won = p[k] <= y;
      obs.won[k] = won ? 1 : 0;
      obs.competitor[k] = won ? y : NaN;
    }
    if (kept) {
      kept.obs.won.set(obs.won, s - 1);
      kept.obs.price.set(p, s - 1);
      kept.obs.competitor.set(obs.competitor, s - 1);
    }
    reward.set(expectedReward(core, cfg.noise, cfg.reservation, p, uStar), s - 1);
    for (let t = s - 1; t < e; t++) regret[t] = rStar[t] - reward[t];
    if (e < T) {
      const f = refit(core, cfg, policy, obs, groups, M);
      theta = f.theta;
      theta0 = f.theta0;
      lambdaC = f.lambdaC;
      if (f.lambdaC !== null) lambdaHistory.push(f.lambdaC);
    }
  }
  const run: PolicyRun = { regret, reward, theta, theta0, lambdaC, lambdaHistory };
  if (kept) run.rows = kept;
  return run;
}

/** Clairvoyant prices and rewards of a market. */
export function clairvoyant(core: WasmCore, cfg: RfqConfig, mk: Market): { pStar: Float64Array; rStar: Float64Array } {
  const { d, T } = mk;
  const uStar = new Float64Array(T);
  for (let t = 0; t < T; t++) uStar[t] = dotRow(mk.x, t, mk.theta, mk.arrivals[t], d);
  const pStar = optimalPrices(core, uStar, cfg.reservation, cfg.noise);
  const rStar = expectedReward(core, cfg.noise, cfg.reservation, pStar, uStar);
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

/** Run the regret experiment. `onInstance` is told after each instance (progress). */
export function simulateRfq(core: WasmCore, cfg: RfqConfig, onInstance?: (k: number) => void): RfqResult {
  checkRfqConfig(cfg);
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
