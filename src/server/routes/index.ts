/** Every route plugin, each handed the shared context as its options. */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { quoteRoutes } from './quotes.js';
import { observationRoutes } from './observations.js';
import { modelRoutes } from './models.js';
import { jobRoutes } from './jobs.js';
import { productRoutes } from './products.js';
import { healthRoutes } from './health.js';

export function registerRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const ro = { ctx };
  app.register(healthRoutes, ro);
  app.register(quoteRoutes, ro);
  app.register(observationRoutes, ro);
  app.register(modelRoutes, ro);
  app.register(jobRoutes, ro);
  app.register(productRoutes, ro);
}
