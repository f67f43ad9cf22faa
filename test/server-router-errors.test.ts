/**
 * Errors the router raises before any route runs are answered in the catalogue's shape, and a
 * product id is addressable in a path up to the same length the quote bodies accept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/server/app.js';
import { LIMITS } from '../src/server/schemas.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = buildApp({ auth: false, docs: false, defaultMetrics: false, pool: false, dbFile: ':memory:' });
  await app.ready();
});
afterAll(async () => {
  await app.close();
});

describe('router errors', () => {
  it('a URL whose percent-escape does not decode: 400 INVALID_ARGUMENT, not FST_ERR_BAD_URL', async () => {
    const r = await app.inject({ method: 'GET', url: '/v1/products/%ZZ/prices' });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({ error: { code: 'INVALID_ARGUMENT', message: 'the URL is not valid: a percent-escape does not decode' } });
  });

  it('ids up to the quote routes\' limit are addressable; longer ones are refused naming the limit', async () => {
    const ok = await app.inject({ method: 'GET', url: `/v1/products/${'a'.repeat(LIMITS.maxIdLength)}/prices` });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ product_id: 'a'.repeat(LIMITS.maxIdLength), prices: [] });
    // a multi-byte id at the limit, percent-encoded (3 bytes a character), still reaches the route
    const wide = await app.inject({ method: 'GET', url: `/v1/products/${encodeURIComponent('é'.repeat(LIMITS.maxIdLength / 2))}/prices` });
    expect(wide.statusCode).toBe(200);
    const long = await app.inject({ method: 'GET', url: `/v1/products/${'a'.repeat(LIMITS.maxIdLength + 1)}/prices` });
    expect(long.statusCode).toBe(400);
    expect(long.json().error).toMatchObject({ code: 'INVALID_ARGUMENT', message: `params.id: must NOT have more than ${LIMITS.maxIdLength} characters` });
    const huge = await app.inject({ method: 'GET', url: `/v1/products/${'a'.repeat(4 * LIMITS.maxIdLength)}/prices` });
    expect(huge.statusCode).toBe(400);
    expect(huge.json()).toEqual({ error: { code: 'INVALID_ARGUMENT', message: `a path parameter is longer than ${3 * LIMITS.maxIdLength} characters` } });
  });
});
