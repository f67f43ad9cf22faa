/** Time buckets and segment ids (docs/math.md §2.6): the bucket of known instants, ids that parse back. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ANY, TIME_BUCKETS, parseSegmentDimensions, parseSegmentId, segmentId, segmentOf, timeBucket } from '../src/market/segments.js';
import { RepricerError } from '../src/core/errors.js';

describe('time buckets', () => {
  it('buckets known instants by UTC weekday/weekend and six-hour dayparts', () => {
    // 2026-03-02 is a Monday, 2026-03-07 a Saturday, 2026-03-08 a Sunday
    expect(timeBucket(new Date('2026-03-02T00:00:00Z'))).toBe('weekday-night');
    expect(timeBucket(new Date('2026-03-02T05:59:59.999Z'))).toBe('weekday-night');
    expect(timeBucket(new Date('2026-03-02T06:00:00Z'))).toBe('weekday-morning');
    expect(timeBucket(new Date('2026-03-02T12:00:00Z'))).toBe('weekday-afternoon');
    expect(timeBucket(new Date('2026-03-02T23:59:59Z'))).toBe('weekday-evening');
    expect(timeBucket(new Date('2026-03-06T23:59:59Z'))).toBe('weekday-evening'); // Friday night, UTC
    expect(timeBucket(new Date('2026-03-07T00:00:00Z'))).toBe('weekend-night');
    expect(timeBucket(new Date('2026-03-08T18:00:00Z'))).toBe('weekend-evening');
    expect(timeBucket(Date.parse('2026-03-08T13:00:00+05:00'))).toBe('weekend-morning'); // 08:00 UTC
    expect(timeBucket(new Date('2026-03-09T00:00:00Z'))).toBe('weekday-night'); // Monday again
  });

  it('gives each of the 8 buckets for 1/8 of the hours of a week', () => {
    const counts = new Map<string, number>();
    const monday = Date.UTC(2026, 2, 2);
    for (let h = 0; h < 168; h++) {
      const b = timeBucket(monday + h * 3600000);
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([...TIME_BUCKETS].sort());
    for (const b of TIME_BUCKETS) expect(counts.get(b)).toBe(b.startsWith('weekday') ? 30 : 12);
  });

  it('rejects an invalid date', () => {
    expect(() => timeBucket(new Date('nope'))).toThrow(RepricerError);
  });
});

describe('segment ids', () => {
  it('round-trip zone/asset/bucket, also for zones that hold a slash (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((z) => z !== ANY),
        fc.string({ minLength: 1 }).filter((a) => a !== ANY && !a.includes('/')),
        fc.constantFrom(...TIME_BUCKETS, ANY),
        (zone, asset, bucket) => {
          const id = segmentId(zone, asset, bucket);
          expect(parseSegmentId(id)).toEqual({ zone, asset, bucket });
        },
      ),
    );
    expect(segmentId('city/north', 'suv', 'weekday-evening')).toBe('city/north/suv/weekday-evening');
  });

  it('rejects an asset with a slash, an unknown bucket, an empty zone and malformed ids', () => {
    expect(() => segmentId('z', 'a/b', 'weekday-night')).toThrow(/asset id without "\/"/);
    expect(() => segmentId('z', 'a', 'monday' as never)).toThrow(/time bucket/);
    expect(() => segmentId('', 'a', 'weekday-night')).toThrow(/non-empty zone/);
    expect(() => parseSegmentId('z/a')).toThrow(/zone\/asset\/bucket/);
    expect(() => parseSegmentId('z/a/tuesday')).toThrow(/time bucket/);
    expect(() => parseSegmentId('/a/weekday-night')).toThrow(RepricerError);
  });

  it('coarser segmentations put * in the dimensions they leave out', () => {
    expect(segmentOf(['zone', 'asset', 'time'], 'z', 'a', 'weekend-night')).toBe('z/a/weekend-night');
    expect(segmentOf(['zone', 'time'], 'z', 'a', 'weekend-night')).toBe('z/*/weekend-night');
    expect(segmentOf(['asset'], 'z', 'a', 'weekend-night')).toBe('*/a/*');
    expect(parseSegmentDimensions('time, zone')).toEqual(['zone', 'time']);
    expect(() => parseSegmentDimensions('zone,zone')).toThrow(/twice/);
    expect(() => parseSegmentDimensions('zone,city')).toThrow(/zone, asset, time/);
    expect(() => parseSegmentDimensions('')).toThrow(RepricerError);
  });
});
