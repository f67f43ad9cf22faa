/**
 * A queue worker's Prometheus metrics (prom-client), on its own registry and, with
 * --metrics-port, served at GET /metrics by a plain HTTP listener.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly shardsDone = new Counter({ name: 'repricer_queue_shards_done_total', help: 'shards this worker finished (a part written)', registers: [this.registry] });
  readonly shardsFailed = new Counter({ name: 'repricer_queue_shards_failed_total', help: 'shard attempts that failed for good (no retry left, or an error a retry cannot fix)', registers: [this.registry] });
  readonly shardsRetried = new Counter({ name: 'repricer_queue_shards_retried_total', help: 'shard attempts that failed and will be retried', registers: [this.registry] });
  readonly shardsRerun = new Counter({ name: 'repricer_queue_shards_rerun_total', help: 'shards this worker started that had been started before (a retry, or a re-delivery after a lock lapsed)', registers: [this.registry] });
  readonly rows = new Counter({ name: 'repricer_queue_rows_total', help: 'catalogue rows priced in finished shards', registers: [this.registry] });
  readonly runsFinalised = new Counter({ name: 'repricer_queue_runs_finalised_total', help: 'runs this worker assembled', registers: [this.registry] });
  readonly active = new Gauge({ name: 'repricer_queue_shards_active', help: 'shards running now', registers: [this.registry] });
  readonly shardSeconds = new Histogram({ name: 'repricer_queue_shard_seconds', help: 'wall time of a finished shard, model fetch to part renamed', buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers: [this.registry] });
  readonly finaliseSeconds = new Histogram({ name: 'repricer_queue_finalise_seconds', help: 'wall time of assembling a run (manifest, concatenation, rename)', buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'repricer_queue_worker_' });
  }

  /** Serve GET /metrics on `port` (0: any free port); resolves to the port bound. */
  listen(port: number, host = '0.0.0.0'): Promise<{ server: Server; port: number }> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const a = server.address();
        resolve({ server, port: typeof a === 'object' && a ? a.port : port });
      });
    });
  }
}
