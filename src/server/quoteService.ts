/**
 * Quote items (features by name) -> the engine's columnar chunk -> priceChunk (on the main
 * thread, or on the worker pool for large bodies) -> price records (docs/formats.md "Price
 * records"). The numbers are exactly those of `priceChunk` on the same rows, i.e. those of the
 * batch job.
 *
 * Rows whose x . theta or cost overflow are published `rejected` / `out_of_domain` by the engine
 * itself (the batch job does the same).
 */
import type { WasmCore } from '../core/wasm.js';
import { priceChunk, type CatalogChunk, type OutputColumns, type PriceColumns } from '../pricing/engine.js';
import type { Policy } from '../pricing/policy.js';
import type { AgentSpec } from '../pricing/agentStep.js';
import { agentInCore } from '../pricing/quoteTask.js';
import { pinnedViews } from '../pricing/pinnedModel.js';
import { buildChunk, type QuoteItem } from '../pricing/quoteItems.js';
import type { SharedModel } from '../pricing/sharedModel.js';
import { markHeldSegments } from '../pricing/catalogColumns.js';
import type { ActiveModel } from './modelRegistry.js';
import type { AuditBatch } from './auditRows.js';

/** Runs a quote task (pricing/quoteTask.ts) on the pool; rejects when the pool cannot. */
export type PoolRunner = (model: SharedModel, policy: Policy, chunk: CatalogChunk, columns?: OutputColumns, agent?: AgentSpec) => Promise<PriceColumns>;

/**
 * With a pool, bodies of at least `poolThreshold` rows go to it, and `onPoolFallback` is told
 * when a pool run failed and the chunk was priced on the main thread instead (the server logs
 * and counts it): a pool without one is a type error, so no fallback goes unreported.
 */
export type PriceOptions = {
  core: WasmCore;
  policy: Policy;
  /** `serve --agent`: the agent prices instead of the model's optimum (docs/rl.md) */
  agent?: AgentSpec;
  poolThreshold: number;
  /** the segments the segment breaker holds (server/breakers.ts): their rows are held */
  heldSegments?: () => ReadonlySet<string>;
} & ({ pool?: undefined; onPoolFallback?: undefined } | { pool: PoolRunner; onPoolFallback: (err: unknown) => void });

/**
 * Price a chunk with the given model: on the pool for large bodies, else (or if the pool fails) on
 * the main thread. Rows the numeric core cannot price come back rejected from the engine itself.
 */
export async function priceItems(model: ActiveModel, chunk: CatalogChunk, o: PriceOptions, columns?: OutputColumns): Promise<PriceColumns> {
  const cm = pinnedViews(model, o.core);
  if (o.heldSegments) markHeldSegments(chunk.segment, o.heldSegments());
  if (o.pool && chunk.n >= o.poolThreshold) {
    try {
      return await o.pool(model.shared(), o.policy, chunk, columns, o.agent);
    } catch (err) {
      // the main thread gives the same numbers; the failure is logged and counted, not hidden
      o.onPoolFallback(err);
    }
  }
  return priceChunk(o.core, cm, o.policy, chunk, undefined, columns, o.agent ? agentInCore(o.core, o.agent) : undefined);
}


/** The audit batch of a priced chunk (rejected rows, whose price is NaN, are skipped by the writer). */
export function auditBatch(ids: string[], p: PriceColumns, modelVersion: string, source: string): AuditBatch {
  return {
    ids,
    price: p.price,
    previousPrice: p.previousPrice,
    changePct: p.changePct,
    winProbability: p.winProbability,
    expectedProfit: p.expectedProfit,
    priceStdError: p.priceStdError,
    status: p.status,
    reasons: p.reasons,
    modelVersion,
    source,
    at: new Date().toISOString(),
  };
}

/** One priced row of a coalesced chunk. */
export interface BatchedQuote {
  p: PriceColumns;
  i: number;
}

/**
 * Coalesces concurrent single quotes: every POST /v1/quote whose body was read in the same turn
 * of the event loop is priced in one priceChunk call per model version (flushed by setImmediate,
 * so no request waits for a later turn). A call's fixed cost (wrapper checks, some 30 small typed
 * arrays, 6 kernel calls) is then paid once per turn instead of once per request; the numbers are
 * the same because the engine prices each row independently (test/server.test.ts compares single
 * quotes with the engine on whole chunks). `onPriced` sees each priced chunk once (metrics, audit).
 */
export class QuoteBatcher {
  private queue: { model: ActiveModel; item: QuoteItem; resolve: (q: BatchedQuote) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    private readonly opts: PriceOptions,
    private readonly onPriced: (model: ActiveModel, chunk: CatalogChunk, p: PriceColumns) => void,
  ) {}

  /** Price one item with `model` (FEATURES_MISMATCH is thrown here, before queueing). */
  quote(model: ActiveModel, item: QuoteItem): Promise<BatchedQuote> {
    const F = model.compiled.features;
    for (let j = 0; j < F.length; j++) {
      if (typeof (Object.hasOwn(item.features, F[j]) ? item.features[F[j]] : undefined) !== 'number') {
        buildChunk(model.compiled, [item], () => ''); // throws, naming every missing feature
      }
    }
    return new Promise<BatchedQuote>((resolve, reject) => {
      this.queue.push({ model, item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    const groups = new Map<ActiveModel, typeof q>();
    for (const e of q) {
      const g = groups.get(e.model);
      if (g) g.push(e);
      else groups.set(e.model, [e]);
    }
    for (const [model, g] of groups) {
      try {
        const chunk = buildChunk(model.compiled, g.map((e) => e.item), () => '');
        const p = await priceItems(model, chunk, this.opts);
        this.onPriced(model, chunk, p);
        g.forEach((e, i) => e.resolve({ p, i }));
      } catch (err) {
        for (const e of g) e.reject(err);
      }
    }
  }
}

