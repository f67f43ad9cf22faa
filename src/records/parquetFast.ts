/**
 * Fast Parquet paths for the batch repricer (issue 4). hyparquet's `parquetRead` boxes every
 * value (assembleLists for OPTIONAL columns, one JS array per column) and hyparquet-writer's
 * ParquetWriter wants boxed arrays with null for missing values; at 10M rows that boxing and the
 * GC behind it dominate. Here pages are decoded straight from hyparquet's own page primitives
 * into Float64Arrays (NaN = null) and written straight from the Float64Array columns, reusing
 * hyparquet(-writer)'s thrift, snappy, RLE and metadata code.
 *
 * Reader: flat (top-level, non-repeated) columns; DOUBLE, FLOAT, INT32, INT64 without a
 * converted/logical type that changes their value, and BYTE_ARRAY strings; PLAIN and
 * PLAIN_DICTIONARY/RLE_DICTIONARY; data pages v1 and v2; the codecs `decompressPage` knows.
 * Anything else returns null so the caller falls back to the hyparquet path.
 */
import type { AsyncBuffer, ColumnChunk, ColumnMetaData, CompressionCodec, DataReader, Encoding, FileMetaData, PageHeader, RowGroup, SchemaElement } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { decompressPage } from 'hyparquet/src/datapage.js';
import { readPlain } from 'hyparquet/src/plain.js';
import { readRleBitPackedHybrid } from 'hyparquet/src/encoding.js';
import { snappyUncompress } from 'hyparquet/src/snappy.js';
import { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import type { CatalogChunk } from '../pricing/engine.js';
import type { WasmCore } from '../core/wasm.js';
import { snappyCompress as snappyCompressWasm, snappyUncompress as snappyUncompressWasm, snappyUncompressInto } from '../core/snappy.js';
import { columnsToRows, columnsToRowsReference, firstNonFinite } from '../core/columns.js';
import { close, closeSync, open, openSync, read, readSync, statSync } from 'node:fs';

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------

/** How values are checked while decoding; a failed check aborts the fast path (caller falls back). */
export const CHECK_NONE = 0; // null -> NaN (strings: null), anything goes
export const CHECK_FEATURE = 1; // non-null and finite
export const CHECK_FINITE_OR_NULL = 2; // null -> NaN, else finite
export const CHECK_NONNEG_OR_NULL = 3; // null -> NaN, else finite and >= 0
export const CHECK_ID = 4; // non-null, non-empty string

/** Destination of one numeric column: row r goes to dst[r * stride + offset]. */
export interface NumberSink {
  kind: 'number';
  column: string;
  dst: Float64Array;
  stride: number;
  offset: number;
  check: number;
  /** dst lives in this core's memory: PLAIN DOUBLE pages without nulls are decompressed straight into it */
  wasm?: WasmCore;
}

/** Destination of one string column: row r goes to dst[r]. */
export interface StringSink {
  kind: 'string';
  column: string;
  dst: (string | null)[];
  check: number;
}

/**
 * Raw UTF-8 bytes of a string column: row r is bytes[start[r], start[r] + len[r]). The batch job
 * reads product ids this way, resolves them to model rows in WASM and writes them back as read,
 * so no id becomes a JavaScript string unless a per-product policy or a text output needs it.
 */
export interface IdBytes {
  bytes: Uint8Array;
  /** bytes in use */
  used: number;
  start: Int32Array;
  len: Int32Array;
  /** where a larger byte buffer comes from when `bytes` fills up (default: a fresh array) */
  grow?: (bytes: number) => Uint8Array;
}

/** Destination of one string column as bytes (see IdBytes). */
export interface BytesSink {
  kind: 'bytes';
  column: string;
  out: IdBytes;
  check: number;
}

export type ColumnSink = NumberSink | StringSink | BytesSink;

/**
 * An empty IdBytes for n rows; with a core, in its arena (valid for the caller's arena scope): a
 * worker then allocates no fresh buffers per task, and the ids reach the lookup kernel in place.
 */
export function idBytes(n: number, core?: WasmCore): IdBytes {
  if (!core) return { bytes: new Uint8Array(Math.max(64, n * 16)), used: 0, start: new Int32Array(n), len: new Int32Array(n) };
  const bytes = (k: number) => {
    const p = core.arena.allocBytes(k);
    return new Uint8Array(core.memory.buffer, p, k); // buffer read after the allocation
  };
  const ints = (k: number) => {
    const p = core.arena.allocBytes(4 * Math.max(1, k));
    return new Int32Array(core.memory.buffer, p, k);
  };
  return { bytes: bytes(Math.max(64, n * 16)), used: 0, start: ints(n), len: ints(n), grow: bytes };
}

/** Append src[s, s + l) as row `row`. */
function putBytes(o: IdBytes, src: Uint8Array, s: number, l: number, row: number): void {
  if (o.used + l > o.bytes.length) {
    const size = Math.max(o.bytes.length * 2, o.used + l);
    const grown = o.grow ? o.grow(size) : new Uint8Array(size);
    grown.set(o.bytes.subarray(0, o.used));
    o.bytes = grown;
  }
  const b = o.bytes;
  const at = o.used;
  if (l > 32) b.set(src.subarray(s, s + l), at);
  else for (let k = 0; k < l; k++) b[at + k] = src[s + k];
  o.start[row] = at;
  o.len[row] = l;
  o.used = at + l;
}

let rangeScratch = { start: new Int32Array(0), len: new Int32Array(0) };

/**
 * The (offset, length) of `count` PLAIN byte arrays in bytes[off, end), offsets into `bytes`; with
 * `scratch`, views of arrays reused by the next call.
 */
function plainRanges(bytes: Uint8Array, off: number, end: number, count: number, scratch = false): { start: Int32Array; len: Int32Array } {
  let start: Int32Array;
  let len: Int32Array;
  if (scratch) {
    // a data page's ranges are used at once: one pair of arrays per thread
    if (rangeScratch.start.length < count) rangeScratch = { start: new Int32Array(count * 2), len: new Int32Array(count * 2) };
    start = rangeScratch.start.subarray(0, count);
    len = rangeScratch.len.subarray(0, count);
  } else {
    start = new Int32Array(count);
    len = new Int32Array(count);
  }
  let p = off;
  for (let i = 0; i < count; i++) {
    if (p + 4 > end) throw UNSUPPORTED;
    const l = (bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24)) >>> 0;
    p += 4;
    if (l > end - p) throw UNSUPPORTED;
    start[i] = p;
    len[i] = l;
    p += l;
  }
  return { start, len };
}

/** A dictionary of byte strings (its own copy: the page buffer is reused). */
interface ByteDict {
  bytes: Uint8Array;
  start: Int32Array;
  len: Int32Array;
}

