/**
 * The HTTP API through inject() and through a real socket: whole response bodies,
 * quotes equal to the batch engine's numbers, coded errors naming the field, auth, cold start,
 * observations, model versions, the fit job lifecycle, a model swap under load, metrics, docs.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../src/server/app.js';
import { Store } from '../src/server/store.js';
import { rng } from '../src/batch/demoData.js';
import type { Policy } from '../src/pricing/policy.js';
import { SPEC, model1, model2, makeItems, engineRecords, requireDist, allFinite, type Item } from './server-helpers.js';

const KEY = 'test-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };
const policy: Policy = { maxChangePct: 10, minMarginOverCost: 1.1, rounding: { step: 0.01 } };

/** model1 with two steep products, so that large but finite features overflow x . theta */
const steep = { ...model1, products: { ...model1.products, 'SKU-1': { theta: [20, 50, 50, 50], n: 9 }, 'SKU-2': { theta: [20, 50, 50, 50], n: 9 } } };

const apps: FastifyInstance[] = [];
function app(opts: AppOptions = {}): FastifyInstance {
  const a = buildApp({ model: model1, apiKey: KEY, defaultMetrics: false, ...opts });
  apps.push(a);
  return a;
}
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
});
beforeAll(() => requireDist());

const post = (a: FastifyInstance, url: string, payload: unknown, headers: Record<string, string> = {}) => a.inject({ method: 'POST', url, payload: payload as object, headers });
const json = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>;

