/**
 * The offset board: how the workers of a text-output job write their chunks' output into the one
 * temporary file themselves, at the right offsets, in input order, without the main thread
 * touching the bytes.
 *
 * Chunk k's offset is the header's length plus the output lengths of chunks 0..k-1, a prefix sum
 * known only once k-1 is written. The board (a small SharedArrayBuffer) holds a turnstile: `turn`,
 * the sequence number of the chunk whose turn it is to write, and the offset where it writes.
 * Worker k, once its output is formatted, writes it with a positional write if turn = k, then
 * publishes the next offset and turn = k + 1. If it is not its turn yet, it keeps the bytes (in the
 * task's shared slot) and waits for it with Atomics.waitAsync in short slices. A worker holds one
 * task at a time, so its thread idles meanwhile: holding three (computing the next while one
 * waits) measured no faster on 2 cores (bench/RESULTS.md, "Workers do their own I/O"), and with
 * one a crashed thread takes only its own chunk with it (chunkQueue.ts retries it once).
 *
 * A chunk never waits forever: it gives up after a timeout, when the job is cancelled (a failure,
 * an interrupt, a quoted CSV that sends the job back to the main-thread path), or when the chunk
 * it waits on crashed (its retry is queued behind the tasks that wait on it: were they to block
 * their threads, the retry could never run). A chunk whose worker gave up hands its output back to
 * the main thread (in its slot, as before), which writes it when it is delivered in input order -
 * by then every earlier chunk is written, so the turn is its own - and publishes the next turn.
 * A retried chunk whose first attempt already published (it died after writing) finds
 * turn > k and writes nothing: output is deterministic, its bytes are already there.
 *
 * The next offset is stored in one of two cells by the parity of its turn, so a worker that dies
 * between storing it and publishing the turn leaves the current turn's offset intact.
 */
import { writeSync } from 'node:fs';

const TURN = 0;
const CANCEL = 1;
/** the sequence number of a chunk whose worker crashed, plus one (0: none) */
const STALL = 2;
/** Int32 cells, then two Float64 offsets */
const OFFSETS_AT = 16;

/** How long a worker waits for its turn before it hands its output back (ms). */
export const TURN_TIMEOUT_MS = 2000;
/** Slices of the wait, so a cancelled or stalled job is noticed without a notify. */
const SLICE_MS = 50;

/** A board whose first chunk (seq 0) writes at `start` (the header's length). */
export function createBoard(start: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(OFFSETS_AT + 16);
  new Float64Array(sab, OFFSETS_AT, 2)[0] = start;
  return sab;
}

const cells = (sab: SharedArrayBuffer) => new Int32Array(sab, 0, 4);
const offsets = (sab: SharedArrayBuffer) => new Float64Array(sab, OFFSETS_AT, 2);

/** The offset chunk `seq` writes at if it is its turn, 'written' if it was written already, else 'gave-up'. */
export function awaitTurn(sab: SharedArrayBuffer, seq: number, timeoutMs: number): number | 'written' | 'gave-up' {
  const c = cells(sab);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const turn = Atomics.load(c, TURN);
    if (turn === seq) return offsets(sab)[seq & 1];
    if (turn > seq) return 'written';
    if (Atomics.load(c, CANCEL)) return 'gave-up';
    const stalled = Atomics.load(c, STALL) - 1;
    if (stalled >= 0 && turn <= stalled && seq > stalled) return 'gave-up';
    const left = deadline - performance.now();
    if (left <= 0) return 'gave-up';
    Atomics.wait(c, TURN, turn, Math.min(left, SLICE_MS));
  }
}

/** After chunk `seq` wrote `len` bytes at `offset`: the next chunk's turn. */
export function publish(sab: SharedArrayBuffer, seq: number, offset: number, len: number): void {
  offsets(sab)[(seq + 1) & 1] = offset + len;
  Atomics.store(cells(sab), TURN, seq + 1);
  Atomics.notify(cells(sab), TURN);
}

/** Every waiting worker gives up now, and none writes any more. */
export function cancelBoard(sab: SharedArrayBuffer): void {
  Atomics.store(cells(sab), CANCEL, 1);
  Atomics.notify(cells(sab), TURN);
}

export function boardCancelled(sab: SharedArrayBuffer): boolean {
  return Atomics.load(cells(sab), CANCEL) !== 0;
}

/** Chunk `seq`'s worker crashed: chunks after it stop waiting for it (its retry runs later). */
export function stallBoard(sab: SharedArrayBuffer, seq: number): void {
  const c = cells(sab);
  // the earliest crashed chunk not yet written is the one the others wait on
  const cur = Atomics.load(c, STALL) - 1;
  if (!(cur >= 0 && cur < seq && Atomics.load(c, TURN) <= cur)) Atomics.store(c, STALL, seq + 1);
  Atomics.notify(cells(sab), TURN);
}

