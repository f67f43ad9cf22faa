/**
 * The OpenAPI document (@fastify/swagger, built from the routes' schemas) and its UI at /docs.
 * Register before the routes: swagger collects the routes registered after it.
 */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

/** the API's version, as published in the OpenAPI document */
export const VERSION = '0.1.0';

export function registerDocs(app: FastifyInstance): void {
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'repricer API', version: VERSION, description: 'Optimal quotes, Greeks and model management over the repricer engine (docs/formats.md fields).' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    // shared schemas appear under their $id (components.schemas['repricer.error'])
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  app.register(swaggerUi, { routePrefix: '/docs' });
}
