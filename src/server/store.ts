/**
 * The server's embedded database (better-sqlite3, synchronous, one connection on the main
 * thread): win/loss observations (docs/formats.md "Observations", features as a JSON object),
 * appended, listed and deleted by batch (observationBatches.ts), the audit trail of every
 * published price with its model version and reasons, and the model registry's versions and
 * active pointer.
 *
 * Audit rows arrive as columns (one AuditBatch per response). With a database file they go to a
 * writer thread (src/server/auditWorker.ts, its own connection; SQLite inserts cost about 5 us a
 * row, which a 10 000-SKU response should not spend on the event loop); with an in-memory
 * database, or if that thread dies, they are buffered and written on this thread in one
 * transaction per flush (every `flushMs`, or at `flushRows`). A history read first waits for
 * everything queued before it, so a client reads its own writes. A crash loses at most the rows
 * not yet committed.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Database as DB, Statement } from 'better-sqlite3';
import { RepricerError } from '../core/errors.js';
import type { ObservationTable } from '../model/observations.js';
import { AuditWriter } from './auditWriter.js';
import { INSERT_AUDIT, insertPacked, packAudit, type AuditBatch } from './auditRows.js';
import { ObservationBatches } from './observationBatches.js';
import { AuditPruner, DEFAULT_PRUNE_INTERVAL_MS, retains, type AuditRetention } from './auditRetention.js';

export type { ObservationInput } from './observationBatches.js';

export interface ObservationRow {
  id: number;
  product_id: string;
  features: Record<string, number>;
  price: number;
  won: 0 | 1;
  competitor_price: number | null;
  weight: number;
}

export interface AuditRow {
  id: number;
  at: string;
  product_id: string;
  price: number;
  previous_price: number | null;
  change_pct: number | null;
  win_probability: number | null;
  expected_profit: number | null;
  price_std_error: number | null;
  status: string;
  reason: string;
  model_version: string;
  source: string;
}

export interface ModelRecord {
  seq: number;
  version: string;
  sha256: string;
  path: string;
  source: 'file' | 'upload' | 'fit';
  registered_at: string;
  job_id: string | null;
  /** JSON: features, intercept, strategy, products, created_at */
  summary: string;
}

