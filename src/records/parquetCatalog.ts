/**
 * Catalogue rows from a Parquet file. The fast path fetches the wanted column chunks of a row
 * range and decodes their pages straight into the chunk's arrays (parquetPages.ts); it declines
 * files outside its case and chunks with any bad value, with a reason, and the general path
 * (hyparquet's parquetRead, then per-row validation) reads them and names file, row and column
 * exactly as before. Workers read their own row ranges, so decoding is spread over all cores.
 */
import { parquetRead, type AsyncBuffer, type ColumnChunk, type FileMetaData, type SchemaElement } from 'hyparquet';
import { RepricerError } from '../core/errors.js';
import type { WasmCore } from '../core/wasm.js';
import { columnsToRows, columnsToRowsReference } from '../core/columns.js';
import type { CatalogChunk } from '../pricing/engine.js';
import type { CatalogLayout } from './catalogSchema.js';
import { OPTIONAL_COLUMNS, SegmentCoder, type OptionalColumn, type RetailColumns, type RetailKey, type SegmentColumn } from '../pricing/catalogColumns.js';
import type { ParsedChunk } from './parseCatalogChunk.js';
import { isFileBuffer, parquetSource } from './parquetFile.js';
import { PageDecoder, type ChunkBytes } from './parquetPages.js';
import { CHECK_FEATURE, CHECK_FINITE_OR_NULL, CHECK_ID, CHECK_NONE, CHECK_NONNEG_OR_NULL, Decline, idBytes, type ColumnSink, type IdBytes } from './parquetSinks.js';

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

interface FetchedGroup {
  groupStart: number;
  groupEnd: number;
  selStart: number;
  selEnd: number;
  chunks: Map<string, ChunkBytes>;
}

/**
 * Read the bytes of the wanted column chunks of every row group overlapping [rowStart, rowEnd);
 * a wanted column outside the fast case declines. Chunks of one group are read with as few
 * slices as possible (small gaps are read through: one read beats two).
 */
