/**
 * The batch job's CSV fast path in the WASM core: a quote-free chunk is parsed into columns
 * (parseCatalogCsv), its product ids resolved to model rows by their bytes (lookupProducts) and,
 * after pricing, the rows written back as CSV (formatPriceCsv), so a row's text never becomes a
 * JavaScript string. The JavaScript path (parseChunk.ts / formatChunk.ts) stays the reference
 * (test/wasmCsv.test.ts feeds both the same bytes) and takes every chunk this path declines: one
 * with a quote, a malformed row (so the error names file, line and column exactly as before) or
 * bytes that are not valid UTF-8.
 */
import { isUtf8 } from 'node:buffer';
import type { WasmCore } from '../core/wasm.js';
import { resolveSlowNumbers } from '../core/csvSlowNumbers.js';
import { RepricerError } from '../core/errors.js';
import type { CatalogChunk, PriceColumns } from '../pricing/engine.js';
import { REASONS, STATUSES, reasonMaskPossible, reasonString } from '../pricing/policy.js';
import type { CatalogLayout } from './catalogSchema.js';
import { tailColumns } from '../pricing/record.js';
import { OPTIONAL_COLUMNS, SegmentCoder, type RetailColumns, type RetailKey, type SegmentColumn } from '../pricing/catalogColumns.js';

const encoder = new TextEncoder();

/** A model's product ids as a hash table in WASM memory (built once per model and core). */
export interface ProductKeys {
  keys: number;
  keyStart: number;
  keyLen: number;
  slots: number;
  mask: number;
}

/**
 * Lay out the ids (model rows 1..K in this order, as compileModel numbers them) and build the
 * table. Allocates permanently: call while no arena scope is open.
 */
export function buildProductKeys(core: WasmCore, ids: string[]): ProductKeys {
  const a = core.arena;
  const enc = ids.map((id) => encoder.encode(id));
  const total = enc.reduce((s, b) => s + b.length, 0);
  let slotsN = 16;
  while (slotsN < 2 * ids.length) slotsN *= 2;
  const keys = a.allocBytesPermanent(Math.max(total, 1));
  const keyStart = a.allocBytesPermanent(4 * Math.max(ids.length, 1));
  const keyLen = a.allocBytesPermanent(4 * Math.max(ids.length, 1));
  const slots = a.allocBytesPermanent(4 * slotsN);
  const mem = core.memory.buffer;
  const kb = new Uint8Array(mem, keys, total);
  const ks = new Int32Array(mem, keyStart, ids.length);
  const kl = new Int32Array(mem, keyLen, ids.length);
  new Int32Array(mem, slots, slotsN).fill(0);
  let o = 0;
  enc.forEach((b, k) => {
    kb.set(b, o);
    ks[k] = o;
    kl[k] = b.length;
    o += b.length;
  });
  core.k.buildProductIndex(ids.length, keys, keyStart, keyLen, slots, slotsN - 1);
  return { keys, keyStart, keyLen, slots, mask: slotsN - 1 };
}

/** Status and reason strings for formatPriceCsv: (offset, length) pairs into one blob. */
export interface CsvStrings {
  strings: number;
  statusTab: number;
  reasonTab: number;
  /** longest status plus longest reason, in bytes */
  maxLen: number;
}

/**
 * Groups of byte strings in one blob, each group with its (offset, length) i32 table, as the
 * formatting kernels read them. `alloc(bytes)` must return memory that lives as long as the core.
 */
export function writeStringTables(core: WasmCore, alloc: (bytes: number) => number, groups: Uint8Array[][]): { strings: number; tabs: number[] } {
  const total = groups.flat().reduce((s, b) => s + b.length, 0);
  const strings = alloc(Math.max(1, total));
  const tabs = groups.map((g) => alloc(8 * Math.max(1, g.length)));
  const mem = core.memory.buffer; // after the allocations
  const blob = new Uint8Array(mem, strings, total);
  let o = 0;
  groups.forEach((g, gi) => {
    const tab = new Int32Array(mem, tabs[gi], 2 * g.length);
    g.forEach((b, j) => {
      if (b.length) blob.set(b, o); // most reason masks are impossible and empty
      tab[2 * j] = o;
      tab[2 * j + 1] = b.length;
      o += b.length;
    });
  });
  return { strings, tabs };
}

let labels: { status: Uint8Array[]; reason: Uint8Array[]; maxLen: number } | undefined;

/**
 * The status and reason labels as byte strings, and the longest of each (built once per thread:
 * the CSV and the JSON writers' tables share them).
 */
