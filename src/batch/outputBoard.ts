/**
 * The offset board: how the workers of a text-output job write their chunks' output into the one
 * temporary file themselves, at the right offsets, in input order, without the main thread
 * touching the bytes.
 *
 * Chunk k's offset is the header's length plus the output lengths of chunks 0..k-1, a prefix sum
 * known only once k-1 is written. The board (a small SharedArrayBuffer) holds a turnstile: `turn`,
 * the sequence number of the chunk whose turn it is to write, and the offset where it writes.
 * Worker k, once its output is formatted, waits (Atomics.wait in short slices) for turn = k,
 * writes with a positional write, then publishes the next offset and turn = k + 1.
 *
 * A worker never waits forever: it gives up after a timeout, when the job is cancelled (a failure,
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
export function awaitTurn(sab: SharedArrayBuffer, seq: number, timeoutMs = TURN_TIMEOUT_MS): number | 'written' | 'gave-up' {
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
  Atomics.store(cells(sab), STALL, seq + 1);
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

/**
 * A worker's write of chunk `seq`'s output when its turn comes: true when the bytes are in the
 * file (written now, or by an earlier attempt), false when it gave up (the main thread writes
 * them). A write that fails cancels the board, so no later chunk waits for it, and throws.
 */
export function writeInTurn(sab: SharedArrayBuffer, seq: number, fd: number, bytes: Uint8Array): boolean {
  const at = awaitTurn(sab, seq);
  if (at === 'written') return true;
  if (at === 'gave-up') return false;
  try {
    writeAllAt(fd, bytes, at);
  } catch (err) {
    cancelBoard(sab);
    throw err;
  }
  publish(sab, seq, at, bytes.length);
  return true;
}