export interface StoreOptions {
  flushMs?: number;
  flushRows?: number;
  /** compiled src/server/auditWorker.js; with a database file, audit rows are written there */
  auditWorkerFile?: string;
  /** the writer thread died: from now on audit rows are written on the main thread */
  onAuditWriterDeath?: (err: Error) => void;
  /** prune the audit trail by age and/or row count (by the writer thread, else on this thread) */
  auditRetention?: AuditRetention;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS observations (
  id INTEGER PRIMARY KEY,
  product_id TEXT NOT NULL,
  features TEXT NOT NULL,
  price REAL NOT NULL,
  won INTEGER NOT NULL CHECK (won IN (0, 1)),
  competitor_price REAL,
  weight REAL NOT NULL DEFAULT 1,
  received_at TEXT NOT NULL,
  batch_id TEXT
);
CREATE TABLE IF NOT EXISTS price_audit (
  id INTEGER PRIMARY KEY,
  product_id TEXT NOT NULL,
  price REAL NOT NULL,
  previous_price REAL,
  change_pct REAL,
  win_probability REAL,
  expected_profit REAL,
  price_std_error REAL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  model_version TEXT NOT NULL,
  source TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS price_audit_product ON price_audit (product_id, id);
CREATE TABLE IF NOT EXISTS models (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  version TEXT NOT NULL UNIQUE,
  sha256 TEXT NOT NULL,
  path TEXT NOT NULL,
  source TEXT NOT NULL,
  registered_at TEXT NOT NULL,
  job_id TEXT,
  summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export class Store {
  readonly db: DB;
  readonly file: string;
  /** observation batches: idempotent appends, listing, deletion (observationBatches.ts) */
  readonly batches: ObservationBatches;
  private readonly insAudit: Statement;
  private readonly history: Statement;
  private readonly historyBefore: Statement;
  private readonly flushMs: number;
  private readonly flushRows: number;
  private pending: AuditBatch[] = [];
  private pendingRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly writer: AuditWriter | undefined;
  private readonly pruner: AuditPruner | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning: Promise<number> | undefined;

  constructor(file = ':memory:', opts: StoreOptions = {}) {
    this.file = file;
    this.db = new Database(file);
    if (file !== ':memory:') this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.flushMs = opts.flushMs ?? 10;
    this.flushRows = opts.flushRows ?? 5_000;
    this.batches = new ObservationBatches(this.db);
    this.insAudit = this.db.prepare(INSERT_AUDIT);
    this.history = this.db.prepare('SELECT * FROM price_audit WHERE product_id = ? ORDER BY id DESC LIMIT ?');
    this.historyBefore = this.db.prepare('SELECT * FROM price_audit WHERE product_id = ? AND id < ? ORDER BY id DESC LIMIT ?');
    const retention = opts.auditRetention;
    if (file !== ':memory:' && opts.auditWorkerFile && existsSync(opts.auditWorkerFile)) this.writer = new AuditWriter(file, opts.auditWorkerFile, opts.onAuditWriterDeath, retention);
    if (retains(retention)) {
      // the writer thread prunes while it lives; this thread does when there is none (or it died)
      this.pruner = new AuditPruner(this.db, retention);
      this.pruneTimer = setInterval(() => {
        if (!this.writer?.ok) void this.pruneHere();
      }, retention.intervalMs ?? DEFAULT_PRUNE_INTERVAL_MS);
      this.pruneTimer.unref();
    }
  }

  private pruneHere(): Promise<number> {
    if (!this.pruner) return Promise.resolve(0);
    this.pruning ??= this.pruner.run(() => this.closed || !this.db.open).finally(() => (this.pruning = undefined));
    return this.pruning;
  }

  /** Prune the audit trail by the retention setting now (after what is queued is written); rows deleted. */
  async pruneAudit(): Promise<number> {
    await this.settle();
    return this.writer?.ok ? this.writer.prune() : this.pruneHere();
  }

  /** Where audit rows are written: 'thread' (writer thread) or 'main' (this thread). */
  get auditWrites(): 'thread' | 'main' {
    return this.writer?.ok ? 'thread' : 'main';
  }

  // ---- observations ----

  countObservations(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM observations').get() as { n: number }).n;
  }

  /** Highest observation id (0 when empty): a fit job's snapshot of the table. */
  maxObservationId(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM observations').get() as { m: number }).m;
  }

  *observations(): Generator<ObservationRow> {
    const it = this.db.prepare('SELECT id, product_id, features, price, won, competitor_price, weight FROM observations ORDER BY id').iterate() as IterableIterator<
      Omit<ObservationRow, 'features'> & { features: string }
    >;
    for (const r of it) yield { ...r, features: JSON.parse(r.features) as Record<string, number> };
  }

  firstObservation(): ObservationRow | undefined {
    const r = this.db.prepare('SELECT id, product_id, features, price, won, competitor_price, weight FROM observations ORDER BY id LIMIT 1').get() as
      | (Omit<ObservationRow, 'features'> & { features: string })
      | undefined;
    return r && { ...r, features: JSON.parse(r.features) as Record<string, number> };
  }

  // ---- price audit ----

  /**
   * Queue the published prices of a response. Written (or posted to the writer thread) as one
   * packed batch every `flushMs`, or at once when `flushRows` are waiting.
   */
  recordPrices(batch: AuditBatch): void {
    if (this.closed || batch.ids.length === 0) return;
    this.pending.push(batch);
    this.pendingRows += batch.ids.length;
    if (this.pendingRows >= this.flushRows) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Hand the queued rows to the writer thread, or write them here. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0 || !this.db.open) return;
    const packed = packAudit(this.pending);
    this.pending = [];
    this.pendingRows = 0;
    if (packed.n === 0) return;
    if (this.writer?.ok) this.writer.post(packed);
    else this.db.transaction(() => insertPacked(this.insAudit, packed))();
  }

  /** Everything recorded so far is committed. */
  async settle(): Promise<void> {
    this.flush();
    if (this.writer) await this.writer.flush();
  }

  async priceHistory(productId: string, limit: number, before?: number): Promise<AuditRow[]> {
    await this.settle();
    return (before === undefined ? this.history.all(productId, limit) : this.historyBefore.all(productId, before, limit)) as AuditRow[];
  }

  async countPrices(): Promise<number> {
    await this.settle();
    return (this.db.prepare('SELECT COUNT(*) AS n FROM price_audit').get() as { n: number }).n;
  }

  // ---- models ----

  /** Insert a model version; `version` is derived from the new sequence number by `name`. */
  insertModel(rec: Omit<ModelRecord, 'seq' | 'version'>, name: (seq: number) => string): ModelRecord {
    return this.db.transaction(() => {
      const next = ((this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'models'").get() as { seq: number } | undefined)?.seq ?? 0) + 1;
      const version = name(next);
      const info = this.db
        .prepare('INSERT INTO models (seq, version, sha256, path, source, registered_at, job_id, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(next, version, rec.sha256, rec.path, rec.source, rec.registered_at, rec.job_id, rec.summary);
      return { ...rec, seq: Number(info.lastInsertRowid), version };
    })();
  }

  modelBySha(sha256: string): ModelRecord | undefined {
    return this.db.prepare('SELECT * FROM models WHERE sha256 = ? ORDER BY seq LIMIT 1').get(sha256) as ModelRecord | undefined;
  }

  model(version: string): ModelRecord | undefined {
    return this.db.prepare('SELECT * FROM models WHERE version = ?').get(version) as ModelRecord | undefined;
  }

  models(): ModelRecord[] {
    return this.db.prepare('SELECT * FROM models ORDER BY seq').all() as ModelRecord[];
  }

  getMeta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.pruning;
    if (this.writer) await this.writer.close();
    this.db.close();
  }
}

/**
 * Stored observations with id <= maxId -> the likelihood's columns (intercept first), product
 * ids in order of first appearance, `lines` = observation ids. Works on any connection (the fit
 * task opens its own, read-only). A row without one of `features` is an INPUT_ROW_INVALID error
 * naming the observation and the feature.
 */
export function readObservationTable(db: DB, features: string[], intercept: boolean, maxId: number): ObservationTable {
  const n = (db.prepare('SELECT COUNT(*) AS n FROM observations WHERE id <= ?').get(maxId) as { n: number }).n;
  const d = features.length + (intercept ? 1 : 0);
  const x = new Float64Array(n * d);
  const won = new Float64Array(n);
  const price = new Float64Array(n);
  const competitor = new Float64Array(n);
  const weight = new Float64Array(n);
  const product = new Int32Array(n);
  const lines = new Int32Array(n);
  const ids = new Map<string, number>();
  const productIds: string[] = [];
  let anyWeight = false;
  let r = 0;
  const rows = db.prepare('SELECT id, product_id, features, price, won, competitor_price, weight FROM observations WHERE id <= ? ORDER BY id').iterate(maxId) as IterableIterator<
    Omit<ObservationRow, 'features'> & { features: string }
  >;
  for (const o of rows) {
    const f = JSON.parse(o.features) as Record<string, unknown>;
    let off = r * d;
    if (intercept) x[off++] = 1;
    for (const name of features) {
      const v = Object.hasOwn(f, name) ? f[name] : undefined;
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new RepricerError('INPUT_ROW_INVALID', `observation ${o.id}: features.${name}: is required by the fit (features: ${features.join(', ')})`, { observation: o.id, column: name });
      }
      x[off++] = v;
    }
    won[r] = o.won;
    price[r] = o.price;
    competitor[r] = o.competitor_price ?? NaN;
    weight[r] = o.weight;
    if (o.weight !== 1) anyWeight = true;
    let k = ids.get(o.product_id);
    if (k === undefined) {
      k = productIds.length;
      ids.set(o.product_id, k);
      productIds.push(o.product_id);
    }
    product[r] = k;
    lines[r] = o.id;
    r++;
  }
  const columns: ObservationTable['columns'] = { n: r, d, x, won, price, competitor };
  if (anyWeight) columns.weight = weight;
  return { file: 'observations (server store)', format: 'csv', features, intercept, columns, productIds, product, lines };
}

