/**
 * The batch job's tasks in flight: each chunk is run on the pool (a chunk whose worker crashed is
 * retried once), at most `maxInFlight` at a time, and the results are handed back in input order.
 * The first failure (a bad row, a chunk that failed twice, an interrupt, a pool error) is kept and
 * stops further dispatch.
 */
import { RepricerError } from '../core/errors.js';
import type { TaskPool } from '../pool/taskPool.js';
import type { CatalogResult, CatalogTask } from './catalogTask.js';

/** The error of a job stopped by its signal. */
export const interrupted = () => new RepricerError('INTERRUPTED', 'interrupted; no output was written');

/** The failure of a range pass over a CSV with quotes: the job starts again on the main-thread path (byteRanges.ts). */
export const QUOTED = new RepricerError('INTERNAL', 'a quoted CSV field: rows may span lines, the catalogue is read on the main thread');

/** Optional hooks of a queue whose tasks share an output board (outputBoard.ts). */
export interface QueueHooks {
  /** the first failure was recorded (no later chunk will be written) */
  onFailure?: () => void;
  /** chunk `seq`'s worker crashed; it is retried */
  onCrash?: (seq: number) => void;
  /** a worker's error as the job reports it (a range task's line numbers made absolute) */
  mapError?: (r: CatalogResult) => NonNullable<CatalogResult['error']>;
  /**
   * a worker's error fails the job only once every earlier chunk is delivered (range tasks: a
   * range inside a quoted field that spans lines sees no quote and may fail on a "row" that is
   * part of the field; the range with the field's opening quote comes first and declines)
   */
  errorsInOrder?: boolean;
}

/** A worker's result with what the task carried: its output slot, and its input in bytes (text) and rows (Parquet ranges). */
export type ChunkResult = CatalogResult & { slot?: SharedArrayBuffer; inBytes: number; inRows: number };

export class ChunkQueue {
  failure: unknown;
  retries = 0;
  private readonly pending = new Map<number, ChunkResult>();
  private nextToWrite = 0;
  private inFlight = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly pool: TaskPool,
    private readonly signal: AbortSignal | undefined,
    private readonly maxInFlight: number,
    /** each successful result, in input order (awaited before the next) */
    private readonly deliver: (r: ChunkResult) => Promise<void>,
    private readonly hooks: QueueHooks = {},
  ) {
    // Piscina reports a result for a task it no longer tracks as an 'error' event: after an abort
    // that is a chunk finishing as it was cancelled (harmless); otherwise the job cannot trust its
    // bookkeeping and fails. Without a listener the event would be an uncaught exception.
    pool.onError(this.onPoolError);
  }

  private readonly onPoolError = (err: Error): void => {
    if (!this.signal?.aborted && !this.failure) this.fail(new RepricerError('INTERNAL', `worker pool: ${err.message.split('\n')[0]}`));
  };

  /** Stop listening to the pool (after drain; a pool kept across jobs, src/queue/, would gather listeners). */
  dispose(): void {
    // after an abort or a failure a cancelled chunk may still report: the listener stays (without
    // it the report would be an uncaught exception), and such a pool is destroyed anyway
    if (this.signal?.aborted || this.failure) return;
    this.pool.offError(this.onPoolError);
  }

  /** Run a task; `release` (giving back its input slot) is called once the task is settled. */
  submit(task: CatalogTask, release?: () => void): void {
    this.inFlight++;
    const runOnce = () => this.pool.run<CatalogResult>(task, { signal: this.signal });
    runOnce()
      .catch((err: unknown) => {
        if (this.signal?.aborted) throw err;
        this.retries++;
        this.hooks.onCrash?.(task.seq);
        return runOnce();
      })
      .then(
        (r: CatalogResult) => {
          if (r.error && !this.failure && !this.hooks.errorsInOrder) this.failWith(r);
          if (r.quoted && !this.failure) this.fail(QUOTED);
          const inBytes = task.range ? task.range.end - task.range.start : task.bytes.length;
          this.pending.set(r.seq, { ...r, slot: task.outSlot, inBytes, inRows: task.rows ? task.rows.end - task.rows.start : 0 });
        },
        (err: unknown) => {
          if (!this.failure) this.fail(this.signal?.aborted ? interrupted() : new RepricerError('WORKER_CRASHED', `chunk ${task.seq} (${task.range ? `bytes ${task.range.start}-${task.range.end}` : `from line ${task.firstLine}`}) failed twice: ${(err as Error).message}`));
        },
      )
      .finally(() => {
        release?.();
        this.inFlight--;
        this.notify();
      });
  }

  private failWith(r: CatalogResult): void {
    const e = this.hooks.mapError ? this.hooks.mapError(r) : r.error!;
    this.fail(new RepricerError(e.code as 'INPUT_ROW_INVALID', e.message, e.details));
  }

  private fail(err: unknown): void {
    this.failure = err;
    this.hooks.onFailure?.();
  }

  /** Deliver what is done, waiting while `maxInFlight` tasks are in flight (or until a failure). */
  async waitForRoom(): Promise<void> {
    while (this.inFlight >= this.maxInFlight && !this.failure) {
      await this.settled();
      await this.flush();
    }
    await this.flush();
  }

  /** Wait for every task in flight and deliver the results. */
  async drain(): Promise<void> {
    while (this.inFlight > 0) {
      await this.settled();
      await this.flush();
    }
    await this.flush();
  }

  private settled(): Promise<void> {
    return new Promise<void>((r) => (this.wake = r));
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async flush(): Promise<void> {
    while (this.pending.has(this.nextToWrite)) {
      const r = this.pending.get(this.nextToWrite)!;
      this.pending.delete(this.nextToWrite);
      this.nextToWrite++;
      if (r.error && this.hooks.errorsInOrder && !this.failure) this.failWith(r);
      if (r.error || r.quoted) continue; // recorded as the failure (or after it)
      await this.deliver(r);
    }
  }
}