/** Page rows [i0, i1) to sink rows shift + i, as bytes; values (or dict[idx]) start at vi. */
function scatterBytes(src: Uint8Array, vals: { start: Int32Array; len: Int32Array }, idx: Int32Array | undefined, defs: Uint8Array | undefined, i0: number, i1: number, vi: number, shift: number, s: BytesSink): void {
  for (let i = i0; i < i1; i++) {
    if (defs !== undefined && defs[i] === 0) throw INVALID; // ids are required; other byte columns are not read this way
    const k = idx === undefined ? vi++ : idx[vi++];
    if (k >= vals.len.length) throw INVALID;
    const l = vals.len[k];
    if (s.check === CHECK_ID && l === 0) throw INVALID;
    putBytes(s.out, src, vals.start[k], l, shift + i);
  }
}

/** Thrown inside the decoder for anything outside the fast case; never escapes this module. */
class Unsupported extends Error {}
const UNSUPPORTED = new Unsupported('outside the fast Parquet path');
/** A value failed its check: the hyparquet path re-reads the chunk to name row and column. */
const INVALID = new Unsupported('invalid value');

const NUMERIC = new Set(['DOUBLE', 'FLOAT', 'INT32', 'INT64']);
const PLAIN_INT_CTYPES = new Set([undefined, 'INT_8', 'INT_16', 'INT_32', 'INT_64']);

/** Top-level leaf columns by name; nested or duplicated names map to null (not fast-readable). */
function topLevelLeaves(schema: SchemaElement[]): Map<string, SchemaElement | null> {
  const out = new Map<string, SchemaElement | null>();
  const skip = (i: number): number => {
    let k = schema[i].num_children ?? 0;
    i++;
    while (k-- > 0 && i < schema.length) i = skip(i);
    return i;
  };
  let i = 1;
  for (let c = 0; c < (schema[0]?.num_children ?? 0) && i < schema.length; c++) {
    const el = schema[i];
    const leaf = !el.num_children;
    out.set(el.name, leaf && !out.has(el.name) ? el : null);
    i = leaf ? i + 1 : skip(i);
  }
  return out;
}

/** Whether hyparquet's `convert` would hand this column's physical values through unchanged. */
function fastType(el: SchemaElement, kind: 'number' | 'string' | 'bytes'): boolean {
  if (el.repetition_type === 'REPEATED') return false;
  if (kind !== 'number') {
    return el.type === 'BYTE_ARRAY' && (el.converted_type === undefined || el.converted_type === 'UTF8') && (el.logical_type === undefined || el.logical_type.type === 'STRING');
  }
  if (!el.type || !NUMERIC.has(el.type)) return false;
  if (el.type === 'DOUBLE' || el.type === 'FLOAT') return el.converted_type === undefined && el.logical_type === undefined;
  const lt = el.logical_type;
  return PLAIN_INT_CTYPES.has(el.converted_type) && (lt === undefined || (lt.type === 'INTEGER' && lt.isSigned));
}

export interface ColumnRequest {
  column: string;
  kind: 'number' | 'string' | 'bytes';
}

interface FetchedChunk {
  bytes: Uint8Array;
  md: ColumnMetaData;
  el: SchemaElement;
}

interface FetchedGroup {
  groupStart: number;
  selStart: number;
  selEnd: number;
  chunks: Map<string, FetchedChunk>;
}

/**
 * Read the bytes of the wanted column chunks of every row group overlapping [rowStart, rowEnd).
 * Returns null when a wanted column is outside the fast case. Chunks of one group are read with
 * as few slices as possible (small gaps are read through: one read beats two).
 */
async function fetchChunks(file: AsyncBuffer, meta: FileMetaData, columns: ColumnRequest[], rowStart: number, rowEnd: number, core?: WasmCore): Promise<FetchedGroup[] | null> {
  // a local file read for a core: positioned reads straight into its arena (no fresh buffer per
  // slice, no copy into WASM before decompressing); the caller holds the arena scope
  const local = core && isFileBuffer(file) ? file : undefined;
  const leaves = topLevelLeaves(meta.schema);
  const names = [...new Set(columns.map((c) => c.column))];
  for (const c of columns) {
    const el = leaves.get(c.column);
    if (!el || !fastType(el, c.kind)) return null;
  }
  const groups: FetchedGroup[] = [];
  const reads: Promise<void>[] = [];
  let g0 = 0;
  for (const rg of meta.row_groups) {
    const rows = Number(rg.num_rows);
    const gs = g0;
    g0 += rows;
    if (gs + rows <= rowStart || gs >= rowEnd || rows === 0) continue;
    const ranges: { name: string; start: number; end: number; cc: ColumnChunk }[] = [];
    for (const name of names) {
      const cc = rg.columns.find((c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === name);
      const md = cc?.meta_data;
      if (!cc || !md || cc.file_path || md.type !== leaves.get(name)!.type) return null;
      const start = Number(md.dictionary_page_offset || md.data_page_offset);
      ranges.push({ name, start, end: start + Number(md.total_compressed_size), cc });
    }
    ranges.sort((a, b) => a.start - b.start);
    const group: FetchedGroup = { groupStart: gs, selStart: Math.max(gs, rowStart), selEnd: Math.min(gs + rows, rowEnd), chunks: new Map() };
    groups.push(group);
    for (let i = 0; i < ranges.length; ) {
      let j = i + 1;
      let end = ranges[i].end;
      while (j < ranges.length && ranges[j].start - end <= 1 << 20) end = Math.max(end, ranges[j++].end);
      const part = ranges.slice(i, j);
      const start = part[0].start;
      if (local && core) {
        const p = core.arena.allocBytes(end - start);
        const dst = new Uint8Array(core.memory.buffer, p, end - start); // buffer read after the allocation
        local.readInto(start, dst);
        for (const r of part) group.chunks.set(r.name, { bytes: dst.subarray(r.start - start, r.end - start), md: r.cc.meta_data!, el: leaves.get(r.name)! });
        i = j;
        continue;
      }
      reads.push(
        Promise.resolve(file.slice(start, end)).then((buf) => {
          for (const r of part) group.chunks.set(r.name, { bytes: new Uint8Array(buf, r.start - start, r.end - r.start), md: r.cc.meta_data!, el: leaves.get(r.name)! });
        }),
      );
      i = j;
    }
  }
  await Promise.all(reads);
  return groups;
}

/** An AsyncBuffer over a local file that can also read synchronously into a given buffer. */
export interface FileBuffer extends AsyncBuffer {
  /** Fill `dst` with the bytes at [start, start + dst.length); throws at end of file. */
  readInto(start: number, dst: Uint8Array): void;
}

function isFileBuffer(f: AsyncBuffer): f is FileBuffer {
  return typeof (f as Partial<FileBuffer>).readInto === 'function';
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
      if (start < 0 || start + dst.length > size) throw new Error(`${path}: bytes [${start}, ${start + dst.length}) are outside the file (${size} bytes)`);
      const fd = openSync(path, 'r');
      try {
        for (let got = 0; got < dst.length; ) {
          const n = readSync(fd, dst, got, dst.length - got, start + got);
          if (n === 0) throw new Error(`${path}: unexpected end of file at byte ${start + got}`);
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
              else if (n === 0) done(new Error(`${path}: unexpected end of file at byte ${from + got}`));
              else step(got + n);
            });
          };
          step(0);
        });
      });
    },
  };
}