describe('POST /v1/quote', () => {
  it('answers a known product with the whole docs/formats.md record, equal to the engine', async () => {
    const a = app();
    const item: Item = { product_id: 'SKU-3', features: { f1: 0.25, f2: -0.5, f3: 0.75 }, cost: 12, current_price: 21 };
    const res = await post(a, '/v1/quote', item);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const [ref] = engineRecords(model1, {}, [item]);
    const body = json(res);
    expect(body).toEqual({ ...ref, model_version: 'v1' });
    // and the shape, field by field, without the engine
    expect(Object.keys(body).sort()).toEqual(
      ['product_id', 'price', 'previous_price', 'change_pct', 'win_probability', 'expected_profit', 'delta', 'gamma', 'vega', 'price_std_error', 'status', 'reason', 'cold_start', 'model_version'].sort(),
    );
    expect(body).toMatchObject({ product_id: 'SKU-3', previous_price: 21, status: 'ok', reason: '', cold_start: false, model_version: 'v1' });
    expect(body.change_pct).toBe((100 * ((body.price as number) - 21)) / 21);
    expect(body.expected_profit).toBe(((body.price as number) - 12) * (body.win_probability as number));
    expect(body.gamma as number).toBeLessThan(0);
  });

  it('gives an unknown product the cold-start price (common theta) and flag', async () => {
    const a = app();
    const item: Item = { product_id: 'NEVER-SEEN', features: { f1: 0.1, f2: 0.2, f3: 0.3 }, cost: 10 };
    const res = await post(a, '/v1/quote', item);
    expect(res.statusCode).toBe(200);
    const body = json(res);
    expect(body).toEqual({ ...engineRecords(model1, {}, [item])[0], model_version: 'v1' });
    expect(body).toMatchObject({ status: 'cold_start', reason: 'cold_start', cold_start: true, previous_price: null, change_pct: null });
    // the common-theta model: same price as a model whose products map is empty
    const bare = { ...model1, products: {} };
    expect(body.price).toBe(engineRecords(bare, {}, [item])[0].price);
    // cold start is more uncertain than a fitted product
    const known = json(await post(a, '/v1/quote', { ...item, product_id: 'SKU-0' }));
    expect(body.price_std_error as number).toBeGreaterThan(known.price_std_error as number);
  });

  it('applies the server policy exactly as the engine does (clipped, rounded, margin floor)', async () => {
    const a = app({ policy });
    const items = makeItems(60, 9);
    const got = await Promise.all(items.map((it) => post(a, '/v1/quote', it).then(json)));
    const ref = engineRecords(model1, policy, items);
    got.forEach((g, i) => expect(g).toEqual({ ...ref[i], model_version: 'v1' }));
    expect(new Set(got.map((g) => g.status))).toContain('clipped');
  });

  it('400 INVALID_BODY names the field path and what was expected (whole error bodies)', async () => {
    const a = app();
    const cases: [unknown, string, { path: string; message: string }[]][] = [
      [{ product_id: 'P0', features: { f1: 'x' }, cost: 0.8 }, 'features.f1: must be number', [{ path: 'features.f1', message: 'must be number' }]],
      [{ features: { f1: 1 } }, 'product_id: is required', [{ path: 'product_id', message: 'is required' }]],
      [{ product_id: 'P', features: {}, cost: 'cheap' }, 'cost: must be number or null', [{ path: 'cost', message: 'must be number or null' }]],
      [{ product_id: 'P', features: {}, colour: 'red' }, 'colour: is not an allowed field', [{ path: 'colour', message: 'is not an allowed field' }]],
      [{ product_id: '', features: [] }, 'product_id: must NOT have fewer than 1 characters; features: must be object', [
        { path: 'product_id', message: 'must NOT have fewer than 1 characters' },
        { path: 'features', message: 'must be object' },
      ]],
      [[1, 2], 'body: must be object', [{ path: 'body', message: 'must be object' }]],
    ];
    for (const [payload, message, errors] of cases) {
      const res = await post(a, '/v1/quote', payload);
      expect(res.statusCode, message).toBe(400);
      expect(json(res)).toEqual({ error: { code: 'INVALID_BODY', message, details: { errors } } });
    }
    // a number JSON cannot hold as a finite double (1e999 parses to Infinity)
    const inf = await a.inject({ method: 'POST', url: '/v1/quote', payload: '{"product_id":"P","features":{"f1":1e999}}', headers: { 'content-type': 'application/json' } });
    expect(json(inf)).toEqual({ error: { code: 'INVALID_BODY', message: 'features.f1: must be number', details: { errors: [{ path: 'features.f1', message: 'must be number' }] } } });
    // not JSON at all
    const bad = await a.inject({ method: 'POST', url: '/v1/quote', payload: '{"product_id":', headers: { 'content-type': 'application/json' } });
    expect(bad.statusCode).toBe(400);
    expect(json(bad)).toEqual({ error: { code: 'INVALID_BODY', message: "body: Body is not valid JSON but content-type is set to 'application/json'" } });
  });

  it('422 FEATURES_MISMATCH names each missing feature; extra features are ignored', async () => {
    const a = app();
    const res = await post(a, '/v1/quote', { product_id: 'SKU-1', features: { f1: 1, zz: 3 } });
    expect(res.statusCode).toBe(422);
    expect(json(res)).toEqual({
      error: {
        code: 'FEATURES_MISMATCH',
        message: 'features.f2: is required by the model; features.f3: is required by the model (model features: f1, f2, f3)',
        details: { missing: ['features.f2', 'features.f3'], features: ['f1', 'f2', 'f3'] },
      },
    });
    const ok = await post(a, '/v1/quote', { product_id: 'SKU-1', features: { f1: 1, f2: 0, f3: 0, zz: 3 } });
    expect(json(ok)).toEqual({ ...engineRecords(model1, {}, [{ product_id: 'SKU-1', features: { f1: 1, f2: 0, f3: 0 } }])[0], model_version: 'v1' });
  });

  it('features so large the core cannot price them come back rejected (out_of_domain), never a 500', async () => {
    const a = app({ model: steep });
    // u = [1, x] . theta = 20 + 3 * 50 * 1e307 overflows to Infinity
    const item: Item = { product_id: 'SKU-1', features: { f1: 1e307, f2: 1e307, f3: 1e307 }, current_price: 20 };
    // the engine itself rejects the row (the batch job publishes the same record)
    expect(engineRecords(steep, {}, [item])[0]).toMatchObject({ price: null, status: 'rejected', reason: 'out_of_domain' });
    const res = await post(a, '/v1/quote', item);
    expect(res.statusCode).toBe(200);
    expect(json(res)).toEqual({
      product_id: 'SKU-1', price: null, previous_price: 20, change_pct: null, win_probability: null, expected_profit: null,
      delta: null, gamma: null, vega: null, price_std_error: null, status: 'rejected', reason: 'out_of_domain', cold_start: false, model_version: 'v1',
    });
  });

  it('413 PAYLOAD_TOO_LARGE above the quote body limit; 415 for a non-JSON content type', async () => {
    const a = app({ quoteBodyLimit: 1024 });
    const big = await post(a, '/v1/quote', { product_id: 'x'.repeat(2000), features: {} });
    expect(big.statusCode).toBe(413);
    expect(json(big)).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'the request body is larger than the limit of this route (1024 bytes)' } });
    const xml = await a.inject({ method: 'POST', url: '/v1/quote', payload: '<q/>', headers: { 'content-type': 'application/xml' } });
    expect(xml.statusCode).toBe(415);
    expect(json(xml)).toEqual({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported content type "application/xml": send application/json' } });
  });

  it('503 NO_MODEL before a model is active; /readyz follows', async () => {
    const a = app({ model: undefined });
    expect(json(await post(a, '/v1/quote', { product_id: 'a', features: {} }))).toEqual({
      error: { code: 'NO_MODEL', message: 'no model is active: start with --model or POST /v1/models/:version/activate' },
    });
    const r = await a.inject('/readyz');
    expect(r.statusCode).toBe(503);
    expect(json(r)).toEqual({ error: { code: 'NO_MODEL', message: 'not ready: no model is active' } });
    expect(json(await a.inject('/healthz'))).toMatchObject({ status: 'ok', model_version: null });
  });

  it('429 RATE_LIMITED past the configured limit', async () => {
    const a = app({ rateLimit: { max: 3, timeWindow: 60_000 } });
    const item = { product_id: 'SKU-1', features: { f1: 0, f2: 0, f3: 0 } };
    for (let i = 0; i < 3; i++) expect((await post(a, '/v1/quote', item)).statusCode).toBe(200);
    const r = await post(a, '/v1/quote', item);
    expect(r.statusCode).toBe(429);
    expect(json(r)).toEqual({ error: { code: 'RATE_LIMITED', message: 'too many requests: at most 3 per window; retry in 1 minute', details: { retry_after: '1 minute' } } });
    expect((await a.inject('/healthz')).statusCode).toBe(200); // operations routes are not limited
  });

  it('write and admin routes count in their own bucket: quote traffic from a client does not lock out its activate', async () => {
    const a = app({ rateLimit: { max: 3, timeWindow: 60_000 } });
    const auth = { authorization: `Bearer ${KEY}` };
    const item = { product_id: 'SKU-1', features: { f1: 0, f2: 0, f3: 0 } };
    for (let i = 0; i < 3; i++) expect((await post(a, '/v1/quote', item)).statusCode).toBe(200);
    expect((await post(a, '/v1/quote', item)).statusCode).toBe(429);
    // the same client registers and activates a model: its own counter, the same size
    const reg = await post(a, '/v1/models', model2, auth);
    expect(reg.statusCode).toBe(201);
    const v = (json(reg) as { version: string }).version;
    expect((await post(a, `/v1/models/${v}/activate`, {}, auth)).statusCode).toBe(200);
    // the write bucket has the same limit: a fourth registration in the window is refused
    for (let i = 0; i < 2; i++) expect((await post(a, '/v1/models', model2, auth)).statusCode).toBe(200); // the same content: the known version
    expect((await post(a, '/v1/models', model2, auth)).statusCode).toBe(429);
  });
});

