/**
 * Observations are checked against the feature schema when appended (422 FEATURES_MISMATCH
 * naming row and field, nothing stored), are listed and deleted by batch, and are appended
 * idempotently by key: a retry of a committed batch, also after the server was killed with
 * SIGKILL and restarted on the same database, stores nothing twice. Real servers on port 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../src/server/app.js';
import { model1, requireDist } from './server-helpers.js';

const KEY = 'batch-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };
let dir: string;
const apps: FastifyInstance[] = [];
const spawned: ChildProcess[] = [];
beforeAll(() => {
  requireDist();
  dir = mkdtempSync(join(tmpdir(), 'repricer-batches-'));
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  for (const p of spawned) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function listen(opts: AppOptions = {}): Promise<string> {
  const a = buildApp({ model: model1, apiKey: KEY, defaultMetrics: false, docs: false, pool: false, ...opts });
  apps.push(a);
  return a.listen({ port: 0, host: '127.0.0.1' });
}

interface Res {
  status: number;
  body: Record<string, unknown>;
}
async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = auth): Promise<Res> {
  const r = await fetch(base + path, { method, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

const row = (i: number, features: Record<string, number> = { f1: 0.1 * i, f2: -0.1, f3: 0.3 }) => ({ product_id: `SKU-${i % 3}`, features, price: 20 + i / 10, won: i % 2, ...(i % 2 ? { competitor_price: 21 } : {}) });
const rows = (n: number, from = 0) => Array.from({ length: n }, (_, i) => row(from + i));

describe('observations are checked against the feature schema', () => {
  it("a batch whose rows lack a feature of the active model is refused whole, naming row and field; nothing is stored", async () => {
    const base = await listen();
    const bad = [row(0), row(1, { f1: 0, F2: 1, f3: 0 }), row(2, { f1: 0, f2: 0 })];
    const r = await call(base, 'POST', '/v1/observations', { observations: bad });
    expect(r.status).toBe(422);
    const e = r.body.error as { code: string; message: string; details: { features: string[]; errors: Record<string, unknown>[] } };
    expect(e.code).toBe('FEATURES_MISMATCH');
    expect(e.details.features).toEqual(['f1', 'f2', 'f3']);
    expect(e.details.errors).toEqual([
      {
        path: 'observations.1.features.f2',
        row: 1,
        field: 'f2',
        expected: 'number',
        got: 'missing',
        lookalike: 'F2',
        message: 'is required by the active model v1 (expected a number, got no such feature; "F2" was given: rename it to "f2")',
      },
      { path: 'observations.2.features.f3', row: 2, field: 'f3', expected: 'number', got: 'missing', message: 'is required by the active model v1 (expected a number, got no such feature)' },
    ]);
    expect(e.message).toContain('observations.1.features.f2: is required by the active model v1');
    const list = await call(base, 'GET', '/v1/observations/batches');
    expect(list.body).toEqual({ batches: [], total: 0 });
    // other names are kept, not refused
    const ok = await call(base, 'POST', '/v1/observations', { observations: [row(0, { f1: 0, f2: 0, f3: 0, extra: 1 })] });
    expect(ok.status).toBe(201);
  });

  it('with no model active, the stored observations set the schema (the first batch, its first row)', async () => {
    const base = await listen({ model: undefined });
    const first = await call(base, 'POST', '/v1/observations', { observations: [row(0, { a: 1, b: 2 }), row(1, { a: 1 })] });
    expect(first.status).toBe(422);
    expect((first.body.error as { message: string }).message).toContain("observations.1.features.b: is required by this batch's first row");
    expect((await call(base, 'POST', '/v1/observations', { observations: [row(0, { a: 1, b: 2 })] })).status).toBe(201);
    const second = await call(base, 'POST', '/v1/observations', { observations: [row(1, { a: 1, bb: 2 })] });
    expect(second.status).toBe(422);
    expect((second.body.error as { details: { errors: { field: string }[] } }).details.errors.map((x) => x.field)).toEqual(['b']);
    expect((second.body.error as { message: string }).message).toContain('the stored observations (no model is active; the names of observation 1)');
  });
});

describe('observation batches: list and delete', () => {
  it('lists batches newest first, deletes one batch\'s rows, refuses its key afterwards; write auth', async () => {
    const base = await listen();
    const a = await call(base, 'POST', '/v1/observations', { observations: rows(3) });
    expect(a.status).toBe(201);
    const b = await call(base, 'POST', '/v1/observations', { observations: rows(2, 3), batch_id: 'nightly-2026-12-05' });
    expect(b.body).toMatchObject({ batch_id: 'nightly-2026-12-05', accepted: 2, first_id: 4, last_id: 5, total: 5, replayed: false });
    const list = await call(base, 'GET', '/v1/observations/batches');
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(5);
    expect((list.body.batches as Record<string, unknown>[]).map((x) => [x.batch_id, x.rows, x.first_id, x.last_id, x.status])).toEqual([
      ['nightly-2026-12-05', 2, 4, 5, 'stored'],
      [a.body.batch_id, 3, 1, 3, 'stored'],
    ]);
    const paged = await call(base, 'GET', `/v1/observations/batches?limit=1&before=${String((list.body.batches as { seq: number }[])[0].seq)}`);
    expect((paged.body.batches as { batch_id: string }[]).map((x) => x.batch_id)).toEqual([a.body.batch_id]);

    const del = await call(base, 'DELETE', '/v1/observations/batches/nightly-2026-12-05');
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ batch_id: 'nightly-2026-12-05', deleted: 2, total: 3 });
    const after = await call(base, 'GET', '/v1/observations/batches');
    expect((after.body.batches as Record<string, unknown>[])[0]).toMatchObject({ batch_id: 'nightly-2026-12-05', status: 'deleted' });
    expect((await call(base, 'DELETE', '/v1/observations/batches/nightly-2026-12-05')).body.error).toMatchObject({ code: 'NOT_FOUND' });
    expect((await call(base, 'DELETE', '/v1/observations/batches/nope')).status).toBe(404);
    const again = await call(base, 'POST', '/v1/observations', { observations: rows(2, 3), batch_id: 'nightly-2026-12-05' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'CONFLICT' });

    for (const [m, p] of [['GET', '/v1/observations/batches'], ['DELETE', `/v1/observations/batches/${String(a.body.batch_id)}`]]) {
      const r = await call(base, m, p, undefined, {});
      expect(r.status).toBe(401);
      expect(r.body.error).toMatchObject({ code: 'UNAUTHORIZED' });
    }
  });

  it('the batch routes count in the write rate-limit bucket: quote traffic does not lock them', async () => {
    const base = await listen({ rateLimit: { max: 2, timeWindow: '1 minute' } });
    const q = { product_id: 'SKU-1', features: { f1: 0, f2: 0, f3: 0 } };
    for (let i = 0; i < 3; i++) await call(base, 'POST', '/v1/quote', q, {});
    expect((await call(base, 'POST', '/v1/quote', q, {})).status).toBe(429);
    expect((await call(base, 'GET', '/v1/observations/batches')).status).toBe(200);
  });

  it('a database written before batches existed: its rows become the batch "legacy", which can be deleted', async () => {
    const db = join(dir, 'old.sqlite');
    const old = new Database(db);
    old.exec(`CREATE TABLE observations (id INTEGER PRIMARY KEY, product_id TEXT NOT NULL, features TEXT NOT NULL, price REAL NOT NULL,
      won INTEGER NOT NULL CHECK (won IN (0, 1)), competitor_price REAL, weight REAL NOT NULL DEFAULT 1, received_at TEXT NOT NULL)`);
    // rows a server without the feature check accepted: the fit could never read them
    old.prepare("INSERT INTO observations (product_id, features, price, won, received_at) VALUES ('SKU-1', '{\"age\":1}', 20, 0, '2026-01-01T00:00:00.000Z')").run();
    old.close();
    const base = await listen({ dbFile: db });
    const list = await call(base, 'GET', '/v1/observations/batches');
    expect(list.body).toMatchObject({ total: 1, batches: [{ batch_id: 'legacy', rows: 1, first_id: 1, last_id: 1, status: 'stored' }] });
    expect((await call(base, 'DELETE', '/v1/observations/batches/legacy')).body).toMatchObject({ deleted: 1, total: 0 });
  });
});

describe('idempotent appends', () => {
  it('same key and rows: 200 replayed with the original acknowledgement, nothing stored twice; other rows: 409', async () => {
    const base = await listen();
    const body = { observations: rows(4) };
    const first = await call(base, 'POST', '/v1/observations', body, { ...auth, 'idempotency-key': 'k-1' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ batch_id: 'k-1', accepted: 4, first_id: 1, last_id: 4, total: 4, replayed: false });
    const retry = await call(base, 'POST', '/v1/observations', body, { ...auth, 'idempotency-key': 'k-1' });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ ...first.body, replayed: true });
    // the key may come in the body as well
    const inBody = await call(base, 'POST', '/v1/observations', { ...body, batch_id: 'k-1' });
    expect(inBody.status).toBe(200);
    expect(inBody.body.replayed).toBe(true);
    const other = await call(base, 'POST', '/v1/observations', { observations: rows(4, 1) }, { ...auth, 'idempotency-key': 'k-1' });
    expect(other.status).toBe(409);
    expect(Object.keys(other.body)).toEqual(['error']);
    expect(other.body.error).toMatchObject({ code: 'CONFLICT', details: { batch_id: 'k-1' } });
    const clash = await call(base, 'POST', '/v1/observations', { ...body, batch_id: 'k-2' }, { ...auth, 'idempotency-key': 'k-1' });
    expect(clash.status).toBe(400);
    expect(clash.body.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const list = await call(base, 'GET', '/v1/observations/batches');
    expect(list.body.total).toBe(4);
    expect((list.body.batches as unknown[]).length).toBe(1);
  });

  it('a server killed with SIGKILL after committing a batch: the retry on the restarted server stores nothing twice', async () => {
    const db = join(dir, 'kill.sqlite');
    const model = join(dir, 'model.json');
    writeFileSync(model, JSON.stringify(model1));
    const start = async (args: string[]) => {
      const proc = spawn(process.execPath, ['dist/src/cli/main.js', 'serve', '--port', '0', '--db', db, '--workers', '0', ...args], { env: { ...process.env, REPRICER_API_KEY: KEY }, stdio: ['ignore', 'ignore', 'pipe'] });
      spawned.push(proc);
      let err = '';
      const exited = new Promise<void>((res) => proc.on('exit', () => res()));
      const base = await new Promise<string>((res, rej) => {
        proc.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /listening on (http:\/\/[^;\s]+)/.exec(err);
          if (m) res(m[1]);
        });
        void exited.then(() => rej(new Error(`serve exited: ${err}`)));
      });
      return { proc, base, exited };
    };
    const s1 = await start(['--model', model]);
    const body = { observations: rows(50), batch_id: 'feed-0001' };
    const first = await call(s1.base, 'POST', '/v1/observations', body);
    expect(first.status).toBe(201);
    // killed at once: no shutdown, no checkpoint; the client never learns whether it was stored
    s1.proc.kill('SIGKILL');
    await s1.exited;

    const s2 = await start([]);
    const retry = await call(s2.base, 'POST', '/v1/observations', body);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ batch_id: 'feed-0001', accepted: 50, first_id: 1, last_id: 50, total: 50, replayed: true });
    const fresh = await call(s2.base, 'POST', '/v1/observations', { observations: rows(5, 50), batch_id: 'feed-0002' });
    expect(fresh.body).toMatchObject({ accepted: 5, first_id: 51, total: 55, replayed: false });
    s2.proc.kill('SIGTERM');
    await s2.exited;
  });
});
