/**
 * Main-thread side of the audit writer thread (src/server/auditWorker.ts): posts packed batches
 * of published prices (buffers transferred, not copied), waits for `flush` before a history read
 * (read-your-writes), hands the thread the audit retention setting (it prunes), and closes the
 * thread on shutdown. If the thread dies, `ok` turns false and the store writes on the main
 * thread instead; the death is reported (`onDeath`: the server logs and counts it), so the
 * fallback, and the rows the thread had not committed, are not lost silently.
 */
import { Worker } from 'node:worker_threads';
import type { PackedAudit } from './auditRows.js';
import type { AuditRetention } from './auditRetention.js';

export class AuditWriter {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waits = new Map<number, (n: number) => void>();
  private closing: (() => void) | undefined;
  private dead: Error | undefined;

  /** `onDeath` is told once if the thread fails or exits before `close` was asked for. */
  constructor(dbFile: string, workerFile: string, onDeath?: (err: Error) => void, retention?: AuditRetention) {
    this.worker = new Worker(workerFile, { workerData: { file: dbFile, retention } });
    this.worker.on('message', (m: { kind: string; id?: number; n?: number }) => {
      if ((m.kind === 'flushed' || m.kind === 'pruned') && m.id !== undefined) {
        this.waits.get(m.id)?.(m.n ?? 0);
        this.waits.delete(m.id);
      } else if (m.kind === 'closed') this.closing?.();
    });
    const fail = (err: Error) => {
      if (this.dead === undefined && !this.closing) onDeath?.(err);
      this.dead ??= err;
      for (const w of this.waits.values()) w(0);
      this.waits.clear();
      this.closing?.();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`audit writer exited with code ${code}`)));
  }

  get ok(): boolean {
    return this.dead === undefined;
  }

  get error(): Error | undefined {
    return this.dead;
  }

  post(rows: PackedAudit): void {
    this.worker.postMessage({ kind: 'rows', rows }, [rows.nums.buffer, rows.status.buffer, rows.reasons.buffer, rows.metaIdx.buffer] as ArrayBuffer[]);
  }

  /** Resolves when every batch posted before is committed (or the thread is gone). */
  flush(): Promise<void> {
    if (!this.ok) return Promise.resolve();
    const id = this.nextId++;
    return new Promise<void>((res) => {
      this.waits.set(id, () => res());
      this.worker.postMessage({ kind: 'flush', id });
    });
  }

  /** Prune by the retention setting now; resolves with the number of rows deleted. */
  prune(): Promise<number> {
    if (!this.ok) return Promise.resolve(0);
    const id = this.nextId++;
    return new Promise<number>((res) => {
      this.waits.set(id, res);
      this.worker.postMessage({ kind: 'prune', id });
    });
  }

  /** Write what is queued, close the connection, end the thread. */
  async close(): Promise<void> {
    if (!this.ok) return;
    await new Promise<void>((res) => {
      this.closing = res;
      this.worker.postMessage({ kind: 'close' });
    });
    await new Promise((res) => setImmediate(res));
  }
}