async function fetchChunks(file: AsyncBuffer, meta: FileMetaData, columns: ColumnRequest[], rowStart: number, rowEnd: number, core?: WasmCore): Promise<FetchedGroup[]> {
  // a local file read for a core: positioned reads straight into its arena (no fresh buffer per
  // slice, no copy into WASM before decompressing); the caller holds the arena scope
  const local = core && isFileBuffer(file) ? file : undefined;
  const leaves = topLevelLeaves(meta.schema);
  const names = [...new Set(columns.map((c) => c.column))];
  for (const c of columns) {
    const el = leaves.get(c.column);
    if (el === undefined) throw new Decline(`column ${c.column}: not in the file`);
    if (el === null) throw new Decline(`column ${c.column}: nested or duplicated`);
    if (!fastType(el, c.kind)) throw new Decline(`column ${c.column}: ${el.repetition_type ?? ''} ${el.type ?? 'group'} (${el.converted_type ?? el.logical_type?.type ?? 'no converted type'}) read as ${c.kind}`);
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
      if (!cc || !md) throw new Decline(`column ${name}: no column chunk metadata in the row group at row ${gs}`);
      if (cc.file_path) throw new Decline(`column ${name}: column chunk in another file (${cc.file_path})`);
      if (md.type !== leaves.get(name)!.type) throw new Decline(`column ${name}: column chunk of type ${md.type}, schema says ${leaves.get(name)!.type}`);
      const start = Number(md.dictionary_page_offset || md.data_page_offset);
      const end = start + Number(md.total_compressed_size);
      if (!(start >= 0 && end >= start && end <= file.byteLength)) throw new Decline(`column ${name}: corrupt metadata (column chunk at bytes [${start}, ${end}) of ${file.byteLength})`);
      ranges.push({ name, start, end, cc });
    }
    ranges.sort((a, b) => a.start - b.start);
    const group: FetchedGroup = { groupStart: gs, groupEnd: gs + rows, selStart: Math.max(gs, rowStart), selEnd: Math.min(gs + rows, rowEnd), chunks: new Map() };
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

/**
 * Read rows [rowStart, rowEnd) of `columns` into the destinations `sinks()` returns, decoding with
 * `decoder` (the caller's, reused); on success `after()` runs and the result is null. Both run
 * synchronously after the last read has completed, so views of WASM memory allocated there are
 * never kept across an await. Resolves to the reason when the fast path declines: a column or page
 * outside its case, a value failing its check, or a corrupt page (the sinks may then hold partial
 * data and `after` has not run). Any other error propagates.
 */
export async function readColumnsFast(
  file: AsyncBuffer,
  meta: FileMetaData,
  columns: ColumnRequest[],
  rowStart: number,
  rowEnd: number,
  sinks: () => ColumnSink[],
  after?: () => void,
  /** read a local file's chunks straight into this core's arena (the caller holds the scope), and decompress in its WASM kernel */
  core?: WasmCore,
  decoder: PageDecoder = new PageDecoder(),
): Promise<string | null> {
  // With a core the reads are synchronous, so the sinks can be allocated first and the chunk bytes
  // above them: once decoded, the bytes' space is released for what `after` allocates (x and the
  // rest), instead of staying under it until the task ends.
  let out = core ? sinks() : undefined;
  const mark = core?.arena.mark();
  try {
    const groups = await fetchChunks(file, meta, columns, rowStart, rowEnd, core);
    const covered = groups.reduce((a, g) => a + g.selEnd - g.selStart, 0);
    if (covered !== rowEnd - rowStart) return `row groups cover ${covered} of rows [${rowStart}, ${rowEnd})`;
    out ??= sinks();
    for (const g of groups) for (const s of out) decoder.decodeChunk(g.chunks.get(s.column)!, g.groupStart, g.groupEnd, g.selStart, g.selEnd, rowStart, s, core);
  } catch (err) {
    if (err instanceof Decline) return err.reason;
    throw err;
  } finally {
    if (core && mark !== undefined) core.arena.release(mark);
  }
  after?.(); // still synchronous with sinks(): views it allocated are valid
  return null;
}

export interface FastCatalogRead {
  file: AsyncBuffer;
  meta: FileMetaData;
  idColumn: string;
  featureColumns: string[];
  costColumn?: string;
  currentPriceColumn?: string;
  minPriceColumn?: string;
  maxPriceColumn?: string;
  /** the retail columns the file has (pricing/catalogColumns.ts) */
  retailColumns?: { key: RetailKey; column: string; nonNegative: boolean }[];
  /** the segment column (UTF-8 BYTE_ARRAY; null or blank: no segment) */
  segmentColumn?: string;
  /** the season column, the same way */
  seasonColumn?: string;
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
  /** the caller's per-thread decoder (its buffers are reused); absent: a fresh one */
  decoder?: PageDecoder;
}

export type FastCatalogChunk = CatalogChunk & { idBytes?: IdBytes };

/**
 * A CatalogChunk of rows [rowStart, rowEnd) decoded straight into `alloc`ed arrays, or the reason
 * the fast path declined: the file is outside its case, or a value fails validation (features
 * finite; cost finite or empty; prices finite >= 0 or empty; ids non-empty), so the hyparquet path
 * re-reads the chunk and reports rejects with row and column exactly as before.
 */
export async function readCatalogFast(o: FastCatalogRead): Promise<{ chunk: FastCatalogChunk; declined?: undefined } | { chunk?: undefined; declined: string }> {
  const n = o.rowEnd - o.rowStart;
  const D = o.featureColumns.length + (o.intercept ? 1 : 0);
  const opt: [string | undefined, number][] = [
    [o.costColumn, CHECK_FINITE_OR_NULL],
    [o.currentPriceColumn, CHECK_NONNEG_OR_NULL],
    [o.minPriceColumn, CHECK_NONNEG_OR_NULL],
    [o.maxPriceColumn, CHECK_NONNEG_OR_NULL],
    ...(o.retailColumns ?? []).map((c): [string, number] => [c.column, c.nonNegative ? CHECK_NONNEG_OR_NULL : CHECK_FINITE_OR_NULL]),
  ];
  const nOpt = opt.length;
  const columns: ColumnRequest[] = [
    { column: o.idColumn, kind: o.idsAsBytes ? 'bytes' : 'string' },
    ...o.featureColumns.map((column) => ({ column, kind: 'number' as const })),
    ...opt.filter(([c]) => c !== undefined).map(([column]) => ({ column: column!, kind: 'number' as const })),
    ...(o.segmentColumn !== undefined ? [{ column: o.segmentColumn, kind: 'string' as const }] : []),
    ...(o.seasonColumn !== undefined ? [{ column: o.seasonColumn, kind: 'string' as const }] : []),
  ];
  const segmentCells: (string | null)[] | undefined = o.segmentColumn !== undefined ? new Array<string | null>(n) : undefined;
  const seasonCells: (string | null)[] | undefined = o.seasonColumn !== undefined ? new Array<string | null>(n) : undefined;
  const F = o.featureColumns.length;
  const decoder = o.decoder ?? new PageDecoder();
  // Every numeric column is decoded column-major into one block first (features then transposed,
  // the others used in place). With a core the block is in WASM memory; without one it is the
  // decoder's plain (non-shared) block: typed arrays over WASM's shared memory are a different
  // elements kind, and mixing the two in one thread made the decode loops polymorphic.
  const core = o.core;
  let cols = core ? new Float64Array(0) : decoder.columnBlock(n * (F + nOpt));
  const res: { chunk?: FastCatalogChunk } = {};
  const declined = await readColumnsFast(
    o.file,
    o.meta,
    columns,
    o.rowStart,
    o.rowEnd,
    () => {
      if (core) cols = o.alloc(n * (F + nOpt)); // after the last await: the view stays valid
      const ids = new Array<string>(o.idsAsBytes ? 0 : n);
      const raw = o.idsAsBytes ? idBytes(n, core) : undefined;
      const sinks: ColumnSink[] = [raw ? { kind: 'bytes', column: o.idColumn, out: raw, check: CHECK_ID } : { kind: 'string', column: o.idColumn, dst: ids, check: CHECK_ID }];
      o.featureColumns.forEach((column, j) => sinks.push({ kind: 'number', column, dst: cols, stride: 1, offset: j * n, check: CHECK_FEATURE, wasm: core }));
      opt.forEach(([column, check], i) => {
        if (column !== undefined) sinks.push({ kind: 'number', column, dst: cols, stride: 1, offset: (F + i) * n, check, wasm: core });
      });
      if (segmentCells) sinks.push({ kind: 'string', column: o.segmentColumn!, dst: segmentCells, check: CHECK_NONE });
      if (seasonCells) sinks.push({ kind: 'string', column: o.seasonColumn!, dst: seasonCells, check: CHECK_NONE });
      res.chunk = { n, ids, idBytes: raw, x: new Float64Array(0), cost: new Float64Array(0), currentPrice: new Float64Array(0), minPrice: new Float64Array(0), maxPrice: new Float64Array(0) };
      return sinks;
    },
    () => {
      const c = res.chunk!;
      if (segmentCells) c.segment = segmentColumn(segmentCells, n);
      if (seasonCells) c.season = segmentColumn(seasonCells, n);
      c.x = o.alloc(n * D);
      if (core) {
        columnsToRows(core, cols, n, F, c.x, D, o.intercept);
        const arrays = opt.map(([column], i) => (column === undefined ? o.alloc(n).fill(NaN) : cols.subarray((F + i) * n, (F + i + 1) * n)));
        [c.cost, c.currentPrice, c.minPrice, c.maxPrice] = arrays;
        setRetail(c, arrays);
        return;
      }
      const arrays = opt.map(() => o.alloc(n));
      columnsToRowsReference(cols, n, F, c.x, D, o.intercept);
      opt.forEach(([column], i) => {
        if (column === undefined) arrays[i].fill(NaN);
        else arrays[i].set(cols.subarray((F + i) * n, (F + i + 1) * n));
      });
      [c.cost, c.currentPrice, c.minPrice, c.maxPrice] = arrays;
      setRetail(c, arrays);
    },
    core,
    decoder,
  );
  if (declined !== null) return { declined };
  if (!res.chunk) throw new RepricerError('INTERNAL', 'readCatalogFast: the fast path read no chunk');
  function setRetail(c: FastCatalogChunk, arrays: Float64Array[]): void {
    const rc = o.retailColumns ?? [];
    if (!rc.length) return;
    const r: RetailColumns = {};
    rc.forEach(({ key }, j) => (r[key] = arrays[4 + j]));
    c.retail = r;
  }
  return { chunk: res.chunk };
}

const utf8 = new TextDecoder();

/** A segment column from its cells (null, blank: no segment; a number read by hyparquet: its decimal text). */
function segmentColumn(cells: ArrayLike<unknown>, n: number): SegmentColumn {
  const coder = new SegmentCoder();
  const codes = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const v = cells[r];
    codes[r] = v === null || v === undefined ? -1 : coder.code(typeof v === 'string' ? v : v instanceof Uint8Array ? utf8.decode(v) : String(v));
  }
  return { codes, names: coder.names };
}

