/**
 * The worker pools of a queue worker: one per shard it runs at once (a lane), each booted once and
 * kept across shards, since booting threads and their WASM costs about as much as pricing a few
 * thousand rows. A pool is used by one shard at a time; a shard that fails destroys its pool
 * (batch/job.ts), and the lane boots a new one for its next shard.
 */
import { availableParallelism } from 'node:os';
import { startCatalogPool } from '../batch/job.js';
import type { TaskPool } from '../pool/taskPool.js';

export class PoolLanes {
  private readonly idle: TaskPool[] = [];
  readonly threads: number;

  constructor(threads: number | undefined, concurrency: number) {
    // by default the cores are shared among the shards run at once
    this.threads = threads ?? Math.max(1, Math.floor(availableParallelism() / concurrency));
  }

  /** A pool for one shard: an idle one, or a new one. */
  take(): TaskPool {
    return this.idle.pop() ?? startCatalogPool(this.threads);
  }

  /** Give a pool back after a shard that succeeded (a failed shard's pool is destroyed, not given back). */
  give(pool: TaskPool): void {
    this.idle.push(pool);
  }

  async close(): Promise<void> {
    await Promise.all(this.idle.splice(0).map((p) => p.destroy().catch(() => undefined)));
  }
}
