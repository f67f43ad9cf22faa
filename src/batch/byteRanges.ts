/**
 * Byte ranges of a text catalogue (CSV without quotes, NDJSON): the main thread cuts the data
 * (after a CSV header) into ranges of about `chunkSize` lines without reading them, and each
 * worker reads its own range, as parallel CSV readers do. A row belongs to the range in which its
 * first byte lies: a worker skips the partial line its range starts in (unless it starts at the
 * first data byte) and reads past its end to finish its last line. Rows and lines are the same
 * thing only without quoted fields (a quoted field may hold a newline), so a CSV range with a `"`
 * is declined and the job goes back to the main-thread path (textChunks.ts).
 *
 * A worker does not know the line number its range starts at; it numbers lines from 1 and
 * reports where its first row starts, and the main thread counts the newlines before it (only for
 * an error or a rejected row), so messages name `file:line` as before.
 */
import { readSync } from 'node:fs';

const NL = 10;
const QUOTE = 34;

export interface ByteRange {
  start: number;
  end: number;
}

/** Ranges of about `rangeBytes` covering [dataStart, size). */
export function* byteRanges(dataStart: number, size: number, rangeBytes: number): Generator<ByteRange> {
  const step = Math.max(1, Math.round(rangeBytes));
  for (let s = dataStart; s < size; s += step) yield { start: s, end: Math.min(size, s + step) };
}

/** Bytes per range for `lines` lines, from a sample of the data's first bytes. */
export function rangeBytesFor(sample: Uint8Array, lines: number): number {
  let n = 0;
  for (let i = sample.indexOf(NL); i !== -1; i = sample.indexOf(NL, i + 1)) n++;
  // no newline in the sample: one long line (or a short file); a range of the whole sample per line
  const perLine = n > 0 ? sample.length / n : Math.max(1, sample.length);
  return Math.max(1, Math.ceil(perLine * lines));
}

/** A worker's rows of one range: whole lines, the absolute offset of the first, and whether a `"` was seen (CSV). */
export interface RangeRows {
  bytes: Uint8Array;
  rowStart: number;
  quoted: boolean;
}

/** Bytes read past a range's end at first, to finish its last line. */
const TAIL = 64 << 10;
/** this thread's read buffer, reused across tasks (grown for a range that does not fit) */
let buf = Buffer.allocUnsafeSlow(1 << 20);

/** Read the rows whose first byte lies in [r.start, r.end) (data begins at `dataStart`). */
export function readRangeRows(fd: number, r: ByteRange, dataStart: number, csv: boolean): RangeRows {
  const from = r.start > dataStart ? r.start - 1 : r.start;
  let filled = 0;
  let eof = false;
  /** read until at least `want` bytes from `from` are buffered, or the end of the file */
  const fill = (want: number) => {
    if (want > buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(want, buf.length * 2));
      buf.copy(grown, 0, 0, filled);
      buf = grown;
    }
    while (filled < want && !eof) {
      const n = readSync(fd, buf, filled, buf.length - filled, from + filled);
      if (n === 0) eof = true;
      filled += n;
    }
  };
  /** the index of the first newline at or after `i`, reading more as needed; -1 at the end of the file */
  const newlineFrom = (i: number) => {
    for (;;) {
      const j = buf.subarray(0, filled).indexOf(NL, i);
      if (j !== -1 || eof) return j;
      i = Math.max(i, filled);
      fill(filled + Math.max(TAIL, filled));
    }
  };
  fill(r.end - from + TAIL);
  let s = 0;
  if (from < r.start) {
    // the byte before the range: a row starts at the first byte after a newline at or after it
    const j = newlineFrom(0);
    s = j === -1 ? filled : j + 1;
  }
  if (from + s >= r.end) return { bytes: new Uint8Array(0), rowStart: from + s, quoted: false };
  const j = newlineFrom(Math.max(s, r.end - 1 - from));
  const e = j === -1 ? filled : j + 1;
  const bytes = buf.subarray(s, e);
  return { bytes, rowStart: from + s, quoted: csv && bytes.indexOf(QUOTE) !== -1 };
}

/**
 * The line number at a byte offset of the data, counting newlines from the data's start (main
 * thread, error and reject paths only). Offsets asked in increasing order are counted
 * incrementally.
 */
export class LineCounter {
  private at: number;
  private line: number;
  private readonly chunk = Buffer.allocUnsafe(1 << 20);
  /** milliseconds spent reading */
  ms = 0;

  constructor(
    private readonly fd: number,
    private readonly dataStart: number,
    private readonly firstDataLine: number,
  ) {
    this.at = dataStart;
    this.line = firstDataLine;
  }

  lineAt(offset: number): number {
    if (offset < this.at) {
      this.at = this.dataStart;
      this.line = this.firstDataLine;
    }
    const t = performance.now();
    while (this.at < offset) {
      const n = readSync(this.fd, this.chunk, 0, Math.min(this.chunk.length, offset - this.at), this.at);
      if (n === 0) break;
      for (let i = this.chunk.indexOf(NL); i !== -1 && i < n; i = this.chunk.indexOf(NL, i + 1)) this.line++;
      this.at += n;
    }
    this.ms += performance.now() - t;
    return this.line;
  }
}
