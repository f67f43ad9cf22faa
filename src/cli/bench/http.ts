/**
 * `repricer bench`, HTTP: POST /v1/quote against GET /hello-world on the same server (a child
 * process, so the load generator does not share its event loop), each after a warm-up, with the
 * load generator of loadgen.ts (autocannon where importable, else a built-in one).
 */
import { fork } from 'node:child_process';
import { compiledTaskFile } from '../../pool/taskPool.js';
import { rng } from '../../batch/demoData.js';
import { loadGenerator, type LoadResult } from './loadgen.js';
import type { BenchRow } from './report.js';
import type { Sizes } from './sizes.js';
import { HTTP_SPEC } from './httpServer.js';

function quoteItem(seed: number): string {
  const r = rng(seed);
  return JSON.stringify({
    product_id: `SKU-${Math.floor(r() * HTTP_SPEC.products)}`,
    features: { f1: r() * 2 - 1, f2: r() * 2 - 1, f3: r() * 2 - 1, f4: r() * 2 - 1 },
    cost: 8 + r() * 8,
    current_price: 18 + r() * 6,
  });
}

export async function runHttp(s: Sizes): Promise<BenchRow[]> {
  // the server runs compiled JavaScript, like the worker pools (dist/src/cli/bench/httpServer.js)
  const child = fork(compiledTaskFile(import.meta.url, './httpServer.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    const address = await new Promise<string>((resolve, reject) => {
      child.once('message', (m: { address: string }) => resolve(m.address));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the benchmark server exited with code ${String(code)} before listening`)));
    });
    const gen = await loadGenerator();
    const load = gen.load;
    const run = async (path: string, body?: string): Promise<LoadResult> => {
      const o = { connections: s.httpConnections, method: body ? ('POST' as const) : ('GET' as const), body };
      await load(`${address}${path}`, { ...o, seconds: Math.max(0.2, s.httpSeconds / 4) }); // warm-up
      return load(`${address}${path}`, { ...o, seconds: s.httpSeconds });
    };
    // alternated, best of `reps` rounds each, so that load on the machine hits both alike
    const body = quoteItem(1);
    let hello!: LoadResult;
    let quote!: LoadResult;
    for (let k = 0; k < s.reps; k++) {
      const h = await run('/hello-world');
      const q = await run('/v1/quote', body);
      if (!hello || h.rps > hello.rps) hello = h;
      if (!quote || q.rps > quote.rps) quote = q;
    }
    const size = `${s.httpConnections} connections, best of ${s.reps} x ${s.httpSeconds} s`;
    const note = (r: LoadResult) => `${gen.name}; p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.requests} requests, ${r.errors} errors or non-2xx`;
    return [
      { case: 'GET /hello-world (Fastify baseline)', size, value: hello.rps, unit: 'req/s', note: note(hello) },
      { case: 'POST /v1/quote (one SKU, audit on)', size, value: quote.rps, unit: 'req/s', note: note(quote), compare: { label: 'hello-world', value: hello.rps, unit: 'req/s', ratio: quote.rps / hello.rps, ratioLabel: 'of hello-world' } },
    ];
  } finally {
    if (child.connected) child.send('stop');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}
