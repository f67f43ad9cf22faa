/**
 * Reader of the observations file (README "Files", Observations): CSV (streamed through csv-parse)
 * or Parquet (hyparquet), into the column layout the likelihood kernels take
 * (`ObservationColumns`: row-major design matrix with the intercept column first, `won` as 0/1,
 * `competitor` NaN on lost rows).
 *
 * Every malformed row stops the read with an INPUT_ROW_INVALID error naming file, line and column
 * (CSV: 1-based physical line, the header is line 1; Parquet: 1-based row number). Checked:
 * non-numbers in numeric columns (empty, `NaN`, `Infinity`, hex and trailing junk are all
 * non-numbers), `won` other than 0/1/true/false, a won row without `competitor_price`, a negative
 * weight, an empty `product_id`, a row with the wrong number of fields. Missing required or
 * requested columns are reported against line 1 (INPUT_UNREADABLE).
 *
 * On a lost row (`won` = 0) `competitor_price` should be empty (censored: we only know y < p); a
 * number there must still parse but is ignored.
 */
import { createReadStream, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse';
import { RepricerError, readFailure, rowError } from '../core/errors.js';
import { lookalike } from '../core/columnNames.js';
import type { ObservationColumns } from '../core/likelihood.js';

/** Columns with a fixed meaning; every other column is a feature by default. */
export const RESERVED_COLUMNS = ['product_id', 'price', 'won', 'competitor_price', 'weight'] as const;
const REQUIRED_COLUMNS = ['product_id', 'price', 'won', 'competitor_price'] as const;

export interface ReadObservationsOptions {
  /** Feature columns in model order; default: every non-reserved column in header order. */
  features?: string[];
  /** Prepend a constant-1 column to the design matrix (default true). */
  intercept?: boolean;
  /**
   * With `features`, accept (and ignore) the columns that are neither reserved nor among the
   * features (default: an error naming them). A look-alike of a missing reserved column stays an
   * error.
   */
  allowExtraColumns?: boolean;
}

export interface ObservationTable {
  file: string;
  format: 'csv' | 'parquet';
  features: string[];
  intercept: boolean;
  /** Rows as the likelihood takes them; `d` = features.length + (intercept ? 1 : 0). */
  columns: ObservationColumns;
  /** Distinct product ids in order of first appearance. */
  productIds: string[];
  /** Per row: index into `productIds`. */
  product: Int32Array;
  /** Per row: source line (CSV) or 1-based row number (Parquet), for later diagnostics. */
  lines: Int32Array;
}

/**
 * Strict decimal parse: `[+-]digits[.digits][(e|E)[+-]digits]`, surrounding spaces allowed; NaN
 * for anything else (empty, `NaN`, `Infinity`, hex/octal/binary literals, junk, overflow). A
 * hand-written scanner: this runs once per cell, and a regex plus trim() doubled the read time.
 */
export function parseDecimal(s: string): number {
  let i = 0;
  let end = s.length;
  while (i < end && s.charCodeAt(i) === 32) i++;
  while (end > i && s.charCodeAt(end - 1) === 32) end--;
  if (i === end) return NaN;
  let k = i;
  let c = s.charCodeAt(k);
  if (c === 43 || c === 45) c = s.charCodeAt(++k); // + -
  let digits = 0;
  while (k < end && c >= 48 && c <= 57) {
    digits++;
    c = s.charCodeAt(++k);
  }
  if (k < end && c === 46) {
    c = s.charCodeAt(++k); // .
    while (k < end && c >= 48 && c <= 57) {
      digits++;
      c = s.charCodeAt(++k);
    }
  }
  if (digits === 0) return NaN;
  if (k < end && (c === 101 || c === 69)) {
    c = s.charCodeAt(++k); // e E
    if (c === 43 || c === 45) c = s.charCodeAt(++k);
    let ed = 0;
    while (k < end && c >= 48 && c <= 57) {
      ed++;
      c = s.charCodeAt(++k);
    }
    if (ed === 0) return NaN;
  }
  if (k !== end) return NaN;
  const v = Number(i === 0 && end === s.length ? s : s.slice(i, end));
  return Number.isFinite(v) ? v : NaN;
}

/** `won` cell: 0/1/true/false (any case); -1 for anything else. */
export function parseWon(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === '1' || t === 'true') return 1;
  if (t === '0' || t === 'false') return 0;
  return -1;
}

