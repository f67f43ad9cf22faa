/**
 * Parquet catalogues and price files (hyparquet to read, hyparquet-writer to write; both pure JS,
 * both maintained). Workers read their own row ranges of the input file, so decoding is spread
 * over all cores; workers also encode one output row group per chunk, and the main thread only
 * appends the bytes and writes the footer.
 */
import { parquetMetadataAsync, parquetRead, type FileMetaData, type AsyncBuffer, type RowGroup, type SchemaElement } from 'hyparquet';
import { ParquetWriter, ByteWriter } from 'hyparquet-writer';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { appendFileSync, writeFileSync } from 'node:fs';
import { RepricerError } from '../core/errors.js';
import type { CatalogLayout } from './catalogSchema.js';
import type { ParsedChunk } from './parseCatalogChunk.js';
import type { PriceColumns } from '../pricing/engine.js';
import { STATUSES, reasonString } from '../pricing/policy.js';
import type { WasmCore } from '../core/wasm.js';
import { encodeRowGroupFast, fileAsyncBuffer, readCatalogFast, type FastColumn, type FastWriteOptions, type IdBytes } from './parquetFast.js';

const files = new Map<string, { file: AsyncBuffer; meta: FileMetaData }>();
const buffers = new Map<string, AsyncBuffer>();

async function open(path: string): Promise<{ file: AsyncBuffer; meta: FileMetaData }> {
  let f = files.get(path);
  if (!f) {
    try {
      const file = fileAsyncBuffer(path);
      const meta = await parquetMetadataAsync(file);
      f = { file, meta };
    } catch (err) {
      throw new RepricerError('INPUT_UNREADABLE', `${path}: not a readable Parquet file (${(err as Error).message})`);
    }
    files.set(path, f);
  }
  return f;
}

/**
 * The part of a file's metadata a reader of rows [rowStart, rowEnd) needs: the schema and the row
 * groups overlapping the range, the groups before it folded into one of the same row count (so
 * row numbers stay absolute) and those after it dropped. The batch job sends this with each task,
 * so a worker never parses the whole footer, whose size grows with the file's row groups (~5 MB
 * in memory for the 100 groups of 10M rows).
 */
export async function parquetTaskMeta(path: string, rowStart: number, rowEnd: number): Promise<FileMetaData> {
  const { meta } = await open(path);
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

/** The file and its metadata: `meta` when the caller has it (see parquetTaskMeta), else parsed once per path. */
async function source(path: string, meta?: FileMetaData): Promise<{ file: AsyncBuffer; meta: FileMetaData }> {
  if (!meta) return open(path);
  let file = files.get(path)?.file ?? buffers.get(path);
  if (!file) {
    try {
      file = fileAsyncBuffer(path);
    } catch (err) {
      throw new RepricerError('INPUT_UNREADABLE', `${path}: cannot read (${(err as Error).message})`);
    }
    buffers.set(path, file);
  }
  return { file, meta };
}

/** Column names (top level) and row count of a Parquet file. */
export async function parquetShape(path: string): Promise<{ columns: string[]; rows: number; rowGroups: number[] }> {
  const { meta } = await open(path);
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

function toNumber(v: unknown): number {
  if (v === null || v === undefined) return NaN;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)) return Number(v);
  return NaN;
}

export interface ParquetReadOptions {
  file: string;
  layout: CatalogLayout;
  featureNames: string[];
  intercept: boolean;
  rowStart: number;
  rowEnd: number;
  onError: 'fail' | 'skip';
  alloc: (n: number) => Float64Array;
  /** product ids as raw UTF-8 bytes (ParsedChunk.idBytes, chunk.ids empty) when the fast path reads them */
  idsAsBytes?: boolean;
  /** the core `alloc` draws from: the fast path then decodes numeric columns in WASM memory */
  core?: WasmCore;
  /** the file's metadata or the part covering the rows (parquetTaskMeta); absent: read from the file */
  meta?: FileMetaData;
}

