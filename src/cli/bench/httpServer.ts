/**
 * `repricer bench`, HTTP: the server process (forked by http.ts). The API as `repricer serve` runs
 * it (audit trail and metrics on, rate limit raised so that it never trips) plus a hello-world
 * route on the same Fastify instance, so the baseline shares the server, the process and the run.
 * Tells its parent the address, then waits for "stop".
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../../server/app.js';
import { demoModel } from '../../batch/demoData.js';

export const HTTP_SPEC = { products: 2000, features: 4, seed: 3 };

async function main(): Promise<void> {
  const app = buildApp({ model: demoModel(HTTP_SPEC), rateLimit: { max: 1e9, timeWindow: '1 minute' }, pool: false, docs: false });
  app.register(async (a) => {
    a.get('/hello-world', async () => ({ hello: 'world' }));
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  process.send!({ address });
  process.on('message', (m) => {
    if (m === 'stop') void app.close().then(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0)); // the parent died: do not linger
}

// run only as the forked entry point (http.ts imports HTTP_SPEC from here)
if (process.send && process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) void main();
