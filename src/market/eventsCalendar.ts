/**
 * The events calendar (docs/formats.md "Events calendar"): planned events that scale a zone's
 * demand between a start and an end, as CSV with the columns zone, start, end, multiplier and an
 * optional name. `multiplierAt(zone, time)` is the product of the multipliers of the zone's events
 * that hold at `time`, an event holding from `lead` before its start until its end, so that prices
 * can be set ahead of it (docs/math.md §2.8). Every error names the file, line and column.
 */
import { readFileSync } from 'node:fs';
import { RepricerError, readFailure, rowError } from '../core/errors.js';

export interface CalendarEvent {
  zone: string;
  /** ms since the epoch */
  start: number;
  /** ms since the epoch, after start */
  end: number;
  /** demand multiplier > 0 */
  multiplier: number;
  name: string;
  /** line of the file (1-based; the header is line 1) */
  line: number;
}

export const CALENDAR_COLUMNS = ['zone', 'start', 'end', 'multiplier', 'name'] as const;
const REQUIRED = ['zone', 'start', 'end', 'multiplier'] as const;
/** ISO 8601 date and time with an explicit offset: a calendar read in another time zone means the same instants */
/** a plain decimal (docs/formats.md's general rules: no hexadecimal, no Infinity) */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Split one CSV line into fields (RFC 4180 quotes: "a, b" and "" for a quote); null when a quote is not closed. */
export function splitCsvLine(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return null;
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ',') return null;
    } else {
      const j = line.indexOf(',', i);
      field = j < 0 ? line.slice(i) : line.slice(i, j);
      i = j < 0 ? line.length : j;
    }
    out.push(field);
    if (i >= line.length) return out;
    i++; // the comma
  }
}

/** Whether the date and clock fields name a real instant (Date.parse rolls 2026-02-30 over to March). */
function realFields(v: string): boolean {
  const [y, mo, d, h, mi] = [v.slice(0, 4), v.slice(5, 7), v.slice(8, 10), v.slice(11, 13), v.slice(14, 16)].map(Number);
  const s = v[16] === ':' ? Number(v.slice(17, 19)) : 0;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return mo >= 1 && mo <= 12 && d >= 1 && d <= days && h <= 23 && mi <= 59 && s <= 59;
}

function parseTime(file: string, line: number, column: string, v: string): number {
  const t = ISO_TIME.test(v) && realFields(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw rowError(file, line, column, 'an ISO 8601 date and time with an offset, such as 2026-03-14T18:00:00Z', v);
  return t;
}

/** Parse the text of a calendar file. */
export function parseEventsCalendar(text: string, file = 'calendar'): CalendarEvent[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw rowError(file, 1, 'header', `a header with the columns ${REQUIRED.join(',')} (and optionally name)`, '');
  const header = splitCsvLine(lines[0]);
  if (header === null) throw rowError(file, 1, 'header', 'closed quotes', lines[0]);
  const col = new Map<string, number>();
  header.forEach((h, i) => {
    const name = h.trim();
    if (!(CALENDAR_COLUMNS as readonly string[]).includes(name)) throw rowError(file, 1, `${i + 1}`, `one of the columns ${CALENDAR_COLUMNS.join(', ')}`, h);
    if (col.has(name)) throw rowError(file, 1, name, 'each column once', h);
    col.set(name, i);
  });
  for (const r of REQUIRED) if (!col.has(r)) throw rowError(file, 1, r, `a header with the columns ${REQUIRED.join(',')} (and optionally name)`, lines[0]);
  const events: CalendarEvent[] = [];
  for (let n = 1; n < lines.length; n++) {
    const line = n + 1;
    if (lines[n].trim() === '') continue;
    const f = splitCsvLine(lines[n]);
    if (f === null) throw rowError(file, line, 'row', 'closed quotes', lines[n]);
    if (f.length !== header.length) throw rowError(file, line, 'row', `${header.length} fields like the header`, lines[n]);
    const get = (c: string) => f[col.get(c)!].trim();
    const zone = get('zone');
    if (zone === '') throw rowError(file, line, 'zone', 'a non-empty zone id', f[col.get('zone')!]);
    const start = parseTime(file, line, 'start', get('start'));
    const end = parseTime(file, line, 'end', get('end'));
    if (!(end > start)) throw rowError(file, line, 'end', `a time after start (${get('start')})`, get('end'));
    const ms = get('multiplier');
    const multiplier = Number(ms);
    if (!DECIMAL.test(ms) || !Number.isFinite(multiplier) || !(multiplier > 0)) throw rowError(file, line, 'multiplier', 'a number > 0', ms);
    events.push({ zone, start, end, multiplier, name: col.has('name') ? get('name') : '', line });
  }
  return events;
}

export class EventsCalendar {
  readonly events: readonly CalendarEvent[];
  /** how long before its start an event enters `multiplierAt`, in ms */
  readonly leadMs: number;
  private readonly byZone = new Map<string, CalendarEvent[]>();

  constructor(events: readonly CalendarEvent[], leadMs = 0) {
    if (!(Number.isFinite(leadMs) && leadMs >= 0)) throw new RepricerError('INVALID_ARGUMENT', `events calendar: lead must be a time >= 0, got ${leadMs} ms`);
    this.events = events;
    this.leadMs = leadMs;
    for (const e of events) {
      const list = this.byZone.get(e.zone) ?? [];
      list.push(e);
      this.byZone.set(e.zone, list);
    }
  }

  /** The zone's events that hold at `time` (ms): start − lead ≤ time < end. */
  eventsAt(zone: string, time: number, leadMs = this.leadMs): CalendarEvent[] {
    return (this.byZone.get(zone) ?? []).filter((e) => e.start - leadMs <= time && time < e.end);
  }

  /** The product of the multipliers of the zone's events at `time` (1 when none holds); `leadMs` 0: in force now. */
  multiplierAt(zone: string, time: number, leadMs = this.leadMs): number {
    let m = 1;
    for (const e of this.eventsAt(zone, time, leadMs)) m *= e.multiplier;
    return m;
  }

  /** Every event's zone must be one of `zones`: INPUT_ROW_INVALID naming the first line that is not. */
  checkZones(zones: Iterable<string>, file = 'calendar'): void {
    const known = new Set(zones);
    for (const e of this.events) if (!known.has(e.zone)) throw rowError(file, e.line, 'zone', `one of the zones ${[...known].join(', ')}`, e.zone);
  }
}

/** Read and parse a calendar file (NOT_FOUND when missing). */
export function loadEventsCalendar(path: string, leadMs = 0): EventsCalendar {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw readFailure(path, 'events calendar', err);
  }
  return new EventsCalendar(parseEventsCalendar(text, path), leadMs);
}
