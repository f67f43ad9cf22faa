/**
 * JSON price records formatted in WASM (assembly/priceJson.ts): the batch job's NDJSON output and
 * the items of POST /v1/quotes. The bytes equal JSON.stringify of the records
 * src/pricing/record.ts builds (test/priceJson.test.ts holds them to it); JSON.stringify of 10 000
 * records was ~15-25 ms of a 10 000-SKU request. A chunk with an id that JSON would escape (a
 * quote, a backslash, a control character, a lone surrogate) is declined (null): the caller uses
 * JSON.stringify for it, and so does a chunk with the optional columns (blend weight, explanation).
 */
import type { WasmCore } from '../core/wasm.js';
import { RepricerError } from '../core/errors.js';
import type { PriceColumns } from '../pricing/engine.js';
import { REASON_BIT } from '../pricing/policy.js';
import { labelBytes, priceColumnsInWasm, writeStringTables } from './wasmCsv.js';

const encoder = new TextEncoder();

const KEYS = [
  '{"product_id":"',
  '","price":',
  ',"previous_price":',
  ',"change_pct":',
  ',"win_probability":',
  ',"expected_profit":',
  ',"delta":',
  ',"gamma":',
  ',"vega":',
  ',"price_std_error":',
  ',"status":"',
  '","reason":"',
  '"}',
  '","cold_start":true}',
  '","cold_start":false}',
  'null',
];

/** The key, status and reason strings in WASM memory (see buildJsonStrings). */
export interface JsonStrings {
  strings: number;
  statusTab: number;
  reasonTab: number;
  keysTab: number;
  /** longest status + longest reason + all keys, in bytes */
  maxFixed: number;
}

/**
 * The strings the kernel copies, in memory that lives as long as the core: `alloc(bytes)` must
 * return such an offset (Arena.allocBytesPermanent in a worker; a plain allocation outside any
 * arena scope in the server).
 */
export function buildJsonStrings(core: WasmCore, alloc: (bytes: number) => number): JsonStrings {
  const l = labelBytes();
  const keys = KEYS.map((k) => encoder.encode(k));
  const t = writeStringTables(core, alloc, [l.status, l.reason, keys]);
  return { strings: t.strings, statusTab: t.tabs[0], reasonTab: t.tabs[1], keysTab: t.tabs[2], maxFixed: l.maxLen + keys.reduce((s, b) => s + b.length, 0) };
}

// what JSON.stringify escapes in a string: '"', '\', control characters, lone surrogates
const NEEDS_ESCAPE = /["\\\u0000-\u001f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface JsonFormat {
  /** add "cold_start" (the HTTP API's records) */
  coldStart: boolean;
  /** the byte between records: ',' (a JSON array's items) or '\n' (NDJSON) */
  sep: ',' | '\n';
  /** also after the last record (NDJSON) */
  sepLast: boolean;
}

/**
 * The records of `ids` and `p` as UTF-8 bytes, a view of WASM memory valid in the caller's arena
 * scope; null when an id needs escaping.
 */
export function formatPriceJsonWasm(core: WasmCore, strs: JsonStrings, ids: string[], p: PriceColumns, f: JsonFormat): Uint8Array | null {
  const n = p.n;
  // the optional columns (blend weight, explanation) are not in the kernel's record: JSON.stringify
  if (p.blendWeight || p.explain) return null;
  let chars = 0;
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (NEEDS_ESCAPE.test(id)) return null;
    chars += id.length;
  }
  const a = core.arena;
  const { colTab, status, reasons } = priceColumnsInWasm(core, p);
  const idBytes = 3 * chars; // UTF-8 of a UTF-16 string: at most 3 bytes per code unit
  const src = a.allocBytes(Math.max(1, idBytes));
  const starts = a.allocBytes(4 * Math.max(1, n));
  const lens = a.allocBytes(4 * Math.max(1, n));
  const cap = idBytes + n * (strs.maxFixed + 9 * 25 + 1);
  const dst = a.allocBytes(cap);
  const mem = core.memory.buffer; // after every allocation
  const bytes = new Uint8Array(mem, src, idBytes);
  const st = new Int32Array(mem, starts, n);
  const ln = new Int32Array(mem, lens, n);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    st[i] = o;
    let k = 0;
    // ASCII by hand: an encodeInto call per short id costs more than the copy
    for (; k < id.length; k++) {
      const c = id.charCodeAt(k);
      if (c >= 0x80) break;
      bytes[o + k] = c;
    }
    ln[i] = k < id.length ? encoder.encodeInto(id, bytes.subarray(o)).written : k;
    o += ln[i];
  }
  const coldBit = f.coldStart ? REASON_BIT.cold_start : 0;
  const len = core.k.formatPriceJson(n, src, starts, lens, colTab, status, reasons, strs.strings, strs.statusTab, strs.reasonTab, strs.keysTab, coldBit, f.sep.charCodeAt(0), f.sepLast ? 1 : 0, dst, cap);
  if (len < 0) throw new RepricerError('INTERNAL', `formatPriceJson: output bound ${cap} bytes too small for ${n} records`);
  return new Uint8Array(core.memory.buffer, dst, len);
}
