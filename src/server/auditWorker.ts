/**
 * The audit trail's writer thread: its own better-sqlite3 connection to the server's database
 * (WAL, so the main thread's reads go on meanwhile). Packed batches of published prices arrive
 * from Store.flush; everything that arrived before a turn of the event loop is written in one
 * transaction. With a retention setting (auditRetention.ts) it also prunes old rows every
 * `intervalMs`, in small steps between which arriving rows are written. Messages: `rows` (a
 * PackedAudit), `flush` (answered with `flushed` once all rows received before it are
 * committed), `prune` (prune now; answered with `pruned` and the number of rows deleted),
 * `close`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { INSERT_AUDIT, insertPacked, type PackedAudit } from './auditRows.js';
import { AuditPruner, DEFAULT_PRUNE_INTERVAL_MS, retains, type AuditRetention } from './auditRetention.js';

type Msg = { kind: 'rows'; rows: PackedAudit } | { kind: 'flush'; id: number } | { kind: 'prune'; id: number } | { kind: 'close' };

const { file, retention } = workerData as { file: string; retention?: AuditRetention };
const db = new Database(file, { timeout: 30_000 });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const ins = db.prepare(INSERT_AUDIT);
let queue: PackedAudit[] = [];
let scheduled = false;
let closed = false;

const write = db.transaction((q: PackedAudit[]) => {
  for (const a of q) insertPacked(ins, a);
});

function drain(): void {
  scheduled = false;
  if (queue.length === 0 || closed) return;
  const q = queue;
  queue = [];
  write(q);
}

const pruner = retains(retention) ? new AuditPruner(db, retention) : undefined;
let pruning: Promise<number> | undefined;
/** One pruning pass at a time; rows that arrive meanwhile are written between its steps. */
function prune(): Promise<number> {
  if (!pruner) return Promise.resolve(0);
  pruning ??= pruner.run(() => closed).finally(() => (pruning = undefined));
  return pruning;
}
const timer = pruner ? setInterval(() => void prune(), retention?.intervalMs ?? DEFAULT_PRUNE_INTERVAL_MS) : undefined;
timer?.unref();

parentPort!.on('message', (m: Msg) => {
  if (m.kind === 'rows') {
    queue.push(m.rows);
    if (!scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  } else if (m.kind === 'flush') {
    drain();
    parentPort!.postMessage({ kind: 'flushed', id: m.id });
  } else if (m.kind === 'prune') {
    drain();
    void prune().then((n) => parentPort!.postMessage({ kind: 'pruned', id: m.id, n }));
  } else {
    drain();
    closed = true;
    if (timer) clearInterval(timer);
    // a pruning pass stops at its next step; its current step has finished (steps are synchronous)
    db.close();
    parentPort!.postMessage({ kind: 'closed' });
    parentPort!.close();
  }
});
