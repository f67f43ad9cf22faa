/**
 * HTTP benchmark: autocannon on loopback against one server process that serves both
 * the API and a hello-world route, so the baseline runs on the same server in the same run.
 *
 *   npm run bench:http                       (builds, then node dist/bench/http.bench.js)
 *   node dist/bench/http.bench.js --duration 5 --connections 50
 *
 * Cases (each after a 1 s warm-up, bounded duration):
 *   GET  /hello-world     vs  POST /v1/quote    50 connections, alternated twice, means compared
 *   POST /bench/quote-shape                     /v1/quote's schemas, fixed record: the framework's share
 *   POST /v1/quotes with 1 000 and 10 000 SKUs  1 connection (latency of one batch); 10 000 again on
 *                                               a second server without the audit trail
 *   POST /v1/market/quote                       50 connections: one item again and again (tier 1, the
 *                                               hot item price) and a new item every request (tier 2,
 *                                               the segment template), next to hello-world
 *   POST /v1/market/events (1 000 rows)         1 connection: online clearing's ingest rate
 * The server runs in a child process (autocannon would otherwise share its event loop) with the
 * production defaults: rate limiting on (limit raised so it never trips), audit trail on, metrics
 * on, docs on, worker pool for bodies >= 2 000 SKUs. Targets: quote >= 60% of
 * hello-world req/s, quote p99 <= 10 ms at 50 connections, 10 000-SKU batch <= 50 ms median.
 * Writes the results as a section to bench/RESULTS-http.md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { cpus, availableParallelism, loadavg } from 'node:os';
import autocannon from 'autocannon';
import { buildApp } from '../src/server/app.js';
import { demoModel, rng } from '../src/batch/demoData.js';
import { quoteBodySchema, quoteResponseSchema } from '../src/server/schemas.js';
import { randomMarket } from '../src/market/randomMarket.js';
import { toMarketFile } from '../src/market/marketFile.js';

const SPEC = { products: 2000, features: 4, seed: 3 };
/** the served market: 12 (zone, asset) pairs in 4 zones, 100 consumer types, 5 suppliers */
const MARKET = { products: 12, nests: 4, consumers: 100, suppliers: 5 };
const BENCH_KEY = 'bench-key-0123456789';

/** 1 000 event-log rows over the market's pairs (n<l>/p<i>): searches, bookings, listings, views in turn. */
function marketEvents(): string {
  const types = ['search', 'booking', 'search', 'listing', 'view', 'booking'] as const;
  const rows = Array.from({ length: 1000 }, (_, r) => {
    const i = r % MARKET.products;
    const zone = `n${1 + Math.floor(i / 3)}`; // randomMarket: 12 products in 4 nests of 3
    const type = types[r % types.length];
    const base = { time: '2026-12-05T18:30:00Z', type, zone, asset: `p${i + 1}`, booked: type === 'booking' ? 1 : 0 };
    return type === 'search' ? base : { ...base, item_id: `car-${r}`, price_shown: 2, ...(type === 'listing' ? { quantity: 3 } : {}) };
  });
  return JSON.stringify({ events: rows });
}

function items(n: number, seed: number) {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => ({
    product_id: r() < 0.02 ? `NEW-${i}` : `SKU-${Math.floor(r() * SPEC.products)}`,
    features: { f1: r() * 2 - 1, f2: r() * 2 - 1, f3: r() * 2 - 1, f4: r() * 2 - 1 },
    cost: 8 + r() * 8,
    current_price: 18 + r() * 6,
  }));
}

