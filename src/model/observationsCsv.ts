/**
 * The fast reader of an observations CSV: the file in blocks of whole lines, each parsed into
 * columns by the WASM CSV kernel the batch job uses for catalogues (parseCatalogCsv, with the
 * observation columns in the kernel's numeric roles), checked in bulk, and appended to the same
 * column store as the reference reader (observations.ts).
 *
 * It is an accelerator, not a second definition: a block the kernel declines (a quote, a blank
 * line, a short or long row, a blank or malformed number, `true`/`false` in `won`, a negative
 * competitor price) or whose values break a rule (a won row without competitor price, `won`
 * other than 0/1, a padded product id) is read by the reference row parser (csv-parse and the
 * same `addRow`), which accepts it or names file, line and column exactly as before. A file with a
 * `"` anywhere is read by the reference reader from the start: a quoted field may hold a newline,
 * which the block cutting cannot see. Measured in bench/RESULTS.md ("Fit ingest").
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parse as parseCsvSync } from 'csv-parse/sync';
import type { WasmCore } from '../core/wasm.js';
import { RepricerError, readFailure, rowError } from '../core/errors.js';
import { resolveSlowNumbers } from '../core/csvSlowNumbers.js';
import { Builder, addRow, layoutFromHeader, type Layout, type ObservationTable, type ReadObservationsOptions } from './observationRows.js';

/** The kernel's column roles (assembly/catalogCsv.ts), with the observation column each carries. */
const ROLE = { ignore: -1, id: 0, price: 1, won: 2, competitor: 3, weight: 4, feature: 16 } as const;
/** price may be negative (the reference reader's rule); won, competitor price and weight not */
const NON_NEGATIVE = 0b1110;

const BLOCK = 8 << 20;
const NL = 10;
const QUOTE = 34;

/** Thrown inside the reader when the file needs the reference reader from the start. */
class QuotedFile extends Error {}

/**
 * Read an observations CSV; null when the file has a quote and must go to the reference reader.
 * Errors are the reference reader's (INPUT_ROW_INVALID naming file, line and column).
 */
export function readObservationsCsvFast(core: WasmCore, path: string, opts: ReadObservationsOptions = {}): ObservationTable | null {
  const file = opts.name ?? path;
  const intercept = opts.intercept ?? true;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw readFailure(file, 'observations', err);
  }
  try {
    const size = fstatSync(fd).size;
    let buf = Buffer.allocUnsafe(Math.min(BLOCK, Math.max(size, 1)) + 1);
    let have = 0; // bytes of buf in use (a partial line carried over)
    let pos = 0; // file offset read so far
    let line = 1; // the file line of buf[0]
    let L: Layout | undefined;
    let b: Builder | undefined;
    for (;;) {
      if (have === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2); // one line longer than a block
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const got = pos < size ? readSync(fd, buf, have, buf.length - have, pos) : 0;
      pos += got;
      const end = have + got;
      const last = got === 0;
      if (end === 0) break;
      const cut = last ? end : buf.lastIndexOf(NL, end - 1) + 1;
      if (cut === 0 && !last) {
        have = end; // no newline yet: read on
        continue;
      }
      let block = buf.subarray(0, cut);
      if (block.indexOf(QUOTE) !== -1) throw new QuotedFile();
      if (!L) {
        const h = block.indexOf(NL);
        const headerBytes = block.subarray(0, h === -1 ? block.length : h + 1);
        const header = parseCsvSync(headerBytes, { bom: true, relax_column_count: true }) as string[][];
        if (header.length === 0) throw new RepricerError('INPUT_UNREADABLE', `${file}: empty file (no header row)`, { file, line: 1 });
        L = layoutFromHeader(file, header[0], opts);
        b = new Builder(L.features.length + (intercept ? 1 : 0));
        block = block.subarray(headerBytes.length);
        line = 2;
        // the row count from the first block's line length: one allocation instead of doublings
        let firstLines = 0;
        for (let i = block.indexOf(NL); i !== -1; i = block.indexOf(NL, i + 1)) firstLines++;
        if (firstLines > 0) b.expect(((size - headerBytes.length) / block.length) * firstLines * 1.02 + 16);
      }
      if (block.length) line = readBlock(core, file, block, line, L, b!, intercept);
      buf.copy(buf, 0, cut, end);
      have = end - cut;
      if (last) break;
    }
    if (!L || !b) throw new RepricerError('INPUT_UNREADABLE', `${file}: empty file (no header row)`, { file, line: 1 });
    return b.finish(file, 'csv', L.features, intercept);
  } catch (err) {
    if (err instanceof QuotedFile) return null;
    throw err;
  } finally {
    closeSync(fd);
  }
}

/** Parse one block of whole lines starting at file line `line`; returns the line after it. */
function readBlock(core: WasmCore, file: string, bytes: Uint8Array, line: number, L: Layout, b: Builder, intercept: boolean): number {
  let lines = 0;
  for (let i = bytes.indexOf(NL); i !== -1; i = bytes.indexOf(NL, i + 1)) lines++;
  if (bytes[bytes.length - 1] !== NL) lines++;
  if (!readBlockFast(core, bytes, lines, line, L, b, intercept)) readBlockReference(file, bytes, line, L, b, intercept);
  return line + lines;
}

/** A block's rows as columns (views of WASM memory inside the caller's arena scope). */
interface BlockColumns {
  n: number;
  /** n x D, the intercept column first when the table has one */
  x: Float64Array;
  price: Float64Array;
  won: Float64Array;
  /** NaN on lost rows (censored: a number there parses but is ignored) */
  competitor: Float64Array;
  /** 1 where blank */
  weight: Float64Array;
  anyWeight: boolean;
  ids: string[];
}

