/**
 * Pool task module of the batch job: one chunk of a catalogue (whole lines of a text file, or a
 * Parquet row range the worker reads itself) parsed, priced and formatted in this thread's WASM
 * core (created once). The model arrives as shared tables (pricing/sharedModel.ts), pinned in the
 * core's memory on first use. Tasks carry raw bytes or typed arrays, never per-row objects;
 * results come back as transferable buffers.
 */
import { WasmCore } from '../core/wasm.js';
import type { CompiledModel } from '../pricing/compiledModel.js';
import { arenaPriceColumns, priceChunk, sliceCatalogChunk, slicePriceColumns, type CatalogChunk, type OutputColumns, type PriceColumns } from '../pricing/engine.js';
import { hasProductBounds, type Policy } from '../pricing/policy.js';
import { agentInCore } from '../pricing/quoteTask.js';
import type { AgentSpec, PricingAgent } from '../pricing/agentStep.js';
import { parseCatalogChunk } from '../records/parseCatalogChunk.js';
import { readParquetChunk, encodePriceRowGroup, PageDecoder, RowGroupEncoder } from '../records/parquet.js';
import type { FileMetaData, RowGroup } from 'hyparquet';
import { formatCsvBytes, formatNdjson } from '../records/formatChunk.js';
import type { CatalogLayout } from '../records/catalogSchema.js';
import { RepricerError, writeFailure } from '../core/errors.js';
import { modelInCore, type SharedModel } from '../pricing/sharedModel.js';
import { buildCsvStrings, buildProductKeys, decodeIds, formatPriceCsvWasm, parseCatalogCsvWasm, resolveProducts, type CsvStrings, type ProductKeys } from '../records/wasmCsv.js';
import { buildJsonStrings, formatPriceJsonWasm, type JsonStrings } from '../records/priceJson.js';
import { transferResult } from '../pool/taskPool.js';
import { describeInputRejection, firstInputRejection, lineOfRow } from './rowRejections.js';
import { isUtf8 } from 'node:buffer';
import { readRangeRows } from './byteRanges.js';
import { cancelBoard, takeWriteMs, writeIfTurn, writeWhenTurn } from './outputBoard.js';
import { markHeldSegments } from '../pricing/catalogColumns.js';
import { countSegments, type SegmentCounts } from '../pricing/segmentBreaker.js';
import { publishPriceChunk, type PublishCounts, type PublishMeta } from '../records/redisPrices.js';
import { connectRedis, redisUnavailable } from '../records/redisClient.js';
import type { Redis } from 'ioredis';

let core: WasmCore | undefined;
let csvStrings: CsvStrings | undefined;
let jsonStrings: JsonStrings | undefined;
/** this thread's Parquet page decoder and row-group encoder (buffers reused across tasks; snappy in `core`) */
let pageDecoder: PageDecoder | undefined;
let rowGroupEncoder: RowGroupEncoder | undefined;
/** per shared model id: its product ids as WASM lookup keys */
const modelKeys = new Map<string, ProductKeys>();
/**
 * A publication transaction may wait behind the other threads' (each thread pipelines a chunk's
 * transactions): the job gives Redis a minute per command, not the 2 s a request may wait
 */
const PUBLISH_TIMEOUT_MS = 60_000;
/** this thread's connection to the Redis server of `reprice --publish` (one per thread, opened on its first chunk) */
let publisher: { url: string; redis: Promise<Redis> } | undefined;

/** Publish a priced chunk to Redis from this thread (records/redisPrices.ts). */
async function publishChunk(pub: PublishTask, chunk: CatalogChunk, prices: PriceColumns, cm: CompiledModel): Promise<PublishCounts> {
  if (!publisher || publisher.url !== pub.url) {
    const redis = connectRedis(pub.url, { name: 'repricer-reprice', commandTimeoutMs: PUBLISH_TIMEOUT_MS });
    publisher = { url: pub.url, redis };
    redis.catch(() => { if (publisher?.redis === redis) publisher = undefined; });
  }
  const redis = await publisher.redis;
  try {
    return await publishPriceChunk(redis, chunk, prices, cm, pub);
  } catch (err) {
    if (err instanceof RepricerError) throw err;
    throw redisUnavailable(pub.url, 'publishing prices', err);
  }
}

