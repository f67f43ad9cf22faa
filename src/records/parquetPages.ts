/**
 * Decoding the pages of one Parquet column chunk straight into typed destinations (sinks):
 * numbers into a Float64Array (NaN = null), strings into an array, ids as raw UTF-8 bytes.
 * hyparquet's `parquetRead` boxes every value (one JS array per column, assembleLists for OPTIONAL
 * columns); at 10M rows that boxing and the GC behind it dominate, so the batch job reads its
 * catalogue through here, built on hyparquet's own page primitives (hyparquetInternals.ts).
 *
 * Covered: flat columns of DOUBLE, FLOAT, INT32, INT64 (without a converted/logical type that
 * changes their value) and BYTE_ARRAY strings; PLAIN and PLAIN_DICTIONARY/RLE_DICTIONARY; data
 * pages v1 and v2; UNCOMPRESSED and SNAPPY. Anything else, a value failing its sink's check, or
 * bytes that do not parse is a `Decline` with its reason: the caller then reads the chunk through
 * hyparquet, which reads it or names the file, rows and column. Any other exception is a bug and
 * propagates.
 *
 * Scratch buffers reused from page to page belong to a PageDecoder the caller owns (one per
 * thread); the WASM core, when there is one, is passed with each chunk.
 */
import type { ColumnMetaData, CompressionCodec, DataReader, Encoding, PageHeader, SchemaElement } from 'hyparquet';
import { snappyUncompress } from 'hyparquet';
import { parquetHeader, readPlain, readRleBitPackedHybrid } from './hyparquetInternals.js';
import { RepricerError } from '../core/errors.js';
import type { WasmCore } from '../core/wasm.js';
import { snappyUncompressInto } from '../core/snappy.js';
import { firstNonFinite } from '../core/columns.js';
import { CHECK_FEATURE, CHECK_FINITE_OR_NULL, CHECK_NONE, decline, invalid, scatterBytes, scatterNumbers, scatterStrings, type ColumnSink, type NumberSink, type Ranges } from './parquetSinks.js';

/**
 * hyparquet's parser of file bytes (a header, levels, PLAIN values, snappy) on bytes that are not
 * what the metadata says: a corrupt page, declined so the hyparquet path re-reads and names it.
 * Only these parses of untrusted bytes are guarded; the decoder's own code is not.
 */
function parse<T>(what: string, column: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    return decline(`column ${column}: corrupt ${what} (${(err as Error).message})`);
  }
}

/** The bytes of one column chunk (every page of it), its metadata and schema element. */
export interface ChunkBytes {
  bytes: Uint8Array;
  md: ColumnMetaData;
  el: SchemaElement;
}

/**
 * The (offset, length) of `count` PLAIN byte arrays in bytes[off, end), offsets into `bytes`, in
 * `into` (fresh arrays when absent). Lengths running past `end` decline (a corrupt page).
 */
