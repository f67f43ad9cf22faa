/**
 * The market event log (docs/formats.md "Market event log"): one row per search, view, booking or
 * listing, as CSV (csv-parse, or split by hand when no cell is quoted) or NDJSON (one JSON object
 * per line). Every cell is checked and a bad one stops the read with INPUT_UNREADABLE naming the
 * file, the line, the column and what was expected. The result is columnar: zones, assets and items coded as integers into
 * dictionaries (in order of first appearance), times as epoch milliseconds, numbers as
 * Float64Array with NaN for an empty optional cell; rows stay in file order.
 *
 * The booking convention (why `booked` is redundant with `type` and still checked): a search that
 * ends in a booking is logged once, as its `booking` row, so the trials of the booking model
 * (docs/math.md §2.6) are the `search` rows with a shown price (not booked) and the `booking` rows
 * (booked); `booked` must say the same as `type`, which catches a column shifted by one.
 */
import { readFileSync, statSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { RepricerError, readFailure } from '../core/errors.js';
import { assetIdProblem, zoneIdProblem } from './segments.js';

export const EVENT_TYPES = ['search', 'view', 'booking', 'listing'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const EVENT_SEARCH = 0;
export const EVENT_VIEW = 1;
export const EVENT_BOOKING = 2;
export const EVENT_LISTING = 3;

/** Columns every event log has (in any order). */
export const EVENT_REQUIRED_COLUMNS = ['time', 'type', 'zone', 'asset', 'item_id', 'price_shown', 'booked'] as const;
/** Columns an event log may have; other columns are ignored. */
export const EVENT_OPTIONAL_COLUMNS = ['available', 'quantity', 'competitor_price'] as const;
type EventColumn = (typeof EVENT_REQUIRED_COLUMNS)[number] | (typeof EVENT_OPTIONAL_COLUMNS)[number];
const ALL_COLUMNS: readonly EventColumn[] = [...EVENT_REQUIRED_COLUMNS, ...EVENT_OPTIONAL_COLUMNS];

export type EventLogFormat = 'csv' | 'ndjson';

/** A read event log, one entry per row in file order. */
export interface EventLog {
  file: string;
  n: number;
  /** epoch milliseconds (UTC) */
  time: Float64Array;
  /** index into EVENT_TYPES */
  type: Uint8Array;
  zones: string[];
  zone: Int32Array;
  assets: string[];
  asset: Int32Array;
  items: string[];
  /** index into items; -1 for an empty item_id */
  item: Int32Array;
  /** NaN when empty (a search that showed no price) */
  priceShown: Float64Array;
  booked: Uint8Array;
  /** NaN when empty */
  available: Float64Array;
  /** units offered (listing rows); NaN on other rows */
  quantity: Float64Array;
  /** NaN when empty */
  competitorPrice: Float64Array;
}

/** An error in one cell: INPUT_UNREADABLE naming file, line, column and what was expected. */
export function eventCellError(file: string, line: number, column: string, expected: string, got: string): RepricerError {
  return new RepricerError('INPUT_UNREADABLE', `${file}:${line}: column ${column}: expected ${expected}, got ${JSON.stringify(got)}`, { file, line, column, expected, got });
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Epoch ms of an ISO 8601 date-time with a zone (Z or ±hh:mm), or NaN when it is not one (Feb 30 is not). */
export function parseIsoTime(s: string): number {
  const m = ISO.exec(s);
  if (!m) return NaN;
  const [y, mo, d, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  const sec = m[6] === undefined ? 0 : Number(m[6]);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return NaN;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const daysInMonth = mo === 2 ? (leap ? 29 : 28) : mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
  if (d > daysInMonth) return NaN;
  let offset = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[8].slice(1, 3));
    const om = Number(m[8].slice(4, 6));
    if (oh > 23 || om > 59) return NaN;
    offset = (m[8][0] === '-' ? -1 : 1) * (oh * 60 + om) * 60000;
  }
  const frac = m[7] === undefined ? 0 : Math.round(Number(m[7]) * 1000);
  return Date.UTC(y, mo - 1, d, h, mi, sec) + frac - offset;
}

class Dictionary {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  code(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}

/** Collects checked rows into growable columns. */
class EventBuilder {
  time: number[] = [];
  type: number[] = [];
  zone: number[] = [];
  asset: number[] = [];
  item: number[] = [];
  price: number[] = [];
  booked: number[] = [];
  available: number[] = [];
  quantity: number[] = [];
  competitor: number[] = [];
  zones = new Dictionary();
  assets = new Dictionary();
  items = new Dictionary();

  constructor(readonly file: string) {}

  /** Check one row; `cell(c)` is the cell of column c as text ('' when empty or absent). */
  add(line: number, cell: (c: EventColumn) => string): void {
    const file = this.file;
    const bad = (c: EventColumn, expected: string): never => {
      throw eventCellError(file, line, c, expected, cell(c));
    };
    const t = parseIsoTime(cell('time'));
    if (!Number.isFinite(t)) bad('time', 'an ISO 8601 date-time with a time zone, such as 2026-03-01T18:30:00Z');
    const typeText = cell('type');
    const type = (EVENT_TYPES as readonly string[]).indexOf(typeText);
    if (type < 0) bad('type', `one of ${EVENT_TYPES.join(', ')}`);
    const zone = cell('zone');
    const zp = zoneIdProblem(zone);
    if (zp) bad('zone', zp);
    const asset = cell('asset');
    const ap = assetIdProblem(asset);
    if (ap) bad('asset', ap);
    const item = cell('item_id');
    if (item === '' && type !== EVENT_SEARCH) bad('item_id', `an item id on a ${typeText} row`);
    const number = (c: EventColumn, what: string, ok: (x: number) => boolean, required: boolean): number => {
      // surrounding spaces are allowed around a number (docs/formats.md, general rules)
      const s = cell(c).trim();
      if (s === '') return required ? bad(c, what) : NaN;
      const x = DECIMAL.test(s) ? Number(s) : NaN;
      if (!Number.isFinite(x) || !ok(x)) bad(c, required ? what : `${what} or an empty cell`);
      return x;
    };
    const price = number('price_shown', type === EVENT_SEARCH ? 'a price > 0' : `a price > 0 on a ${typeText} row`, (x) => x > 0, type !== EVENT_SEARCH);
    const bookedText = cell('booked');
    const shouldBook = type === EVENT_BOOKING ? '1' : '0';
    if (bookedText !== shouldBook) bad('booked', `${shouldBook} on a ${typeText} row (1 exactly on booking rows)`);
    const available = number('available', 'a whole number of units >= 0', (x) => Number.isInteger(x) && x >= 0, false);
    let quantity = NaN;
    if (type === EVENT_LISTING) quantity = number('quantity', 'a whole number of units >= 1 on a listing row', (x) => Number.isInteger(x) && x >= 1, true);
    else if (cell('quantity') !== '') bad('quantity', `an empty cell on a ${typeText} row (quantity is for listing rows)`);
    const competitor = number('competitor_price', 'a price > 0', (x) => x > 0, false);
    this.time.push(t);
    this.type.push(type);
    this.zone.push(this.zones.code(zone));
    this.asset.push(this.assets.code(asset));
    this.item.push(item === '' ? -1 : this.items.code(item));
    this.price.push(price);
    this.booked.push(type === EVENT_BOOKING ? 1 : 0);
    this.available.push(available);
    this.quantity.push(quantity);
    this.competitor.push(competitor);
  }

  finish(): EventLog {
    return {
      file: this.file,
      n: this.time.length,
      time: Float64Array.from(this.time),
      type: Uint8Array.from(this.type),
      zones: this.zones.values,
      zone: Int32Array.from(this.zone),
      assets: this.assets.values,
      asset: Int32Array.from(this.asset),
      items: this.items.values,
      item: Int32Array.from(this.item),
      priceShown: Float64Array.from(this.price),
      booked: Uint8Array.from(this.booked),
      available: Float64Array.from(this.available),
      quantity: Float64Array.from(this.quantity),
      competitorPrice: Float64Array.from(this.competitor),
    };
  }
}

/** The format of an event log file by its extension: .ndjson and .jsonl are NDJSON, anything else CSV. */
export function eventLogFormatOf(file: string): EventLogFormat {
  return /\.(ndjson|jsonl)$/i.test(file) ? 'ndjson' : 'csv';
}

/** The header, then each record of a CSV into the builder (shared by the two CSV paths below). */
class CsvEventSink {
  private pos: Record<EventColumn, number> | undefined;
  private width = 0;

  constructor(
    private readonly file: string,
    private readonly b: EventBuilder,
  ) {}

  get sawHeader(): boolean {
    return this.pos !== undefined;
  }

  record(cells: string[], line: number): void {
    const file = this.file;
    if (!this.pos) {
      const header = new Map<string, number>();
      this.width = cells.length;
      cells.forEach((name, i) => {
        const c = name.trim();
        if (header.has(c)) throw eventCellError(file, line, c, 'each column once in the header', c);
        header.set(c, i);
      });
      const missing = EVENT_REQUIRED_COLUMNS.filter((c) => !header.has(c));
      if (missing.length) throw new RepricerError('INPUT_UNREADABLE', `${file}:${line}: the header lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (expected ${EVENT_REQUIRED_COLUMNS.join(', ')} and optionally ${EVENT_OPTIONAL_COLUMNS.join(', ')})`, { file, line });
      this.pos = Object.fromEntries(ALL_COLUMNS.map((c) => [c, header.get(c) ?? -1])) as Record<EventColumn, number>;
      return;
    }
    if (cells.length !== this.width) throw new RepricerError('INPUT_UNREADABLE', `${file}:${line}: expected ${this.width} fields as in the header, got ${cells.length}`, { file, line });
    const pos = this.pos;
    this.b.add(line, (c) => {
      const i = pos[c];
      return i < 0 ? '' : cells[i];
    });
  }
}

/**
 * A CSV without a double quote and without a lone carriage return is split by hand: lines at \n
 * (a \r before it dropped), cells at commas, which is what csv-parse makes of such a file (the
 * test holds the two to the same columns); csv-parse reads every other file. The split path reads
 * about three times faster (bench/RESULTS.md, "Booking-model fit").
 */
function parseCsvEvents(text: string, file: string, force?: 'csv-parse'): EventLog {
  const b = new EventBuilder(file);
  const sink = new CsvEventSink(file, b);
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (force === undefined && !body.includes('"') && !/\r(?!\n)/.test(body)) {
    let start = 0;
    let line = 0;
    while (start < body.length) {
      let end = body.indexOf('\n', start);
      if (end < 0) end = body.length;
      line++;
      const raw = body.charCodeAt(end - 1) === 13 ? body.slice(start, end - 1) : body.slice(start, end);
      start = end + 1;
      if (raw === '') continue;
      sink.record(raw.split(','), line);
    }
  } else {
    try {
      parse(text, {
        bom: true,
        skip_empty_lines: true,
        relax_column_count: true,
        on_record: (record: string[], ctx) => {
          sink.record(record, ctx.lines);
          return null;
        },
      });
    } catch (err) {
      if (err instanceof RepricerError) throw err;
      const e = err as { code?: string; lines?: number; message?: string };
      throw new RepricerError('INPUT_UNREADABLE', `${file}:${e.lines ?? '?'}: malformed CSV (${e.message ?? e.code ?? String(err)})`, { file, line: e.lines });
    }
  }
  if (!sink.sawHeader) throw new RepricerError('INPUT_UNREADABLE', `${file}: empty file (expected a header row: ${EVENT_REQUIRED_COLUMNS.join(',')})`, { file, line: 1 });
  return b.finish();
}

/** The CSV reader through csv-parse for every file (the definition the split path is held to). */
export function parseEventLogCsvReference(text: string, file: string): EventLog {
  return parseCsvEvents(text, file, 'csv-parse');
}

const TEXT_COLUMNS: ReadonlySet<EventColumn> = new Set(['time', 'type', 'zone', 'asset', 'item_id']);

function parseNdjsonEvents(text: string, file: string): EventLog {
  const b = new EventBuilder(file);
  const lines = text.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k].replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const line = k + 1;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (err) {
      throw new RepricerError('INPUT_UNREADABLE', `${file}:${line}: not a JSON object (${(err as Error).message})`, { file, line });
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new RepricerError('INPUT_UNREADABLE', `${file}:${line}: expected one JSON object per line`, { file, line });
    const o = obj as Record<string, unknown>;
    for (const c of EVENT_REQUIRED_COLUMNS) {
      if (!(c in o) && c !== 'item_id' && c !== 'price_shown') throw eventCellError(file, line, c, 'a value (the key is missing)', '');
    }
    // JSON types are checked here; the values then go through the same checks as a CSV cell
    const cells = new Map<EventColumn, string>();
    for (const c of ALL_COLUMNS) {
      const v = o[c];
      if (v === undefined || v === null) cells.set(c, '');
      else if (TEXT_COLUMNS.has(c)) {
        if (typeof v !== 'string') throw eventCellError(file, line, c, 'a JSON string', JSON.stringify(v));
        cells.set(c, v);
      } else {
        if (typeof v !== 'number') throw eventCellError(file, line, c, 'a JSON number or null', JSON.stringify(v));
        cells.set(c, String(v));
      }
    }
    b.add(line, (c) => cells.get(c) ?? '');
  }
  return b.finish();
}

/** Parse an event log held in memory; `file` names it in messages. */
export function parseEventLog(text: string, file: string, format: EventLogFormat = eventLogFormatOf(file)): EventLog {
  return format === 'ndjson' ? parseNdjsonEvents(text, file) : parseCsvEvents(text, file);
}

/** Read an event log file (format by extension unless given). A missing file is NOT_FOUND. */
export function readEventLog(file: string, format?: EventLogFormat): EventLog {
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new RepricerError('INPUT_UNREADABLE', `${file}: not a file (expected an event log .csv or .ndjson)`, { file });
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof RepricerError) throw err;
    throw readFailure(file, 'event log', err);
  }
  return parseEventLog(text, file, format ?? eventLogFormatOf(file));
}

