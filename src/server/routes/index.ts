/** Every route plugin, each handed the shared context as its options. */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { quoteRoutes } from './quotes.js';
import { observationRoutes, observationBatchDeleteRoutes } from './observations.js';
import { observationUploadRoutes } from './observationUpload.js';
import { modelRoutes } from './models.js';
import { jobRoutes } from './jobs.js';
import { productRoutes } from './products.js';
import { healthRoutes } from './health.js';
import { breakerRoutes } from './breakers.js';

/**
 * The order of registration is the order of the OpenAPI document and of the README's API table,
 * whose examples run top to bottom as a walk-through: quote, append observations (as JSON, then as a CSV file), fit (a new
 * version v2), inspect and activate it, read the price history, bring in a batch run's segment
 * breaker state and resume a segment, remove the batch again.
 */
export function registerRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const ro = { ctx };
  app.register(healthRoutes, ro);
  app.register(quoteRoutes, ro);
  app.register(observationRoutes, ro);
  app.register(observationUploadRoutes, ro);
  app.register(jobRoutes, ro);
  app.register(modelRoutes, ro);
  app.register(productRoutes, ro);
  app.register(breakerRoutes, ro);
  app.register(observationBatchDeleteRoutes, ro);
}
