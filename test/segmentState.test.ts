/**
 * The segment breaker's rules one by one: what a row counts as (pricing/segmentBreaker.ts), when a
 * segment trips, how the state moves from run to run (pricing/segmentState.ts), and the hold of a
 * segment's row in the guardrails (pricing/guardrails.ts).
 */
import { describe, expect, it } from 'vitest';
import { emptyPriceColumns, type PriceColumns } from '../src/pricing/engine.js';
import { countSegments, judgeSegment, SegmentTally } from '../src/pricing/segmentBreaker.js';
import { advanceState, emptyState, resetSegments, validateState } from '../src/pricing/segmentState.js';
import { applyPolicy } from '../src/pricing/guardrails.js';
import { REASON_BIT, STATUS_CODE, reasonMaskPossible, reasonString, type SegmentBreakerPolicy } from '../src/pricing/policy.js';

/** Price columns of rows given as [price, previous price, gamma, std error, status]. */
function priced(rows: [number, number, number, number, number][]): PriceColumns {
  const p = emptyPriceColumns(rows.length);
  rows.forEach(([price, prev, gamma, se, status], i) => {
    p.price[i] = price;
    p.previousPrice[i] = prev;
    p.changePct[i] = Number.isFinite(prev) && prev !== 0 ? (100 * (price - prev)) / prev : NaN;
    p.gamma[i] = gamma;
    p.priceStdError[i] = se;
    p.status[i] = status;
  });
  return p;
}

const OK = STATUS_CODE.ok;
const run = (n: number) => ({ id: `run ${n}`, at: `2026-12-0${n}T02:00:00.000Z` });

describe('segment breaker: the measure', () => {
  const b: SegmentBreakerPolicy = { maxMovePct: 10, maxShareMovedPct: 25, maxGamma: 1, maxStdErrorPct: 5 };

  it('counts published rows of a segment; moves only among rows with a current price; NaN Greeks fail closed, a missing standard error does not', () => {
    const p = priced([
      [12, 10, -0.1, 0.1, OK], // a: moves 20 %
      [10.5, 10, -0.1, 0.1, OK], // a: 5 %
      [10, NaN, -0.1, 0.1, OK], // a: no current price: counted, cannot move
      [10, 10, NaN, NaN, OK], // a: gamma NaN breaks (fail closed); no standard error: none to judge
      [NaN, 10, NaN, NaN, STATUS_CODE.rejected], // a: rejected, not counted
      [10, 10, -5, 1, OK], // b: |gamma| 5 > 1 and se 10 % > 5 %
      [30, 10, -0.1, 0.1, OK], // no segment
    ]);
    const c = countSegments({ codes: Int32Array.from([0, 0, 0, 0, 0, 1, -1]), names: ['a', 'b'] }, p, b);
    const t = new SegmentTally();
    t.add(c);
    t.add(c); // two chunks with the same rows: counts add by name
    const a = t.segments().get('a')!;
    expect(a).toEqual({ rows: 8, withPrice: 6, moved: 2, delta: 0, gamma: 2, vega: 0, stdError: 0, breached: 2 });
    expect(t.segments().get('b')).toEqual({ rows: 2, withPrice: 2, moved: 0, delta: 0, gamma: 2, vega: 0, stdError: 2, breached: 2 });
    // a: 2 of 6 move (33 % > 25 %), 2 of 8 beyond gamma (25 %, not more than 25 %)
    const va = judgeSegment(b, 'a', a);
    expect(va.why.map((w) => [w.measure, w.sharePct])).toEqual([['moves', 100 / 3]]);
    expect(va.breachSharePct).toBe(25);
    const vb = judgeSegment(b, 'b', t.segments().get('b')!);
    expect(vb.why.map((w) => w.measure)).toEqual(['gamma', 'std_error']);
    // a segment's own thresholds come first
    expect(judgeSegment({ ...b, segments: { a: { maxShareMovedPct: 40 } } }, 'a', a).why).toEqual([]);
  });
});

