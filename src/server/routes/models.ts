/**
 * Model versions (fit jobs are in jobs.ts):
 *   GET  /v1/models                      versions and the active one
 *   GET  /v1/models/:version             one version with its model document
 *   POST /v1/models                      register a model document as a new version (not active)
 *   POST /v1/models/:version/activate    swap the serving model atomically (no request dropped)
 */
import type { FastifyPluginAsync } from 'fastify';
import { RepricerError } from '../../core/errors.js';
import type { RouteOptions } from '../context.js';
import { WRITE_ROUTES } from '../rateLimit.js';
import {
  modelsListSchema,
  modelDetailSchema,
  modelSummarySchema,
  modelUploadBodySchema,
  versionParamsSchema,
  activateResponseSchema,
  errors,
} from '../schemas.js';

export const modelRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { registry } = ctx;

  app.get('/v1/models', { schema: { summary: 'List model versions', tags: ['models'], response: { 200: modelsListSchema, ...errors(429) } } }, async () => ({
    active: registry.active?.version ?? null,
    models: registry.list(),
  }));

  app.get<{ Params: { version: string } }>(
    '/v1/models/:version',
    { schema: { summary: 'One model version and its document', tags: ['models'], params: versionParamsSchema, response: { 200: modelDetailSchema, ...errors(404, 429) } } },
    async (req) => {
      const s = registry.get(req.params.version);
      if (!s) throw new RepricerError('NOT_FOUND', `no model version ${JSON.stringify(req.params.version)}`, { version: req.params.version });
      return { ...s, model: registry.document(s.version) };
    },
  );

  app.post<{ Body: unknown }>(
    '/v1/models',
    {
      bodyLimit: ctx.limits.bulkBodyLimit,
      onRequest: ctx.requireKey,
      config: WRITE_ROUTES,
      schema: {
        summary: 'Register a model document as a new version',
        description: 'The document is validated in full (422 MODEL_INVALID names the field). Identical content returns the existing version (200); a new version is 201. Registering does not activate.',
        tags: ['models'],
        security: [{ bearerAuth: [] }],
        body: modelUploadBodySchema,
        response: { 200: modelSummarySchema, 201: modelSummarySchema, ...errors(400, 401, 413, 415, 422, 429) },
      },
    },
    async (req, reply) => {
      const before = registry.list().length;
      const s = registry.register(req.body as never, 'upload');
      reply.code(registry.list().length > before ? 201 : 200);
      return s;
    },
  );

  app.post<{ Params: { version: string } }>(
    '/v1/models/:version/activate',
    {
      onRequest: ctx.requireKey,
      config: WRITE_ROUTES,
      schema: {
        summary: 'Activate a model version',
        description: 'Loads and checks the version, then swaps the serving reference in one step: requests in flight finish on the model they started with, new requests get the new one.',
        tags: ['models'],
        security: [{ bearerAuth: [] }],
        params: versionParamsSchema,
        response: { 200: activateResponseSchema, ...errors(401, 404, 422, 429, 503) },
      },
    },
    async (req) => {
      const { active, previous } = registry.activate(req.params.version);
      // with --redis: answered once every replica has been told (tiered.ts)
      if (ctx.replicas) await ctx.replicas.announced(active);
      return { active: active.version, previous: previous?.version ?? null };
    },
  );
};
