/**
 * The distributed run's overhead against the single-process job, on one machine:
 *   npm run bench:queue -- --skus 10000000 [--procs 1,2,4] [--shards 4,16,64] [--parts-only yes|no] [--reps R]
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
 * workers' logs and the machine's load average. With --reps R every configuration runs R times,
 * the queue configurations' order reversed every other round (a change in the machine's load then
 * hits them alike), and the medians are compared.
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
  const procsList = opt('procs', '1,2,4').split(',').filter((x) => x !== '').map(Number);
  const shardList = opt('shards', '4,16,64').split(',').filter((x) => x !== '').map(Number);
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
  const reps = Number(opt('reps', '1'));
  const partsOnly = opt('parts-only', 'yes') !== 'no';
  /** a configuration's label and its timed run (seconds, shard count, shard seconds summed) */
  interface Config { label: string; shards: string; run: () => Promise<{ seconds: number; shards: string; shardSeconds?: number }> }
  const single = out('single');
  let ref = '';
  const configs: Config[] = [
    {
      label: 'single process, 2 threads',
      shards: '-',
      run: async () => {
        clean(single);
        const r = timed(['reprice', '--model', model, '--catalog', catalog, '--out', single, '--workers', '2']);
        const h = await sha(single);
        if (ref && h !== ref) throw new Error('the single-process output changed between runs');
        ref = h;
        return { seconds: r.seconds, shards: '-' };
      },
    },
  ];
  const queueConfig = (procs: number, shards: number | undefined, po = false): Config => {
    const threads = Math.max(1, Math.floor(2 / procs));
    const label = `${procs} worker process${procs > 1 ? 'es' : ''} x ${threads} thread${threads > 1 ? 's' : ''}${po ? ', --parts-only' : ''}`;
    return {
      label,
      shards: shards ? String(shards) : 'default',
      run: async () => {
        const ws = await Promise.all(Array.from({ length: procs }, () => startWorker(url, threads)));
        const f = out(`p${procs}-s${shards ?? 'd'}${po ? '-parts' : ''}`);
        clean(f);
        try {
          const r = timed(['reprice', '--queue', url, '--model', model, '--catalog', catalog, '--out', f, ...(shards ? ['--shards', String(shards)] : []), ...(po ? ['--parts-only'] : [])]);
          if ((po ? await partsSha(f) : await sha(f)) !== ref) throw new Error(`${label}: the output differs from the single-process output`);
          const n = /on the queue \(run \w+: (\d+) shards?/.exec(r.stdout)?.[1] ?? '?';
          return { seconds: r.seconds, shards: shards ? n : `${n} (default)`, shardSeconds: shardSeconds(ws) };
        } finally {
          await stopWorkers(ws);
          clean(f);
        }
      },
    };
  };
  for (const p of procsList) configs.push(queueConfig(p, undefined));
  for (const k of shardList) configs.push(queueConfig(2, k));
  // the finaliser's concatenation left out: the parts and the manifest only
  if (partsOnly) configs.push(queueConfig(2, undefined, true));
  const results = new Map<Config, { seconds: number[]; shards: string; shardSeconds: number[] }>();
  try {
    // the single-process job first (its output is the reference), then every round in alternating order
    for (let rep = 0; rep < reps; rep++) {
      const order = rep % 2 === 0 ? configs : [configs[0], ...configs.slice(1).reverse()];
      for (const c of order) {
        const r = await c.run();
        const e = results.get(c) ?? { seconds: [], shards: r.shards, shardSeconds: [] };
        e.seconds.push(r.seconds);
        if (r.shardSeconds !== undefined) e.shardSeconds.push(r.shardSeconds);
        results.set(c, e);
        console.log(`${c.label} (${r.shards} shards): ${r.seconds.toFixed(2)} s, load ${loadavg()[0].toFixed(1)}`);
      }
    }
    clean(single);
  } finally {
    redis.kill('SIGTERM');
    rmSync(redisDir, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const base = median(results.get(configs[0])!.seconds);
  const rows = configs.map((c) => {
    const e = results.get(c)!;
    const m = median(e.seconds);
    return `| ${c.label} | ${e.shards} | ${e.seconds.map((x) => x.toFixed(1)).join(', ')} | ${m.toFixed(2)} | ${Math.round(skus / m)} | ${(m / base).toFixed(2)}x | ${e.shardSeconds.length ? median(e.shardSeconds).toFixed(1) : '-'} |`;
  });
  const load1 = loadavg();
  console.log('');
  console.log('| configuration | shards | seconds (each run) | median | SKUs/s (median) | vs single | shard seconds (summed, median) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log('');
  console.log(`load average at the end: ${load1.map((x) => x.toFixed(1)).join(' ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