describe('POST /v1/quotes', () => {
  it('equals the engine row for row, on the main thread (500) and on the pool (3 000), in input order', async () => {
    const a = app({ policy, pool: { threads: 2, threshold: 2000 } });
    for (const n of [500, 3000]) {
      const items = makeItems(n, n);
      const res = await post(a, '/v1/quotes', { items });
      expect(res.statusCode).toBe(200);
      const body = json(res) as { model_version: string; count: number; items: Record<string, unknown>[] };
      expect(body.model_version).toBe('v1');
      expect(body.count).toBe(n);
      expect(body.items).toEqual(engineRecords(model1, policy, items));
    }
    expect(a.repricer.poolStarted()).toBe(true);
  });

  it('the body is JSON.stringify of the records byte for byte, whether the WASM writer takes the ids or declines one that needs escaping', async () => {
    const a = app({ policy });
    for (const odd of [undefined, 'quote"d', 'back\\slash', 'tab\there']) {
      const items = makeItems(50, 9);
      if (odd) items[17] = { ...items[17], product_id: odd };
      items[3] = { ...items[3], product_id: 'ünï-😀' };
      const res = await post(a, '/v1/quotes', { items });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      const recs = engineRecords(model1, policy, items);
      expect(res.body).toBe(JSON.stringify({ model_version: 'v1', count: items.length, items: recs }));
    }
  });

  it('a row the core cannot price is rejected alone; the others keep their engine numbers', async () => {
    const a = app({ model: steep, pool: { threads: 1, threshold: 10 } });
    const items = makeItems(40, 3);
    items[7] = { product_id: 'SKU-2', features: { f1: 1e307, f2: 1e307, f3: 1e307 }, current_price: 19 };
    expect(engineRecords(steep, {}, items)[7]).toMatchObject({ price: null, status: 'rejected', reason: 'out_of_domain' });
    const body = json(await post(a, '/v1/quotes', { items })) as { items: Record<string, unknown>[] };
    const ref = engineRecords(steep, {}, items.filter((_, i) => i !== 7));
    expect(body.items.filter((_, i) => i !== 7)).toEqual(ref);
    expect(body.items[7]).toMatchObject({ product_id: 'SKU-2', price: null, previous_price: 19, status: 'rejected', reason: 'out_of_domain' });
  });

  it('400 names the item index; more than 10 000 items is refused', async () => {
    const a = app();
    const items: unknown[] = makeItems(3);
    items[1] = { product_id: 'x', features: { f1: true } };
    expect(json(await post(a, '/v1/quotes', { items }))).toEqual({
      error: { code: 'INVALID_BODY', message: 'items.1.features.f1: must be number', details: { errors: [{ path: 'items.1.features.f1', message: 'must be number' }] } },
    });
    const many = Array.from({ length: 10_001 }, () => ({ product_id: 'a', features: {} }));
    expect(json(await post(a, '/v1/quotes', { items: many }))).toMatchObject({ error: { code: 'INVALID_BODY', message: 'items: must NOT have more than 10000 items' } });
  });
});

