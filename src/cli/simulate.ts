/**
 * `repricer simulate rfq`: the regret experiment of docs/math.md §1.10 (src/sim/episodes.ts),
 * writing regret.csv, regret.svg and summary.json into --out. `repricer simulate coldstart`: the cold-start
 * measurement (coldstart.csv, coldstart.json). `repricer simulate retail`: pricing policies over
 * seasons of one retail SKU (src/sim/retail.ts; retail.csv, summary.json, retail.svg). `repricer simulate
 * marketplace`: the market-clearing methods' gap against participant observations
 * (src/sim/marketplace.ts; marketplace.csv, summary.json, marketplace.svg); with --watcher, the
 * watcher's evidence-based repricing (src/cli/simulateWatcher.ts). Outputs depend only on the options (the same seed
 * gives byte-identical files); timing goes to stderr only.
 */
import { int } from './optionValues.js';
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RepricerError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic.js';
import { defaultCore } from '../core/wasm.js';
import {
  ARRIVALS,
  POLICIES,
  DEFAULT_LAMBDA_C,
  DEFAULT_SIM_TOL,
  defaultRfqConfig,
  defaultColdStartConfig,
  type Arrivals,
  type Policy,
  type RfqConfig,
  type ColdStartConfig,
} from '../sim/config.js';
import { DEFAULT_SHRINKAGE_RULE, SHRINKAGE_RULES, type ShrinkageRule } from '../model/shrinkageCv.js';
import { simulateRfq } from '../sim/episodes.js';
import { simulateColdStart, type ColdStartResult } from '../sim/coldStart.js';
import { regretCsv, regretSvg, summarize } from '../sim/report.js';
import { DEFAULT_RETAIL_ENV, checkRetailEnv, loadRetailEnv } from '../sim/retailEnv.js';
import { AGENT_POLICIES, RETAIL_POLICIES, DEFAULT_MARKUP, defaultRetailConfig, simulateRetail, type RetailPolicyName, type RetailSimConfig } from '../sim/retail.js';
import { DEFAULT_GUARDRAILS, DEFAULT_SKEW } from '../sim/retailPolicies.js';
import { AgentPolicy } from '../sim/retailAgent.js';
import { configHash, loadAgent, type LoadedAgent } from '../rl/agentFile.js';
import { createMlp } from '../core/mlp.js';
import { retailCsv, retailSummary, retailSvg, retailTable, type RetailSummary } from '../sim/retailReport.js';
import { DEFAULT_MARKETPLACE_SEEDS, DEFAULT_MARKETPLACE_STEPS, runMarketplace, type MarketplaceConfig } from '../sim/marketplace.js';
import { marketplaceCsv, marketplaceSummary, marketplaceSvg, marketplaceTable, type MarketplaceSummary } from '../sim/marketplaceReport.js';
import { MARKET_METHODS, type MarketMethod } from '../market/solvers.js';
import { MarketPotential } from '../market/potential.js';
import { loadMarketFile } from '../market/marketFile.js';
import { randomMarket } from '../market/randomMarket.js';
import { describeRandomMarket, parseRandomMarketSpec } from '../market/randomMarketSpec.js';
import { runSimulateWatcher, type SimulateWatcherOptions } from './simulateWatcher.js';
import { watcherTable } from '../sim/marketWatcherReport.js';
import { DEFAULT_SCHEDULE_HOURS, DEFAULT_WATCHER_DAYS } from '../sim/marketWatcherScenario.js';

function real(name: string, v: string | undefined, min: number, strict = false): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x < min || (strict && x === min)) throw new RepricerError('INVALID_ARGUMENT', `--${name} must be a number ${strict ? '>' : '>='} ${min}, got ${JSON.stringify(v)}`);
  return x;
}

export interface SimulateRfqOptions {
  products?: string;
  dim?: string;
  delta?: string;
  horizon?: string;
  instances?: string;
  seed?: string;
  out: string;
  policies?: string;
  arrivals?: string;
  alpha?: string;
  noise?: string;
  noiseScale?: string;
  reservation?: string;
  radius?: string;
  lambdaC?: string;
  lambdaRule?: string;
  tol?: string;
}

