/**
 * Retention of the price audit trail: rows older than `maxAgeMs`, and rows beyond the newest
 * `maxRows`, are deleted from the head of the table (lowest ids first) in small transactions of
 * at most `batchRows` rows, so the writer never holds the database for long and rows arriving
 * meanwhile are written between two steps. Run by the audit writer thread (auditWorker.ts) every
 * `intervalMs`, or on the main thread by the store when there is no writer thread.
 *
 * Only the first `batchRows` rows by id are looked at per step (no scan of a large table for
 * rows that are not there): rows are appended in time order, so the oldest are at the head.
 */
import type { Database as DB, Statement } from 'better-sqlite3';

export interface AuditRetention {
  /** delete rows older than this (milliseconds) */
  maxAgeMs?: number;
  /** keep at most this many rows (the newest) */
  maxRows?: number;
  /** how often to prune, default 60 000 ms */
  intervalMs?: number;
  /** rows deleted per transaction, default 2 000 */
  batchRows?: number;
}

export const DEFAULT_PRUNE_INTERVAL_MS = 60_000;
export const DEFAULT_PRUNE_BATCH_ROWS = 2_000;

/** True when the settings ask for any pruning. */
export function retains(r: AuditRetention | undefined): r is AuditRetention {
  return r !== undefined && (r.maxAgeMs !== undefined || r.maxRows !== undefined);
}

export class AuditPruner {
  private readonly byAge: Statement;
  private readonly maxId: Statement;
  private readonly byId: Statement;
  private readonly batch: number;

  constructor(
    db: DB,
    private readonly r: AuditRetention,
  ) {
    this.batch = r.batchRows ?? DEFAULT_PRUNE_BATCH_ROWS;
    this.byAge = db.prepare('DELETE FROM price_audit WHERE id IN (SELECT id FROM (SELECT id, at FROM price_audit ORDER BY id LIMIT ?) WHERE at < ?)');
    this.maxId = db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM price_audit');
    this.byId = db.prepare('DELETE FROM price_audit WHERE id IN (SELECT id FROM price_audit WHERE id <= ? ORDER BY id LIMIT ?)');
  }

  /** One small step (its own implicit transaction); the number of rows deleted. */
  step(now = Date.now()): number {
    let n = 0;
    if (this.r.maxRows !== undefined) {
      const cut = (this.maxId.get() as { m: number }).m - this.r.maxRows;
      if (cut > 0) n += this.byId.run(cut, this.batch).changes;
    }
    if (this.r.maxAgeMs !== undefined && n < this.batch) n += this.byAge.run(this.batch, new Date(now - this.r.maxAgeMs).toISOString()).changes;
    return n;
  }

  /** Steps until nothing is left to delete (or `stop()`), yielding to the event loop between steps. */
  async run(stop: () => boolean = () => false): Promise<number> {
    let total = 0;
    for (;;) {
      if (stop()) return total;
      const n = this.step();
      total += n;
      if (n === 0) return total;
      await new Promise((res) => setImmediate(res));
    }
  }
}
