/**
 * Operations: GET /healthz (liveness: the process answers), GET /readyz (readiness: 503 NO_MODEL
 * until a model is active), GET /metrics (Prometheus text format). None is rate limited or
 * authenticated.
 */
import type { FastifyPluginAsync } from 'fastify';
import { RepricerError } from '../../core/errors.js';
import type { RouteOptions } from '../context.js';
import { healthSchema, errors } from '../schemas.js';

const started = Date.now();

export const healthRoutes: FastifyPluginAsync<RouteOptions> = async (app, { ctx }) => {
  const noLimit = { rateLimit: false } as const;

  app.get('/healthz', { config: noLimit, schema: { summary: 'Liveness', tags: ['operations'], response: { 200: healthSchema } } }, async () => ({
    status: 'ok',
    model_version: ctx.registry.active?.version ?? null,
    uptime_s: (Date.now() - started) / 1000,
  }));

  app.get('/readyz', { config: noLimit, schema: { summary: 'Readiness: a model is serving', tags: ['operations'], response: { 200: healthSchema, ...errors(503) } } }, async () => {
    const m = ctx.registry.active;
    if (!m) throw new RepricerError('NO_MODEL', 'not ready: no model is active');
    return { status: 'ready', model_version: m.version };
  });

  app.get('/metrics', { config: noLimit, schema: { summary: 'Prometheus metrics', tags: ['operations'] } }, async (_req, reply) => {
    const text = await ctx.metrics.registry.metrics();
    reply.type(ctx.metrics.registry.contentType);
    return text;
  });
};