/** CLI strings -> RfqConfig (INVALID_ARGUMENT naming the option). */
export function parseRfqOptions(o: SimulateRfqOptions): RfqConfig {
  const part: Partial<RfqConfig> = {};
  const set = <K extends keyof RfqConfig>(k: K, v: RfqConfig[K] | undefined) => {
    if (v !== undefined) part[k] = v;
  };
  set('products', int('products', o.products, 1));
  set('dim', int('dim', o.dim, 1));
  set('delta', real('delta', o.delta, 0));
  set('horizon', int('horizon', o.horizon, 1));
  set('instances', int('instances', o.instances, 1));
  set('seed', int('seed', o.seed, 0));
  if (o.arrivals !== undefined) {
    if (!ARRIVALS.includes(o.arrivals as Arrivals)) throw new RepricerError('INVALID_ARGUMENT', `--arrivals must be one of ${ARRIVALS.join(', ')}, got ${JSON.stringify(o.arrivals)}`);
    part.arrivals = o.arrivals as Arrivals;
  }
  if (o.policies !== undefined) {
    const ps = o.policies.split(',').map((s) => s.trim());
    for (const p of ps) if (!POLICIES.includes(p as Policy)) throw new RepricerError('INVALID_ARGUMENT', `--policies: unknown policy ${JSON.stringify(p)} (one of ${POLICIES.join(', ')})`);
    if (new Set(ps).size !== ps.length) throw new RepricerError('INVALID_ARGUMENT', `--policies lists a policy twice: ${JSON.stringify(o.policies)}`);
    part.policies = ps as Policy[];
  }
  const fam = o.noise ?? 'gaussian';
  if (fam !== 'gaussian' && fam !== 'logistic') throw new RepricerError('INVALID_ARGUMENT', `--noise must be gaussian or logistic, got ${JSON.stringify(fam)}`);
  part.noise = { family: fam, scale: real('noise-scale', o.noiseScale, 0, true) ?? 0.1 };
  set('reservation', real('reservation', o.reservation, -Infinity));
  const cfg = defaultRfqConfig(part);
  cfg.alpha = real('alpha', o.alpha, 0) ?? (cfg.arrivals === 'exponential' ? 1 : 2);
  cfg.radius = real('radius', o.radius, 0, true) ?? 1 + cfg.delta;
  if (o.lambdaC !== undefined) cfg.lambdaC = o.lambdaC === 'auto' ? 'auto' : real('lambda-c', o.lambdaC, 0)!;
  if (o.lambdaRule !== undefined) {
    if (!SHRINKAGE_RULES.includes(o.lambdaRule as ShrinkageRule)) throw new RepricerError('INVALID_ARGUMENT', `--lambda-rule must be one of ${SHRINKAGE_RULES.join(', ')}, got ${JSON.stringify(o.lambdaRule)}`);
    cfg.lambdaRule = o.lambdaRule as ShrinkageRule;
  }
  cfg.tol = real('tol', o.tol, 0, true) ?? cfg.tol;
  return cfg;
}