// scratch buffers reused across pages (one decode runs at a time per thread)
let levelScratch = new Uint8Array(1 << 16);
let pageScratch = new Uint8Array(1 << 20);
let indexScratch = new Int32Array(1 << 16);
function levels(n: number): Uint8Array {
  if (levelScratch.length < n) levelScratch = new Uint8Array(n * 2);
  return levelScratch.subarray(0, n);
}
function indexes(n: number): Int32Array {
  if (indexScratch.length < n) indexScratch = new Int32Array(n * 2);
  return indexScratch.subarray(0, n);
}

/**
 * A decompressed page. SNAPPY pages go into one reused buffer (a fresh ~1 MB buffer per page and
 * column was most of the reader's GC), so the result is only valid until the next call.
 */
function decompress(body: Uint8Array, size: number, codec: CompressionCodec): Uint8Array {
  if (codec !== 'SNAPPY') return decompressPage(body, size, codec, undefined);
  if (pageScratch.length < size) pageScratch = new Uint8Array(Math.max(size, pageScratch.length * 2));
  const out = pageScratch.subarray(0, size);
  if (snappyCore) {
    try {
      snappyUncompressWasm(snappyCore, body, out);
    } catch {
      throw UNSUPPORTED; // the hyparquet path reports the corrupt page
    }
  } else {
    snappyUncompress(body, out);
  }
  return out;
}

let snappyCore: WasmCore | undefined;

/**
 * Decompress SNAPPY pages with this thread's WASM core (set once by a worker) instead of
 * hyparquet's JavaScript decoder; undefined goes back to the latter.
 */
export function useWasmSnappy(core: WasmCore | undefined): void {
  snappyCore = core;
}

const utf8 = new TextDecoder();

/**
 * `count` PLAIN byte arrays from bytes[off, end) as strings, decoded as hyparquet does
 * (TextDecoder, UTF-8). ASCII values are substrings of one latin1 string of the whole region,
 * which is several times cheaper than a TextDecoder call per value.
 */
function plainStrings(bytes: Uint8Array, off: number, end: number, count: number): string[] {
  const r = plainRanges(bytes, off, end, count, true);
  const out = new Array<string>(count);
  const all = Buffer.from(bytes.buffer, bytes.byteOffset + off, end - off).toString('latin1');
  for (let i = 0; i < count; i++) {
    const p = r.start[i];
    const len = r.len[i];
    let hi = 0;
    for (let q = p; q < p + len; q++) hi |= bytes[q];
    out[i] = hi < 0x80 ? all.substring(p - off, p - off + len) : utf8.decode(bytes.subarray(p, p + len));
  }
  return out;
}

/** PLAIN numeric values as a Float64Array (INT64 through Number(), as the hyparquet path's toNumber). */
function plainNumbers(reader: DataReader, type: string, count: number): Float64Array {
  if (count === 0) return new Float64Array(0);
  const v = readPlain(reader, type as 'DOUBLE', count, undefined);
  if (v instanceof Float64Array) return v;
  if (v instanceof BigInt64Array) {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = Number(v[i]);
    return out;
  }
  if (v instanceof Float32Array || v instanceof Int32Array) return Float64Array.from(v);
  throw UNSUPPORTED;
}

type Dictionary = Float64Array | string[] | ByteDict;

function readDictionary(body: Uint8Array, h: PageHeader, md: ColumnMetaData, sink: ColumnSink): Dictionary {
  const dh = h.dictionary_page_header;
  if (!dh || (dh.encoding !== 'PLAIN' && dh.encoding !== 'PLAIN_DICTIONARY')) throw UNSUPPORTED;
  const page = decompress(body, h.uncompressed_page_size, md.codec);
  if (sink.kind === 'string') return plainStrings(page, 0, page.byteLength, dh.num_values);
  if (sink.kind === 'bytes') {
    const r = plainRanges(page, 0, page.byteLength, dh.num_values);
    return { bytes: page.slice(), start: r.start, len: r.len };
  }
  // copied: the page buffer is reused by the data pages that follow
  return plainNumbers({ view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 }, md.type, dh.num_values).slice();
}

/**
 * Decode one column chunk's pages overlapping [selStart, selEnd) into the sink; sink row 0 is
 * absolute row `base`. Pages wholly before the selection are skipped undecompressed.
 */
