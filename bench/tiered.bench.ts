/**
 * Tiered quotes across two replicas (docs/scale-out.md "Tiered quotes"):
 *
 *   npm run bench:tiered                          (builds, then node dist/bench/tiered.bench.js)
 *   node dist/bench/tiered.bench.js --duration 10 --skus 20000 --connections 50
 *
 * One redis-server (/usr/bin/redis-server on a free port), a catalogue of `skus` SKUs published by
 * a real `repricer reprice --publish` process, and two real `repricer serve --redis` processes.
 *
 * 1. single process, POST /v1/quote: `connections` connections on replica A (the reference);
 * 2. tiered: GET /v1/products/:id/quote on both replicas at once, `connections` / 2 each, 80 % of
 *    the requests on 20 % of the SKUs (the hot set), ids drawn from a seeded generator;
 *    then the same with tier 1 warm, and on replica A alone;
 * 3. the same tiered load with a model switch in the middle: a second model registered and
 *    activated on replica A, replica B polled until it serves the new content hash; every
 *    response must be 2xx.
 * Targets: tiered p99 <= 25 ms and tiered req/s >= 70 % of case 1. Appends to bench/RESULTS.md.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { demoModel, rng } from '../src/batch/demoData.js';
import { serializeModel } from '../src/model/format.js';
import { modelSha256 } from '../src/records/redisPrices.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const SPEC = { products: 2000, features: 4, seed: 3 };

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function startRedis(dir: string): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: 'ignore' });
  for (let k = 0; k < 200; k++) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); res(true); });
      s.once('error', () => { s.destroy(); res(false); });
    });
    if (ok) return { url: `redis://127.0.0.1:${port}/0`, proc };
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('redis-server did not start');
}

async function serve(args: string[]): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--no-auth', '--rate-limit', '0', '--workers', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((res, rej) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) res(m[1]);
    });
    proc.once('exit', (c) => rej(new Error(`serve exited ${String(c)}: ${err}`)));
  });
  return { url, proc };
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
}

function cannon(o: autocannon.Options): Promise<Run> {
  return new Promise((res, rej) => {
    autocannon(o, (err, r) => {
      if (err) rej(err);
      else res({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, errors: r.errors + r.timeouts + r.non2xx });
    });
  });
}

/** GET /v1/products/:id/quote with 80 % of the requests on the first 20 % of the SKUs. */
function hotCold(url: string, connections: number, seconds: number, skus: number, seed: number): Promise<Run> {
  const r = rng(seed);
  const hot = Math.floor(skus * 0.2);
  // 65 536 paths drawn in advance, handed out in turn across all connections (a sequence that
  // every connection walked from its start would send the same SKU on all of them at once)
  const paths = Array.from({ length: 65_536 }, () => {
    const i = r() < 0.8 ? Math.floor(r() * hot) : hot + Math.floor(r() * (skus - hot));
    return `/v1/products/S${i}/quote`;
  });
  let k = 0;
  return cannon({ url, connections, duration: seconds, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[k++ & 65_535] }) }] });
}

/** Both replicas at once, half the connections each: summed req/s, the worse p99 and p50. */
async function tiered(urls: string[], connections: number, seconds: number, skus: number, seed: number): Promise<Run & { each: Run[] }> {
  const each = await Promise.all(urls.map((u, k) => hotCold(u, connections / urls.length, seconds, skus, seed + k)));
  return {
    rps: each.reduce((s, x) => s + x.rps, 0),
    p50: Math.max(...each.map((x) => x.p50)),
    p99: Math.max(...each.map((x) => x.p99)),
    requests: each.reduce((s, x) => s + x.requests, 0),
    errors: each.reduce((s, x) => s + x.errors, 0),
    each,
  };
}

async function metricLines(url: string): Promise<string[]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('repricer_quote_tier_hit_ratio{') || l.startsWith('repricer_quote_tier_answers_total{'));
}

