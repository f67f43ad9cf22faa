/**
 * The watcher on the served event stream (docs/math.md §2.8 "The served watcher"), on a real
 * server (fastify listening on an ephemeral port, requests by fetch). A seeded stream of hourly
 * periods in two zones: the centre's demand doubles at period 50, the airport's stays put. The
 * centre's watcher triggers after the shift with evidence led by booking velocity, logged as one
 * structured info line; its zone version moves, so its quotes miss the cache while the airport's
 * still hit; the airport never triggers; /metrics counts the triggers by zone; the competitor
 * signal, which the stream never carries, is left out. The events calendar enters the
 * scheduled_multiplier of GET /v1/market/prices ahead of an event's start by the lead time, and a
 * calendar naming a zone the market lacks is refused naming line and column.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { parseServeOptions } from '../src/cli/serve.js';
import { requireDist } from './server-helpers.js';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/server/app.js';
import { randomMarket } from '../src/market/randomMarket.js';
import { toMarketFile, type MarketFile } from '../src/market/marketFile.js';
import { validateMarketPolicy } from '../src/market/marketPolicy.js';
import { Rng } from '../src/sim/random.js';
import { RepricerError } from '../src/core/errors.js';
import { EventsCalendar, parseEventsCalendar } from '../src/market/eventsCalendar.js';
import { MarketWatcherStream } from '../src/server/marketWatcherStream.js';
import { resolveWatcherSettings } from '../src/market/watcherSettings.js';
import type { WatcherTrigger } from '../src/market/watcher.js';

const KEY = 'watcher-key-0123456789';
const ZONES = ['centre', 'airport'];
const ASSETS = ['compact', 'suv', 'compact', 'suv'];
const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-05T00:00:00Z');
const PERIODS = 90;
const SHIFT = 50;

function marketFile(): MarketFile {
  const mk = randomMarket(41, { products: 4, nests: 2, consumers: 6, suppliers: 3 });
  const f = toMarketFile({ ...mk, weight: mk.weight.map((w) => w * 20), beta: mk.beta.map((b) => b / 20), capacity: mk.capacity.map((c) => c * 20) });
  f.nests = f.nests.map((n, l) => ({ ...n, id: ZONES[l] }));
  f.products = f.products.map((p, i) => ({ id: `${ZONES[mk.nest[i]]}-${ASSETS[i]}`, nest: ZONES[mk.nest[i]], asset: ASSETS[i] }));
  return f;
}

/** Poisson(λ) by multiplying uniforms (Knuth; λ here is at most 60). */
function poisson(r: Rng, lambda: number): number {
  const l = Math.exp(-lambda);
  let k = 0;
  let p = r.uniform();
  while (p > l) {
    k++;
    p *= r.uniform();
  }
  return k;
}

interface Row {
  time: string;
  type: 'search' | 'booking' | 'view';
  zone: string;
  asset: string;
  booked: number;
  item_id?: string;
  price_shown?: number;
  available?: number;
}

/**
 * Period t of the stream: per (zone, asset) Poisson(λ) interested consumers, each booking with
 * probability 0.4 (a booking row) or leaving (a search row); λ = 30, doubled in the centre from
 * SHIFT on. Every row carries the units still free (50 at the period's start).
 */
function periodRows(r: Rng, t: number, zones: string[]): Row[] {
  const rows: (Row & { ms: number })[] = [];
  for (const zone of zones) {
    for (const asset of ['compact', 'suv']) {
      const lambda = zone === 'centre' && t >= SHIFT ? 60 : 30;
      const n = poisson(r, lambda);
      const draws = Array.from({ length: n }, () => ({ ms: T0 + t * HOUR + Math.floor(r.uniform() * (HOUR - 1000)) + 1000, book: r.uniform() < 0.4 })).sort((a, b) => a.ms - b.ms);
      let free = 50;
      for (const d of draws) {
        if (d.book && free > 0) {
          free--;
          rows.push({ ms: d.ms, time: new Date(d.ms).toISOString(), type: 'booking', zone, asset, booked: 1, item_id: `${zone}-${asset}-car`, price_shown: 20, available: free });
        } else rows.push({ ms: d.ms, time: new Date(d.ms).toISOString(), type: 'search', zone, asset, booked: 0, available: free });
      }
    }
  }
  return rows.sort((a, b) => a.ms - b.ms).map(({ ms: _ms, ...row }) => row);
}

