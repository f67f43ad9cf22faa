// The distributed nightly run end to end, with real parts only: a real redis-server (started on a
// free port, persistent so it can be killed and restarted), real `repricer worker` processes and
// real coordinators spawned from dist/src/cli/main.js. The single-process job's output is the
// reference: every distributed output must equal it byte for byte, which also shows that every
// row is there exactly once.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis, skipRedis, redisSkipReason, type RedisServer } from './support/redisServer.js';
import { requireDist } from './server-helpers.js';

const MAIN = resolve('dist/src/cli/main.js');
const LOCK_MS = 1500;
let server: RedisServer;
let dir: string;
let model: string;
let catalog: string;
let reference: Buffer;
const procs: ChildProcess[] = [];

interface Proc {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
  /** resolves with the first stderr match of `re` */
  waitFor: (re: RegExp, ms?: number) => Promise<RegExpExecArray>;
}

function start(args: string[]): Proc {
  const proc = spawn(process.execPath, [MAIN, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let out = '';
  let err = '';
  const waiters: { re: RegExp; res: (m: RegExpExecArray) => void }[] = [];
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters]) {
      const m = w.re.exec(err);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.res(m);
      }
    }
  });
  const exit = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return {
    proc,
    out: () => out,
    err: () => err,
    exit,
    waitFor: (re, ms = 30_000) =>
      new Promise((res, rej) => {
        const m = re.exec(err);
        if (m) return res(m);
        const t = setTimeout(() => rej(new Error(`no ${re} within ${ms} ms; stderr:\n${err}`)), ms);
        waiters.push({ re, res: (x) => (clearTimeout(t), res(x)) });
      }),
  };
}

const worker = (extra: string[] = []) => start(['worker', '--queue', server.url, '--workers', '1', '--lock-ms', String(LOCK_MS), ...extra]);
const coordinator = (out: string, extra: string[] = []) => start(['reprice', '--queue', server.url, '--model', model, '--catalog', catalog, '--out', out, ...extra]);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function stopAll(ps: Proc[]): Promise<void> {
  for (const p of ps) if (p.proc.exitCode === null && p.proc.signalCode === null) process.kill(p.proc.pid!, 'SIGKILL');
  await Promise.all(ps.map((p) => p.exit));
}

