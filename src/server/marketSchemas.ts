/**
 * JSON schemas of the market routes (POST /v1/market/events, GET /v1/market/prices, POST
 * /v1/market/quote): fastify validates the bodies with them and @fastify/swagger publishes them.
 * An event is a row of the market event log (docs/formats.md "Market event log", its NDJSON form):
 * `time`, `type`, `zone`, `asset` and `booked` (1 exactly on booking rows) always; `item_id` and
 * `price_shown` on every row but a search's; `quantity` (whole units >= 1) exactly on listing
 * rows; `available` and `competitor_price` optional. null is an empty cell.
 */
import { MARKET_EVENT_TYPES } from './marketService.js';

/** events per POST /v1/market/events body */
export const MAX_MARKET_EVENTS = 10_000;

const id = { type: 'string', minLength: 1, maxLength: 256 } as const;
const optNum = { type: ['number', 'null'] } as const;
const optNonNeg = { type: ['number', 'null'], minimum: 0 } as const;
const optPrice = { type: ['number', 'null'], exclusiveMinimum: 0 } as const;
const time = { type: 'string', maxLength: 64, description: 'ISO 8601 date-time, e.g. 2026-12-05T18:30:00Z' } as const;

export const marketEventSchema = {
  type: 'object',
  required: ['time', 'type', 'zone', 'asset', 'booked'],
  additionalProperties: false,
  properties: {
    time,
    type: { type: 'string', enum: [...MARKET_EVENT_TYPES] },
    zone: id,
    asset: id,
    item_id: { type: ['string', 'null'], maxLength: 256, description: 'the item shown, viewed, booked or listed; empty or null only on a search row' },
    price_shown: { ...optPrice, description: 'the price the consumer saw (a listing: the price listed); null only on a search row' },
    booked: { type: 'integer', enum: [0, 1], description: '1 exactly on booking rows' },
    available: { type: ['integer', 'null'], minimum: 0, description: 'units of the (zone, asset) free at that time' },
    quantity: { type: ['integer', 'null'], minimum: 1, description: 'units the listing offers: on listing rows only' },
    competitor_price: optPrice,
  },
  allOf: [
    { if: { properties: { type: { const: 'search' } } }, else: { required: ['item_id', 'price_shown'], properties: { item_id: { type: 'string', minLength: 1 }, price_shown: { type: 'number' } } } },
    { if: { properties: { type: { const: 'listing' } } }, then: { required: ['quantity'], properties: { quantity: { type: 'integer' } } }, else: { properties: { quantity: { type: 'null' } } } },
    { if: { properties: { type: { const: 'booking' } } }, then: { properties: { booked: { const: 1 } } }, else: { properties: { booked: { const: 0 } } } },
  ],
} as const;

export const marketEventsBodySchema = {
  type: 'object',
  required: ['events'],
  additionalProperties: false,
  properties: { events: { type: 'array', minItems: 1, maxItems: MAX_MARKET_EVENTS, items: marketEventSchema } },
  examples: [{ events: [{ time: '2026-12-05T18:30:00Z', type: 'search', zone: 'centre', asset: 'compact', booked: 0 }, { time: '2026-12-05T18:31:00Z', type: 'booking', zone: 'centre', asset: 'compact', item_id: 'car-17', price_shown: 41.5, booked: 1 }] }],
} as const;

const counts = {
  type: 'object',
  required: ['searches', 'bookings', 'listings', 'views', 'steps'],
  properties: { searches: { type: 'integer', description: 'consumer draws that bought nothing' }, bookings: { type: 'integer' }, listings: { type: 'integer', description: 'supplier draws' }, views: { type: 'integer' }, steps: { type: 'integer', description: 'price steps taken, one a draw: searches + bookings + listings' } },
} as const;

export const marketEventsResponseSchema = {
  type: 'object',
  required: ['accepted', 'steps', 'version', 'counts'],
  properties: { accepted: { type: 'integer', description: 'rows of this body' }, steps: { type: 'integer', description: 'price steps this body took' }, version: { type: 'integer' }, counts },
} as const;

export const marketPricesResponseSchema = {
  type: 'object',
  required: ['version', 'counts', 'listing_share', 'prices'],
  properties: {
    version: { type: 'integer', description: 'moves when some averaged price moved beyond the tolerance since the last version' },
    counts,
    listing_share: { type: 'number', description: 'the share of supplier draws the estimates are scaled by' },
    prices: {
      type: 'array',
      items: {
        type: 'object',
        required: ['zone', 'asset', 'price', 'published', 'iterate', 'clearing', 'zone_version', 'scheduled_multiplier'],
        properties: {
          zone: { type: 'string' },
          asset: { type: 'string' },
          price: { type: 'number', description: 'the Polyak-Ruppert average now' },
          published: { type: 'number', description: 'the price of this version (what quotes use)' },
          iterate: { type: 'number', description: 'the current iterate of online clearing' },
          clearing: { type: 'number', description: "the market file's clearing price (the start)" },
          zone_version: { type: 'integer', description: "the zone's repricings by its watcher (GET /v1/market/watcher)" },
          scheduled_multiplier: { type: 'number', description: "the events calendar's multiplier of the zone now, events entered market.watcher.eventLeadHours ahead of their start (1 without a calendar)" },
        },
      },
    },
  },
} as const;

