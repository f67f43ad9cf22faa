/**
 * POST /v1/observations: append win/loss feedback (docs/formats.md "Observations") to the store, all
 * rows or none. A won row must carry competitor_price (the price we learnt); on a lost row it is
 * censored and, if given, ignored by the fit.
 */
import type { FastifyPluginAsync } from 'fastify';
import { RepricerError } from '../../core/errors.js';
import type { RouteOptions } from '../context.js';
import type { ObservationInput } from '../store.js';
import { observationsBodySchema, observationsResponseSchema, errors } from '../schemas.js';
import { WRITE_ROUTES } from '../rateLimit.js';

export const observationRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  app.post<{ Body: { observations: ObservationInput[] } }>(
    '/v1/observations',
    {
      bodyLimit: ctx.limits.bulkBodyLimit,
      onRequest: ctx.requireKey,
      config: WRITE_ROUTES,
      schema: {
        summary: 'Append win/loss observations',
        tags: ['observations'],
        security: [{ bearerAuth: [] }],
        body: observationsBodySchema,
        response: { 201: observationsResponseSchema, ...errors(400, 401, 413, 415, 429) },
      },
    },
    async (req, reply) => {
      const rows = req.body.observations;
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
      const { first, last } = ctx.store.appendObservations(rows);
      reply.code(201);
      return { accepted: rows.length, first_id: first, last_id: last, total: ctx.store.countObservations() };
    },
  );
};
