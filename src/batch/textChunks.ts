/**
 * Text input of the batch job (CSV or NDJSON): bytes read synchronously into one reused staging
 * buffer (it grows only for a chunk that does not fit) and cut into chunks of whole lines, which
 * the job copies into a worker's slot. The first line gives the layout (a CSV header, or the
 * first NDJSON object, which is also a row).
 */
import { readSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { RepricerError } from '../core/errors.js';
import { resolveLayout, type CatalogLayout, type LayoutOptions } from '../records/catalogSchema.js';

const NL = 10;
const QUOTE = 34;

/** Bytes read from the input and main-thread milliseconds spent reading them. */
export interface ReadStats {
  bytes: number;
  ms: number;
}

/** Whole lines of the input: `bytes` (a view of the staging buffer, valid until the next read) from line `firstLine`. */
export interface TextChunk {
  bytes: Buffer;
  firstLine: number;
  /** the number of newlines in `bytes` (for the last chunk, its lines) */
  lines: number;
}

/** Index just past the k-th newline that is outside quotes, or -1. Also counts physical newlines. */
function cutAfterLines(buf: Buffer, start: number, k: number, quoted: boolean): { end: number; lines: number } {
  let lines = 0;
  let rows = 0;
  if (!quoted) {
    let i = start;
    while (rows < k) {
      const j = buf.indexOf(NL, i);
      if (j === -1) return { end: -1, lines };
      lines++;
      rows++;
      i = j + 1;
    }
    return { end: i, lines };
  }
  let inQ = false;
  for (let i = start; i < buf.length; i++) {
    const c = buf[i];
    if (c === QUOTE) inQ = !inQ;
    else if (c === NL) {
      lines++;
      if (!inQ && ++rows === k) return { end: i + 1, lines };
    }
  }
  return { end: -1, lines };
}

function countLines(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(NL, start); i !== -1 && i < end; i = buf.indexOf(NL, i + 1)) n++;
  return n;
}

export class TextChunks {
  private stage = Buffer.allocUnsafeSlow(8 << 20);
  /** bytes staged */
  private have = 0;
  /** first staged byte not yet handed out */
  private start = 0;
  /** absolute line number of stage[start] */
  private line = 1;
  /** end of the first line, once read */
  private firstNl = -1;
  /** a quote anywhere so far (CSV): cut with the quote-aware scanner from now on */
  quoted = false;
  /** file offset of the next read */
  private pos = 0;
  eof = false;
  /** bytes of the first line when it was skipped (a CSV header, with its newline), else 0 */
  headerBytes = 0;

  constructor(
    private readonly fd: number,
    private readonly csv: boolean,
    private readonly read: ReadStats,
  ) {}

  /** Read more bytes after the staged ones (moving them to the front, growing the buffer when full). */
  readMore(): void {
    if (this.start > 0) {
      this.stage.copy(this.stage, 0, this.start, this.have);
      this.have -= this.start;
      this.start = 0;
    }
    if (this.have === this.stage.length) {
      const grown = Buffer.allocUnsafeSlow(this.stage.length * 2);
      this.stage.copy(grown, 0, 0, this.have);
      this.stage = grown;
    }
    const t = performance.now();
    const n = readSync(this.fd, this.stage, this.have, this.stage.length - this.have, this.pos);
    this.pos += n;
    this.read.ms += performance.now() - t;
    if (n === 0) {
      this.eof = true;
      return;
    }
    if (this.csv && !this.quoted) {
      const q = this.stage.indexOf(QUOTE, this.have);
      this.quoted = q !== -1 && q < this.have + n;
    }
    this.have += n;
    this.read.bytes += n;
  }

  /** The first line (BOM and CR removed), read but not consumed. */
  firstLine(file: string): string {
    let nl = -1;
    while (!this.eof) {
      this.readMore();
      nl = this.stage.subarray(0, this.have).indexOf(NL);
      if (nl !== -1) break;
    }
    if (nl === -1) throw new RepricerError('INPUT_UNREADABLE', `${file}: empty catalogue (no header line)`);
    this.firstNl = nl;
    return this.stage.subarray(0, nl).toString('utf8').replace(/^\uFEFF/, '').replace(/\r$/, '');
  }

  /** Consume the first line (a CSV header): chunks start at line 2. */
  skipFirstLine(): void {
    this.start = this.firstNl + 1;
    this.headerBytes = this.start;
    this.line = 2;
  }

  /** Up to `max` staged bytes not yet handed out (after the header): a sample of the data. */
  sample(max: number): Buffer {
    return this.stage.subarray(this.start, Math.min(this.have, this.start + max));
  }

  /** The next `k` whole rows among the staged bytes, or undefined if they are not all staged yet. */
  next(k: number): TextChunk | undefined {
    const view = this.stage.subarray(0, this.have);
    const cut = cutAfterLines(view, this.start, k, this.quoted);
    if (cut.end === -1) return undefined;
    return this.take(view.subarray(this.start, cut.end), cut.lines);
  }

  /** What is left once the input is exhausted (a last line without a newline included), or undefined. */
  rest(): TextChunk | undefined {
    if (this.start >= this.have) return undefined;
    const rest = this.stage.subarray(this.start, this.have);
    return this.take(rest, countLines(rest, 0, rest.length) + 1);
  }

  private take(bytes: Buffer, lines: number): TextChunk {
    const chunk = { bytes, firstLine: this.line, lines };
    this.start += bytes.length;
    this.line += lines;
    return chunk;
  }
}

/** The layout of a text catalogue from its first line: the CSV header (then skipped) or the first NDJSON object's keys. */
export function readTextLayout(text: TextChunks, file: string, format: 'csv' | 'ndjson', features: string[], opts: LayoutOptions = {}): CatalogLayout {
  const first = text.firstLine(file);
  if (format === 'csv') {
    const header = (parseCsv(first) as string[][])[0] ?? [];
    const layout = resolveLayout(file, header, features, opts);
    text.skipFirstLine();
    return layout;
  }
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(first) as Record<string, unknown>;
  } catch {
    throw new RepricerError('INPUT_ROW_INVALID', `${file}:1: expected a JSON object per line`);
  }
  return resolveLayout(file, Object.keys(obj), features, opts);
}
