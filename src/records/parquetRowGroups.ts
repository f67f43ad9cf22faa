/**
 * Encoding typed columns as one Parquet row group, straight from Float64Arrays, strings or raw
 * bytes and label codes: hyparquet-writer's ParquetWriter wants boxed arrays with null for
 * missing values, and at 10M rows that boxing cost more than the encoding. Pages, levels and
 * statistics are written as hyparquet-writer writes them (its thrift, RLE and snappy, through
 * hyparquetInternals.ts); test/parquetFast.test.ts reads every value back through hyparquet.
 *
 * The buffers reused from one row group to the next belong to a RowGroupEncoder the caller owns
 * (one per thread), and so does the WASM core its snappy runs in, when it has one.
 */
import type { ColumnChunk, ColumnMetaData, CompressionCodec, Encoding, PageHeader, RowGroup } from 'hyparquet';
import { ByteWriter } from 'hyparquet-writer';
import { snappyCompressJs, writePageHeader, writeRleBitPackedHybrid } from './hyparquetInternals.js';
import { RepricerError } from '../core/errors.js';
import type { WasmCore } from '../core/wasm.js';
import { snappyCompress as snappyCompressWasm } from '../core/snappy.js';
import type { IdBytes } from './parquetSinks.js';

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

/**
 * One encoded row group: the bytes of its column chunks (pages, compressed, with statistics) and
 * its RowGroup metadata with every offset relative to the first byte of `bytes`.
 */
export interface EncodedRowGroup {
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
   * Return a view of the encoder's reused output buffer instead of a copy: valid only until the
   * encoder's next row group (a fresh ~10 MB buffer per row group cost page faults).
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

type ColumnResult = { md: Partial<ColumnMetaData>; uncompressed: number; stats: ChunkStatistics };

const encoder = new TextEncoder();
const utf8 = new TextDecoder();

/** UTF-8 byte order (= code point order) of two strings, as Parquet orders BYTE_ARRAY statistics. */
function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const ea = encoder.encode(a);
  const eb = encoder.encode(b);
  const len = Math.min(ea.length, eb.length);
  for (let i = 0; i < len; i++) if (ea[i] !== eb[i]) return ea[i] - eb[i];
  return ea.length - eb.length;
}

const DICT_SLOTS = 1 << 14;
const DICT_MAX = 4096;

/**
 * Encodes row groups (encodeRowGroup). Owns the buffers reused from one group to the next (one
 * output buffer, reset per group: a fresh ~10 MB buffer per group cost more in page faults and GC
 * than all the encoding) and the core whose WASM snappy compresses pages (without one,
 * hyparquet-writer's JavaScript snappy). One instance per thread.
 */
export class RowGroupEncoder {
  private out: ByteWriter | undefined;
  private bodyScratch = new Uint8Array(1 << 20);
  private defScratch = new Uint8Array(1 << 16);
  private idxScratch = new Int32Array(1 << 16);
  private readonly dictKeys = new Uint32Array(DICT_SLOTS * 2);
  private readonly dictSlot = new Int32Array(DICT_SLOTS);

  constructor(private readonly core?: WasmCore) {}

  /**
   * Encode n rows as one row group: one data page per column (v2, so the levels stay outside the
   * compressed part), offsets relative to bytes[0]. Columns must be in schema order.
   */
  encodeRowGroup(columns: FastColumn[], n: number, opts: FastWriteOptions = {}): EncodedRowGroup {
    const snappy = opts.snappy ?? 'strings';
    let hint = 4096;
    for (const c of columns) hint += c.kind === 'label' ? n : c.kind === 'double' ? 8 * n + 64 : 12 * n;
    if (!this.out || this.out.buffer.byteLength < hint) this.out = new ByteWriter(Math.max(1024, hint));
    const w = this.out;
    w.offset = 0;
    w.index = 0;
    const chunks: ColumnChunk[] = [];
    let totalUncompressed = 0n;
    for (const c of columns) {
      const len = c.kind === 'double' ? c.values.length : c.kind === 'string' ? (c.bytes ? c.bytes.len.length : c.values.length) : c.codes.length;
      if (len < n) throw new RepricerError('INTERNAL', `parquet column ${c.name}: ${len} values for ${n} rows`, { column: c.name });
      const codec: CompressionCodec = snappy === 'all' || (snappy === 'strings' && c.kind === 'string') ? 'SNAPPY' : 'UNCOMPRESSED';
      const start = w.offset;
      const r = c.kind === 'double' ? this.writeDouble(c, n, codec) : c.kind === 'string' ? this.writeString(c, n, codec) : this.writeLabel(c, n, codec);
      const meta = {
        type: c.kind === 'double' ? 'DOUBLE' : 'BYTE_ARRAY',
        path_in_schema: [c.name],
        codec,
        num_values: BigInt(n),
        total_uncompressed_size: BigInt(r.uncompressed),
        total_compressed_size: BigInt(w.offset - start),
        ...r.md,
        statistics: r.stats,
      } as ColumnMetaData;
      totalUncompressed += meta.total_uncompressed_size;
      chunks.push({ file_offset: BigInt(start), meta_data: meta });
    }
    const view = new Uint8Array(w.buffer, 0, w.index);
    const bytes = opts.shared ? view : view.slice(); // the buffer is reused by the next encode
    return { bytes, rowGroup: { columns: chunks, total_byte_size: totalUncompressed, num_rows: BigInt(n), total_compressed_size: BigInt(bytes.length) } };
  }