function decodeChunk(c: FetchedChunk, groupStart: number, selStart: number, selEnd: number, base: number, sink: ColumnSink): void {
  const { bytes, md, el } = c;
  const optional = el.repetition_type !== 'REQUIRED';
  const reader: DataReader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  let dict: Dictionary | undefined;
  let row = groupStart;
  while (row < selEnd && reader.offset < bytes.byteLength) {
    const h = parquetHeader(reader);
    const body = bytes.subarray(reader.offset, reader.offset + h.compressed_page_size);
    reader.offset += h.compressed_page_size;
    if (body.length !== h.compressed_page_size) throw UNSUPPORTED;
    if (h.type === 'DICTIONARY_PAGE') {
      dict = readDictionary(body, h, md, sink);
      continue;
    }
    let rows: number;
    let defs: Uint8Array | undefined;
    let values: Uint8Array;
    let vOff = 0;
    let encoding: Encoding;
    if (h.type === 'DATA_PAGE') {
      const d = h.data_page_header!;
      rows = d.num_values;
      if (row + rows <= selStart) {
        row += rows;
        continue;
      }
      if (sink.kind === 'number' && d.encoding === 'PLAIN' && row >= selStart && row + rows <= selEnd && plainDoublesV1(body, h.uncompressed_page_size, md, optional, rows, row - base, sink)) {
        row += rows;
        continue;
      }
      values = decompress(body, h.uncompressed_page_size, md.codec);
      const r: DataReader = { view: new DataView(values.buffer, values.byteOffset, values.byteLength), offset: 0 };
      if (optional) {
        if (d.definition_level_encoding !== 'RLE') throw UNSUPPORTED;
        defs = levels(rows);
        readRleBitPackedHybrid(r, 1, defs);
      }
      vOff = r.offset;
      encoding = d.encoding;
    } else if (h.type === 'DATA_PAGE_V2') {
      const d = h.data_page_header_v2!;
      rows = d.num_rows;
      if (d.num_values !== rows || d.repetition_levels_byte_length) throw UNSUPPORTED;
      if (row + rows <= selStart) {
        row += rows;
        continue;
      }
      const lv = d.definition_levels_byte_length;
      if (sink.kind === 'number' && d.num_nulls === 0 && d.encoding === 'PLAIN' && row >= selStart && row + rows <= selEnd && plainDoublesV2(body.subarray(lv), h.uncompressed_page_size - lv, md, d.is_compressed !== false, rows, row - base, sink)) {
        row += rows;
        continue;
      }
      // v2 counts the nulls in the header: no levels to decode when there are none
      if (optional && d.num_nulls !== 0) {
        defs = levels(rows);
        readRleBitPackedHybrid({ view: new DataView(body.buffer, body.byteOffset, lv), offset: 0 }, 1, defs, lv);
      }
      values = body.subarray(lv);
      if (d.is_compressed !== false) values = decompress(values, h.uncompressed_page_size - lv, md.codec);
      encoding = d.encoding;
    } else {
      throw UNSUPPORTED;
    }
    const nonNull = defs ? countOnes(defs, rows) : rows;
    // first and last row of this page inside the selection, and the values before the first
    const i0 = Math.max(0, selStart - row);
    const i1 = Math.min(rows, selEnd - row);
    let vi = i0;
    if (defs) vi = countOnes(defs, i0);
    const r: DataReader = { view: new DataView(values.buffer, values.byteOffset, values.byteLength), offset: vOff };
    if (encoding === 'PLAIN') {
      if (sink.kind === 'string') scatterStrings(plainStrings(values, vOff, values.byteLength, nonNull), undefined, defs, i0, i1, vi, row - base, sink);
      else if (sink.kind === 'bytes') scatterBytes(values, plainRanges(values, vOff, values.byteLength, nonNull, true), undefined, defs, i0, i1, vi, row - base, sink);
      else scatterNumbers(plainNumbers(r, md.type, nonNull), undefined, defs, i0, i1, vi, row - base, sink);
    } else if (encoding === 'RLE_DICTIONARY' || encoding === 'PLAIN_DICTIONARY') {
      if (!dict) throw UNSUPPORTED;
      const idx = indexes(nonNull);
      if (nonNull > 0) {
        const width = r.view.getUint8(r.offset++);
        if (width > 32) throw UNSUPPORTED;
        if (width) readRleBitPackedHybrid(r, width, idx, values.byteLength - r.offset);
        else idx.fill(0);
      }
      if (sink.kind === 'string') {
        if (!Array.isArray(dict)) throw UNSUPPORTED;
        scatterStrings(dict, idx, defs, i0, i1, vi, row - base, sink);
      } else if (sink.kind === 'bytes') {
        if (Array.isArray(dict) || dict instanceof Float64Array) throw UNSUPPORTED;
        scatterBytes(dict.bytes, dict, idx, defs, i0, i1, vi, row - base, sink);
      } else {
        if (!(dict instanceof Float64Array)) throw UNSUPPORTED;
        scatterNumbers(dict, idx, defs, i0, i1, vi, row - base, sink);
      }
    } else {
      throw UNSUPPORTED;
    }
    row += rows;
  }
  if (row < selEnd) throw UNSUPPORTED; // column chunk ended early
}

/** Whether a page of `sink`'s column can be decoded in WASM (see NumberSink.wasm). */
function wasmPlainDoubles(md: ColumnMetaData, sink: NumberSink): WasmCore | undefined {
  if (!sink.wasm || sink.stride !== 1 || md.type !== 'DOUBLE' || (md.codec !== 'SNAPPY' && md.codec !== 'UNCOMPRESSED')) return undefined;
  if (sink.check !== CHECK_NONE && sink.check !== CHECK_FEATURE && sink.check !== CHECK_FINITE_OR_NULL) return undefined;
  return sink.wasm;
}

/** Check a block just written into the sink: any non-finite value fails CHECK_FEATURE and CHECK_FINITE_OR_NULL. */
function checkWasmBlock(core: WasmCore, block: Float64Array, check: number): void {
  if (check !== CHECK_NONE && firstNonFinite(core, block) >= 0) throw INVALID;
}

/**
 * A whole v2 PLAIN DOUBLE page without nulls, decompressed straight into the sink's WASM memory
 * at sink row `at`. False (nothing written) when the page is not of that kind.
 */
function plainDoublesV2(data: Uint8Array, size: number, md: ColumnMetaData, compressed: boolean, rows: number, at: number, sink: NumberSink): boolean {
  const core = wasmPlainDoubles(md, sink);
  if (!core || size !== rows * 8) return false;
  const block = sink.dst.subarray(sink.offset + at, sink.offset + at + rows);
  const dst = new Uint8Array(block.buffer, block.byteOffset, size);
  if (!compressed || md.codec === 'UNCOMPRESSED') {
    if (data.length !== size) throw UNSUPPORTED;
    dst.set(data);
  } else if (!snappyUncompressInto(core, data, dst)) {
    throw UNSUPPORTED; // the hyparquet path reports the corrupt page
  }
  checkWasmBlock(core, block, sink.check);
  return true;
}

/**
 * A whole v1 PLAIN DOUBLE page (the layout pyarrow writes by default) decompressed in WASM
 * memory; when every value is present it is copied into the sink at row `at` there. False
 * (nothing written) when the page has nulls or is not of that kind: the JavaScript path decodes it.
 */
function plainDoublesV1(body: Uint8Array, size: number, md: ColumnMetaData, optional: boolean, rows: number, at: number, sink: NumberSink): boolean {
  const core = wasmPlainDoubles(md, sink);
  if (!core) return false;
  return core.arena.scoped(() => {
    const p = core.arena.allocBytes(Math.max(1, size));
    const page = new Uint8Array(core.memory.buffer, p, size);
    if (md.codec === 'UNCOMPRESSED') {
      if (body.length !== size) throw UNSUPPORTED;
      page.set(body);
    } else if (!snappyUncompressInto(core, body, page)) {
      throw UNSUPPORTED;
    }
    let vOff = 0;
    if (optional) {
      const r: DataReader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
      const defs = levels(rows);
      readRleBitPackedHybrid(r, 1, defs);
      if (countOnes(defs, rows) !== rows) return false;
      vOff = r.offset;
    }
    if (size - vOff !== rows * 8) throw UNSUPPORTED;
    const block = sink.dst.subarray(sink.offset + at, sink.offset + at + rows);
    new Uint8Array(block.buffer, block.byteOffset, size - vOff).set(page.subarray(vOff));
    checkWasmBlock(core, block, sink.check);
    return true;
  });
}

function countOnes(defs: Uint8Array, n: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) k += defs[i];
  return k;
}