function getCore(): WasmCore {
  if (!core) {
    core = WasmCore.create({ variant: 'simd' });
    csvStrings = buildCsvStrings(core);
    const c = core;
    jsonStrings = buildJsonStrings(c, (bytes) => c.arena.allocBytesPermanent(bytes));
    pageDecoder = new PageDecoder();
    rowGroupEncoder = new RowGroupEncoder(core);
  }
  return core;
}

/** The shared model pinned in this thread's core, and its product keys. Called before any arena scope is open. */
function getModel(s: SharedModel): { cm: CompiledModel; keys: ProductKeys } {
  const c = getCore();
  const cm = modelInCore(c, s);
  let keys = modelKeys.get(s.id);
  if (!keys) modelKeys.set(s.id, (keys = buildProductKeys(c, [...cm.index.keys()])));
  return { cm, keys };
}

export const CHANGE_BINS = [-20, -10, -5, -1, -1e-9, 1e-9, 1, 5, 10, 20];

export interface CatalogTask {
  kind: 'catalog';
  seq: number;
  /**
   * text input: whole lines of the file (a view of a SharedArrayBuffer the main thread reuses);
   * Parquet input: a row range the worker reads itself
   */
  bytes: Uint8Array;
  /** where to put the formatted lines or the encoded row group when they fit (reused by the main thread) */
  outSlot?: SharedArrayBuffer;
  rows?: { start: number; end: number };
  /** Parquet input: the metadata of the task's row groups (parquetTaskMeta), so the worker never parses the whole footer */
  parquetMeta?: FileMetaData;
  firstLine: number;
  /** text input: the number of newlines in `bytes` */
  lineCount?: number;
  /**
   * text input the worker reads itself (byteRanges.ts; then `bytes` is empty and lines are
   * numbered from 1 at the range's first row): the range, where the data starts, the input's
   * descriptor (the main thread's: descriptors are the process's)
   */
  range?: { start: number; end: number; dataStart: number; fd: number };
  /** text output the worker writes itself at its turn (outputBoard.ts): the board, the temporary file's descriptor, the output's name for errors */
  write?: { board: SharedArrayBuffer; fd: number; path: string; timeoutMs?: number };
  file: string;
  format: 'csv' | 'ndjson' | 'parquet';
  outFormat: 'csv' | 'ndjson' | 'parquet';
  layout: CatalogLayout;
  /** compiled once by the main thread; workers copy its tables into WASM memory once */
  model: SharedModel;
  policy: Policy;
  onError: 'fail' | 'skip';
  /** the optional output columns (blend weight, explanation) */
  columns: OutputColumns;
  /** `reprice --agent`: the agent prices instead of the model's optimum (its parameters in shared memory) */
  agent?: AgentSpec;
  /**
   * the segment breaker's measuring pass (docs/math.md §4.4): price the chunk, count its rows by
   * segment (CatalogResult.segments), write nothing
   */
  measureSegments?: boolean;
  /** the segments the segment breaker holds in this run: every row of theirs is held */
  heldSegments?: string[];
  /** `reprice --publish`: write every priced row of the chunk to this Redis server too (not in the measuring pass) */
  publish?: PublishTask;
}

/** Where and under which run a chunk's prices are published. */
export interface PublishTask extends PublishMeta {
  url: string;
}

