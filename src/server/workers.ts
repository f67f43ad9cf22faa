/**
 * The server's worker pool (src/pool/taskPool.ts), started on first use: quote tasks
 * (pricing/quoteTask.ts) for bodies of at least `threshold` SKUs and fit jobs (fitJobTask.ts).
 * A quote run that fails is redone on the main thread by the quote service, which tells
 * `quotePool.onPoolFallback`: the failure is logged through the app's logger and counted in
 * repricer_pool_fallbacks_total{task="quote"}.
 */
import { availableParallelism } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import { TaskPool, compiledTaskFile } from '../pool/taskPool.js';
import { RepricerError } from '../core/errors.js';
import type { Policy } from '../pricing/policy.js';
import type { PriceColumns } from '../pricing/engine.js';
import type { QuoteTask } from '../pricing/quoteTask.js';
import type { Metrics } from './metrics.js';
import type { ActiveModel } from './modelRegistry.js';
import type { PoolRunner } from './quoteService.js';
import type { FitRunner } from './jobs.js';
import type { FitTaskResult } from './fitJobTask.js';

export interface PoolOptions {
  /** default: availableParallelism() */
  threads?: number;
  /** bodies of at least this many SKUs are priced on the pool (default 2 000) */
  threshold?: number;
  /** the quote task module (default pricing/quoteTask.js under dist/src) */
  workerFile?: string;
  /** the fit task module (default server/fitJobTask.js under dist/src) */
  fitTaskFile?: string;
}

export interface ServerWorkers {
  /**
   * The quote service's pool: the runner and what a failed run tells (the chunk is priced on the
   * main thread instead; logged and counted). Empty when the pool is disabled.
   */
  quotePool: { pool: PoolRunner; onPoolFallback: (err: unknown) => void } | Record<string, never>;
  poolThreshold: number;
  /** runs a fit job; a disabled pool fails it with JOB_FAILED */
  runFit: FitRunner;
  /** true once the pool has been started (and must be destroyed) */
  started(): boolean;
  /** start the threads and their WASM cores: one quote of the active model, if any */
  warmUp(model: ActiveModel | undefined, policy: Policy): Promise<void>;
  destroy(): Promise<void>;
}

/** The pool of `opts` (false: none, everything on the main thread and fit jobs fail). */
export function serverWorkers(opts: false | PoolOptions | undefined, deps: { log: FastifyBaseLogger; metrics: Metrics }): ServerWorkers {
  let pool: TaskPool | undefined;
  const poolOpts = opts === false ? undefined : (opts ?? {});
  const quoteTaskFile = poolOpts?.workerFile ?? compiledTaskFile(import.meta.url, '../pricing/quoteTask.js');
  const fitTaskFile = poolOpts?.fitTaskFile ?? compiledTaskFile(import.meta.url, './fitJobTask.js');
  const getPool = (): TaskPool => {
    if (!poolOpts) throw new RepricerError('INTERNAL', 'the worker pool is disabled');
    pool ??= new TaskPool({ threads: poolOpts.threads ?? availableParallelism(), idleTimeoutMs: 60_000 });
    return pool;
  };
  const runQuotes: PoolRunner = (model, policy, chunk, columns, agent) => {
    const task: QuoteTask = { model, policy, chunk, columns, ...(agent ? { agent } : {}) };
    return getPool().run<PriceColumns>(task, { taskFile: quoteTaskFile });
  };
  return {
    quotePool: poolOpts
      ? {
          pool: runQuotes,
          onPoolFallback: (err) => {
            deps.metrics.poolFallbacks.inc({ task: 'quote' });
            deps.log.warn({ err }, 'quote pool run failed; priced on the main thread instead');
          },
        }
      : {},
    poolThreshold: poolOpts?.threshold ?? 2000,
    runFit: async (task) => {
      if (!poolOpts) return { ok: false, error: { code: 'JOB_FAILED', message: 'fit jobs need the worker pool, which is disabled' } };
      return getPool().run<FitTaskResult>(task, { taskFile: fitTaskFile });
    },
    started: () => pool !== undefined,
    warmUp: async (m, policy) => {
      if (!poolOpts) return;
      if (!m) return void getPool();
      const x = new Float64Array(m.compiled.D);
      const nan = () => new Float64Array([NaN]);
      await runQuotes(m.shared(), policy, { n: 1, ids: ['warm-up'], x, cost: nan(), currentPrice: nan(), minPrice: nan(), maxPrice: nan() });
    },
    destroy: async () => {
      if (pool) await pool.destroy();
    },
  };
}
