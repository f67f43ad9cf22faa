/**
 * Observations (docs/formats.md "Observations"), appended and removed by batch:
 *   POST   /v1/observations                 append a batch, all rows or none (idempotent by key)
 *   GET    /v1/observations/batches         the batches stored, newest first
 *   DELETE /v1/observations/batches/:id     remove a batch's rows
 *
 * A won row must carry competitor_price (the price we learnt); on a lost row it is censored and,
 * if given, ignored by the fit. Rows are checked against the feature schema (observationFeatures.ts)
 * before they are stored. A batch's key (`Idempotency-Key` header or `batch_id` in the body)
 * makes a retry safe: the same key and rows answer 200 with the original acknowledgement and
 * `replayed: true`; the same key with other rows is 409 CONFLICT. All three routes are write
 * routes (API key, the write rate-limit bucket).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { RepricerError } from '../../core/errors.js';
import type { RouteOptions } from '../context.js';
import type { ObservationInput } from '../store.js';
import { checkObservationFeatures, featureSchema } from '../observationFeatures.js';
import {
  observationsBodySchema,
  observationsHeadersSchema,
  observationsResponseSchema,
  batchesQuerySchema,
  batchesResponseSchema,
  batchParamsSchema,
  batchDeleteResponseSchema,
  errors,
} from '../schemas.js';
import { WRITE_ROUTES } from '../rateLimit.js';

function competitorPrices(rows: ObservationInput[]): void {
  const bad: string[] = [];
  rows.forEach((r, i) => {
    const won = r.won === true || r.won === 1;
    if (won && (r.competitor_price === undefined || r.competitor_price === null)) bad.push(`observations.${i}.competitor_price: is required when won is 1`);
  });
  if (bad.length) {
    throw new RepricerError('INVALID_BODY', bad.slice(0, 10).join('; ') + (bad.length > 10 ? `; ... (${bad.length} in all)` : ''), {
      errors: bad.slice(0, 100).map((m) => ({ path: m.slice(0, m.indexOf(':')), message: m.slice(m.indexOf(':') + 2) })),
    });
  }
}

export const observationRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.post<{ Body: { observations: ObservationInput[]; batch_id?: string }; Headers: { 'idempotency-key'?: string } }>(
    '/v1/observations',
    {
      bodyLimit: ctx.limits.bulkBodyLimit,
      onRequest: ctx.requireKey,
      config: WRITE_ROUTES,
      schema: {
        summary: 'Append win/loss observations',
        description:
          'One batch, stored whole or not at all. Rows must carry every feature of the active model (with none active: of the stored observations); 422 FEATURES_MISMATCH names each row and field. With an idempotency key (Idempotency-Key header or batch_id) a retry of the same rows answers 200 with the original acknowledgement and replayed: true; other rows under a used key are 409.',
        tags: ['observations'],
        security: [{ bearerAuth: [] }],
        headers: observationsHeadersSchema,
        body: observationsBodySchema,
        response: { 200: observationsResponseSchema, 201: observationsResponseSchema, ...errors(400, 401, 409, 413, 415, 422, 429) },
      },
    },
    async (req, reply) => {
      const rows = req.body.observations;
      const header = req.headers['idempotency-key'];
      const key = req.body.batch_id;
      if (header !== undefined && key !== undefined && header !== key) {
        throw new RepricerError('INVALID_ARGUMENT', `the Idempotency-Key header (${JSON.stringify(header)}) and batch_id (${JSON.stringify(key)}) differ; give one, or the same key in both`);
      }
      competitorPrices(rows);
      const id = header ?? key ?? randomUUID();
      const sha = createHash('sha256').update(JSON.stringify(rows)).digest('hex');
      const { batch, replayed } = ctx.store.batches.append(id, sha, rows, () => checkObservationFeatures(rows, featureSchema(ctx.registry, ctx.store, () => Object.keys(rows[0].features), "this batch's first row")));
      reply.code(replayed ? 200 : 201);
      return {
        batch_id: batch.batch_id,
        accepted: batch.rows,
        first_id: batch.first_id,
        last_id: batch.last_id,
        received_at: batch.received_at,
        total: ctx.store.countObservations(),
        replayed,
      };
    },
  );

  app.get<{ Querystring: { limit: number; before?: number } }>(
    '/v1/observations/batches',
    {
      onRequest: ctx.requireKey,
      config: WRITE_ROUTES,
      schema: {
        summary: 'List observation batches',
        description: 'Every batch appended (and deleted), newest first, with its row count and id range; page with `before` = the smallest seq seen.',
        tags: ['observations'],
        security: [{ bearerAuth: [] }],
        querystring: batchesQuerySchema,
        response: { 200: batchesResponseSchema, ...errors(400, 401, 429) },
      },
    },
    async (req) => ({ batches: ctx.store.batches.batches(req.query.limit, req.query.before), total: ctx.store.countObservations() }),
  );
};

/** DELETE /v1/observations/batches/:id (a plugin of its own: listed last, see routes/index.ts). */
export const observationBatchDeleteRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.delete<{ Params: { id: string } }>(
    '/v1/observations/batches/:id',
    {
      onRequest: ctx.requireKey,
      config: WRITE_ROUTES,
      schema: {
        summary: 'Delete the observations of a batch',
        description: 'Removes the rows the batch added. The batch stays listed as deleted, and its key cannot be used again.',
        tags: ['observations'],
        security: [{ bearerAuth: [] }],
        params: batchParamsSchema,
        response: { 200: batchDeleteResponseSchema, ...errors(400, 401, 404, 429) },
      },
    },
    async (req) => {
      const { batch, deleted } = ctx.store.batches.delete(req.params.id);
      return { batch_id: batch.batch_id, deleted, deleted_at: batch.deleted_at, total: ctx.store.countObservations() };
    },
  );
};
