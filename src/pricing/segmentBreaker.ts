/**
 * The segment circuit breaker's measure (docs/math.md §4.4): per catalogue segment, how many of
 * its published rows would move more than `maxMovePct` % against current_price, and how many
 * break a Greek or standard-error threshold, and whether that trips the segment. The counts are
 * taken by whoever priced the rows (a batch worker over its chunk, the server over a body), merged
 * by segment name, and judged once with the segment's thresholds. The state that carries a trip
 * from run to run is segmentState.ts.
 */
import type { PriceColumns } from './engine.js';
import type { SegmentColumn } from './catalogColumns.js';
import { STATUS_CODE, type SegmentBreakerPolicy, type SegmentThresholds } from './policy.js';

/** Default clean runs in a row before a tripped segment resumes by itself. */
export const DEFAULT_RESUME_AFTER_RUNS = 2;

/** What is counted per segment, in this order (a segment's counts are COUNT_FIELDS.length numbers). */
export const COUNT_FIELDS = ['rows', 'withPrice', 'moved', 'delta', 'gamma', 'vega', 'stdError', 'breached'] as const;
type CountField = (typeof COUNT_FIELDS)[number];
const F: Record<CountField, number> = Object.fromEntries(COUNT_FIELDS.map((k, i) => [k, i])) as Record<CountField, number>;
const W = COUNT_FIELDS.length;

/**
 * Counts of one chunk (or merged chunks): segment names[k] has counts[k * W + field]. Plain
 * arrays, so a worker's result crosses threads by structured clone.
 */
export interface SegmentCounts {
  names: string[];
  counts: number[];
}

/** The thresholds that apply to a segment: the policy's, with the segment's own overrides. */
export function thresholdsFor(b: SegmentBreakerPolicy, segment: string): Required<Pick<SegmentThresholds, 'maxMovePct' | 'maxShareMovedPct' | 'resumeAfterRuns'>> & SegmentThresholds {
  const o = b.segments?.[segment];
  const pick = <K extends keyof SegmentThresholds>(k: K): SegmentThresholds[K] => (o && o[k] !== undefined ? o[k] : b[k]);
  return {
    maxMovePct: pick('maxMovePct')!,
    maxShareMovedPct: pick('maxShareMovedPct')!,
    maxAbsDelta: pick('maxAbsDelta'),
    maxGamma: pick('maxGamma'),
    maxVega: pick('maxVega'),
    maxStdErrorPct: pick('maxStdErrorPct'),
    resumeAfterRuns: pick('resumeAfterRuns') ?? DEFAULT_RESUME_AFTER_RUNS,
  };
}

/**
 * Count a priced chunk by segment (rows without a segment are not counted). A row counts when it
 * is published (not rejected); it `moved` when it has a current_price > 0 and
 * |change_pct| > maxMovePct; it breaks a Greek threshold when |Delta|, |Gamma| or |Vega| at the
 * published price is above its limit or NaN (fail closed, as the row breaker), or its price
 * standard error is above maxStdErrorPct % of the price (a row with no standard error — priced by
 * constant elasticity — has none to judge).
 */
export function countSegments(seg: SegmentColumn, p: PriceColumns, b: SegmentBreakerPolicy): SegmentCounts {
  const names = seg.names;
  const counts = new Array<number>(names.length * W).fill(0);
  const limits = names.map((name) => thresholdsFor(b, name));
  const codes = seg.codes;
  for (let i = 0; i < p.n; i++) {
    const k = codes[i];
    if (k < 0 || p.status[i] === STATUS_CODE.rejected) continue;
    const t = limits[k];
    const o = k * W;
    counts[o + F.rows]++;
    const prev = p.previousPrice[i];
    if (Number.isFinite(prev) && prev > 0) {
      counts[o + F.withPrice]++;
      if (Math.abs(p.changePct[i]) > t.maxMovePct) counts[o + F.moved]++;
    }
    let breached = false;
    if (t.maxAbsDelta !== undefined && !(Math.abs(p.delta[i]) <= t.maxAbsDelta)) {
      counts[o + F.delta]++;
      breached = true;
    }
    if (t.maxGamma !== undefined && !(Math.abs(p.gamma[i]) <= t.maxGamma)) {
      counts[o + F.gamma]++;
      breached = true;
    }
    if (t.maxVega !== undefined && !(Math.abs(p.vega[i]) <= t.maxVega)) {
      counts[o + F.vega]++;
      breached = true;
    }
    const se = p.priceStdError[i];
    if (t.maxStdErrorPct !== undefined && Number.isFinite(se) && se > (t.maxStdErrorPct / 100) * Math.abs(p.price[i])) {
      counts[o + F.stdError]++;
      breached = true;
    }
    if (breached) counts[o + F.breached]++;
  }
  return { names, counts };
}

