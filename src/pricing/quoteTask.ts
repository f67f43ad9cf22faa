/**
 * Pool task module: price a columnar chunk (a body of quotes too large for the event loop) with
 * a shared model, in this thread's WASM core (created once). The price columns come back
 * transferred, not cloned.
 */
import { WasmCore } from '../core/wasm.js';
import { transferResult } from '../pool/taskPool.js';
import { EXPLAIN_KEYS, priceChunk, type CatalogChunk, type OutputColumns, type PriceColumns } from './engine.js';
import type { Policy } from './policy.js';
import { modelInCore, type SharedModel } from './sharedModel.js';

export interface QuoteTask {
  model: SharedModel;
  policy: Policy;
  chunk: CatalogChunk;
  columns?: OutputColumns;
}

let core: WasmCore | undefined;

export function priceQuoteTask(t: QuoteTask): PriceColumns {
  core ??= WasmCore.create({ variant: 'simd' });
  return priceChunk(core, modelInCore(core, t.model), t.policy, t.chunk, undefined, t.columns);
}

function priceBuffers(p: PriceColumns): ArrayBufferLike[] {
  const optional = [...(p.blendWeight ? [p.blendWeight] : []), ...(p.explain ? EXPLAIN_KEYS.map((k) => p.explain![k]) : [])];
  return [p.price, p.previousPrice, p.changePct, p.winProbability, p.expectedProfit, p.delta, p.gamma, p.vega, p.priceStdError, p.modelPrice, p.status, p.reasons, ...optional].map((a) => a.buffer);
}

export default function quoteTask(t: QuoteTask): unknown {
  const p = priceQuoteTask(t);
  return transferResult(p, priceBuffers(p));
}