let dir: string;
let app: FastifyInstance;
let base: string;
const logLines: Record<string, unknown>[] = [];
const policy = validateMarketPolicy({ watcher: { periodMinutes: 60, warmupPeriods: 24, arl0: 10_000 } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'repricer-market-watcher-'));
  writeFileSync(join(dir, 'market.json'), JSON.stringify(marketFile()));
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  app = buildApp({ market: { market: join(dir, 'market.json'), policy }, apiKey: KEY, pool: false, dbFile: ':memory:', defaultMetrics: false, logger: { level: 'info', stream } });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
async function post(path: string, body: unknown, headers: Record<string, string> = auth): Promise<{ status: number; json: any }> {
  const r = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
}
async function get(path: string): Promise<any> {
  const r = await fetch(base + path);
  expect(r.status).toBe(200);
  return path === '/metrics' ? r.text() : r.json();
}
const quote = (zone: string) => post('/v1/market/quote', { item_id: `${zone}-car`, zone, asset: 'compact', time: '2026-01-06T10:00:00Z' });
const triggersOf = (w: any, zone: string): number => w.segments.filter((s: any) => s.zone === zone).reduce((a: number, s: any) => a + s.triggers, 0);

describe('the served watcher', () => {
  it('a demand shift in one zone triggers its watcher with booking-velocity evidence; the stable zone does not trigger', async () => {
    const r = new Rng(7, 1);
    let repricedQuotes = 0;
    for (let t = 0; t < PERIODS; t++) {
      const rows = periodRows(r, t, ZONES);
      expect((await post('/v1/market/events', { events: rows })).status).toBe(200);
      // quotes at the versions now; a view row (no clearing step, so no new price version) closes the period
      const before = { centre: (await quote('centre')).json, airport: (await quote('airport')).json };
      const wBefore = await get('/v1/market/watcher');
      const close = await post('/v1/market/events', { events: [{ time: new Date(T0 + (t + 1) * HOUR).toISOString(), type: 'view', zone: 'airport', asset: 'suv', booked: 0, item_id: 'x', price_shown: 20 }] });
      expect(close.status).toBe(200);
      const w = await get('/v1/market/watcher');
      expect(w.segments.every((s: any) => s.periods_seen === t + 1)).toBe(true);
      if (triggersOf(w, 'centre') > triggersOf(wBefore, 'centre')) {
        // the repriced zone's quotes miss every tier; the other zone's still hit tier 1
        const after = { centre: (await quote('centre')).json, airport: (await quote('airport')).json };
        expect(after.centre.zone_version).toBe(before.centre.zone_version + 1);
        expect(after.centre.cache_tier).toBe(3);
        expect([after.airport.cache_tier, after.airport.zone_version]).toEqual([1, before.airport.zone_version]);
        repricedQuotes++;
      }
    }
    const w = await get('/v1/market/watcher');
    expect(w.period_minutes).toBe(60);
    expect(w.late_events).toBe(0);
    expect(triggersOf(w, 'airport')).toBe(0);
    expect(triggersOf(w, 'centre')).toBeGreaterThanOrEqual(1);
    expect(repricedQuotes).toBe(triggersOf(w, 'centre'));
    const evidence = w.segments.filter((s: any) => s.zone === 'centre' && s.last_trigger).map((s: any) => s.last_trigger);
    for (const trig of evidence) {
      expect(trig.kind).toBe('evidence');
      expect(trig.direction).toBe('up');
      expect(trig.statistic).toBeGreaterThan(trig.threshold);
      // the shift starts in period SHIFT, which ends at T0 + (SHIFT + 1) h; detected within a few periods
      const at = (Date.parse(trig.time) - T0) / HOUR;
      expect(at).toBeGreaterThanOrEqual(SHIFT + 1);
      expect(at).toBeLessThanOrEqual(SHIFT + 8);
      const lead = [...trig.signals].sort((a: any, b: any) => b.accumulated - a.accumulated)[0];
      expect(lead.signal).toBe('bookingVelocity');
      expect(lead.value).toBeGreaterThan(lead.baseline);
      // the stream never carries competitor prices: the signal is left out of the score
      expect(trig.signals.find((s: any) => s.signal === 'competitorSignal')).toMatchObject({ used: false, z: 0 });
    }
    // one structured info line per trigger, with its evidence
    const logged = logLines.filter((l) => l.msg === 'market watcher trigger: zone repriced');
    expect(logged.length).toBe(triggersOf(w, 'centre'));
    for (const l of logged) {
      const mw = l.marketWatcher as any;
      expect([l.level, mw.zone]).toEqual([30, 'centre']);
      expect(mw.trigger.signals.map((s: any) => s.signal)).toContain('bookingVelocity');
    }
    const prices = await get('/v1/market/prices');
    for (const p of prices.prices) expect([p.zone, p.zone_version, p.scheduled_multiplier]).toEqual([p.zone, p.zone === 'centre' ? triggersOf(w, 'centre') : 0, 1]);
    const metrics = await get('/metrics');
    expect(metrics).toContain(`repricer_market_watcher_triggers_total{zone="centre"} ${triggersOf(w, 'centre')}`);
    expect(metrics).toContain('repricer_market_watcher_triggers_total{zone="airport"} 0');
  }, 20_000);

  it('rows of a closed period are late: counted, not fed to the watcher', async () => {
    const before = (await get('/v1/market/watcher')).late_events;
    const res = await post('/v1/market/events', { events: [{ time: new Date(T0).toISOString(), type: 'search', zone: 'centre', asset: 'suv', booked: 0 }] });
    expect(res.status).toBe(200);
    expect((await get('/v1/market/watcher')).late_events).toBe(before + 1);
  });

  it('auth and validation are unchanged', async () => {
    const row = { time: new Date(T0 + PERIODS * HOUR).toISOString(), type: 'search', zone: 'centre', asset: 'suv', booked: 0 };
    expect((await post('/v1/market/events', { events: [row] }, { 'content-type': 'application/json' })).status).toBe(401);
    const bad = await post('/v1/market/events', { events: [{ ...row, zone: 'harbour' }] });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'INVALID_BODY']);
    expect(bad.json.error.message).toContain('events.0.zone');
  });
});

