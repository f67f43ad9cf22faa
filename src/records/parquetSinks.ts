/**
 * Where the fast Parquet reader puts decoded values (sinks: a Float64Array column, strings, raw
 * id bytes), how each value is checked on the way in, and why a fast read declines (Decline).
 * parquetPages.ts decodes pages and scatters their values here.
 */
import type { WasmCore } from '../core/wasm.js';

/** Why a fast path did not read a chunk (thrown inside the decoder, caught by readColumnsFast only). */
export class Decline {
  constructor(readonly reason: string) {}
}

export function decline(reason: string): never {
  throw new Decline(reason);
}

/** How values are checked while decoding; a failed check declines the chunk. */
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

export interface Ranges {
  start: Int32Array;
  len: Int32Array;
}

export function invalid(column: string): never {
  return decline(`column ${column}: a value fails its check`);
}

/** Page rows [i0, i1) to sink rows shift + i; values (or dict[idx]) start at vi. */
export function scatterNumbers(vals: Float64Array, idx: Int32Array | undefined, defs: Uint8Array | undefined, i0: number, i1: number, vi: number, shift: number, s: NumberSink): void {
  const { dst, stride, offset, check } = s;
  let p = (shift + i0) * stride + offset;
  if (defs === undefined && idx === undefined && stride === 1) {
    // the common case (no nulls, PLAIN): check, then one block copy
    const src = vals.subarray(vi, vi + i1 - i0);
    if (src.length !== i1 - i0) decline(`column ${s.column}: corrupt page (${vals.length} values, ${vi + i1 - i0} needed)`);
    if (check !== CHECK_NONE) checkBlock(src, s);
    dst.set(src, p);
    return;
  }
  for (let i = i0; i < i1; i++, p += stride) {
    if (defs !== undefined && defs[i] === 0) {
      if (check === CHECK_FEATURE) invalid(s.column);
      dst[p] = NaN;
      continue;
    }
    // an index past the dictionary reads undefined -> NaN, which every check but NONE rejects
    const v = idx === undefined ? vals[vi++] : vals[idx[vi++]];
    if (check !== CHECK_NONE && (v - v !== 0 || (check === CHECK_NONNEG_OR_NULL && v < 0))) invalid(s.column);
    dst[p] = v;
  }
}

function checkBlock(v: Float64Array, s: NumberSink): void {
  let bad = false;
  if (s.check === CHECK_NONNEG_OR_NULL) for (let i = 0; i < v.length; i++) bad = bad || !(v[i] >= 0 && v[i] < Infinity);
  else for (let i = 0; i < v.length; i++) bad = bad || v[i] - v[i] !== 0;
  if (bad) invalid(s.column);
}

export function scatterStrings(vals: string[], idx: Int32Array | undefined, defs: Uint8Array | undefined, i0: number, i1: number, vi: number, shift: number, s: StringSink): void {
  const { dst, check } = s;
  for (let i = i0; i < i1; i++) {
    if (defs !== undefined && defs[i] === 0) {
      if (check === CHECK_ID) invalid(s.column);
      dst[shift + i] = null;
      continue;
    }
    const v = idx === undefined ? vals[vi++] : vals[idx[vi++]];
    if (v === undefined || (check === CHECK_ID && v === '')) invalid(s.column);
    dst[shift + i] = v;
  }
}

/** Page rows [i0, i1) to sink rows shift + i, as bytes; values (or dict[idx]) start at vi. */
export function scatterBytes(src: Uint8Array, vals: Ranges, idx: Int32Array | undefined, defs: Uint8Array | undefined, i0: number, i1: number, vi: number, shift: number, s: BytesSink): void {
  for (let i = i0; i < i1; i++) {
    if (defs !== undefined && defs[i] === 0) invalid(s.column); // ids are required; other byte columns are not read this way
    const k = idx === undefined ? vi++ : idx[vi++];
    if (k >= vals.len.length) invalid(s.column);
    const l = vals.len[k];
    if (s.check === CHECK_ID && l === 0) invalid(s.column);
    putBytes(s.out, src, vals.start[k], l, shift + i);
  }
}
