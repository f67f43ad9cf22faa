/**
 * The events calendar (src/market/eventsCalendar.ts, docs/formats.md "Events calendar"): parsing
 * (columns in any order, quoted names, blank lines), every error naming file, line and column,
 * and the scheduled multiplier: events multiply, hold from `lead` before their start until their
 * end, and the multiplier in force (lead 0) starts at the start.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventsCalendar, loadEventsCalendar, parseEventsCalendar, splitCsvLine } from '../src/market/eventsCalendar.js';
import { RepricerError } from '../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'repricer-calendar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const H = 3600_000;
const T = (s: string) => Date.parse(s);

const text = [
  'zone,start,end,multiplier,name',
  'north,2026-03-14T18:00:00Z,2026-03-15T00:00:00Z,1.5,"Cup final, city stadium"',
  'north,2026-03-14T20:00:00+01:00,2026-03-16T00:00:00Z,1.2,festival',
  '',
  'south,2026-03-20T00:00:00Z,2026-03-21T00:00:00Z,0.7,"road works ""phase 2"""',
].join('\n');

function errorOf(f: () => unknown): RepricerError {
  try {
    f();
  } catch (e) {
    if (e instanceof RepricerError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('events calendar file', () => {
  it('parses rows, quoted names and offsets', () => {
    const ev = parseEventsCalendar(text, 'cal.csv');
    expect(ev.map((e) => [e.zone, e.line, e.multiplier, e.name])).toEqual([
      ['north', 2, 1.5, 'Cup final, city stadium'],
      ['north', 3, 1.2, 'festival'],
      ['south', 5, 0.7, 'road works "phase 2"'],
    ]);
    expect(ev[1].start).toBe(T('2026-03-14T19:00:00Z'));
  });

  it('takes the columns in any order, and the name is optional', () => {
    const ev = parseEventsCalendar('multiplier,end,zone,start\r\n2,2026-01-02T00:00Z,a,2026-01-01T00:00Z\r\n', 'c.csv');
    expect(ev).toEqual([{ zone: 'a', start: T('2026-01-01T00:00:00Z'), end: T('2026-01-02T00:00:00Z'), multiplier: 2, name: '', line: 2 }]);
  });

  it.each([
    ['zone,start,end', 'c.csv:1: column multiplier: expected a header with the columns zone,start,end,multiplier'],
    ['zone,start,end,multiplier,colour', 'c.csv:1: column 5: expected one of the columns zone, start, end, multiplier, name, got "colour"'],
    ['zone,start,end,multiplier,zone', 'c.csv:1: column zone: expected each column once'],
    ['zone,start,end,multiplier\n,2026-01-01T00:00Z,2026-01-02T00:00Z,2', 'c.csv:2: column zone: expected a non-empty zone id'],
    ['zone,start,end,multiplier\na,2026-01-01,2026-01-02T00:00Z,2', 'c.csv:2: column start: expected an ISO 8601 date and time with an offset'],
    ['zone,start,end,multiplier\na,2026-01-01T00:00,2026-01-02T00:00Z,2', 'c.csv:2: column start: expected an ISO 8601'],
    ['zone,start,end,multiplier\na,2026-01-01T00:00Z,2026-02-30T00:00Z,2', 'c.csv:2: column end: expected an ISO 8601'],
    ['zone,start,end,multiplier\na,2026-01-02T00:00Z,2026-01-01T00:00Z,2', 'c.csv:2: column end: expected a time after start (2026-01-02T00:00Z), got "2026-01-01T00:00Z"'],
    ['zone,start,end,multiplier\na,2026-01-01T00:00Z,2026-01-02T00:00Z,0', 'c.csv:2: column multiplier: expected a number > 0, got "0"'],
    ['zone,start,end,multiplier\na,2026-01-01T00:00Z,2026-01-02T00:00Z,x', 'c.csv:2: column multiplier: expected a number > 0, got "x"'],
    ['zone,start,end,multiplier\na,2026-01-01T00:00Z,2026-01-02T00:00Z,0x10', 'c.csv:2: column multiplier: expected a number > 0, got "0x10"'],
    ['zone,start,end,multiplier\n\na,2026-01-01T00:00Z,2026-01-02T00:00Z', 'c.csv:3: column row: expected 4 fields like the header'],
    ['zone,start,end,multiplier,name\na,2026-01-01T00:00Z,2026-01-02T00:00Z,2,"open', 'c.csv:2: column row: expected closed quotes'],
    ['', 'c.csv:1: column header: expected a header'],
  ])('rejects %j', (csv, msg) => {
    const e = errorOf(() => parseEventsCalendar(csv, 'c.csv'));
    expect(e.code).toBe('INPUT_ROW_INVALID');
    expect(e.exitCode).toBe(3);
    expect(e.message.startsWith(msg)).toBe(true);
  });

  it('checks the zones against the market, naming the line', () => {
    const cal = new EventsCalendar(parseEventsCalendar(text, 'cal.csv'));
    expect(() => cal.checkZones(['north', 'south'], 'cal.csv')).not.toThrow();
    expect(errorOf(() => cal.checkZones(['north'], 'cal.csv')).message).toMatch(/^cal\.csv:5: column zone: expected one of the zones north, got "south"/);
  });

  it('loads a file, and a missing one is NOT_FOUND', () => {
    const p = join(dir, 'cal.csv');
    writeFileSync(p, '\uFEFF' + text);
    expect(loadEventsCalendar(p, 24 * H).events.length).toBe(3);
    expect(errorOf(() => loadEventsCalendar(join(dir, 'none.csv'))).code).toBe('NOT_FOUND');
  });

  it('splits CSV lines with quotes', () => {
    expect(splitCsvLine('a,"b,c",,"d""e"')).toEqual(['a', 'b,c', '', 'd"e']);
    expect(splitCsvLine('"a"b')).toBeNull();
  });
});

describe('multiplierAt', () => {
  const cal = new EventsCalendar(parseEventsCalendar(text, 'cal.csv'), 24 * H);

  it('enters an event `lead` before its start and keeps it until its end', () => {
    const start = T('2026-03-14T18:00:00Z');
    expect(cal.multiplierAt('north', start - 24 * H - 1)).toBe(1);
    expect(cal.multiplierAt('north', start - 24 * H)).toBe(1.5);
    // the festival starts an hour later (20:00 at +01:00), so it enters an hour later
    expect(cal.multiplierAt('north', start - 23 * H - 1)).toBe(1.5);
    expect(cal.multiplierAt('north', start - 23 * H)).toBeCloseTo(1.8, 14);
    expect(cal.multiplierAt('north', T('2026-03-14T23:59:59Z'))).toBeCloseTo(1.8, 14);
    expect(cal.multiplierAt('north', T('2026-03-15T00:00:00Z'))).toBe(1.2);
    expect(cal.multiplierAt('north', T('2026-03-16T00:00:00Z'))).toBe(1);
    expect(cal.multiplierAt('east', start)).toBe(1);
  });

  it('in force (lead 0): from the start only', () => {
    const start = T('2026-03-14T18:00:00Z');
    expect(cal.multiplierAt('north', start - 1, 0)).toBe(1);
    expect(cal.multiplierAt('north', start, 0)).toBe(1.5);
    expect(cal.multiplierAt('north', start + H, 0)).toBeCloseTo(1.8, 14);
    expect(cal.eventsAt('south', T('2026-03-19T01:00:00Z')).map((e) => e.name)).toEqual(['road works "phase 2"']);
    expect(cal.eventsAt('south', T('2026-03-19T01:00:00Z'), 0)).toEqual([]);
  });

  it('refuses a negative lead', () => {
    expect(() => new EventsCalendar([], -1)).toThrow(/lead/);
  });
});
