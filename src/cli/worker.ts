/** `repricer worker`: take shards of distributed runs from Redis (src/queue/queueWorker.ts). */
import type { Command } from 'commander';
import { RepricerError } from '../core/errors.js';
import { QueueWorker } from '../queue/queueWorker.js';
import { WorkerMetrics } from '../queue/workerMetrics.js';
import { checkRedisUrl } from '../queue/connection.js';

function int(name: string, min: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new RepricerError('INVALID_ARGUMENT', `${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('worker')
    .description('take shards of distributed reprice runs from Redis and price them on this machine')
    .usage('--queue redis://HOST:PORT/DB [--workers N] [--concurrency K] [--metrics-port P] [--lock-ms MS]')
    .requiredOption('--queue <url>', 'the Redis of the runs (redis://HOST:PORT/DB)')
    .option('--workers <n>', "worker threads of each shard's pool, booted once and kept (default: the cores shared among --concurrency shards)", int('--workers', 1))
    .option('--concurrency <k>', 'shards this process runs at once (default 1)', int('--concurrency', 1), 1)
    .option('--metrics-port <p>', 'serve Prometheus metrics at GET /metrics on this port (0: any free port, printed)', int('--metrics-port', 0))
    .option('--lock-ms <ms>', 'job lock: a worker silent this long is presumed dead and its shard re-run elsewhere (default 30000)', int('--lock-ms', 100), 30_000)
    .action(async (o: { queue: string; workers?: number; concurrency: number; metricsPort?: number; lockMs: number }) => {
      checkRedisUrl(o.queue);
      const metrics = new WorkerMetrics();
      const log = (line: string) => process.stderr.write(`worker: ${line}\n`);
      const listening = o.metricsPort !== undefined ? await metrics.listen(o.metricsPort) : undefined;
      if (listening) log(`metrics on http://0.0.0.0:${listening.port}/metrics`);
      const w = new QueueWorker({ url: o.queue, threads: o.workers, concurrency: o.concurrency, lockMs: o.lockMs, metrics, log });
      await w.ready();
      log(`ready: pid ${process.pid}, ${o.concurrency} shard${o.concurrency > 1 ? 's' : ''} at a time, lock ${o.lockMs} ms`);
      // SIGINT/SIGTERM: finish the running shards, then exit (a second signal leaves them to lapse)
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = () => {
          if (stopping) {
            void w.close(true).finally(resolve);
            return;
          }
          stopping = true;
          log('stopping: finishing the running shards (signal again to leave them to other workers)');
          void w.close().finally(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      listening?.server.close();
      log('stopped');
    });
}