/** Growable column store; finalised into exact-length typed arrays. */
class Builder {
  n = 0;
  private cap = 1024;
  x: Float64Array;
  won = new Float64Array(this.cap);
  price = new Float64Array(this.cap);
  competitor = new Float64Array(this.cap);
  weight = new Float64Array(this.cap);
  product = new Int32Array(this.cap);
  lines = new Int32Array(this.cap);
  private readonly ids = new Map<string, number>();
  readonly productIds: string[] = [];
  anyWeight = false;

  constructor(readonly D: number) {
    this.x = new Float64Array(this.cap * D);
  }

  private grow(): void {
    const cap = this.cap * 2;
    const g = <T extends Float64Array | Int32Array>(a: T, k = 1): T => {
      const b = new (a.constructor as new (n: number) => T)(cap * k);
      b.set(a);
      return b;
    };
    this.x = g(this.x, this.D);
    this.won = g(this.won);
    this.price = g(this.price);
    this.competitor = g(this.competitor);
    this.weight = g(this.weight);
    this.product = g(this.product);
    this.lines = g(this.lines);
    this.cap = cap;
  }

  /** Reserve the next row; returns its index. */
  next(): number {
    if (this.n === this.cap) this.grow();
    return this.n++;
  }

  productIndex(id: string): number {
    let k = this.ids.get(id);
    if (k === undefined) {
      k = this.productIds.length;
      this.ids.set(id, k);
      this.productIds.push(id);
    }
    return k;
  }

  finish(file: string, format: 'csv' | 'parquet', features: string[], intercept: boolean): ObservationTable {
    const n = this.n;
    const columns: ObservationColumns = {
      n,
      d: this.D,
      x: this.x.slice(0, n * this.D),
      won: this.won.slice(0, n),
      price: this.price.slice(0, n),
      competitor: this.competitor.slice(0, n),
    };
    if (this.anyWeight) columns.weight = this.weight.slice(0, n);
    return { file, format, features, intercept, columns, productIds: this.productIds, product: this.product.slice(0, n), lines: this.lines.slice(0, n) };
  }
}

interface Layout {
  features: string[];
  featureIdx: number[];
  iProduct: number;
  iPrice: number;
  iWon: number;
  iComp: number;
  iWeight: number;
  width: number;
}

function layoutFromHeader(file: string, header: string[], opts: ReadObservationsOptions): Layout {
  const names = header.map((h) => h.trim());
  const seen = new Set<string>();
  for (const h of names) {
    if (h === '') throw new RepricerError('INPUT_UNREADABLE', `${file}:1: empty column name in the header`, { file, line: 1 });
    if (seen.has(h)) throw new RepricerError('INPUT_UNREADABLE', `${file}:1: column ${JSON.stringify(h)} appears twice in the header`, { file, line: 1, column: h });
    seen.add(h);
  }
  // a column that looks like a reserved one that is absent: a misspelt `weight` or `won` would
  // otherwise be read as a feature (or ignored) in silence
  const absent = RESERVED_COLUMNS.filter((c) => !seen.has(c));
  for (const h of names) {
    const meant = lookalike(h, absent);
    if (meant !== undefined && !opts.features?.includes(h)) {
      throw new RepricerError('INPUT_UNREADABLE', `${file}:1: column ${JSON.stringify(h)} looks like ${JSON.stringify(meant)}, which is missing: rename it`, { file, line: 1, column: h, expected: meant });
    }
  }
  for (const c of REQUIRED_COLUMNS) {
    if (!seen.has(c)) {
      throw new RepricerError('INPUT_UNREADABLE', `${file}:1: missing column ${JSON.stringify(c)} (header: ${names.join(',')})`, { file, line: 1, column: c });
    }
  }
  const reserved = new Set<string>(RESERVED_COLUMNS);
  const features = opts.features ?? names.filter((h) => !reserved.has(h));
  for (const f of features) {
    if (reserved.has(f)) throw new RepricerError('INVALID_ARGUMENT', `features: ${JSON.stringify(f)} is a reserved column, not a feature`);
    if (!seen.has(f)) {
      throw new RepricerError('INPUT_UNREADABLE', `${file}:1: missing feature column ${JSON.stringify(f)} (header: ${names.join(',')})`, { file, line: 1, column: f });
    }
  }
  if (new Set(features).size !== features.length) throw new RepricerError('INVALID_ARGUMENT', `features: duplicate names in ${features.join(',')}`);
  // with a feature list, any other column would be ignored: an error unless asked for
  const wanted = new Set<string>([...RESERVED_COLUMNS, ...features]);
  const extra = names.filter((h) => !wanted.has(h));
  if (extra.length && !opts.allowExtraColumns) {
    const them = extra.length > 1 ? 'them' : 'it';
    throw new RepricerError(
      'INPUT_UNREADABLE',
      `${file}:1: unexpected column${extra.length > 1 ? 's' : ''} ${extra.map((h) => JSON.stringify(h)).join(', ')}: with --features, observations have product_id, price, won, competitor_price, optionally weight, and the features ${features.join(', ')}; remove ${them}, add ${them} to --features, or pass --allow-extra-columns to ignore ${them}`,
      { file, line: 1, columns: extra },
    );
  }
  return {
    features,
    featureIdx: features.map((f) => names.indexOf(f)),
    iProduct: names.indexOf('product_id'),
    iPrice: names.indexOf('price'),
    iWon: names.indexOf('won'),
    iComp: names.indexOf('competitor_price'),
    iWeight: names.indexOf('weight'),
    width: names.length,
  };
}