/**
 * The kernel's path over one block of `lines` lines (call inside an arena scope; the columns are
 * views of it); null when the block needs the reference parser.
 */
function parseBlockColumns(core: WasmCore, bytes: Uint8Array, lines: number, L: Layout, D: number, intercept: boolean): BlockColumns | null {
  const a = core.arena;
  const width = L.width;
  const cap = lines + 1;
  const slowCap = cap * width;
  const src = a.allocBytes(bytes.length);
  const roles = a.allocBytes(4 * width);
  const x = a.alloc(cap * D);
  const price = a.alloc(cap);
  const won = a.alloc(cap);
  const comp = a.alloc(cap);
  const weight = a.alloc(cap);
  const idStart = a.allocBytes(4 * cap);
  const idLen = a.allocBytes(4 * cap);
  const slow = a.allocBytes(16 * slowCap);
  const out = a.allocBytes(16);
  let mem = core.memory.buffer;
  new Uint8Array(mem, src, bytes.length).set(bytes);
  const r = new Int32Array(mem, roles, width).fill(ROLE.ignore);
  r[L.iProduct] = ROLE.id;
  r[L.iPrice] = ROLE.price;
  r[L.iWon] = ROLE.won;
  r[L.iComp] = ROLE.competitor;
  if (L.iWeight >= 0) r[L.iWeight] = ROLE.weight;
  L.featureIdx.forEach((col, j) => (r[col] = ROLE.feature + j));
  const optTable = a.allocBytes(16);
  new Int32Array(core.memory.buffer, optTable, 4).set([price, won, comp, weight]);
  const rc = core.k.parseCatalogCsv(src, bytes.length, roles, width, D, intercept ? 1 : 0, cap, x, optTable, 4, NON_NEGATIVE, idStart, idLen, slow, slowCap, out, 1);
  if (rc !== 0) return null;
  mem = core.memory.buffer;
  const o = new Int32Array(mem, out, 4);
  const n = o[0];
  if (o[1] !== n || n !== lines) return null; // blank lines: rows and lines differ
  // numbers beyond the kernel's exact paths (more than 19 significant digits, an exponent beyond
  // its table, a subnormal): Number() of their text
  if (!resolveSlowNumbers(mem, slow, o[2], bytes)) return null;
  const P = new Float64Array(mem, price, n);
  const W = new Float64Array(mem, won, n);
  const C = new Float64Array(mem, comp, n);
  const G = new Float64Array(mem, weight, n);
  // the reference reader's rules, in bulk (observationRows.ts addRow)
  let anyWeight = false;
  for (let i = 0; i < n; i++) {
    const w = W[i];
    if (!Number.isFinite(P[i]) || (w !== 0 && w !== 1) || (w === 1 && !Number.isFinite(C[i]))) return null;
    if (w === 0) C[i] = NaN;
    if (Number.isNaN(G[i])) G[i] = 1;
    else if (G[i] !== 1) anyWeight = true;
  }
  const ids = new Array<string>(n);
  const st = new Int32Array(mem, idStart, n);
  const ln = new Int32Array(mem, idLen, n);
  const text = Buffer.from(mem);
  for (let i = 0; i < n; i++) {
    const s0 = src + st[i];
    const e = s0 + ln[i];
    if (text[s0] === 32 || text[e - 1] === 32) return null; // the reference reader trims ids
    ids[i] = text.toString('utf8', s0, e);
  }
  return { n, x: new Float64Array(mem, x, n * D), price: P, won: W, competitor: C, weight: G, anyWeight, ids };
}

/** Append a block's columns to the store; its first row is on file line `line`. */
function appendBlock(b: Builder, c: BlockColumns, line: number): void {
  const n = c.n;
  const r0 = b.reserve(n);
  b.x.set(c.x, r0 * b.D);
  b.price.set(c.price, r0);
  b.won.set(c.won, r0);
  b.competitor.set(c.competitor, r0);
  b.weight.set(c.weight, r0);
  if (c.anyWeight) b.anyWeight = true;
  for (let i = 0; i < n; i++) {
    b.product[r0 + i] = b.productIndex(c.ids[i]);
    b.lines[r0 + i] = line + i;
  }
}

/** The kernel's path; false (nothing appended) when the block needs the reference parser. */
function readBlockFast(core: WasmCore, bytes: Uint8Array, lines: number, line: number, L: Layout, b: Builder, intercept: boolean): boolean {
  const a = core.arena;
  const mark = a.mark();
  try {
    const c = parseBlockColumns(core, bytes, lines, L, b.D, intercept);
    if (!c) return false;
    appendBlock(b, c, line);
    return true;
  } finally {
    a.release(mark);
  }
}

/** The reference row parser on one block: the same rules and messages as the streaming reader. */
function readBlockReference(file: string, bytes: Uint8Array, line: number, L: Layout, b: Builder, intercept: boolean): void {
  let recs: { record: string[]; info: { lines: number } }[];
  try {
    recs = parseCsvSync(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), { skip_empty_lines: true, relax_column_count: true, info: true, trim: false }) as unknown as typeof recs;
  } catch (err) {
    const e = err as { code?: string; lines?: number; message?: string };
    throw new RepricerError('INPUT_UNREADABLE', `${file}:${line - 1 + (e.lines ?? 1)}: malformed CSV (${e.message ?? e.code})`, { file, line: line - 1 + (e.lines ?? 1) });
  }
  for (const rec of recs) {
    const at = line - 1 + rec.info.lines;
    if (rec.record.length !== L.width) {
      throw rowError(file, at, `(${rec.record.length} fields)`, `${L.width} fields as in the header`, rec.record.join(','));
    }
    addRow(b, L, file, at, rec.record, intercept);
  }
}
