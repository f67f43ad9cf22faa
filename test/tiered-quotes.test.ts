// Tiered quotes across replicas, on a real redis-server, real `repricer reprice --publish`
// processes and two real servers listening on port 0: a published SKU is answered from Redis
// (tier 2), then from the replica's LRU (tier 1), with the numbers the engine gives the catalogue
// row (engineRecords, computed independently of the server and the publisher); a stale row, a row
// of another model and a request with context are re-quoted (tier 3) with exactly the numbers of
// POST /v1/quote; an activation on replica A is served by replica B within a second; a
// publication clears the replicas' caches; /metrics counts the tiers; Redis down is 503
// REDIS_UNAVAILABLE (tier 1 still answers) and an activation then is refused and undone.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { startRedis, skipRedis, redisSkipReason, type RedisServer } from './support/redisServer.js';
import { model1, model2, engineRecords, requireDist, type Item } from './server-helpers.js';
import { rng } from '../src/batch/demoData.js';
import { buildApp } from '../src/server/app.js';
import { serializeModel } from '../src/model/format.js';
import { skuKey, runKey, LATEST_RUN_KEY, ACTIVE_MODEL_KEY, modelKey, decodePublished, publishPriceChunk, modelSha256 } from '../src/records/redisPrices.js';
import { buildChunk } from '../src/pricing/quoteItems.js';
import { compileModel } from '../src/pricing/compiledModel.js';
import { priceChunk } from '../src/pricing/engine.js';
import { WasmCore } from '../src/core/wasm.js';
import { createHash } from 'node:crypto';

const MAIN = resolve('dist/src/cli/main.js');

/** 50 catalogue rows: the 40 known products and 10 new ones, with costs, current prices, some bounds. */
function catalogue(seed: number): Item[] {
  const r = rng(seed);
  const out: Item[] = [];
  for (let i = 0; i < 50; i++) {
    const features: Record<string, number> = {};
    for (let j = 1; j <= 3; j++) features[`f${j}`] = Math.round((r() * 2 - 1) * 1e4) / 1e4;
    const it: Item = { product_id: i < 40 ? `SKU-${i}` : `NEW-${i}`, features, cost: Math.round((8 + r() * 8) * 100) / 100 };
    if (r() < 0.7) it.current_price = Math.round((18 + r() * 6) * 100) / 100;
    if (i % 9 === 0) it.min_price = 21;
    out.push(it);
  }
  return out;
}

function writeCsv(file: string, items: Item[]): void {
  const cell = (v: number | null | undefined) => (typeof v === 'number' ? String(v) : '');
  const lines = ['product_id,f1,f2,f3,cost,current_price,min_price,max_price'];
  for (const it of items) lines.push([it.product_id, it.features.f1, it.features.f2, it.features.f3, cell(it.cost), cell(it.current_price), cell(it.min_price), cell(it.max_price)].join(','));
  writeFileSync(file, lines.join('\n') + '\n');
}

function reprice(dir: string, name: string, url: string, modelFile: string, items: Item[]): { stdout: string; out: string } {
  const cat = join(dir, `${name}.csv`);
  const out = join(dir, `${name}.prices.ndjson`);
  writeCsv(cat, items);
  const stdout = execFileSync(process.execPath, [MAIN, 'reprice', '--model', modelFile, '--catalog', cat, '--out', out, '--workers', '1', '--chunk-size', '16', '--publish', url], { encoding: 'utf8' });
  return { stdout, out };
}

const TIER_FIELDS = ['model_version', 'model_sha256', 'tier', 'priced_at', 'run_id', 'requote'];
const strip = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIER_FIELDS.includes(k)));