describe('a pool run that fails', () => {
  const throwingTask = new URL('./fixtures/throwingTask.mjs', import.meta.url).pathname;
  /** the app's log records at warn and above */
  function logged(): { lines: Record<string, unknown>[]; logger: AppOptions['logger'] } {
    const lines: Record<string, unknown>[] = [];
    return { lines, logger: { level: 'warn', stream: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } } };
  }

  it('quotes: priced on the main thread with the same numbers, logged and counted in /metrics', async () => {
    const log = logged();
    const a = app({ policy, pool: { threads: 1, threshold: 10, workerFile: throwingTask }, logger: log.logger });
    const items = makeItems(40, 12);
    const res = await post(a, '/v1/quotes', { items });
    expect(res.statusCode).toBe(200);
    expect((json(res) as { items: unknown[] }).items).toEqual(engineRecords(model1, policy, items));
    expect(a.repricer.poolStarted()).toBe(true);
    expect((await a.inject('/metrics')).body).toContain('repricer_pool_fallbacks_total{task="quote"} 1');
    const warn = log.lines.filter((l) => l.msg === 'quote pool run failed; priced on the main thread instead');
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatchObject({ level: 40, err: { message: 'throwingTask fixture: this task module always throws' } });
  });

  it('fit jobs: failed JOB_FAILED with the message, logged and counted', async () => {
    const log = logged();
    const a = app({ pool: { threads: 1, fitTaskFile: throwingTask }, logger: log.logger });
    expect((await post(a, '/v1/observations', { observations: [{ product_id: 'SKU-1', features: { f1: 0, f2: 0, f3: 0 }, price: 20, won: false }] }, auth)).statusCode).toBe(201);
    const start = json(await post(a, '/v1/models/fit', { strategy: 'pooled', scale: 0.5 }, auth)) as { id: string };
    await a.repricer.jobs.idle();
    expect(json(await a.inject(`/v1/jobs/${start.id}`))).toMatchObject({
      status: 'failed',
      error: { code: 'JOB_FAILED', message: 'fit failed: throwingTask fixture: this task module always throws' },
    });
    expect((await a.inject('/metrics')).body).toContain('repricer_jobs_total{kind="fit",status="failed"} 1');
    expect(log.lines.filter((l) => l.msg === 'fit job failed')).toMatchObject([{ level: 50, job: start.id, err: { message: 'throwingTask fixture: this task module always throws' } }]);
  });
});

describe('auth on write routes', () => {
  const obs = { observations: [{ product_id: 'SKU-1', features: { f1: 0, f2: 0, f3: 0 }, price: 20, won: 0 }] };

  it('401 without a key, with a wrong key; 201 with the key; quotes need none', async () => {
    const a = app();
    const none = await post(a, '/v1/observations', obs);
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="repricer"');
    expect(json(none)).toEqual({ error: { code: 'UNAUTHORIZED', message: 'a bearer API key is required: Authorization: Bearer <key>' } });
    const wrong = await post(a, '/v1/observations', obs, { authorization: 'Bearer nope' });
    expect(json(wrong)).toEqual({ error: { code: 'UNAUTHORIZED', message: 'the bearer API key is not valid' } });
    for (const [m, url] of [['POST', '/v1/models'], ['POST', '/v1/models/v1/activate'], ['POST', '/v1/models/fit']] as const) {
      expect((await a.inject({ method: m, url, payload: {} })).statusCode, url).toBe(401);
    }
    expect((await post(a, '/v1/observations', obs, auth)).statusCode).toBe(201);
  });

  it('no key configured: writes locked unless auth is explicitly false', async () => {
    const locked = app({ apiKey: undefined });
    expect(json(await post(locked, '/v1/observations', obs))).toEqual({
      error: { code: 'UNAUTHORIZED', message: 'write routes are locked: no API key is configured (start with --api-key KEY or REPRICER_API_KEY, or --no-auth to open them)' },
    });
    const open = app({ apiKey: undefined, auth: false });
    expect((await post(open, '/v1/observations', obs)).statusCode).toBe(201);
  });
});