/** Page rows [i0, i1) to sink rows shift + i; values (or dict[idx]) start at vi. */
function scatterNumbers(vals: Float64Array, idx: Int32Array | undefined, defs: Uint8Array | undefined, i0: number, i1: number, vi: number, shift: number, s: NumberSink): void {
  const { dst, stride, offset, check } = s;
  let p = (shift + i0) * stride + offset;
  if (defs === undefined && idx === undefined && stride === 1) {
    // the common case (no nulls, PLAIN): check, then one block copy
    const src = vals.subarray(vi, vi + i1 - i0);
    if (src.length !== i1 - i0) throw UNSUPPORTED;
    if (check !== CHECK_NONE) checkBlock(src, check);
    dst.set(src, p);
    return;
  }
  for (let i = i0; i < i1; i++, p += stride) {
    if (defs !== undefined && defs[i] === 0) {
      if (check === CHECK_FEATURE) throw INVALID;
      dst[p] = NaN;
      continue;
    }
    // an index past the dictionary reads undefined -> NaN, which every check but NONE rejects
    const v = idx === undefined ? vals[vi++] : vals[idx[vi++]];
    if (check !== CHECK_NONE && (v - v !== 0 || (check === CHECK_NONNEG_OR_NULL && v < 0))) throw INVALID;
    dst[p] = v;
  }
}

function checkBlock(v: Float64Array, check: number): void {
  let bad = false;
  if (check === CHECK_NONNEG_OR_NULL) for (let i = 0; i < v.length; i++) bad = bad || !(v[i] >= 0 && v[i] < Infinity);
  else for (let i = 0; i < v.length; i++) bad = bad || v[i] - v[i] !== 0;
  if (bad) throw INVALID;
}

function scatterStrings(vals: string[], idx: Int32Array | undefined, defs: Uint8Array | undefined, i0: number, i1: number, vi: number, shift: number, s: StringSink): void {
  const { dst, check } = s;
  for (let i = i0; i < i1; i++) {
    if (defs !== undefined && defs[i] === 0) {
      if (check === CHECK_ID) throw INVALID;
      dst[shift + i] = null;
      continue;
    }
    const v = idx === undefined ? vals[vi++] : vals[idx[vi++]];
    if (v === undefined || (check === CHECK_ID && v === '')) throw INVALID;
    dst[shift + i] = v;
  }
}

/**
 * Read rows [rowStart, rowEnd) of `columns` into the destinations `sinks()` returns; on success
 * `after()` runs. Both run synchronously after the last read has completed, so views of WASM
 * memory allocated there are never kept across an await. Resolves false when the chunk is
 * outside the fast case or a value fails its check (the sinks may then hold partial data and
 * `after` has not run).
 */
export async function readColumnsFast(
  file: AsyncBuffer,
  meta: FileMetaData,
  columns: ColumnRequest[],
  rowStart: number,
  rowEnd: number,
  sinks: () => ColumnSink[],
  after?: () => void,
  /** read a local file's chunks straight into this core's arena (the caller holds the scope) */
  core?: WasmCore,
): Promise<boolean> {
  // With a core the reads are synchronous, so the sinks can be allocated first and the chunk bytes
  // above them: once decoded, the bytes' space is released for what `after` allocates (x and the
  // rest), instead of staying under it until the task ends.
  let out = core ? sinks() : undefined;
  const mark = core?.arena.mark();
  try {
    let groups: FetchedGroup[] | null;
    try {
      groups = await fetchChunks(file, meta, columns, rowStart, rowEnd, core);
    } catch {
      return false;
    }
    if (!groups) return false;
    const covered = groups.reduce((a, g) => a + g.selEnd - g.selStart, 0);
    if (covered !== rowEnd - rowStart) return false;
    out ??= sinks();
    try {
      for (const g of groups) for (const s of out) decodeChunk(g.chunks.get(s.column)!, g.groupStart, g.selStart, g.selEnd, rowStart, s);
    } catch {
      // outside the fast case, a value failing its check, or a corrupt page: the hyparquet path
      // re-reads the chunk and reports it as before
      return false;
    }
  } finally {
    if (core && mark !== undefined) core.arena.release(mark);
  }
  after?.(); // still synchronous with sinks(): views it allocated are valid
  return true;
}

let featureScratch: Float64Array = new Float64Array(1 << 16);

export interface FastCatalogRead {
  file: AsyncBuffer;
  meta: FileMetaData;
  idColumn: string;
  featureColumns: string[];
  costColumn?: string;
  currentPriceColumn?: string;
  minPriceColumn?: string;
  maxPriceColumn?: string;
  intercept: boolean;
  rowStart: number;
  rowEnd: number;
  alloc: (n: number) => Float64Array;
  /** ids as raw bytes (`idBytes`, `ids` left empty) instead of strings */
  idsAsBytes?: boolean;
  /**
   * The core whose arena `alloc` draws from: numeric columns are then decoded into WASM memory
   * (feature pages decompressed straight there) and laid out as x by a kernel.
   */
  core?: WasmCore;
}

/**
 * A CatalogChunk of rows [rowStart, rowEnd) decoded straight into `alloc`ed arrays, or null when
 * the file is outside the fast case or any value fails validation (features finite; cost finite
 * or empty; prices finite >= 0 or empty; ids non-empty), so the hyparquet path re-reads the chunk
 * and reports rejects with row and column exactly as before.
 */
