/**
 * `repricer bench`, HTTP: the load generator. autocannon when it is importable (it is only a
 * devDependency: present in a source checkout, absent from an installed package), else a small
 * closed-loop generator on node:http with keep-alive agents: `connections` loops each send one
 * request, wait for the whole response, and send the next, for `seconds`. The built-in one costs
 * more client CPU per request, so on a small machine it saturates before the server does: its
 * req/s are lower than autocannon's, and the report names the generator.
 */
import { Agent, request } from 'node:http';

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** socket errors and non-2xx responses */
  errors: number;
}

export async function builtinLoad(url: string, o: { connections: number; seconds: number; method?: 'GET' | 'POST'; body?: string }): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const u = new URL(url);
  const body = o.body === undefined ? undefined : Buffer.from(o.body);
  const headers: Record<string, string | number> = body ? { 'content-type': 'application/json', 'content-length': body.length } : {};
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + o.seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const s = performance.now();
      const req = request({ agent, host: u.hostname, port: u.port, path: u.pathname, method: o.method ?? 'GET', headers }, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 300) errors++;
          latencies.push(performance.now() - s);
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const loop = async () => {
    while (performance.now() < end) await one();
  };
  await Promise.all(Array.from({ length: o.connections }, loop));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN);
  return { requests: latencies.length, seconds, rps: latencies.length / seconds, p50: q(0.5), p99: q(0.99), errors };
}

type Generator = (url: string, o: { connections: number; seconds: number; method?: 'GET' | 'POST'; body?: string }) => Promise<LoadResult>;

/** autocannon if it can be imported, else the built-in generator; and its name. */
export async function loadGenerator(): Promise<{ name: string; load: Generator }> {
  let ac: typeof import('autocannon') | undefined;
  try {
    ac = (await import('autocannon')).default;
  } catch {
    ac = undefined;
  }
  if (!ac) return { name: 'built-in node:http keep-alive generator (autocannon absent)', load: builtinLoad };
  const run = ac;
  return {
    name: 'autocannon',
    load: async (url, o) => {
      const r = await run({ url, connections: o.connections, duration: o.seconds, method: o.method ?? 'GET', headers: { 'content-type': 'application/json' }, body: o.body });
      return { requests: r.requests.total, seconds: o.seconds, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
    },
  };
}