describe('observations and price history (SQLite store)', () => {
  it('appends all rows or none; a won row needs competitor_price', async () => {
    const a = app();
    const rows = [
      { product_id: 'SKU-1', features: { f1: 0.1, f2: 0.2, f3: 0.3 }, price: 20, won: 1, competitor_price: 21.5 },
      { product_id: 'SKU-2', features: { f1: 0.1, f2: 0.2, f3: 0.3 }, price: 22, won: false, weight: 2 },
    ];
    const r1 = await post(a, '/v1/observations', { observations: rows }, auth);
    expect(r1.statusCode).toBe(201);
    expect(json(r1)).toMatchObject({ accepted: 2, first_id: 1, last_id: 2, total: 2, replayed: false });
    const bad = await post(a, '/v1/observations', { observations: [rows[1], { ...rows[0], competitor_price: null }] }, auth);
    expect(json(bad)).toEqual({
      error: { code: 'INVALID_BODY', message: 'observations.1.competitor_price: is required when won is 1', details: { errors: [{ path: 'observations.1.competitor_price', message: 'is required when won is 1' }] } },
    });
    const bad2 = await post(a, '/v1/observations', { observations: [{ ...rows[0], won: 2 }] }, auth);
    expect(json(bad2)).toMatchObject({ error: { code: 'INVALID_BODY', message: 'observations.0.won: must be one of 0, 1, true, false' } });
    expect(a.repricer.store.countObservations()).toBe(2);
    const stored = [...a.repricer.store.observations()];
    expect(stored).toEqual([
      { id: 1, product_id: 'SKU-1', features: { f1: 0.1, f2: 0.2, f3: 0.3 }, price: 20, won: 1, competitor_price: 21.5, weight: 1 },
      { id: 2, product_id: 'SKU-2', features: { f1: 0.1, f2: 0.2, f3: 0.3 }, price: 22, won: 0, competitor_price: null, weight: 2 },
    ]);
  });

  it.each([
    ['a writer thread (database file)', {}, 'thread'],
    ['the main thread (in-memory database)', { dbFile: ':memory:' }, 'main'],
  ] as const)('records every published price with model version and reasons, newest first, paged: %s', async (_, extra, where) => {
    const a = app({ policy, ...extra });
    expect(a.repricer.store.auditWrites).toBe(where);
    const it1: Item = { product_id: 'SKU-5', features: { f1: 0.3, f2: 0.1, f3: -0.2 }, cost: 10, current_price: 30 };
    const q1 = json(await post(a, '/v1/quote', it1));
    const q2 = json(await post(a, '/v1/quotes', { items: [{ ...it1, current_price: 19 }, { ...it1, product_id: 'SKU-6' }] })) as { items: Record<string, unknown>[] };
    const h = await a.inject('/v1/products/SKU-5/prices');
    expect(h.statusCode).toBe(200);
    const hist = json(h) as { product_id: string; prices: Record<string, unknown>[] };
    expect(hist.product_id).toBe('SKU-5');
    expect(hist.prices.map((p) => [p.price, p.reason, p.model_version, p.source])).toEqual([
      [q2.items[0].price, q2.items[0].reason, 'v1', 'quotes'],
      [q1.price, q1.reason, 'v1', 'quote'],
    ]);
    expect(q1).toMatchObject({ price: 27, reason: 'max_step', status: 'clipped' }); // 30 - 10%
    expect(hist.prices[1]).toMatchObject({ previous_price: 30, status: 'clipped', win_probability: q1.win_probability, expected_profit: q1.expected_profit, price_std_error: q1.price_std_error });
    const page = json(await a.inject(`/v1/products/SKU-5/prices?limit=1&before=${String(hist.prices[0].id)}`)) as { prices: unknown[] };
    expect(page.prices).toEqual([hist.prices[1]]);
    expect(json(await a.inject('/v1/products/NOPE/prices'))).toEqual({ product_id: 'NOPE', prices: [] });
    expect(json(await a.inject('/v1/products/SKU-5/prices?limit=0'))).toEqual({
      error: { code: 'INVALID_ARGUMENT', message: 'querystring.limit: must be >= 1', details: { errors: [{ path: 'querystring.limit', message: 'must be >= 1' }] } },
    });
  });
});

describe('the audit writer thread dies', () => {
  it('is reported once (not on close), and the rows are written on the main thread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'repricer-audit-'));
    const deaths: string[] = [];
    const store = new Store(join(dir, 'db.sqlite'), { auditWorkerFile: new URL('./fixtures/dyingAuditWorker.mjs', import.meta.url).pathname, onAuditWriterDeath: (e) => void deaths.push(e.message) });
    try {
      for (let i = 0; i < 100 && store.auditWrites === 'thread'; i++) await new Promise((r) => setTimeout(r, 10));
      expect(store.auditWrites).toBe('main');
      expect(deaths).toEqual(['audit writer exited with code 3']);
      const n = (x: number) => new Float64Array([x]);
      store.recordPrices({
        ids: ['SKU-1'], price: n(20), previousPrice: n(19), changePct: n(5), winProbability: n(0.5), expectedProfit: n(4), priceStdError: n(0.1),
        status: new Uint8Array([0]), reasons: new Uint32Array([0]), modelVersion: 'v1', source: 'quote', at: '2026-01-01T00:00:00Z',
      });
      expect(await store.countPrices()).toBe(1);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(deaths).toHaveLength(1);
  });
});

