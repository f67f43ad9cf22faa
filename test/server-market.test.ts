/**
 * The marketplace routes on a real server (fastify listening on an ephemeral port, requests by
 * fetch): POST /v1/market/events needs the write key and refuses bad rows naming the field (and
 * then changes nothing); under a stream drawn from a shifted market the zone-level prices move
 * from the file's clearing prices toward the shifted market's; quotes stay inside the zone bounds
 * and say which cache tier answered, and /metrics counts the tiers' hits and misses. Without a
 * market the routes do not exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/server/app.js';
import { WasmCore } from '../src/core/wasm.js';
import { MarketPotential, type Market } from '../src/market/potential.js';
import { randomMarket } from '../src/market/randomMarket.js';
import { toMarketFile, type MarketFile } from '../src/market/marketFile.js';
import { solveMarket } from '../src/market/solvers.js';
import { MarketRng } from '../src/market/random.js';
import { StreamSampler, type MarketDraw } from '../src/market/streamSample.js';
import { MARKET_MODEL_FORMAT, bookingProbability, validateMarketModel, type MarketModel } from '../src/market/bookingModel.js';
import { validateMarketPolicy } from '../src/market/marketPolicy.js';

const KEY = 'market-key-0123456789';
const ZONES = ['centre', 'airport'];
/** the asset of each product: both zones have a compact and an suv */
const ASSETS = ['compact', 'suv', 'compact', 'suv'];
/**
 * The market the server starts from: 2 zones of 2 assets, 6 consumer types, 3 suppliers, in
 * units of 20 (consumer weights, capacities and 1/β times 20: the same clearing prices, supplies
 * of several whole units, as listing rows carry).
 */
const A: Market = (() => {
  const mk = randomMarket(41, { products: 4, nests: 2, consumers: 6, suppliers: 3 });
  return { ...mk, weight: mk.weight.map((w) => w * 20), beta: mk.beta.map((b) => b / 20), capacity: mk.capacity.map((c) => c * 20) };
})();
/** The market the stream comes from: consumers value the centre's assets 0.6 more. */
const B: Market = { ...A, values: Float64Array.from(A.values, (v, x) => v + (x % 4 < 2 ? 0.6 : 0)) };

function marketFile(mk: Market): MarketFile {
  const f = toMarketFile(mk);
  f.nests = f.nests.map((n, l) => ({ ...n, id: ZONES[l] }));
  f.products = f.products.map((p, i) => ({ id: `${ZONES[mk.nest[i]]}-${ASSETS[i]}`, nest: ZONES[mk.nest[i]], asset: ASSETS[i] }));
  return f;
}