/** The retail columns of a layout with their column index, in the table's order. */
function retailColumnsOf(layout: CatalogLayout): { c: OptionalColumn; col: number }[] {
  return OPTIONAL_COLUMNS.filter((c) => layout.retail[c.key as RetailKey] !== undefined).map((c) => ({ c, col: layout.retail[c.key as RetailKey]! }));
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
  /** the core `alloc` draws from: the fast path then decodes numeric columns in WASM memory and decompresses in WASM */
  core?: WasmCore;
  /** the caller's per-thread page decoder (its buffers are reused from chunk to chunk); absent: a fresh one */
  decoder?: PageDecoder;
  /** the file's metadata or the part covering the rows (parquetTaskMeta); absent: read from the file */
  meta?: FileMetaData;
}

/**
 * Read rows [rowStart, rowEnd) into a CatalogChunk; bad values name file, row and column. The
 * fast reader decodes the common case straight into the chunk's arrays; files outside it, and
 * chunks with any bad value, go through hyparquet's parquetRead below, which names the row and
 * column (or collects the rejects) exactly as before. `fastPathDeclined` says why the fast reader
 * did not read the chunk.
 */
export async function readParquetChunk(o: ParquetReadOptions): Promise<ParsedChunk & { fastPathDeclined?: string }> {
  const { file, meta } = await parquetSource(o.file, o.meta);
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
    retailColumns: retailColumnsOf(o.layout).map(({ c, col: i }) => ({ key: c.key as RetailKey, column: names[i], nonNegative: c.nonNegative })),
    segmentColumn: col(o.layout.segment ?? -1),
    seasonColumn: col(o.layout.season ?? -1),
    intercept: o.intercept,
    rowStart: o.rowStart,
    rowEnd: o.rowEnd,
    alloc: o.alloc,
    idsAsBytes: o.idsAsBytes,
    core: o.core,
    decoder: o.decoder,
  });
  if (fast.chunk) return { chunk: fast.chunk, lines: o.rowEnd - o.rowStart, rejects: [], idBytes: fast.chunk.idBytes };
  return { ...(await readParquetChunkHyparquet(o)), fastPathDeclined: fast.declined };
}

