/**
 * Cutting a catalogue into the shards of a distributed run (docs/scale-out.md "Shards"): a text
 * catalogue (CSV without quoted fields, NDJSON) into byte ranges that start and end at line
 * boundaries, a Parquet catalogue into runs of whole row groups, and a list of files file by file
 * (each cut further when more shards than files are asked). A shard's rows are exactly the rows a
 * single-process job reads from those bytes or row groups (batch/byteRanges.ts: a row belongs to
 * the range its first byte lies in), so the shards' outputs concatenate to the single-process
 * output.
 */
import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { RepricerError, readFailure } from '../core/errors.js';
import { byteRanges } from '../batch/byteRanges.js';
import { formatOf } from '../batch/job.js';
import { openParquet, parquetShape } from '../records/parquet.js';

export interface Shard {
  /** 0, 1, ... in output order */
  index: number;
  /** the catalogue file, absolute */
  file: string;
  /** text: bytes [start, end), cut at line starts; Parquet: rows [start, end), whole row groups */
  start: number;
  end: number;
  /** the first shard carries the CSV header of the output */
  header: boolean;
}

/** Bytes of a text shard by default: large enough that a shard's fixed cost (a pool, the model) is small beside its rows. */
export const DEFAULT_SHARD_BYTES = 64 * 2 ** 20;

/**
 * The catalogue files of `--catalog`: a file, a comma-separated list, or a pattern with `*` and `?`
 * in its last part (matched in its folder, sorted by name). A pattern that matches nothing, and a
 * missing file, are NOT_FOUND.
 */
export function expandCatalogs(spec: string): string[] {
  const out: string[] = [];
  for (const item of spec.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const name = basename(item);
    if (!/[*?]/.test(name)) {
      out.push(resolve(item));
      continue;
    }
    if (/[*?]/.test(dirname(item))) throw new RepricerError('INVALID_ARGUMENT', `--catalog ${item}: a pattern may use * and ? in the file name only`);
    const re = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
    let entries: string[];
    try {
      entries = readdirSync(dirname(item));
    } catch (err) {
      throw readFailure(dirname(item), 'catalogue folder', err);
    }
    const hits = entries.filter((e) => re.test(e) && !e.startsWith('.')).sort();
    if (hits.length === 0) throw new RepricerError('NOT_FOUND', `--catalog ${item}: no file matches`, { file: item });
    out.push(...hits.map((h) => resolve(dirname(item), h)));
  }
  if (out.length === 0) throw new RepricerError('INVALID_ARGUMENT', '--catalog names no file');
  return out;
}

function sizeOf(file: string): number {
  let st;
  try {
    st = statSync(file);
  } catch (err) {
    throw readFailure(file, 'catalogue', err);
  }
  if (!st.isFile()) throw new RepricerError('INPUT_UNREADABLE', `${file}: not a file (expected a .csv, .ndjson or .parquet catalogue)`, { file });
  return st.size;
}

/** The first line of a text file (its CSV header), with its newline; '' for an empty file. */
export function firstLine(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const parts: Buffer[] = [];
    const buf = Buffer.allocUnsafe(64 << 10);
    for (let at = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, at);
      if (n === 0) break;
      const nl = buf.subarray(0, n).indexOf(10);
      if (nl !== -1) {
        parts.push(Buffer.from(buf.subarray(0, nl + 1)));
        break;
      }
      parts.push(Buffer.from(buf.subarray(0, n)));
      at += n;
    }
    return Buffer.concat(parts).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The offset of the first line start at or after `at` (a line starts after a newline); `size` if none. */
function lineStartFrom(fd: number, at: number, dataStart: number, size: number): number {
  if (at <= dataStart) return dataStart;
  const buf = Buffer.allocUnsafe(64 << 10);
  // the byte before `at`: a newline there means a line starts at `at`
  for (let p = at - 1; p < size; ) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - p), p);
    if (n === 0) break;
    const nl = buf.subarray(0, n).indexOf(10);
    if (nl !== -1) return p + nl + 1;
    p += n;
  }
  return size;
}

