/**
 * The segment breaker (server/breakers.ts):
 *   GET  /v1/breakers                    the tripped segments, why and since when
 *   PUT  /v1/breakers                    replace them with a batch run's state file (reprice --state)
 *   POST /v1/breakers/:segment/reset     resume one segment by hand
 */
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../context.js';
import { WRITE_ROUTES } from '../rateLimit.js';
import { errors } from '../schemas.js';
import { breakerStateSchema, validateState } from '../../pricing/segmentState.js';

const measure = {
  type: 'object',
  required: ['measure', 'sharePct', 'limitPct', 'threshold'],
  properties: { measure: { type: 'string' }, sharePct: { type: 'number' }, limitPct: { type: 'number' }, threshold: { type: 'number' } },
} as const;

const breaker = {
  type: 'object',
  required: ['segment', 'tripped_at', 'tripped_run', 'why', 'clean_runs', 'resume_after_runs', 'updated_at'],
  properties: {
    segment: { type: 'string' },
    tripped_at: { type: 'string', description: 'when the batch run that tripped it ran' },
    tripped_run: { type: 'string' },
    why: { type: 'array', items: measure, description: 'the measures over their limit: the share of rows moving (or beyond a Greek threshold) against the share allowed' },
    clean_runs: { type: 'integer', description: 'clean batch runs in a row so far' },
    resume_after_runs: { type: 'integer' },
    updated_at: { type: 'string' },
  },
} as const;

const listSchema = { type: 'object', required: ['segments'], properties: { segments: { type: 'array', items: breaker } } } as const;
const segmentParams = { type: 'object', required: ['segment'], properties: { segment: { type: 'string', minLength: 1, maxLength: 256 } } } as const;

export const breakerRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const b = ctx.breakers;

  app.get('/v1/breakers', {
    schema: {
      summary: 'Tripped segments',
      description: 'The segments the segment breaker holds: their quotes are published at the current price with reason segment_breaker. The server applies this state; batch runs measure it (docs/math.md §4.4).',
      tags: ['breakers'],
      response: { 200: listSchema, ...errors(429) },
    },
  }, async () => ({ segments: b.list() }));

  app.put<{ Body: unknown }>(
    '/v1/breakers',
    {
      onRequest: ctx.requireKey,
      config: WRITE_ROUTES,
      schema: {
        summary: "Replace the tripped segments with a batch run's state file",
        description: `The body is the state file of \`repricer reprice --state\` (${breakerStateSchema.properties.format.const}); every segment it lists is held from now on, every other resumes.`,
        tags: ['breakers'],
        security: [{ bearerAuth: [] }],
        response: { 200: listSchema, ...errors(400, 401, 413, 415, 429) },
      },
    },
    async (req) => {
      b.replace(validateState(req.body, 'body', 'INVALID_BODY'));
      return { segments: b.list() };
    },
  );

  app.post<{ Params: { segment: string } }>(
    '/v1/breakers/:segment/reset',
    {
      onRequest: ctx.requireKey,
      config: WRITE_ROUTES,
      schema: {
        summary: 'Resume a tripped segment',
        description: 'Its quotes are priced again at once. A batch state file still lists it until `repricer breaker reset` (or the next PUT).',
        tags: ['breakers'],
        security: [{ bearerAuth: [] }],
        params: segmentParams,
        response: { 200: breaker, ...errors(401, 404, 429) },
      },
    },
    async (req) => b.reset(req.params.segment),
  );
};