describe('the events calendar', () => {
  it('enters scheduled_multiplier ahead of an event by the lead time; a calendar naming an unknown zone is refused at its line and column', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    // lead 24 h (the default): the airport's event starts in 2 h and has entered; the centre's starts in 48 h and has not
    writeFileSync(join(dir, 'cal.csv'), `zone,start,end,multiplier,name\nairport,${iso(now + 2 * HOUR)},${iso(now + 6 * HOUR)},1.5,fair\ncentre,${iso(now + 48 * HOUR)},${iso(now + 50 * HOUR)},2,match\n`);
    const a = buildApp({ market: { market: join(dir, 'market.json'), calendar: join(dir, 'cal.csv') }, pool: false, dbFile: ':memory:', defaultMetrics: false });
    const url = await a.listen({ port: 0, host: '127.0.0.1' });
    try {
      const prices = (await (await fetch(url + '/v1/market/prices')).json()) as { prices: { zone: string; scheduled_multiplier: number }[] };
      expect(prices.prices.map((p) => [p.zone, p.scheduled_multiplier])).toEqual(prices.prices.map((p) => [p.zone, p.zone === 'airport' ? 1.5 : 1]));
      const w = (await (await fetch(url + '/v1/market/watcher')).json()) as { calendar_events: number };
      expect(w.calendar_events).toBe(2);
    } finally {
      await a.close();
    }
    writeFileSync(join(dir, 'bad-cal.csv'), `zone,start,end,multiplier\ncentre,${iso(now)},${iso(now + HOUR)},1.2\nharbour,${iso(now)},${iso(now + HOUR)},1.2\n`);
    let err: unknown;
    try {
      buildApp({ market: { market: join(dir, 'market.json'), calendar: join(dir, 'bad-cal.csv') }, pool: false, dbFile: ':memory:', defaultMetrics: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RepricerError);
    expect([(err as RepricerError).code, (err as Error).message]).toEqual(['INPUT_ROW_INVALID', expect.stringContaining('bad-cal.csv:3: column zone: expected one of the zones centre, airport, got "harbour"')]);
  });

  it("enters the stream's external-events signal from the lead ahead of the start", () => {
    // one segment, hourly periods, lead 2 h: an event from hour 20 enters the periods ending at hour 18 on
    const settings = resolveWatcherSettings({ warmupPeriods: 6, arl0: 10_000, eventLeadHours: 2 });
    const cal = new EventsCalendar(parseEventsCalendar(`zone,start,end,multiplier\ncentre,${new Date(T0 + 20 * HOUR).toISOString()},${new Date(T0 + 40 * HOUR).toISOString()},3\n`), 2 * HOUR);
    const seen: WatcherTrigger[] = [];
    const stream = new MarketWatcherStream(settings, [{ zone: 'centre', asset: 'compact' }], cal, (t) => seen.push(t));
    const r = new Rng(3, 2);
    for (let t = 0; t <= 30; t++) {
      const n = poisson(r, 20);
      for (let k = 0; k < n; k++) stream.add({ time: T0 + t * HOUR + 1000 * (k + 1), pair: 0, type: r.uniform() < 0.4 ? 'booking' : 'search', available: null, competitorPrice: null, published: 20 });
    }
    expect(seen.length).toBeGreaterThanOrEqual(1);
    const first = seen[0];
    const ext = first.signals.find((s) => s.signal === 'externalEvents');
    expect([first.kind, first.direction, ext?.value, ext?.baseline]).toEqual(['evidence', 'up', 3, 1]);
    // the multiplier entered with the period ending at hour 18, ahead of the start at hour 20
    expect(first.changeTime).toBe(new Date(T0 + 18 * HOUR).toISOString());
    expect(stream.scheduled('centre', T0 + 17.5 * HOUR)).toBe(1);
    expect(stream.scheduled('centre', T0 + 18 * HOUR)).toBe(3);
  });

  it('serve --market-calendar: needs --market; a missing calendar exits 4, an invalid one 3 naming line and column', () => {
    requireDist();
    let err: unknown;
    try {
      parseServeOptions({ port: '0', host: '127.0.0.1', auth: false, marketCalendar: 'cal.csv' });
    } catch (e) {
      err = e;
    }
    expect([(err as RepricerError).code, (err as Error).message]).toEqual(['INVALID_ARGUMENT', '--market-calendar needs --market (the market whose zones it names)']);
    writeFileSync(join(dir, 'bad-time.csv'), 'zone,start,end,multiplier\ncentre,2026-03-14T18:00:00Z,tomorrow,1.2\n');
    const run = (file: string) => spawnSync(process.execPath, ['dist/src/cli/main.js', 'serve', '--port', '0', '--no-auth', '--workers', '0', '--market', join(dir, 'market.json'), '--market-calendar', file], { encoding: 'utf8', timeout: 60_000 });
    const missing = run(join(dir, 'nope.csv'));
    expect([missing.status, missing.stderr]).toEqual([4, expect.stringContaining('nope.csv')]);
    const bad = run(join(dir, 'bad-time.csv'));
    expect([bad.status, bad.stderr]).toEqual([3, expect.stringContaining('bad-time.csv:2: column end: expected an ISO 8601 date and time with an offset')]);
  }, 30_000);
});
