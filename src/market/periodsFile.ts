/**
 * Reader of the zone periods file (docs/formats.md "Zone periods"): CSV with one row per zone and
 * period — `zone, period_start, price, bookings, available` and an optional `exposure` — grouped by
 * zone (in order of first appearance) and sorted by period start within a zone. Every bad value
 * names the file, line and column; a duplicate (zone, period_start) is an error.
 */
import { readFileSync } from 'node:fs';
import { parse as parseCsvSync } from 'csv-parse/sync';
import { RepricerError, readFailure, rowError } from '../core/errors.js';
import { lookalike } from '../core/columnNames.js';

export const PERIOD_COLUMNS = ['zone', 'period_start', 'price', 'bookings', 'available', 'exposure'] as const;
const REQUIRED = ['zone', 'period_start', 'price', 'bookings', 'available'] as const;
/** a plain decimal (docs/formats.md, general rules): no NaN, Infinity or hexadecimal */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export interface ZonePeriods {
  zone: string;
  /** period starts as written (ISO 8601), ascending */
  periodStart: string[];
  price: Float64Array;
  bookings: Float64Array;
  available: Float64Array;
  /** e_t, 1 when the column is absent */
  exposure: Float64Array;
}

interface Row {
  start: string;
  time: number;
  price: number;
  bookings: number;
  available: number;
  exposure: number;
  line: number;
}

/** Reads and checks a periods CSV; zones in order of first appearance. */
export function readPeriodsFile(file: string): ZonePeriods[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw readFailure(file, 'periods', err);
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parseCsvSync(text, { info: true, skip_empty_lines: true, relax_column_count: false, bom: true }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    throw new RepricerError('INPUT_UNREADABLE', `${file}: not a well-formed CSV: ${(err as Error).message}`, { file });
  }
  if (records.length === 0) throw new RepricerError('INPUT_UNREADABLE', `${file}: empty; expected a header ${REQUIRED.join(',')}[,exposure]`, { file });
  const header = records[0].record.map((h) => h.trim());
  const col = new Map<string, number>();
  header.forEach((h, i) => {
    if (col.has(h)) throw new RepricerError('INPUT_UNREADABLE', `${file}: column ${h} appears twice in the header`, { file, column: h });
    col.set(h, i);
  });
  for (const h of header) {
    if ((PERIOD_COLUMNS as readonly string[]).includes(h)) continue;
    const like = lookalike(h, PERIOD_COLUMNS);
    throw new RepricerError('INPUT_UNREADABLE', `${file}: unknown column ${h}${like ? ` (did you mean ${like}?)` : ''}; expected ${PERIOD_COLUMNS.join(', ')}`, { file, column: h });
  }
  for (const r of REQUIRED) if (!col.has(r)) throw new RepricerError('INPUT_UNREADABLE', `${file}: missing column ${r}; expected a header with ${REQUIRED.join(',')} (exposure optional)`, { file, column: r });

  const zones = new Map<string, Row[]>();
  for (let k = 1; k < records.length; k++) {
    const { record, info } = records[k];
    const line = info.lines;
    const cell = (name: string): string => record[col.get(name)!].trim();
    const zone = cell('zone');
    if (zone === '') throw rowError(file, line, 'zone', 'a non-empty zone id', zone);
    const start = cell('period_start');
    const time = Date.parse(start);
    if (!/^\d{4}-\d{2}-\d{2}/.test(start) || Number.isNaN(time)) throw rowError(file, line, 'period_start', 'an ISO 8601 date or time', start);
    const num = (name: string, expected: string, ok: (x: number) => boolean): number => {
      const s = cell(name);
      const x = DECIMAL.test(s) ? Number(s) : NaN;
      if (!ok(x)) throw rowError(file, line, name, expected, s);
      return x;
    };
    const price = num('price', 'a finite number > 0', (x) => Number.isFinite(x) && x > 0);
    const available = num('available', 'an integer >= 0', (x) => Number.isInteger(x) && x >= 0);
    const bookings = num('bookings', `an integer in [0, available = ${available}]`, (x) => Number.isInteger(x) && x >= 0 && x <= available);
    const exposure = col.has('exposure') ? num('exposure', 'a finite number > 0', (x) => Number.isFinite(x) && x > 0) : 1;
    let rows = zones.get(zone);
    if (!rows) zones.set(zone, (rows = []));
    rows.push({ start, time, price, bookings, available, exposure, line });
  }
  if (zones.size === 0) throw new RepricerError('INPUT_UNREADABLE', `${file}: no period rows after the header`, { file });
  const out: ZonePeriods[] = [];
  for (const [zone, rows] of zones) {
    rows.sort((a, b) => a.time - b.time || a.line - b.line);
    for (let i = 1; i < rows.length; i++) {
      if (rows[i].time === rows[i - 1].time) throw rowError(file, rows[i].line, 'period_start', `a period start not already given for zone ${zone} (line ${rows[i - 1].line})`, rows[i].start);
    }
    out.push({
      zone,
      periodStart: rows.map((r) => r.start),
      price: Float64Array.from(rows, (r) => r.price),
      bookings: Float64Array.from(rows, (r) => r.bookings),
      available: Float64Array.from(rows, (r) => r.available),
      exposure: Float64Array.from(rows, (r) => r.exposure),
    });
  }
  return out;
}