async function main(): Promise<void> {
  const seconds = arg('duration', 10);
  const skus = arg('skus', 20_000);
  const connections = arg('connections', 50);
  const dir = mkdtempSync(join(tmpdir(), 'repricer-bench-tiered-'));
  const procs: ChildProcess[] = [];
  try {
    const redis = await startRedis(dir);
    procs.push(redis.proc);
    const m1 = demoModel(SPEC);
    const m2 = demoModel({ ...SPEC, seed: 4 });
    m2.createdAt = '2026-02-01T00:00:00.000Z';
    writeFileSync(join(dir, 'model.json'), serializeModel(m1));
    // the catalogue: S0..S{skus-1}, a quarter of them new products (cold start)
    const r = rng(7);
    const lines = ['product_id,f1,f2,f3,f4,cost,current_price'];
    for (let i = 0; i < skus; i++) lines.push([`S${i}`, r() * 2 - 1, r() * 2 - 1, r() * 2 - 1, r() * 2 - 1, 8 + r() * 8, 18 + r() * 6].join(','));
    writeFileSync(join(dir, 'catalog.csv'), lines.join('\n') + '\n');
    // (the ids of the model are SKU-n; the catalogue's S-n are priced with common.theta, as new products)
    const t0 = performance.now();
    const pubOut = execFileSync(process.execPath, [MAIN, 'reprice', '--model', join(dir, 'model.json'), '--catalog', join(dir, 'catalog.csv'), '--out', join(dir, 'prices.csv'), '--publish', redis.url], { encoding: 'utf8' });
    const publishS = (performance.now() - t0) / 1000;
    const a = await serve(['--model', join(dir, 'model.json'), '--db', join(dir, 'a.sqlite'), '--redis', redis.url]);
    procs.push(a.proc);
    const b = await serve(['--model', join(dir, 'model.json'), '--db', join(dir, 'b.sqlite'), '--redis', redis.url]);
    procs.push(b.proc);
    const body = JSON.stringify({ product_id: 'S1', features: { f1: 0.1, f2: -0.2, f3: 0.3, f4: 0.05 }, cost: 9.5, current_price: 20 });

    // warm-ups: JIT, connections, and tier 1 filled by the first pass
    await cannon({ url: `${a.url}/v1/quote`, connections, duration: 2, method: 'POST', body, headers: { 'content-type': 'application/json' } });
    await tiered([a.url, b.url], connections, 3, skus, 100);
    const single = await cannon({ url: `${a.url}/v1/quote`, connections, duration: seconds, method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const tier = await tiered([a.url, b.url], connections, seconds, skus, 200);
    const metricsAfter = [...(await metricLines(a.url)).map((l) => `A ${l}`), ...(await metricLines(b.url)).map((l) => `B ${l}`)];
    // steady state: every SKU read once on each replica (tier 1 then holds the whole catalogue)
    for (const u of [a.url, b.url]) {
      let k = 0;
      await cannon({ url: u, connections, amount: skus, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/products/S${k++}/quote` }) }] });
    }
    const warm = await tiered([a.url, b.url], connections, seconds, skus, 250);
    // the route against the reference on the same single process (A, tier 1 warm): what the
    // route costs, apart from what two replicas on one machine cost each other
    const oneReplica = await tiered([a.url], connections, seconds, skus, 275);

    // a model switch under load: register and activate on A a third of the way in, poll B
    const switchRun = tiered([a.url, b.url], connections, seconds, skus, 300);
    await new Promise((res) => setTimeout(res, (seconds * 1000) / 3));
    const reg = (await (await fetch(`${a.url}/v1/models`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(m2) })).json()) as { version: string };
    const ts = performance.now();
    const act = await fetch(`${a.url}/v1/models/${reg.version}/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const activateMs = performance.now() - ts;
    let bSeesMs = NaN;
    const want = modelSha256(m2);
    while (performance.now() - ts < 5000) {
      const q = (await (await fetch(`${b.url}/v1/products/S1/quote`)).json()) as { model_sha256?: string };
      if (q.model_sha256 === want) {
        bSeesMs = performance.now() - ts;
        break;
      }
      await new Promise((res) => setTimeout(res, 5));
    }
    const sw = await switchRun;

    const ratio = tier.rps / single.rps;
    const load = loadavg().map((x) => x.toFixed(1)).join(', ');
    const f = (x: number) => x.toFixed(1);
    const out = [
      '',
      '## Tiered quotes across two replicas (`npm run bench:tiered`)',
      '',
      `\`npm run build && node dist/bench/tiered.bench.js --duration ${seconds} --skus ${skus} --connections ${connections}\``,
      '',
      `${new Date().toISOString().slice(0, 16)}Z, node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}); load average at the end ${load} (the machine is shared: the two servers, redis-server and autocannon run on the same ${availableParallelism()} cores as other work). One redis-server, two \`repricer serve --redis\` processes (\`--workers 0\`, audit on), autocannon in the bench process; ${skus} SKUs published by \`repricer reprice --publish\` in ${f(publishS)} s (process start included): ${pubOut.split('\n').find((l) => l.startsWith('published')) ?? ''}.`,
      '',
      '| case | connections | req/s | p50 ms | p99 ms | requests | errors + non-2xx |',
      '|---|---|---|---|---|---|---|',
      `| POST /v1/quote, one process (reference) | ${connections} | ${Math.round(single.rps)} | ${single.p50} | ${single.p99} | ${single.requests} | ${single.errors} |`,
      `| GET /v1/products/:id/quote, 2 replicas, 80 % on 20 % of SKUs | ${connections} (${connections / 2} each) | ${Math.round(tier.rps)} (${tier.each.map((x) => Math.round(x.rps)).join(' + ')}) | ${tier.p50} | ${tier.p99} | ${tier.requests} | ${tier.errors} |`,
      `| the same, tier 1 warm (every SKU read once on each replica first) | ${connections} (${connections / 2} each) | ${Math.round(warm.rps)} (${warm.each.map((x) => Math.round(x.rps)).join(' + ')}) | ${warm.p50} | ${warm.p99} | ${warm.requests} | ${warm.errors} |`,
      `| GET /v1/products/:id/quote on replica A alone, tier 1 warm | ${connections} | ${Math.round(oneReplica.rps)} | ${oneReplica.p50} | ${oneReplica.p99} | ${oneReplica.requests} | ${oneReplica.errors} |`,
      `| the same with a model switch on replica A at ${f(seconds / 3)} s | ${connections} | ${Math.round(sw.rps)} | ${sw.p50} | ${sw.p99} | ${sw.requests} | ${sw.errors} |`,
      '',
      `- tiered p99 = ${tier.p99} ms after the publication, ${warm.p99} ms warm (target <= 25 ms): ${Math.max(tier.p99, warm.p99) <= 25 ? 'met' : 'NOT met'}; POST /v1/quote alone on the same machine: ${single.p99} ms`,
      `- tiered throughput = ${(100 * ratio).toFixed(0)} % after the publication, ${(100 * warm.rps / single.rps).toFixed(0)} % warm, of the single-process POST /v1/quote (target >= 70 %): ${Math.min(ratio, warm.rps / single.rps) >= 0.7 ? 'met' : 'NOT met'}`,
      `- one replica alone: ${(100 * oneReplica.rps / single.rps).toFixed(0)} % of POST /v1/quote on the same process, p99 ${oneReplica.p99} ms`,
      `- model switch: activation answered on A in ${f(activateMs)} ms (status ${act.status}); replica B served the new model ${Number.isFinite(bSeesMs) ? `${f(bSeesMs)} ms` : 'NOT within 5 s'} after the activation request; failed requests during the switch run: ${sw.errors} (target 0): ${sw.errors === 0 ? 'met' : 'NOT met'}`,
      '- tier counters after the case after the publication (A and B; the warm-ups included):',
      ...metricsAfter.map((l) => `  - \`${l}\``),
      '',
    ];
    const text = out.join('\n');
    process.stdout.write(text + '\n');
    appendFileSync(RESULTS, text);
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`bench:tiered failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