async function serverMain(): Promise<void> {
  const app = buildApp({
    model: demoModel(SPEC),
    rateLimit: { max: 1e9, timeWindow: '1 minute' },
    pool: { threshold: Number(process.env.POOL_THRESHOLD ?? 2000) },
    warmPool: true,
    audit: process.env.REPRICER_BENCH_AUDIT !== '0',
    market: { market: toMarketFile(randomMarket(1, MARKET)) },
    apiKey: BENCH_KEY,
  });
  // the same body and response schemas as /v1/quote and a fixed record of the same shape: what a
  // quote costs in the framework (parse, validate, serialise, hooks) without the engine
  const shape = {
    product_id: 'SKU-1', price: 19.36504389818072, previous_price: 21, change_pct: -7.785505246758481, win_probability: 0.8885846284218196,
    expected_profit: 8.321634052418943, delta: 1.1102230246251565e-15, gamma: -0.7313743243650873, vega: -1.0832161497551565,
    price_std_error: 0.02437063083941594, status: 'ok', reason: '', cold_start: false, model_version: 'v1',
  };
  app.register(async (a) => {
    a.get('/hello-world', async () => ({ hello: 'world' }));
    a.post('/bench/quote-shape', { schema: { body: quoteBodySchema, response: { 200: quoteResponseSchema } } }, async () => shape);
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  // warm the pool so the first batch does not pay for thread start-up
  await app.inject({ method: 'POST', url: '/v1/quotes', payload: { items: items(4000, 99) } });
  process.send!({ address });
  process.on('message', (m) => {
    if (m === 'cpu') process.send!({ cpu: process.cpuUsage() });
    if (m === 'stop') void app.close().then(() => process.exit(0));
  });
}

interface Case {
  name: string;
  /** server process CPU time (all threads) per request, in microseconds: robust to a busy machine */
  cpuUs: number;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  requests: number;
}

let server!: ChildProcess;
function serverCpu(): Promise<number> {
  return new Promise((res) => {
    server.once('message', (m: { cpu: NodeJS.CpuUsage }) => res(m.cpu.user + m.cpu.system));
    server.send('cpu');
  });
}

async function run(name: string, url: string, connections: number, duration: number, body?: string | (() => string), method: 'GET' | 'POST' = body ? 'POST' : 'GET'): Promise<Case> {
  // a body function gives every request its own body
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` };
  const opts = typeof body === 'function'
    ? { url, connections, method, headers, requests: [{ setupRequest: (req: object) => ({ ...req, body: body() }) }] }
    : { url, connections, method, headers, body };
  await autocannon({ ...opts, duration: 1 }); // warm-up
  const c0 = await serverCpu();
  const r = await autocannon({ ...opts, duration });
  const c1 = await serverCpu();
  return { name, connections, cpuUs: (c1 - c0) / Math.max(1, r.requests.total), rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx, requests: r.requests.total };
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

async function benchMain(): Promise<void> {
  const duration = arg('duration', 5);
  const connections = arg('connections', 50);
  const startServer = async (audit: boolean): Promise<string> => {
    server = fork(fileURLToPath(import.meta.url), ['--server'], { stdio: 'inherit', env: { ...process.env, REPRICER_BENCH_AUDIT: audit ? '1' : '0' } });
    return new Promise<string>((res) => server.once('message', (m: { address: string }) => res(m.address)));
  };
  const stopServer = async () => {
    server.send('stop');
    await new Promise((r) => server.once('exit', r));
  };
  const address = await startServer(true);
  const quoteBody = JSON.stringify(items(1, 1)[0]);
  const b1k = JSON.stringify({ items: items(1000, 2) });
  const b10k = JSON.stringify({ items: items(10_000, 3) });

  const hello: Case[] = [];
  const quote: Case[] = [];
  const shape: Case[] = [];
  const marketHot: Case[] = [];
  const marketNew: Case[] = [];
  const marketBody = JSON.stringify({ item_id: 'car-1', zone: 'n2', asset: 'p5', time: '2026-12-05T18:30:00Z', previous_price: 2 });
  let item = 0;
  const newItem = () => JSON.stringify({ item_id: `car-${++item}`, zone: `n${1 + (item % 4)}`, asset: `p${1 + 3 * (item % 4)}`, time: '2026-12-05T18:30:00Z' });
  for (let k = 0; k < 2; k++) {
    hello.push(await run('GET /hello-world', `${address}/hello-world`, connections, duration));
    shape.push(await run('POST /bench/quote-shape (no engine)', `${address}/bench/quote-shape`, connections, duration, quoteBody));
    quote.push(await run('POST /v1/quote', `${address}/v1/quote`, connections, duration, quoteBody));
    marketHot.push(await run('POST /v1/market/quote (one item: tier 1)', `${address}/v1/market/quote`, connections, duration, marketBody));
    marketNew.push(await run('POST /v1/market/quote (a new item each: tier 2)', `${address}/v1/market/quote`, connections, duration, newItem));
  }
  const batch1k = await run('POST /v1/quotes (1 000 SKUs)', `${address}/v1/quotes`, 1, duration, b1k);
  const batch10k = await run('POST /v1/quotes (10 000 SKUs)', `${address}/v1/quotes`, 1, duration, b10k);
  const events = await run('POST /v1/market/events (1 000 rows)', `${address}/v1/market/events`, 1, duration, marketEvents());
  await stopServer();
  // the same batch on a server without the audit trail: what the SQLite writes cost
  const noAudit = await startServer(false);
  const batch10kNoAudit = await run('POST /v1/quotes (10 000 SKUs, audit off)', `${noAudit}/v1/quotes`, 1, duration, b10k);
  await stopServer();

  const mean = (cs: Case[], k: 'rps' | 'p50' | 'p99' | 'cpuUs') => cs.reduce((s, c) => s + c[k], 0) / cs.length;
  const ratio = mean(quote, 'rps') / mean(hello, 'rps');
  const cpuRatio = mean(hello, 'cpuUs') / mean(quote, 'cpuUs');
  const rows = [...hello, ...shape, ...quote, ...marketHot, ...marketNew, events, batch1k, batch10k, batch10kNoAudit];
  const fmt = (c: Case) => `| ${c.name} | ${c.connections} | ${Math.round(c.rps)} | ${c.p50} | ${c.p99} | ${Math.round(c.cpuUs)} | ${c.requests} | ${c.errors + c.non2xx} |`;
  const qp99 = mean(quote, 'p99');
  const lines = [
    '## HTTP API (`npm run bench:http`)',
    '',
    `${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), autocannon on loopback, ${duration} s per case after a 1 s warm-up; server in a child process with rate limiting (limit raised), audit trail, metrics and docs on; pool for bodies >= 2 000 SKUs. Demo model: ${SPEC.products} products, ${SPEC.features} features.`,
    '',
    '| case | connections | req/s | p50 ms | p99 ms | server CPU us/req | requests | errors + non-2xx |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(fmt),
    '',
    `- /v1/quote throughput = ${(100 * ratio).toFixed(0)}% of hello-world on the same server (target >= 60%): ${ratio >= 0.6 ? 'met' : 'NOT met'}; by server CPU per request (hello / quote): ${(100 * cpuRatio).toFixed(0)}%`,
    `- framework baseline: a POST with /v1/quote's schemas answering a fixed record of the same shape (one handler call per request) reaches ${(100 * mean(shape, 'rps') / mean(hello, 'rps')).toFixed(0)}% of hello-world at ${Math.round(mean(shape, 'cpuUs'))} us CPU/req; /v1/quote, which prices the quotes of one event-loop turn in one engine call, costs ${Math.round(mean(quote, 'cpuUs'))} us CPU/req`,
    `- load average during the run: ${loadavg().map((x) => x.toFixed(1)).join(', ')} (autocannon, the server and anything else on the machine share ${availableParallelism()} cores)`,
    `- /v1/quote p99 = ${qp99.toFixed(1)} ms at ${connections} connections (target <= 10 ms): ${qp99 <= 10 ? 'met' : 'NOT met'}`,
    `- /v1/market/quote (market of ${MARKET.products} zone-asset pairs, ${MARKET.consumers} consumer types, ${MARKET.suppliers} suppliers): one item ${Math.round(mean(marketHot, 'rps'))} req/s = ${(100 * mean(marketHot, 'rps') / mean(hello, 'rps')).toFixed(0)}% of hello-world, p50 ${mean(marketHot, 'p50').toFixed(1)} ms, p99 ${mean(marketHot, 'p99').toFixed(1)} ms; a new item each request ${Math.round(mean(marketNew, 'rps'))} req/s = ${(100 * mean(marketNew, 'rps') / mean(hello, 'rps')).toFixed(0)}%, p50 ${mean(marketNew, 'p50').toFixed(1)} ms, p99 ${mean(marketNew, 'p99').toFixed(1)} ms; events: ${Math.round(events.rps * 1000)} rows/s in bodies of 1 000 (p50 ${events.p50} ms a body)`,
    `- 10 000-SKU batch median = ${batch10k.p50} ms (target <= 50 ms): ${batch10k.p50 <= 50 ? 'met' : 'NOT met'}; without the audit trail ${batch10kNoAudit.p50} ms; 1 000 SKUs: ${batch1k.p50} ms`,
    '',
  ];
  const text = lines.join('\n');
  process.stdout.write(text + '\n');
  writeFileSync(new URL('../../bench/RESULTS-http.md', import.meta.url), text);
}

if (process.argv.includes('--server')) void serverMain();
else void benchMain();
