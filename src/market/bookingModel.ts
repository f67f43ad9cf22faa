/**
 * The booking model (docs/math.md §2.6) and its file `repricer.market-model/1` (docs/formats.md
 * "Market model file"): per segment the curve P(book | shown price p) = σ(a + b·log(p / pRef)),
 * fitted by src/market/bookingFit.ts as a pooled curve plus segment curves shrunk toward it.
 * This file holds the types, the schema check (Ajv, then across fields), the loader and writer,
 * and the lookup of an item's curve: its segment's when the fit saw the segment, else the pooled
 * (a, b) centred at the item's zone-level price.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describeSchemaError } from '../core/schemaErrors.js';
import { RepricerError, readFailure } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic.js';
import { logistic } from './bookingLikelihood.js';
import { ANY, SEGMENT_DIMENSIONS, parseSegmentId, segmentOf, type SegmentDimension, type TimeBucket } from './segments.js';

export const MARKET_MODEL_FORMAT = 'repricer.market-model/1';

/** One booking curve: log-odds a at the reference price, slope b of the log-odds in log price. */
export interface BookingCurve {
  a: number;
  b: number;
  /** reference price (> 0): the geometric mean of the segment's shown prices */
  pRef: number;
}

export interface SegmentCurve extends BookingCurve {
  /** trials of the segment in the event log, and how many were booked */
  trials: number;
  bookings: number;
}

/** How the shrinkage strength λ was chosen (docs/math.md §2.6). */
export interface BookingFitInfo {
  /** the event log the model was fitted on, as given */
  events: string;
  trials: number;
  bookings: number;
  /** the chosen λ */
  lambda: number;
  rule: 'one-se';
  /** the λ with the best summed held-out log-likelihood */
  bestLambda: number;
  folds: number;
  grid: number[];
  heldOutLogLikelihood: number[];
  heldOutStdErr: number[];
  /** (fold, segment) units with held-out trials */
  units: number;
}

export interface MarketModel {
  format: typeof MARKET_MODEL_FORMAT;
  createdAt: string;
  /** the dimensions the segments separate, in the order zone, asset, time */
  segmentBy: SegmentDimension[];
  /** the pooled curve; its pRef is the geometric mean of every trial's shown price */
  pooled: SegmentCurve;
  /** segment id -> curve */
  segments: Record<string, SegmentCurve>;
  fit: BookingFitInfo;
}

const finite = { type: 'number' } as const;
const count = { type: 'integer', minimum: 0 } as const;
const curveSchema = {
  type: 'object',
  required: ['a', 'b', 'pRef', 'trials', 'bookings'],
  additionalProperties: false,
  properties: { a: finite, b: finite, pRef: { type: 'number', exclusiveMinimum: 0 }, trials: count, bookings: count },
} as const;
const numberList = { type: 'array', items: finite } as const;