/** Run `simulate rfq` and write the three files; returns the summary. */
export function runSimulateRfq(o: SimulateRfqOptions, log: (s: string) => void = () => {}): ReturnType<typeof summarize> {
  const cfg = parseRfqOptions(o);
  const t0 = Date.now();
  const res = simulateRfq(defaultCore(), cfg, (k) => log(`instance ${k + 1}/${cfg.instances} done (${((Date.now() - t0) / 1000).toFixed(1)} s)`));
  const summary = summarize(res);
  mkdirSync(o.out, { recursive: true });
  writeFileAtomic(join(o.out, 'regret.csv'), regretCsv(res), 'simulation results');
  writeFileAtomic(join(o.out, 'regret.svg'), regretSvg(res), 'simulation results');
  writeFileAtomic(join(o.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n', 'simulation results');
  return summary;
}

export interface SimulateColdStartOptions {
  products?: string;
  dim?: string;
  delta?: string;
  instances?: string;
  seed?: string;
  warmup?: string;
  noiseScale?: string;
  lambdaC?: string;
  target?: string;
  out: string;
}

export function parseColdStartOptions(o: SimulateColdStartOptions): ColdStartConfig {
  const part: Partial<ColdStartConfig> = {};
  const p = int('products', o.products, 1);
  if (p !== undefined) part.products = p;
  const d = int('dim', o.dim, 1);
  if (d !== undefined) part.dim = d;
  const delta = real('delta', o.delta, 0);
  if (delta !== undefined) part.delta = delta;
  const k = int('instances', o.instances, 1);
  if (k !== undefined) part.instances = k;
  const s = int('seed', o.seed, 0);
  if (s !== undefined) part.seed = s;
  const w = int('warmup', o.warmup, 1);
  if (w !== undefined) part.warmup = w;
  part.noise = { family: 'gaussian', scale: real('noise-scale', o.noiseScale, 0, true) ?? 0.1 };
  part.lambdaC = o.lambdaC === undefined || o.lambdaC === 'auto' ? 'auto' : real('lambda-c', o.lambdaC, 0)!;
  const tg = real('target', o.target, 0, true);
  if (tg !== undefined) part.target = tg;
  return defaultColdStartConfig(part);
}

function median(v: (number | null)[]): number | null {
  const a = v.map((x) => (x === null ? Infinity : x)).sort((x, y) => x - y);
  if (a.length === 0) return null;
  const m = a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  return Number.isFinite(m) ? m : null;
}

function stdErrOfMean(v: number[]): number {
  if (v.length < 2) return 0;
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const ss = v.reduce((a, b) => a + (b - m) ** 2, 0);
  return Math.sqrt(ss / (v.length - 1) / v.length);
}

export function coldStartCsv(r: ColdStartResult): string {
  const lines = ['n,tsmt_ratio,individual_ratio,pooled_ratio,bayes_ratio'];
  r.config.grid.forEach((n, g) => lines.push(`${n},${r.meanRatio.tsmt[g].toFixed(6)},${r.meanRatio.individual[g].toFixed(6)},${r.meanRatio.pooled[g].toFixed(6)},${r.meanRatio.bayes[g].toFixed(6)}`));
  return lines.join('\n') + '\n';
}

export function runSimulateColdStart(o: SimulateColdStartOptions, log: (s: string) => void = () => {}) {
  const cs = parseColdStartOptions(o);
  const t0 = Date.now();
  const res = simulateColdStart(defaultCore(), cs, (k) => log(`instance ${k + 1}/${cs.instances} done (${((Date.now() - t0) / 1000).toFixed(1)} s)`));
  const summary = {
    format: 'repricer.simulate-coldstart/1',
    config: cs,
    meanRatio: res.meanRatio,
    // standard error of each mean (sd over instances / √K), so a share near the target reads honestly
    ratioStdErr: Object.fromEntries(Object.entries(res.ratio).map(([m, rows]) => [m, cs.grid.map((_, g) => stdErrOfMean(rows.map((r) => r[g])))])),
    neededMedian: { tsmt: median(res.needed.tsmt), individual: median(res.needed.individual), pooled: median(res.needed.pooled), bayes: median(res.needed.bayes) },
    neededPerInstance: res.needed,
    lambdaCPerInstance: res.lambdaC,
    bayesPriorPerInstance: res.prior,
  };
  mkdirSync(o.out, { recursive: true });
  writeFileAtomic(join(o.out, 'coldstart.csv'), coldStartCsv(res), 'simulation results');
  writeFileAtomic(join(o.out, 'coldstart.json'), JSON.stringify(summary, null, 2) + '\n', 'simulation results');
  return summary;
}

export interface SimulateRetailOptions {
  out: string;
  env?: string;
  episodes?: string;
  seed?: string;
  policies?: string;
  days?: string;
  stock?: string;
  noiseSd?: string;
  returnRate?: string;
  returnCost?: string;
  holdingCost?: string;
  salvage?: string;
  markup?: string;
  maxStep?: string;
  riskAversion?: string;
  volatility?: string;
  skewHorizon?: string;
  maxFactor?: string;
  agent?: string;
}

/**
 * CLI strings (over the --env file, over the defaults) -> RetailSimConfig (INVALID_ARGUMENT naming
 * the option). `agent`: the loaded --agent file, whose algorithm becomes a policy and whose
 * guardrails every policy then runs under.
 */
export function parseRetailOptions(o: SimulateRetailOptions, agent?: LoadedAgent): RetailSimConfig {
  const base = o.env !== undefined ? loadRetailEnv(o.env) : { ...DEFAULT_RETAIL_ENV };
  const envPart: Record<string, unknown> = {};
  const put = (k: string, v: number | undefined) => {
    if (v !== undefined) envPart[k] = v;
  };
  put('days', int('days', o.days, 1));
  put('initial_stock', int('stock', o.stock, 0));
  put('noise_sd', real('noise-sd', o.noiseSd, 0));
  put('return_cost', real('return-cost', o.returnCost, 0));
  put('holding_cost', real('holding-cost', o.holdingCost, 0));
  put('salvage_value', real('salvage', o.salvage, 0));
  const rate = real('return-rate', o.returnRate, 0);
  if (rate !== undefined) {
    if (!(rate < 1)) throw new RepricerError('INVALID_ARGUMENT', `--return-rate must be a number in [0, 1), got ${JSON.stringify(o.returnRate)}`);
    envPart.returns = { kind: 'constant', rate };
  }
  const env = checkRetailEnv(envPart, 'command line', base);
  const part: Partial<Omit<RetailSimConfig, 'env'>> = {};
  const e = int('episodes', o.episodes, 1);
  if (e !== undefined) part.episodes = e;
  const sd = int('seed', o.seed, 0);
  if (sd !== undefined) part.seed = sd;
  // a trained agent adds its algorithm's name to the policies (and to the default list)
  const known: string[] = [...RETAIL_POLICIES, ...(agent ? [agent.agent.algo] : [])];
  if (agent && o.policies === undefined) part.policies = known as RetailPolicyName[];
  if (o.policies !== undefined) {
    const ps = o.policies.split(',').map((x) => x.trim());
    for (const p of ps) {
      if (!known.includes(p)) {
        const hint = (AGENT_POLICIES as readonly string[]).includes(p) ? (agent ? ` (the agent file holds a ${agent.agent.algo} agent)` : ' (a trained agent: give its file with --agent)') : '';
        throw new RepricerError('INVALID_ARGUMENT', `--policies: unknown policy ${JSON.stringify(p)} (one of ${known.join(', ')})${hint}`);
      }
    }
    if (new Set(ps).size !== ps.length) throw new RepricerError('INVALID_ARGUMENT', `--policies lists a policy twice: ${JSON.stringify(o.policies)}`);
    part.policies = ps as RetailPolicyName[];
  }
  part.markup = real('markup', o.markup, 0) ?? DEFAULT_MARKUP;
  const given = real('max-step', o.maxStep, 0, true);
  const step = given ?? DEFAULT_GUARDRAILS.maxStepPct;
  if (!(step < 100)) throw new RepricerError('INVALID_ARGUMENT', `--max-step must be a percentage in (0, 100), got ${JSON.stringify(o.maxStep)}`);
  part.guardrails = { ...DEFAULT_GUARDRAILS, maxStepPct: step };
  if (agent) {
    // every policy runs under the guardrails the agent learnt inside (docs/rl.md, "Actions")
    const ag = agent.agent.guardrails;
    if (given !== undefined && given !== ag.maxStepPct) throw new RepricerError('INVALID_ARGUMENT', `--max-step ${given}: the agent ${o.agent} was trained with a largest step of ${ag.maxStepPct} %; give --max-step ${ag.maxStepPct} or leave it out`);
    part.guardrails = { ...ag };
    part.agent = { file: o.agent!, algo: agent.agent.algo, envHash: agent.agent.env.hash };
  }
  const mf = real('max-factor', o.maxFactor, 1, true) ?? DEFAULT_SKEW.maxFactor;
  part.skew = {
    riskAversion: real('risk-aversion', o.riskAversion, 0) ?? DEFAULT_SKEW.riskAversion,
    volatility: real('volatility', o.volatility, 0) ?? DEFAULT_SKEW.volatility,
    // the skew's horizon is the season unless given
    horizonDays: real('skew-horizon', o.skewHorizon, 0, true) ?? env.days,
    maxFactor: mf,
  };
  if (env.initial_stock > 200_000 && (part.policies ?? [...RETAIL_POLICIES]).includes('dp-optimum')) {
    throw new RepricerError('INVALID_ARGUMENT', `--policies: dp-optimum needs a stock of at most 200000 units (the dynamic programme's table), got ${env.initial_stock}; leave it out of --policies`);
  }
  return defaultRetailConfig(env, part);
}

/** Run `simulate retail` and write the three files; returns the summary. */
export function runSimulateRetail(o: SimulateRetailOptions, note: (line: string) => void = () => {}): RetailSummary {
  const loaded = o.agent !== undefined ? loadAgent(o.agent) : undefined;
  const cfg = parseRetailOptions(o, loaded);
  const core = defaultCore();
  const agent = loaded ? new AgentPolicy((spec) => createMlp(core, spec), loaded) : undefined;
  if (loaded && configHash(cfg.env) !== loaded.agent.env.hash) note(`note: the agent ${o.agent} was trained on another environment (${loaded.agent.env.hash}); it is evaluated on this one as it is`);
  const res = simulateRetail(core, cfg, agent);
  if (agent) note(`${agent.name}: bounds binding on ${agent.binds.days} priced days: floor ${agent.binds.floor}, ceiling ${agent.binds.ceiling}, band and bounds apart ${agent.binds.empty}`);
  const summary = retailSummary(res);
  mkdirSync(o.out, { recursive: true });
  writeFileAtomic(join(o.out, 'retail.csv'), retailCsv(res), 'simulation results');
  writeFileAtomic(join(o.out, 'retail.svg'), retailSvg(summary), 'simulation results');
  writeFileAtomic(join(o.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n', 'simulation results');
  return summary;
}

export interface SimulateMarketplaceOptions {
  out: string;
  seeds?: string;
  steps?: string;
  market?: string;
  /** `products=50,nests=5,consumers=2000,suppliers=20,seed=2` (src/market/randomMarketSpec.ts) */
  randomMarket?: string;
  methods?: string;
}

/** CLI strings -> MarketplaceConfig (INVALID_ARGUMENT naming the option). */
export function parseMarketplaceOptions(o: SimulateMarketplaceOptions): MarketplaceConfig {
  let methods: MarketMethod[] = [...MARKET_METHODS];
  if (o.methods !== undefined) {
    const ms = o.methods.split(',').map((x) => x.trim());
    for (const m of ms) if (!(MARKET_METHODS as readonly string[]).includes(m)) throw new RepricerError('INVALID_ARGUMENT', `--methods: unknown method ${JSON.stringify(m)} (one of ${MARKET_METHODS.join(', ')})`);
    if (new Set(ms).size !== ms.length) throw new RepricerError('INVALID_ARGUMENT', `--methods lists a method twice: ${JSON.stringify(o.methods)}`);
    methods = ms as MarketMethod[];
  }
  return { methods, steps: int('steps', o.steps, 1) ?? DEFAULT_MARKETPLACE_STEPS, seeds: int('seeds', o.seeds, 1) ?? DEFAULT_MARKETPLACE_SEEDS };
}

/** Run `simulate marketplace` and write the three files; returns the summary. */
export function runSimulateMarketplace(o: SimulateMarketplaceOptions): MarketplaceSummary {
  const cfg = parseMarketplaceOptions(o);
  if (o.market !== undefined && o.randomMarket !== undefined) throw new RepricerError('INVALID_ARGUMENT', '--market and --random-market cannot be given together (one market per run)');
  const spec = o.randomMarket !== undefined ? parseRandomMarketSpec(o.randomMarket) : undefined;
  const market = o.market !== undefined ? loadMarketFile(o.market).market : spec !== undefined ? randomMarket(spec.seed, spec.options) : randomMarket(1);
  const label = o.market !== undefined ? 'market file' : spec !== undefined ? describeRandomMarket(spec) : 'default test market (randomMarket seed 1)';
  const pot = new MarketPotential(market);
  try {
    const res = runMarketplace(pot, cfg);
    const summary = marketplaceSummary(res, label);
    const { n, m, K } = pot.size;
    const title = `${n} products, ${m} consumers, ${K} suppliers; ${cfg.seeds} seeds, ${cfg.steps} steps`;
    mkdirSync(o.out, { recursive: true });
    writeFileAtomic(join(o.out, 'marketplace.csv'), marketplaceCsv(res), 'simulation results');
    writeFileAtomic(join(o.out, 'marketplace.svg'), marketplaceSvg(res, title), 'simulation results');
    writeFileAtomic(join(o.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n', 'simulation results');
    return summary;
  } finally {
    pot.dispose();
  }
}

export function register(program: Command): void {
  const sim = program.command('simulate').description('simulation experiments');
  sim
    .command('rfq')
    .description('regret of tsmt / pooled / individual / clairvoyant on the synthetic RFQ market (docs/math.md §1.10)')
    .requiredOption('--out <dir>', 'output directory (regret.csv, regret.svg, summary.json)')
    .option('--products <M>', 'number of products', '10')
    .option('--dim <d>', 'feature dimension', '30')
    .option('--delta <delta>', 'heterogeneity: norm of every theta_i - theta_0', '0.5')
    .option('--horizon <T>', 'rounds', '2047')
    .option('--instances <K>', 'random instances', '30')
    .option('--seed <S>', 'seed', '1')
    .option('--policies <list>', 'comma-separated: tsmt,pooled,individual,clairvoyant', POLICIES.join(','))
    .option('--arrivals <law>', 'uniform | polynomial | exponential', 'uniform')
    .option('--alpha <a>', 'decay exponent of the arrival law (default 2 polynomial, 1 exponential)')
    .option('--noise <family>', 'gaussian | logistic', 'gaussian')
    .option('--noise-scale <s>', 'noise scale sigma', '0.1')
    .option('--reservation <c>', 'payoff without a trade', '0')
    .option('--radius <W>', 'parameter ball radius (default 1 + delta)')
    .option('--lambda-c <C>', `stage-II constant c_lambda, or "auto" (5-fold held-out choice at every refit)`, String(DEFAULT_LAMBDA_C))
    .option('--lambda-rule <rule>', `how "auto" picks c_lambda from the held-out scores: ${SHRINKAGE_RULES.join(' | ')}`, DEFAULT_SHRINKAGE_RULE)
    .option('--tol <t>', 'solver tolerance of the refits', String(DEFAULT_SIM_TOL))
    .action((o: SimulateRfqOptions) => {
      const s = runSimulateRfq(o, (m) => process.stderr.write(m + '\n'));
      const parts = Object.entries(s.finalRegret).map(([p, v]) => `${p} ${v.mean.toFixed(3)} ± ${v.sd.toFixed(3)}`);
      process.stderr.write(`final cumulative regret (mean ± sd): ${parts.join(', ')} -> ${o.out}\n`);
    });
  sim
    .command('coldstart')
    .description('own observations a late product needs to reach a share of the clairvoyant expected reward')
    .requiredOption('--out <dir>', 'output directory (coldstart.csv, coldstart.json)')
    .option('--products <M>', 'number of old products', '10')
    .option('--dim <d>', 'feature dimension', '30')
    .option('--delta <delta>', 'heterogeneity', '0.5')
    .option('--instances <K>', 'random instances', '30')
    .option('--seed <S>', 'seed', '1')
    .option('--warmup <T0>', 'rounds of the old products before the new one appears', '1023')
    .option('--noise-scale <s>', 'Gaussian noise sigma', '0.1')
    .option('--lambda-c <C>', 'stage-II constant c_lambda for the new product, or "auto" (the value the warm-up chose)', String(DEFAULT_LAMBDA_C))
    .option('--target <share>', 'share of the clairvoyant expected reward', '0.9')
    .action((o: SimulateColdStartOptions) => {
      const s = runSimulateColdStart(o, (m) => process.stderr.write(m + '\n'));
      process.stderr.write(`median own observations to reach ${s.config.target}: tsmt ${String(s.neededMedian.tsmt)}, individual ${String(s.neededMedian.individual)}, bayes ${String(s.neededMedian.bayes)} -> ${o.out}\n`);
    });
  const env = DEFAULT_RETAIL_ENV;
  sim
    .command('retail')
    .description('pricing policies over seasons of one retail SKU with finite stock, against the dynamic-programming optimum (docs/retail.md)')
    .requiredOption('--out <dir>', 'output directory (retail.csv, summary.json, retail.svg)')
    .option('--env <file>', 'environment settings (JSON; the options below override it)')
    .option('--episodes <N>', 'seasons per policy', '200')
    .option('--seed <S>', 'seed', '1')
    .option('--policies <list>', `comma-separated: ${RETAIL_POLICIES.join(',')} (default all), and td3 or ddpg with --agent`)
    .option('--agent <file>', 'a trained agent (repricer.agent/1, from repricer rl train): its algorithm joins the policies, and every policy runs under its guardrails')
    .option('--days <D>', `season length in days (default ${env.days})`)
    .option('--stock <N>', `units on hand at the start (default ${env.initial_stock})`)
    .option('--noise-sd <s>', `sd of the multiplicative demand noise (default ${env.noise_sd})`)
    .option('--return-rate <R>', 'constant return rate in [0, 1) (default 0.05)')
    .option('--return-cost <c>', `cost per returned unit (default ${env.return_cost})`)
    .option('--holding-cost <h>', `holding cost per unit per day (default ${env.holding_cost})`)
    .option('--salvage <v>', 'value of a unit left at the end of the season (default the unit cost)')
    .option('--markup <m>', 'cost-plus price = cost x (1 + m)', String(DEFAULT_MARKUP))
    .option('--max-step <pct>', `guardrail: largest daily price change in percent (default ${DEFAULT_GUARDRAILS.maxStepPct}; with --agent, the agent's)`)
    .option('--risk-aversion <g>', 'inventory skew: risk aversion gamma', String(DEFAULT_SKEW.riskAversion))
    .option('--volatility <sigma>', 'inventory skew: relative price volatility per day', String(DEFAULT_SKEW.volatility))
    .option('--skew-horizon <tau>', 'inventory skew: horizon in days (default the season length)')
    .option('--max-factor <F>', 'inventory skew: the factor stays in [1/F, F]', String(DEFAULT_SKEW.maxFactor))
    .action((o: SimulateRetailOptions) => {
      const s = runSimulateRetail(o, (line) => process.stderr.write(line + '\n'));
      process.stdout.write(retailTable(s));
      process.stderr.write(`optimum P* ${String(s.optimumPrice)}, DP optimum ${String(s.dpValue)} -> ${o.out}\n`);
    });
  sim
    .command('marketplace')
    .description('optimality gap of the market-clearing methods against participant observations; with --watcher, evidence-based repricing against a fixed schedule (docs/marketplace.md)')
    .requiredOption('--out <dir>', 'output directory (marketplace.csv, summary.json, marketplace.svg; with --watcher: watcher.csv, reactions.csv, triggers.csv, summary.json, watcher.svg)')
    .option('--seeds <K>', 'seeds 1..K of the stochastic methods (of the simulated market with --watcher)', String(DEFAULT_MARKETPLACE_SEEDS))
    .option('--steps <T>', 'steps per method and seed', String(DEFAULT_MARKETPLACE_STEPS))
    .option('--market <file>', 'market file (default: the test market of docs/math.md §2.4, seed 1)')
    .option('--random-market <spec>', 'a random test market of docs/math.md §2.4 instead: products=N,nests=N,consumers=N,suppliers=N,seed=N (fields left out: 10, 3, 100, 5, 1)')
    .option('--methods <list>', `comma-separated: ${MARKET_METHODS.join(',')}`, MARKET_METHODS.join(','))
    .option('--watcher', 'simulate evidence-based repricing by the watcher against a fixed schedule instead (docs/marketplace.md "Watcher")')
    .option('--days <D>', `with --watcher: days of hourly periods (default ${DEFAULT_WATCHER_DAYS})`)
    .option('--every <H>', `with --watcher: hours between the fixed schedule's repricings (default ${DEFAULT_SCHEDULE_HOURS})`)
    .option('--calendar <file>', "with --watcher: events calendar CSV replacing the scenario's (docs/formats.md \"Events calendar\")")
    .option('--policy <file>', 'with --watcher: policy file whose market.watcher object sets the watcher (docs/formats.md "Watcher settings")')
    .option('--level-check <z>', 'with --watcher: reprice a zone at the end of a warm-up when its measured demand level differs from the one priced in by more than z standard errors; 0: no check (default 3)')
    .action((o: SimulateMarketplaceOptions & SimulateWatcherOptions & { watcher?: boolean }, cmd: Command) => {
      const t0 = Date.now();
      const given = (names: string[]) => names.filter((n) => cmd.getOptionValueSource(n) === 'cli').map((n) => n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
      if (o.watcher) {
        const wrong = given(['steps', 'market', 'randomMarket', 'methods']);
        if (wrong.length) throw new RepricerError('INVALID_ARGUMENT', `--${wrong[0]} is not an option of simulate marketplace --watcher`);
        const s = runSimulateWatcher(o);
        process.stdout.write(watcherTable(s));
        process.stderr.write(`threshold h ${String(s.threshold)} for an in-control ARL of ${String(s.settings.arl0)} periods, ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${o.out}\n`);
        return;
      }
      const wrong = given(['days', 'every', 'calendar', 'policy', 'levelCheck']);
      if (wrong.length) throw new RepricerError('INVALID_ARGUMENT', `--${wrong[0]} needs --watcher`);
      const s = runSimulateMarketplace(o);
      process.stdout.write(marketplaceTable(s));
      process.stderr.write(`ER* ${String(s.reference.value)} (residual ${String(s.reference.residual)}), ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${o.out}\n`);
    });
}