/**
 * Read rows [rowStart, rowEnd) into a CatalogChunk; bad values name file, row and column. The
 * fast reader (parquetFast.ts) decodes the common case straight into the chunk's arrays; files
 * outside it, and chunks with any bad value, go through hyparquet's parquetRead below, which
 * names the row and column (or collects the rejects) exactly as before.
 */
export async function readParquetChunk(o: ParquetReadOptions): Promise<ParsedChunk> {
  const { file, meta } = await source(o.file, o.meta);
  const names = o.layout.header;
  const col = (i: number) => (i >= 0 ? names[i] : undefined);
  const fast = await readCatalogFast({
    file,
    meta,
    idColumn: names[o.layout.productId],
    featureColumns: o.layout.features.map((i) => names[i]),
    costColumn: col(o.layout.cost),
    currentPriceColumn: col(o.layout.currentPrice),
    minPriceColumn: col(o.layout.minPrice),
    maxPriceColumn: col(o.layout.maxPrice),
    intercept: o.intercept,
    rowStart: o.rowStart,
    rowEnd: o.rowEnd,
    alloc: o.alloc,
    idsAsBytes: o.idsAsBytes,
    core: o.core,
  });
  if (fast) return { chunk: fast, lines: o.rowEnd - o.rowStart, rejects: [], idBytes: fast.idBytes };
  return readParquetChunkHyparquet(o);
}

/** The general path: hyparquet's parquetRead, then per-row validation and conversion. */
export async function readParquetChunkHyparquet(o: ParquetReadOptions): Promise<ParsedChunk> {
  const { file, meta } = await source(o.file, o.meta);
  const names = o.layout.header;
  const want = [o.layout.productId, ...o.layout.features, o.layout.cost, o.layout.currentPrice, o.layout.minPrice, o.layout.maxPrice].filter((i) => i >= 0).map((i) => names[i]);
  const n = o.rowEnd - o.rowStart;
  const cols = new Map<string, unknown[]>();
  for (const c of want) cols.set(c, new Array<unknown>(n));
  try {
    await parquetRead({
      file,
      metadata: meta,
      columns: want,
      rowStart: o.rowStart,
      rowEnd: o.rowEnd,
      onChunk: (ch) => {
        const dst = cols.get(ch.columnName);
        if (!dst) return;
        const data = ch.columnData as ArrayLike<unknown>;
        for (let r = Math.max(ch.rowStart, o.rowStart); r < Math.min(ch.rowEnd, o.rowEnd); r++) dst[r - o.rowStart] = data[r - ch.rowStart];
      },
    });
  } catch (err) {
    // a corrupt page or header: name the file and the rows, rather than let hyparquet's message
    // reach the job as a crashed worker (which would be retried)
    throw new RepricerError('INPUT_UNREADABLE', `${o.file}: rows ${o.rowStart + 1}-${o.rowEnd}: not readable Parquet (${(err as Error).message})`, { file: o.file });
  }
  const D = o.featureNames.length + (o.intercept ? 1 : 0);
  const x = o.alloc(n * D);
  const cost = o.alloc(n);
  const cur = o.alloc(n);
  const minP = o.alloc(n);
  const maxP = o.alloc(n);
  const ids: string[] = [];
  const rejects: ParsedChunk['rejects'] = [];
  const idCol = cols.get(names[o.layout.productId])!;
  const featCols = o.layout.features.map((i) => cols.get(names[i])!);
  const opt = (i: number) => (i >= 0 ? cols.get(names[i])! : undefined);
  const optCols: [unknown[] | undefined, string, Float64Array, boolean][] = [
    [opt(o.layout.cost), 'cost', cost, false],
    [opt(o.layout.currentPrice), 'current_price', cur, true],
    [opt(o.layout.minPrice), 'min_price', minP, true],
    [opt(o.layout.maxPrice), 'max_price', maxP, true],
  ];
  let k = 0;
  for (let r = 0; r < n; r++) {
    const row = o.rowStart + r + 1;
    const bad = (column: string, expected: string, got: unknown) => {
      const msg = `column ${column}: expected ${expected}, got ${JSON.stringify(got === undefined ? null : typeof got === 'bigint' ? String(got) : got)}`;
      if (o.onError === 'skip') {
        rejects.push({ line: row, reason: msg, raw: '' });
        return;
      }
      throw new RepricerError('INPUT_ROW_INVALID', `${o.file}: row ${row}: ${msg}`, { file: o.file, row, column });
    };
    const id = idCol[r];
    if (typeof id !== 'string' || id === '') {
      bad('product_id', 'a non-empty product id', id);
      continue;
    }
    let off = k * D;
    if (o.intercept) x[off++] = 1;
    let ok = true;
    for (let j = 0; j < featCols.length; j++) {
      const v = toNumber(featCols[j][r]);
      if (!Number.isFinite(v)) {
        bad(o.featureNames[j], 'a finite number', featCols[j][r]);
        ok = false;
        break;
      }
      x[off++] = v;
    }
    if (!ok) continue;
    for (const [col, name, dst, positive] of optCols) {
      const raw = col ? col[r] : null;
      if (raw === null || raw === undefined || raw === '') {
        dst[k] = NaN;
        continue;
      }
      const v = toNumber(raw);
      if (!Number.isFinite(v) || (positive && v < 0)) {
        bad(name, positive ? 'a finite number >= 0 or empty' : 'a finite number or empty', raw);
        ok = false;
        break;
      }
      dst[k] = v;
    }
    if (!ok) continue;
    ids.push(id);
    k++;
  }
  return {
    chunk: { n: k, ids, x: x.subarray(0, k * D), cost: cost.subarray(0, k), currentPrice: cur.subarray(0, k), minPrice: minP.subarray(0, k), maxPrice: maxP.subarray(0, k) },
    lines: n,
    rejects,
  };
}