export function labelBytes(): { status: Uint8Array[]; reason: Uint8Array[]; maxLen: number } {
  if (labels) return labels;
  const status = STATUSES.map((s) => encoder.encode(s));
  // indexed by the whole mask (65 536 of them); masks the engine never publishes
  // (reasonMaskPossible, ~99 %) share one empty array instead of allocating one each
  const empty = new Uint8Array(0);
  const reason = new Array<Uint8Array>(1 << REASONS.length);
  let longestReason = 0;
  for (let m = 0; m < reason.length; m++) {
    reason[m] = reasonMaskPossible(m) ? encoder.encode(reasonString(m)) : empty;
    longestReason = Math.max(longestReason, reason[m].length);
  }
  labels = { status, reason, maxLen: Math.max(...status.map((b) => b.length)) + longestReason };
  return labels;
}

/** Allocates permanently: call while no arena scope is open. */
export function buildCsvStrings(core: WasmCore): CsvStrings {
  const l = labelBytes();
  const t = writeStringTables(core, (b) => core.arena.allocBytesPermanent(b), [l.status, l.reason]);
  return { strings: t.strings, statusTab: t.tabs[0], reasonTab: t.tabs[1], maxLen: l.maxLen };
}

/**
 * A PriceColumns in the formatting kernels' form, inside the caller's arena scope: an i32 table of
 * the nine numeric columns' addresses (copied in when they are not in WASM memory), and the
 * status and reason columns' addresses.
 */
export function priceColumnsInWasm(core: WasmCore, p: PriceColumns): { colTab: number; status: number; reasons: number } {
  const n = p.n;
  const a = core.arena;
  const cols = [p.price, p.previousPrice, p.changePct, p.winProbability, p.expectedProfit, p.delta, p.gamma, p.vega, p.priceStdError];
  const colPtr = cols.map((c) => core.input(c));
  const colTab = a.allocBytes(4 * cols.length);
  const status = core.owns(p.status) ? p.status.byteOffset : a.allocBytes(n);
  const reasons = core.owns(p.reasons) ? p.reasons.byteOffset : a.allocBytes(4 * n);
  const mem = core.memory.buffer; // after the allocations
  new Int32Array(mem, colTab, cols.length).set(colPtr);
  if (!core.owns(p.status)) new Uint8Array(mem, status, n).set(p.status);
  if (!core.owns(p.reasons)) new Uint32Array(mem, reasons, n).set(p.reasons);
  return { colTab, status, reasons };
}

// Column roles of assembly/catalogCsv.ts.
const ROLE = { ignore: -1, text: -2, id: 0, optional: 1, feature: 16 } as const;

/** The kernel's optional-column arguments: the f64 arrays in order, and which may not be negative. */
export function optionalColumnArgs(core: WasmCore, cols: number[], nonNegative: boolean[]): { table: number; nonNeg: number } {
  const table = core.arena.allocBytes(4 * Math.max(1, cols.length));
  new Int32Array(core.memory.buffer, table, cols.length).set(cols);
  let nonNeg = 0;
  nonNegative.forEach((b, k) => (nonNeg |= b ? 1 << k : 0));
  return { table, nonNeg };
}

/** A chunk parsed in WASM memory: the columns plus where each row's id sits in the chunk's bytes. */
export interface WasmCsvChunk {
  chunk: CatalogChunk;
  lines: number;
  /** byte offsets in WASM memory: the chunk's bytes and the i32 id ranges (relative to src) */
  src: number;
  idStart: number;
  idLen: number;
}

/**
 * Parse a chunk in WASM memory (call inside an arena scope; the columns live there). Returns
 * null when the chunk must take the JavaScript path instead.
 */