export interface CatalogResult {
  seq: number;
  /** text output: the formatted lines; Parquet output: the encoded row group's bytes (empty when they went to outSlot) */
  out: Uint8Array;
  /** bytes written to the task's outSlot, when they fit */
  outLen?: number;
  /** Parquet output: metadata of the row group in `out`, offsets relative to out[0]; absent when n = 0 */
  rowGroup?: RowGroup;
  n: number;
  status: number[];
  changeBins: number[];
  rejects: { line: number; reason: string; raw: string }[];
  error?: { code: string; message: string; details?: Record<string, unknown> };
  /** a range task: the CSV range has a `"` (rows may span lines), nothing was parsed or written */
  quoted?: boolean;
  /** a range task: the absolute offset of its first row (line numbers in `error` and `rejects` count from it) */
  rowStart?: number;
  /** a range task: the absolute offset just past its last row */
  rowEnd?: number;
  /** a task with `write`: its output is in the file (else it is in `out` or the slot, for the main thread) */
  written?: boolean;
  /** (in this thread only) formatted, but not its turn yet: written by `catalogTask` when it comes */
  awaitsTurn?: boolean;
  /**
   * why the chunk was read by the reference JavaScript path instead of the fast one (quotes or
   * odd rows in CSV, a Parquet encoding the fast reader does not take): counted in the summary
   */
  fallback?: string;
  /** a measuring task (`measureSegments`): the chunk's counts by segment (absent: the chunk has no segment column) */
  segments?: SegmentCounts;
  /** a task with `publish`: the rows it wrote to Redis and the rejected rows whose keys it removed */
  published?: PublishCounts;
  ms: { parse: number; kernels: number; format: number; read?: number; write?: number; publish?: number };
}

const encoder = new TextEncoder();
const utf8 = new TextDecoder();

function summarize(p: PriceColumns): { status: number[]; changeBins: number[] } {
  const status = [0, 0, 0, 0, 0];
  const bins = new Array<number>(CHANGE_BINS.length + 1).fill(0);
  for (let i = 0; i < p.n; i++) {
    status[p.status[i]]++;
    const c = p.changePct[i];
    if (!Number.isFinite(c)) continue;
    let b = 0;
    while (b < CHANGE_BINS.length && c > CHANGE_BINS[b]) b++;
    bins[b]++;
  }
  return { status, changeBins: bins };
}

/**
 * Price a chunk in slices of at most PRICE_SLICE rows: the engine passes over its columns several
 * times (predictor, quote, variance, Greeks), and a Parquet task's 100 000 rows (13.6 MB of
 * features alone) fall out of cache between passes. Rows are independent, so slicing changes no
 * number.
 */
const PRICE_SLICE = 16384;

function priceInSlices(c: WasmCore, cm: CompiledModel, policy: Policy, chunk: CatalogChunk, columns: OutputColumns, agent?: PricingAgent): PriceColumns {
  const n = chunk.n;
  const out = arenaPriceColumns(c, n, columns);
  if (n <= PRICE_SLICE) return priceChunk(c, cm, policy, chunk, out, undefined, agent);
  for (let s = 0; s < n; s += PRICE_SLICE) {
    const e = Math.min(n, s + PRICE_SLICE);
    priceChunk(c, cm, policy, sliceCatalogChunk(chunk, s, e, cm.D), slicePriceColumns(out, s, e), undefined, agent);
  }
  return out;
}

/** Why a CSV chunk went to the JavaScript parser: parseCatalogCsvWasm declines these. */
export const CSV_DECLINED = 'csv: quotes, a malformed or out-of-range value, or invalid UTF-8 in the chunk';