export const marketModelSchema = {
  type: 'object',
  required: ['format', 'createdAt', 'segmentBy', 'pooled', 'segments', 'fit'],
  additionalProperties: false,
  properties: {
    format: { const: MARKET_MODEL_FORMAT },
    createdAt: { type: 'string' },
    segmentBy: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...SEGMENT_DIMENSIONS] } },
    pooled: curveSchema,
    segments: { type: 'object', additionalProperties: curveSchema },
    fit: {
      type: 'object',
      required: ['events', 'trials', 'bookings', 'lambda', 'rule', 'bestLambda', 'folds', 'grid', 'heldOutLogLikelihood', 'heldOutStdErr', 'units'],
      additionalProperties: false,
      properties: {
        events: { type: 'string' },
        trials: count,
        bookings: count,
        lambda: { type: 'number', exclusiveMinimum: 0 },
        rule: { const: 'one-se' },
        bestLambda: { type: 'number', exclusiveMinimum: 0 },
        folds: { type: 'integer', minimum: 2 },
        grid: { type: 'array', minItems: 1, items: { type: 'number', exclusiveMinimum: 0 } },
        heldOutLogLikelihood: numberList,
        heldOutStdErr: numberList,
        units: count,
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile(marketModelSchema);

/** Check a parsed market model: the schema, then the segment ids against segmentBy and the counts. MODEL_INVALID naming the field. */
export function validateMarketModel(obj: unknown, file = 'market model'): MarketModel {
  const fail = (msg: string): never => {
    throw new RepricerError('MODEL_INVALID', `${file}: invalid ${MARKET_MODEL_FORMAT}: ${msg}`, { file });
  };
  const fmt = (obj as { format?: unknown } | null)?.format;
  if (typeof fmt === 'string' && fmt !== MARKET_MODEL_FORMAT && fmt.startsWith('repricer.market-model/')) {
    fail(`format: ${JSON.stringify(fmt)} is not supported (this repricer reads ${MARKET_MODEL_FORMAT})`);
  }
  if (!validate(obj)) fail((validate.errors ?? []).map((e) => describeSchemaError(e, marketModelSchema, 'market model field')).join('; '));
  const m = obj as MarketModel;
  // dimensions in canonical order, so a segment id is built the same way everywhere
  m.segmentBy = SEGMENT_DIMENSIONS.filter((d) => m.segmentBy.includes(d));
  const curves: [string, SegmentCurve][] = [['pooled', m.pooled], ...Object.entries(m.segments).map(([id, c]): [string, SegmentCurve] => [`segments.${id}`, c])];
  for (const [where, c] of curves) {
    if (c.bookings > c.trials) fail(`${where}.bookings: ${c.bookings} is more than the ${c.trials} trials`);
  }
  for (const id of Object.keys(m.segments)) {
    let parts;
    try {
      parts = parseSegmentId(id);
    } catch (err) {
      return fail(`segments.${id}: ${(err as Error).message}`);
    }
    const shape = (p: string, dim: SegmentDimension) => (m.segmentBy.includes(dim) ? p !== ANY : p === ANY);
    if (!shape(parts.zone, 'zone') || !shape(parts.asset, 'asset') || !shape(parts.bucket, 'time')) {
      fail(`segments.${id}: a model segmented by ${m.segmentBy.join(',')} has * in exactly the other dimensions of a segment id`);
    }
  }
  if (m.fit.heldOutLogLikelihood.length !== m.fit.grid.length || m.fit.heldOutStdErr.length !== m.fit.grid.length) {
    fail(`fit: heldOutLogLikelihood and heldOutStdErr must hold one number per grid value (${m.fit.grid.length})`);
  }
  return m;
}

export function loadMarketModel(file: string): MarketModel {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw readFailure(file, 'market model', err);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new RepricerError('MODEL_INVALID', `${file}: not valid JSON (${(err as Error).message})`, { file });
  }
  return validateMarketModel(obj, file);
}

/** Write a market model atomically (checked first: a model that does not validate is a bug). */
export function writeMarketModel(file: string, model: MarketModel): void {
  validateMarketModel(JSON.parse(JSON.stringify(model)), 'market model to write');
  writeFileAtomic(file, `${JSON.stringify(model, null, 2)}\n`, 'market model');
}

/** The curve of an item: its segment's, or (a segment the fit never saw) the pooled (a, b) at pRef = the zone-level price. */
export interface ItemCurve extends BookingCurve {
  segment: string;
  /** true when the segment was not in the fit and the pooled curve stands in */
  pooled: boolean;
}

export function curveFor(model: MarketModel, zone: string, asset: string, bucket: TimeBucket, zonePrice: number): ItemCurve {
  const segment = segmentOf(model.segmentBy, zone, asset, bucket);
  const c = model.segments[segment];
  if (c) return { segment, a: c.a, b: c.b, pRef: c.pRef, pooled: false };
  return { segment, a: model.pooled.a, b: model.pooled.b, pRef: zonePrice, pooled: true };
}

/** P(book | shown price p) on a curve (docs/math.md §2.6). */
export function bookingProbability(curve: BookingCurve, price: number): number {
  return logistic(curve.a + curve.b * Math.log(price / curve.pRef));
}