export const marketQuoteBodySchema = {
  type: 'object',
  required: ['item_id', 'zone', 'asset', 'time'],
  additionalProperties: false,
  properties: { item_id: id, zone: id, asset: id, time, previous_price: { ...optPrice, description: "the item's price now (the volatility term of the item objective)" } },
  examples: [{ item_id: 'car-17', zone: 'centre', asset: 'compact', time: '2026-12-05T18:30:00Z', previous_price: 40 }],
} as const;

export const marketQuoteResponseSchema = {
  type: 'object',
  required: ['item_id', 'zone', 'asset', 'segment', 'time_bucket', 'price', 'lower', 'upper', 'zone_price', 'previous_price', 'booking_probability', 'basis', 'curve_segment', 'pooled_curve', 'version', 'zone_version', 'cache_tier'],
  properties: {
    item_id: { type: 'string' },
    zone: { type: 'string' },
    asset: { type: 'string' },
    segment: { type: 'string', description: 'zone/asset/time bucket' },
    time_bucket: { type: 'string' },
    price: { type: 'number', description: "the item price, inside [lower, upper]" },
    lower: { type: 'number', description: "the zone's lower bound" },
    upper: { type: 'number', description: "the zone's upper bound" },
    zone_price: { type: 'number', description: 'the published zone-level price' },
    previous_price: optNum,
    booking_probability: { ...optNum, description: "P(book) at the price on the segment's booking curve; null without a booking model" },
    basis: { type: 'string', enum: ['item_optimum', 'zone_price'], description: 'item_optimum: the maximiser of the weighted item objective inside the bounds (with a booking model); zone_price: the zone-level price itself (without one)' },
    curve_segment: { type: ['string', 'null'], description: "the booking model's segment whose curve was used (* for a dimension it does not separate)" },
    pooled_curve: { type: ['boolean', 'null'], description: 'true when the model never saw the segment and its pooled curve stood in' },
    version: { type: 'integer', description: 'the price version the answer belongs to' },
    zone_version: { type: 'integer', description: "the zone's repricings by its watcher: the cache keys on version and zone version" },
    cache_tier: { type: 'integer', enum: [1, 2, 3], description: '1: hot item price; 2: segment template; 3: computed from the model' },
  },
} as const;

const signalEvidence = {
  type: 'object',
  required: ['signal', 'weight', 'value', 'baseline', 'sd', 'z', 'accumulated', 'used'],
  properties: {
    signal: { type: 'string', enum: ['bookingVelocity', 'searchAbandonment', 'inventoryPressure', 'competitorSignal', 'externalEvents'] },
    weight: { type: 'number' },
    value: { type: 'number', description: 'the signal in the period that triggered (externalEvents: the scheduled multiplier)' },
    baseline: { type: ['number', 'null'], description: 'the warm-up mean (externalEvents: the multiplier at the last reset); null on a calendar trigger' },
    sd: { type: ['number', 'null'], description: 'the warm-up standard deviation (externalEvents: eventScale); null on a calendar trigger' },
    z: { type: 'number', description: 'the standardised value of the period' },
    accumulated: { type: 'number', description: "the signal's share of the statistic since the change point" },
    used: { type: 'boolean', description: 'false for a signal without spread over the warm-up (never carried by the stream, or constant): left out of the score' },
  },
} as const;

const watcherTrigger = {
  type: ['object', 'null'],
  required: ['segment', 'kind', 'time', 'direction', 'statistic', 'threshold', 'reference', 'combined', 'scale', 'changeTime', 'periodsSinceChange', 'signals'],
  properties: {
    segment: { type: 'string' },
    kind: { type: 'string', enum: ['evidence', 'calendar'] },
    time: { type: 'string', description: 'end of the period that crossed the threshold' },
    direction: { type: 'string', enum: ['up', 'down'] },
    statistic: { type: 'number' },
    threshold: { type: 'number' },
    reference: { type: 'number' },
    combined: { type: 'number' },
    scale: { type: 'number' },
    changeTime: { type: 'string', description: 'the change-point estimate' },
    periodsSinceChange: { type: 'integer' },
    signals: { type: 'array', items: signalEvidence },
  },
} as const;

export const marketWatcherResponseSchema = {
  type: 'object',
  required: ['period_minutes', 'open_period', 'late_events', 'restarts', 'threshold', 'reference', 'arl0', 'warmup_periods', 'calendar_events', 'segments'],
  properties: {
    period_minutes: { type: 'number' },
    open_period: { type: ['string', 'null'], description: 'start of the period events are counted into (null before the first event)' },
    late_events: { type: 'integer', description: 'rows of a period already closed: used by online clearing, not by the watcher' },
    restarts: { type: 'integer', description: 'gaps of the stream longer than the warm-up, after which every segment started afresh' },
    threshold: { type: 'number', description: 'h, the CUSUM threshold of the designed in-control run length' },
    reference: { type: 'number' },
    arl0: { type: 'number' },
    warmup_periods: { type: 'integer' },
    calendar_events: { type: 'integer' },
    segments: {
      type: 'array',
      items: {
        type: 'object',
        required: ['segment', 'zone', 'asset', 'warming_up', 'statistic_up', 'statistic_down', 'threshold', 'periods_seen', 'triggers', 'last_trigger'],
        properties: {
          segment: { type: 'string', description: 'zone/asset' },
          zone: { type: 'string' },
          asset: { type: 'string' },
          warming_up: { type: 'boolean' },
          statistic_up: { type: 'number' },
          statistic_down: { type: 'number' },
          threshold: { type: 'number' },
          periods_seen: { type: 'integer' },
          triggers: { type: 'integer' },
          last_trigger: watcherTrigger,
        },
      },
    },
  },
} as const;
