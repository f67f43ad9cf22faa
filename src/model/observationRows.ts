/**
 * One observation row as both readers take it (observations.ts streams the reference path,
 * observationsCsv.ts the WASM block path): the column layout from the header, the row rules and
 * their error messages, and the growable column store rows are appended to.
 */
import { RepricerError, rowError } from '../core/errors.js';
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
  /**
   * What errors call the input in place of its path (default: the path). The server reads an
   * upload from a temporary file and names it `upload`, so a message says `upload:7` and not a
   * temporary path the client never saw.
   */
  name?: string;
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

/** Growable column store; finalised into exact-length typed arrays (views when nearly full). */
export class Builder {
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

  /** Capacity for `rows` rows at least (a reader that can estimate its row count saves the doublings). */
  expect(rows: number): void {
    if (rows > this.cap) this.grow(Math.ceil(rows));
  }

  private grow(to = this.cap * 2): void {
    const cap = to;
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

  /** Room for k more rows; returns the index of the first. */
  reserve(k: number): number {
    while (this.n + k > this.cap) this.grow();
    const r = this.n;
    this.n += k;
    return r;
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

  /** The first k entries: a view when the slack is small (no copy of a 160 MB x), else a copy. */
  private cut<T extends Float64Array | Int32Array>(a: T, k: number): T {
    return (k >= 0.9 * a.length ? a.subarray(0, k) : a.slice(0, k)) as T;
  }

  finish(file: string, format: 'csv' | 'parquet', features: string[], intercept: boolean): ObservationTable {
    const n = this.n;
    const columns: ObservationColumns = {
      n,
      d: this.D,
      x: this.cut(this.x, n * this.D),
      won: this.cut(this.won, n),
      price: this.cut(this.price, n),
      competitor: this.cut(this.competitor, n),
    };
    if (this.anyWeight) columns.weight = this.cut(this.weight, n);
    return { file, format, features, intercept, columns, productIds: this.productIds, product: this.cut(this.product, n), lines: this.cut(this.lines, n) };
  }
}

export interface Layout {
  features: string[];
  featureIdx: number[];
  iProduct: number;
  iPrice: number;
  iWon: number;
  iComp: number;
  iWeight: number;
  width: number;
}

export function layoutFromHeader(file: string, header: string[], opts: ReadObservationsOptions): Layout {
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
export type Cell = string | number | bigint | boolean | null | undefined;

/** The reference reader's reading of one cell (both readers use these rules). */
export function cellString(v: Cell): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : String(v);
}

export function cellNumber(v: Cell): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return parseDecimal(v);
  return NaN;
}

export function cellEmpty(v: Cell): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '') || (typeof v === 'number' && Number.isNaN(v));
}

export function cellWon(v: Cell): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v) === 1 ? 1 : Number(v) === 0 ? 0 : -1;
  if (typeof v === 'string') return parseWon(v);
  return -1;
}

/** Validate one row and append it. `line` is what errors report. */
export function addRow(b: Builder, L: Layout, file: string, line: number, cells: ArrayLike<Cell>, intercept: boolean): void {
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