const DOUBLE_COLUMNS = ['price', 'previous_price', 'change_pct', 'win_probability', 'expected_profit', 'delta', 'gamma', 'vega', 'price_std_error'] as const;

const PRICE_SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: 3 + DOUBLE_COLUMNS.length },
  { name: 'product_id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  ...DOUBLE_COLUMNS.map((name): SchemaElement => ({ name, type: 'DOUBLE', repetition_type: 'OPTIONAL' })),
  { name: 'status', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  { name: 'reason', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
];

const MAGIC = 0x31524150; // 'PAR1' little-endian

/**
 * One encoded row group: the bytes of its column chunks (pages, compressed, with statistics) and
 * its RowGroup metadata with every offset relative to the first byte of `bytes`.
 */
export interface EncodedRowGroup {
  bytes: Uint8Array;
  rowGroup: RowGroup;
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

/** The nine double columns of the price schema, by column name. */
function doubleColumns(p: PriceColumns): Record<(typeof DOUBLE_COLUMNS)[number], Float64Array> {
  return {
    price: p.price,
    previous_price: p.previousPrice,
    change_pct: p.changePct,
    win_probability: p.winProbability,
    expected_profit: p.expectedProfit,
    delta: p.delta,
    gamma: p.gamma,
    vega: p.vega,
    price_std_error: p.priceStdError,
  };
}

/**
 * Encode one chunk of prices as a complete row group (runs in the workers), straight from the
 * typed columns (parquetFast.ts): doubles PLAIN or, for columns with few distinct values (rounded
 * prices), a dictionary; status and reason as dictionaries; ids PLAIN with snappy; statistics as
 * hyparquet-writer writes them. No column or offset indexes or bloom filters, so everything the
 * row group needs lies inside its own bytes.
 */
export function encodePriceRowGroup(ids: string[], p: PriceColumns, idBytes?: IdBytes, shared = false): EncodedRowGroup {
  const doubles = doubleColumns(p);
  const columns: FastColumn[] = [
    { kind: 'string', name: 'product_id', values: ids, bytes: idBytes },
    ...DOUBLE_COLUMNS.map((name): FastColumn => ({ kind: 'double', name, values: doubles[name] })),
    { kind: 'label', name: 'status', codes: p.status, label: (s) => STATUSES[s] },
    { kind: 'label', name: 'reason', codes: p.reasons, label: reasonString },
  ];
  return encodeRowGroupFast(columns, p.n, { snappy: PRICE_SNAPPY, shared });
}

/**
 * Snappy on the id strings only (in a worker, the WASM compressor; elsewhere hyparquet-writer's
 * JavaScript one): the doubles are either dictionary-encoded or mostly incompressible.
 */
const PRICE_SNAPPY: FastWriteOptions['snappy'] = 'strings';

/** The previous encoder (hyparquet-writer's ParquetWriter on boxed arrays), kept for comparison. */
export function encodePriceRowGroupHyparquet(ids: string[], p: PriceColumns): EncodedRowGroup {
  const nullable = (a: Float64Array) => Array.from(a, (v) => (Number.isFinite(v) ? v : null));
  const pick = doubleColumns(p);
  const bw = new ByteWriter(Math.max(1024, p.n * 48));
  const w = new ParquetWriter({ writer: bw, schema: PRICE_SCHEMA, createdBy: 'repricer' });
  const local = { columnIndex: false, offsetIndex: false, bloomFilter: false } as const;
  void w.write({
    columnData: [
      { name: 'product_id', data: ids, ...local },
      ...DOUBLE_COLUMNS.map((name) => ({ name, data: nullable(pick[name]), ...local })),
      { name: 'status', data: Array.from(p.status, (s) => STATUSES[s]), ...local },
      { name: 'reason', data: Array.from(p.reasons, (r) => reasonString(r)), ...local },
    ],
    rowGroupSize: Math.max(1, p.n),
  });
  if (w.row_groups.length !== 1) throw new Error(`expected one row group, got ${w.row_groups.length}`);
  const rowGroup = w.row_groups[0];
  shiftRowGroup(rowGroup, -4n); // the ByteWriter starts with the 4-byte 'PAR1' header
  return { bytes: new Uint8Array(bw.buffer.slice(4, bw.index)), rowGroup };
}

/**
 * Assembles a Parquet file from row groups encoded elsewhere (in the workers): appends each
 * group's bytes in order after the 'PAR1' header, shifts its offsets by the current file
 * position, and `finish` writes the footer (FileMetaData, its length, 'PAR1').
 */
export class ParquetPriceWriter {
  private pos = 4;
  private numRows = 0n;
  private readonly rowGroups: RowGroup[] = [];

  constructor(private readonly path: string) {
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, MAGIC, true);
    writeFileSync(path, head);
  }

  /** Append a row group from `encodePriceRowGroup` (its metadata is shifted in place). */
  append(g: EncodedRowGroup): void {
    shiftRowGroup(g.rowGroup, BigInt(this.pos));
    appendFileSync(this.path, g.bytes);
    this.pos += g.bytes.length;
    this.numRows += g.rowGroup.num_rows;
    this.rowGroups.push(g.rowGroup);
  }

  /** Encode on this thread and append (for callers without workers). */
  write(ids: string[], p: PriceColumns): void {
    if (p.n === 0) return;
    this.append(encodePriceRowGroup(ids, p));
  }

  finish(): void {
    const bw = new ByteWriter();
    const meta = { version: 2, created_by: 'repricer', schema: PRICE_SCHEMA, num_rows: this.numRows, row_groups: this.rowGroups } as unknown as FileMetaData;
    writeMetadata(bw, meta);
    bw.appendUint32(MAGIC);
    appendFileSync(this.path, bw.getBytes());
  }
}