async function get(app: FastifyInstance, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const addr = app.server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${addr.port}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function post(app: FastifyInstance, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const addr = app.server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${addr.port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** One counter or gauge sample of /metrics. */
async function metric(app: FastifyInstance, name: string, labels: string): Promise<number> {
  const addr = app.server.address() as { port: number };
  const text = await (await fetch(`http://127.0.0.1:${addr.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  if (!line) throw new Error(`${name}{${labels}} not in /metrics`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe.skipIf(skipRedis)('tiered quotes across replicas (real redis-server, reprice --publish, two servers)', () => {
  let server: RedisServer;
  let redis: Redis;
  let dir: string;
  let modelFile: string;
  let items: Item[];
  let published: Map<string, Record<string, unknown>>;
  let a: FastifyInstance;
  let b: FastifyInstance;

  beforeAll(async () => {
    if (redisSkipReason) throw new Error(`CI=true and ${redisSkipReason}`);
    requireDist();
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
    redis.on('error', () => undefined);
    await redis.connect();
    dir = mkdtempSync(join(tmpdir(), 'repricer-tiered-'));
    modelFile = join(dir, 'model1.json');
    writeFileSync(modelFile, serializeModel(model1));
    items = catalogue(3);
    const r = reprice(dir, 'run1', server.url, modelFile, items);
    expect(r.stdout).toMatch(/published 50 prices to Redis as run \S+ \(model sha256 [0-9a-f]{12}\); rejected rows removed: 0/);
    published = new Map(readFileSync(r.out, 'utf8').trim().split('\n').map((l) => { const o = JSON.parse(l) as Record<string, unknown>; return [o.product_id as string, o]; }));
    const opts = { model: model1, auth: false, pool: false, defaultMetrics: false, audit: false, rateLimit: false } as const;
    a = buildApp({ ...opts, redis: { url: server.url, pollMs: 200 } });
    b = buildApp({ ...opts, redis: { url: server.url, pollMs: 200 } });
    await a.listen({ port: 0, host: '127.0.0.1' });
    await b.listen({ port: 0, host: '127.0.0.1' });
  }, 30_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    redis?.disconnect();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('publication: one hash per SKU with the price file\'s numbers, the features, run id and model hash; a run record', async () => {
    const runId = await redis.get(LATEST_RUN_KEY);
    expect(runId).toBeTruthy();
    const run = await redis.hgetall(runKey(runId!));
    expect(run).toMatchObject({ run_id: runId, model_sha256: modelSha256(model1), published: '50', removed: '0' });
    // the model's content hash is sha256 of the document as the registry stores it
    expect(run.model_sha256).toBe(createHash('sha256').update(serializeModel(model1)).digest('hex'));
    const ref = engineRecords(model1, {}, items);
    for (const [k, it] of items.entries()) {
      const pub = decodePublished(it.product_id, await redis.hgetall(skuKey(it.product_id)))!;
      expect(pub.runId).toBe(runId);
      expect(pub.item.features).toEqual(it.features);
      expect(pub.item.cost).toBe(it.cost);
      expect(pub.item.current_price).toBe(it.current_price);
      // the price file's record and the engine's, field for field
      const { cold_start: coldStart, ...rest } = pub.record;
      expect(JSON.parse(JSON.stringify(rest))).toEqual(published.get(it.product_id));
      expect(JSON.parse(JSON.stringify(pub.record))).toEqual(ref[k]);
      expect(coldStart).toBe(it.product_id.startsWith('NEW'));
    }
  });

  it('publish then quote: tier 2, then tier 1, the published numbers; both replicas serve the same model hash', async () => {
    const ref = engineRecords(model1, {}, items);
    const first = await get(a, '/v1/products/SKU-7/quote');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ tier: 2, requote: null, model_sha256: modelSha256(model1) });
    expect(strip(first.body)).toEqual(ref[7]);
    const again = await get(a, '/v1/products/SKU-7/quote');
    expect(again.body.tier).toBe(1);
    expect(strip(again.body)).toEqual(ref[7]);
    const onB = await get(b, '/v1/products/SKU-7/quote');
    expect(onB.body).toMatchObject({ tier: 2, model_sha256: modelSha256(model1) });
    expect(JSON.parse((await redis.get(ACTIVE_MODEL_KEY))!)).toMatchObject({ sha256: modelSha256(model1) });
    const none = await get(a, '/v1/products/NOPE/quote');
    expect(none.status).toBe(404);
    expect(none.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect((none.body.error as { message: string }).message).toContain('"NOPE" has no published price');
  });

  it('context that differs goes to tier 3 with exactly the numbers of POST /v1/quote; equal context does not', async () => {
    const it0 = items[3];
    const ctx = await get(a, `/v1/products/${it0.product_id}/quote?current_price=19.25&f2=0.5`);
    expect(ctx.status).toBe(200);
    expect(ctx.body).toMatchObject({ tier: 3, requote: 'context' });
    const direct = await post(a, '/v1/quote', { ...it0, current_price: 19.25, features: { ...it0.features, f2: 0.5 } });
    expect(direct.status).toBe(200);
    expect(strip(ctx.body)).toEqual(strip(direct.body));
    // and independently of the server
    expect(strip(ctx.body)).toEqual(engineRecords(model1, {}, [{ ...it0, current_price: 19.25, features: { ...it0.features, f2: 0.5 } }])[0]);
    const same = await get(a, `/v1/products/${it0.product_id}/quote?f1=${it0.features.f1}`);
    expect(same.body).toMatchObject({ tier: 1, requote: null });
    const bad = await get(a, `/v1/products/${it0.product_id}/quote?colour=red`);
    expect(bad.status).toBe(400);
    expect((bad.body.error as { message: string }).message).toContain('querystring.colour: not a feature of the serving model nor a catalogue column');
    const nan = await get(a, `/v1/products/${it0.product_id}/quote?cost=abc`);
    expect((nan.body.error as { message: string }).message).toBe('querystring.cost: must be a finite number, got "abc"');
  });

  it('a published price older than the max age is re-quoted (tier 3 = POST /v1/quote), then served from tier 1', async () => {
    // one row published two days ago, through the publisher itself
    const it0 = items[11];
    const core = WasmCore.create({ variant: 'simd' });
    const cm = compileModel(model1);
    const chunk = buildChunk(cm, [it0 as never], () => '');
    const p = priceChunk(core, cm, {}, chunk);
    const old = new Date(Date.now() - 2 * 86_400_000).toISOString();
    await publishPriceChunk(redis, chunk, p, cm, { runId: 'old-run', modelSha256: modelSha256(model1), publishedAt: old });
    const stale = await get(b, `/v1/products/${it0.product_id}/quote`);
    expect(stale.body).toMatchObject({ tier: 3, requote: 'stale', run_id: 'old-run' });
    expect(Date.parse(stale.body.priced_at as string)).toBeGreaterThan(Date.now() - 60_000);
    const direct = await post(b, '/v1/quote', it0);
    expect(strip(stale.body)).toEqual(strip(direct.body));
    const next = await get(b, `/v1/products/${it0.product_id}/quote`);
    expect(next.body).toMatchObject({ tier: 1, requote: 'stale', priced_at: stale.body.priced_at });
  });

  it('a publication clears the replicas\' tier 1: the new run is served within a second', async () => {
    const id = items[20].product_id;
    await get(b, `/v1/products/${id}/quote`);
    expect((await get(b, `/v1/products/${id}/quote`)).body.tier).toBe(1);
    const before = (await get(b, `/v1/products/${id}/quote`)).body.run_id;
    const moved = items.map((it) => ({ ...it, current_price: 20.5 }));
    reprice(dir, 'run2', server.url, modelFile, moved);
    const runId = await redis.get(LATEST_RUN_KEY);
    expect(runId).not.toBe(before);
    const t0 = Date.now();
    let body: Record<string, unknown> = {};
    while (Date.now() - t0 < 1000) {
      body = (await get(b, `/v1/products/${id}/quote`)).body;
      if (body.run_id === runId) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(body.run_id).toBe(runId);
    expect(strip(body)).toEqual(engineRecords(model1, {}, [moved[20]])[0]);
  });

  it('concurrent misses of one SKU share one HGETALL (counted by redis-server itself)', async () => {
    const calls = async () => Number(/cmdstat_hgetall:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
    const before = await calls();
    // injected together: all ten are in the route before redis-server answers the first read
    const answers = await Promise.all(Array.from({ length: 10 }, () => a.inject({ method: 'GET', url: '/v1/products/SKU-38/quote' })));
    expect(answers.map((x) => x.json<{ tier: number }>().tier)).toEqual(new Array(10).fill(2));
    expect(new Set(answers.map((x) => x.json<{ price: number }>().price)).size).toBe(1);
    expect((await calls()) - before).toBe(1);
  });

  it('activation on replica A: replica B serves the new version within a second; published rows of the old model are re-quoted', async () => {
    const reg = await post(a, '/v1/models', model2);
    expect(reg.status).toBe(201);
    const act = await post(a, `/v1/models/${reg.body.version as string}/activate`, {});
    expect(act.status).toBe(200);
    const t0 = performance.now();
    let sha = '';
    while (performance.now() - t0 < 1000) {
      sha = (await get(b, '/v1/products/SKU-5/quote')).body.model_sha256 as string;
      if (sha === modelSha256(model2)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const took = performance.now() - t0;
    expect(sha).toBe(modelSha256(model2));
    expect(took).toBeLessThan(1000);
    expect(await redis.get(modelKey(modelSha256(model2)))).toBe(serializeModel(model2));
    const q = await get(b, '/v1/products/SKU-6/quote');
    expect(q.body).toMatchObject({ tier: 3, requote: 'model', model_sha256: modelSha256(model2) });
    const it6 = JSON.parse(JSON.stringify(items[6])) as Item;
    const direct = await post(b, '/v1/quote', { ...it6, current_price: 20.5 });
    expect(strip(q.body)).toEqual(strip(direct.body));
    expect(strip(q.body)).toEqual(engineRecords(model2, {}, [{ ...it6, current_price: 20.5 }])[0]);
  });

  it('/metrics counts lookups and answers by tier, with hit ratios and latency histograms', async () => {
    const hits1 = await metric(a, 'repricer_quote_tier_lookups_total', 'tier="1",result="hit"');
    const miss1 = await metric(a, 'repricer_quote_tier_lookups_total', 'tier="1",result="miss"');
    const ans2 = await metric(a, 'repricer_quote_tier_answers_total', 'tier="2"');
    const ans3 = await metric(a, 'repricer_quote_tier_answers_total', 'tier="3"');
    const id = 'SKU-33';
    await get(a, `/v1/products/${id}/quote`); // tier 1 miss, tier 2 stale (other model) -> tier 3
    await get(a, `/v1/products/${id}/quote`); // tier 1 hit (its re-quote)
    await get(a, `/v1/products/${id}/quote`); // tier 1 hit
    expect(await metric(a, 'repricer_quote_tier_lookups_total', 'tier="1",result="hit"')).toBe(hits1 + 2);
    expect(await metric(a, 'repricer_quote_tier_lookups_total', 'tier="1",result="miss"')).toBe(miss1 + 1);
    expect(await metric(a, 'repricer_quote_tier_answers_total', 'tier="3"')).toBe(ans3 + 1);
    expect(await metric(a, 'repricer_quote_tier_answers_total', 'tier="2"')).toBe(ans2);
    const h1 = await metric(a, 'repricer_quote_tier_lookups_total', 'tier="1",result="hit"');
    const s1 = await metric(a, 'repricer_quote_tier_lookups_total', 'tier="1",result="stale"');
    const m1 = await metric(a, 'repricer_quote_tier_lookups_total', 'tier="1",result="miss"');
    expect(await metric(a, 'repricer_quote_tier_hit_ratio', 'tier="1"')).toBeCloseTo(h1 / (h1 + s1 + m1), 12);
    expect(await metric(a, 'repricer_quote_tier_duration_seconds_count', 'tier="1"')).toBe(await metric(a, 'repricer_quote_tier_answers_total', 'tier="1"'));
  });

  it('Redis down: 503 REDIS_UNAVAILABLE for what tier 1 does not hold, tier 1 still answers; an activation is refused and undone', async () => {
    await get(a, '/v1/products/SKU-1/quote');
    const cached = (await get(a, '/v1/products/SKU-1/quote')).body;
    expect(cached.tier).toBe(1);
    await server.kill();
    const down = await get(a, '/v1/products/SKU-2/quote');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ error: { code: 'REDIS_UNAVAILABLE' } });
    expect((down.body.error as { message: string }).message).toContain(`redis redis://127.0.0.1:${server.port}/0: reading repricer:sku:SKU-2`);
    expect((await get(a, '/v1/products/SKU-1/quote')).body).toMatchObject({ tier: 1 });
    // POST /v1/quote does not need Redis
    expect((await post(a, '/v1/quote', items[2])).status).toBe(200);
    const serving = (await get(a, '/healthz')).body.model_version;
    const list = await (await fetch(`http://127.0.0.1:${(a.server.address() as { port: number }).port}/v1/models`)).json() as { models: { version: string; sha256: string }[] };
    const v1 = list.models.find((m) => m.sha256 === modelSha256(model1))!.version;
    const act = await post(a, `/v1/models/${v1}/activate`, {});
    expect(act.status).toBe(503);
    expect(act.body).toMatchObject({ error: { code: 'REDIS_UNAVAILABLE' } });
    expect((act.body.error as { message: string }).message).toContain(`announcing model ${v1} to the other replicas (this replica serves ${serving as string} again)`);
    expect((await get(a, '/healthz')).body.model_version).toBe(serving);
  });
});

describe('serve --redis and reprice --publish without a Redis server (real processes)', () => {
  it('exit 5 REDIS_UNAVAILABLE naming the server, before any work; --quote-max-age needs --redis', async () => {
    requireDist();
    const { freePort } = await import('./support/redisServer.js');
    const port = await freePort(); // nothing listens there
    const url = `redis://127.0.0.1:${port}/0`;
    const dir = mkdtempSync(join(tmpdir(), 'repricer-tiered-down-'));
    try {
      const modelFile = join(dir, 'model.json');
      writeFileSync(modelFile, serializeModel(model1));
      writeCsv(join(dir, 'c.csv'), catalogue(4));
      // both processes at once (each spends most of its time starting Node)
      const run = (args: string[]) => new Promise<{ status: number | null; stderr: string }>((res) => {
        const p = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
        let stderr = '';
        p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        p.on('exit', (status) => res({ status, stderr }));
      });
      const [rp, sv] = await Promise.all([
        run(['reprice', '--model', modelFile, '--catalog', 'c.csv', '--out', 'p.csv', '--publish', url]),
        run(['serve', '--port', '0', '--workers', '0', '--model', modelFile, '--redis', url]),
      ]);
      expect(rp.status).toBe(5);
      expect(rp.stderr).toContain(`repricer: error REDIS_UNAVAILABLE: redis ${url}: cannot connect:`);
      expect(existsSync(join(dir, 'p.csv'))).toBe(false);
      expect(sv.status).toBe(5);
      expect(sv.stderr).toContain(`repricer: error REDIS_UNAVAILABLE: redis ${url}: cannot connect:`);
      const { parseServeOptions } = await import('../src/cli/serve.js');
      expect(() => parseServeOptions({ port: '0', host: '127.0.0.1', auth: true, quoteMaxAge: '1h' })).toThrow('--quote-max-age needs --redis');
      expect(parseServeOptions({ port: '0', host: '127.0.0.1', auth: true, redis: url, quoteMaxAge: '90s', quoteCache: '10' }).app.redis).toEqual({ url, maxAgeMs: 90_000, cacheSize: 10 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
