/**
 * The one worker pool: a thin layer over Piscina that runs task modules it is handed by file
 * name, as Piscina intends (`run(task, { filename })`). It knows nothing of catalogues, fits or
 * quotes: each domain keeps its task module beside its own code (batch/catalogTask.ts,
 * model/fitTask.ts, pricing/quoteTask.ts, server/fitJobTask.ts) and names it with
 * `compiledTaskFile(import.meta.url, './x.js')`.
 *
 * Workers always run compiled JavaScript (dist/): under vitest or tsx the caller's module is a
 * .ts file in src/, and the task module it names is the compiled copy under dist/src/.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { Piscina, move, transferableSymbol, valueSymbol } from 'piscina';
import { RepricerError } from '../core/errors.js';

export interface TaskPoolOptions {
  /** worker threads, an integer >= 1; all started at once and kept (minThreads = maxThreads) */
  threads: number;
  /** the task module run when `run` names none */
  taskFile?: string;
  /** an idle thread is ended after this long (ms); default 60 000 */
  idleTimeoutMs?: number;
  /** handed to every thread (worker_threads' workerData): shared memories, compiled modules */
  workerData?: unknown;
  resourceLimits?: ResourceLimits;
}

export interface RunOptions {
  /** the task module; default the pool's taskFile */
  taskFile?: string;
  signal?: AbortSignal;
}

/**
 * The compiled task module `rel` next to the module at `importMetaUrl`. From dist/src/... that is
 * the sibling file; from src/... (vitest, tsx) it is the same path under <root>/dist/src/.
 */
export function compiledTaskFile(importMetaUrl: string, rel: string): string {
  const here = dirname(fileURLToPath(importMetaUrl));
  const parts = here.split(sep);
  const d = parts.lastIndexOf('dist');
  if (d >= 0 && parts[d + 1] === 'src') return resolve(here, rel);
  const s = parts.lastIndexOf('src');
  if (s < 0) return resolve(here, rel);
  const root = parts.slice(0, s).join(sep) || sep;
  return resolve(join(root, 'dist', 'src', relative(join(root, 'src'), here)), rel);
}

export class TaskPool {
  readonly threads: number;
  private readonly piscina: Piscina;

  constructor(opts: TaskPoolOptions) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) {
      throw new RepricerError('INVALID_ARGUMENT', `a pool needs an integer number of threads >= 1, got ${String(opts.threads)}`);
    }
    if (opts.taskFile !== undefined && !existsSync(opts.taskFile)) {
      throw new RepricerError('INTERNAL', `task module ${opts.taskFile} does not exist (run npm run build)`);
    }
    this.threads = opts.threads;
    this.piscina = new Piscina({
      filename: opts.taskFile ?? null,
      minThreads: opts.threads,
      maxThreads: opts.threads,
      idleTimeout: opts.idleTimeoutMs ?? 60_000,
      workerData: opts.workerData,
      resourceLimits: opts.resourceLimits,
    });
  }

  /** Run one task on a free thread; rejects with what the task threw (or the abort). */
  run<R>(task: unknown, opts: RunOptions = {}): Promise<R> {
    return this.piscina.run(task, { filename: opts.taskFile, signal: opts.signal }) as Promise<R>;
  }

  /**
   * Errors the pool reports outside any task: Piscina reports a result that arrives for a task it
   * no longer tracks (after an abort) as an 'error' event; unhandled, it would end the process.
   */
  onError(listener: (err: Error) => void): void {
    this.piscina.on('error', listener);
  }

  /** Remove a listener added by onError (a pool kept across jobs keeps no listener of a finished one). */
  offError(listener: (err: Error) => void): void {
    this.piscina.off('error', listener);
  }

  /** Tasks waiting for a thread. */
  get queued(): number {
    return this.piscina.queueSize;
  }

  /** Stop every thread; tasks still queued or running reject. */
  async destroy(): Promise<void> {
    await this.piscina.destroy();
  }
}

/**
 * A task's return value whose buffers are transferred, not cloned, back to the caller (Piscina's
 * transferable protocol). Call in the task module; the caller receives `value`.
 */
export function transferResult<T extends object>(value: T, buffers: ArrayBufferLike[]): unknown {
  return move({
    get [transferableSymbol]() {
      return buffers;
    },
    get [valueSymbol]() {
      return value;
    },
  } as unknown as ArrayBuffer);
}
