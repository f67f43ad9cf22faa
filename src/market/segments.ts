/**
 * Market segments (docs/math.md §2.6): a segment is a zone x an asset type x a time bucket, the
 * unit at which the booking model learns price sensitivity. The time bucket of an instant is
 * weekday/weekend (Saturday and Sunday, UTC) x one of four dayparts of six hours (UTC): night
 * [0, 6), morning [6, 12), afternoon [12, 18), evening [18, 24), eight buckets in all.
 *
 * A segment id is `zone/asset/bucket`. An asset id never holds a `/` (the market file and the event
 * log reject one), so the id parses back from its right end even when a zone id holds a `/`. A
 * model that does not separate one of the three dimensions writes `*` in its place (zone
 * `downtown`, any asset, bucket `weekday-evening`: one curve for every asset of the zone in that
 * bucket); `*` is therefore not a zone or asset id.
 */
import { RepricerError } from '../core/errors.js';

export const DAYPARTS = ['night', 'morning', 'afternoon', 'evening'] as const;
export const DAY_KINDS = ['weekday', 'weekend'] as const;
/** The eight buckets in index order: day kind major, daypart minor. */
export const TIME_BUCKETS = [
  'weekday-night', 'weekday-morning', 'weekday-afternoon', 'weekday-evening',
  'weekend-night', 'weekend-morning', 'weekend-afternoon', 'weekend-evening',
] as const;
export type TimeBucket = (typeof TIME_BUCKETS)[number];

/** The dimensions a segmentation may separate, in the order of a segment id. */
export const SEGMENT_DIMENSIONS = ['zone', 'asset', 'time'] as const;
export type SegmentDimension = (typeof SEGMENT_DIMENSIONS)[number];
/** The placeholder of a dimension a segmentation does not separate. */
export const ANY = '*';

/** Index (0..7) of the time bucket of an instant given as epoch milliseconds (UTC). */
export function timeBucketIndex(epochMs: number): number {
  const d = new Date(epochMs);
  const day = d.getUTCDay(); // 0 Sunday .. 6 Saturday
  const weekend = day === 0 || day === 6 ? 1 : 0;
  return weekend * 4 + Math.floor(d.getUTCHours() / 6);
}

/** The time bucket of an instant (a Date or epoch milliseconds), in UTC. */
export function timeBucket(date: Date | number): TimeBucket {
  const ms = typeof date === 'number' ? date : date.getTime();
  if (!Number.isFinite(ms)) throw new RepricerError('INVALID_ARGUMENT', `timeBucket: not a valid time (${String(date)})`);
  return TIME_BUCKETS[timeBucketIndex(ms)];
}

export function isTimeBucket(s: string): s is TimeBucket {
  return (TIME_BUCKETS as readonly string[]).includes(s);
}

/** Why a string cannot be an asset id (undefined when it can): non-empty, no `/`, not `*`. */
export function assetIdProblem(s: string): string | undefined {
  if (s === '') return 'a non-empty asset id';
  if (s.includes('/')) return 'an asset id without "/"';
  if (s === ANY) return `an asset id other than "${ANY}"`;
  return undefined;
}

/** Why a string cannot be a zone id (undefined when it can): non-empty, not `*`. */
export function zoneIdProblem(s: string): string | undefined {
  if (s === '') return 'a non-empty zone id';
  if (s === ANY) return `a zone id other than "${ANY}"`;
  return undefined;
}

/** The id `zone/asset/bucket`; `*` stands for a dimension not separated. */
export function segmentId(zone: string, asset: string, bucket: TimeBucket | typeof ANY): string {
  const z = zone === ANY ? undefined : zoneIdProblem(zone);
  const a = asset === ANY ? undefined : assetIdProblem(asset);
  if (z) throw new RepricerError('INVALID_ARGUMENT', `segmentId: expected ${z}, got ${JSON.stringify(zone)}`);
  if (a) throw new RepricerError('INVALID_ARGUMENT', `segmentId: expected ${a}, got ${JSON.stringify(asset)}`);
  if (bucket !== ANY && !isTimeBucket(bucket)) throw new RepricerError('INVALID_ARGUMENT', `segmentId: expected a time bucket (${TIME_BUCKETS.join(', ')}) or "${ANY}", got ${JSON.stringify(bucket)}`);
  return `${zone}/${asset}/${bucket}`;
}

export interface SegmentParts {
  zone: string;
  asset: string;
  bucket: TimeBucket | typeof ANY;
}

/** The parts of a segment id (the inverse of segmentId); INVALID_ARGUMENT naming what is wrong. */
export function parseSegmentId(id: string): SegmentParts {
  const last = id.lastIndexOf('/');
  const mid = last > 0 ? id.lastIndexOf('/', last - 1) : -1;
  if (mid <= 0) throw new RepricerError('INVALID_ARGUMENT', `segment id ${JSON.stringify(id)}: expected zone/asset/bucket`);
  const zone = id.slice(0, mid);
  const asset = id.slice(mid + 1, last);
  const bucket = id.slice(last + 1);
  segmentId(zone, asset, bucket as TimeBucket);
  return { zone, asset, bucket: bucket as TimeBucket | typeof ANY };
}

/**
 * The segment of a (zone, asset, time bucket) under a segmentation that separates `dims`
 * (a subset of zone, asset, time): the dimensions left out become `*`.
 */
export function segmentOf(dims: readonly SegmentDimension[], zone: string, asset: string, bucket: TimeBucket): string {
  return segmentId(dims.includes('zone') ? zone : ANY, dims.includes('asset') ? asset : ANY, dims.includes('time') ? bucket : ANY);
}

/** Parse a `--segments` list such as `zone,asset,time` or `zone,time` (order free, no repeats, at least one). */
export function parseSegmentDimensions(list: string): SegmentDimension[] {
  const parts = list.split(',').map((s) => s.trim());
  const out: SegmentDimension[] = [];
  for (const p of parts) {
    if (!(SEGMENT_DIMENSIONS as readonly string[]).includes(p)) throw new RepricerError('INVALID_ARGUMENT', `--segments must list some of ${SEGMENT_DIMENSIONS.join(', ')} separated by commas, got ${JSON.stringify(list)}`);
    if (out.includes(p as SegmentDimension)) throw new RepricerError('INVALID_ARGUMENT', `--segments names ${p} twice in ${JSON.stringify(list)}`);
    out.push(p as SegmentDimension);
  }
  return SEGMENT_DIMENSIONS.filter((d) => out.includes(d));
}