export async function readCatalogFast(o: FastCatalogRead): Promise<(CatalogChunk & { idBytes?: IdBytes }) | null> {
  const n = o.rowEnd - o.rowStart;
  const D = o.featureColumns.length + (o.intercept ? 1 : 0);
  const opt: [string | undefined, number][] = [
    [o.costColumn, CHECK_FINITE_OR_NULL],
    [o.currentPriceColumn, CHECK_NONNEG_OR_NULL],
    [o.minPriceColumn, CHECK_NONNEG_OR_NULL],
    [o.maxPriceColumn, CHECK_NONNEG_OR_NULL],
  ];
  const columns: ColumnRequest[] = [
    { column: o.idColumn, kind: o.idsAsBytes ? 'bytes' : 'string' },
    ...o.featureColumns.map((column) => ({ column, kind: 'number' as const })),
    ...opt.filter(([c]) => c !== undefined).map(([column]) => ({ column: column!, kind: 'number' as const })),
  ];
  const F = o.featureColumns.length;
  // Every numeric column is decoded column-major into one block first (features then transposed,
  // the others used in place). With a core the block is in WASM memory; without one it is a plain
  // (non-shared) scratch: typed arrays over WASM's shared memory are a different elements kind,
  // and mixing the two in one thread made the decode loops polymorphic.
  const core = o.core;
  if (!core && featureScratch.length < n * (F + 4)) featureScratch = new Float64Array(n * (F + 4));
  let cols = featureScratch;
  const res: { chunk?: CatalogChunk & { idBytes?: IdBytes } } = {};
  const ok = await readColumnsFast(
    o.file,
    o.meta,
    columns,
    o.rowStart,
    o.rowEnd,
    () => {
      if (core) cols = o.alloc(n * (F + 4)); // after the last await: the view stays valid
      const ids = new Array<string>(o.idsAsBytes ? 0 : n);
      const raw = o.idsAsBytes ? idBytes(n, core) : undefined;
      const sinks: ColumnSink[] = [raw ? { kind: 'bytes', column: o.idColumn, out: raw, check: CHECK_ID } : { kind: 'string', column: o.idColumn, dst: ids, check: CHECK_ID }];
      o.featureColumns.forEach((column, j) => sinks.push({ kind: 'number', column, dst: cols, stride: 1, offset: j * n, check: CHECK_FEATURE, wasm: core }));
      opt.forEach(([column, check], i) => {
        if (column !== undefined) sinks.push({ kind: 'number', column, dst: cols, stride: 1, offset: (F + i) * n, check, wasm: core });
      });
      res.chunk = { n, ids, idBytes: raw, x: new Float64Array(0), cost: new Float64Array(0), currentPrice: new Float64Array(0), minPrice: new Float64Array(0), maxPrice: new Float64Array(0) };
      return sinks;
    },
    () => {
      const c = res.chunk!;
      c.x = o.alloc(n * D);
      if (core) {
        columnsToRows(core, cols, n, F, c.x, D, o.intercept);
        const arrays = opt.map(([column], i) => (column === undefined ? o.alloc(n).fill(NaN) : cols.subarray((F + i) * n, (F + i + 1) * n)));
        [c.cost, c.currentPrice, c.minPrice, c.maxPrice] = arrays;
        return;
      }
      const arrays = [o.alloc(n), o.alloc(n), o.alloc(n), o.alloc(n)];
      columnsToRowsReference(cols, n, F, c.x, D, o.intercept);
      opt.forEach(([column], i) => {
        if (column === undefined) arrays[i].fill(NaN);
        else arrays[i].set(cols.subarray((F + i) * n, (F + i + 1) * n));
      });
      [c.cost, c.currentPrice, c.minPrice, c.maxPrice] = arrays;
    },
    core,
  );
  return ok && res.chunk ? res.chunk : null;
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

/** A REQUIRED UTF8 column written PLAIN from strings. */
export interface StringColumn {
  kind: 'string';
  name: string;
  values: string[];
  /** the same values as UTF-8 bytes, used instead of `values` when given (valid UTF-8 only) */
  bytes?: IdBytes;
}

/** An OPTIONAL DOUBLE column: non-finite values are written as null. */
export interface DoubleColumn {
  kind: 'double';
  name: string;
  values: Float64Array;
}

/** A REQUIRED UTF8 column of few distinct labels, written as a dictionary of label(code). */
export interface LabelColumn {
  kind: 'label';
  name: string;
  codes: Uint8Array | Uint32Array;
  label: (code: number) => string;
}

export type FastColumn = StringColumn | DoubleColumn | LabelColumn;

export interface FastRowGroup {
  bytes: Uint8Array;
  rowGroup: RowGroup;
}

export interface FastWriteOptions {
  /**
   * Snappy for which columns. Doubles are either dictionary-encoded (few distinct values) or
   * mostly incompressible, and compressing them costs about as much as everything else the writer
   * does (hyparquet-writer's JS snappy ~75 MB/s; the WASM one a worker uses, 2.8x that), so the
   * default compresses only the id strings.
   */
  snappy?: 'none' | 'strings' | 'all';
  /**
   * Return a view of this thread's reused output buffer instead of a copy: valid only until the
   * next encode on this thread (a fresh ~10 MB buffer per row group cost page faults).
   */
  shared?: boolean;
}

/** hyparquet-writer's statistics shape (hyparquet's Statistics type lacks nan_count). */
interface ChunkStatistics {
  min_value?: number | string;
  max_value?: number | string;
  null_count: bigint;
  nan_count?: bigint;
}

let bodyScratch = new Uint8Array(1 << 20);
function body(n: number): Uint8Array {
  if (bodyScratch.length < n) bodyScratch = new Uint8Array(Math.max(n, bodyScratch.length * 2));
  return bodyScratch;
}
let defScratch = new Uint8Array(1 << 16);
let idxScratch = new Int32Array(1 << 16);

const encoder = new TextEncoder();

/** UTF-8 byte order (= code point order) of two strings, as Parquet orders BYTE_ARRAY statistics. */
function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const ea = encoder.encode(a);
  const eb = encoder.encode(b);
  const len = Math.min(ea.length, eb.length);
  for (let i = 0; i < len; i++) if (ea[i] !== eb[i]) return ea[i] - eb[i];
  return ea.length - eb.length;
}

// one output buffer per thread, reset per row group: a fresh ~10 MB buffer per group cost more in
// page faults and GC than all the encoding
let sharedOut: ByteWriter | undefined;

class ChunkWriter {
  readonly out: ByteWriter;
  constructor(sizeHint: number) {
    if (!sharedOut || sharedOut.buffer.byteLength < sizeHint) sharedOut = new ByteWriter(Math.max(1024, sizeHint));
    this.out = sharedOut;
    this.out.offset = 0;
    this.out.index = 0;
  }

  /** One page (header + levels + body), compressed when `codec` says so; returns uncompressed bytes incl. header. */
  page(header: Omit<PageHeader, 'compressed_page_size' | 'uncompressed_page_size'>, levels: Uint8Array, data: Uint8Array, codec: CompressionCodec): number {
    const stored = codec !== 'SNAPPY' ? data : snappyCore ? snappyCompressWasm(snappyCore, data) : snappyCompress(data);
    const start = this.out.offset;
    writePageHeader(this.out, { ...header, uncompressed_page_size: levels.length + data.length, compressed_page_size: levels.length + stored.length } as PageHeader);
    const headerSize = this.out.offset - start;
    this.out.appendBytes(levels);
    this.out.appendBytes(stored);
    return headerSize + levels.length + data.length;
  }

  dataPageV2(n: number, nulls: number, encoding: Encoding, levels: Uint8Array, data: Uint8Array, codec: CompressionCodec): number {
    return this.page(
      {
        type: 'DATA_PAGE_V2',
        data_page_header_v2: { num_values: n, num_nulls: nulls, num_rows: n, encoding, definition_levels_byte_length: levels.length, repetition_levels_byte_length: 0, is_compressed: codec !== 'UNCOMPRESSED' },
      },
      levels,
      data,
      codec,
    );
  }

  dictionaryPage(count: number, data: Uint8Array, codec: CompressionCodec): number {
    return this.page({ type: 'DICTIONARY_PAGE', dictionary_page_header: { num_values: count, encoding: 'PLAIN' } }, new Uint8Array(0), data, codec);
  }
}

