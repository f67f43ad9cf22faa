// Publishing from a distributed run (`reprice --queue URL --publish URL2`), with real parts only: a
// real redis-server (three databases: the queue, the single-process publication, the distributed
// one), two real `repricer worker` processes and real coordinators from dist/src/cli/main.js. The
// single-process `reprice --publish` of the same catalogue is the reference: the distributed run
// must leave the same hashes, field by field (the run id and published_at are the publication's
// own), one run record and one message; a shard run again writes the same hashes; a failed run
// announces nothing.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis, skipRedis, redisSkipReason, freePort, type RedisServer } from './support/redisServer.js';
import { requireDist } from './server-helpers.js';
import { EVENTS_CHANNEL, LATEST_RUN_KEY, runKey, publishRunOnce, parseEvent, type RunRecord } from '../src/records/redisPrices.js';
import { getRun } from '../src/queue/runStore.js';
import { runShard } from '../src/queue/shardJob.js';

const MAIN = resolve('dist/src/cli/main.js');
const ROWS = 3000;

interface Proc {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

let server: RedisServer;
let dir: string;
const procs: ChildProcess[] = [];

function start(args: string[]): Proc {
  const proc = spawn(process.execPath, [MAIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { proc, out: () => out, err: () => err, exit: new Promise((r) => proc.on('exit', (code) => r(code))) };
}

const db = (n: number) => server.url.replace(/\/0$/, `/${n}`);

async function waitFor(p: Proc, re: RegExp, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!re.test(p.err())) {
    if (Date.now() > end) throw new Error(`no ${re} within ${ms} ms; stderr:\n${p.err()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every published row of a database: key -> its hash. */
async function skuHashes(r: Redis): Promise<Map<string, Record<string, string>>> {
  const keys = (await r.keys('repricer:sku:*')).sort();
  const p = r.pipeline();
  for (const k of keys) p.hgetall(k);
  const res = (await p.exec())!;
  return new Map(keys.map((k, i) => [k, res[i][1] as Record<string, string>]));
}

const without = (h: Record<string, string>, drop: string[]) => Object.fromEntries(Object.entries(h).filter(([k]) => !drop.includes(k)));

describe.skipIf(skipRedis)('reprice --queue with --publish (real redis-server, real workers)', () => {
  const conns: Redis[] = [];
  const conn = (n: number) => {
    const r = new Redis(db(n), { maxRetriesPerRequest: null });
    r.on('error', () => undefined);
    conns.push(r);
    return r;
  };
  let model: string;
  let catalog: string;
  let rows: number;

  beforeAll(async () => {
    if (redisSkipReason) throw new Error(`CI=true and ${redisSkipReason}`);
    requireDist();
    server = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'repricer-qpub-'));
    execFileSync(process.execPath, [MAIN, 'demo', '--skus', String(ROWS), '--dir', 'demo'], { cwd: dir, stdio: 'ignore' });
    model = join(dir, 'demo/model.json');
    // the demo catalogue lists some products twice; a SKU's hash is then whichever of its rows was
    // written last, which no order between concurrent shards fixes: one row per product here
    const seen = new Set<string>();
    const lines = readFileSync(join(dir, `demo/catalog-${ROWS}.csv`), 'utf8').trimEnd().split('\n');
    const unique = [lines[0], ...lines.slice(1).filter((l) => { const id = l.slice(0, l.indexOf(',')); return !seen.has(id) && seen.add(id); })];
    rows = unique.length - 1;
    catalog = join(dir, 'unique.csv');
    writeFileSync(catalog, unique.join('\n') + '\n');
  }, 30_000);

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) process.kill(p.pid!, 'SIGKILL');
    for (const c of conns) c.disconnect();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the same hashes as a single-process --publish, one run record, one message; a shard run again changes nothing', async () => {
    // the reference: a single-process publication into database 1
    const single = start(['reprice', '--model', model, '--catalog', catalog, '--out', 'single.csv', '--workers', '1', '--chunk-size', '700', '--publish', db(1)]);
    const workers = [0, 1].map(() => start(['worker', '--queue', db(0), '--workers', '1', '--lock-ms', '5000']));
    expect(await single.exit, single.err()).toBe(0);
    await Promise.all(workers.map((w) => waitFor(w, /ready: pid/)));

    // the messages of the distributed run (pub/sub spans the databases: subscribed after the reference)
    const sub = conn(2);
    const messages: string[] = [];
    sub.on('message', (ch: string, m: string) => ch === EVENTS_CHANNEL && messages.push(m));
    await sub.subscribe(EVENTS_CHANNEL);

    const c = start(['reprice', '--queue', db(0), '--model', model, '--catalog', catalog, '--out', 'queued.csv', '--shards', '4', '--chunk-size', '700', '--publish', db(2)]);
    expect(await c.exit, c.err()).toBe(0);
    const pubRun = /published to Redis as run (\S+)/.exec(c.out())![1];
    const queueRun = /run ([0-9a-f]{16}) queued/.exec(c.err())![1];
    expect(workers.every((w) => w.err().includes(`of run ${queueRun} done`))).toBe(true);

    const r1 = conn(1);
    const r2 = conn(2);
    const ref = await skuHashes(r1);
    const got = await skuHashes(r2);
    const refRun = await r1.get(LATEST_RUN_KEY);
    const refRecord = await r1.hgetall(runKey(refRun!));
    // every row of the catalogue is published or (rejected) not
    expect(ref.size).toBe(Number(refRecord.published));
    expect(ref.size + Number(refRecord.removed)).toBe(rows);
    expect(rows).toBeGreaterThan(2000);
    expect([...got.keys()]).toEqual([...ref.keys()]);
    const record = await r2.hgetall(runKey(pubRun));
    const publishedAt = record.published_at;
    for (const [k, h] of got) {
      // the price fields, features and catalogue columns, and the model hash, are the reference's
      expect(without(h, ['run_id', 'published_at']), k).toEqual(without(ref.get(k)!, ['run_id', 'published_at']));
      // one publication: every row carries its run id and its one time
      expect(h.run_id).toBe(pubRun);
      expect(h.published_at).toBe(publishedAt);
    }
    expect(record).toMatchObject({ run_id: pubRun, model_sha256: refRecord.model_sha256, published: refRecord.published, removed: refRecord.removed });
    expect(Number(record.published)).toBe(got.size);
    expect(record.source).toContain(queueRun);
    expect(await r2.get(LATEST_RUN_KEY)).toBe(pubRun);
    // the queue's database has the run's records, no published rows
    expect(await conn(0).keys('repricer:sku:*')).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(messages.map(parseEvent)).toEqual([{ type: 'published', run_id: pubRun, model_sha256: refRecord.model_sha256, published: Number(record.published), removed: Number(record.removed) }]);

    // the same command again is a no-op: nothing published, no second message
    const again = start(['reprice', '--queue', db(0), '--model', model, '--catalog', catalog, '--out', 'queued.csv', '--shards', '4', '--chunk-size', '700', '--publish', db(2)]);
    expect(await again.exit, again.err()).toBe(0);
    expect(again.out()).toContain(`run ${queueRun} had already finished`);

    // a shard run again (a lapsed lock, a retry) re-publishes the same rows: every hash unchanged
    const spec = (await getRun(conn(0), queueRun))!.spec;
    expect(spec.publish).toMatchObject({ runId: pubRun, publishedAt });
    const rerun = await runShard({ shard: spec.shards[2], modelPath: model, policy: undefined, options: spec.options, out: join(dir, 'rerun.csv'), ext: spec.ext, threads: 1, publish: spec.publish });
    expect(rerun.summary.published?.published).toBeGreaterThan(0);
    expect(await skuHashes(r2)).toEqual(got);

    // a finalising job delivered again announces nothing: the record is there, no message goes out
    const second: RunRecord = { run_id: pubRun, model_sha256: record.model_sha256, published_at: publishedAt, finished_at: new Date().toISOString(), published: 1, removed: 0, source: 'again' };
    expect(await publishRunOnce(r2, second)).toBe(false);
    expect(await r2.hgetall(runKey(pubRun))).toEqual(record);
    await new Promise((r) => setTimeout(r, 200));
    expect(messages).toHaveLength(1);
    await sub.unsubscribe();
  }, 30_000);

  it('a publishing Redis that does not answer: exit 5 REDIS_UNAVAILABLE before anything is queued', async () => {
    const port = await freePort();
    const before = (await conn(0).keys('repricer:run:*')).length;
    const c = start(['reprice', '--queue', db(0), '--model', model, '--catalog', catalog, '--out', 'nowhere.csv', '--publish', `redis://127.0.0.1:${port}/0`]);
    expect(await c.exit, c.err()).toBe(5);
    expect(c.err()).toContain(`REDIS_UNAVAILABLE: redis redis://127.0.0.1:${port}/0`);
    expect((await conn(0).keys('repricer:run:*')).length).toBe(before);
  }, 20_000);

  it('a run that fails writes no run record and sends no message; the rows its shards published stay', async () => {
    // shard 1's part cannot be renamed into place (its name is taken by a folder): it prices and
    // publishes its rows, then fails, and the run with it (one attempt)
    mkdirSync(join(dir, 'failing.csv.parts/shard-00001.csv'), { recursive: true });
    const r5 = conn(5);
    const sub = conn(5);
    const messages: string[] = [];
    sub.on('message', (ch: string, m: string) => ch === EVENTS_CHANNEL && messages.push(m));
    await sub.subscribe(EVENTS_CHANNEL);
    const c = start(['reprice', '--queue', db(0), '--model', model, '--catalog', catalog, '--out', 'failing.csv', '--shards', '3', '--attempts', '1', '--publish', db(5)]);
    expect(await c.exit, c.err()).toBe(6); // OUTPUT_UNWRITABLE
    expect(c.err()).toMatch(/shard 1 of 3 .* failed after 1 attempt/);
    const queueRun = /run ([0-9a-f]{16}) queued/.exec(c.err())![1];
    const spec = (await getRun(conn(0), queueRun))!.spec;
    const rowsLeft = await skuHashes(r5);
    expect(rowsLeft.size).toBeGreaterThan(0);
    for (const h of rowsLeft.values()) expect(h.run_id).toBe(spec.publish!.runId);
    // no run record, latest unset, no message
    expect(await r5.keys('repricer:run:*')).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(messages).toEqual([]);
    await sub.unsubscribe();
  }, 20_000);
});