/** A cell as the row parser sees it: a string from CSV, or a typed Parquet value. */
type Cell = string | number | bigint | boolean | null | undefined;

function cellString(v: Cell): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : String(v);
}

function cellNumber(v: Cell): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return parseDecimal(v);
  return NaN;
}

function cellEmpty(v: Cell): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '') || (typeof v === 'number' && Number.isNaN(v));
}

function cellWon(v: Cell): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v) === 1 ? 1 : Number(v) === 0 ? 0 : -1;
  if (typeof v === 'string') return parseWon(v);
  return -1;
}

/** Validate one row and append it. `line` is what errors report. */
function addRow(b: Builder, L: Layout, file: string, line: number, cells: ArrayLike<Cell>, intercept: boolean): void {
  const id = cellString(cells[L.iProduct]).trim();
  if (id === '') throw rowError(file, line, 'product_id', 'a non-empty product id', cellString(cells[L.iProduct]));
  const price = cellNumber(cells[L.iPrice]);
  if (!Number.isFinite(price)) throw rowError(file, line, 'price', 'a number', cellString(cells[L.iPrice]));
  const won = cellWon(cells[L.iWon]);
  if (won < 0) throw rowError(file, line, 'won', '0, 1, true or false', cellString(cells[L.iWon]));
  const compCell = cells[L.iComp];
  let comp = NaN;
  if (won === 1) {
    if (cellEmpty(compCell)) throw rowError(file, line, 'competitor_price', 'a number (required when won = 1)', cellString(compCell));
    comp = cellNumber(compCell);
    if (!Number.isFinite(comp)) throw rowError(file, line, 'competitor_price', 'a number', cellString(compCell));
  } else if (!cellEmpty(compCell) && !Number.isFinite(cellNumber(compCell))) {
    throw rowError(file, line, 'competitor_price', 'a number or empty', cellString(compCell));
  }
  let weight = 1;
  if (L.iWeight >= 0 && !cellEmpty(cells[L.iWeight])) {
    weight = cellNumber(cells[L.iWeight]);
    if (!Number.isFinite(weight) || weight < 0) throw rowError(file, line, 'weight', 'a number >= 0', cellString(cells[L.iWeight]));
    if (weight !== 1) b.anyWeight = true;
  }
  const r = b.next();
  const D = b.D;
  let o = r * D;
  if (intercept) b.x[o++] = 1;
  const fi = L.featureIdx;
  for (let j = 0; j < fi.length; j++) {
    const v = cellNumber(cells[fi[j]]);
    if (!Number.isFinite(v)) {
      b.n--; // drop the half-written row
      throw rowError(file, line, L.features[j], 'a number', cellString(cells[fi[j]]));
    }
    b.x[o++] = v;
  }
  b.price[r] = price;
  b.won[r] = won;
  b.competitor[r] = comp;
  b.weight[r] = weight;
  b.product[r] = b.productIndex(id);
  b.lines[r] = line;
}