/** Definition levels (bit width 1) of an OPTIONAL column: one RLE run when nothing is null. */
function definitionLevels(v: Float64Array, n: number, nulls: number): Uint8Array {
  const w = new ByteWriter(nulls ? 1024 : 16);
  if (nulls === 0) {
    w.appendVarInt(n << 1);
    w.appendUint8(1);
  } else {
    if (defScratch.length < n) defScratch = new Uint8Array(n * 2);
    const d = defScratch.subarray(0, n);
    for (let i = 0; i < n; i++) {
      const x = v[i];
      d[i] = x - x === 0 ? 1 : 0;
    }
    writeRleBitPackedHybrid(w, d, 1);
  }
  return w.getBytes();
}

/** RLE_DICTIONARY page body: bit width byte, then the indexes as RLE/bit-packed hybrid. */
function dictionaryIndexes(idx: Int32Array, count: number, dictSize: number): Uint8Array {
  const width = Math.max(1, Math.ceil(Math.log2(dictSize)));
  const w = new ByteWriter(Math.ceil((count * width) / 8) + 64);
  w.appendUint8(width);
  writeRleBitPackedHybrid(w, idx.subarray(0, count), width);
  return w.getBytes();
}

const DICT_SLOTS = 1 << 14;
const DICT_MAX = 4096;
const dictKeys = new Uint32Array(DICT_SLOTS * 2);
const dictSlot = new Int32Array(DICT_SLOTS);

/**
 * Dictionary of the finite values of `v` (keyed by bit pattern, so -0 and 0 stay apart), or null
 * when it would not pay. Continuous columns give up after DICT_MAX distinct values (a few us);
 * rounded prices (a price grid) typically have a few hundred per chunk and shrink ~6x.
 */
function doubleDictionary(v: Float64Array, n: number, nonNull: number): { dict: Float64Array; idx: Int32Array } | null {
  if (nonNull < 64) return null;
  const bits = new Uint32Array(v.buffer, v.byteOffset, n * 2);
  dictSlot.fill(-1);
  if (idxScratch.length < nonNull) idxScratch = new Int32Array(nonNull * 2);
  const idx = idxScratch;
  const dict: number[] = [];
  let k = 0;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (x - x !== 0) continue;
    const lo = bits[2 * i];
    const hi = bits[2 * i + 1];
    let s = (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 18) & (DICT_SLOTS - 1);
    let d: number;
    for (;;) {
      d = dictSlot[s];
      if (d < 0) {
        d = dict.length;
        if (d >= DICT_MAX) return null;
        dictSlot[s] = d;
        dictKeys[2 * s] = lo;
        dictKeys[2 * s + 1] = hi;
        dict.push(x);
        break;
      }
      if (dictKeys[2 * s] === lo && dictKeys[2 * s + 1] === hi) break;
      s = (s + 1) & (DICT_SLOTS - 1);
    }
    idx[k++] = d;
  }
  // pays when dictionary + indexes are at most half the plain values
  const width = Math.max(1, Math.ceil(Math.log2(dict.length)));
  if (2 * (dict.length * 8 + (nonNull * width) / 8) > nonNull * 8) return null;
  return { dict: Float64Array.from(dict), idx };
}

type ColumnResult = { md: Partial<ColumnMetaData>; uncompressed: number; stats: ChunkStatistics };

/** One PLAIN v2 data page and its column metadata. */
function plainColumn(w: ChunkWriter, n: number, nulls: number, levels: Uint8Array, data: Uint8Array, codec: CompressionCodec, stats: ChunkStatistics): ColumnResult {
  const dataOffset = w.out.offset;
  const uncompressed = w.dataPageV2(n, nulls, 'PLAIN', levels, data, codec);
  return { md: { encodings: ['PLAIN'], data_page_offset: BigInt(dataOffset), encoding_stats: [{ page_type: 'DATA_PAGE_V2', encoding: 'PLAIN', count: 1 }] }, uncompressed, stats };
}

/** A PLAIN dictionary page, one RLE_DICTIONARY v2 data page, and their column metadata. */
function dictionaryColumn(w: ChunkWriter, n: number, nulls: number, levels: Uint8Array, dictCount: number, dict: Uint8Array, indexes: Uint8Array, codec: CompressionCodec, stats: ChunkStatistics): ColumnResult {
  const dictOffset = w.out.offset;
  let uncompressed = w.dictionaryPage(dictCount, dict, codec);
  const dataOffset = w.out.offset;
  uncompressed += w.dataPageV2(n, nulls, 'RLE_DICTIONARY', levels, indexes, codec);
  return {
    md: {
      encodings: ['PLAIN', 'RLE_DICTIONARY'],
      dictionary_page_offset: BigInt(dictOffset),
      data_page_offset: BigInt(dataOffset),
      encoding_stats: [
        { page_type: 'DICTIONARY_PAGE', encoding: 'PLAIN', count: 1 },
        { page_type: 'DATA_PAGE_V2', encoding: 'RLE_DICTIONARY', count: 1 },
      ],
    },
    uncompressed,
    stats,
  };
}

function writeDouble(w: ChunkWriter, c: DoubleColumn, n: number, codec: CompressionCodec): ColumnResult {
  const v = c.values;
  let nulls = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (x - x !== 0) {
      nulls++;
      continue;
    }
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const nonNull = n - nulls;
  const stats: ChunkStatistics = { null_count: BigInt(nulls), nan_count: 0n };
  if (nonNull > 0) {
    // Parquet: a zero min is written -0 and a zero max +0
    stats.min_value = min === 0 ? -0 : min;
    stats.max_value = max === 0 ? 0 : max;
  }
  const levels = definitionLevels(v, n, nulls);
  const dict = doubleDictionary(v, n, nonNull);
  if (dict) {
    return dictionaryColumn(w, n, nulls, levels, dict.dict.length, new Uint8Array(dict.dict.buffer), dictionaryIndexes(dict.idx, nonNull, dict.dict.length), codec, stats);
  }
  const buf = body(nonNull * 8);
  const f = new Float64Array(buf.buffer, 0, nonNull);
  if (nulls === 0) f.set(v.subarray(0, n));
  else for (let i = 0, k = 0; i < n; i++) {
    const x = v[i];
    if (x - x === 0) f[k++] = x;
  }
  return plainColumn(w, n, nulls, levels, buf.subarray(0, nonNull * 8), codec, stats);
}

