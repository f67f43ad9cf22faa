/**
 * An agent file as the pricing engine's agent step (pricing/agentStep.ts; docs/rl.md, "Pricing
 * with an agent"): the actor's sizes and parameters (in shared memory, so a batch job's workers
 * receive them without a copy per task), and the state's normalisers from the environment the
 * agent was trained on. Refuses, naming the file and the field, an agent whose state is not the
 * one the catalogue columns provide or whose environment lacks a normaliser.
 */
import { RepricerError } from '../core/errors.js';
import { AGENT_STATE_FEATURES, type AgentSpec } from '../pricing/agentStep.js';
import { loadAgent, type LoadedAgent } from './agentFile.js';

function invalid(file: string, message: string): RepricerError {
  return new RepricerError('INPUT_UNREADABLE', `${file}: invalid agent file: ${message}`, { file });
}

export function agentSpec(loaded: LoadedAgent, file: string): AgentSpec {
  const a = loaded.agent;
  const want = AGENT_STATE_FEATURES.join(', ');
  if (a.state.features.join(', ') !== want) throw invalid(file, `state.features: expected [${want}] (the state the catalogue's current_price, inventory and days_left give), got [${a.state.features.join(', ')}]`);
  const cfg = a.env.config;
  const positive = (k: string): number => {
    const v = cfg[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) throw invalid(file, `env.config.${k}: expected a finite number > 0 (it scales the agent's state), got ${JSON.stringify(v)}`);
    return v;
  };
  const shared = new Float32Array(new SharedArrayBuffer(4 * loaded.actorParams.length));
  shared.set(loaded.actorParams);
  return {
    id: `${file} ${a.actor.params.length}:${a.actor.params.slice(0, 32)}:${a.env.hash}`,
    sizes: [...a.actor.sizes],
    params: shared,
    p0: positive('p0'),
    initialStock: positive('initial_stock'),
    days: positive('days'),
    maxStepPct: a.guardrails.maxStepPct,
  };
}

/** Load and check an agent file for pricing (`reprice --agent`, `serve --agent`). */
export function loadPricingAgent(file: string): AgentSpec {
  return agentSpec(loadAgent(file), file);
}
