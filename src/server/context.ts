/**
 * What the route plugins share: passed to each plugin as its options (no global state), and
 * exposed on the app as `app.repricer` for the CLI, benchmarks and tests.
 */
import type { onRequestHookHandler } from 'fastify';
import type { WasmCore } from '../core/wasm.js';
import type { Policy } from '../pricing/policy.js';
import type { Store } from './store.js';
import type { ActiveModel, ModelRegistry } from './modelRegistry.js';
import type { Metrics } from './metrics.js';
import type { Jobs } from './jobs.js';
import type { StartModel } from './state.js';
import type { PriceOptions } from './quoteService.js';
import type { SegmentBreakers } from './breakers.js';

export interface ServerContext {
  store: Store;
  /** the segment breaker's tripped segments (quotes of theirs are held) */
  breakers: SegmentBreakers;
  registry: ModelRegistry;
  metrics: Metrics;
  jobs: Jobs;
  core: WasmCore;
  policy: Policy;
  pricing: PriceOptions;
  /** onRequest hook of the write routes: bearer API key (see app.ts for the rule) */
  requireKey: onRequestHookHandler;
  /** write an audit record for every published price */
  audit: boolean;
  /** coalesce concurrent single quotes into one engine call per event-loop turn */
  batchQuotes: boolean;
  /** body limits in bytes: POST /v1/quote; the JSON bulk routes; file uploads (POST /v1/observations/bulk) */
  limits: { quoteBodyLimit: number; bulkBodyLimit: number; uploadBodyLimit: number };
  /** true once a pool has been started (and must be closed) */
  poolStarted: () => boolean;
  /** how the serving model was chosen at start (serve reports it) */
  startModel: StartModel;
  /**
   * with --redis (tiered.ts): the replicas' shared model; the activate route awaits the
   * announcement of the version it activated (REDIS_UNAVAILABLE, and the activation undone, when it fails)
   */
  replicas?: { announced(m: ActiveModel): Promise<void> };
}

export interface RouteOptions {
  ctx: ServerContext;
}

declare module 'fastify' {
  interface FastifyInstance {
    repricer: ServerContext;
  }
  interface FastifyContextConfig {
    /** the media types of a route that takes bodies other than JSON, for its 415 message */
    mediaTypes?: readonly string[];
  }
}
