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
 * A batch arrives as JSON rows (`append`) or as the columns of an uploaded file (`appendTable`,
 * read by the fit's columnar readers); both store the same row for the same data.
 *
 * Databases written before batches existed are migrated on open: the `batch_id` column is added
 * and their rows become one batch named `legacy`, which can be listed and deleted like any other.
 */
import type { Database as DB, Statement } from 'better-sqlite3';
import { RepricerError } from '../core/errors.js';
import type { ObservationTable } from '../model/observations.js';
import type { FeatureTexts } from './featureText.js';

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

/** Rows per INSERT of an uploaded table: 8 parameters a row, far below SQLite's 32 766. */
const ROWS_PER_INSERT = 128;

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
  private readonly insMany: Statement;
  private readonly insBatch: Statement;
  private readonly byId: Statement;
  private readonly list: Statement;
  private readonly listBefore: Statement;
  private readonly delRows: Statement;
  private readonly markDeleted: Statement;

  constructor(private readonly db: DB) {
    migrate(db);
    this.ins = db.prepare('INSERT INTO observations (product_id, features, price, won, competitor_price, weight, received_at, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.insMany = this.insertOf(ROWS_PER_INSERT);
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
    return this.commit(id, sha256, rows.length, check, (at) => {
      let first = 0;
      let last = 0;
      rows.forEach((r, i) => {
        const won = r.won === true || r.won === 1 ? 1 : 0;
        const info = this.ins.run(r.product_id, JSON.stringify(r.features), r.price, won, r.competitor_price ?? null, r.weight ?? 1, at, id);
        const rowId = Number(info.lastInsertRowid);
        if (i === 0) first = rowId;
        last = rowId;
      });
      return [first, last];
    });
  }

  /**
   * Store the rows of a table read from an uploaded file (no intercept column: x holds exactly
   * `t.features`) as batch `id`, with the same transaction, retry and check rules as `append`.
   * Each row is stored as the JSON path stores it: `features` as the JSON text of an object with
   * the table's features in column order (`texts`, featureText.ts), `won` 0/1, `competitor_price`
   * null on lost rows (the readers drop a censored price), `weight` 1 when absent. Rows go in
   * INSERTs of ROWS_PER_INSERT rows: one statement a row cost twice the time.
   */
  appendTable(id: string, sha256: string, t: ObservationTable, texts: FeatureTexts, check: () => void): AppendResult {
    if (t.intercept) throw new RepricerError('INTERNAL', 'appendTable: the table must be read without the intercept column');
    const c = t.columns;
    const n = c.n;
    return this.commit(id, sha256, n, check, (at) => {
      const params: unknown[] = new Array<unknown>(ROWS_PER_INSERT * 8);
      let first = 0;
      let last = 0;
      for (let r0 = 0; r0 < n; r0 += ROWS_PER_INSERT) {
        const k = Math.min(ROWS_PER_INSERT, n - r0);
        const stmt = k === ROWS_PER_INSERT ? this.insMany : this.insertOf(k);
        if (k !== ROWS_PER_INSERT) params.length = k * 8;
        const features = texts(r0, k);
        for (let i = 0; i < k; i++) {
          const r = r0 + i;
          const p = i * 8;
          params[p] = t.productIds[t.product[r]];
          params[p + 1] = features[i];
          params[p + 2] = c.price[r];
          params[p + 3] = c.won[r];
          params[p + 4] = c.won[r] === 1 ? c.competitor[r] : null;
          params[p + 5] = c.weight ? c.weight[r] : 1;
          params[p + 6] = at;
          params[p + 7] = id;
        }
        // one statement's rows get consecutive ids (the transaction holds the write lock and
        // the id is max(id) + 1), so the last id gives the first
        const lastId = Number(stmt.run(params).lastInsertRowid);
        if (r0 === 0) first = lastId - k + 1;
        last = lastId;
      }
      return [first, last];
    });
  }

  /** An INSERT of k rows. */
  private insertOf(k: number): Statement {
    return this.db.prepare(`INSERT INTO observations (product_id, features, price, won, competitor_price, weight, received_at, batch_id) VALUES ${Array.from({ length: k }, () => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`);
  }

  /**
   * A retry of batch `id`: the original acknowledgement when it was stored with the same
   * `sha256`; CONFLICT when it was stored with other rows or deleted; undefined for a new key.
   * (Outside a transaction this is a preview: an upload asks before it reads its file.)
   */
  replay(id: string, sha256: string): AppendResult | undefined {
    const old = this.byId.get(id) as BatchRow | undefined;
    if (!old) return undefined;
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

  /** One transaction: a retry is answered; else `check`, the rows (`insert` returns the first and last id), the batch record. */
  private commit(id: string, sha256: string, n: number, check: () => void, insert: (at: string) => [number, number]): AppendResult {
    return this.db.transaction((): AppendResult => {
      const old = this.replay(id, sha256);
      if (old) return old;
      check();
      const at = new Date().toISOString();
      const [first, last] = insert(at);
      const info = this.insBatch.run(id, sha256, n, first, last, at);
      return { batch: { batch_id: id, seq: Number(info.lastInsertRowid), received_at: at, rows: n, first_id: first, last_id: last, status: 'stored', deleted_at: null }, replayed: false };
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
