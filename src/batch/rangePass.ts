/**
 * A pass of the batch job in which the workers do their own I/O (text input): the main thread
 * hands each task a byte range of the catalogue (byteRanges.ts) and, for CSV or NDJSON output,
 * the offset board through which workers write their output into the temporary file in input
 * order (outputBoard.ts). The main thread only schedules; it reads a few bytes (the header, a
 * sample to size the ranges, newlines before an error or a rejected row) and writes the header
 * and any chunk a worker handed back.
 *
 * Line numbers: workers number a range's lines from 1 and report where its first row starts; the
 * pass makes their errors and rejected rows name absolute lines, as the main-thread path does.
 */
import { RepricerError } from '../core/errors.js';
import type { CatalogResult, CatalogTask } from './catalogTask.js';
import type { ChunkQueue, QueueHooks } from './chunkQueue.js';
import type { OutputSlots } from './slotPool.js';
import type { JobOutput } from './jobOutput.js';
import { LineCounter, type ByteRange } from './byteRanges.js';
import { boardCancelled, cancelBoard, createBoard, publish, stallBoard, turnOffset } from './outputBoard.js';

export class RangePass {
  /** text output: the offset board (a pass without one, for Parquet output, is not used: job.ts keeps the main-thread path for it) */
  readonly board: SharedArrayBuffer | undefined;
  private readonly lines: LineCounter;

  constructor(
    private readonly file: string,
    fd: number,
    readonly dataStart: number,
    firstDataLine: number,
    /** text output: where the first chunk's output starts (the header's length) */
    outputStart: number | undefined,
    signal: AbortSignal | undefined,
  ) {
    this.lines = new LineCounter(fd, dataStart, firstDataLine);
    this.board = outputStart === undefined ? undefined : createBoard(outputStart);
    const board = this.board;
    if (board) signal?.addEventListener('abort', () => cancelBoard(board), { once: true });
  }

  /** Main-thread milliseconds spent counting lines. */
  get readMs(): number {
    return this.lines.ms;
  }

  hooks(): QueueHooks {
    const b = this.board;
    return {
      onFailure: () => b && cancelBoard(b),
      onCrash: (seq) => b && stallBoard(b, seq),
      mapError: (r) => this.absoluteError(r),
      errorsInOrder: true,
    };
  }

  /** The line at which a range result's lines start (its first row's). */
  private base(r: CatalogResult): number | undefined {
    return r.rowStart === undefined ? undefined : this.lines.lineAt(r.rowStart);
  }

  /** A worker's error naming `file:line` with the line made absolute. */
  absoluteError(r: CatalogResult): NonNullable<CatalogResult['error']> {
    const e = r.error!;
    const rel = e.details?.line;
    const base = this.base(r);
    if (base === undefined || typeof rel !== 'number') return e;
    const line = base + rel - 1;
    const prefix = `${this.file}:${rel}:`;
    const message = e.message.startsWith(prefix) ? `${this.file}:${line}:${e.message.slice(prefix.length)}` : e.message;
    return { ...e, message, details: { ...e.details, line } };
  }

  /** Rejected rows (delivered in input order, so the newlines are counted once) named by absolute line. */
  fixRejects(r: CatalogResult): void {
    if (!r.rejects.length) return;
    const base = this.base(r);
    if (base === undefined) return;
    for (const j of r.rejects) j.line = base + j.line - 1;
  }

  /**
   * Text output the worker handed back (it gave up waiting for its turn): written at its offset by
   * this thread, whose turn it is now that every earlier chunk is delivered. Nothing is written
   * once the board is cancelled (the job failed or starts again).
   */
  writeHandedBack(r: CatalogResult, bytes: Uint8Array, output: JobOutput): void {
    const b = this.board!;
    if (boardCancelled(b)) return;
    const at = turnOffset(b, r.seq);
    if (at === undefined) throw new RepricerError('INTERNAL', `chunk ${r.seq} delivered out of turn`);
    output.writeAt(bytes, at);
    publish(b, r.seq, at, bytes.length);
  }
}

/** What dispatching a range needs (job.ts fills it). */
export interface RangeDispatch {
  queue: ChunkQueue;
  outSlots: OutputSlots;
  signal: AbortSignal | undefined;
  base: Pick<CatalogTask, 'kind' | 'file' | 'format' | 'outFormat' | 'layout' | 'model' | 'policy' | 'onError' | 'columns' | 'measureSegments' | 'heldSegments'>;
  seq: number;
}

/** A task per range, each sent once there is room; stops at the first failure or the interrupt. */
export async function dispatchRanges(d: RangeDispatch, pass: RangePass, ranges: Iterable<ByteRange>, inFd: number, outFd: number | undefined, outPath: string, chunkSize: number, turnTimeoutMs?: number): Promise<void> {
  const write = pass.board && outFd !== undefined ? { board: pass.board, fd: outFd, path: outPath, timeoutMs: turnTimeoutMs } : undefined;
  for (const r of ranges) {
    if (d.signal?.aborted || d.queue.failure) break;
    await d.queue.waitForRoom();
    if (d.queue.failure || d.signal?.aborted) break;
    // a slot for the output in case the worker hands it back (or for a Parquet row group)
    const outSlot = d.outSlots.forChunk(r.end - r.start, chunkSize, d.base.outFormat === 'parquet');
    const range = { start: r.start, end: r.end, dataStart: pass.dataStart, fd: inFd };
    d.queue.submit({ ...d.base, seq: d.seq++, bytes: new Uint8Array(0), outSlot, range, write, firstLine: 1 });
  }
}