export function parseCatalogCsvWasm(core: WasmCore, bytes: Uint8Array, layout: CatalogLayout, D: number, intercept: boolean, keys: ProductKeys, lineCount?: number): WasmCsvChunk | null {
  if (!isUtf8(bytes)) return null;
  // rows <= lines; the caller usually knows the line count (the batch job cut the chunk by lines)
  let cap = 1;
  if (lineCount !== undefined) cap += lineCount;
  else for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) cap++;
  const a = core.arena;
  const start = a.mark();
  const width = layout.width;
  const slowCap = cap * width;
  const src = a.allocBytes(bytes.length);
  const roles = a.allocBytes(4 * width);
  const x = a.alloc(cap * D);
  // the optional columns the header has, in the table's order (absent ones stay NaN-filled arrays
  // for the four guardrail columns, and are left out for the retail ones)
  const present = OPTIONAL_COLUMNS.map((c, k) => ({ c, k, col: k < 4 ? [layout.cost, layout.currentPrice, layout.minPrice, layout.maxPrice][k] : layout.retail[c.key as RetailKey] ?? -1 }))
    .filter(({ k, col }) => k < 4 || col >= 0);
  const arrays = present.map(() => a.alloc(cap));
  const optArgs = optionalColumnArgs(core, arrays, present.map(({ c }) => c.nonNegative));
  const idStart = a.allocBytes(4 * cap);
  const idLen = a.allocBytes(4 * cap);
  const slow = a.allocBytes(16 * slowCap);
  const out = a.allocBytes(16);
  const idx = a.alloc(cap);
  // the text columns' cells (segment, season) as byte ranges, like the ids (only when the header has them)
  const segCol = layout.segment ?? -1;
  const segStart = segCol >= 0 ? a.allocBytes(4 * cap) : 0;
  const segLen = segCol >= 0 ? a.allocBytes(4 * cap) : 0;
  const seaCol = layout.season ?? -1;
  const seaStart = seaCol >= 0 ? a.allocBytes(4 * cap) : 0;
  const seaLen = seaCol >= 0 ? a.allocBytes(4 * cap) : 0;
  let mem = core.memory.buffer;
  new Uint8Array(mem, src, bytes.length).set(bytes);
  const r = new Int32Array(mem, roles, width).fill(ROLE.ignore);
  r[layout.productId] = ROLE.id;
  layout.features.forEach((col, j) => (r[col] = ROLE.feature + j));
  present.forEach(({ col }, j) => {
    if (col >= 0) r[col] = ROLE.optional + j;
  });
  if (segCol >= 0) {
    r[segCol] = ROLE.text;
    core.k.catalogTextColumn(0, segStart, segLen);
  }
  if (seaCol >= 0) {
    r[seaCol] = ROLE.text - 1;
    core.k.catalogTextColumn(1, seaStart, seaLen);
  }
  const rc = core.k.parseCatalogCsv(src, bytes.length, roles, width, D, intercept ? 1 : 0, cap, x, optArgs.table, arrays.length, optArgs.nonNeg, idStart, idLen, slow, slowCap, out, 0);
  if (rc !== 0) {
    a.release(start);
    return null;
  }
  mem = core.memory.buffer;
  const o = new Int32Array(mem, out, 4);
  const n = o[0];
  const lines = o[1];
  if (!resolveSlowNumbers(mem, slow, o[2], bytes)) {
    a.release(start);
    return null;
  }
  core.k.lookupProducts(n, src, idStart, idLen, keys.keys, keys.keyStart, keys.keyLen, keys.slots, keys.mask, idx);
  const view = (p: number, len: number) => new Float64Array(mem, p, len);
  let retail: RetailColumns | undefined;
  for (let j = 4; j < present.length; j++) (retail ??= {})[present[j].c.key as RetailKey] = view(arrays[j], n);
  return {
    chunk: {
      n,
      ids: [],
      productIndex: view(idx, n),
      x: view(x, n * D),
      cost: view(arrays[0], n),
      currentPrice: view(arrays[1], n),
      minPrice: view(arrays[2], n),
      maxPrice: view(arrays[3], n),
      ...(retail ? { retail } : {}),
      ...(segCol >= 0 ? { segment: segmentsFromRanges(mem, src, segStart, segLen, n) } : {}),
      ...(seaCol >= 0 ? { season: segmentsFromRanges(mem, src, seaStart, seaLen, n) } : {}),
    },
    lines,
    src,
    idStart,
    idLen,
  };
}

/**
 * The segment column from the cells' byte ranges (relative to src). A cell is decoded to a string
 * only the first time its bytes appear in the chunk: later ones are found by a hash of their bytes
 * and confirmed byte by byte (decoding every cell cost a third of the parse).
 */