export async function runCatalog(t: CatalogTask): Promise<CatalogResult> {
  const c = getCore();
  const { cm, keys } = getModel(t.model);
  const agent = t.agent ? agentInCore(c, t.agent) : undefined;
  const t0 = performance.now();
  let bytes = t.bytes;
  let firstLine = t.firstLine;
  let lineCount = t.lineCount;
  let rowStart: number | undefined;
  if (t.range) {
    const rr = readRangeRows(t.range.fd, t.range, t.range.dataStart, t.format === 'csv');
    if (rr.quoted) {
      if (t.write) cancelBoard(t.write.board);
      return { seq: t.seq, out: new Uint8Array(0), n: 0, status: [], changeBins: [], rejects: [], quoted: true, ms: { parse: 0, kernels: 0, format: 0 } };
    }
    ({ bytes, rowStart } = rr);
    firstLine = 1;
    lineCount = undefined;
  }
  const tRead = performance.now() - t0;
  const mark = c.arena.mark();
  try {
    try {
      const alloc = (n: number) => c.arena.f64(n);
      // CSV input: the WASM path parses, resolves ids and (for CSV output) formats; it declines
      // chunks with quotes or malformed rows, which the JavaScript path below handles.
      const fast = t.format === 'csv' ? parseCatalogCsvWasm(c, bytes, t.layout, cm.D, cm.intercept, keys, lineCount) : null;
      const perProduct = hasProductBounds(t.policy);
      const publishing = t.publish !== undefined && !t.measureSegments;
      if (fast && (t.outFormat !== 'csv' || perProduct || publishing)) fast.chunk.ids = decodeIds(c, fast);
      const parsed = fast ? { chunk: fast.chunk, lines: fast.lines, rejects: [] } : t.format === 'parquet' ? await readParquetChunk({
        file: t.file, layout: t.layout, featureNames: cm.features, intercept: cm.intercept,
        rowStart: t.rows!.start, rowEnd: t.rows!.end, onError: t.onError, alloc, idsAsBytes: true, core: c, decoder: pageDecoder!, meta: t.parquetMeta,
      }) : parseCatalogChunk(bytes.slice(), {
        file: t.file,
        format: t.format,
        layout: t.layout,
        featureNames: cm.features,
        intercept: cm.intercept,
        firstLine,
        onError: t.onError,
        alloc,
      });
      // Parquet ids read as bytes: resolved to model rows in WASM; strings only where needed
      let ids = parsed.idBytes;
      if (ids) {
        const n = parsed.chunk.n;
        const valid = isUtf8(ids.bytes.subarray(0, ids.used));
        if (valid) parsed.chunk.productIndex = resolveProducts(c, keys, ids.bytes.subarray(0, ids.used), ids.start, ids.len, n);
        if (!valid || perProduct || t.outFormat !== 'parquet' || publishing) {
          const out = new Array<string>(n);
          for (let i = 0; i < n; i++) out[i] = utf8.decode(ids.bytes.subarray(ids.start[i], ids.start[i] + ids.len[i]));
          parsed.chunk.ids = out;
        }
        if (!valid) ids = undefined; // write the decoded strings, as the string path would
      }
      if (t.heldSegments?.length) markHeldSegments(parsed.chunk.segment, new Set(t.heldSegments));
      const t1 = performance.now();
      // output columns in WASM memory: no fresh pages per chunk, and the CSV formatter reads them in place
      const prices = priceInSlices(c, cm, t.policy, parsed.chunk, t.columns, agent);
      if (t.onError === 'fail') {
        const i = firstInputRejection(prices);
        if (i >= 0) {
          const id = parsed.chunk.ids.length === prices.n ? parsed.chunk.ids[i] : fast ? decodeIds(c, fast)[i] : `#${i}`;
          const line = t.format === 'parquet' ? undefined : lineOfRow(bytes, i, firstLine);
          const where = line === undefined ? `${t.file}: row ${t.rows!.start + i + 1}` : `${t.file}:${line}`;
          throw new RepricerError('INPUT_ROW_INVALID', `${where}: product ${JSON.stringify(id)}: ${describeInputRejection(prices, parsed.chunk, i)}; with --on-error skip such rows are published as rejected`, line === undefined ? undefined : { file: t.file, line });
        }
      }
      const t2 = performance.now();
      // the rows go to Redis before the file: a chunk is done only once both have them
      const published = publishing ? await publishChunk(t.publish!, parsed.chunk, prices, cm) : undefined;
      const tPublish = performance.now() - t2;
      const s = summarize(prices);
      const done = (out: Uint8Array, rowGroup?: RowGroup): CatalogResult => {
        const t3 = performance.now();
        const r: CatalogResult = {
          seq: t.seq, out, rowGroup, n: prices.n, status: s.status, changeBins: s.changeBins, rejects: parsed.rejects,
          ms: { parse: t1 - t0 - tRead, kernels: t2 - t1, format: t3 - t2 - tPublish, read: tRead, publish: tPublish },
        };
        if (published) r.published = published;
        if (rowStart !== undefined) {
          r.rowStart = rowStart;
          r.rowEnd = rowStart + bytes.length;
        }
        const fallback: string | undefined = t.format === 'csv' && !fast ? CSV_DECLINED : 'fastPathDeclined' in parsed && typeof parsed.fastPathDeclined === 'string' ? parsed.fastPathDeclined : undefined;
        if (fallback) r.fallback = fallback;
        if (t.write && !rowGroup) {
          let now: 'written' | 'wait';
          try {
            now = writeIfTurn(t.write, t.seq, out);
          } catch (err) {
            throw writeFailure(t.write.path, 'prices', err);
          }
          if (now === 'written') {
            r.written = true;
            r.out = new Uint8Array(0);
            return r;
          }
          r.awaitsTurn = true; // the bytes go to the slot (or a copy) below, and are written from there
        }
        if (t.outSlot && out.length <= t.outSlot.byteLength) {
          new Uint8Array(t.outSlot, 0, out.length).set(out);
          r.out = new Uint8Array(0);
          r.outLen = out.length;
        } else if (out.buffer instanceof SharedArrayBuffer || rowGroup) {
          r.out = out.slice(); // a view of WASM memory or of the encoder's buffer: copy out so it can be transferred
        }
        return r;
      };
      if (t.measureSegments) {
        // the measuring pass: counts only (no output, no turn on the board: `write` is not set)
        const r = done(new Uint8Array(0));
        const b = t.policy.segmentBreaker;
        if (b && parsed.chunk.segment) r.segments = countSegments(parsed.chunk.segment, prices, b);
        return r;
      }
      if (t.outFormat === 'parquet') {
        // a view of the encoder's reused buffer: done() copies it into the slot or out for transfer
        const g = prices.n > 0 ? encodePriceRowGroup(parsed.chunk.ids, prices, ids, rowGroupEncoder!) : undefined;
        return done(g ? g.bytes : new Uint8Array(0), g?.rowGroup);
      }
      if (t.outFormat === 'csv') return done(fast ? formatPriceCsvWasm(c, fast, prices, csvStrings!) : formatCsvBytes(parsed.chunk.ids, prices));
      // NDJSON written in WASM; a chunk with an id JSON escapes goes through JSON.stringify
      const nd = formatPriceJsonWasm(c, jsonStrings!, parsed.chunk.ids, prices, { coldStart: false, sep: '\n', sepLast: true });
      return done(nd ?? encoder.encode(formatNdjson(parsed.chunk.ids, prices)));
    } catch (err) {
      // no later chunk waits for this one's turn: the job fails (or, for a write error, cannot go on)
      if (t.write) cancelBoard(t.write.board);
      if (err instanceof RepricerError) {
        const r: CatalogResult = { seq: t.seq, out: new Uint8Array(0), n: 0, status: [], changeBins: [], rejects: [], error: { code: err.code, message: err.message, details: err.details }, ms: { parse: 0, kernels: 0, format: 0 } };
        if (rowStart !== undefined) r.rowStart = rowStart;
        return r;
      }
      throw err;
    }
  } finally {
    c.arena.release(mark);
  }
}

