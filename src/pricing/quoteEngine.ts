/**
 * The engine as a library object: a model compiled once and pinned in a WASM core, a policy, and
 * `quote(items)` returning docs/formats.md price records — the numbers `repricer reprice` and
 * `POST /v1/quotes` publish for the same rows (all three call priceChunk).
 */
import { defaultCore, type WasmCore } from '../core/wasm.js';
import { loadModel, validateModel, type Model } from '../model/format.js';
import { compileModel, type CompiledModel } from './compiledModel.js';
import { priceChunk, type CatalogChunk, type PriceColumns } from './engine.js';
import { pinModel, pinnedViews, type PinnedModel } from './pinnedModel.js';
import { validatePolicy, type Policy } from './policy.js';
import { buildChunk, quoteRecord, type QuoteItem, type QuoteRecord } from './quoteItems.js';

export interface EngineOptions {
  /** guardrails and breaker (validated as `reprice --policy` is); default none */
  policy?: Policy;
  /** the WASM core to price in; default this thread's shared core */
  core?: WasmCore;
}

export interface Engine {
  /** the compiled model (features in order, product index) */
  readonly model: CompiledModel;
  readonly policy: Policy;
  /** Price items (features by name); one price record per item, in order. */
  quote(items: QuoteItem[]): QuoteRecord[];
  /** Price a columnar chunk (features laid out in model order, intercept first). */
  priceColumns(chunk: CatalogChunk): PriceColumns;
}

/**
 * An engine over a model document or a model file (validated; MODEL_INVALID names the field).
 * The model's tables are pinned in the core's memory once, so every call is zero-copy.
 */
export function createEngine(model: Model | string, opts: EngineOptions = {}): Engine {
  const core = opts.core ?? defaultCore();
  const doc = typeof model === 'string' ? loadModel(model) : validateModel(JSON.parse(JSON.stringify(model)) as unknown);
  const policy = validatePolicy(opts.policy ?? {});
  const pinned: PinnedModel = pinModel(core, compileModel(doc), undefined, false);
  const cm = () => pinnedViews(pinned, core);
  return {
    get model() {
      return cm();
    },
    policy,
    quote(items) {
      const chunk = buildChunk(cm(), items, (i) => `items.${i}.`);
      const p = priceChunk(core, cm(), policy, chunk);
      return items.map((it, i) => quoteRecord(it.product_id, p, i));
    },
    priceColumns(chunk) {
      return priceChunk(core, cm(), policy, chunk);
    },
  };
}