/** Counts merged by segment name over the chunks of a run. */
export class SegmentTally {
  private readonly by = new Map<string, number[]>();

  add(c: SegmentCounts): void {
    c.names.forEach((name, k) => {
      let t = this.by.get(name);
      if (!t) this.by.set(name, (t = new Array<number>(W).fill(0)));
      for (let j = 0; j < W; j++) t[j] += c.counts[k * W + j];
    });
  }

  /** Every segment seen, with its counts by field name. */
  segments(): Map<string, Record<CountField, number>> {
    const out = new Map<string, Record<CountField, number>>();
    for (const [name, t] of this.by) out.set(name, Object.fromEntries(COUNT_FIELDS.map((k, j) => [k, t[j]])) as Record<CountField, number>);
    return out;
  }
}

/** One measure that tripped a segment: its share of rows against the limit. */
export interface TripMeasure {
  /** `moves`: rows moving more than maxMovePct; the others: rows beyond that Greek threshold */
  measure: 'moves' | 'delta' | 'gamma' | 'vega' | 'std_error';
  /** rows of the segment beyond the threshold, in % of its rows (moves: of its rows with a current_price) */
  sharePct: number;
  /** the share the segment may have (maxShareMovedPct) */
  limitPct: number;
  /** the threshold each row was held to (maxMovePct, maxAbsDelta, ...) */
  threshold: number;
}

/** A segment's verdict for one run. */
export interface SegmentVerdict {
  rows: number;
  /** rows moving more than maxMovePct, in % of the rows with a current_price (0 when none has one) */
  movedSharePct: number;
  /** rows breaking any Greek or standard-error threshold, in % of the rows */
  breachSharePct: number;
  /** the measures over their limit; empty: clean */
  why: TripMeasure[];
}

/**
 * Judge a segment's counts: it trips when more than maxShareMovedPct % of its rows with a
 * current_price move more than maxMovePct %, or when more than that share of its rows break any
 * one Greek or standard-error threshold. A share, not any single row: one untrustworthy row is
 * the row breaker's to hold; the segment breaker is for a move that runs through the segment.
 */
export function judgeSegment(b: SegmentBreakerPolicy, segment: string, c: Record<CountField, number>): SegmentVerdict {
  const t = thresholdsFor(b, segment);
  const share = (k: number, of: number) => (of > 0 ? (100 * k) / of : 0);
  const why: TripMeasure[] = [];
  const movedSharePct = share(c.moved, c.withPrice);
  if (movedSharePct > t.maxShareMovedPct) why.push({ measure: 'moves', sharePct: movedSharePct, limitPct: t.maxShareMovedPct, threshold: t.maxMovePct });
  const greeks: [TripMeasure['measure'], number, number | undefined][] = [
    ['delta', c.delta, t.maxAbsDelta],
    ['gamma', c.gamma, t.maxGamma],
    ['vega', c.vega, t.maxVega],
    ['std_error', c.stdError, t.maxStdErrorPct],
  ];
  for (const [measure, k, limit] of greeks) {
    if (limit === undefined) continue;
    const s = share(k, c.rows);
    if (s > t.maxShareMovedPct) why.push({ measure, sharePct: s, limitPct: t.maxShareMovedPct, threshold: limit });
  }
  return { rows: c.rows, movedSharePct, breachSharePct: share(c.breached, c.rows), why };
}
