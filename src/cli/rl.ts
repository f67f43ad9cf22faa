/**
 * `repricer rl`: the reinforcement-learning pricing agent (docs/rl.md).
 *
 *   rl train     train a TD3 or DDPG agent on retail seasons and write its agent file
 *   rl evaluate  play the agent against cost-plus, the optimizers and the DP optimum on the same
 *                evaluation seasons (the retail simulator's table; --out writes its files)
 *   rl curves    learning curves (mean ± sd of the episode return over seeds) of agent files
 *
 * Timing and progress go to stderr; the agent file depends only on the options (no timestamp).
 */
import { int, oneOf } from './optionValues.js';
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RepricerError } from '../core/errors.js';
import { checkOutputPath, writeFileAtomic } from '../core/atomic.js';
import { defaultCore } from '../core/wasm.js';
import { createMlp } from '../core/mlp.js';
import { AGENT_ALGOS, AGENT_REWARDS, configHash, loadAgent, saveAgent, type AgentAlgo, type AgentReward } from '../rl/agentFile.js';
import { algoSettings, TD3_DEFAULTS } from '../rl/td3.js';
import { DEFAULT_RETAIL_ENV, checkRetailEnv, loadRetailEnv } from '../sim/retailEnv.js';
import { DEFAULT_GUARDRAILS, DEFAULT_SKEW, priceBounds } from '../sim/retailPolicies.js';
import { MAX_DP_STOCK, solveRetailDp } from '../sim/retailDp.js';
import { trainRetailAgent, type EpisodeReport } from '../sim/retailTraining.js';
import { AgentPolicy, meanRewardReturn } from '../sim/retailAgent.js';
import { RETAIL_POLICIES, defaultRetailConfig, makePolicy, simulateRetail, type RetailPolicyName } from '../sim/retail.js';
import { retailCsv, retailSummary, retailSvg, retailTable, type RetailSummary } from '../sim/retailReport.js';
import { curvesCsv, curvesSvg, learningCurves, type CurveGroup } from '../sim/rlReport.js';

/** The source design's largest price change per step: ±50 %. */
export const DEFAULT_RL_MAX_STEP = 50;

export interface RlTrainOptions {
  env?: string;
  episodes: string;
  seed: string;
  out: string;
  algo: string;
  reward: string;
  hidden: string;
  batchSize: string;
  maxStep: string;
}

/** Train and write the agent file; `progress` hears of every episode with the elapsed seconds. */
export function runRlTrain(o: RlTrainOptions, progress: (r: EpisodeReport, seconds: number) => void = () => {}): { seconds: number; steps: number; updates: number; binds: ReturnType<typeof trainRetailAgent>['binds'] } {
  const env = o.env !== undefined ? loadRetailEnv(o.env) : { ...DEFAULT_RETAIL_ENV };
  const episodes = int('episodes', o.episodes, 1)!;
  const seed = int('seed', o.seed, 0)!;
  const algo = oneOf<AgentAlgo>('algo', o.algo, AGENT_ALGOS);
  const reward = oneOf<AgentReward>('reward', o.reward, AGENT_REWARDS);
  const hidden = o.hidden.split(',').map((h) => int('hidden', h.trim(), 1)!);
  const batchSize = int('batch-size', o.batchSize, 1)!;
  const step = Number(o.maxStep);
  if (o.maxStep.trim() === '' || !(step > 0 && step < 100)) throw new RepricerError('INVALID_ARGUMENT', `--max-step must be a percentage in (0, 100), got ${JSON.stringify(o.maxStep)}`);
  checkOutputPath(o.out, 'agent');
  const core = defaultCore();
  const t0 = performance.now();
  const res = trainRetailAgent(
    { env, guardrails: { ...DEFAULT_GUARDRAILS, maxStepPct: step }, episodes, seed, reward, settings: algoSettings(algo, { hidden, batchSize }) },
    (spec) => createMlp(core, spec),
    (r) => progress(r, (performance.now() - t0) / 1000),
  );
  const seconds = (performance.now() - t0) / 1000;
  saveAgent(o.out, res.agent);
  return { seconds, steps: res.agent.training.steps, updates: res.agent.training.updates, binds: res.binds };
}

