/**
 * The marketplace served (`repricer serve --market m.json`): the market file's products are the
 * (zone, asset) pairs (zone = the product's nest, asset = the product's `asset`, default its id);
 * their zone-level prices start at the file's clearing prices (accelerated gradient, §2.3) and
 * then follow the event stream by online clearing (docs/math.md §2.9). The published prices carry
 * a version that moves only when the averaged prices have moved by more than a relative tolerance
 * since the last version, which is what the quote cache (marketCache.ts) keys on.
 *
 * Events are the event-log rows (search, view, booking, listing). As in the log, a search that
 * ends in a booking is one row, its booking: a search row is a consumer draw that bought nothing,
 * a booking row one that bought the row's (zone, asset), a listing row a supplier draw offering
 * `quantity` of it (consecutive listing rows with the same `time` and `item_id` are one
 * supplier's draw over several pairs), a view row is counted only. A body is checked whole before any row steps
 * the prices, so a refused body changes nothing.
 */
import { readFileSync } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';
import { RepricerError, readFailure } from '../core/errors.js';
import { WasmCore } from '../core/wasm.js';
import { validateMarketFile, type MarketFile } from '../market/marketFile.js';
import { MarketPotential, type Market } from '../market/potential.js';
import { solveMarket } from '../market/solvers.js';
import { OnlineClearing, type OfferedQuantity, type OnlineClearingOptions, type StreamCounts } from '../market/onlineClearing.js';
import { EVENT_TYPES, parseIsoTime, type EventType } from '../market/eventLog.js';
import { segmentId, timeBucket, type TimeBucket } from '../market/segments.js';
import { zoneBounds } from '../market/zoneBounds.js';
import { curveFor, type ItemCurve, type MarketModel } from '../market/bookingModel.js';
import { optimiseItemPrice } from '../market/itemPrice.js';
import { validateMarketPolicy, type MarketPolicy } from '../market/marketPolicy.js';
import { MarketQuoteCache, type CacheSizes, type CacheTier } from './marketCache.js';
import { EventsCalendar, loadEventsCalendar } from '../market/eventsCalendar.js';
import { resolveWatcherSettings } from '../market/watcherSettings.js';
import type { WatcherTrigger } from '../market/watcher.js';
import { MarketWatcherStream, type SegmentReport } from './marketWatcherStream.js';

export const MARKET_EVENT_TYPES = EVENT_TYPES;
export type MarketEventType = EventType;

/** One event-log row as JSON (optional numbers may be null, meaning absent). */
export interface MarketEventRow {
  time: string;
  type: MarketEventType;
  zone: string;
  asset: string;
  item_id?: string | null;
  price_shown?: number | null;
  booked?: number | null;
  available?: number | null;
  quantity?: number | null;
  competitor_price?: number | null;
}

export interface MarketQuoteRequest {
  item_id: string;
  zone: string;
  asset: string;
  time: string;
  previous_price?: number | null;
}

export interface MarketServiceOptions {
  /** the market file (path), or its parsed JSON */
  market: string | MarketFile;
  /**
   * the booking model (`repricer market fit`): quotes then maximise the item objective of
   * docs/math.md §2.6 inside the zone bounds; without it a quote is the zone-level price
   */
  model?: MarketModel;
  /** weights and zone band (the policy file's `market` object); default: every default */
  policy?: MarketPolicy;
  /** online clearing (default adagrad with η = 5% of the largest clearing price, observed listing share, box [0, 2·scale]) */
  clearing?: Omit<OnlineClearingOptions, 'start'>;
  /** relative move of an averaged zone price that publishes a new version (default 0.005) */
  versionTolerance?: number;
  cache?: CacheSizes;
  /**
   * the events calendar (`serve --market-calendar`, docs/formats.md "Events calendar"): a path or
   * parsed events; its zones must be the market's, and its lead is `market.watcher.eventLeadHours`
   */
  calendar?: string | EventsCalendar;
  /** called once per watcher trigger, after the zone was repriced (the app logs it) */
  onWatcherTrigger?: (t: WatcherTrigger, zone: string, zoneVersion: number) => void;
}

function readMarketJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw readFailure(file, 'market', err);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RepricerError('INPUT_UNREADABLE', `${file}: not valid JSON (${(err as Error).message})`, { file });
  }
}


export interface ZonePrice {
  zone: string;
  asset: string;
  /** the averaged price now */
  price: number;
  /** the price of the published version (what quotes use) */
  published: number;
  /** the current iterate of online clearing */
  iterate: number;
  /** the market file's clearing price (where the stream started) */
  clearing: number;
  /** the zone's repricings by its watcher (quotes of the zone are cached per version and zone version) */
  zone_version: number;
  /** the events calendar's multiplier of the zone now, events entered `eventLeadHours` ahead of their start (1 without a calendar) */
  scheduled_multiplier: number;
}

/** A segment's template (tier 2): the zone bounds and, with a booking model, the segment's curve. */
interface Template {
  zonePrice: number;
  lower: number;
  upper: number;
  curve: ItemCurve | null;
}

export interface MarketQuote {
  item_id: string;
  zone: string;
  asset: string;
  segment: string;
  time_bucket: string;
  price: number;
  lower: number;
  upper: number;
  zone_price: number;
  previous_price: number | null;
  /** P(book) at the price on the segment's curve; null without a booking model */
  booking_probability: number | null;
  /** how the price was set: `item_optimum` (§2.6, with a booking model) or `zone_price` (without one) */
  basis: 'item_optimum' | 'zone_price';
  /** the booking curve's segment (`*` for a dimension the model does not separate); null without a model */
  curve_segment: string | null;
  /** true when the model never saw the segment and its pooled curve stood in */
  pooled_curve: boolean | null;
  version: number;
  /** the zone's repricings by its watcher */
  zone_version: number;
  cache_tier: CacheTier;
}

type Step = { kind: 'search' } | { kind: 'booking'; product: number } | { kind: 'listing'; offer: OfferedQuantity[] } | { kind: 'view' };

export class MarketService {
  readonly pairs: { zone: string; asset: string }[];
  private readonly index = new Map<string, number>();
  private readonly zones = new Set<string>();
  private readonly core: WasmCore;
  private readonly pot: MarketPotential;
  readonly market: Market;
  readonly clearing: OnlineClearing;
  private readonly start: Float64Array;
  private published: Float64Array;
  private version = 1;
  private views = 0;
  private readonly tolerance: number;
  private readonly policy: MarketPolicy;
  private readonly model: MarketModel | undefined;
  private readonly cache: MarketQuoteCache<Omit<MarketQuote, 'cache_tier' | 'item_id'>, Template>;
  private readonly eventCounter: Counter<'type'>;
  private readonly versionGauge: Gauge;
  /** per zone: how many times its watcher repriced it (docs/math.md §2.8, "The served watcher") */
  private readonly zoneVersion = new Map<string, number>();
  readonly watcher: MarketWatcherStream;
  readonly calendar: EventsCalendar | null;
  private readonly triggerCounter: Counter<'zone'>;

