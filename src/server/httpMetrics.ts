/**
 * Request metrics hooks: requests in flight, and the latency of every request by method, route
 * template ('unmatched' for a 404 without a route) and status code.
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

export function addRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onRequest', (_req, _reply, done) => {
    metrics.inFlight.inc();
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    metrics.inFlight.dec();
    metrics.latency.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
}
