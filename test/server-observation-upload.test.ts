/**
 * POST /v1/observations/bulk: observation files (CSV, Parquet) read by the fit's columnar readers
 * and stored as one batch. Against real servers on port 0: a CSV and a Parquet upload are stored
 * and fitted; the rows stored equal, column for column, what the JSON route stores for the same
 * data; a bad cell is 400 naming upload:LINE and the column with nothing stored; a missing feature
 * column is 422 naming it; a retry with the same key and bytes is replayed, other bytes are 409;
 * a body over the upload limit is 413 (declared or chunked); the temporary file is always removed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { buildApp, type AppOptions } from '../src/server/app.js';
import { rng } from '../src/batch/demoData.js';
import { model1, requireDist } from './server-helpers.js';

const KEY = 'upload-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };
const CSV = 'text/csv';
const PARQUET = 'application/vnd.apache.parquet';
const apps: FastifyInstance[] = [];
beforeAll(() => requireDist());
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

async function listen(opts: AppOptions = {}): Promise<{ base: string; app: FastifyInstance }> {
  const app = buildApp({ model: model1, apiKey: KEY, defaultMetrics: false, docs: false, pool: false, ...opts });
  apps.push(app);
  return { base: await app.listen({ port: 0, host: '127.0.0.1' }), app };
}

interface Res {
  status: number;
  body: Record<string, unknown>;
}
async function send(base: string, path: string, type: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Res> {
  const r = await fetch(base + path, { method: 'POST', headers: { ...auth, 'content-type': type, ...headers }, body });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}
const upload = (base: string, type: string, body: string | Uint8Array, headers: Record<string, string> = {}) => send(base, '/v1/observations/bulk', type, body, headers);
const postJson = (base: string, body: unknown, headers: Record<string, string> = {}) => send(base, '/v1/observations', 'application/json', JSON.stringify(body), headers);
const get = async (base: string, path: string) => (await (await fetch(base + path, { headers: auth })).json()) as Record<string, unknown>;

interface Obs {
  product_id: string;
  features: Record<string, number>;
  price: number;
  won: 0 | 1 | boolean;
  competitor_price?: number;
  weight?: number;
}

/** Rows from the model's market (features f1..f3), with weights and both spellings of won. */
function simulate(n: number, stream: number): Obs[] {
  const r = rng(stream);
  const theta = [20, 1.5, -1, 0.5];
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return Array.from({ length: n }, (_, i) => {
    const f = [r() * 2 - 1, r() * 2 - 1, r() * 2 - 1];
    const u = theta[0] + theta[1] * f[0] + theta[2] * f[1] + theta[3] * f[2];
    const y = u + 0.5 * normal();
    const p = u + (r() - 0.5) * 2;
    const won = p <= y ? 1 : 0;
    const o: Obs = { product_id: `SKU-${i % 7}`, features: { f1: f[0], f2: f[1], f3: f[2] }, price: p, won: i % 3 === 0 ? won === 1 : (won as 0 | 1) };
    if (won) o.competitor_price = y;
    if (i % 5 === 0) o.weight = 2;
    return o;
  });
}

/**
 * The rows as a CSV the fit reads: numbers in several spellings of the same double (shortest,
 * 21 significant digits, which takes the kernel's slow path, and an exponent form), `won` as
 * 0/1 or TRUE/false, blank competitor price on lost rows and blank weight when absent.
 */
function toCsv(rows: Obs[], header = 'product_id,price,won,competitor_price,weight,f1,f2,f3'): string {
  const spell = (v: number, i: number) => (i % 3 === 0 ? String(v) : i % 3 === 1 ? v.toPrecision(21) : v.toExponential(16));
  const lines = rows.map((o, i) => {
    const won = typeof o.won === 'boolean' ? (o.won ? 'TRUE' : 'false') : String(o.won);
    const f = o.features;
    return [o.product_id, spell(o.price, i), won, o.competitor_price === undefined ? '' : spell(o.competitor_price, i + 1), o.weight ?? '', spell(f.f1, i), spell(f.f2, i + 1), spell(f.f3, i + 2)].join(',');
  });
  return `${header}\n${lines.join('\n')}\n`;
}