/** The main thread's view: the offset of chunk `seq` if it is its turn (else undefined). */
export function turnOffset(sab: SharedArrayBuffer, seq: number): number | undefined {
  return Atomics.load(cells(sab), TURN) === seq && !boardCancelled(sab) ? offsets(sab)[seq & 1] : undefined;
}

/** All of `bytes` at `position` (positional: the descriptor's own offset is untouched). */
export function writeAllAt(fd: number, bytes: Uint8Array, position: number): void {
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off, position + off);
}

/** Where a worker writes: the board, the temporary file's descriptor, how long to wait for a turn. */
export interface TurnTarget {
  board: SharedArrayBuffer;
  fd: number;
  timeoutMs?: number;
}

interface Pending {
  t: TurnTarget;
  seq: number;
  bytes: Uint8Array;
  deadline: number;
  settle: (r: boolean | Error) => void;
}

/** Atomics.waitAsync (Node >= 16; not in this TypeScript lib) */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: boolean; value: Promise<unknown> | string } }).waitAsync;

/** milliseconds this thread spent writing since `takeWriteMs` last asked */
let writeMs = 0;

export function takeWriteMs(): number {
  const ms = writeMs;
  writeMs = 0;
  return ms;
}

/** this worker's chunks formatted but not yet written (waiting for their turn), by sequence number */
const pending: Pending[] = [];

/** Write chunk `seq` at `at` and publish the next turn; a write that fails cancels the board (no chunk waits for it). */
function writeAndPublish(t: TurnTarget, seq: number, bytes: Uint8Array, at: number): void {
  const t0 = performance.now();
  try {
    writeAllAt(t.fd, bytes, at);
    writeMs += performance.now() - t0;
  } catch (err) {
    cancelBoard(t.board);
    throw err;
  }
  publish(t.board, seq, at, bytes.length);
}

/**
 * Write chunk `seq` now if it is its turn: 'written' (now, or by an earlier attempt), or 'wait'
 * (the caller keeps the bytes and calls `writeWhenTurn`). Throws what the write throws.
 */
export function writeIfTurn(t: TurnTarget, seq: number, bytes: Uint8Array): 'written' | 'wait' {
  const at = awaitTurn(t.board, seq, 0);
  if (at === 'gave-up') return 'wait';
  if (at !== 'written') writeAndPublish(t, seq, bytes, at);
  return 'written';
}

/** Write the chunks of this worker whose turn has come (in order), and settle those that gave up. */
function pollTurns(): void {
  for (let progress = true; progress; ) {
    progress = false;
    for (let i = 0; i < pending.length; i++) {
      const p = pending[i];
      const left = p.deadline - performance.now();
      const at = awaitTurn(p.t.board, p.seq, 0);
      if (at === 'gave-up' && left > 0 && !boardCancelled(p.t.board) && !stalledBefore(p.t.board, p.seq)) continue;
      pending.splice(i--, 1);
      progress = true;
      if (at === 'gave-up') p.settle(false);
      else if (at === 'written') p.settle(true);
      else {
        try {
          writeAndPublish(p.t, p.seq, p.bytes, at);
          p.settle(true);
        } catch (err) {
          p.settle(err as Error);
        }
      }
    }
  }
}

function stalledBefore(sab: SharedArrayBuffer, seq: number): boolean {
  const c = cells(sab);
  const stalled = Atomics.load(c, STALL) - 1;
  return stalled >= 0 && Atomics.load(c, TURN) <= stalled && seq > stalled;
}

/**
 * Chunk `seq`'s bytes (which must stay valid until this settles), written when its turn comes
 * without blocking the thread: true once they are in the file, false when the worker gave up (a
 * timeout, a cancel, a crashed predecessor; the main thread writes them). Rejects with what the write threw.
 */
export async function writeWhenTurn(t: TurnTarget, seq: number, bytes: Uint8Array): Promise<boolean> {
  let settled: boolean | Error | undefined;
  pending.push({ t, seq, bytes, deadline: performance.now() + (t.timeoutMs ?? TURN_TIMEOUT_MS), settle: (r) => (settled = r) });
  pending.sort((a, b) => a.seq - b.seq);
  const c = cells(t.board);
  for (;;) {
    const seen = Atomics.load(c, TURN);
    pollTurns();
    if (settled !== undefined) break;
    const w = waitAsync(c, TURN, seen, SLICE_MS);
    if (w.async) await w.value;
  }
  if (settled instanceof Error) throw settled;
  return settled;
}
