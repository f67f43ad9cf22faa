/**
 * The audit trail's writer thread: its own better-sqlite3 connection to the server's database
 * (WAL, so the main thread's reads go on meanwhile). Packed batches of published prices arrive
 * from Store.flush; everything that arrived before a turn of the event loop is written in one
 * transaction. Messages: `rows` (a PackedAudit), `flush` (answered with `flushed` once all rows
 * received before it are committed), `close`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { INSERT_AUDIT, insertPacked, type PackedAudit } from './auditRows.js';

type Msg = { kind: 'rows'; rows: PackedAudit } | { kind: 'flush'; id: number } | { kind: 'close' };

const db = new Database((workerData as { file: string }).file, { timeout: 30_000 });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const ins = db.prepare(INSERT_AUDIT);
let queue: PackedAudit[] = [];
let scheduled = false;

const write = db.transaction((q: PackedAudit[]) => {
  for (const a of q) insertPacked(ins, a);
});

function drain(): void {
  scheduled = false;
  if (queue.length === 0) return;
  const q = queue;
  queue = [];
  write(q);
}

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
  } else {
    drain();
    db.close();
    parentPort!.postMessage({ kind: 'closed' });
    parentPort!.close();
  }
});