function segmentsFromRanges(mem: ArrayBufferLike, src: number, start: number, len: number, n: number): SegmentColumn {
  const st = new Int32Array(mem, start, n);
  const ln = new Int32Array(mem, len, n);
  const b = new Uint8Array(mem);
  const codes = new Int32Array(n);
  const coder = new SegmentCoder();
  // FNV-1a of the bytes -> the distinct cells with that hash: their code and first occurrence
  const seen = new Map<number, { code: number; at: number; len: number }[]>();
  let text: Buffer | undefined;
  for (let i = 0; i < n; i++) {
    const l = ln[i];
    if (l === 0) {
      codes[i] = -1;
      continue;
    }
    const s = src + st[i];
    let h = 0x811c9dc5 ^ l;
    for (let k = 0; k < l; k++) h = Math.imul(h ^ b[s + k], 0x01000193);
    let bucket = seen.get(h);
    let code = -2;
    if (bucket) {
      for (const e of bucket) {
        if (e.len !== l) continue;
        let k = 0;
        while (k < l && b[e.at + k] === b[s + k]) k++;
        if (k === l) {
          code = e.code;
          break;
        }
      }
    }
    if (code === -2) {
      text ??= Buffer.from(mem);
      code = coder.code(text.toString('utf8', s, s + l));
      if (!bucket) seen.set(h, (bucket = []));
      bucket.push({ code, at: s, len: l });
    }
    codes[i] = code;
  }
  return { codes, names: coder.names };
}

/**
 * Model rows of n ids given as UTF-8 bytes (row i: bytes[start[i], start[i] + len[i])), looked up
 * in WASM; a view of the arena (call inside a scope). The bytes must be valid UTF-8.
 */
export function resolveProducts(core: WasmCore, keys: ProductKeys, bytes: Uint8Array, start: Int32Array, len: Int32Array, n: number): Float64Array {
  const a = core.arena;
  if (core.owns(bytes) && core.owns(start) && core.owns(len)) {
    // already in WASM memory (the Parquet reader's ids): no copy
    const out = a.alloc(n);
    core.k.lookupProducts(n, bytes.byteOffset, start.byteOffset, len.byteOffset, keys.keys, keys.keyStart, keys.keyLen, keys.slots, keys.mask, out);
    return new Float64Array(core.memory.buffer, out, n);
  }
  const src = a.allocBytes(Math.max(1, bytes.length));
  const ps = a.allocBytes(4 * Math.max(1, n));
  const pl = a.allocBytes(4 * Math.max(1, n));
  const out = a.alloc(n);
  const mem = core.memory.buffer;
  new Uint8Array(mem, src, bytes.length).set(bytes);
  new Int32Array(mem, ps, n).set(start.subarray(0, n));
  new Int32Array(mem, pl, n).set(len.subarray(0, n));
  core.k.lookupProducts(n, src, ps, pl, keys.keys, keys.keyStart, keys.keyLen, keys.slots, keys.mask, out);
  return new Float64Array(core.memory.buffer, out, n);
}

/** The chunk's product ids as strings (for a per-product policy or a non-CSV output). */
export function decodeIds(core: WasmCore, p: WasmCsvChunk): string[] {
  const mem = core.memory.buffer;
  const n = p.chunk.n;
  const st = new Int32Array(mem, p.idStart, n);
  const ln = new Int32Array(mem, p.idLen, n);
  const b = Buffer.from(mem);
  const ids = new Array<string>(n);
  for (let i = 0; i < n; i++) ids[i] = b.toString('utf8', p.src + st[i], p.src + st[i] + ln[i]);
  return ids;
}

/**
 * The CSV rows of `prices` (no header), the same bytes as formatCsvBytes, as a view of WASM
 * memory valid until the enclosing arena scope ends. Call inside the arena scope that holds `p`.
 */
export function formatPriceCsvWasm(core: WasmCore, p: WasmCsvChunk, prices: PriceColumns, strs: CsvStrings): Uint8Array {
  const n = prices.n;
  const { colTab, status, reasons } = priceColumnsInWasm(core, prices);
  const tail = tailColumns(prices).map((c) => core.input(c.values));
  const tailTab = core.arena.allocBytes(4 * Math.max(1, tail.length));
  new Int32Array(core.memory.buffer, tailTab, tail.length).set(tail);
  let total = 0;
  const ln = new Int32Array(core.memory.buffer, p.idLen, n);
  for (let i = 0; i < n; i++) total += ln[i];
  const cap = total + n * (2 + (9 + tail.length) * 26 + 3 + strs.maxLen);
  const dst = core.arena.allocBytes(cap);
  const len = core.k.formatPriceCsv(n, p.src, p.idStart, p.idLen, colTab, status, reasons, strs.strings, strs.statusTab, strs.reasonTab, dst, cap, tail.length, tailTab);
  if (len < 0) throw new RepricerError('INTERNAL', `formatPriceCsv: output bound ${cap} bytes too small for ${n} rows`);
  return new Uint8Array(core.memory.buffer, dst, len);
}
