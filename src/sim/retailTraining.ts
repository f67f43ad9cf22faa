/**
 * Training the actor-critic agent on retail seasons (docs/rl.md, "Training"). Episode k plays a
 * season whose demand shocks come from the stream (seed, k, STREAM_RL_TRAIN_DEMAND) — apart from
 * the evaluation streams of `simulate retail`, so an agent is never scored on the seasons it
 * trained on. Every other draw (initial weights aside: those come from the seed directly) —
 * exploration noise, minibatches, target noise — comes from one stream (seed, 0, STREAM_RL_AGENT),
 * so the same settings and seed give the same agent file, byte for byte.
 *
 * Each day: observe s, act a = clip(μ(s) + N(0, σ), −1, 1), price on the feasible set, step the
 * environment, store (s, a, r, s', done) and, once the buffer holds a minibatch, take one learning
 * step (the source design's schedule: one update per environment step, no warm-up phase).
 */
import { ReplayBuffer } from '../rl/replayBuffer.js';
import { Td3Agent, type MlpFactory, type Td3Settings } from '../rl/td3.js';
import { actionToPrice, countBinds, emptyBindCounts, feasibleSet, type BindCounts } from '../pricing/feasiblePrice.js';
import { AGENT_FORMAT, configHash, encodeParams, type AgentFile, type AgentReward } from '../rl/agentFile.js';
import { Rng, STREAM_RL_AGENT, STREAM_RL_TRAIN_DEMAND } from './random.js';
import { RetailEnv, type RetailEnvConfig } from './retailEnv.js';
import type { RetailGuardrails } from './retailPolicies.js';
import { RETAIL_STATE_FEATURES, retailPriceGuardrails, retailReward, retailStateVector } from './retailAgent.js';

export interface RetailTrainConfig {
  env: RetailEnvConfig;
  guardrails: RetailGuardrails;
  episodes: number;
  seed: number;
  reward: AgentReward;
  settings: Td3Settings;
}

export interface EpisodeReport {
  episode: number;
  /** sum of the episode's rewards */
  return: number;
  /** the season's profit */
  profit: number;
  steps: number;
  updates: number;
}

export interface RetailTrainResult {
  agent: AgentFile;
  binds: BindCounts;
}

export function checkTrainConfig(cfg: RetailTrainConfig): void {
  if (!Number.isInteger(cfg.episodes) || cfg.episodes < 1) throw new RangeError(`trainRetailAgent: episodes must be an integer >= 1, got ${cfg.episodes}`);
  if (!Number.isInteger(cfg.seed) || cfg.seed < 0) throw new RangeError(`trainRetailAgent: seed must be an integer >= 0, got ${cfg.seed}`);
  if (!(cfg.guardrails.maxStepPct > 0 && cfg.guardrails.maxStepPct < 100)) throw new RangeError(`trainRetailAgent: maxStepPct must be in (0, 100), got ${cfg.guardrails.maxStepPct}`);
}

/** Train an agent; `onEpisode` hears of every finished episode (progress, learning curves). */
export function trainRetailAgent(cfg: RetailTrainConfig, factory: MlpFactory, onEpisode?: (r: EpisodeReport) => void): RetailTrainResult {
  checkTrainConfig(cfg);
  const env = cfg.env;
  const S = RETAIL_STATE_FEATURES.length;
  const agent = new Td3Agent(S, cfg.settings, factory, cfg.seed);
  const buffer = new ReplayBuffer(cfg.settings.bufferSize, S, 1);
  const rng = new Rng(cfg.seed, 0, STREAM_RL_AGENT);
  const g = retailPriceGuardrails(env, cfg.guardrails);
  const binds = emptyBindCounts();
  const returns: number[] = [];
  const action = new Float32Array(1);
  let steps = 0;
  for (let k = 0; k < cfg.episodes; k++) {
    const world = new RetailEnv(env);
    let state = world.reset(new Rng(cfg.seed, k, STREAM_RL_TRAIN_DEMAND));
    let ret = 0;
    let profit = 0;
    while (!world.done) {
      const s = retailStateVector(env, state);
      action[0] = agent.explore(s, rng);
      const set = feasibleSet(state.lastPrice, g);
      countBinds(binds, set);
      const o = world.step(actionToPrice(action[0], set));
      const r = retailReward(cfg.reward, env, o);
      state = world.state;
      buffer.add(s, action, r, retailStateVector(env, state), world.done);
      ret += r;
      profit += o.profit;
      steps++;
      if (buffer.size >= cfg.settings.batchSize) agent.update(buffer, rng);
    }
    returns.push(ret);
    onEpisode?.({ episode: k, return: ret, profit, steps, updates: agent.updates });
  }
  const st = cfg.settings;
  const envConfig = JSON.parse(JSON.stringify(env)) as Record<string, unknown>;
  const file: AgentFile = {
    format: AGENT_FORMAT,
    algo: st.algo,
    actor: { sizes: [S, ...st.hidden, 1], output: 'tanh', params: encodeParams(agent.actor.params()) },
    state: { features: [...RETAIL_STATE_FEATURES] },
    guardrails: { ...cfg.guardrails },
    env: { hash: configHash(envConfig), config: envConfig },
    training: {
      seed: cfg.seed,
      episodes: cfg.episodes,
      steps,
      updates: agent.updates,
      reward: cfg.reward,
      gamma: st.gamma,
      tau: st.tau,
      actorLr: st.actorLr,
      criticLr: st.criticLr,
      batchSize: st.batchSize,
      bufferSize: st.bufferSize,
      explorationNoise: st.explorationNoise,
      policyNoise: st.policyNoise,
      noiseClip: st.noiseClip,
      policyDelay: st.policyDelay,
      twinCritics: st.twinCritics,
      criticSizes: agent.criticSizes,
      episodeReturns: returns,
    },
  };
  return { agent: file, binds };
}
