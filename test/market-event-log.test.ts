/**
 * The market event log reader (docs/formats.md "Market event log"): a good CSV and the same log as
 * NDJSON read to the same columns; every kind of bad cell, header and line is rejected with
 * INPUT_UNREADABLE naming file, line and column.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_BOOKING, EVENT_LISTING, EVENT_SEARCH, parseEventLog, parseEventLogCsvReference, parseIsoTime, readEventLog, type EventLog } from '../src/market/eventLog.js';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { RepricerError } from '../src/core/errors.js';

const HEADER = 'time,type,zone,asset,item_id,price_shown,booked,available,quantity,competitor_price';
const GOOD = [
  HEADER,
  '2026-03-02T08:15:00Z,listing,downtown,suv,car-17,95,0,4,1,',
  '2026-03-02T08:20:11Z,search,downtown,suv,,,0,4,,',
  '',
  '2026-03-02T08:20:12.250+01:00,search,downtown,suv,car-17, 95.5 ,0,4,,92.5',
  '2026-03-02T08:21:40Z,view,"air port",hatch,car-3,60,0,,,',
  '2026-03-07T08:24:03Z,booking,downtown,suv,car-17,95,1,3,,',
].join('\n');

function columns(log: EventLog) {
  return {
    n: log.n,
    time: Array.from(log.time),
    type: Array.from(log.type),
    zones: log.zones,
    zone: Array.from(log.zone),
    assets: log.assets,
    asset: Array.from(log.asset),
    items: log.items,
    item: Array.from(log.item),
    price: Array.from(log.priceShown),
    booked: Array.from(log.booked),
    available: Array.from(log.available),
    quantity: Array.from(log.quantity),
    competitor: Array.from(log.competitorPrice),
  };
}

function error(text: string, file = 'log.csv'): RepricerError {
  try {
    parseEventLog(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(RepricerError);
    expect((err as RepricerError).code).toBe('INPUT_UNREADABLE');
    return err as RepricerError;
  }
  throw new Error('no error');
}

/** GOOD with one cell of its booking row (line 7) replaced. */
function withCell(column: string, value: string, row = 6): string {
  const lines = GOOD.split('\n');
  const cells = lines[row].split(',');
  cells[HEADER.split(',').indexOf(column)] = value;
  lines[row] = cells.join(',');
  return lines.join('\n');
}

