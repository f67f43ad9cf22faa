/**
 * The distributed run's overhead against the single-process job, on one machine:
 *   npm run bench:queue -- --skus 10000000 [--procs 1,2,4] [--shards 4,16,64] [--reps R]
 * Generates the bench catalogue (d = 16, deterministic, the batch benchmark's) once under
 * bench/out/, starts a redis-server without persistence on a free port, then times, each as a
 * fresh process from spawn to exit:
 *   - the single-process job (`repricer reprice --workers 2`, the machine's 2 cores);
 *   - the coordinator (`repricer reprice --queue`) with 1, 2 and 4 `repricer worker` processes
 *     started and ready beforehand (as in a cluster whose workers are up), their threads sharing
 *     the cores (1 x 2 threads, 2 x 1, 4 x 1), default shard count;
 *   - with 2 worker processes, each shard count of --shards, and --parts-only (no assembly).
 * Every distributed output is checked to equal the single-process output (SHA-256). Prints the
 * wall times, the overhead against the single-process job, the shard times summed from the
 * workers' logs and the machine's load average.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeDemoCatalog, writeDemoModel } from '../src/batch/demoData.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const MAIN = resolve('dist/src/cli/main.js');

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

async function sha(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file, { highWaterMark: 4 << 20 }) as AsyncIterable<Buffer>) h.update(c);
  return h.digest('hex');
}

/** SHA-256 of the parts of `<out>.parts/` concatenated in the manifest's order. */
async function partsSha(out: string): Promise<string> {
  const m = JSON.parse(readFileSync(join(`${out}.parts`, 'manifest.json'), 'utf8')) as { parts: { file: string }[] };
  const h = createHash('sha256');
  for (const p of m.parts) for await (const c of createReadStream(join(`${out}.parts`, p.file), { highWaterMark: 4 << 20 }) as AsyncIterable<Buffer>) h.update(c);
  return h.digest('hex');
}

function timed(argv: string[]): { seconds: number; stdout: string; stderr: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, [MAIN, ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`repricer ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { seconds, stdout: r.stdout, stderr: r.stderr };
}

interface Worker {
  proc: ChildProcess;
  log: () => string;
}

function startWorker(url: string, threads: number): Promise<Worker> {
  const proc = spawn(process.execPath, [MAIN, 'worker', '--queue', url, '--workers', String(threads)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  return new Promise((res, rej) => {
    proc.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('ready: pid')) res({ proc, log: () => log });
    });
    proc.once('exit', (c) => rej(new Error(`worker exited ${c}: ${log}`)));
  });
}

async function stopWorkers(ws: Worker[]): Promise<void> {
  await Promise.all(ws.map((w) => new Promise<void>((r) => {
    if (w.proc.exitCode !== null) return r();
    w.proc.once('exit', () => r());
    w.proc.kill('SIGTERM');
  })));
}

/** Seconds the workers spent in shards (from their "done: ... in X s" lines) and in assembling. */
function shardSeconds(ws: Worker[]): number {
  let s = 0;
  for (const w of ws) for (const m of w.log().matchAll(/ bytes in ([\d.]+) s/g)) s += Number(m[1]);
  return s;
}

async function main(): Promise<void> {
  const skus = Number(opt('skus', '2000000'));
  const procsList = opt('procs', '1,2,4').split(',').map(Number);
  const shardList = opt('shards', '4,16,64').split(',').map(Number);
  const dir = join(process.cwd(), 'bench', 'out');
  mkdirSync(dir, { recursive: true });
  const spec = { products: 20000, features: 16, seed: 424242 };
  const model = join(dir, 'model.json');
  const catalog = join(dir, `catalog-${skus}.csv`);
  if (!existsSync(model)) writeDemoModel(model, spec);
  if (!existsSync(catalog)) {
    process.stderr.write(`generating ${skus} SKUs -> ${catalog}\n`);
    await writeDemoCatalog(catalog, skus, spec);
  }
  const mb = statSync(catalog).size / 1e6;
  const load0 = loadavg();
  console.log(`queue benchmark: ${skus} SKUs, d = 16, CSV -> CSV (${mb.toFixed(0)} MB in), node ${process.version}, load average at start ${load0.map((x) => x.toFixed(1)).join(' ')}`);

  const redisDir = mkdtempSync(join(tmpdir(), 'repricer-bench-redis-'));
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const url = `redis://127.0.0.1:${port}/0`;
  const out = (name: string) => join(dir, `queue-${name}.csv`);
  const clean = (f: string) => {
    rmSync(f, { force: true });
    rmSync(`${f}.parts`, { recursive: true, force: true });
  };
  const rows: string[] = [];
  try {
    const single = out('single');
    clean(single);
    const s = timed(['reprice', '--model', model, '--catalog', catalog, '--out', single, '--workers', '2']);
    const ref = await sha(single);
    rows.push(`| single process, 2 threads | - | ${s.seconds.toFixed(2)} | ${Math.round(skus / s.seconds)} | 1.00x | - |`);
    console.log(`single: ${s.seconds.toFixed(2)} s`);
    const runQueue = async (label: string, procs: number, shards: number | undefined, partsOnly = false) => {
      const threads = Math.max(1, Math.floor(2 / procs));
      const ws = await Promise.all(Array.from({ length: procs }, () => startWorker(url, threads)));
      const f = out(label);
      clean(f);
      try {
        const r = timed(['reprice', '--queue', url, '--model', model, '--catalog', catalog, '--out', f, ...(shards ? ['--shards', String(shards)] : []), ...(partsOnly ? ['--parts-only'] : [])]);
        const ok = (partsOnly ? await partsSha(f) : await sha(f)) === ref;
        if (!ok) throw new Error(`${label}: the output differs from the single-process output`);
        const n = /on the queue \(run \w+: (\d+) shards?/.exec(r.stdout)?.[1] ?? '?';
        const over = r.seconds / s.seconds;
        rows.push(`| ${procs} worker process${procs > 1 ? 'es' : ''} x ${threads} thread${threads > 1 ? 's' : ''}${partsOnly ? ', --parts-only' : ''} | ${n}${shards ? '' : ' (default)'} | ${r.seconds.toFixed(2)} | ${Math.round(skus / r.seconds)} | ${over.toFixed(2)}x | ${shardSeconds(ws).toFixed(1)} |`);
        console.log(`${label}: ${r.seconds.toFixed(2)} s (${n} shards), ${over.toFixed(2)}x`);
      } finally {
        await stopWorkers(ws);
        clean(f);
      }
    };
    for (const p of procsList) await runQueue(`p${p}`, p, undefined);
    for (const k of shardList) await runQueue(`p2-s${k}`, 2, k);
    // the finaliser's concatenation left out: the parts and the manifest only
    await runQueue('p2-parts', 2, undefined, true);
    clean(single);
  } finally {
    redis.kill('SIGTERM');
    rmSync(redisDir, { recursive: true, force: true });
  }
  const load1 = loadavg();
  console.log('');
  console.log('| configuration | shards | seconds | SKUs/s | vs single | shard seconds (summed) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log('');
  console.log(`load average at the end: ${load1.map((x) => x.toFixed(1)).join(' ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