  constructor(o: MarketServiceOptions, registry: Registry, module?: WebAssembly.Module) {
    const file = typeof o.market === 'string' ? o.market : 'market';
    const json = typeof o.market === 'string' ? readMarketJson(o.market) : o.market;
    const loaded = validateMarketFile(json, file);
    this.market = loaded.market;
    this.pairs = loaded.zones.map((zone, i) => ({ zone, asset: loaded.assets[i] }));
    // (zone, asset) pairs are unique: the market file checks it
    this.pairs.forEach((p, i) => {
      this.index.set(`${p.zone}\u0000${p.asset}`, i);
      this.zones.add(p.zone);
    });
    this.model = o.model;
    this.policy = o.policy ?? validateMarketPolicy(undefined);
    this.tolerance = o.versionTolerance ?? 0.005;
    if (!(this.tolerance >= 0 && Number.isFinite(this.tolerance))) throw new RepricerError('INVALID_ARGUMENT', `market: versionTolerance must be finite and >= 0, got ${this.tolerance}`);
    // the market lives in a core of its own: the app's core arena holds the quote routes'
    // permanent strings, which may not sit above a long-lived allocation
    this.core = WasmCore.create(module ? { module } : {});
    this.pot = new MarketPotential(this.market, this.core);
    this.start = solveMarket(this.pot, { method: 'accelerated' }).prices;
    // AdaGrad's first steps are about η each: from the clearing prices a step of 5% of the largest
    // one (the batch default, scale/100, is tuned for starting at 0 and overshoots to the box's edge)
    const pMax = Math.max(...this.start);
    const eta = o.clearing?.eta ?? ((o.clearing?.method ?? 'adagrad') === 'adagrad' && pMax > 0 ? 0.05 * pMax : undefined);
    this.clearing = new OnlineClearing(this.market, this.pot, { ...o.clearing, ...(eta !== undefined ? { eta } : {}), start: this.start });
    this.published = this.clearing.averaged();
    this.cache = new MarketQuoteCache(registry, o.cache);
    this.eventCounter = new Counter({ name: 'repricer_market_events_total', help: 'market events received, by type', labelNames: ['type'], registers: [registry] });
    for (const t of MARKET_EVENT_TYPES) this.eventCounter.inc({ type: t }, 0);
    this.versionGauge = new Gauge({ name: 'repricer_market_price_version', help: 'version of the published zone-level prices', registers: [registry] });
    this.versionGauge.set(this.version);

    const settings = this.policy.watcher ?? resolveWatcherSettings(undefined);
    const lead = settings.eventLeadHours * 3_600_000;
    const cal = o.calendar;
    this.calendar = cal === undefined ? null : typeof cal === 'string' ? loadEventsCalendar(cal, lead) : new EventsCalendar(cal.events, lead);
    if (this.calendar) this.calendar.checkZones(this.zones, typeof cal === 'string' ? cal : 'calendar');
    for (const z of this.zones) this.zoneVersion.set(z, 0);
    this.triggerCounter = new Counter({ name: 'repricer_market_watcher_triggers_total', help: "market watcher triggers by zone (each reprices the zone's segments)", labelNames: ['zone'], registers: [registry] });
    for (const z of this.zones) this.triggerCounter.inc({ zone: z }, 0);
    const notify = o.onWatcherTrigger;
    this.watcher = new MarketWatcherStream(settings, this.pairs, this.calendar, (t, pair) => {
      const zone = this.pairs[pair].zone;
      const v = this.reprice(zone);
      this.watcher.resetZone(zone, pair, Date.parse(t.time));
      this.triggerCounter.inc({ zone });
      notify?.(t, zone, v);
    });
  }

  /**
   * A watcher trigger: the zone's published prices take the averaged prices now (even a move
   * inside the version tolerance) and its zone version moves, so its quotes miss the cache tiers
   * and are priced afresh. Returns the new zone version.
   */
  private reprice(zone: string): number {
    const avg = this.clearing.averaged();
    const pub = Float64Array.from(this.published);
    this.pairs.forEach((p, i) => {
      if (p.zone === zone) pub[i] = avg[i];
    });
    this.published = pub;
    const v = (this.zoneVersion.get(zone) ?? 0) + 1;
    this.zoneVersion.set(zone, v);
    return v;
  }

  /** Index of (zone, asset), or an INVALID_BODY naming `where.zone` / `where.asset`. */
  private product(zone: string, asset: string, where: string): number {
    const i = this.index.get(`${zone}\u0000${asset}`);
    if (i !== undefined) return i;
    if (!this.zones.has(zone)) throw fieldError(`${where}zone`, `no zone ${JSON.stringify(zone)} in the market (zones: ${[...this.zones].slice(0, 20).join(', ')})`);
    const assets = this.pairs.filter((p) => p.zone === zone).map((p) => p.asset);
    throw fieldError(`${where}asset`, `zone ${JSON.stringify(zone)} has no asset ${JSON.stringify(asset)} (assets: ${assets.slice(0, 20).join(', ')})`);
  }

