/**
 * Parse one chunk of catalogue text (whole lines) into the columnar CatalogChunk the engine reads.
 * Runs inside the workers, so parsing is spread over all cores. CSV goes through csv-parse (the
 * maintained parser); NDJSON through JSON.parse per line. Numbers must be plain decimals; a bad
 * value names file, line and column.
 */
import { parse } from 'csv-parse/sync';
import { rowError, RepricerError } from '../core/errors.js';
import type { CatalogLayout } from './catalogSchema.js';
import type { CatalogChunk } from '../pricing/engine.js';
import { parseDecimal, scanRecords } from './fastCsv.js';
import { OPTIONAL_COLUMNS, SegmentCoder, type RetailColumns, type RetailKey } from '../pricing/catalogColumns.js';

const decoder = new TextDecoder();

export interface ChunkError {
  line: number;
  column: string;
  expected: string;
  got: string;
}

export interface ParsedChunk {
  chunk: CatalogChunk;
  /** absolute line of each kept row (for rejects) */
  lines: number;
  rejects: { line: number; reason: string; raw: string }[];
  /** Parquet fast path with idsAsBytes: the ids as raw UTF-8 bytes (chunk.ids is then empty) */
  idBytes?: { bytes: Uint8Array; used: number; start: Int32Array; len: Int32Array };
}

const NUM = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

function num(s: string | undefined): number {
  if (s === undefined) return NaN;
  return NUM.test(s) ? Number(s) : NaN;
}

type Alloc = (n: number) => Float64Array;

interface RowSink {
  ids: string[];
  x: Float64Array;
  cost: Float64Array;
  cur: Float64Array;
  minP: Float64Array;
  maxP: Float64Array;
  /** the retail columns of the layout: key, column index, nonNegative, array */
  retail: { key: RetailKey; name: string; col: number; nonNegative: boolean; out: Float64Array }[];
  /** the segment column (layout.segment >= 0): codes per row and the chunk's dictionary */
  segment?: { col: number; codes: Int32Array; coder: SegmentCoder };
  /** the season column, the same way */
  season?: { col: number; codes: Int32Array; coder: SegmentCoder };
  n: number;
}

/** Field access for one record: raw text (ids, error messages), number (NaN if not a decimal). */
interface Fields {
  text(i: number): string | undefined;
  value(i: number): number;
  blank(i: number): boolean;
}

/** Fill the next row of the sink from one record; returns an error or null. */
function fillRow(sink: RowSink, lay: CatalogLayout, names: string[], D: number, intercept: boolean, f: Fields): ChunkError | null {
  const r = sink.n;
  const id = f.text(lay.productId);
  if (id === undefined || id === '') return { line: 0, column: 'product_id', expected: 'a non-empty product id', got: id ?? '' };
  let o = r * D;
  if (intercept) sink.x[o++] = 1.0;
  for (let j = 0; j < lay.features.length; j++) {
    const v = f.value(lay.features[j]);
    if (!Number.isFinite(v)) return { line: 0, column: names[j], expected: 'a finite number', got: f.text(lay.features[j]) ?? '' };
    sink.x[o++] = v;
  }
  const optional = (col: number, name: string, out: Float64Array, positive: boolean): ChunkError | null => {
    if (col < 0 || f.blank(col)) {
      out[r] = NaN;
      return null;
    }
    const v = f.value(col);
    if (!Number.isFinite(v) || (positive && v < 0)) return { line: 0, column: name, expected: positive ? 'a finite number >= 0 or empty' : 'a finite number or empty', got: f.text(col) ?? '' };
    out[r] = v;
    return null;
  };
  const e =
    optional(lay.cost, 'cost', sink.cost, false) ??
    optional(lay.currentPrice, 'current_price', sink.cur, true) ??
    optional(lay.minPrice, 'min_price', sink.minP, true) ??
    optional(lay.maxPrice, 'max_price', sink.maxP, true);
  if (e) return e;
  for (const c of sink.retail) {
    const err = optional(c.col, c.name, c.out, c.nonNegative);
    if (err) return err;
  }
  const sea = sink.season;
  if (sea) sea.codes[r] = sea.coder.code(f.text(sea.col));
  const seg = sink.segment;
  if (seg) seg.codes[r] = seg.coder.code(f.text(seg.col));
  sink.ids.push(id);
  sink.n++;
  return null;
}

function stringFields(get: (i: number) => string | undefined): Fields {
  return {
    text: get,
    value: (i) => num(get(i)),
    blank: (i) => {
      const s = get(i);
      return s === undefined || s.trim() === '';
    },
  };
}

export interface ParseOptions {
  file: string;
  format: 'csv' | 'ndjson';
  layout: CatalogLayout;
  featureNames: string[];
  intercept: boolean;
  /** absolute line number of the first line of `text` */
  firstLine: number;
  onError: 'fail' | 'skip';
  alloc: Alloc;
  /** force the csv-parse path (tests compare it with the fast path) */
  reference?: boolean;
}

/** A CSV row with fewer fields than the header: named as such, not as its first empty column. */
function shortRow(fields: number, width: number): ChunkError {
  return { line: 0, column: '(row)', expected: `${width} fields as in the header`, got: `${fields} field${fields === 1 ? '' : 's'}` };
}

