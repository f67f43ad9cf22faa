/**
 * `repricer simulate retail`: every policy plays the same seasons of the retail environment
 * (./retailEnv.ts; common random numbers: episode k's demand shocks are the same for every policy),
 * and the summary gives each metric's mean over episodes with a 95 % confidence interval
 * (mean ± 1.96·sd/√n, the episodes being independent). Regret is against the dynamic programme's
 * expected optimum (./retailDp.ts). Outputs depend only on the configuration: the same seed gives
 * byte-identical files (./retailReport.ts writes them).
 */
import type { WasmCore } from '../core/wasm.js';
import { Rng, STREAM_RETAIL_DEMAND, STREAM_RETAIL_POLICY } from './random.js';
import { RetailEnv, type RetailEnvConfig } from './retailEnv.js';
import { MAX_DP_STOCK, DEFAULT_DP_GRID, solveRetailDp, type RetailDpSolution } from './retailDp.js';
import {
  CostPlusPolicy,
  DEFAULT_GUARDRAILS,
  DEFAULT_SKEW,
  DpPolicy,
  OptimizerPolicy,
  OptimizerSkewPolicy,
  priceBounds,
  optimumPrice,
  type RetailGuardrails,
  type RetailPolicy,
  type RetailSkewSettings,
} from './retailPolicies.js';

export const RETAIL_POLICIES = ['cost-plus', 'optimizer', 'optimizer-skew', 'dp-optimum'] as const;
/** A trained agent's policy is named by its algorithm (./retailAgent.ts; given with an agent file only). */
export const AGENT_POLICIES = ['td3', 'ddpg'] as const;
export type RetailPolicyName = (typeof RETAIL_POLICIES)[number] | (typeof AGENT_POLICIES)[number];

export interface RetailSimConfig {
  env: RetailEnvConfig;
  episodes: number;
  seed: number;
  policies: RetailPolicyName[];
  /** cost-plus price = unit_cost × (1 + markup) */
  markup: number;
  guardrails: RetailGuardrails;
  skew: RetailSkewSettings;
  /** price grid of the dynamic programme */
  dpGrid: number;
  /** the agent file a td3/ddpg policy comes from (present only with one) */
  agent?: { file: string; algo: string; envHash: string };
}

/** Default markup of cost-plus: 50 %, i.e. 15 at cost 10 (docs/retail.md says why). */
export const DEFAULT_MARKUP = 0.5;

export function defaultRetailConfig(env: RetailEnvConfig, partial: Partial<Omit<RetailSimConfig, 'env'>> = {}): RetailSimConfig {
  return {
    env,
    episodes: 200,
    seed: 1,
    policies: [...RETAIL_POLICIES],
    markup: DEFAULT_MARKUP,
    guardrails: { ...DEFAULT_GUARDRAILS },
    skew: { ...DEFAULT_SKEW },
    dpGrid: DEFAULT_DP_GRID,
    ...partial,
  };
}

/** One season of one policy. */
export interface EpisodeMetrics {
  revenue: number;
  costOfGoods: number;
  returnCost: number;
  holding: number;
  writeOff: number;
  profit: number;
  /** profit / revenue (NaN without revenue) */
  margin: number;
  unitsSold: number;
  /** units sold / initial stock (NaN without stock) */
  sellThrough: number;
  returned: number;
  /** returned / sold (NaN without sales) */
  returnRate: number;
  /** sample standard deviation of log(P_t/P_{t−1}) over the season's days (0 for one day) */
  priceVolatility: number;
  /** the DP optimum's expected profit − this season's profit (NaN without the DP) */
  regret: number;
  /** first day (1-based) that ended with no stock, or null */
  stockoutDay: number | null;
  prices: Float64Array;
  /** stock at the end of each day */
  stocks: Float64Array;
}

export interface RetailResult {
  config: RetailSimConfig;
  /** repricer's optimum P* before guardrails */
  optimumPrice: number;
  /** the DP's expected optimum, or null when the stock is above MAX_DP_STOCK */
  dpValue: number | null;
  runs: Record<string, EpisodeMetrics[]>;
}