function toParquet(rows: Obs[]): Uint8Array {
  const col = (k: 'f1' | 'f2' | 'f3') => Float64Array.from(rows, (o) => o.features[k]);
  const buf = parquetWriteBuffer({
    columnData: [
      { name: 'product_id', data: rows.map((o) => o.product_id), type: 'STRING' },
      { name: 'price', data: Float64Array.from(rows, (o) => o.price), type: 'DOUBLE' },
      { name: 'won', data: Int32Array.from(rows, (o) => (o.won === true || o.won === 1 ? 1 : 0)), type: 'INT32' },
      { name: 'competitor_price', data: rows.map((o) => o.competitor_price ?? null), type: 'DOUBLE', nullable: true },
      { name: 'weight', data: rows.map((o) => o.weight ?? null), type: 'DOUBLE', nullable: true },
      { name: 'f1', data: col('f1'), type: 'DOUBLE' },
      { name: 'f2', data: col('f2'), type: 'DOUBLE' },
      { name: 'f3', data: col('f3'), type: 'DOUBLE' },
    ],
  });
  return new Uint8Array(buf);
}

/** The stored rows, as SQLite holds them (features as their JSON text). */
function stored(app: FastifyInstance): unknown[] {
  return app.repricer.store.db.prepare('SELECT product_id, features, price, won, competitor_price, weight, batch_id FROM observations ORDER BY id').all();
}

/** Temporary upload folders left behind (none may be). */
const leftovers = () => readdirSync(tmpdir()).filter((f) => f.startsWith('repricer-upload-'));