  /** Check every row, then step the prices row by row; the counts after. */
  ingest(rows: readonly MarketEventRow[]): { accepted: number; steps: number; version: number; counts: StreamCounts & { views: number } } {
    const steps: Step[] = [];
    let group: { time: string; item: string; offer: OfferedQuantity[] } | null = null;
    const times = new Float64Array(rows.length);
    const products = new Int32Array(rows.length);
    rows.forEach((r, i) => {
      const where = `events.${i}.`;
      times[i] = parseIsoTime(r.time);
      if (Number.isNaN(times[i])) throw fieldError(`${where}time`, `must be an ISO 8601 date-time with a time zone (2026-12-05T18:30:00Z), got ${JSON.stringify(r.time)}`);
      const product = this.product(r.zone, r.asset, where);
      products[i] = product;
      if (r.type !== 'listing') group = null;
      switch (r.type) {
        case 'search':
          steps.push({ kind: 'search' });
          break;
        case 'view':
          steps.push({ kind: 'view' });
          break;
        case 'booking':
          steps.push({ kind: 'booking', product });
          break;
        case 'listing': {
          const q = r.quantity as number;
          const item = r.item_id ?? '';
          const g = group as { time: string; item: string; offer: OfferedQuantity[] } | null;
          if (g && g.item === item && g.time === r.time) {
            if (g.offer.some((o) => o.product === product)) throw fieldError(`${where}asset`, `the listing rows of item ${JSON.stringify(item)} at ${r.time} name zone ${JSON.stringify(r.zone)}, asset ${JSON.stringify(r.asset)} twice`);
            g.offer.push({ product, quantity: q });
          } else {
            group = { time: r.time, item, offer: [{ product, quantity: q }] };
            steps.push({ kind: 'listing', offer: group.offer });
          }
          break;
        }
      }
    });
    for (const s of steps) {
      if (s.kind === 'search') this.clearing.search();
      else if (s.kind === 'booking') this.clearing.booking(s.product);
      else if (s.kind === 'listing') this.clearing.listing(s.offer);
      else this.views++;
    }
    for (const r of rows) this.eventCounter.inc({ type: r.type });
    this.publish();
    // the watcher counts the rows after the body's steps; the competitor signal compares with the published price
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const pair = products[i];
      this.watcher.add({ time: times[i], pair, type: r.type, available: r.available ?? null, competitorPrice: r.competitor_price ?? null, published: this.published[pair] });
    }
    const counts = { ...this.clearing.stats(), views: this.views };
    return { accepted: rows.length, steps: steps.filter((s) => s.kind !== 'view').length, version: this.version, counts };
  }

  /** A new version when some averaged price moved beyond the tolerance since the last one. */
  private publish(): void {
    const avg = this.clearing.averaged();
    let moved = 0;
    for (let i = 0; i < avg.length; i++) moved = Math.max(moved, Math.abs(avg[i] - this.published[i]) / Math.max(Math.abs(this.published[i]), 1e-12));
    if (moved > this.tolerance) {
      this.published = avg;
      this.version++;
      this.versionGauge.set(this.version);
    }
  }

  prices(now = Date.now()): { version: number; counts: StreamCounts & { views: number }; listing_share: number; prices: ZonePrice[] } {
    const avg = this.clearing.averaged();
    const it = this.clearing.iterate();
    return {
      version: this.version,
      counts: { ...this.clearing.stats(), views: this.views },
      listing_share: this.clearing.currentListingShare(),
      prices: this.pairs.map((p, i) => ({ zone: p.zone, asset: p.asset, price: avg[i], published: this.published[i], iterate: it[i], clearing: this.start[i], zone_version: this.zoneVersion.get(p.zone) ?? 0, scheduled_multiplier: this.watcher.scheduled(p.zone, now) })),
    };
  }

  /** The watcher of every segment: statistic, threshold, periods seen, the last trigger with its evidence. */
  watcherReport(): { period_minutes: number; open_period: string | null; late_events: number; restarts: number; threshold: number; reference: number; arl0: number; warmup_periods: number; calendar_events: number; segments: SegmentReport[] } {
    const s = this.watcher.settings;
    return {
      period_minutes: s.periodMinutes,
      open_period: this.watcher.openPeriod(),
      late_events: this.watcher.late,
      restarts: this.watcher.restarts,
      threshold: this.watcher.watcher.threshold,
      reference: s.reference,
      arl0: s.arl0,
      warmup_periods: s.warmupPeriods,
      calendar_events: this.calendar?.events.length ?? 0,
      segments: this.watcher.report(),
    };
  }

  /**
   * The item's price in its zone's bounds at the published version, through the cache tiers:
   * tier 1 keys the item, its segment and its previous price (the volatility term depends on
   * it); tier 2 the segment; tier 3 builds the segment's template from the published zone price,
   * the zone band and the booking model.
   */
  quote(q: MarketQuoteRequest): MarketQuote {
    const t = parseIsoTime(q.time);
    if (Number.isNaN(t)) throw fieldError('time', `must be an ISO 8601 date-time with a time zone (2026-12-05T18:30:00Z), got ${JSON.stringify(q.time)}`);
    const i = this.product(q.zone, q.asset, '');
    const bucket = timeBucket(t);
    const segment = segmentId(q.zone, q.asset, bucket);
    const prev = q.previous_price ?? null;
    const version = this.version;
    const zoneVersion = this.zoneVersion.get(q.zone) ?? 0;
    const { value, tier } = this.cache.quote(
      `${version}.${zoneVersion}`,
      `${q.item_id}\u0000${segment}\u0000${prev ?? ''}`,
      segment,
      () => this.template(i, q.zone, q.asset, bucket),
      (tp) => {
        const base = { zone: q.zone, asset: q.asset, segment, time_bucket: bucket, lower: tp.lower, upper: tp.upper, zone_price: tp.zonePrice, previous_price: prev, version, zone_version: zoneVersion };
        if (!tp.curve) return { ...base, price: tp.zonePrice, booking_probability: null, basis: 'zone_price' as const, curve_segment: null, pooled_curve: null };
        const r = optimiseItemPrice({ curve: tp.curve, zonePrice: tp.zonePrice, lower: tp.lower, upper: tp.upper, weights: this.policy.weights, ...(prev !== null ? { previousPrice: prev } : {}) });
        return { ...base, price: r.price, booking_probability: r.bookingProbability, basis: 'item_optimum' as const, curve_segment: tp.curve.segment, pooled_curve: tp.curve.pooled };
      },
    );
    return { item_id: q.item_id, ...value, cache_tier: tier };
  }

  /** Tier 3: the zone bounds of the published price and the segment's booking curve. */
  private template(i: number, zone: string, asset: string, bucket: TimeBucket): Template {
    const zp = this.published[i];
    if (!(zp > 0)) throw new RepricerError('CONFLICT', `zone ${JSON.stringify(zone)}, asset ${JSON.stringify(asset)}: the zone-level price is ${zp} (free at the clearing prices): its items cannot be priced inside a band around it`);
    const { lower, upper } = zoneBounds(zp, this.policy.zoneBand);
    return { zonePrice: zp, lower, upper, curve: this.model ? curveFor(this.model, zone, asset, bucket, zp) : null };
  }

  cacheSizes(): { hot: number; segments: number } {
    return this.cache.sizes();
  }

  close(): void {
    this.pot.dispose();
  }
}

function fieldError(path: string, message: string): RepricerError {
  return new RepricerError('INVALID_BODY', `${path}: ${message}`, { errors: [{ path, message }] });
}