describe('model versions', () => {
  it('registers, lists, shows, activates; identical content is the same version; invalid is 422', async () => {
    const a = app();
    const up = await post(a, '/v1/models', model2, auth);
    expect(up.statusCode).toBe(201);
    expect(json(up)).toMatchObject({ version: 'v2', seq: 2, source: 'upload', active: false, features: ['f1', 'f2', 'f3'], products: SPEC.products });
    const again = await post(a, '/v1/models', model2, auth);
    expect(again.statusCode).toBe(200);
    expect(json(again)).toMatchObject({ version: 'v2' });
    const list = json(await a.inject('/v1/models')) as { active: string; models: { version: string; active: boolean }[] };
    expect(list.active).toBe('v1');
    expect(list.models.map((m) => [m.version, m.active])).toEqual([['v1', true], ['v2', false]]);
    const doc = json(await a.inject('/v1/models/v2'));
    expect(doc.model).toEqual(model2);
    expect(json(await a.inject('/v1/models/v9'))).toEqual({ error: { code: 'NOT_FOUND', message: 'no model version "v9"', details: { version: 'v9' } } });

    const act = await post(a, '/v1/models/v2/activate', undefined, auth);
    expect(json(act)).toEqual({ active: 'v2', previous: 'v1' });
    const item = makeItems(1, 77)[0];
    expect(json(await post(a, '/v1/quote', item))).toEqual({ ...engineRecords(model2, {}, [item])[0], model_version: 'v2' });
    expect((await a.inject('/metrics')).body).toContain('repricer_model_version{version="v2"} 2');

    const broken = { ...model2, common: { theta: [1, 2], n: 3 } };
    const r = await post(a, '/v1/models', broken, auth);
    expect(r.statusCode).toBe(422);
    expect(json(r)).toEqual({ error: { code: 'MODEL_INVALID', message: 'invalid model: common.theta: expected 4 coefficients (intercept true, 3 features), got 2' } });
    expect(json(await post(a, '/v1/models/v7/activate', undefined, auth))).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});

describe('fit job', () => {
  /** Observations from a known pooled model: u = [1, x] . theta, y ~ N(u, 0.5), won when p <= y. */
  function simulate(n: number, seed: number) {
    const r = rng(seed);
    const theta = [20, 1.5, -1, 0.5];
    const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    return Array.from({ length: n }, (_, i) => {
      const f = [r() * 2 - 1, r() * 2 - 1, r() * 2 - 1];
      const u = theta[0] + theta[1] * f[0] + theta[2] * f[1] + theta[3] * f[2];
      const y = u + 0.5 * normal();
      const p = u + (r() - 0.5) * 2;
      const won = p <= y ? 1 : 0;
      return { product_id: `SKU-${i % 4}`, features: { f1: f[0], f2: f[1], f3: f[2] }, price: p, won, ...(won ? { competitor_price: y } : {}) };
    });
  }

  async function waitJob(a: FastifyInstance, id: string): Promise<Record<string, unknown>> {
    for (;;) {
      const j = json(await a.inject(`/v1/jobs/${id}`));
      if (j.status === 'succeeded' || j.status === 'failed') return j;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('409 with no observations; then queued -> succeeded with a new active version that serves quotes', async () => {
    const a = app({ pool: { threads: 1 } });
    expect(json(await post(a, '/v1/models/fit', {}, auth))).toEqual({ error: { code: 'CONFLICT', message: 'no observations stored: POST /v1/observations first' } });
    expect((await post(a, '/v1/observations', { observations: simulate(2000, 4) }, auth)).statusCode).toBe(201);
    const start = await post(a, '/v1/models/fit', { strategy: 'pooled', scale: 0.5, activate: true, created_at: '2026-03-01T00:00:00Z' }, auth);
    expect(start.statusCode).toBe(202);
    const job = json(start);
    expect(start.headers.location).toBe(`/v1/jobs/${String(job.id)}`);
    expect(job).toMatchObject({ kind: 'fit', status: 'queued', stage: 'queued', progress: 0, started_at: null, finished_at: null });
    const done = await waitJob(a, job.id as string);
    expect(done).toMatchObject({ status: 'succeeded', stage: 'done', progress: 1, result: { model_version: 'v2', rows: 2000, products: 4, activated: true, converged: true } });
    const doc = json(await a.inject('/v1/models/v2')) as { source: string; job_id: string; active: boolean; model: { common: { theta: number[] }; noise: { scale: number }; createdAt: string } };
    expect(doc).toMatchObject({ source: 'fit', job_id: job.id, active: true });
    expect(doc.model.createdAt).toBe('2026-03-01T00:00:00Z');
    // known answer: the pooled MLE of 2000 rows lands near the truth
    const want = [20, 1.5, -1, 0.5];
    doc.model.common.theta.forEach((t, i) => expect(Math.abs(t - want[i]), `theta[${i}]`).toBeLessThan(0.25));
    const q = json(await post(a, '/v1/quote', { product_id: 'SKU-1', features: { f1: 0, f2: 0, f3: 0 } }));
    expect(q.model_version).toBe('v2');
    expect((await a.inject('/metrics')).body).toContain('repricer_jobs_total{kind="fit",status="succeeded"} 1');
  });

  it('fits strategy bayes: the model carries the empirical-Bayes prior and serves quotes', async () => {
    const a = app({ pool: { threads: 1 } });
    await post(a, '/v1/observations', { observations: simulate(2000, 4) }, auth);
    const start = json(await post(a, '/v1/models/fit', { strategy: 'bayes', scale: 0.5, activate: true }, auth));
    expect(await waitJob(a, start.id as string)).toMatchObject({ status: 'succeeded', result: { model_version: 'v2', rows: 2000, products: 4, activated: true } });
    const doc = json(await a.inject('/v1/models/v2')) as { model: { strategy: string; common: { theta: number[] }; prior: { theta: number[]; cov: number[] }; fit: { prior: { method: string; products: number } } } };
    expect(doc.model.strategy).toBe('bayes');
    expect(doc.model.prior.theta).toEqual(doc.model.common.theta);
    expect(doc.model.prior.cov).toHaveLength(16);
    expect(doc.model.fit.prior).toMatchObject({ method: 'moments', products: 4 });
    expect(json(await post(a, '/v1/quote', { product_id: 'SKU-1', features: { f1: 0, f2: 0, f3: 0 } })).model_version).toBe('v2');
  });

  it('fits from an in-memory database too (rows read on the main thread)', async () => {
    const a = app({ pool: { threads: 1 }, dbFile: ':memory:' });
    await post(a, '/v1/observations', { observations: simulate(300, 6) }, auth);
    const start = json(await post(a, '/v1/models/fit', undefined, auth)); // empty POST: all defaults
    expect(await waitJob(a, start.id as string)).toMatchObject({ status: 'succeeded', result: { model_version: 'v2', rows: 300, products: 4, activated: false } });
    expect(json(await a.inject('/v1/models')).active).toBe('v1');
  });

  it('fails with a coded error when a stored row lacks a feature the fit needs', async () => {
    const a = app({ pool: { threads: 1 } });
    await post(a, '/v1/observations', { observations: simulate(50, 5) }, auth);
    const start = json(await post(a, '/v1/models/fit', { features: ['f1', 'f9'], scale: 0.5 }, auth));
    const done = await waitJob(a, start.id as string);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'INPUT_ROW_INVALID', message: 'observation 1: features.f9: is required by the fit (features: f1, f9)' } });
    expect(json(await a.inject('/v1/models')).active).toBe('v1');
    expect(json(await a.inject('/v1/jobs/nope'))).toEqual({ error: { code: 'NOT_FOUND', message: 'no job "nope"', details: { id: 'nope' } } });
  });
});

describe('metrics and docs', () => {
  it('counts quotes by status, breaker trips, request latency, model version', async () => {
    const a = app({ policy: { breaker: { maxStdErrorPct: 0.001 } } });
    const it1: Item = { product_id: 'SKU-1', features: { f1: 0, f2: 0, f3: 0 }, cost: 10, current_price: 20 };
    const held = json(await post(a, '/v1/quote', it1));
    expect(held).toMatchObject({ status: 'held', reason: 'breaker_std_error', price: 20 });
    await post(a, '/v1/quotes', { items: [{ ...it1, current_price: null }, { ...it1, product_id: 'NEW', current_price: null }] });
    const m = await a.inject('/metrics');
    expect(m.statusCode).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain/);
    expect(m.body).toContain('repricer_quotes_served_total{route="quote",status="held"} 1');
    expect(m.body).toContain('repricer_quotes_served_total{route="quotes",status="ok"} 1');
    expect(m.body).toContain('repricer_quotes_served_total{route="quotes",status="cold_start"} 1');
    expect(m.body).toContain('repricer_breaker_trips_total{reason="breaker_std_error"} 1');
    expect(m.body).toContain('repricer_model_version{version="v1"} 1');
    expect(m.body).toMatch(/repricer_http_request_duration_seconds_count\{method="POST",route="\/v1\/quote",status_code="200"\} 1/);
  });

  it('publishes the OpenAPI document with every route and the UI', async () => {
    const a = app();
    const doc = json(await a.inject('/docs/json')) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      ['/healthz', '/readyz', '/metrics', '/v1/quote', '/v1/quotes', '/v1/observations', '/v1/observations/bulk', '/v1/observations/batches', '/v1/observations/batches/{id}', '/v1/models', '/v1/models/{version}', '/v1/models/{version}/activate', '/v1/models/fit', '/v1/jobs/{id}', '/v1/products/{id}/prices', '/v1/breakers', '/v1/breakers/{segment}/reset'].sort(),
    );
    expect(Object.keys(doc.paths['/v1/quote'])).toEqual(['post']);
    // the upload's body is a file of either media type, published as such
    const upload = doc.paths['/v1/observations/bulk'].post as { requestBody: { content: Record<string, { schema: { type: string; format: string } }> } };
    expect(Object.keys(upload.requestBody.content)).toEqual(['text/csv', 'application/vnd.apache.parquet']);
    expect(upload.requestBody.content['text/csv'].schema).toMatchObject({ type: 'string', format: 'binary' });
    const ui = await a.inject('/docs');
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
  });
});