describe('market event log', () => {
  it('reads a good CSV into dictionary-coded columns, times as epoch ms, empty cells as NaN or -1', () => {
    const c = columns(parseEventLog(GOOD, 'log.csv'));
    expect(c.n).toBe(5);
    expect(c.time).toEqual([Date.UTC(2026, 2, 2, 8, 15), Date.UTC(2026, 2, 2, 8, 20, 11), Date.UTC(2026, 2, 2, 7, 20, 12, 250), Date.UTC(2026, 2, 2, 8, 21, 40), Date.UTC(2026, 2, 7, 8, 24, 3)]);
    expect(c.type).toEqual([EVENT_LISTING, EVENT_SEARCH, EVENT_SEARCH, 1, EVENT_BOOKING]);
    expect(c.zones).toEqual(['downtown', 'air port']);
    expect(c.zone).toEqual([0, 0, 0, 1, 0]);
    expect(c.assets).toEqual(['suv', 'hatch']);
    expect(c.asset).toEqual([0, 0, 0, 1, 0]);
    expect(c.items).toEqual(['car-17', 'car-3']);
    expect(c.item).toEqual([0, -1, 0, 1, 0]);
    expect(c.price).toEqual([95, NaN, 95.5, 60, 95]);
    expect(c.booked).toEqual([0, 0, 0, 0, 1]);
    expect(c.available).toEqual([4, 4, 4, NaN, 3]);
    expect(c.quantity).toEqual([1, NaN, NaN, NaN, NaN]);
    expect(c.competitor).toEqual([NaN, NaN, 92.5, NaN, NaN]);
  });

  it('reads the same log as NDJSON (file extension) to the same columns; columns in any order, extra ones ignored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'repricer-events-'));
    const rows = GOOD.split('\n').slice(1).filter((l) => l !== '');
    const names = HEADER.split(',');
    const nd = rows
      .map((l) => {
        const cells = l.split(',');
        const o: Record<string, unknown> = { extra: 'x' };
        names.forEach((n, i) => {
          const v = cells[i].replace(/^"|"$/g, '');
          if (v === '') o[n] = null;
          else o[n] = ['time', 'type', 'zone', 'asset', 'item_id'].includes(n) ? v : Number(v);
        });
        return JSON.stringify(o);
      })
      .join('\n');
    writeFileSync(join(dir, 'log.ndjson'), `${nd}\n\n`);
    writeFileSync(join(dir, 'log.csv'), GOOD);
    const reordered = ['zone,booked,time,type,asset,price_shown,item_id,note', 'z,1,2026-03-02T08:00Z,booking,a,10,i1,hello'].join('\n');
    expect(columns(readEventLog(join(dir, 'log.ndjson')))).toEqual(columns(readEventLog(join(dir, 'log.csv'))));
    const r = parseEventLog(reordered, 'r.csv');
    expect([r.zones, r.assets, Array.from(r.priceShown), Array.from(r.booked), Array.from(r.available)]).toEqual([['z'], ['a'], [10], [1], [NaN]]);
  });

  it('rejects every kind of bad cell, naming file, line, column and what was expected', () => {
    const cases: [string, string, RegExp][] = [
      ['time', '2026-03-07', /column time: expected an ISO 8601 date-time/],
      ['time', '2026-02-30T10:00Z', /column time/],
      ['time', '2026-03-07T24:00Z', /column time/],
      ['time', '2026-03-07T10:00', /column time/], // no time zone
      ['type', 'purchase', /column type: expected one of search, view, booking, listing/],
      ['zone', '', /column zone: expected a non-empty zone id/],
      ['zone', '*', /column zone: expected a zone id other than "\*"/],
      ['asset', 'a/b', /column asset: expected an asset id without "\/"/],
      ['item_id', '', /column item_id: expected an item id on a booking row/],
      ['price_shown', '', /column price_shown: expected a price > 0 on a booking row, got ""/],
      ['price_shown', '0', /column price_shown: expected a price > 0/],
      ['price_shown', '1e999', /column price_shown/],
      ['price_shown', '0x10', /column price_shown/],
      ['price_shown', '12abc', /column price_shown/],
      ['booked', '0', /column booked: expected 1 on a booking row/],
      ['booked', 'yes', /column booked/],
      ['available', '-1', /column available: expected a whole number of units >= 0 or an empty cell/],
      ['available', '2.5', /column available/],
      ['quantity', '2', /column quantity: expected an empty cell on a booking row/],
      ['competitor_price', '-3', /column competitor_price: expected a price > 0 or an empty cell/],
    ];
    for (const [column, value, re] of cases) {
      const e = error(withCell(column, value));
      expect(e.message, `${column}=${value}`).toMatch(re);
      expect(e.message.startsWith('log.csv:7: column ')).toBe(true);
      expect(e.details).toMatchObject({ file: 'log.csv', line: 7, column, got: value });
    }
    // row-type rules on other rows
    expect(error(withCell('booked', '1', 2)).message).toMatch(/^log\.csv:3: column booked: expected 0 on a search row/);
    expect(error(withCell('quantity', '', 1)).message).toMatch(/^log\.csv:2: column quantity: expected a whole number of units >= 1 on a listing row/);
    expect(error(withCell('quantity', '0', 1)).message).toMatch(/column quantity/);
    expect(error(withCell('price_shown', '', 5)).message).toMatch(/^log\.csv:6: column price_shown: expected a price > 0 on a view row/);
  });

  it('rejects a bad header, a ragged row, malformed CSV and an empty file', () => {
    expect(error('time,type,zone,asset,item_id,booked\n').message).toMatch(/^log\.csv:1: the header lacks the column price_shown/);
    expect(error(`${HEADER},time\n`).message).toMatch(/^log\.csv:1: column time: expected each column once/);
    expect(error(`${HEADER}\n2026-03-02T08:15:00Z,search,z,a,,,0\n`).message).toMatch(/^log\.csv:2: expected 10 fields as in the header, got 7/);
    expect(error(`${HEADER}\n"2026-03-02T08:15:00Z,search\n`).message).toMatch(/^log\.csv:\d+: malformed CSV/);
    expect(error('').message).toMatch(/^log\.csv: empty file/);
  });

  it('rejects bad NDJSON lines: not JSON, not an object, a missing key, a wrong JSON type', () => {
    const ok = { time: '2026-03-02T08:00:00Z', type: 'search', zone: 'z', asset: 'a', booked: 0 };
    const nd = (o: unknown) => `${JSON.stringify(ok)}\n${typeof o === 'string' ? o : JSON.stringify(o)}\n`;
    expect(parseEventLog(nd(ok), 'e.ndjson').n).toBe(2);
    expect(error(nd('{"time":'), 'e.ndjson').message).toMatch(/^e\.ndjson:2: not a JSON object/);
    expect(error(nd([1, 2]), 'e.ndjson').message).toMatch(/^e\.ndjson:2: expected one JSON object per line/);
    expect(error(nd({ ...ok, booked: undefined }), 'e.ndjson').message).toMatch(/^e\.ndjson:2: column booked: expected a value/);
    expect(error(nd({ ...ok, price_shown: '12' }), 'e.ndjson').message).toMatch(/^e\.ndjson:2: column price_shown: expected a JSON number or null, got "\\"12\\""/);
    expect(error(nd({ ...ok, zone: 3 }), 'e.ndjson').message).toMatch(/^e\.ndjson:2: column zone: expected a JSON string/);
    expect(error(nd({ ...ok, booked: 1 }), 'e.ndjson').message).toMatch(/^e\.ndjson:2: column booked: expected 0 on a search row/);
  });

  it('a missing file is NOT_FOUND, a folder INPUT_UNREADABLE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'repricer-events-'));
    expect(() => readEventLog(join(dir, 'none.csv'))).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => readEventLog(dir)).toThrow(expect.objectContaining({ code: 'INPUT_UNREADABLE' }));
  });

  it('parses ISO times exactly, with offsets and fractions, and refuses impossible dates', () => {
    expect(parseIsoTime('2024-02-29T23:59:59.999-00:30')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 999) + 30 * 60000);
    expect(parseIsoTime('2023-02-29T00:00Z')).toBeNaN();
    expect(parseIsoTime('2026-13-01T00:00Z')).toBeNaN();
    expect(parseIsoTime(' 2026-03-01T00:00Z')).toBeNaN();
  });

  it('the split path (no quotes) reads what csv-parse reads: LF, CRLF, a BOM, empty lines, and the same errors', () => {
    const text = readFileSync('examples/marketplace/events.csv', 'utf8');
    expect(text.includes('"')).toBe(false);
    const variants = [text, text.replace(/\n/g, '\r\n'), `\ufeff${text}`, text.replace(/\n(?=2026-03-03)/g, '\n\n')];
    for (const v of variants) expect(columns(parseEventLog(v, 'e.csv'))).toEqual(columns(parseEventLogCsvReference(v, 'e.csv')));
    const unquoted = GOOD.replace('"air port"', 'airport');
    const bad = [withCell('price_shown', '-1').replace('"air port"', 'airport'), `${HEADER}\n\n2026-03-02T08:15:00Z,search,z,a,,,0\n`, `${unquoted}\n2026-03-02T08:15:00Z,search,z,a,,,0,,,,extra`];
    expect(columns(parseEventLog(unquoted, 'e.csv'))).toEqual(columns(parseEventLogCsvReference(unquoted, 'e.csv')));
    for (const v of bad) {
      const split = error(v);
      let ref: RepricerError | undefined;
      try {
        parseEventLogCsvReference(v, 'log.csv');
      } catch (err) {
        ref = err as RepricerError;
      }
      expect(split.message).toBe(ref?.message);
    }
  });

  it('round-trips random valid logs written as CSV (quoted where needed) and as NDJSON (property)', () => {
    const text = fc.string({ minLength: 1, maxLength: 6, unit: fc.constantFrom('a', 'b', 'Z', ' ', ',', '"', 'é', '-', '.') });
    const row = fc.record({
      ms: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
      type: fc.constantFrom('search', 'view', 'booking', 'listing'),
      zone: text.filter((z) => z !== '*'),
      asset: text.filter((a) => a !== '*' && !a.includes('/')),
      item: text,
      price: fc.double({ min: 0.01, max: 1e6, noNaN: true }),
      showPrice: fc.boolean(),
      available: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
      quantity: fc.integer({ min: 1, max: 50 }),
      competitor: fc.option(fc.double({ min: 0.01, max: 1e6, noNaN: true }), { nil: undefined }),
    });
    const q = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 30 }), (rows) => {
        const norm = rows.map((r) => {
          const search = r.type === 'search';
          const hasPrice = !search || r.showPrice;
          return {
            time: new Date(r.ms).toISOString(), type: r.type, zone: r.zone, asset: r.asset, item: search && !r.showPrice ? '' : r.item,
            price: hasPrice ? r.price : NaN, booked: r.type === 'booking' ? 1 : 0, available: r.available ?? NaN,
            quantity: r.type === 'listing' ? r.quantity : NaN, competitor: r.competitor ?? NaN, ms: r.ms,
          };
        });
        const num = (x: number) => (Number.isNaN(x) ? '' : String(x));
        const csv = [HEADER, ...norm.map((r) => [r.time, r.type, q(r.zone), q(r.asset), q(r.item), num(r.price), r.booked, num(r.available), num(r.quantity), num(r.competitor)].join(','))].join('\n');
        const nd = norm.map((r) => JSON.stringify({ time: r.time, type: r.type, zone: r.zone, asset: r.asset, item_id: r.item === '' ? null : r.item, price_shown: Number.isNaN(r.price) ? null : r.price, booked: r.booked, available: Number.isNaN(r.available) ? null : r.available, quantity: Number.isNaN(r.quantity) ? null : r.quantity, competitor_price: Number.isNaN(r.competitor) ? null : r.competitor })).join('\n');
        for (const log of [parseEventLog(csv, 'p.csv'), parseEventLogCsvReference(csv, 'p.csv'), parseEventLog(nd, 'p.ndjson')]) {
          expect(log.n).toBe(norm.length);
          norm.forEach((r, i) => {
            expect(log.time[i]).toBe(r.ms);
            expect(log.zones[log.zone[i]]).toBe(r.zone);
            expect(log.assets[log.asset[i]]).toBe(r.asset);
            expect(log.item[i] < 0 ? '' : log.items[log.item[i]]).toBe(r.item);
            expect([log.priceShown[i], log.booked[i], log.available[i], log.quantity[i], log.competitorPrice[i]]).toEqual([r.price, r.booked, r.available, r.quantity, r.competitor]);
          });
        }
      }),
      { numRuns: 150 },
    );
  });
});
