/**
 * The worker pools of a queue worker: one per shard it runs at once (a lane), each booted once and
 * kept across the shards of one model, since booting threads and their WASM costs about as much as
 * pricing a few thousand rows. Threads keep every model they priced with pinned in their memory,
 * so a pool is kept for one model only: a shard of another model gets a fresh pool. A pool is used
 * by one shard at a time; a shard that fails destroys its pool (batch/job.ts), and the lane boots a
 * new one for its next shard.
 */
import { availableParallelism } from 'node:os';
import { startCatalogPool } from '../batch/job.js';
import type { TaskPool } from '../pool/taskPool.js';

export class PoolLanes {
  private readonly idle: { pool: TaskPool; model: string }[] = [];
  readonly threads: number;

  constructor(threads: number | undefined, concurrency: number) {
    // by default the cores are shared among the shards run at once
    this.threads = threads ?? Math.max(1, Math.floor(availableParallelism() / concurrency));
  }

  /** A pool for one shard of `model` (its SHA-256): an idle one of that model, or a new one. */
  take(model: string): TaskPool {
    const i = this.idle.findIndex((l) => l.model === model);
    if (i >= 0) return this.idle.splice(i, 1)[0].pool;
    // pools of other models are ended (their threads hold those models)
    for (const l of this.idle.splice(0)) void l.pool.destroy().catch(() => undefined);
    return startCatalogPool(this.threads);
  }

  /** Give a pool back after a shard that succeeded (a failed shard's pool is destroyed, not given back). */
  give(pool: TaskPool, model: string): void {
    this.idle.push({ pool, model });
  }

  async close(): Promise<void> {
    await Promise.all(this.idle.splice(0).map((l) => l.pool.destroy().catch(() => undefined)));
  }
}