function plainRanges(bytes: Uint8Array, off: number, end: number, count: number, column: string, into?: Ranges): Ranges {
  const start = into ? into.start : new Int32Array(count);
  const len = into ? into.len : new Int32Array(count);
  let p = off;
  for (let i = 0; i < count; i++) {
    if (p + 4 > end) decline(`column ${column}: corrupt page (byte array ${i} of ${count} starts past the page)`);
    const l = (bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24)) >>> 0;
    p += 4;
    if (l > end - p) decline(`column ${column}: corrupt page (byte array ${i} of ${count} ends past the page)`);
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

type Dictionary = Float64Array | string[] | ByteDict;

const utf8 = new TextDecoder();

/** No page's uncompressed size is this large (thrift i32): a header claiming more is corrupt. */
const MAX_PAGE_BYTES = 0x7fffffff;

/**
 * Decodes column chunks into sinks. Holds the buffers reused from page to page (levels, indexes,
 * a decompressed page, byte-array ranges) and from chunk to chunk (a column block): one instance
 * per thread, one decode at a time.
 */
export class PageDecoder {
  private levelScratch = new Uint8Array(1 << 16);
  private pageScratch = new Uint8Array(1 << 20);
  private indexScratch = new Int32Array(1 << 16);
  private rangeScratch: Ranges = { start: new Int32Array(0), len: new Int32Array(0) };
  private blockScratch = new Float64Array(1 << 16);

  /**
   * A plain (non-shared) block of at least n doubles, reused from chunk to chunk: where a reader
   * without a WASM core decodes its numeric columns column-major before laying them out.
   */
  columnBlock(n: number): Float64Array {
    if (this.blockScratch.length < n) this.blockScratch = new Float64Array(n);
    return this.blockScratch;
  }

  private levels(n: number): Uint8Array {
    if (this.levelScratch.length < n) this.levelScratch = new Uint8Array(n * 2);
    return this.levelScratch.subarray(0, n);
  }

  private indexes(n: number): Int32Array {
    if (this.indexScratch.length < n) this.indexScratch = new Int32Array(n * 2);
    return this.indexScratch.subarray(0, n);
  }

  /** Views of the range arrays for `count` byte arrays, valid until the next page. */
  private ranges(count: number): Ranges {
    if (this.rangeScratch.start.length < count) this.rangeScratch = { start: new Int32Array(count * 2), len: new Int32Array(count * 2) };
    return { start: this.rangeScratch.start.subarray(0, count), len: this.rangeScratch.len.subarray(0, count) };
  }

  /**
   * A decompressed page. SNAPPY pages go into one reused buffer (a fresh ~1 MB buffer per page and
   * column was most of the reader's GC), so the result is only valid until the next call; with a
   * core, decompressed by its WASM kernel.
   */
  private decompress(body: Uint8Array, size: number, codec: CompressionCodec, column: string, core: WasmCore | undefined): Uint8Array {
    if (codec === 'UNCOMPRESSED') {
      if (body.length !== size) decline(`column ${column}: corrupt page (${body.length} bytes, header says ${size})`);
      return body;
    }
    if (codec !== 'SNAPPY') decline(`column ${column}: codec ${codec}`);
    if (!(size >= 0 && size <= MAX_PAGE_BYTES)) decline(`column ${column}: corrupt page header (uncompressed size ${size})`);
    if (this.pageScratch.length < size) this.pageScratch = new Uint8Array(Math.max(size, this.pageScratch.length * 2));
    const out = this.pageScratch.subarray(0, size);
    if (!core) {
      parse('snappy page', column, () => snappyUncompress(body, out));
      return out;
    }
    core.arena.scoped(() => {
      const p = core.arena.allocBytes(Math.max(1, size));
      const page = new Uint8Array(core.memory.buffer, p, size); // buffer read after the allocation
      if (!snappyUncompressInto(core, body, page)) decline(`column ${column}: corrupt snappy page`);
      out.set(page);
    });
    return out;
  }

  /** `count` PLAIN byte arrays from bytes[off, end) as strings, decoded as hyparquet does (TextDecoder, UTF-8). */
  private plainStrings(bytes: Uint8Array, off: number, end: number, count: number, column: string): string[] {
    const r = plainRanges(bytes, off, end, count, column, this.ranges(count));
    const out = new Array<string>(count);
    // ASCII values are substrings of one latin1 string of the whole region, several times cheaper
    // than a TextDecoder call per value
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

  private readDictionary(body: Uint8Array, h: PageHeader, md: ColumnMetaData, sink: ColumnSink, core: WasmCore | undefined): Dictionary {
    const dh = h.dictionary_page_header;
    if (!dh) decline(`column ${sink.column}: corrupt page header (dictionary page without its header)`);
    if (dh.encoding !== 'PLAIN' && dh.encoding !== 'PLAIN_DICTIONARY') decline(`column ${sink.column}: dictionary encoding ${dh.encoding}`);
    const page = this.decompress(body, h.uncompressed_page_size, md.codec, sink.column, core);
    if (sink.kind === 'string') return this.plainStrings(page, 0, page.byteLength, dh.num_values, sink.column);
    if (sink.kind === 'bytes') {
      const r = plainRanges(page, 0, page.byteLength, dh.num_values, sink.column);
      return { bytes: page.slice(), start: r.start, len: r.len };
    }
    // copied: the page buffer is reused by the data pages that follow
    return plainNumbers({ view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 }, md.type, dh.num_values, sink.column).slice();
  }

  /**
   * Decode the pages of one column chunk of the row group [groupStart, groupEnd) that overlap
   * [selStart, selEnd) into the sink; sink row 0 is absolute row `base`. Pages wholly before the
   * selection are skipped undecompressed. `core`: SNAPPY pages decompressed in its WASM kernel.
   */
  decodeChunk(c: ChunkBytes, groupStart: number, groupEnd: number, selStart: number, selEnd: number, base: number, sink: ColumnSink, core?: WasmCore): void {
    const { bytes, md, el } = c;
    const column = sink.column;
    const optional = el.repetition_type !== 'REQUIRED';
    const reader: DataReader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
    let dict: Dictionary | undefined;
    let row = groupStart;
    while (row < selEnd && reader.offset < bytes.byteLength) {
      const h = parse('page header', column, () => parquetHeader(reader));
      const body = bytes.subarray(reader.offset, reader.offset + h.compressed_page_size);
      reader.offset += h.compressed_page_size;
      if (body.length !== h.compressed_page_size) decline(`column ${column}: corrupt page header (page of ${h.compressed_page_size} bytes past the column chunk)`);
      if (h.type === 'DICTIONARY_PAGE') {
        dict = this.readDictionary(body, h, md, sink, core);
        continue;
      }
      let rows: number;
      let defs: Uint8Array | undefined;
      let values: Uint8Array;
      let vOff = 0;
      let encoding: Encoding;
      if (h.type === 'DATA_PAGE') {
        const d = h.data_page_header;
        if (!d) decline(`column ${column}: corrupt page header (data page without its header)`);
        rows = d.num_values;
        if (!(rows >= 0 && row + rows <= groupEnd)) decline(`column ${column}: corrupt page header (${rows} rows past the row group)`);
        if (row + rows <= selStart) {
          row += rows;
          continue;
        }
        if (sink.kind === 'number' && d.encoding === 'PLAIN' && row >= selStart && row + rows <= selEnd && this.plainDoublesV1(body, h.uncompressed_page_size, md, optional, rows, row - base, sink)) {
          row += rows;
          continue;
        }
        values = this.decompress(body, h.uncompressed_page_size, md.codec, column, core);
        const r: DataReader = { view: new DataView(values.buffer, values.byteOffset, values.byteLength), offset: 0 };
        if (optional) {
          if (d.definition_level_encoding !== 'RLE') decline(`column ${column}: definition level encoding ${d.definition_level_encoding}`);
          const lv = (defs = this.levels(rows));
          parse('definition levels', column, () => readRleBitPackedHybrid(r, 1, lv));
        }
        vOff = r.offset;
        encoding = d.encoding;
      } else if (h.type === 'DATA_PAGE_V2') {
        const d = h.data_page_header_v2;
        if (!d) decline(`column ${column}: corrupt page header (data page v2 without its header)`);
        rows = d.num_rows;
        if (d.num_values !== rows || d.repetition_levels_byte_length) decline(`column ${column}: repeated values (data page v2 with repetition levels)`);
        if (!(rows >= 0 && row + rows <= groupEnd)) decline(`column ${column}: corrupt page header (${rows} rows past the row group)`);
        if (row + rows <= selStart) {
          row += rows;
          continue;
        }
        const lv = d.definition_levels_byte_length;
        if (!(lv >= 0 && lv <= body.length)) decline(`column ${column}: corrupt page header (${lv} bytes of levels in a page of ${body.length})`);
        if (sink.kind === 'number' && d.num_nulls === 0 && d.encoding === 'PLAIN' && row >= selStart && row + rows <= selEnd && this.plainDoublesV2(body.subarray(lv), h.uncompressed_page_size - lv, md, d.is_compressed !== false, rows, row - base, sink)) {
          row += rows;
          continue;
        }
        // v2 counts the nulls in the header: no levels to decode when there are none
        if (optional && d.num_nulls !== 0) {
          const levels = (defs = this.levels(rows));
          parse('definition levels', column, () => readRleBitPackedHybrid({ view: new DataView(body.buffer, body.byteOffset, lv), offset: 0 }, 1, levels, lv));
        }
        values = body.subarray(lv);
        if (d.is_compressed !== false) values = this.decompress(values, h.uncompressed_page_size - lv, md.codec, column, core);
        encoding = d.encoding;
      } else {
        decline(`column ${column}: page type ${h.type}`);
      }
      const nonNull = defs ? countOnes(defs, rows) : rows;
      // first and last row of this page inside the selection, and the values before the first
      const i0 = Math.max(0, selStart - row);
      const i1 = Math.min(rows, selEnd - row);
      let vi = i0;
      if (defs) vi = countOnes(defs, i0);
      const r: DataReader = { view: new DataView(values.buffer, values.byteOffset, values.byteLength), offset: vOff };
      if (encoding === 'PLAIN') {
        if (sink.kind === 'string') scatterStrings(this.plainStrings(values, vOff, values.byteLength, nonNull, column), undefined, defs, i0, i1, vi, row - base, sink);
        else if (sink.kind === 'bytes') scatterBytes(values, plainRanges(values, vOff, values.byteLength, nonNull, column, this.ranges(nonNull)), undefined, defs, i0, i1, vi, row - base, sink);
        else scatterNumbers(plainNumbers(r, md.type, nonNull, column), undefined, defs, i0, i1, vi, row - base, sink);
      } else if (encoding === 'RLE_DICTIONARY' || encoding === 'PLAIN_DICTIONARY') {
        if (!dict) decline(`column ${column}: corrupt column chunk (dictionary-encoded page without a dictionary page)`);
        const idx = this.indexes(nonNull);
        if (nonNull > 0) {
          if (r.offset >= values.byteLength) decline(`column ${column}: corrupt page (no bit width for the dictionary indexes)`);
          const width = r.view.getUint8(r.offset++);
          if (width > 32) decline(`column ${column}: corrupt page (dictionary index bit width ${width})`);
          if (width) parse('dictionary indexes', column, () => readRleBitPackedHybrid(r, width, idx, values.byteLength - r.offset));
          else idx.fill(0);
        }
        // the dictionary was decoded for this sink's kind (readDictionary): any other is a bug
        if (sink.kind === 'string') {
          if (!Array.isArray(dict)) throw wrongDictionary(column);
          scatterStrings(dict, idx, defs, i0, i1, vi, row - base, sink);
        } else if (sink.kind === 'bytes') {
          if (Array.isArray(dict) || dict instanceof Float64Array) throw wrongDictionary(column);
          scatterBytes(dict.bytes, dict, idx, defs, i0, i1, vi, row - base, sink);
        } else {
          if (!(dict instanceof Float64Array)) throw wrongDictionary(column);
          scatterNumbers(dict, idx, defs, i0, i1, vi, row - base, sink);
        }
      } else {
        decline(`column ${column}: encoding ${encoding}`);
      }
      row += rows;
    }
    if (row < selEnd) decline(`column ${column}: corrupt column chunk (ends at row ${row}, before row ${selEnd})`);
  }

  /**
   * A whole v2 PLAIN DOUBLE page without nulls, decompressed straight into the sink's WASM memory
   * at sink row `at`. False (nothing written) when the page is not of that kind.
   */
  private plainDoublesV2(data: Uint8Array, size: number, md: ColumnMetaData, compressed: boolean, rows: number, at: number, sink: NumberSink): boolean {
    const core = wasmPlainDoubles(md, sink);
    if (!core || size !== rows * 8) return false;
    const block = sink.dst.subarray(sink.offset + at, sink.offset + at + rows);
    const dst = new Uint8Array(block.buffer, block.byteOffset, size);
    if (!compressed || md.codec === 'UNCOMPRESSED') {
      if (data.length !== size) decline(`column ${sink.column}: corrupt page (${data.length} bytes, header says ${size})`);
      dst.set(data);
    } else if (!snappyUncompressInto(core, data, dst)) {
      decline(`column ${sink.column}: corrupt snappy page`);
    }
    checkWasmBlock(core, block, sink);
    return true;
  }

  /**
   * A whole v1 PLAIN DOUBLE page (the layout pyarrow writes by default) decompressed in WASM
   * memory; when every value is present it is copied into the sink at row `at` there. False
   * (nothing written) when the page has nulls or is not of that kind: the JavaScript path decodes it.
   */
  private plainDoublesV1(body: Uint8Array, size: number, md: ColumnMetaData, optional: boolean, rows: number, at: number, sink: NumberSink): boolean {
    const core = wasmPlainDoubles(md, sink);
    if (!core) return false;
    if (!(size >= 0 && size <= MAX_PAGE_BYTES)) decline(`column ${sink.column}: corrupt page header (uncompressed size ${size})`);
    return core.arena.scoped(() => {
      const p = core.arena.allocBytes(Math.max(1, size));
      const page = new Uint8Array(core.memory.buffer, p, size);
      if (md.codec === 'UNCOMPRESSED') {
        if (body.length !== size) decline(`column ${sink.column}: corrupt page (${body.length} bytes, header says ${size})`);
        page.set(body);
      } else if (!snappyUncompressInto(core, body, page)) {
        decline(`column ${sink.column}: corrupt snappy page`);
      }
      let vOff = 0;
      if (optional) {
        const r: DataReader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
        const defs = this.levels(rows);
        parse('definition levels', sink.column, () => readRleBitPackedHybrid(r, 1, defs));
        if (countOnes(defs, rows) !== rows) return false;
        vOff = r.offset;
      }
      if (size - vOff !== rows * 8) decline(`column ${sink.column}: corrupt page (${size - vOff} bytes of values for ${rows} doubles)`);
      const block = sink.dst.subarray(sink.offset + at, sink.offset + at + rows);
      new Uint8Array(block.buffer, block.byteOffset, size - vOff).set(page.subarray(vOff));
      checkWasmBlock(core, block, sink);
      return true;
    });
  }
}

function wrongDictionary(column: string): RepricerError {
  return new RepricerError('INTERNAL', `parquet column ${column}: dictionary decoded for another kind of sink`, { column });
}

/** PLAIN numeric values as a Float64Array (INT64 through Number(), as the hyparquet path's toNumber). */
function plainNumbers(reader: DataReader, type: string, count: number, column: string): Float64Array {
  if (count === 0) return new Float64Array(0);
  const v = parse('PLAIN values', column, () => readPlain(reader, type as 'DOUBLE', count, undefined));
  if (v instanceof Float64Array) return v;
  if (v instanceof BigInt64Array) {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) out[i] = Number(v[i]);
    return out;
  }
  if (v instanceof Float32Array || v instanceof Int32Array) return Float64Array.from(v);
  // the column's type was checked against the numeric ones before any page was read
  throw new RepricerError('INTERNAL', `parquet column ${column}: PLAIN ${type} values read as ${Object.prototype.toString.call(v)}`, { column });
}

/** Whether a page of `sink`'s column can be decoded in WASM (see NumberSink.wasm). */
function wasmPlainDoubles(md: ColumnMetaData, sink: NumberSink): WasmCore | undefined {
  if (!sink.wasm || sink.stride !== 1 || md.type !== 'DOUBLE' || (md.codec !== 'SNAPPY' && md.codec !== 'UNCOMPRESSED')) return undefined;
  if (sink.check !== CHECK_NONE && sink.check !== CHECK_FEATURE && sink.check !== CHECK_FINITE_OR_NULL) return undefined;
  return sink.wasm;
}

/** Check a block just written into the sink: any non-finite value fails CHECK_FEATURE and CHECK_FINITE_OR_NULL. */
function checkWasmBlock(core: WasmCore, block: Float64Array, sink: NumberSink): void {
  if (sink.check !== CHECK_NONE && firstNonFinite(core, block) >= 0) invalid(sink.column);
}

function countOnes(defs: Uint8Array, n: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) k += defs[i];
  return k;
}
