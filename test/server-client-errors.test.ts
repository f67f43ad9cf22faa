/**
 * Errors that Node's HTTP parser raises before Fastify sees a request (oversized headers, a bad
 * or contradictory Content-Length, a body cut short) are answered in the catalogue's shape, over
 * a raw socket against a real listening server; so is a body whose length does not match its
 * Content-Length when Fastify itself notices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/server/app.js';
import { ERROR_CATALOG } from '../src/core/errors.js';

let app: FastifyInstance;
let port: number;
beforeAll(async () => {
  app = buildApp({ auth: false, docs: false, defaultMetrics: false, pool: false, dbFile: ':memory:' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await app.close();
});

/** Send raw bytes, half-close, and read everything the server answers until it closes. */
function raw(text: string): Promise<{ status: number; headers: string; body: unknown }> {
  return new Promise((res, rej) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString()));
    s.on('error', rej);
    s.on('close', () => {
      const [head, body] = [out.slice(0, out.indexOf('\r\n\r\n')), out.slice(out.indexOf('\r\n\r\n') + 4)];
      res({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0), headers: head, body: body ? (JSON.parse(body) as unknown) : undefined });
    });
    s.end(text);
  });
}

function expectCatalogue(r: { status: number; headers: string; body: unknown }, code: keyof typeof ERROR_CATALOG): void {
  expect(r.status).toBe(ERROR_CATALOG[code].status);
  expect(r.headers).toMatch(/content-type: application\/json/i);
  const e = (r.body as { error: { code: string; message: string } }).error;
  expect(e.code).toBe(code);
  expect(typeof e.message).toBe('string');
  expect(Object.keys(r.body as object)).toEqual(['error']);
}

const post = (headers: string, body: string) => `POST /v1/quote HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${headers}\r\n${body}`;

describe('HTTP parser errors answer in the catalogue shape', () => {
  it('header fields too large: 431 HEADERS_TOO_LARGE', async () => {
    const r = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expectCatalogue(r, 'HEADERS_TOO_LARGE');
    expect(r.status).toBe(431);
  });

  it('a Content-Length that is not a number, or given twice with different values: 400 INVALID_BODY', async () => {
    const bad = await raw(post('Content-Length: abc\r\n', '{}'));
    expectCatalogue(bad, 'INVALID_BODY');
    expect((bad.body as { error: { message: string } }).error.message).toContain('Content-Length');
    expectCatalogue(await raw(post('Content-Length: 2\r\nContent-Length: 3\r\n', '{}')), 'INVALID_BODY');
    expectCatalogue(await raw(post('Content-Length: 1\r\nTransfer-Encoding: chunked\r\n', '2\r\n{}\r\n0\r\n\r\n')), 'INVALID_BODY');
  });

  it('a body shorter than its Content-Length (the client stops sending): 400 INVALID_BODY', async () => {
    expectCatalogue(await raw(post('Content-Length: 50\r\n', '{}')), 'INVALID_BODY');
  });

  it('bytes that are not HTTP: 400 INVALID_ARGUMENT', async () => {
    expectCatalogue(await raw('NOT HTTP AT ALL\r\n\r\n'), 'INVALID_ARGUMENT');
  });

  it('the server keeps serving afterwards', async () => {
    const r = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(r.status).toBe(200);
  });

  it('a body whose length Fastify finds different from Content-Length: 400 INVALID_BODY naming the header', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/quote', headers: { 'content-type': 'application/json', 'content-length': '5' }, payload: '{"a":1}' });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({ error: { code: 'INVALID_BODY', message: 'body: its length does not match the Content-Length header ("5")' } });
  });
});