export function parseCatalogChunk(bytes: Uint8Array, o: ParseOptions): ParsedChunk {
  const quoteFree = o.format === 'csv' && bytes.indexOf(34) === -1 && !o.reference;
  const text = quoteFree ? '' : decoder.decode(bytes);
  const D = o.featureNames.length + (o.intercept ? 1 : 0);
  // upper bound on rows: number of newlines + 1
  let cap = 1;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) cap++;
  const sink: RowSink = {
    ids: [],
    x: o.alloc(cap * D),
    cost: o.alloc(cap),
    cur: o.alloc(cap),
    minP: o.alloc(cap),
    maxP: o.alloc(cap),
    retail: OPTIONAL_COLUMNS.filter((c) => o.layout.retail[c.key as RetailKey] !== undefined).map((c) => ({ key: c.key as RetailKey, name: c.name, col: o.layout.retail[c.key as RetailKey]!, nonNegative: c.nonNegative, out: o.alloc(cap) })),
    ...((o.layout.segment ?? -1) >= 0 ? { segment: { col: o.layout.segment!, codes: new Int32Array(cap), coder: new SegmentCoder() } } : {}),
    ...((o.layout.season ?? -1) >= 0 ? { season: { col: o.layout.season!, codes: new Int32Array(cap), coder: new SegmentCoder() } } : {}),
    n: 0,
  };
  const rejects: ParsedChunk['rejects'] = [];
  const fail = (line: number, e: ChunkError, raw: string) => {
    if (o.onError === 'skip') {
      rejects.push({ line, reason: `column ${e.column}: expected ${e.expected}, got ${JSON.stringify(e.got)}`, raw });
      return;
    }
    throw rowError(o.file, line, e.column, e.expected, e.got);
  };
  let lines = 0;
  if (quoteFree) {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    let st: Int32Array = new Int32Array(0);
    let en: Int32Array = new Int32Array(0);
    let cnt = 0;
    const fields: Fields = {
      text: (i) => (i < cnt ? buf.toString('utf8', st[i], en[i]) : undefined),
      value: (i) => (i < cnt ? parseDecimal(bytes, st[i], en[i]) : NaN),
      blank: (i) => {
        if (i >= cnt) return true;
        for (let k = st[i]; k < en[i]; k++) if (bytes[k] !== 32) return false;
        return true;
      },
    };
    lines = scanRecords(bytes, o.layout.width, (s0, e0, c, lineIndex) => {
      st = s0;
      en = e0;
      cnt = c;
      // a short row whose missing fields are optional is accepted (as the WASM parser does); when
      // it fails, it is named as a short row rather than by its first empty column
      const bad = fillRow(sink, o.layout, o.featureNames, D, o.intercept, fields);
      const err = bad && c < o.layout.width ? shortRow(c, o.layout.width) : bad;
      if (err) fail(o.firstLine + lineIndex, err, buf.toString('utf8', s0[0], e0[c - 1]));
    });
    if (bytes.length && bytes[bytes.length - 1] === 10) lines--;
  } else if (o.format === 'csv') {
    let records: { record: string[]; info: { lines: number } }[];
    try {
      records = parse(text, { info: true, relax_column_count: true, skip_empty_lines: true, bom: false }) as unknown as { record: string[]; info: { lines: number } }[];
    } catch (err) {
      const e = err as { lines?: number; message: string };
      throw new RepricerError('INPUT_ROW_INVALID', `${o.file}:${o.firstLine + (e.lines ?? 1) - 1}: ${e.message}`, { file: o.file, line: o.firstLine + (e.lines ?? 1) - 1 });
    }
    let prevEnd = 0;
    for (const rec of records) {
      const line = o.firstLine + prevEnd;
      prevEnd = rec.info.lines;
      const f = rec.record;
      const bad = fillRow(sink, o.layout, o.featureNames, D, o.intercept, stringFields((i) => f[i]));
      const err = bad && f.length < o.layout.width ? shortRow(f.length, o.layout.width) : bad;
      if (err) fail(line, err, f.join(','));
    }
    lines = prevEnd;
  } else {
    const rows = text.split('\n');
    const keys = o.layout.header;
    // the first object's keys are the layout; a later row with another key is an unknown column
    // (silently ignored before), unless extra columns are allowed
    const known = o.layout.extraAllowed ? undefined : new Set(keys.map((k) => k.trim()));
    for (let k = 0; k < rows.length; k++) {
      const raw = rows[k];
      if (raw.trim() === '') continue;
      const line = o.firstLine + k;
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(raw) as Record<string, unknown>;
      } catch (e) {
        fail(line, { line, column: '(json)', expected: 'a JSON object', got: raw.slice(0, 40) }, raw);
        continue;
      }
      if (known) {
        const extra = Object.keys(obj).find((key) => !known.has(key));
        if (extra !== undefined) {
          fail(line, { line, column: extra, expected: `one of the keys of the first row (${keys.join(', ')}); --allow-extra-columns ignores others`, got: typeof obj[extra] === 'string' ? (obj[extra] as string) : JSON.stringify(obj[extra]) }, raw);
          continue;
        }
      }
      const err = fillRow(
        sink, o.layout, o.featureNames, D, o.intercept,
        stringFields((i) => {
          const v = obj[keys[i]];
          return v === undefined || v === null ? undefined : typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v);
        }),
      );
      if (err) fail(line, err, raw);
    }
    lines = rows.length;
  }
  const n = sink.n;
  return {
    chunk: {
      n,
      ids: sink.ids,
      x: sink.x.subarray(0, n * D),
      cost: sink.cost.subarray(0, n),
      currentPrice: sink.cur.subarray(0, n),
      minPrice: sink.minP.subarray(0, n),
      maxPrice: sink.maxP.subarray(0, n),
      ...(sink.retail.length ? { retail: Object.fromEntries(sink.retail.map((c) => [c.key, c.out.subarray(0, n)])) as RetailColumns } : {}),
      ...(sink.segment ? { segment: { codes: sink.segment.codes.subarray(0, n), names: sink.segment.coder.names } } : {}),
      ...(sink.season ? { season: { codes: sink.season.codes.subarray(0, n), names: sink.season.coder.names } } : {}),
    },
    lines,
    rejects,
  };
}