async function waitUntil(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(skipRedis)('reprice --queue with repricer worker processes', () => {
  let redis: Redis;
  let workers: Proc[] = [];

  beforeAll(async () => {
    if (redisSkipReason) throw new Error(`CI=true and ${redisSkipReason}`);
    requireDist();
    server = await startRedis({ persist: true });
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    dir = mkdtempSync(join(tmpdir(), 'repricer-queue-'));
    execFileSync(process.execPath, [MAIN, 'demo', '--skus', '20000', '--dir', 'demo'], { cwd: dir, stdio: 'ignore' });
    model = join(dir, 'demo/model.json');
    catalog = join(dir, 'demo/catalog-20000.csv');
    execFileSync(process.execPath, [MAIN, 'reprice', '--model', model, '--catalog', catalog, '--out', 'single.csv', '--workers', '1'], { cwd: dir, stdio: 'ignore' });
    reference = readFileSync(join(dir, 'single.csv'));
    workers = [worker(['--metrics-port', '0']), worker()];
    await Promise.all(workers.map((w) => w.waitFor(/ready: pid/)));
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    redis?.disconnect();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('two workers write the single-process output byte for byte, with a manifest; a rerun is a no-op; /metrics counts the shards', async () => {
    const c = coordinator('two.csv', ['--shards', '5']);
    expect(await c.exit, c.err()).toBe(0);
    const out = readFileSync(join(dir, 'two.csv'));
    expect(out.equals(reference)).toBe(true);
    const manifest = JSON.parse(readFileSync(join(dir, 'two.csv.parts/manifest.json'), 'utf8'));
    expect(manifest.parts.map((p: { shard: number }) => p.shard)).toEqual([0, 1, 2, 3, 4]);
    expect(manifest.rows).toBe(20000);
    // each part's recorded hash is the hash of its bytes, and the parts concatenate to the output
    const parts = manifest.parts.map((p: { file: string; sha256: string }) => {
      const b = readFileSync(join(dir, 'two.csv.parts', p.file));
      expect(sha(b)).toBe(p.sha256);
      return b;
    });
    expect(Buffer.concat(parts).equals(reference)).toBe(true);
    const runId = /run ([0-9a-f]{16}) queued/.exec(c.err())![1];
    // both workers took shards
    expect(workers.every((w) => w.err().includes(`of run ${runId} done`))).toBe(true);

    const mtime = statSync(join(dir, 'two.csv')).mtimeMs;
    const startsBefore = await redis.hgetall(`repricer:run:${runId}:starts`);
    const again = coordinator('two.csv', ['--shards', '5']);
    expect(await again.exit, again.err()).toBe(0);
    expect(again.out()).toContain(`run ${runId} had already finished`);
    expect(statSync(join(dir, 'two.csv')).mtimeMs).toBe(mtime);
    expect(await redis.hgetall(`repricer:run:${runId}:starts`)).toEqual(startsBefore);

    // --parts-only: the manifest and the parts, no assembled output
    const po = coordinator('parts-only.csv', ['--shards', '3', '--parts-only']);
    expect(await po.exit, po.err()).toBe(0);
    expect(existsSync(join(dir, 'parts-only.csv'))).toBe(false);
    const pm = JSON.parse(readFileSync(join(dir, 'parts-only.csv.parts/manifest.json'), 'utf8'));
    expect(Buffer.concat(pm.parts.map((p: { file: string }) => readFileSync(join(dir, 'parts-only.csv.parts', p.file)))).equals(reference)).toBe(true);

    const port = (await workers[0].waitFor(/metrics on http:\/\/0\.0\.0\.0:(\d+)\/metrics/))[1];
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const done = Number(/^repricer_queue_shards_done_total (\d+)/m.exec(text)![1]);
    expect(done).toBeGreaterThanOrEqual(1);
    expect(Number(/^repricer_queue_rows_total (\d+)/m.exec(text)![1])).toBeGreaterThan(0);
    expect(text).toContain('repricer_queue_shard_seconds_count');
  }, 60_000);

  it('a worker killed with kill -9 mid-shard: its shard is re-run elsewhere after the lock lapses, every row exactly once', async () => {
    // the victim is the only worker when the run is queued, so it takes a shard for sure
    await stopAll(workers);
    const victim = worker();
    await victim.waitFor(/ready: pid/);
    const c = coordinator('killed.csv', ['--shards', '4']);
    const runId = (await c.waitFor(/run ([0-9a-f]{16}) queued/))[1];
    const m = await victim.waitFor(new RegExp(`shard (\\d+) of run ${runId} started`));
    process.kill(victim.proc.pid!, 'SIGKILL');
    await victim.exit;
    // two fresh workers finish the run (and serve the tests after this one)
    workers = [worker(), worker()];
    const shard = m[1];
    expect(await c.exit, c.err()).toBe(0);
    expect(readFileSync(join(dir, 'killed.csv')).equals(reference)).toBe(true);
    // the killed worker's shard was started again (by one of the fresh workers), and the coordinator counts it
    const starts = await redis.hgetall(`repricer:run:${runId}:starts`);
    expect(Number(starts[shard])).toBeGreaterThanOrEqual(2);
    expect(c.out()).toMatch(/[1-9]\d* re-runs?\)/);
  }, 60_000);

  it('Redis killed and restarted mid-run (appendonly): the run completes and the shards finished before are not run again', async () => {
    const c = coordinator('restart.csv', ['--shards', '8']);
    const runId = (await c.waitFor(/run ([0-9a-f]{16}) queued/))[1];
    await waitUntil(async () => (await redis.hlen(`repricer:run:${runId}:parts`)) >= 1, 30_000, 'a finished shard');
    const finishedBefore = Object.keys(await redis.hgetall(`repricer:run:${runId}:parts`));
    await server.kill();
    // mid-run: shards were still to do when Redis went away
    expect(finishedBefore.length).toBeLessThan(8);
    await new Promise((r) => setTimeout(r, 300));
    await server.restart();
    expect(await c.exit, c.err()).toBe(0);
    expect(readFileSync(join(dir, 'restart.csv')).equals(reference)).toBe(true);
    const starts = await redis.hgetall(`repricer:run:${runId}:starts`);
    for (const s of finishedBefore) expect(starts[s]).toBe('1');
  }, 60_000);

  it('queue cancel: the coordinator stops with exit 130, no output is written, the workers refuse its shards, status says cancelled', async () => {
    // no worker runs while the run is cancelled, so it cannot finish first
    await stopAll(workers);
    const c = coordinator('cancelled.csv', ['--shards', '6']);
    const runId = (await c.waitFor(/run ([0-9a-f]{16}) queued/))[1];
    const cancel = start(['queue', 'cancel', runId, '--queue', server.url]);
    expect(await cancel.exit, cancel.err()).toBe(0);
    expect(cancel.out()).toContain(`run ${runId} cancelled`);
    expect(await c.exit).toBe(130);
    expect(c.err()).toContain(`run ${runId} was cancelled; no output was written`);
    // workers started now take the cancelled run's jobs and refuse them; no output appears
    workers = [worker(), worker()];
    await Promise.any(workers.map((w) => w.waitFor(new RegExp(`shard \\d+ of run ${runId} refused: run ${runId} is cancelled`))));
    expect(existsSync(join(dir, 'cancelled.csv'))).toBe(false);
    expect(await redis.hlen(`repricer:run:${runId}:parts`)).toBe(0);
    const status = start(['queue', 'status', runId, '--queue', server.url]);
    expect(await status.exit).toBe(0);
    expect(status.out()).toContain(`run ${runId}: cancelled`);
    // cancelling it again says so; an unknown run is NOT_FOUND (exit 4)
    const unknown = start(['queue', 'status', 'ffffffffffffffff', '--queue', server.url]);
    expect(await unknown.exit).toBe(4);
  }, 60_000);

  it('a shard that fails on every attempt fails the run naming the shard, with its error and exit code', async () => {
    // shard 1's part cannot be renamed into place: its name is taken by a folder (a real EISDIR)
    mkdirSync(join(dir, 'failing.csv.parts/shard-00001.csv'), { recursive: true });
    const c = coordinator('failing.csv', ['--shards', '3', '--attempts', '3', '--backoff-ms', '100']);
    const runId = (await c.waitFor(/run ([0-9a-f]{16}) queued/))[1];
    expect(await c.exit, c.err()).toBe(6); // OUTPUT_UNWRITABLE
    expect(c.err()).toMatch(new RegExp(`error OUTPUT_UNWRITABLE: run ${runId}: shard 1 of 3 \\(.*catalog-20000\\.csv bytes \\d+-\\d+\\) failed after 3 attempts: .*shard-00001\\.csv`));
    expect(existsSync(join(dir, 'failing.csv'))).toBe(false);
    const status = start(['queue', 'status', runId, '--queue', server.url, '--json']);
    expect(await status.exit).toBe(0);
    const s = JSON.parse(status.out());
    expect(s.state).toBe('failed');
    expect(s.failures.find((f: { shard: number }) => f.shard === 1)).toMatchObject({ attempt: 3, final: true, code: 'OUTPUT_UNWRITABLE' });
  }, 60_000);

  it('a Parquet catalogue is cut into whole row groups, a pattern of CSV files into its files: both equal the single-process output', async () => {
    // 6 000 rows of the demo catalogue in row groups of 1 000, written here with hyparquet-writer
    const lines = readFileSync(catalog, 'utf8').split('\n').slice(0, 6001);
    const names = lines[0].split(',');
    const rows = lines.slice(1).map((l) => l.split(','));
    const { ParquetWriter, fileWriter } = await import('hyparquet-writer');
    const pqFile = join(dir, 'rowgroups.parquet');
    const schema = [
      { name: 'root', num_children: names.length },
      { name: names[0], type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'REQUIRED' as const },
      ...names.slice(1).map((name) => ({ name, type: 'DOUBLE' as const, repetition_type: 'OPTIONAL' as const })),
    ];
    const w = new ParquetWriter({ writer: fileWriter(pqFile), schema });
    for (let g = 0; g < rows.length; g += 1000) {
      const part = rows.slice(g, g + 1000);
      w.write({ columnData: names.map((name, j) => ({ name, data: part.map((r) => (j === 0 ? r[0] : r[j] === '' ? null : Number(r[j]))) })), rowGroupSize: part.length });
    }
    w.finish();
    const { runReprice } = await import('../src/batch/job.js');
    await runReprice({ modelPath: model, catalogPath: pqFile, outPath: join(dir, 'pq-single.csv'), workers: 1 });
    const c = start(['reprice', '--queue', server.url, '--model', model, '--catalog', pqFile, '--out', 'pq.csv', '--shards', '4']);
    expect(await c.exit, c.err()).toBe(0);
    expect(readFileSync(join(dir, 'pq.csv')).equals(readFileSync(join(dir, 'pq-single.csv')))).toBe(true);
    const m = JSON.parse(readFileSync(join(dir, 'pq.csv.parts/manifest.json'), 'utf8'));
    // 6 row groups into at most 4 shards of whole groups
    expect(m.parts.map((p: { input: { start: number; end: number } }) => [p.input.start, p.input.end])).toEqual([[0, 2000], [2000, 4000], [4000, 6000]]);

    // the catalogue split into two files with the same header: day-1 (rows 1-8000) and day-2 (the rest)
    const all = readFileSync(catalog, 'utf8').split('\n');
    mkdirSync(join(dir, 'days'));
    writeFileSync(join(dir, 'days/day-1.csv'), [all[0], ...all.slice(1, 8001)].join('\n') + '\n');
    writeFileSync(join(dir, 'days/day-2.csv'), [all[0], ...all.slice(8001)].join('\n'));
    const g = start(['reprice', '--queue', server.url, '--model', model, '--catalog', 'days/day-*.csv', '--out', 'days.csv', '--shards', '4']);
    expect(await g.exit, g.err()).toBe(0);
    expect(readFileSync(join(dir, 'days.csv')).equals(reference)).toBe(true);
  }, 60_000);

  it('--on-error skip: the prices and the rejected rows (absolute line numbers, one header) equal the single-process files', async () => {
    // three malformed rows, in different shards
    const lines = readFileSync(catalog, 'utf8').split('\n');
    for (const i of [5, 9000, 17000]) lines[i] = lines[i].replace(/,[^,]*/, ',not-a-number');
    writeFileSync(join(dir, 'bad.csv'), lines.join('\n'));
    const { runReprice } = await import('../src/batch/job.js');
    await runReprice({ modelPath: model, catalogPath: join(dir, 'bad.csv'), outPath: join(dir, 'bad-single.csv'), workers: 1, onError: 'skip' });
    const c = start(['reprice', '--queue', server.url, '--model', model, '--catalog', 'bad.csv', '--out', 'bad-queued.csv', '--shards', '4', '--on-error', 'skip']);
    expect(await c.exit, c.err()).toBe(0);
    expect(c.out()).toContain('rejected rows (3) to bad-queued.csv.rejects.csv');
    expect(readFileSync(join(dir, 'bad-queued.csv')).equals(readFileSync(join(dir, 'bad-single.csv')))).toBe(true);
    const rejects = readFileSync(join(dir, 'bad-queued.csv.rejects.csv'), 'utf8');
    expect(rejects).toBe(readFileSync(join(dir, 'bad-single.csv.rejects.csv'), 'utf8'));
    expect(rejects.split('\n').slice(1, 4).map((l) => l.split(',')[0])).toEqual(['6', '9001', '17001']);
  }, 60_000);

  it('the coordinator refuses what a distributed run cannot do, before queueing anything', async () => {
    // three refusals at once (each is a process start)
    const pq = coordinator('x.parquet');
    const bad = start(['reprice', '--queue', 'http://nope', '--model', model, '--catalog', catalog, '--out', 'y.csv']);
    const noQueue = start(['reprice', '--model', model, '--catalog', catalog, '--out', 'z.csv', '--shards', '2']);
    expect(await Promise.all([pq.exit, bad.exit, noQueue.exit])).toEqual([2, 2, 2]);
    expect(pq.err()).toContain('a distributed run writes .csv or .ndjson');
    expect(bad.err()).toContain('--queue must be a redis:// or rediss:// URL');
    expect(noQueue.err()).toContain('--shards needs --queue');
  }, 30_000);

  it("the README's recipe runs as written, against the test's Redis (its redis-server line left out)", async () => {
    const md = readFileSync('README.md', 'utf8');
    const section = md.slice(md.indexOf('#### Scaling out on Redis'));
    const [shell1, shell2] = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].slice(0, 2).map((m) => m[1]);
    const lines1 = shell1.trim().split('\n');
    expect(lines1[0]).toMatch(/^redis-server --port 6379 /);
    // the test's Redis port, the test's build, the test's smaller demo catalogue
    const adapt = (text: string) => text.replaceAll('127.0.0.1:6379', `127.0.0.1:${server.port}`).replaceAll('node dist/src/cli/main.js', `${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)}`).replaceAll('demo/catalog-200000.csv', 'demo/catalog-20000.csv').replace('--metrics-port 9464', '--metrics-port 0');
    // the README's worker works alone
    await stopAll(workers);
    const readmeWorker = spawn('bash', ['-c', `exec ${adapt(lines1[1])}`], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    procs.push(readmeWorker);
    let log = '';
    readmeWorker.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    // asynchronously: the worker's log is read while the block runs
    const { stdout: out } = await promisify(execFile)('bash', ['-c', adapt(shell2)], { cwd: dir, encoding: 'utf8' });
    expect(out).toContain('identical');
    expect(out).toMatch(/repriced 20000 SKUs in [\d.]+ s on the queue \(run [0-9a-f]{16}: 4 shards/);
    expect(log).toMatch(/shard 3 of run [0-9a-f]{16} done/);
    readmeWorker.kill('SIGTERM');
    await new Promise((r) => readmeWorker.once('exit', r));
    expect(log).toContain('worker: stopped');
  }, 60_000);
});