function formatOf(file: string): 'csv' | 'parquet' {
  const e = extname(file).toLowerCase();
  if (e === '.parquet' || e === '.pq') return 'parquet';
  return 'csv';
}

/** Read an observations file (.csv or .parquet by extension). */
export async function readObservations(file: string, opts: ReadObservationsOptions = {}): Promise<ObservationTable> {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (err) {
    throw readFailure(file, 'observations', err);
  }
  if (!isFile) throw new RepricerError('INPUT_UNREADABLE', `${file}: not a file (expected an observations .csv or .parquet)`, { file });
  return formatOf(file) === 'parquet' ? readParquet(file, opts) : readCsv(file, opts);
}

async function readCsv(file: string, opts: ReadObservationsOptions): Promise<ObservationTable> {
  const intercept = opts.intercept ?? true;
  const source = createReadStream(file);
  const parser = source.pipe(parse({ bom: true, skip_empty_lines: true, relax_column_count: true, info: true, trim: false }));
  // pipe() does not forward the source's errors: without this a read error (EIO, EISDIR) would
  // leave the loop below waiting forever and surface as an unhandled error
  source.on('error', (err) => parser.destroy(err));
  let L: Layout | undefined;
  let b: Builder | undefined;
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const cells = rec.record;
      const line = rec.info.lines;
      if (!L) {
        L = layoutFromHeader(file, cells, opts);
        b = new Builder(L.features.length + (intercept ? 1 : 0));
        continue;
      }
      if (cells.length !== L.width) {
        throw rowError(file, line, `(${cells.length} fields)`, `${L.width} fields as in the header`, cells.join(','));
      }
      addRow(b!, L, file, line, cells, intercept);
    }
  } catch (err) {
    parser.destroy();
    if (err instanceof RepricerError) throw err;
    const e = err as { code?: string; lines?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new RepricerError('INPUT_UNREADABLE', `${file}:${e.lines ?? '?'}: malformed CSV (${e.message ?? e.code})`, { file, line: e.lines });
    }
    throw new RepricerError('INPUT_UNREADABLE', `${file}: cannot read observations (${e.message ?? String(err)})`, { file });
  }
  if (!L || !b) throw new RepricerError('INPUT_UNREADABLE', `${file}: empty file (no header row)`, { file, line: 1 });
  return b.finish(file, 'csv', L.features, intercept);
}

async function readParquet(file: string, opts: ReadObservationsOptions): Promise<ObservationTable> {
  const intercept = opts.intercept ?? true;
  const { asyncBufferFromFile, parquetMetadataAsync, parquetSchema, parquetRead } = await import('hyparquet');
  let header: string[];
  let rows: Cell[][] = [];
  try {
    const buf = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buf);
    header = parquetSchema(metadata).children.map((c) => c.element.name);
    const L0 = layoutFromHeader(file, header, opts);
    const cols = [...new Set([...L0.featureIdx.map((k) => header[k]), 'product_id', 'price', 'won', 'competitor_price', ...(L0.iWeight >= 0 ? ['weight'] : [])])];
    header = cols;
    await parquetRead({
      file: buf,
      metadata,
      columns: cols,
      rowFormat: 'array',
      onComplete: (r: unknown[][]) => {
        rows = r as Cell[][];
      },
    });
  } catch (err) {
    if (err instanceof RepricerError) throw err;
    throw new RepricerError('INPUT_UNREADABLE', `${file}: not a readable Parquet file (${(err as Error).message})`, { file });
  }
  const L = layoutFromHeader(file, header, opts);
  const b = new Builder(L.features.length + (intercept ? 1 : 0));
  for (let r = 0; r < rows.length; r++) addRow(b, L, file, r + 1, rows[r], intercept);
  return b.finish(file, 'parquet', L.features, intercept);
}
