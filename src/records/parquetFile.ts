/**
 * Parquet files as files: positioned reads, the footer (metadata) and what the batch job derives
 * from it (shape, task row ranges, per-task metadata), and a writer that assembles row groups
 * encoded elsewhere (in the workers) into a file.
 */
import { parquetMetadataAsync, type AsyncBuffer, type FileMetaData, type RowGroup, type SchemaElement } from 'hyparquet';
import { ByteWriter } from 'hyparquet-writer';
import { appendFileSync, close, closeSync, open, openSync, read, readSync, statSync, writeFileSync } from 'node:fs';
import { writeMetadata } from './hyparquetInternals.js';
import { RepricerError } from '../core/errors.js';
import { shiftRowGroup, type EncodedRowGroup } from './parquetRowGroups.js';

/** An AsyncBuffer over a local file that can also read synchronously into a given buffer. */
export interface FileBuffer extends AsyncBuffer {
  /** Fill `dst` with the bytes at [start, start + dst.length); throws at end of file. */
  readInto(start: number, dst: Uint8Array): void;
}

export function isFileBuffer(f: AsyncBuffer): f is FileBuffer {
  return typeof (f as Partial<FileBuffer>).readInto === 'function';
}

function truncated(path: string, at: number): RepricerError {
  return new RepricerError('INPUT_UNREADABLE', `${path}: unexpected end of file at byte ${at}`, { file: path });
}

/**
 * An AsyncBuffer over a file: each slice is positioned reads into one buffer of exactly its size
 * (hyparquet's asyncBufferFromFile streams each slice in 64 KiB chunks and concatenates them,
 * which cost as much as decoding). The file is opened per slice, so no descriptor outlives a read.
 */
export function fileAsyncBuffer(path: string): FileBuffer {
  const { size } = statSync(path);
  return {
    byteLength: size,
    readInto(start: number, dst: Uint8Array): void {
      if (start < 0 || start + dst.length > size) {
        throw new RepricerError('INPUT_UNREADABLE', `${path}: bytes [${start}, ${start + dst.length}) are outside the file (${size} bytes)`, { file: path });
      }
      const fd = openSync(path, 'r');
      try {
        for (let got = 0; got < dst.length; ) {
          const n = readSync(fd, dst, got, dst.length - got, start + got);
          if (n === 0) throw truncated(path, start + got);
          got += n;
        }
      } finally {
        closeSync(fd);
      }
    },
    slice(start: number, end?: number): Promise<ArrayBuffer> {
      const from = Math.min(Math.max(0, start), size);
      const to = Math.min(Math.max(from, end ?? size), size);
      const buf = new Uint8Array(to - from);
      return new Promise((resolve, reject) => {
        open(path, 'r', (err, fd) => {
          if (err) return reject(err);
          const done = (e: Error | null) => close(fd, () => (e ? reject(e) : resolve(buf.buffer)));
          const step = (got: number): void => {
            if (got === buf.length) return done(null);
            read(fd, buf, got, buf.length - got, from + got, (e, n) => {
              if (e) done(e);
              else if (n === 0) done(truncated(path, from + got));
              else step(got + n);
            });
          };
          step(0);
        });
      });
    },
  };
}

export interface OpenParquet {
  file: AsyncBuffer;
  meta: FileMetaData;
}

/**
 * The file and its parsed footer. The footer of a 10M-row file takes tens of milliseconds to
 * parse, so the batch job opens its catalogue once and asks the opened file for its shape and for
 * each task's metadata (parquetTaskMeta); nothing is cached here.
 */
export async function openParquet(path: string): Promise<OpenParquet> {
  try {
    const file = fileAsyncBuffer(path);
    const meta = await parquetMetadataAsync(file);
    return { file, meta };
  } catch (err) {
    throw new RepricerError('INPUT_UNREADABLE', `${path}: not a readable Parquet file (${(err as Error).message})`);
  }
}