describe('segment breaker: the state from run to run', () => {
  const b: SegmentBreakerPolicy = { maxMovePct: 10, maxShareMovedPct: 25, resumeAfterRuns: 2, segments: { slow: { resumeAfterRuns: 3 } } };
  const tally = (moves: Record<string, [number, number]>) => {
    const t = new SegmentTally();
    const names = Object.keys(moves);
    t.add({ names, counts: names.flatMap((n) => [moves[n][1], moves[n][1], moves[n][0], 0, 0, 0, 0, 0]) });
    return t;
  };

  it('trips, stays held while dirty or short of K clean runs, keeps a segment with no rows as it is, resumes after K', () => {
    const d1 = advanceState(emptyState(), tally({ toys: [50, 100], slow: [50, 100], calm: [1, 100] }), b, run(1));
    expect(d1.held).toEqual(['slow', 'toys']);
    expect(d1.reports.map((r) => [r.segment, r.action])).toEqual([['slow', 'tripped'], ['toys', 'tripped']]);
    expect(d1.state.segments.toys).toEqual({ trippedAt: run(1).at, trippedRun: run(1).id, why: [{ measure: 'moves', sharePct: 50, limitPct: 25, threshold: 10 }], cleanRuns: 0, resumeAfterRuns: 2 });
    expect(d1.measured).toBe(3);

    // toys clean once, slow absent (no evidence), a new segment trips
    const d2 = advanceState(d1.state, tally({ toys: [1, 100], calm: [1, 100], new: [90, 100] }), b, run(2));
    expect(d2.reports.map((r) => [r.segment, r.action, r.cleanRuns])).toEqual([['new', 'tripped', 0], ['slow', 'held', 0], ['toys', 'held', 1]]);
    expect(d2.state.segments.slow).toEqual(d1.state.segments.slow);

    // toys dirty again: its clean count restarts, it keeps the run it first tripped in
    const d3 = advanceState(d2.state, tally({ toys: [30, 100] }), b, run(3));
    expect(d3.state.segments.toys).toMatchObject({ cleanRuns: 0, trippedRun: run(1).id, why: [{ sharePct: 30 }] });

    let s = d3.state;
    for (const k of [4, 5]) s = advanceState(s, tally({ toys: [0, 100], slow: [0, 100] }), b, run(k)).state;
    // two clean runs: toys resumed; slow needs three
    expect(Object.keys(s.segments)).toEqual(['new', 'slow']);
    const d6 = advanceState(s, tally({ slow: [0, 100] }), b, run(6));
    expect(d6.reports.find((r) => r.segment === 'slow')).toMatchObject({ action: 'resumed', cleanRuns: 3, resumeAfterRuns: 3 });
    expect(d6.held).toEqual(['new']);
  });

  it('is reset by hand (one, or all); an unknown segment is NOT_FOUND; a document is validated', () => {
    const s = advanceState(emptyState(), tally({ a: [90, 100], b: [90, 100] }), b, run(1)).state;
    expect(Object.keys(resetSegments(s, ['a'], false).state.segments)).toEqual(['b']);
    expect(resetSegments(s, [], true).resumed).toEqual(['a', 'b']);
    expect(() => resetSegments(s, ['c'], false)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(validateState(JSON.parse(JSON.stringify(s)), 'x')).toEqual(s);
    expect(() => validateState({ ...s, format: 'repricer.breakers/2' }, 'f.json')).toThrow(/f\.json: not a repricer\.breakers\/1 breaker state/);
    expect(() => validateState({ ...s, segments: { a: { ...s.segments.a, cleanRuns: -1 } } }, 'f.json')).toThrow(/cleanRuns/);
  });
});

describe('segment breaker: the hold of a row', () => {
  const row = { productId: 'P', modelPrice: 20, cost: 8, currentPrice: 10, minPrice: NaN, maxPrice: NaN, mapPrice: NaN, gamma: -1, stdError: 0.1 };

  it('holds today\'s price, inside every hard bound; the row breaker\'s reason comes first; no current price: priced as usual', () => {
    expect(applyPolicy({}, row, false, true)).toMatchObject({ price: 10, status: STATUS_CODE.held, reasons: REASON_BIT.segment_breaker });
    // a margin floor above today's price: held on the floor (and the grid), with its reason
    const r = applyPolicy({ minMarginOverCost: 1.3, rounding: { step: 0.05 } }, row, true, true);
    expect(r).toMatchObject({ price: 10.4, status: STATUS_CODE.held });
    expect(reasonString(r.reasons)).toBe('cold_start;margin_floor;segment_breaker');
    expect(applyPolicy({ breaker: { requireConcave: true } }, { ...row, gamma: 1 }, false, true).reasons).toBe(REASON_BIT.breaker_gamma);
    expect(applyPolicy({}, { ...row, currentPrice: NaN }, false, true)).toMatchObject({ price: 20, status: STATUS_CODE.ok });
    expect(applyPolicy({}, row, false, false).price).toBe(20);
  });

  it('the formatters print every mask a held row can have, and the breakers exclude each other', () => {
    expect(reasonMaskPossible(REASON_BIT.segment_breaker | REASON_BIT.floor | REASON_BIT.rounded | REASON_BIT.step_infeasible | REASON_BIT.cold_start)).toBe(true);
    expect(reasonMaskPossible(REASON_BIT.segment_breaker | REASON_BIT.breaker_gamma)).toBe(false);
    expect(reasonMaskPossible(REASON_BIT.segment_breaker | REASON_BIT.max_step)).toBe(false);
    expect(reasonMaskPossible(REASON_BIT.segment_breaker | REASON_BIT.invalid_cost)).toBe(false);
  });
});
