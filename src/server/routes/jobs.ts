/**
 * Fit jobs:
 *   POST /v1/models/fit                  start a fit job on the pool from the stored observations
 *   GET  /v1/jobs/:id                    job status, progress and result
 */
import type { FastifyPluginAsync } from 'fastify';
import { RepricerError } from '../../core/errors.js';
import type { RouteOptions } from '../context.js';
import type { FitBody } from '../jobs.js';
import { fitBodySchema, jobSchema, jobParamsSchema, errors } from '../schemas.js';
import { WRITE_ROUTES } from '../rateLimit.js';

export const jobRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const { jobs } = ctx;

  app.post<{ Body: FitBody | undefined }>(
    '/v1/models/fit',
    {
      onRequest: ctx.requireKey,
      config: WRITE_ROUTES,
      // an empty POST (no body at all) means "all defaults"
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
      schema: {
        summary: 'Start a fit job from the stored observations',
        description: 'Returns 202 with the job; poll GET /v1/jobs/:id. With activate: true the fitted model is activated when the job succeeds.',
        tags: ['models'],
        security: [{ bearerAuth: [] }],
        body: fitBodySchema,
        response: { 202: jobSchema, ...errors(400, 401, 409, 415, 429) },
      },
    },
    async (req, reply) => {
      const job = jobs.startFit(req.body ?? {});
      reply.code(202).header('location', `/v1/jobs/${job.id}`);
      return job;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/jobs/:id',
    { schema: { summary: 'Job status', tags: ['models'], params: jobParamsSchema, response: { 200: jobSchema, ...errors(404, 429) } } },
    async (req) => {
      const job = jobs.get(req.params.id);
      if (!job) throw new RepricerError('NOT_FOUND', `no job ${JSON.stringify(req.params.id)}`, { id: req.params.id });
      return job;
    },
  );
};
