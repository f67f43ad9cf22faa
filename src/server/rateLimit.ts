/**
 * Per-client-IP rate limiting (@fastify/rate-limit) of every route that does not opt out
 * (`config: { rateLimit: false }`: the operations routes). The write and admin routes count in a
 * bucket of their own (WRITE_ROUTES, the same size): a client or proxy busy with quotes must not
 * lock an operator out of activating a model. Past the limit: 429 RATE_LIMITED with
 * `retry_after`. Register before the routes: the plugin hooks into the routes registered after it.
 */
import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { RepricerError } from '../core/errors.js';

export interface RateLimitOptions {
  max: number;
  timeWindow?: number | string;
}

/** Default 100 000 requests per minute. */
export function registerRateLimit(app: FastifyInstance, opts: RateLimitOptions | undefined): void {
  const rl = opts ?? { max: 100_000, timeWindow: '1 minute' };
  app.register(rateLimit, {
    global: true,
    max: rl.max,
    timeWindow: rl.timeWindow ?? '1 minute',
    errorResponseBuilder: (_req, c) => new RepricerError('RATE_LIMITED', `too many requests: at most ${c.max} per window; retry in ${c.after}`, { retry_after: c.after }),
  });
}

/** Route config of the write and admin routes: their own counter per client (groupId). */
export const WRITE_ROUTES = { rateLimit: { groupId: 'write' } } as const;
