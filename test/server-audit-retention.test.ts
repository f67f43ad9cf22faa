/**
 * Retention of the price audit trail (serve --audit-max-age, --audit-max-rows): rows older than
 * the age limit, and all but the newest rows beyond the row limit, are pruned in small steps by
 * the audit writer thread (or on the main thread without one), on a timer and on demand; recent
 * rows are kept. Real servers on port 0; old rows are recorded through the store's own path with
 * an old timestamp.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../src/server/app.js';
import type { AuditBatch } from '../src/server/auditRows.js';
import { parseServeOptions } from '../src/cli/serve.js';
import { RepricerError } from '../src/core/errors.js';
import { model1, requireDist } from './server-helpers.js';

const DAY = 86_400_000;
let dir: string;
const apps: FastifyInstance[] = [];
beforeAll(() => {
  requireDist();
  dir = mkdtempSync(join(tmpdir(), 'repricer-retention-'));
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
async function start(opts: AppOptions): Promise<{ a: FastifyInstance; base: string }> {
  const a = buildApp({ model: model1, auth: false, defaultMetrics: false, docs: false, pool: false, dbFile: join(dir, `db-${seq++}.sqlite`), ...opts });
  apps.push(a);
  return { a, base: await a.listen({ port: 0, host: '127.0.0.1' }) };
}

/** `n` published prices of `id` stamped `at`, recorded the way a quote response records them. */
function oldPrices(id: string, n: number, at: string): AuditBatch {
  const col = (v: number) => new Float64Array(n).fill(v);
  return {
    ids: Array.from({ length: n }, () => id),
    price: col(20),
    previousPrice: col(NaN),
    changePct: col(NaN),
    winProbability: col(0.5),
    expectedProfit: col(1),
    priceStdError: col(0.1),
    status: new Uint8Array(n),
    reasons: new Uint32Array(n),
    modelVersion: 'v1',
    source: 'quote',
    at,
  };
}

const quote = (base: string, n: number, id = 'SKU-1') =>
  fetch(`${base}/v1/quotes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items: Array.from({ length: n }, () => ({ product_id: id, features: { f1: 0, f2: 0, f3: 0 } })) }),
  });
const history = async (base: string, id: string) => ((await (await fetch(`${base}/v1/products/${id}/prices?limit=1000`)).json()) as { prices: { id: number; at: string }[] }).prices;

describe.each([
  ['the audit writer thread (database file)', {}, 'thread'],
  ['the main thread (in-memory database)', { dbFile: ':memory:' }, 'main'],
])('audit retention on %s', (_name, extra: AppOptions, where) => {
  it('by age: rows older than the limit are pruned in small steps, recent rows kept', async () => {
    const { a, base } = await start({ ...extra, auditRetention: { maxAgeMs: 7 * DAY, intervalMs: 3_600_000, batchRows: 7 } });
    expect(a.repricer.store.auditWrites).toBe(where);
    a.repricer.store.recordPrices(oldPrices('OLD-1', 30, new Date(Date.now() - 30 * DAY).toISOString()));
    a.repricer.store.recordPrices(oldPrices('OLD-2', 5, new Date(Date.now() - 8 * DAY).toISOString()));
    a.repricer.store.recordPrices(oldPrices('WEEK-1', 4, new Date(Date.now() - 6 * DAY).toISOString()));
    expect((await quote(base, 3)).status).toBe(200);
    expect(await a.repricer.store.countPrices()).toBe(42);
    expect(await a.repricer.store.pruneAudit()).toBe(35);
    expect(await history(base, 'OLD-1')).toEqual([]);
    expect(await history(base, 'OLD-2')).toEqual([]);
    expect((await history(base, 'WEEK-1')).length).toBe(4);
    expect((await history(base, 'SKU-1')).length).toBe(3);
    expect(await a.repricer.store.pruneAudit()).toBe(0);
  });

  it('by rows: only the newest rows are kept', async () => {
    const { a, base } = await start({ ...extra, auditRetention: { maxRows: 5, intervalMs: 3_600_000, batchRows: 2 } });
    expect((await quote(base, 12)).status).toBe(200);
    expect((await quote(base, 3, 'SKU-2')).status).toBe(200);
    expect(await a.repricer.store.pruneAudit()).toBe(10);
    expect(await a.repricer.store.countPrices()).toBe(5);
    expect((await history(base, 'SKU-2')).map((p) => p.id)).toEqual([15, 14, 13]);
    expect((await history(base, 'SKU-1')).map((p) => p.id)).toEqual([12, 11]);
  });

  it('prunes on its own timer while quotes go on', async () => {
    const { a, base } = await start({ ...extra, auditRetention: { maxAgeMs: DAY, intervalMs: 20, batchRows: 50 } });
    a.repricer.store.recordPrices(oldPrices('OLD-1', 500, new Date(Date.now() - 2 * DAY).toISOString()));
    // no deadline: the test waits for the timer, answering quotes meanwhile
    let quoted = 0;
    while ((await history(base, 'OLD-1')).length > 0) {
      expect((await quote(base, 1)).status).toBe(200);
      quoted++;
    }
    expect((await history(base, 'SKU-1')).length).toBe(quoted);
  });
});

describe('serve options', () => {
  const base = { port: '8080', host: '127.0.0.1', auth: false };
  it('--audit-max-age and --audit-max-rows', () => {
    expect(parseServeOptions({ ...base, auditMaxAge: '7d', auditMaxRows: '1000000' }, {}).app.auditRetention).toEqual({ maxAgeMs: 7 * DAY, maxRows: 1_000_000 });
    expect(parseServeOptions({ ...base, auditMaxAge: '12h' }, {}).app.auditRetention).toEqual({ maxAgeMs: 12 * 3_600_000 });
    expect(parseServeOptions(base, {}).app.auditRetention).toBeUndefined();
    for (const bad of ['7 days', '0d', '-1h', '']) {
      expect(() => parseServeOptions({ ...base, auditMaxAge: bad }, {})).toThrow(RepricerError);
    }
    expect(() => parseServeOptions({ ...base, auditMaxRows: '0' }, {})).toThrow('--audit-max-rows must be an integer in [1, ');
  });
});
