/**
 * Observation batches in the store: every `POST /v1/observations` body is one batch, with an id
 * (the client's idempotency key, or one made up here), the sha-256 of its rows, and the id range
 * of the rows it added. The rows and the batch record are written in one SQLite transaction, so a
 * batch that was committed is known by its key even if the acknowledgement never reached the
 * client: a retry with the same key and the same rows changes nothing and gets the original
 * acknowledgement back; the same key with other rows is a CONFLICT. Deleting a batch removes its
 * rows and keeps the record (marked deleted), so a late retry of a batch an operator removed is
 * refused instead of adding the rows again.
 *
 * Databases written before batches existed are migrated on open: the `batch_id` column is added
 * and their rows become one batch named `legacy`, which can be listed and deleted like any other.
 */
import type { Database as DB, Statement } from 'better-sqlite3';
import { RepricerError } from '../core/errors.js';

export interface ObservationInput {
  product_id: string;
  features: Record<string, number>;
  price: number;
  won: 0 | 1 | boolean;
  competitor_price?: number | null;
  weight?: number;
}

export interface BatchRecord {
  batch_id: string;
  seq: number;
  received_at: string;
  rows: number;
  first_id: number;
  last_id: number;
  status: 'stored' | 'deleted';
  deleted_at: string | null;
}

export interface AppendResult {
  batch: BatchRecord;
  /** true: the batch was already stored with the same rows; nothing was written */
  replayed: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS observation_batches (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  sha256 TEXT NOT NULL,
  rows INTEGER NOT NULL,
  first_id INTEGER NOT NULL,
  last_id INTEGER NOT NULL,
  received_at TEXT NOT NULL,
  deleted_at TEXT
);
`;

interface BatchRow {
  seq: number;
  id: string;
  sha256: string;
  rows: number;
  first_id: number;
  last_id: number;
  received_at: string;
  deleted_at: string | null;
}

const record = (r: BatchRow): BatchRecord => ({
  batch_id: r.id,
  seq: r.seq,
  received_at: r.received_at,
  rows: r.rows,
  first_id: r.first_id,
  last_id: r.last_id,
  status: r.deleted_at === null ? 'stored' : 'deleted',
  deleted_at: r.deleted_at,
});

/** The `observations` table must exist; adds what batches need (idempotent). */
function migrate(db: DB): void {
  db.exec(SCHEMA);
  const cols = db.prepare('PRAGMA table_info(observations)').all() as { name: string }[];
  if (!cols.some((c) => c.name === 'batch_id')) {
    db.transaction(() => {
      db.exec('ALTER TABLE observations ADD COLUMN batch_id TEXT');
      const r = db.prepare('SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi, MIN(received_at) AS at FROM observations').get() as { n: number; lo: number; hi: number; at: string };
      if (r.n > 0) {
        db.prepare("UPDATE observations SET batch_id = 'legacy'").run();
        db.prepare("INSERT INTO observation_batches (id, sha256, rows, first_id, last_id, received_at) VALUES ('legacy', '', ?, ?, ?, ?)").run(r.n, r.lo, r.hi, r.at);
      }
    })();
  }
  db.exec('CREATE INDEX IF NOT EXISTS observations_batch ON observations (batch_id)');
}

export class ObservationBatches {
  private readonly ins: Statement;
  private readonly insBatch: Statement;
  private readonly byId: Statement;
  private readonly list: Statement;
  private readonly listBefore: Statement;
  private readonly delRows: Statement;
  private readonly markDeleted: Statement;

  constructor(private readonly db: DB) {
    migrate(db);
    this.ins = db.prepare('INSERT INTO observations (product_id, features, price, won, competitor_price, weight, received_at, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.insBatch = db.prepare('INSERT INTO observation_batches (id, sha256, rows, first_id, last_id, received_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.byId = db.prepare('SELECT * FROM observation_batches WHERE id = ?');
    this.list = db.prepare('SELECT * FROM observation_batches ORDER BY seq DESC LIMIT ?');
    this.listBefore = db.prepare('SELECT * FROM observation_batches WHERE seq < ? ORDER BY seq DESC LIMIT ?');
    this.delRows = db.prepare('DELETE FROM observations WHERE batch_id = ?');
    this.markDeleted = db.prepare('UPDATE observation_batches SET deleted_at = ? WHERE id = ?');
  }

  /**
   * Store `rows` as batch `id` in one transaction, or recognise a retry. `sha256` identifies the
   * rows; `check` runs (inside the transaction, before anything is written) only for a new batch
   * and may throw to refuse it.
   */
  append(id: string, sha256: string, rows: ObservationInput[], check: () => void): AppendResult {
    return this.db.transaction((): AppendResult => {
      const old = this.byId.get(id) as BatchRow | undefined;
      if (old) {
        if (old.deleted_at !== null) {
          throw new RepricerError('CONFLICT', `observation batch ${JSON.stringify(id)} was deleted at ${old.deleted_at}; send new rows under a new key`, { batch_id: id, deleted_at: old.deleted_at });
        }
        if (old.sha256 !== sha256) {
          throw new RepricerError('CONFLICT', `observation batch ${JSON.stringify(id)} was already stored with other rows (${old.rows} rows at ${old.received_at}); a retry must send the same rows, new rows need a new key`, {
            batch_id: id,
          });
        }
        return { batch: record(old), replayed: true };
      }
      check();
      const at = new Date().toISOString();
      let first = 0;
      let last = 0;
      rows.forEach((r, i) => {
        const won = r.won === true || r.won === 1 ? 1 : 0;
        const info = this.ins.run(r.product_id, JSON.stringify(r.features), r.price, won, r.competitor_price ?? null, r.weight ?? 1, at, id);
        const rowId = Number(info.lastInsertRowid);
        if (i === 0) first = rowId;
        last = rowId;
      });
      const info = this.insBatch.run(id, sha256, rows.length, first, last, at);
      return { batch: { batch_id: id, seq: Number(info.lastInsertRowid), received_at: at, rows: rows.length, first_id: first, last_id: last, status: 'stored', deleted_at: null }, replayed: false };
    })();
  }

  /** Batches newest first; `before` = a seq seen, for paging. */
  batches(limit: number, before?: number): BatchRecord[] {
    const rows = (before === undefined ? this.list.all(limit) : this.listBefore.all(before, limit)) as BatchRow[];
    return rows.map(record);
  }

  get(id: string): BatchRecord | undefined {
    const r = this.byId.get(id) as BatchRow | undefined;
    return r && record(r);
  }

  /** Remove the rows of batch `id` (NOT_FOUND if unknown or already deleted); returns how many. */
  delete(id: string): { batch: BatchRecord; deleted: number } {
    return this.db.transaction(() => {
      const old = this.byId.get(id) as BatchRow | undefined;
      if (!old) throw new RepricerError('NOT_FOUND', `no observation batch ${JSON.stringify(id)}`, { batch_id: id });
      if (old.deleted_at !== null) throw new RepricerError('NOT_FOUND', `observation batch ${JSON.stringify(id)} was already deleted at ${old.deleted_at}`, { batch_id: id, deleted_at: old.deleted_at });
      const deleted = this.delRows.run(id).changes;
      const at = new Date().toISOString();
      this.markDeleted.run(at, id);
      return { batch: record({ ...old, deleted_at: at }), deleted };
    })();
  }
}