  private body(n: number): Uint8Array {
    if (this.bodyScratch.length < n) this.bodyScratch = new Uint8Array(Math.max(n, this.bodyScratch.length * 2));
    return this.bodyScratch;
  }

  private indexes(n: number): Int32Array {
    if (this.idxScratch.length < n) this.idxScratch = new Int32Array(n * 2);
    return this.idxScratch;
  }

  /** One page (header + levels + body), compressed when `codec` says so; returns uncompressed bytes incl. header. */
  private page(header: Omit<PageHeader, 'compressed_page_size' | 'uncompressed_page_size'>, levels: Uint8Array, data: Uint8Array, codec: CompressionCodec): number {
    const out = this.out!;
    const stored = codec !== 'SNAPPY' ? data : this.core ? snappyCompressWasm(this.core, data) : snappyCompressJs(data);
    const start = out.offset;
    writePageHeader(out, { ...header, uncompressed_page_size: levels.length + data.length, compressed_page_size: levels.length + stored.length } as PageHeader);
    const headerSize = out.offset - start;
    out.appendBytes(levels);
    out.appendBytes(stored);
    return headerSize + levels.length + data.length;
  }

  private dataPageV2(n: number, nulls: number, encoding: Encoding, levels: Uint8Array, data: Uint8Array, codec: CompressionCodec): number {
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

  private dictionaryPage(count: number, data: Uint8Array, codec: CompressionCodec): number {
    return this.page({ type: 'DICTIONARY_PAGE', dictionary_page_header: { num_values: count, encoding: 'PLAIN' } }, new Uint8Array(0), data, codec);
  }

  /** One PLAIN v2 data page and its column metadata. */
  private plainColumn(n: number, nulls: number, levels: Uint8Array, data: Uint8Array, codec: CompressionCodec, stats: ChunkStatistics): ColumnResult {
    const dataOffset = this.out!.offset;
    const uncompressed = this.dataPageV2(n, nulls, 'PLAIN', levels, data, codec);
    return { md: { encodings: ['PLAIN'], data_page_offset: BigInt(dataOffset), encoding_stats: [{ page_type: 'DATA_PAGE_V2', encoding: 'PLAIN', count: 1 }] }, uncompressed, stats };
  }

  /** A PLAIN dictionary page, one RLE_DICTIONARY v2 data page, and their column metadata. */
  private dictionaryColumn(n: number, nulls: number, levels: Uint8Array, dictCount: number, dict: Uint8Array, indexes: Uint8Array, codec: CompressionCodec, stats: ChunkStatistics): ColumnResult {
    const dictOffset = this.out!.offset;
    let uncompressed = this.dictionaryPage(dictCount, dict, codec);
    const dataOffset = this.out!.offset;
    uncompressed += this.dataPageV2(n, nulls, 'RLE_DICTIONARY', levels, indexes, codec);
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

  /** Definition levels (bit width 1) of an OPTIONAL column: one RLE run when nothing is null. */
  private definitionLevels(v: Float64Array, n: number, nulls: number): Uint8Array {
    const w = new ByteWriter(nulls ? 1024 : 16);
    if (nulls === 0) {
      w.appendVarInt(n << 1);
      w.appendUint8(1);
    } else {
      if (this.defScratch.length < n) this.defScratch = new Uint8Array(n * 2);
      const d = this.defScratch.subarray(0, n);
      for (let i = 0; i < n; i++) {
        const x = v[i];
        d[i] = x - x === 0 ? 1 : 0;
      }
      writeRleBitPackedHybrid(w, d, 1);
    }
    return w.getBytes();
  }

  /**
   * Dictionary of the finite values of `v` (keyed by bit pattern, so -0 and 0 stay apart), or null
   * when it would not pay. Continuous columns give up after DICT_MAX distinct values (a few us);
   * rounded prices (a price grid) typically have a few hundred per chunk and shrink ~6x.
   */
  private doubleDictionary(v: Float64Array, n: number, nonNull: number): { dict: Float64Array; idx: Int32Array } | null {
    if (nonNull < 64) return null;
    const { dictKeys, dictSlot } = this;
    const bits = new Uint32Array(v.buffer, v.byteOffset, n * 2);
    dictSlot.fill(-1);
    const idx = this.indexes(nonNull);
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

  private writeDouble(c: DoubleColumn, n: number, codec: CompressionCodec): ColumnResult {
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
    const levels = this.definitionLevels(v, n, nulls);
    const dict = this.doubleDictionary(v, n, nonNull);
    if (dict) {
      return this.dictionaryColumn(n, nulls, levels, dict.dict.length, new Uint8Array(dict.dict.buffer), dictionaryIndexes(dict.idx, nonNull, dict.dict.length), codec, stats);
    }
    const buf = this.body(nonNull * 8);
    const f = new Float64Array(buf.buffer, 0, nonNull);
    if (nulls === 0) f.set(v.subarray(0, n));
    else for (let i = 0, k = 0; i < n; i++) {
      const x = v[i];
      if (x - x === 0) f[k++] = x;
    }
    return this.plainColumn(n, nulls, levels, buf.subarray(0, nonNull * 8), codec, stats);
  }

  private writeString(c: StringColumn, n: number, codec: CompressionCodec): ColumnResult {
    if (c.bytes) return this.writeStringBytes(c.bytes, n, codec);
    const s = c.values;
    let chars = 0;
    for (let i = 0; i < n; i++) chars += s[i].length;
    const buf = this.body(4 * n + 3 * chars);
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
    return this.plainColumn(n, 0, new Uint8Array(0), buf.subarray(0, p), codec, stats);
  }

  /** writeString from raw bytes: the same page (and statistics, compared as UTF-8 bytes) without strings. */
  private writeStringBytes(ib: IdBytes, n: number, codec: CompressionCodec): ColumnResult {
    const { bytes, start, len } = ib;
    let total = 0;
    for (let i = 0; i < n; i++) total += len[i];
    const buf = this.body(4 * n + total);
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
    return this.plainColumn(n, 0, new Uint8Array(0), buf.subarray(0, p), codec, stats);
  }

  private writeLabel(c: LabelColumn, n: number, codec: CompressionCodec): ColumnResult {
    const LUT = 1024;
    const lut = new Int32Array(LUT).fill(-1);
    const big = new Map<number, number>();
    const codes: number[] = [];
    const idx = this.indexes(n);
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
    return this.dictionaryColumn(n, 0, new Uint8Array(0), labels.length, dw.getBytes(), dictionaryIndexes(idx, n, Math.max(1, labels.length)), codec, stats);
  }
}

/** RLE_DICTIONARY page body: bit width byte, then the indexes as RLE/bit-packed hybrid. */
function dictionaryIndexes(idx: Int32Array, count: number, dictSize: number): Uint8Array {
  const width = Math.max(1, Math.ceil(Math.log2(dictSize)));
  const w = new ByteWriter(Math.ceil((count * width) / 8) + 64);
  w.appendUint8(width);
  writeRleBitPackedHybrid(w, idx.subarray(0, count), width);
  return w.getBytes();
}

/** Add `delta` to every file offset in a row group's metadata. */
export function shiftRowGroup(rg: RowGroup, delta: bigint): void {
  if (rg.file_offset !== undefined) rg.file_offset += delta;
  for (const c of rg.columns) {
    c.file_offset += delta;
    if (c.offset_index_offset !== undefined) c.offset_index_offset += delta;
    if (c.column_index_offset !== undefined) c.column_index_offset += delta;
    const m = c.meta_data;
    if (!m) continue;
    m.data_page_offset += delta;
    if (m.dictionary_page_offset !== undefined) m.dictionary_page_offset += delta;
    if (m.index_page_offset !== undefined) m.index_page_offset += delta;
    if (m.bloom_filter_offset !== undefined) m.bloom_filter_offset += delta;
  }
}
