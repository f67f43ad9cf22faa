/**
 * GET /v1/products/:id/prices: the audit trail of published prices for one product, newest
 * first, each with the model version and reasons it was published under (from the SQLite store).
 * A product never quoted has an empty history (200, `prices: []`).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.js';
import { productParamsSchema, historyQuerySchema, historyResponseSchema, errors } from '../schemas.js';

export const productRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.get<{ Params: { id: string }; Querystring: { limit: number; before?: number } }>(
    '/v1/products/:id/prices',
    {
      schema: {
        summary: 'Price history of a product',
        description: 'Every published price (quote and batch-quote responses) with model version, status and reasons; page with `before` = the smallest id seen.',
        tags: ['products'],
        params: productParamsSchema,
        querystring: historyQuerySchema,
        response: { 200: historyResponseSchema, ...errors(400, 429) },
      },
    },
    async (req) => ({
      product_id: req.params.id,
      prices: await ctx.store.priceHistory(req.params.id, req.query.limit, req.query.before),
    }),
  );
};