/** A chunk formatted before its turn: written from its slot (or copy) when the turn comes, or handed back. */
async function writeLater(t: CatalogTask, r: CatalogResult): Promise<CatalogResult> {
  delete r.awaitsTurn;
  const w = t.write!;
  const bytes = r.outLen !== undefined ? new Uint8Array(t.outSlot!, 0, r.outLen) : r.out;
  try {
    if (!(await writeWhenTurn(w, t.seq, bytes))) return r; // handed back: the main thread writes it
  } catch (err) {
    const e = writeFailure(w.path, 'prices', err);
    if (!(e instanceof RepricerError)) throw e;
    return { seq: t.seq, out: new Uint8Array(0), n: 0, status: [], changeBins: [], rejects: [], error: { code: e.code, message: e.message, details: e.details }, ms: { parse: 0, kernels: 0, format: 0 } };
  }
  r.written = true;
  r.out = new Uint8Array(0);
  delete r.outLen;
  return r;
}

export default async function catalogTask(t: CatalogTask): Promise<unknown> {
  let r = await runCatalog(t);
  if (r.awaitsTurn) r = await writeLater(t, r);
  // the time this thread spent writing (this chunk's or others' that came due during it)
  if (t.write) r.ms.write = takeWriteMs();
  return transferResult(r, [r.out.buffer]);
}
