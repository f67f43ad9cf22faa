/**
 * `buildApp(opts)`: the Fastify instance of the programmatic API, without `listen` (the CLI's
 * `serve` listens; tests use `inject()` or listen on an ephemeral port). A thin layer: routes
 * validate and shape JSON, `src/pricing` computes (directly, or through the worker pool for large
 * bodies), `store.ts` keeps observations, the price audit trail and model versions in SQLite.
 *
 * Auth rule for write routes (POST /v1/observations, /v1/observations/bulk, /v1/models, /v1/models/:version/activate,
 * /v1/models/fit): a bearer API key is required when `apiKey` is set; with `auth: false` they are
 * open; with neither they are locked (401 telling how to configure a key). Quote and read
 * routes need no key.
 *
 * Errors: every error response is `{error: {code, message, details?}}` with a code of
 * src/core/errors.ts; a body that fails its schema is 400 INVALID_BODY naming each field path
 * ("features.f1: must be number").
 *
 * Each concern has its file: state.ts (store, registry, metrics), workers.ts (the pool),
 * auth.ts, validation.ts, errorHandler.ts, httpMetrics.ts, docs.ts, rateLimit.ts, routes/.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { WasmCore } from '../core/wasm.js';
import type { Model } from '../model/format.js';
import type { Policy } from '../pricing/policy.js';
import type { AgentSpec } from '../pricing/agentStep.js';
import { agentInCore } from '../pricing/quoteTask.js';
import type { AuditRetention } from './auditRetention.js';
import { Jobs } from './jobs.js';
import type { ServerContext } from './context.js';
import { openState } from './state.js';
import { serverWorkers, type PoolOptions } from './workers.js';
import { bearerKeyHook } from './auth.js';
import { installValidation } from './validation.js';
import { clientErrors, frameworkErrors, installErrorHandlers } from './errorHandler.js';
import { LIMITS } from './schemas.js';
import { addRequestMetrics } from './httpMetrics.js';
import { registerDocs } from './docs.js';
import { registerRateLimit, type RateLimitOptions } from './rateLimit.js';
import { registerRoutes } from './routes/index.js';
import { SegmentBreakers } from './breakers.js';
import type { BreakerState } from '../pricing/segmentState.js';
import { installTiered, type TieredOptions } from './tiered.js';

import { MarketService, type MarketServiceOptions } from './marketService.js';
import { marketRoutes } from './routes/market.js';
import { triggerJson } from './marketWatcherStream.js';
import type { WatcherTrigger } from '../market/watcher.js';

export { VERSION } from './docs.js';
export { describeValidation } from './errorHandler.js';

/** Default body limit of an observation file upload: 1 GiB. */
export const DEFAULT_UPLOAD_LIMIT = 1024 * 1024 * 1024;

export interface AppOptions {
  /** model file registered (as a version) and activated at start */
  modelPath?: string;
  /** or a model document (tests, embedding) */
  model?: Model;
  /**
   * model file activated at start when neither `model` nor `modelPath` is given and the database
   * has no active version (`repricer serve` passes the demo model, demo/model.json, if it exists)
   */
  fallbackModelPath?: string;
  /** SQLite file; default a temporary file removed on close (nothing persists); ':memory:' keeps all on the main thread */
  dbFile?: string;
  /** where model versions are stored; default `<dbFile>.models/`, or a temporary directory for an in-memory db */
  modelsDir?: string;
  /** bearer API key of the write routes */
  apiKey?: string;
  /** false: write routes open without a key (explicit opt-out) */
  auth?: boolean;
  /** guardrails (validated like `reprice --policy`) */
  policy?: Policy;
  /** `serve --agent`: quotes are priced by this agent (docs/rl.md, "Pricing with an agent") */
  agent?: AgentSpec;
  /** the segment breaker's state to import at start (a batch run's `reprice --state` file): replaces the stored one */
  breakerState?: BreakerState;
  /** per client IP; false disables. Default 100 000 requests per minute. */
  rateLimit?: false | RateLimitOptions;
  /** body limit of POST /v1/quote, default 64 KiB */
  quoteBodyLimit?: number;
  /** body limit of the bulk routes (quotes, observations, model upload), default 16 MiB */
  bodyLimit?: number;
  /**
   * body limit of an observation file upload (POST /v1/observations/bulk), default 1 GiB: the
   * body is streamed to a temporary file, so this bounds disk and the columns read from it
   * (8 bytes a feature a row), not a JSON parse
   */
  uploadBodyLimit?: number;
  /**
   * worker pool for large bodies and fit jobs; false: everything on the main thread (fit jobs
   * fail). `workerFile` and `fitTaskFile` override the task modules (pricing/quoteTask.js,
   * server/fitJobTask.js under dist/src).
   */
  pool?: false | PoolOptions;
  /**
   * price the single quotes that arrive in the same event-loop turn in one engine call (default
   * true). Exact only while the engine prices each row independently of its chunk (the batch
   * job's invariant too); false prices every request on its own.
   */
  batchQuotes?: boolean;
  /** start the pool threads and their WASM cores when the app is ready (serve does) */
  warmPool?: boolean;
  /** keep an audit record of every published price (default true) */
  audit?: boolean;
  /**
   * retention of the audit trail: rows older than `maxAgeMs` and beyond the newest `maxRows` are
   * deleted every `intervalMs` (default 60 s) in steps of `batchRows` (default 2 000), by the
   * audit writer thread. Default: kept forever.
   */
  auditRetention?: AuditRetention;
  /** a marketplace to serve (`serve --market`): the /v1/market routes exist only with it */
  market?: MarketServiceOptions;
  /** fastify logger option (default off) */
  logger?: FastifyServerOptions['logger'];
  /** serve /docs (default true) */
  docs?: boolean;
  /** prom-client default process metrics (default true) */
  defaultMetrics?: boolean;
  core?: WasmCore;
  /**
   * `serve --redis`: GET /v1/products/:id/quote from the tiers, and one serving model across the
   * replicas on this Redis (tiered.ts, docs/scale-out.md "Tiered quotes"); absent: neither
   */
  redis?: TieredOptions;
}