describe('real socket', () => {
  it('serves the same bodies over TCP as through inject()', async () => {
    const a = app();
    const base = await a.listen({ port: 0, host: '127.0.0.1' });
    const item = makeItems(1, 21)[0];
    const r = await fetch(`${base}/v1/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(item) });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ...engineRecords(model1, {}, [item])[0], model_version: 'v1' });
    const bad = await fetch(`${base}/v1/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ product_id: 'P0', features: { f1: 'x' } }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { code: 'INVALID_BODY', message: 'features.f1: must be number', details: { errors: [{ path: 'features.f1', message: 'must be number' }] } } });
    const unauth = await fetch(`${base}/v1/models/v1/activate`, { method: 'POST' });
    expect(unauth.status).toBe(401);
  });

  it.each([
    ['single quotes batched per event-loop turn', true],
    ['each single quote priced alone', false],
  ] as const)('swaps the model under load without failing or mixing a request (quote and pooled quotes): %s', async (_, batchQuotes) => {
    const a = app({ pool: { threads: 2, threshold: 1000 }, batchQuotes });
    const base = await a.listen({ port: 0, host: '127.0.0.1' });
    expect((await post(a, '/v1/models', model2, auth)).statusCode).toBe(201);
    const single = makeItems(8, 31);
    const bulk = makeItems(1500, 32);
    // a single quote is compared with priceChunk on that row alone
    const expectSingle = { v1: single.map((it) => engineRecords(model1, {}, [it])[0]), v2: single.map((it) => engineRecords(model2, {}, [it])[0]) };
    const expectBulk = { v1: engineRecords(model1, {}, bulk), v2: engineRecords(model2, {}, bulk) };

    let stop = false;
    const swaps: string[] = [];
    const swapper = (async () => {
      let v = 'v2';
      while (!stop) {
        const r = await fetch(`${base}/v1/models/${v}/activate`, { method: 'POST', headers: auth });
        expect(r.status).toBe(200);
        swaps.push(v);
        v = v === 'v2' ? 'v1' : 'v2';
        await new Promise((res) => setTimeout(res, 5));
      }
    })();

    const failures: string[] = [];
    const seen = { v1: 0, v2: 0 };
    const total = 1500;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const k = next++;
        if (k % 100 === 99) {
          const r = await fetch(`${base}/v1/quotes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: bulk }) });
          if (r.status !== 200) { failures.push(`quotes ${k}: ${r.status}`); continue; }
          const b = (await r.json()) as { model_version: 'v1' | 'v2'; items: unknown[] };
          seen[b.model_version]++;
          expect(b.items).toEqual(expectBulk[b.model_version]);
        } else {
          const i = k % single.length;
          const r = await fetch(`${base}/v1/quote`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(single[i]) });
          if (r.status !== 200) { failures.push(`quote ${k}: ${r.status}`); continue; }
          const b = (await r.json()) as Record<string, unknown> & { model_version: 'v1' | 'v2' };
          seen[b.model_version]++;
          const { model_version, ...rec } = b;
          if (!isDeepStrictEqual(rec, expectSingle[model_version][i])) failures.push(`quote ${k}: numbers do not match ${model_version}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    stop = true;
    await swapper;
    expect(failures).toEqual([]);
    expect(swaps.length).toBeGreaterThan(5);
    expect(seen.v1).toBeGreaterThan(0);
    expect(seen.v2).toBeGreaterThan(0);
    expect(allFinite(seen)).toBe(true);
  });
});
