/**
 * The marketplace routes, registered only when the app has a market (`serve --market`):
 *   POST /v1/market/events  (write key) event-log rows: online clearing steps (docs/math.md §2.9)
 *   GET  /v1/market/prices              the averaged zone-level prices, version, counts
 *   POST /v1/market/quote               an item's price inside its zone's bounds, via the cache tiers
 *   GET  /v1/market/watcher             the watcher of every segment: statistic, threshold, last trigger
 */
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.js';
import type { MarketEventRow, MarketQuoteRequest, MarketService } from '../marketService.js';
import { errors } from '../schemas.js';
import { marketEventsBodySchema, marketEventsResponseSchema, marketPricesResponseSchema, marketQuoteBodySchema, marketQuoteResponseSchema, marketWatcherResponseSchema } from '../marketSchemas.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** the served market (`serve --market`), for the CLI, benchmarks and tests */
    repricerMarket: MarketService | undefined;
  }
}

export interface MarketRouteOptions extends RouteOptions {
  market: MarketService;
}

export const marketRoutes: FastifyPluginAsync<MarketRouteOptions> = async (app, { ctx, market }) => {
  app.post<{ Body: { events: MarketEventRow[] } }>(
    '/v1/market/events',
    {
      onRequest: ctx.requireKey,
      bodyLimit: ctx.limits.bulkBodyLimit,
      schema: {
        summary: 'Feed market events to online clearing',
        description: 'Event-log rows (search, view, booking, listing) step the zone-level prices: a search is a consumer draw, a booking its purchase, a listing a supplier draw (docs/math.md §2.9). The body is checked whole first: a refused body changes nothing.',
        tags: ['market'],
        security: [{ bearerAuth: [] }],
        body: marketEventsBodySchema,
        response: { 200: marketEventsResponseSchema, ...errors(400, 401, 413, 415, 429) },
      },
    },
    async (req) => market.ingest(req.body.events),
  );

  app.get('/v1/market/prices', { schema: { summary: 'Zone-level prices', description: 'The averaged zone-level price of every (zone, asset), the published version quotes use, and the events seen.', tags: ['market'], response: { 200: marketPricesResponseSchema, ...errors(429) } } }, async () => market.prices());

  app.get(
    '/v1/market/watcher',
    {
      schema: {
        summary: "The watcher of every segment",
        description: "Per segment (zone/asset): the two CUSUM sides, the threshold, the periods seen and the last trigger with its evidence (docs/math.md §2.8). Events are counted into periods of market.watcher.periodMinutes by event time; a trigger reprices the segment's zone.",
        tags: ['market'],
        response: { 200: marketWatcherResponseSchema, ...errors(429) },
      },
    },
    async () => market.watcherReport(),
  );

  app.post<{ Body: MarketQuoteRequest }>(
    '/v1/market/quote',
    {
      bodyLimit: ctx.limits.quoteBodyLimit,
      schema: {
        summary: "Quote an item inside its zone's bounds",
        description: 'The item price for a time, answered from the hot item prices (tier 1), the segment template (tier 2) or the model (tier 3); `cache_tier` says which.',
        tags: ['market'],
        body: marketQuoteBodySchema,
        response: { 200: marketQuoteResponseSchema, ...errors(400, 413, 415, 429) },
      },
    },
    async (req) => market.quote(req.body),
  );
};