export interface RlEvaluateOptions {
  agent: string;
  env?: string;
  seeds: string;
  seed: string;
  out?: string;
}

/** The agent against the simulator's policies on the same seasons; writes --out's files when given. */
export function runRlEvaluate(o: RlEvaluateOptions, note: (line: string) => void = () => {}): RetailSummary {
  const loaded = loadAgent(o.agent);
  const a = loaded.agent;
  const env = o.env !== undefined ? loadRetailEnv(o.env) : checkRetailEnv(a.env.config, `${o.agent}: env.config`);
  if (configHash(env) !== a.env.hash) note(`note: the agent ${o.agent} was trained on another environment (${a.env.hash}); it is evaluated on this one as it is`);
  const cfg = defaultRetailConfig(env, {
    episodes: int('seeds', o.seeds, 1)!,
    seed: int('seed', o.seed, 0)!,
    policies: [...RETAIL_POLICIES, a.algo] as RetailPolicyName[],
    guardrails: { ...a.guardrails },
    skew: { ...DEFAULT_SKEW, horizonDays: env.days },
    agent: { file: o.agent, algo: a.algo, envHash: a.env.hash },
  });
  if (o.out !== undefined) mkdirSync(o.out, { recursive: true });
  const core = defaultCore();
  const policy = new AgentPolicy((spec) => createMlp(core, spec), loaded);
  const res = simulateRetail(core, cfg, policy);
  const summary = retailSummary(res);
  const b = policy.binds;
  note(`${a.algo}: of ${b.days} priced days the floor bound ${b.floor}, the ceiling ${b.ceiling}; band and bounds apart on ${b.empty}`);
  // what each policy earns under both rewards, on the same seasons (docs/rl.md, "State, action, reward")
  const { lo, hi } = priceBounds(env, cfg.guardrails);
  const dp = env.initial_stock <= MAX_DP_STOCK ? solveRetailDp(core, env, { lo, hi, gridSize: cfg.dpGrid }) : null;
  const fresh = new AgentPolicy((spec) => createMlp(core, spec), loaded);
  const rewards: Record<string, Record<AgentReward, number>> = {};
  for (const name of cfg.policies) {
    if (name === 'dp-optimum' && dp === null) continue;
    const p = makePolicy(core, cfg, name, dp, fresh);
    rewards[name] = { blend: meanRewardReturn('blend', env, p, cfg.episodes, cfg.seed), profit: meanRewardReturn('profit', env, p, cfg.episodes, cfg.seed) };
  }
  note(`mean return per season under the blend / profit reward: ${Object.entries(rewards).map(([n, r]) => `${n} ${r.blend.toFixed(3)} / ${r.profit.toFixed(3)}`).join(', ')}`);
  if (o.out !== undefined) {
    writeFileAtomic(join(o.out, 'retail.csv'), retailCsv(res), 'evaluation results');
    writeFileAtomic(join(o.out, 'retail.svg'), retailSvg(summary), 'evaluation results');
    writeFileAtomic(join(o.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n', 'evaluation results');
    const round = (v: number) => Number(v.toPrecision(10));
    const rj = Object.fromEntries(Object.entries(rewards).map(([n, r]) => [n, { blend: round(r.blend), profit: round(r.profit) }]));
    writeFileAtomic(join(o.out, 'rewards.json'), JSON.stringify({ seasons: cfg.episodes, seed: cfg.seed, meanReturn: rj }, null, 2) + '\n', 'evaluation results');
  }
  return summary;
}

export interface RlCurvesOptions {
  out: string;
  csv?: string;
  window: string;
  title?: string;
}

/** Group agent files by algorithm and reward, then write the curves (SVG, and CSV with --csv). */
export function runRlCurves(files: string[], o: RlCurvesOptions): CurveGroup[] {
  if (files.length === 0) throw new RepricerError('INVALID_ARGUMENT', 'rl curves: give at least one agent file');
  const window = int('window', o.window, 1)!;
  const groups = new Map<string, CurveGroup>();
  for (const f of files) {
    const a = loadAgent(f).agent;
    const label = `${a.algo} (${a.training.reward} reward)`;
    const g = groups.get(label) ?? { label, runs: [] };
    if (g.runs.length > 0 && g.runs[0].length !== a.training.episodes) throw new RepricerError('INVALID_ARGUMENT', `${f}: ${a.training.episodes} episodes, but the other ${label} agents have ${g.runs[0].length}; a curve averages runs of one length`);
    g.runs.push(a.training.episodeReturns);
    groups.set(label, g);
  }
  const list = [...groups.values()];
  const curves = learningCurves(list, window);
  checkOutputPath(o.out, 'learning curves');
  writeFileAtomic(o.out, curvesSvg(curves, o.title ?? `Learning curves (moving average of ${window} episodes)`), 'learning curves');
  if (o.csv !== undefined) writeFileAtomic(o.csv, curvesCsv(curves), 'learning curves');
  return list;
}

export function register(program: Command): void {
  const rl = program.command('rl').description('the reinforcement-learning pricing agent: train, evaluate, learning curves (docs/rl.md)');
  rl.command('train')
    .description('train a TD3 or DDPG agent on seasons of the retail environment and write its agent file (repricer.agent/1)')
    .requiredOption('--out <file>', 'the agent file to write')
    .option('--env <file>', 'retail environment settings (JSON, as simulate retail --env; default the built-in season)')
    .option('--episodes <N>', 'training seasons', '200')
    .option('--seed <S>', 'seed (initial weights, exploration, minibatches, demand shocks)', '1')
    .option('--algo <name>', `${AGENT_ALGOS.join(' or ')} (DDPG: one critic, no delay, no target noise)`, 'td3')
    .option('--reward <kind>', 'blend: 0.4 profit + 0.3 units + 0.3 stock sold (scaled); profit: the day\'s profit / (P0 Q0)', 'blend')
    .option('--hidden <list>', 'hidden layer widths of actor and critics', TD3_DEFAULTS.hidden.join(','))
    .option('--batch-size <B>', 'minibatch size', String(TD3_DEFAULTS.batchSize))
    .option('--max-step <pct>', 'guardrail: largest daily price change in percent (the action range)', String(DEFAULT_RL_MAX_STEP))
    .action((o: RlTrainOptions) => {
      const every = Math.max(1, Math.floor(Number(o.episodes) / 20));
      const r = runRlTrain(o, (e, s) => {
        if ((e.episode + 1) % every === 0) process.stderr.write(`episode ${e.episode + 1}: return ${e.return.toFixed(3)}, profit ${e.profit.toFixed(0)}, ${e.updates} updates, ${s.toFixed(1)} s\n`);
      });
      process.stderr.write(`trained in ${r.seconds.toFixed(1)} s: ${r.steps} steps, ${r.updates} updates; floor bound on ${r.binds.floor} of ${r.binds.days} days, ceiling ${r.binds.ceiling} -> ${o.out}\n`);
    });
  rl.command('evaluate')
    .description('the agent against cost-plus, the optimizers and the DP optimum on the same evaluation seasons')
    .requiredOption('--agent <file>', 'the agent file')
    .option('--env <file>', 'retail environment settings (default: the one the agent was trained on)')
    .option('--seeds <K>', 'evaluation seasons', '100')
    .option('--seed <S>', 'seed of the evaluation seasons', '1')
    .option('--out <dir>', 'also write retail.csv, summary.json and retail.svg there')
    .action((o: RlEvaluateOptions) => {
      const s = runRlEvaluate(o, (line) => process.stderr.write(line + '\n'));
      process.stdout.write(retailTable(s));
    });
  rl.command('curves')
    .description('learning curves: mean and sd over seeds of the episode return, per algorithm and reward')
    .argument('<agents...>', 'agent files (runs of one algorithm and reward with different seeds form one curve)')
    .requiredOption('--out <file>', 'the SVG to write')
    .option('--csv <file>', 'also write the curves as CSV')
    .option('--window <W>', 'moving average over W episodes within each run', '10')
    .option('--title <text>', 'title of the plot')
    .action((files: string[], o: RlCurvesOptions) => {
      const g = runRlCurves(files, o);
      process.stderr.write(`${g.map((x) => `${x.label}: ${x.runs.length} runs`).join('; ')} -> ${o.out}\n`);
    });
}