/** A text file cut into `pieces` byte ranges at line starts (empty ranges dropped). */
function textShards(file: string, csv: boolean, size: number, pieces: number): { start: number; end: number }[] {
  const dataStart = csv ? Buffer.byteLength(firstLine(file)) : 0;
  if (size <= dataStart) return [{ start: dataStart, end: dataStart }];
  const fd = openSync(file, 'r');
  try {
    const cuts: number[] = [];
    for (const r of byteRanges(dataStart, size, Math.ceil((size - dataStart) / pieces))) cuts.push(lineStartFrom(fd, r.start, dataStart, size));
    cuts.push(size);
    const out: { start: number; end: number }[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) if (cuts[i + 1] > cuts[i]) out.push({ start: cuts[i], end: cuts[i + 1] });
    return out.length ? out : [{ start: dataStart, end: size }];
  } finally {
    closeSync(fd);
  }
}

/** A Parquet file's row groups gathered into at most `pieces` runs of about equal rows. */
function parquetShards(rowGroups: number[], pieces: number): { start: number; end: number }[] {
  const total = rowGroups.reduce((a, b) => a + b, 0);
  const target = total / Math.max(1, Math.min(pieces, rowGroups.length));
  const out: { start: number; end: number }[] = [];
  let start = 0;
  let at = 0;
  for (const g of rowGroups) {
    at += g;
    if (at - start >= target * 0.999 || at === total) {
      out.push({ start, end: at });
      start = at;
    }
  }
  return out.length ? out : [{ start: 0, end: 0 }];
}

export interface ShardPlanOptions {
  /** shards wanted in all (default: one per DEFAULT_SHARD_BYTES of input, at least one per file) */
  shards?: number;
}

/**
 * The shards of the catalogue files, in output order. Text files of a list must be of one format,
 * and CSV files must share their header line (their outputs are concatenated under one header).
 */
export async function planShards(files: string[], o: ShardPlanOptions = {}): Promise<Shard[]> {
  const formats = files.map((f) => formatOf(f));
  if (new Set(formats).size > 1) throw new RepricerError('INVALID_ARGUMENT', `--catalog: the files must be of one format, got ${[...new Set(formats)].join(' and ')}`);
  const sizes = files.map(sizeOf);
  const total = sizes.reduce((a, b) => a + b, 0);
  const wanted = o.shards ?? Math.max(files.length, Math.ceil(total / DEFAULT_SHARD_BYTES));
  if (!Number.isInteger(wanted) || wanted < 1) throw new RepricerError('INVALID_ARGUMENT', `--shards must be an integer >= 1, got ${o.shards}`);
  const format = formats[0];
  let header: string | undefined;
  let columns: string | undefined;
  const shards: Shard[] = [];
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    const pieces = Math.max(1, Math.round((wanted * sizes[i]) / Math.max(1, total)));
    let ranges: { start: number; end: number }[];
    if (format === 'parquet') {
      const shape = parquetShape(await openParquet(file));
      const cols = shape.columns.join(',');
      if (columns !== undefined && cols !== columns) throw new RepricerError('INVALID_ARGUMENT', `${file}: its columns (${cols}) differ from those of ${files[0]} (${columns}); the files of one run share their columns`, { file });
      columns = cols;
      ranges = parquetShards(shape.rowGroups, pieces);
    } else {
      if (format === 'csv') {
        const h = firstLine(file);
        if (header !== undefined && h !== header) throw new RepricerError('INVALID_ARGUMENT', `${file}: its header differs from that of ${files[0]}; the files of one run share their header`, { file });
        header = h;
      }
      ranges = textShards(file, format === 'csv', sizes[i], pieces);
    }
    for (const r of ranges) shards.push({ index: shards.length, file, start: r.start, end: r.end, header: shards.length === 0 });
  }
  return shards;
}

/** The part file of a shard: `<out>.parts/shard-00042.csv`. */
export function partName(index: number, ext: string): string {
  return `shard-${String(index).padStart(5, '0')}${ext}`;
}

/** The folder of a run's parts. */
export const partsDir = (out: string): string => `${resolve(out)}.parts`;
export const partPath = (out: string, index: number, ext: string): string => join(partsDir(out), partName(index, ext));