/** The file with `meta` when the caller has it (see parquetTaskMeta), else its parsed footer. */
export async function parquetSource(path: string, meta?: FileMetaData): Promise<OpenParquet> {
  if (!meta) return openParquet(path);
  try {
    return { file: fileAsyncBuffer(path), meta };
  } catch (err) {
    throw new RepricerError('INPUT_UNREADABLE', `${path}: cannot read (${(err as Error).message})`);
  }
}

/**
 * The part of a file's metadata a reader of rows [rowStart, rowEnd) needs: the schema and the row
 * groups overlapping the range, the groups before it folded into one of the same row count (so
 * row numbers stay absolute) and those after it dropped. The batch job sends this with each task,
 * so a worker never parses the whole footer, whose size grows with the file's row groups (~5 MB
 * in memory for the 100 groups of 10M rows).
 */
export function parquetTaskMeta(pq: OpenParquet, rowStart: number, rowEnd: number): FileMetaData {
  const { meta } = pq;
  const groups: RowGroup[] = [];
  let before = 0n;
  let g0 = 0;
  for (const rg of meta.row_groups) {
    const rows = Number(rg.num_rows);
    if (g0 + rows <= rowStart) before += rg.num_rows;
    else if (g0 < rowEnd) groups.push(rg);
    g0 += rows;
  }
  const skipped: RowGroup[] = before > 0n ? [{ columns: [], num_rows: before, total_byte_size: 0n }] : [];
  return { ...meta, row_groups: [...skipped, ...groups] };
}

/** Column names (top level) and row count of a Parquet file. */
export function parquetShape(pq: OpenParquet): { columns: string[]; rows: number; rowGroups: number[] } {
  const { meta } = pq;
  const columns = meta.schema.slice(1).filter((s) => !s.num_children).map((s) => s.name);
  return { columns, rows: Number(meta.num_rows), rowGroups: meta.row_groups.map((g) => Number(g.num_rows)) };
}

/**
 * Task row ranges: never crossing a row-group boundary (a worker decodes whole pages of the
 * groups it touches, so a range spanning part of a group would decode it twice), and at most
 * `chunkSize` rows.
 */
export function parquetRanges(rowGroups: number[], chunkSize: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let g0 = 0;
  for (const len of rowGroups) {
    const parts = Math.max(1, Math.ceil(len / chunkSize));
    const step = Math.ceil(len / parts);
    for (let s = 0; s < len; s += step) out.push({ start: g0 + s, end: g0 + Math.min(len, s + step) });
    g0 += len;
  }
  return out;
}

const MAGIC = 0x31524150; // 'PAR1' little-endian

/**
 * Assembles a Parquet file of `schema` from row groups encoded elsewhere (in the workers): appends
 * each group's bytes in order after the 'PAR1' header, shifts its offsets by the current file
 * position, and `finish` writes the footer (FileMetaData, its length, 'PAR1').
 */
export class ParquetFileWriter {
  private pos = 4;
  private numRows = 0n;
  private readonly rowGroups: RowGroup[] = [];

  constructor(
    private readonly path: string,
    private readonly schema: SchemaElement[],
  ) {
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, MAGIC, true);
    writeFileSync(path, head);
  }

  /** Append an encoded row group (its metadata is shifted in place). */
  append(g: EncodedRowGroup): void {
    shiftRowGroup(g.rowGroup, BigInt(this.pos));
    appendFileSync(this.path, g.bytes);
    this.pos += g.bytes.length;
    this.numRows += g.rowGroup.num_rows;
    this.rowGroups.push(g.rowGroup);
  }

  finish(): void {
    const bw = new ByteWriter();
    const meta = { version: 2, created_by: 'repricer', schema: this.schema, num_rows: this.numRows, row_groups: this.rowGroups } as unknown as FileMetaData;
    writeMetadata(bw, meta);
    bw.appendUint32(MAGIC);
    appendFileSync(this.path, bw.getBytes());
  }
}