function writeString(w: ChunkWriter, c: StringColumn, n: number, codec: CompressionCodec): ColumnResult {
  if (c.bytes) return writeStringBytes(w, c.bytes, n, codec);
  const s = c.values;
  let chars = 0;
  for (let i = 0; i < n; i++) chars += s[i].length;
  const buf = body(4 * n + 3 * chars);
  let p = 0;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const str = s[i];
    const L = str.length;
    const at = p;
    p += 4;
    let j = 0;
    // ASCII by hand: TextEncoder per short string costs more than the copy
    for (; j < L; j++) {
      const ch = str.charCodeAt(j);
      if (ch >= 0x80) break;
      buf[p + j] = ch;
    }
    let len = L;
    if (j < L) {
      ascii = false;
      len = encoder.encodeInto(str, buf.subarray(p)).written;
    }
    buf[at] = len & 0xff;
    buf[at + 1] = (len >>> 8) & 0xff;
    buf[at + 2] = (len >>> 16) & 0xff;
    buf[at + 3] = len >>> 24;
    p += len;
  }
  const stats: ChunkStatistics = { null_count: 0n };
  if (n > 0) {
    let min = s[0];
    let max = s[0];
    if (ascii) {
      for (let i = 1; i < n; i++) {
        const x = s[i];
        if (x < min) min = x;
        else if (x > max) max = x;
      }
    } else {
      for (let i = 1; i < n; i++) {
        const x = s[i];
        if (compareUtf8(x, min) < 0) min = x;
        else if (compareUtf8(x, max) > 0) max = x;
      }
    }
    stats.min_value = min;
    stats.max_value = max;
  }
  return plainColumn(w, n, 0, new Uint8Array(0), buf.subarray(0, p), codec, stats);
}

/** writeString from raw bytes: the same page (and statistics, compared as UTF-8 bytes) without strings. */
function writeStringBytes(w: ChunkWriter, ib: IdBytes, n: number, codec: CompressionCodec): ColumnResult {
  const { bytes, start, len } = ib;
  let total = 0;
  for (let i = 0; i < n; i++) total += len[i];
  const buf = body(4 * n + total);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const l = len[i];
    const s0 = start[i];
    buf[p] = l & 0xff;
    buf[p + 1] = (l >>> 8) & 0xff;
    buf[p + 2] = (l >>> 16) & 0xff;
    buf[p + 3] = l >>> 24;
    p += 4;
    if (l > 32) buf.set(bytes.subarray(s0, s0 + l), p);
    else for (let k = 0; k < l; k++) buf[p + k] = bytes[s0 + k];
    p += l;
  }
  const stats: ChunkStatistics = { null_count: 0n };
  if (n > 0) {
    const cmp = (a: number, b: number): number => {
      const la = len[a];
      const lb = len[b];
      const sa = start[a];
      const sb = start[b];
      const m = Math.min(la, lb);
      for (let k = 0; k < m; k++) if (bytes[sa + k] !== bytes[sb + k]) return bytes[sa + k] - bytes[sb + k];
      return la - lb;
    };
    let min = 0;
    let max = 0;
    for (let i = 1; i < n; i++) {
      if (cmp(i, min) < 0) min = i;
      else if (cmp(i, max) > 0) max = i;
    }
    stats.min_value = utf8.decode(bytes.subarray(start[min], start[min] + len[min]));
    stats.max_value = utf8.decode(bytes.subarray(start[max], start[max] + len[max]));
  }
  return plainColumn(w, n, 0, new Uint8Array(0), buf.subarray(0, p), codec, stats);
}

function writeLabel(w: ChunkWriter, c: LabelColumn, n: number, codec: CompressionCodec): ColumnResult {
  const LUT = 1024;
  const lut = new Int32Array(LUT).fill(-1);
  const big = new Map<number, number>();
  const codes: number[] = [];
  if (idxScratch.length < n) idxScratch = new Int32Array(n * 2);
  const idx = idxScratch;
  const src = c.codes;
  for (let i = 0; i < n; i++) {
    const code = src[i];
    let d = code < LUT ? lut[code] : (big.get(code) ?? -1);
    if (d < 0) {
      d = codes.length;
      codes.push(code);
      if (code < LUT) lut[code] = d;
      else big.set(code, d);
    }
    idx[i] = d;
  }
  const labels = codes.map((code) => c.label(code));
  const encoded = labels.map((l) => encoder.encode(l));
  const dw = new ByteWriter(encoded.reduce((a, e) => a + 4 + e.length, 16));
  for (const e of encoded) {
    dw.appendUint32(e.length);
    dw.appendBytes(e);
  }
  const stats: ChunkStatistics = { null_count: 0n };
  if (labels.length) {
    const sorted = [...labels].sort(compareUtf8);
    stats.min_value = sorted[0];
    stats.max_value = sorted[sorted.length - 1];
  }
  return dictionaryColumn(w, n, 0, new Uint8Array(0), labels.length, dw.getBytes(), dictionaryIndexes(idx, n, Math.max(1, labels.length)), codec, stats);
}

/**
 * Encode n rows as one row group: one data page per column (v2, so the levels stay outside the
 * compressed part), offsets relative to bytes[0]. Columns must be in schema order.
 */
export function encodeRowGroupFast(columns: FastColumn[], n: number, opts: FastWriteOptions = {}): FastRowGroup {
  const snappy = opts.snappy ?? 'strings';
  let hint = 4096;
  for (const c of columns) hint += c.kind === 'label' ? n : c.kind === 'double' ? 8 * n + 64 : 12 * n;
  const w = new ChunkWriter(hint);
  const chunks: ColumnChunk[] = [];
  let totalUncompressed = 0n;
  for (const c of columns) {
    const len = c.kind === 'double' ? c.values.length : c.kind === 'string' ? (c.bytes ? c.bytes.len.length : c.values.length) : c.codes.length;
    if (len < n) throw new Error(`parquet column ${c.name}: ${len} values for ${n} rows`);
    const codec: CompressionCodec = snappy === 'all' || (snappy === 'strings' && c.kind === 'string') ? 'SNAPPY' : 'UNCOMPRESSED';
    const start = w.out.offset;
    const r = c.kind === 'double' ? writeDouble(w, c, n, codec) : c.kind === 'string' ? writeString(w, c, n, codec) : writeLabel(w, c, n, codec);
    const meta = {
      type: c.kind === 'double' ? 'DOUBLE' : 'BYTE_ARRAY',
      path_in_schema: [c.name],
      codec,
      num_values: BigInt(n),
      total_uncompressed_size: BigInt(r.uncompressed),
      total_compressed_size: BigInt(w.out.offset - start),
      ...r.md,
      statistics: r.stats,
    } as ColumnMetaData;
    totalUncompressed += meta.total_uncompressed_size;
    chunks.push({ file_offset: BigInt(start), meta_data: meta });
  }
  const view = new Uint8Array(w.out.buffer, 0, w.out.index);
  const bytes = opts.shared ? view : view.slice(); // the buffer is reused by the next encode
  return { bytes, rowGroup: { columns: chunks, total_byte_size: totalUncompressed, num_rows: BigInt(n), total_compressed_size: BigInt(bytes.length) } };
}
