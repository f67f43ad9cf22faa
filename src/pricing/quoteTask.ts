/**
 * Pool task module: price a columnar chunk (a body of quotes too large for the event loop) with
 * a shared model, in this thread's WASM core (created once). The price columns come back
 * transferred, not cloned.
 */
import { WasmCore } from '../core/wasm.js';
import { transferResult } from '../pool/taskPool.js';
import { presentExplainKeys, priceChunk, type CatalogChunk, type OutputColumns, type PriceColumns } from './engine.js';
import type { Policy } from './policy.js';
import { PricingAgent, type AgentSpec } from './agentStep.js';
import { modelInCore, type SharedModel } from './sharedModel.js';

export interface QuoteTask {
  model: SharedModel;
  policy: Policy;
  chunk: CatalogChunk;
  columns?: OutputColumns;
  /** price with this agent instead of the model's optimum (pricing/agentStep.ts) */
  agent?: AgentSpec;
}

let core: WasmCore | undefined;
const agents = new WeakMap<WasmCore, Map<string, PricingAgent>>();

/** A core's network for an agent, built once per core and agent id (call before any arena scope). */
export function agentInCore(c: WasmCore, spec: AgentSpec): PricingAgent {
  let m = agents.get(c);
  if (!m) agents.set(c, (m = new Map()));
  let a = m.get(spec.id);
  if (!a) m.set(spec.id, (a = new PricingAgent(c, spec)));
  return a;
}

export function priceQuoteTask(t: QuoteTask): PriceColumns {
  core ??= WasmCore.create({ variant: 'simd' });
  const cm = modelInCore(core, t.model);
  const agent = t.agent ? agentInCore(core, t.agent) : undefined;
  return priceChunk(core, cm, t.policy, t.chunk, undefined, t.columns, agent);
}

function priceBuffers(p: PriceColumns): ArrayBufferLike[] {
  const optional = [...(p.blendWeight ? [p.blendWeight] : []), ...(p.explain ? presentExplainKeys(p.explain).map((k) => p.explain![k]!) : [])];
  return [p.price, p.previousPrice, p.changePct, p.winProbability, p.expectedProfit, p.delta, p.gamma, p.vega, p.priceStdError, p.modelPrice, p.status, p.reasons, ...optional].map((a) => a.buffer);
}

export default function quoteTask(t: QuoteTask): unknown {
  const p = priceQuoteTask(t);
  return transferResult(p, priceBuffers(p));
}