async function waitJob(base: string, id: string): Promise<Record<string, unknown>> {
  for (;;) {
    const j = await get(base, `/v1/jobs/${id}`);
    if (j.status === 'succeeded' || j.status === 'failed') return j;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('CSV and Parquet uploads are stored and fitted', () => {
  it('a CSV batch and a Parquet batch, then a fit job over both', async () => {
    const before = leftovers();
    const { base } = await listen({ pool: { threads: 1 } });
    const rows = simulate(1200, 4);
    const a = await upload(base, `${CSV}; charset=utf-8`, toCsv(rows.slice(0, 700)), { 'idempotency-key': 'csv-1' });
    expect(a).toMatchObject({ status: 201, body: { batch_id: 'csv-1', accepted: 700, first_id: 1, last_id: 700, total: 700, replayed: false } });
    const b = await upload(base, PARQUET, toParquet(rows.slice(700)));
    expect(b).toMatchObject({ status: 201, body: { accepted: 500, first_id: 701, last_id: 1200, total: 1200, replayed: false } });
    expect(typeof b.body.batch_id).toBe('string');
    const list = (await get(base, '/v1/observations/batches')).batches as Record<string, unknown>[];
    expect(list.map((x) => [x.batch_id, x.rows, x.status])).toEqual([
      [b.body.batch_id, 500, 'stored'],
      ['csv-1', 700, 'stored'],
    ]);
    const start = await send(base, '/v1/models/fit', 'application/json', JSON.stringify({ strategy: 'pooled', scale: 0.5 }));
    expect(start.status).toBe(202);
    const done = await waitJob(base, start.body.id as string);
    expect(done).toMatchObject({ status: 'succeeded', result: { model_version: 'v2', rows: 1200, products: 7, converged: true } });
    // the pooled estimate of the uploaded market lands near its truth
    const theta = ((await get(base, '/v1/models/v2')).model as { common: { theta: number[] } }).common.theta;
    [20, 1.5, -1, 0.5].forEach((t, i) => expect(Math.abs(theta[i] - t), `theta[${i}]`).toBeLessThan(0.3));
    expect(leftovers()).toEqual(before);
  });
});

describe('an upload stores exactly what the JSON route stores for the same data', () => {
  it('CSV (numbers spelt three ways) and Parquet against JSON, column for column', async () => {
    const rows = simulate(2500, 9);
    // the edges of number formatting: -0 (stored as 0 by both), tiny, huge, subnormal exponents
    rows[1].features = { f1: -0, f2: 1e-7, f3: 123456789012345680000 };
    rows[2].features = { f1: 5e-324, f2: 1.7976931348623157e308, f3: -2.2250738585072014e-308 };
    const json = await listen();
    const csv = await listen();
    const pq = await listen();
    // the JSON route takes 10 000 rows a body; these fit in one
    const j = await postJson(json.base, { observations: rows }, { 'idempotency-key': 'same' });
    const c = await upload(csv.base, CSV, toCsv(rows), { 'idempotency-key': 'same' });
    const p = await upload(pq.base, PARQUET, toParquet(rows), { 'idempotency-key': 'same' });
    for (const r of [j, c, p]) expect(r).toMatchObject({ status: 201, body: { batch_id: 'same', accepted: 2500, first_id: 1, last_id: 2500, total: 2500 } });
    const want = stored(json.app);
    expect(want).toHaveLength(2500);
    expect(stored(csv.app)).toEqual(want);
    expect(stored(pq.app)).toEqual(want);
    // what the fit reads back is the same too (ids, not just text)
    expect(JSON.parse((want[0] as { features: string }).features)).toEqual(rows[0].features);
  });

  it('a file with quotes goes through the reference reader and stores the same rows', async () => {
    const rows = simulate(50, 3).map((o) => ({ ...o, product_id: `SKU, "${o.product_id}"` }));
    const json = await listen();
    const csv = await listen();
    await postJson(json.base, { observations: rows });
    const quoted = toCsv(rows).replace(/^SKU, "(SKU-\d)"/gm, '"SKU, ""$1"""');
    expect(quoted).toContain('"SKU, ""SKU-0"""');
    expect((await upload(csv.base, CSV, quoted)).status).toBe(201);
    const strip = (r: unknown[]) => r.map((x) => ({ ...(x as object), batch_id: undefined }));
    expect(strip(stored(csv.app))).toEqual(strip(stored(json.app)));
  });
});

describe('refused uploads store nothing', () => {
  it('a bad cell: 400 INPUT_ROW_INVALID naming upload:LINE and the column (CSV, quoted CSV, Parquet)', async () => {
    const before = leftovers();
    const { base } = await listen();
    const lines = toCsv(simulate(20, 5)).split('\n');
    lines[4] = lines[4].replace(/,[^,]*$/, ',abc'); // line 5 (the header is line 1): f3
    const r = await upload(base, CSV, lines.join('\n'));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({
      code: 'INPUT_ROW_INVALID',
      message: 'upload:5: column f3: expected a number, got "abc"',
      details: { file: 'upload', line: 5, column: 'f3', expected: 'a number', got: 'abc' },
    });
    // a won row without its competitor price, in a file the reference reader reads (a quote)
    const q = toCsv(simulate(20, 5)).split('\n');
    q[1] = q[1].replace(/^SKU-0/, '"SKU-0"');
    const won = q.findIndex((l, i) => i > 2 && /^SKU-\d+,[^,]+,(1|TRUE),/.test(l));
    q[won] = q[won].replace(/^(SKU-\d+,[^,]+,(?:1|TRUE)),[^,]*,/, '$1,,');
    expect((await upload(base, CSV, q.join('\n'))).body.error).toMatchObject({
      code: 'INPUT_ROW_INVALID',
      message: `upload:${won + 1}: column competitor_price: expected a number (required when won = 1), got ""`,
      details: { file: 'upload', line: won + 1, column: 'competitor_price' },
    });
    // Parquet names the 1-based row
    const rows = simulate(30, 6);
    rows[11].weight = -1;
    expect((await upload(base, PARQUET, toParquet(rows))).body.error).toMatchObject({ code: 'INPUT_ROW_INVALID', message: 'upload:12: column weight: expected a number >= 0, got "-1"', details: { file: 'upload', line: 12 } });
    // a product id longer than the JSON route accepts
    const long = toCsv(simulate(3, 1)).replace(/\nSKU-1,/, `\n${'X'.repeat(257)},`);
    expect((await upload(base, CSV, long)).body.error).toMatchObject({ code: 'INPUT_ROW_INVALID', details: { file: 'upload', line: 3, column: 'product_id' } });
    // a header without rows, a body that is not Parquet
    expect((await upload(base, CSV, 'product_id,price,won,competitor_price,f1,f2,f3\n')).body.error).toMatchObject({ code: 'INPUT_UNREADABLE', message: 'upload: no rows after the header; a batch has at least one' });
    expect((await upload(base, PARQUET, 'not parquet at all')).body.error).toMatchObject({ code: 'INPUT_UNREADABLE', details: { file: 'upload' } });
    expect(await get(base, '/v1/observations/batches')).toEqual({ batches: [], total: 0 });
    expect(leftovers()).toEqual(before);
  });

  it('a feature column of the active model missing: 422 FEATURES_MISMATCH naming it and the look-alike', async () => {
    const { base } = await listen();
    const r = await upload(base, CSV, toCsv(simulate(10, 2), 'product_id,price,won,competitor_price,weight,f1,F2,f3'));
    expect(r.status).toBe(422);
    expect(r.body.error).toMatchObject({
      code: 'FEATURES_MISMATCH',
      message: 'upload:1: missing feature column "f2", required by the active model v1 ("F2" was given: rename it to "f2") (feature columns: f1,F2,f3)',
      details: { file: 'upload', line: 1, column: 'f2', features: ['f1', 'f2', 'f3'], errors: [{ path: 'upload:1', line: 1, column: 'f2', lookalike: 'F2', expected: 'a number column', got: 'no such column' }] },
    });
    expect(await get(base, '/v1/observations/batches')).toEqual({ batches: [], total: 0 });
    // extra columns are features the JSON route would store too: kept
    const extra = toCsv(simulate(4, 2), 'product_id,price,won,competitor_price,weight,f1,f2,f3').replace(/\n/g, ',0.5\n').replace(/^([^\n]*),0\.5\n/, '$1,extra\n');
    expect((await upload(base, CSV, extra)).status).toBe(201);
  });

  it('with no model active and an empty store, the upload sets the schema; later batches must match it', async () => {
    const { base } = await listen({ model: undefined });
    expect((await upload(base, CSV, toCsv(simulate(5, 1)))).status).toBe(201);
    const r = await postJson(base, { observations: [{ product_id: 'A', features: { f1: 0, f2: 0 }, price: 1, won: 0 }] });
    expect(r.body.error).toMatchObject({ code: 'FEATURES_MISMATCH', details: { features: ['f1', 'f2', 'f3'] } });
  });

  it('body limit: 413 PAYLOAD_TOO_LARGE by Content-Length and when a chunked body passes it; 415 for other media types; 401 without the key', async () => {
    const before = leftovers();
    const { base } = await listen({ uploadBodyLimit: 4096 });
    const big = toCsv(simulate(100, 1));
    expect(big.length).toBeGreaterThan(4096);
    const r = await upload(base, CSV, big);
    expect(r).toEqual({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'the request body is larger than the limit of this route (4096 bytes; repricer serve --upload-limit)', details: { limit: 4096 } } } });
    // no Content-Length: counted as it arrives
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 1000) c.enqueue(bytes.subarray(i, i + 1000));
        c.close();
      },
    });
    const chunked = await fetch(`${base}/v1/observations/bulk`, { method: 'POST', headers: { ...auth, 'content-type': CSV }, body: stream, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    // under the limit on the same server
    expect((await upload(base, CSV, toCsv(simulate(10, 1)))).status).toBe(201);
    const js = await upload(base, 'application/json', '{"observations":[]}');
    expect(js).toEqual({
      status: 415,
      body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported content type "application/json": send text/csv or application/vnd.apache.parquet (JSON observations go to POST /v1/observations)' } },
    });
    expect((await upload(base, `${CSV}; charset=ISO-8859-1`, 'x')).body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported charset "iso-8859-1": observation files are read as UTF-8' });
    const anon = await fetch(`${base}/v1/observations/bulk`, { method: 'POST', headers: { 'content-type': CSV }, body: 'x' });
    expect(anon.status).toBe(401);
    // a header refused after the body was received: its file goes too
    expect((await upload(base, CSV, toCsv(simulate(3, 1)), { 'idempotency-key': 'has space' })).body.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    // a client that goes away in the middle of its body
    await new Promise<void>((res) => {
      const req = request(`${base}/v1/observations/bulk`, { method: 'POST', headers: { ...auth, 'content-type': CSV, 'content-length': '4000' } });
      req.on('error', () => res());
      req.write(big.slice(0, 1500), () => setTimeout(() => req.destroy(), 50));
    });
    for (let i = 0; i < 50 && leftovers().length !== before.length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(((await get(base, '/v1/observations/batches')) as { total: number }).total).toBe(10);
    expect(leftovers()).toEqual(before);
  });
});

describe('idempotent uploads', () => {
  it('same key and bytes: 200 replayed with the original acknowledgement; other bytes or a JSON batch under the key: 409', async () => {
    const { base } = await listen();
    const body = toCsv(simulate(40, 8));
    const first = await upload(base, CSV, body, { 'idempotency-key': 'nightly-2026-12-05' });
    expect(first.status).toBe(201);
    const again = await upload(base, CSV, body, { 'idempotency-key': 'nightly-2026-12-05' });
    expect(again).toEqual({ status: 200, body: { ...first.body, replayed: true } });
    expect(((await get(base, '/v1/observations/batches')) as { total: number }).total).toBe(40);
    const other = await upload(base, CSV, toCsv(simulate(41, 8)), { 'idempotency-key': 'nightly-2026-12-05' });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: 'CONFLICT', details: { batch_id: 'nightly-2026-12-05' } });
    const json = await postJson(base, { observations: simulate(40, 8) }, { 'idempotency-key': 'nightly-2026-12-05' });
    expect(json.status).toBe(409);
    // a deleted batch's key cannot be reused
    await fetch(`${base}/v1/observations/batches/nightly-2026-12-05`, { method: 'DELETE', headers: auth });
    const late = await upload(base, CSV, body, { 'idempotency-key': 'nightly-2026-12-05' });
    expect(late.status).toBe(409);
    expect(((await get(base, '/v1/observations/batches')) as { total: number }).total).toBe(0);
  });
});