/** The policy `name` of a configuration (`agent`: the trained agent's policy, for td3/ddpg). */
export function makePolicy(core: WasmCore, cfg: RetailSimConfig, name: RetailPolicyName, dp: RetailDpSolution | null, agent: RetailPolicy | undefined): RetailPolicy {
  switch (name) {
    case 'td3':
    case 'ddpg':
      if (agent === undefined || agent.name !== name) throw new RangeError(`simulateRetail: policy ${name} needs an agent of that algorithm`);
      return agent;
    case 'cost-plus':
      return new CostPlusPolicy(cfg.markup);
    case 'optimizer':
      return new OptimizerPolicy(core, cfg.guardrails);
    case 'optimizer-skew':
      return new OptimizerSkewPolicy(core, cfg.guardrails, cfg.skew);
    case 'dp-optimum':
      if (dp === null) throw new RangeError(`simulateRetail: dp-optimum needs initial_stock <= ${MAX_DP_STOCK}`);
      return new DpPolicy(dp);
  }
}

function sampleSd(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 2) return 0;
  let m = 0;
  for (let i = 0; i < n; i++) m += xs[i];
  m /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (xs[i] - m) ** 2;
  return Math.sqrt(s / (n - 1));
}

/** Play one season of `policy` on `env` with the episode's demand stream. */
export function runEpisode(env: RetailEnvConfig, policy: RetailPolicy, demandRng: Rng, policyRng: Rng, dpValue: number | null): EpisodeMetrics {
  const world = new RetailEnv(env);
  let state = world.reset(demandRng);
  policy.reset(env, policyRng);
  const T = env.days;
  const prices = new Float64Array(T);
  const stocks = new Float64Array(T);
  const m = { revenue: 0, costOfGoods: 0, returnCost: 0, holding: 0, writeOff: 0, profit: 0, unitsSold: 0, returned: 0 };
  let stockoutDay: number | null = null;
  for (let t = 0; t < T; t++) {
    const p = policy.price(state);
    const o = world.step(p);
    prices[t] = p;
    stocks[t] = o.stock;
    m.revenue += o.revenue;
    m.costOfGoods += o.costOfGoods;
    m.returnCost += o.returnCost;
    m.holding += o.holding;
    m.writeOff += o.writeOff;
    m.profit += o.profit;
    m.unitsSold += o.sold;
    m.returned += o.returned;
    if (stockoutDay === null && o.stock === 0) stockoutDay = t + 1;
    state = world.state;
  }
  const changes = new Float64Array(Math.max(0, T - 1));
  for (let t = 1; t < T; t++) changes[t - 1] = Math.log(prices[t] / prices[t - 1]);
  return {
    ...m,
    margin: m.revenue > 0 ? m.profit / m.revenue : NaN,
    sellThrough: env.initial_stock > 0 ? m.unitsSold / env.initial_stock : NaN,
    returnRate: m.unitsSold > 0 ? m.returned / m.unitsSold : NaN,
    priceVolatility: sampleSd(changes),
    regret: dpValue === null ? NaN : dpValue - m.profit,
    stockoutDay,
    prices,
    stocks,
  };
}

/** Check what the CLI and the config file cannot express wrongly but a library caller can. */
export function checkRetailConfig(cfg: RetailSimConfig, agent?: RetailPolicy): void {
  if (!Number.isInteger(cfg.episodes) || cfg.episodes < 1) throw new RangeError(`simulateRetail: episodes must be an integer >= 1, got ${cfg.episodes}`);
  if (!Number.isInteger(cfg.seed) || cfg.seed < 0) throw new RangeError(`simulateRetail: seed must be an integer >= 0, got ${cfg.seed}`);
  if (cfg.policies.length === 0) throw new RangeError('simulateRetail: policies must not be empty');
  const known: string[] = [...RETAIL_POLICIES, ...(agent ? [agent.name] : [])];
  for (const p of cfg.policies) if (!known.includes(p)) throw new RangeError(`simulateRetail: unknown policy ${JSON.stringify(p)} (one of ${known.join(', ')})`);
  if (!(cfg.markup > -1) || !Number.isFinite(cfg.markup)) throw new RangeError(`simulateRetail: markup must be a finite number > -1, got ${cfg.markup}`);
  const { lo, hi } = priceBounds(cfg.env, cfg.guardrails);
  if (!(lo > 0 && lo <= hi && Number.isFinite(hi))) throw new RangeError(`simulateRetail: the guardrails need 0 < floor <= ceiling, got floor ${lo}, ceiling ${hi}`);
  if (!(cfg.guardrails.maxStepPct > 0 && cfg.guardrails.maxStepPct < 100)) throw new RangeError(`simulateRetail: maxStepPct must be in (0, 100), got ${cfg.guardrails.maxStepPct}`);
}

