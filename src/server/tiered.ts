/**
 * `serve --redis`: the tiered quote route and the replicas' shared model (docs/scale-out.md
 * "Tiered quotes"). Installed by buildApp only when `redis` is given; without it the server has
 * no GET /v1/products/:id/quote and behaves exactly as before.
 *
 * Two connections per replica: one for commands (HGETALL, the active key, announcements) and one
 * subscribed to `repricer:events`. They are opened when the app becomes ready (listen, ready):
 * a Redis that does not answer then fails the start with REDIS_UNAVAILABLE.
 */
import { hostname } from 'node:os';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Redis } from 'ioredis';
import { RepricerError } from '../core/errors.js';
import { connectRedis } from '../records/redisClient.js';
import type { ServerContext } from './context.js';
import { auditBatch, QuoteBatcher } from './quoteService.js';
import { TieredQuotes, type TieredAnswer } from './quoteTiers.js';
import { ReplicaSync } from './replicaSync.js';
import { TierMetrics } from './tierMetrics.js';
import { errors, productParamsSchema, quoteResponseSchema } from './schemas.js';

export interface TieredOptions {
  /** redis://HOST:PORT/DB */
  url: string;
  /** a published price older than this is re-quoted (default 24 h) */
  maxAgeMs?: number;
  /** tier-1 (LRU) entries per replica (default 100 000) */
  cacheSize?: number;
  /** how often a replica checks the active model and the latest publication besides the messages (default 1 000 ms) */
  pollMs?: number;
}

export const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;
export const DEFAULT_CACHE_SIZE = 100_000;

const tieredResponseSchema = {
  type: 'object',
  required: [...quoteResponseSchema.required, 'model_sha256', 'tier', 'priced_at', 'run_id', 'requote'],
  properties: {
    ...quoteResponseSchema.properties,
    model_sha256: { type: 'string', description: 'content hash of the serving model (the identity replicas share)' },
    tier: { type: 'integer', enum: [1, 2, 3], description: "1: this replica's cache, 2: Redis, 3: a fresh quote of the stored features" },
    priced_at: { type: 'string', description: 'when the price was computed: the publication, or the re-quote' },
    run_id: { type: 'string', description: 'the publication (reprice --publish) the stored features come from' },
    requote: { type: ['string', 'null'], enum: ['stale', 'model', 'context', null], description: 'why the published price was re-quoted (null: it was not)' },
  },
} as const;

const contextQuerySchema = {
  type: 'object',
  description: 'context over the stored row: a model feature or a catalogue column (cost, current_price, min_price, max_price, ..., segment, season) by name',
  additionalProperties: { type: 'string' },
} as const;

/**
 * The response as one object literal of fixed shape: spreading the ~20-field record into a new
 * object gave an object the route's serializer wrote 10-50x slower (measured on the project
 * machine: 27-58 us against 0.5-5 us a response), most of a tier-1 hit's cost.
 */
function tieredBody(a: TieredAnswer): Record<string, unknown> {
  const r = a.record;
  const body: Record<string, unknown> = {
    product_id: r.product_id, price: r.price, previous_price: r.previous_price, change_pct: r.change_pct, win_probability: r.win_probability,
    expected_profit: r.expected_profit, delta: r.delta, gamma: r.gamma, vega: r.vega, price_std_error: r.price_std_error,
    status: r.status, reason: r.reason, cold_start: r.cold_start,
    model_version: a.model.version, model_sha256: a.model.sha256, tier: Number(a.tier), priced_at: a.pricedAt, run_id: a.runId, requote: a.requote,
  };
  // present only when the row had an expert price, as in POST /v1/quote (added, never deleted:
  // a delete would make the object slow again; the serializer writes fields in schema order)
  if (r.blend_weight !== undefined) body.blend_weight = r.blend_weight;
  return body;
}

/** Register the route and, on ready, connect and join the replicas. */
export function installTiered(app: FastifyInstance, ctx: ServerContext, o: TieredOptions): void {
  const metrics = new TierMetrics(ctx.metrics.registry);
  // tier 3 prices through its own batcher: concurrent re-quotes share one engine call, as POST /v1/quote's do
  const batcher = new QuoteBatcher(ctx.pricing, (model, chunk, p) => {
    ctx.metrics.countQuotes('tiered', p);
    if (ctx.audit) ctx.store.recordPrices(auditBatch(chunk.ids, p, model.version, 'tiered'));
  });
  let tiers: TieredQuotes | undefined;
  let sync: ReplicaSync | undefined;
  const clients: Redis[] = [];
  ctx.replicas = { announced: (m) => sync?.announced(m) ?? Promise.resolve() };

  const route: FastifyPluginAsync = async (plugin) => {
    plugin.get<{ Params: { id: string }; Querystring: Record<string, string> }>(
      '/v1/products/:id/quote',
      {
        schema: {
          summary: 'Quote one published SKU from the tiers',
          description: "serve --redis only. The price `reprice --publish` published for the SKU, from this replica's cache (tier 1) or Redis (tier 2); re-quoted from the stored features (tier 3, the numbers POST /v1/quote gives) when the published price is older than --quote-max-age, was priced under another model, or the query gives context (features or catalogue columns) that differs from the stored values. 503 REDIS_UNAVAILABLE when Redis is needed and down.",
          tags: ['quotes'],
          params: productParamsSchema,
          querystring: contextQuerySchema,
          response: { 200: tieredResponseSchema, ...errors(400, 404, 429, 500, 503) },
        },
      },
      async (req) => {
        if (!tiers) throw new RepricerError('REDIS_UNAVAILABLE', 'the tiered quotes are not connected to Redis yet');
        return tieredBody(await tiers.quote(req.params.id, req.query));
      },
    );
  };
  app.register(route);

  app.addHook('onReady', async () => {
    const redis = await connectRedis(o.url, { name: 'repricer-serve' });
    clients.push(redis);
    const sub = await connectRedis(o.url, { name: 'repricer-serve-events' });
    clients.push(sub);
    const t = new TieredQuotes({ redis, url: o.url, registry: ctx.registry, batcher, metrics, maxAgeMs: o.maxAgeMs ?? DEFAULT_MAX_AGE_MS, cacheSize: o.cacheSize ?? DEFAULT_CACHE_SIZE });
    const s = new ReplicaSync({ url: o.url, redis, sub, registry: ctx.registry, log: app.log, onPublished: () => t.invalidate(), pollMs: o.pollMs, origin: `${hostname()}:${process.pid}` });
    await s.start();
    tiers = t;
    sync = s;
  });
  app.addHook('onClose', async () => {
    sync?.close();
    for (const c of clients) c.disconnect();
  });
}