const core = WasmCore.create({ variant: 'simd' });
let dir: string;
let app: FastifyInstance;
let base: string;
let potB: MarketPotential;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'repricer-market-'));
  writeFileSync(join(dir, 'market.json'), JSON.stringify(marketFile(A)));
  app = buildApp({ market: { market: join(dir, 'market.json') }, apiKey: KEY, pool: false, dbFile: ':memory:', defaultMetrics: false });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  potB = new MarketPotential(B, core);
});
afterAll(async () => {
  potB?.dispose();
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

const pair = (i: number) => ({ zone: ZONES[A.nest[i]], asset: ASSETS[i] });

/**
 * A draw as event-log rows at prices p: a consumer's booking (or a search that bought nothing), or
 * one supplier's listing rows, its quantities rounded at random to whole units (floor, plus one
 * with the probability of the fraction: the same mean).
 */
function rows(d: MarketDraw, t: number, p: Float64Array, rng: MarketRng): Record<string, unknown>[] {
  const time = new Date(Date.UTC(2026, 11, 5, 18, 0, 0) + t * 1000).toISOString();
  if (d.kind === 'consumer') {
    if (d.purchase < 0) return [{ time, type: 'search', ...pair(0), booked: 0 }];
    return [{ time, type: 'booking', ...pair(d.purchase), item_id: `car-${t % 7}`, price_shown: p[d.purchase], booked: 1 }];
  }
  const out: Record<string, unknown>[] = [];
  for (const o of d.offer) {
    const q = Math.floor(o.quantity) + (rng.uniform() < o.quantity - Math.floor(o.quantity) ? 1 : 0);
    if (q > 0) out.push({ time, type: 'listing', ...pair(o.product), item_id: `host-${t}`, price_shown: p[o.product], booked: 0, quantity: q });
  }
  return out;
}

describe('POST /v1/market/events', () => {
  const ev = [{ time: '2026-12-05T18:30:00Z', type: 'search', zone: 'centre', asset: 'compact', booked: 0 }];
  it('needs the write key', async () => {
    expect((await post('/v1/market/events', { events: ev }, { 'content-type': 'application/json' })).status).toBe(401);
    const bad = await post('/v1/market/events', { events: ev }, { ...auth, authorization: 'Bearer nope-nope-nope' });
    expect([bad.status, bad.json.error.code]).toEqual([401, 'UNAUTHORIZED']);
  });

  it('refuses bad rows naming the field, and a refused body steps nothing', async () => {
    const before = (await get('/v1/market/prices')).counts;
    const cases: [unknown, string][] = [
      [[{ ...ev[0], type: 'listing', item_id: 'car-1', price_shown: 40 }], 'events.0.quantity: is required'],
      [[...ev, { ...ev[0], type: 'booking', item_id: 'car-1', price_shown: 40 }], 'events.1.booked: must be equal to constant'],
      [[{ ...ev[0], type: 'booking', booked: 1 }], 'events.0.item_id: is required'],
      [[{ ...ev[0], quantity: 2 }], 'events.0.quantity: must be null'],
      [[{ ...ev[0], time: '2026-12-05' }], 'events.0.time: must be an ISO 8601 date-time with a time zone'],
      [[{ ...ev[0], type: 'click' }], 'events.0.type: must be one of "search", "view", "booking", "listing"'],
      [[{ ...ev[0], available: -1 }], 'events.0.available: must be >= 0'],
      [[{ ...ev[0], color: 'red' }], 'events.0.color: is not an allowed field'],
      [[...ev, { ...ev[0], zone: 'harbour' }], 'events.1.zone: no zone "harbour" in the market (zones: centre, airport)'],
      [[{ ...ev[0], asset: 'van' }], 'events.0.asset: zone "centre" has no asset "van" (assets: compact, suv)'],
      [[{ ...ev[0], time: '2026-02-30T10:00:00Z' }], 'events.0.time: must be an ISO 8601 date-time with a time zone'],
      [[{ ...ev[0], time: 'yesterday' }], 'events.0.time: must be an ISO 8601 date-time'],
      [[], 'events: must NOT have fewer than 1 items'],
      [[0, 1].map(() => ({ ...ev[0], type: 'listing', item_id: 'host-1', price_shown: 40, quantity: 2 })), 'events.1.asset: the listing rows of item "host-1" at 2026-12-05T18:30:00Z name zone "centre", asset "compact" twice'],
    ];
    for (const [events, msg] of cases) {
      const r = await post('/v1/market/events', { events });
      expect([r.status, r.json.error.code], JSON.stringify(events)).toEqual([400, 'INVALID_BODY']);
      expect(r.json.error.message).toContain(msg);
    }
    expect((await get('/v1/market/prices')).counts).toEqual(before);
  });

  it('a stream from a shifted market moves the prices toward its clearing prices', async () => {
    const target = solveMarket(potB, { method: 'accelerated' }).prices;
    const dist = (ps: { price: number }[]) => Math.max(...ps.map((p, i) => Math.abs(p.price - target[i])));
    const p0 = await get('/v1/market/prices');
    expect(p0.prices.map((p: { zone: string; asset: string }) => `${p.zone}/${p.asset}`)).toEqual(['centre/compact', 'centre/suv', 'airport/compact', 'airport/suv']);
    const d0 = dist(p0.prices);
    expect(d0).toBeGreaterThan(0.05);
    const sampler = new StreamSampler(B, potB, 0.2);
    const rng = new MarketRng(3);
    let t = 0;
    let posted = 0;
    for (let batch = 0; batch < 40; batch++) {
      // the stream responds to the current iterate (the oracle's point, docs/math.md §2.9)
      const it = Float64Array.from((await get('/v1/market/prices')).prices, (p: { iterate: number }) => p.iterate);
      const events: Record<string, unknown>[] = [];
      let draws = 0;
      for (let k = 0; k < 500; k++) {
        const rs = rows(sampler.draw(it, rng), t++, it, rng);
        events.push(...rs);
        if (rs.length) draws++;
      }
      const r = await post('/v1/market/events', { events });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.json.accepted).toBe(events.length);
      // one step a draw: a supplier's listing rows (one time, one item id) are one step
      expect(r.json.steps).toBe(draws);
      posted += draws;
    }
    const p1 = await get('/v1/market/prices');
    // a supplier draw whose quantities all round to no units leaves no row
    expect(p1.counts.steps - p0.counts.steps).toBe(posted);
    expect(posted).toBeGreaterThan(19_000);
    expect(p1.listing_share).toBeCloseTo(0.2, 1);
    expect(p1.version).toBeGreaterThan(p0.version);
    expect(dist(p1.prices)).toBeLessThan(d0 / 3);
    // the centre's consumers value more: its prices went up
    expect(p1.prices[0].price).toBeGreaterThan(p0.prices[0].price);
  });
});


describe('POST /v1/market/quote', () => {
  const metric = (text: string, tier: string, result: string) => Number(new RegExp(`repricer_market_cache_total\\{tier="${tier}",result="${result}"\\} (\\S+)`).exec(text)?.[1]);

  it('prices inside the zone bounds; tiers 3, 1, 2 answer in turn and /metrics counts them', async () => {
    const m0 = await get('/metrics');
    const q = { item_id: 'car-1', zone: 'airport', asset: 'compact', time: '2026-12-06T20:15:00Z', previous_price: 1.4 };
    const a = await post('/v1/market/quote', q, { 'content-type': 'application/json' });
    expect(a.status, JSON.stringify(a.json)).toBe(200);
    const prices = await get('/v1/market/prices');
    const pa = prices.prices[2];
    expect(a.json).toMatchObject({ item_id: 'car-1', segment: 'airport/compact/weekend-evening', time_bucket: 'weekend-evening', zone_price: pa.published, version: prices.version, cache_tier: 3, basis: 'zone_price', previous_price: 1.4, booking_probability: null, curve_segment: null });
    // the default zone band 0.2
    expect(a.json.lower).toBeCloseTo(pa.published * 0.8, 12);
    expect(a.json.upper).toBeCloseTo(pa.published * 1.2, 12);
    expect(a.json.price).toBeGreaterThanOrEqual(a.json.lower);
    expect(a.json.price).toBeLessThanOrEqual(a.json.upper);
    const b = await post('/v1/market/quote', q, { 'content-type': 'application/json' });
    expect({ ...b.json, cache_tier: 3 }).toEqual(a.json);
    expect(b.json.cache_tier).toBe(1);
    const c = await post('/v1/market/quote', { ...q, item_id: 'car-2' }, { 'content-type': 'application/json' });
    expect(c.json.cache_tier).toBe(2);
    expect(c.json.price).toBe(a.json.price);
    const m1 = await get('/metrics');
    expect(metric(m1, '1', 'hit') - metric(m0, '1', 'hit')).toBe(1);
    expect(metric(m1, '1', 'miss') - metric(m0, '1', 'miss')).toBe(2);
    expect(metric(m1, '2', 'hit') - metric(m0, '2', 'hit')).toBe(1);
    expect(metric(m1, '2', 'miss') - metric(m0, '2', 'miss')).toBe(1);
    expect(metric(m1, '3', 'compute') - metric(m0, '3', 'compute')).toBe(1);
    expect(m1).toMatch(/repricer_market_events_total\{type="booking"\} [1-9]/);
    expect(m1).toMatch(/repricer_market_price_version [1-9]/);
  });

  it('a new price version is a miss of both tiers', async () => {
    const q = { item_id: 'car-9', zone: 'centre', asset: 'suv', time: '2026-12-07T08:00:00Z' };
    const a = await post('/v1/market/quote', q, { 'content-type': 'application/json' });
    expect((await post('/v1/market/quote', q, { 'content-type': 'application/json' })).json.cache_tier).toBe(1);
    // bookings of the centre's suv push its price up until the version moves
    const v0 = (await get('/v1/market/prices')).version;
    for (let k = 0; k < 20 && (await get('/v1/market/prices')).version === v0; k++) {
      const events = Array.from({ length: 50 }, () => ({ time: '2026-12-07T08:00:00Z', type: 'booking', zone: 'centre', asset: 'suv', item_id: 'car-9', price_shown: 1.5, booked: 1 }));
      expect((await post('/v1/market/events', { events })).status).toBe(200);
    }
    const b = await post('/v1/market/quote', q, { 'content-type': 'application/json' });
    expect(b.json.version).toBeGreaterThan(a.json.version);
    expect(b.json.cache_tier).toBe(3);
    expect(b.json.zone_price).toBeGreaterThan(a.json.zone_price);
    expect(b.json.segment).toBe('centre/suv/weekday-morning');
  });

  it('refuses an unknown zone or a bad time naming the field', async () => {
    const r = await post('/v1/market/quote', { item_id: 'x', zone: 'nowhere', asset: 'suv', time: '2026-12-06T20:15:00Z' }, { 'content-type': 'application/json' });
    expect([r.status, r.json.error.code, r.json.error.message]).toEqual([400, 'INVALID_BODY', expect.stringContaining('zone: no zone "nowhere"')]);
    const t = await post('/v1/market/quote', { item_id: 'x', zone: 'airport', asset: 'suv', time: '20:15' }, { 'content-type': 'application/json' });
    expect(t.json.error.message).toContain('time: must be an ISO 8601 date-time');
    const m = await post('/v1/market/quote', { item_id: 'x', zone: 'airport', asset: 'suv' }, { 'content-type': 'application/json' });
    expect(m.json.error.message).toContain('time: is required');
  });
});

describe('POST /v1/market/quote with a booking model', () => {
  /** One segment's curve a + b·log(p/pRef) with b < −1; the other segments fall back to the pooled curve. */
  const curve = { a: 0.5, b: -3, pRef: 1.4, trials: 400, bookings: 200 };
  const model: MarketModel = {
    format: MARKET_MODEL_FORMAT,
    createdAt: '2026-12-06T00:00:00.000Z',
    segmentBy: ['zone', 'asset', 'time'],
    pooled: { a: -0.2, b: -2, pRef: 1.5, trials: 1000, bookings: 450 },
    segments: { 'airport/compact/weekend-evening': curve },
    fit: { events: 'log.csv', trials: 1000, bookings: 450, lambda: 1, rule: 'one-se', bestLambda: 1, folds: 5, grid: [1], heldOutLogLikelihood: [-600], heldOutStdErr: [5], units: 10 },
  };
  let mapp: FastifyInstance;
  beforeAll(async () => {
    mapp = buildApp({ market: { market: marketFile(A), model: validateMarketModel(model), policy: validateMarketPolicy({ zoneBand: 0.1 }) }, pool: false, dbFile: ':memory:', defaultMetrics: false });
    await mapp.ready();
  });
  afterAll(async () => {
    await mapp?.close();
  });
  const quote = async (body: object) => (await mapp.inject({ method: 'POST', url: '/v1/market/quote', payload: body })).json();

  it('revenue weight only: the revenue optimum of the curve, pRef·exp((logit(1 + 1/b) − a)/b), clipped to the band', async () => {
    const r = await quote({ item_id: 'car-1', zone: 'airport', asset: 'compact', time: '2026-12-06T20:15:00Z' });
    expect(r).toMatchObject({ basis: 'item_optimum', curve_segment: 'airport/compact/weekend-evening', pooled_curve: false, cache_tier: 3 });
    // d/dp [p σ(a + b log(p/pRef))] = σ (1 + b (1 − σ)) = 0  ⇔  σ = 1 + 1/b
    const s = 1 + 1 / curve.b;
    const closed = curve.pRef * Math.exp((Math.log(s / (1 - s)) - curve.a) / curve.b);
    expect(r.lower).toBeCloseTo(r.zone_price * 0.9, 12);
    expect(r.upper).toBeCloseTo(r.zone_price * 1.1, 12);
    expect(r.price).toBeCloseTo(Math.min(r.upper, Math.max(r.lower, closed)), 6);
    expect(r.booking_probability).toBeCloseTo(bookingProbability(curve, r.price), 12);
  });

  it('a segment the model never saw: the pooled curve at pRef = the zone price; every price inside the bounds', async () => {
    for (const [zone, asset] of [['centre', 'compact'], ['centre', 'suv'], ['airport', 'suv']]) {
      for (const time of ['2026-12-07T03:00:00Z', '2026-12-07T13:00:00Z']) {
        const r = await quote({ item_id: `x-${zone}-${asset}`, zone, asset, time, previous_price: 1.2 });
        expect(r.pooled_curve).toBe(true);
        expect(r.price).toBeGreaterThanOrEqual(r.lower);
        expect(r.price).toBeLessThanOrEqual(r.upper);
        expect(r.booking_probability).toBeCloseTo(bookingProbability({ a: model.pooled.a, b: model.pooled.b, pRef: r.zone_price }, r.price), 12);
      }
    }
  });
});

describe('without a market', () => {
  it('the market routes do not exist, and the OpenAPI document has them only with a market', async () => {
    const plain = buildApp({ pool: false, dbFile: ':memory:', defaultMetrics: false });
    const r = await plain.inject({ method: 'GET', url: '/v1/market/prices' });
    expect(r.statusCode).toBe(404);
    await plain.ready();
    expect(Object.keys((plain.swagger() as { paths: object }).paths).filter((p) => p.startsWith('/v1/market'))).toEqual([]);
    await plain.close();
    const paths = (app.swagger() as { paths: Record<string, Record<string, { summary: string }>> }).paths;
    expect(paths['/v1/market/events'].post.summary).toBe('Feed market events to online clearing');
    expect(paths['/v1/market/prices'].get.summary).toBe('Zone-level prices');
    expect(paths['/v1/market/quote'].post.summary).toBe("Quote an item inside its zone's bounds");
  });

  it('a market file that is not valid fails buildApp naming the field', () => {
    const bad = { ...marketFile(A), products: [{ id: 'x', nest: 'harbour' }] };
    expect(() => buildApp({ market: { market: bad as MarketFile }, pool: false, dbFile: ':memory:', defaultMetrics: false })).toThrow(/products\.0\.nest: no nest with id "harbour"/);
  });
});