export function buildApp(opts: AppOptions = {}): FastifyInstance {
  const limits = { quoteBodyLimit: opts.quoteBodyLimit ?? 64 * 1024, bulkBodyLimit: opts.bodyLimit ?? 16 * 1024 * 1024, uploadBodyLimit: opts.uploadBodyLimit ?? DEFAULT_UPLOAD_LIMIT };
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: limits.bulkBodyLimit,
    // while closing, a request that still reaches a route (an active keep-alive connection, a
    // pipelined request) is answered normally with Connection: close, not refused
    return503OnClosing: false,
    // a product id of up to LIMITS.maxIdLength characters must be addressable in a path (percent-
    // encoded, up to 3 bytes per character); the route's schema then holds it to the same limit
    // as the quote bodies. Router errors answer in the catalogue's shape.
    routerOptions: { maxParamLength: 3 * LIMITS.maxIdLength },
    frameworkErrors: frameworkErrors(3 * LIMITS.maxIdLength),
    // the HTTP parser's errors (431 header overflow, bad Content-Length) in the catalogue's shape
    clientErrorHandler: clientErrors,
  });

  const { core, policy, store, registry, metrics, startModel, close } = openState(opts, app.log);
  // the agent's network is built in the main core now, while no arena scope is open
  if (opts.agent) agentInCore(core, opts.agent);
  const workers = serverWorkers(opts.pool, { log: app.log, metrics });
  const jobs = new Jobs(store, registry, metrics, () => workers.runFit, app.log);
  const breakers = new SegmentBreakers(store.db);
  if (opts.breakerState) breakers.replace(opts.breakerState);
  const ctx: ServerContext = {
    store,
    breakers,
    registry,
    metrics,
    jobs,
    core,
    policy,
    pricing: { core, policy, ...(opts.agent ? { agent: opts.agent } : {}), poolThreshold: workers.poolThreshold, heldSegments: () => breakers.heldSegments(), ...workers.quotePool },
    requireKey: bearerKeyHook(opts),
    audit: opts.audit ?? true,
    batchQuotes: opts.batchQuotes ?? true,
    limits,
    poolStarted: workers.started,
    startModel,
  };
  app.decorate('repricer', ctx);

  installValidation(app);
  installErrorHandlers(app, limits);
  addRequestMetrics(app, metrics);
  // order matters: swagger and rate-limit hook into the routes registered after them
  if (opts.docs !== false) registerDocs(app);
  if (opts.rateLimit !== false) registerRateLimit(app, opts.rateLimit);
  registerRoutes(app, ctx);
  if (opts.redis) installTiered(app, ctx, opts.redis);

  let market: MarketService | undefined;
  try {
    // a watcher trigger is one structured info line with its evidence (docs/math.md §2.8)
    const onWatcherTrigger = (t: WatcherTrigger, zone: string, zoneVersion: number) => app.log.info({ marketWatcher: { zone, zone_version: zoneVersion, trigger: triggerJson(t) } }, 'market watcher trigger: zone repriced');
    market = opts.market ? new MarketService({ onWatcherTrigger, ...opts.market }, metrics.registry, core.module) : undefined;
  } catch (err) {
    // a market file that is not valid: nothing may stay open behind the error
    void workers.destroy().then(() => close());
    throw err;
  }
  app.decorate('repricerMarket', market);
  if (market) app.register(marketRoutes, { ctx, market });

  if (opts.warmPool) app.addHook('onReady', () => workers.warmUp(registry.active, policy));
  // shutdown: fastify drains requests first; then the pool, the jobs, the database
  app.addHook('onClose', async () => {
    await workers.destroy();
    await jobs.idle();
    await close();
    market?.close();
  });
  return app;
}