/**
 * Run every policy over the episodes. The DP is solved once (it does not depend on the episode).
 * `agent`: a trained agent's policy (./retailAgent.ts), run when cfg.policies names its algorithm.
 */
export function simulateRetail(core: WasmCore, cfg: RetailSimConfig, agent?: RetailPolicy): RetailResult {
  checkRetailConfig(cfg, agent);
  const { lo, hi } = priceBounds(cfg.env, cfg.guardrails);
  const dp = cfg.env.initial_stock <= MAX_DP_STOCK ? solveRetailDp(core, cfg.env, { lo, hi, gridSize: cfg.dpGrid }) : null;
  const runs: Record<string, EpisodeMetrics[]> = {};
  for (const name of cfg.policies) {
    const policy = makePolicy(core, cfg, name, dp, agent);
    const idx = [...RETAIL_POLICIES, ...AGENT_POLICIES].indexOf(name);
    const eps: EpisodeMetrics[] = [];
    for (let k = 0; k < cfg.episodes; k++) {
      eps.push(runEpisode(cfg.env, policy, new Rng(cfg.seed, k, STREAM_RETAIL_DEMAND), new Rng(cfg.seed, k, STREAM_RETAIL_POLICY, idx), dp?.value ?? null));
    }
    runs[name] = eps;
  }
  return { config: cfg, optimumPrice: optimumPrice(core, cfg.env, lo, hi), dpValue: dp?.value ?? null, runs };
}

/** Mean and 95 % confidence interval of a metric over the episodes where it is finite. */
export interface Estimate {
  mean: number;
  ci95: [number, number];
  sd: number;
  n: number;
}

export function estimate(xs: readonly number[]): Estimate {
  const v = xs.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: NaN, ci95: [NaN, NaN], sd: NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const sd = sampleSd(v);
  const half = (1.96 * sd) / Math.sqrt(n);
  return { mean, ci95: [mean - half, mean + half], sd, n };
}

export const SUMMARY_METRICS = ['margin', 'revenue', 'profit', 'sellThrough', 'returnRate', 'priceVolatility', 'regret'] as const;
export type SummaryMetric = (typeof SUMMARY_METRICS)[number];

/** Per policy: every summary metric's estimate, and the mean price and stock by day. */
export function summarizeRetail(r: RetailResult): Record<string, Record<SummaryMetric, Estimate> & { meanPrice: number[]; meanStock: number[]; stockouts: number }> {
  const out: ReturnType<typeof summarizeRetail> = {};
  const T = r.config.env.days;
  for (const [name, eps] of Object.entries(r.runs)) {
    const est = {} as Record<SummaryMetric, Estimate>;
    for (const k of SUMMARY_METRICS) est[k] = estimate(eps.map((e) => e[k]));
    const meanPrice: number[] = [];
    const meanStock: number[] = [];
    for (let t = 0; t < T; t++) {
      meanPrice.push(eps.reduce((a, e) => a + e.prices[t], 0) / eps.length);
      meanStock.push(eps.reduce((a, e) => a + e.stocks[t], 0) / eps.length);
    }
    out[name] = { ...est, meanPrice, meanStock, stockouts: eps.filter((e) => e.stockoutDay !== null).length };
  }
  return out;
}