/** The general path: hyparquet's parquetRead, then per-row validation and conversion. */
export async function readParquetChunkHyparquet(o: ParquetReadOptions): Promise<ParsedChunk> {
  const { file, meta } = await parquetSource(o.file, o.meta);
  const names = o.layout.header;
  const retailCols = retailColumnsOf(o.layout);
  const segCol = o.layout.segment ?? -1;
  const seaCol = o.layout.season ?? -1;
  const want = [o.layout.productId, ...o.layout.features, o.layout.cost, o.layout.currentPrice, o.layout.minPrice, o.layout.maxPrice, ...retailCols.map((r) => r.col), segCol, seaCol].filter((i) => i >= 0).map((i) => names[i]);
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
  const segCells = segCol >= 0 ? cols.get(names[segCol])! : undefined;
  const kept: unknown[] | undefined = segCells ? [] : undefined;
  const seaCells = seaCol >= 0 ? cols.get(names[seaCol])! : undefined;
  const keptSeason: unknown[] | undefined = seaCells ? [] : undefined;
  const idCol = cols.get(names[o.layout.productId])!;
  const featCols = o.layout.features.map((i) => cols.get(names[i])!);
  const opt = (i: number) => (i >= 0 ? cols.get(names[i])! : undefined);
  const optCols: [unknown[] | undefined, string, Float64Array, boolean][] = [
    [opt(o.layout.cost), 'cost', cost, false],
    [opt(o.layout.currentPrice), 'current_price', cur, true],
    [opt(o.layout.minPrice), 'min_price', minP, true],
    [opt(o.layout.maxPrice), 'max_price', maxP, true],
    ...retailCols.map(({ c, col: i }): [unknown[] | undefined, string, Float64Array, boolean] => [opt(i), c.name, o.alloc(n), c.nonNegative]),
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
    kept?.push(segCells![r]);
    keptSeason?.push(seaCells![r]);
    k++;
  }
  return {
    chunk: {
      n: k, ids, x: x.subarray(0, k * D), cost: cost.subarray(0, k), currentPrice: cur.subarray(0, k), minPrice: minP.subarray(0, k), maxPrice: maxP.subarray(0, k),
      ...(retailCols.length ? { retail: Object.fromEntries(retailCols.map(({ c }, j) => [c.key, optCols[4 + j][2].subarray(0, k)])) as RetailColumns } : {}),
      ...(kept ? { segment: segmentColumn(kept, k) } : {}),
      ...(keptSeason ? { season: segmentColumn(keptSeason, k) } : {}),
    },
    lines: n,
    rejects,
  };
}
