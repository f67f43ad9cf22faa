/**
 * The segment breaker's state from run to run (docs/formats.md "Breaker state"): which segments
 * are tripped, since which run, why, and how many clean runs they have had since. A run measures
 * every segment (segmentBreaker.ts) and `advanceState` decides what is held: a segment that trips
 * is held; a tripped segment stays held until it has been measured clean `resumeAfterRuns` runs in
 * a row, and then resumes by itself. The batch job keeps the state in a JSON file (written
 * atomically), the server in its SQLite store; both read and write this one document.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { RepricerError, readFailure } from '../core/errors.js';
import { describeSchemaError } from '../core/schemaErrors.js';
import { writeFileAtomic } from '../core/atomic.js';
import type { SegmentBreakerPolicy } from './policy.js';
import { judgeSegment, thresholdsFor, type SegmentTally, type TripMeasure } from './segmentBreaker.js';

export const BREAKER_STATE_FORMAT = 'repricer.breakers/1';

/** A tripped segment. */
export interface TrippedSegment {
  /** when and in which run it tripped */
  trippedAt: string;
  trippedRun: string;
  /** the measures that tripped it (the latest run that was not clean) */
  why: TripMeasure[];
  /** runs measured clean in a row since it last was not */
  cleanRuns: number;
  /** the clean runs it needs to resume (the policy's resumeAfterRuns when it was last judged) */
  resumeAfterRuns: number;
}

export interface BreakerState {
  format: typeof BREAKER_STATE_FORMAT;
  /** the last run that wrote the state */
  updatedAt: string;
  lastRun: string;
  /** the tripped segments by name; a segment not listed is not tripped */
  segments: Record<string, TrippedSegment>;
}

export function emptyState(): BreakerState {
  return { format: BREAKER_STATE_FORMAT, updatedAt: '', lastRun: '', segments: {} };
}

const measureSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['measure', 'sharePct', 'limitPct', 'threshold'],
  properties: {
    measure: { enum: ['moves', 'delta', 'gamma', 'vega', 'std_error'] },
    sharePct: { type: 'number', minimum: 0, maximum: 100 },
    limitPct: { type: 'number', minimum: 0, maximum: 100 },
    threshold: { type: 'number', minimum: 0 },
  },
} as const;

export const breakerStateSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'segments'],
  properties: {
    format: { const: BREAKER_STATE_FORMAT },
    updatedAt: { type: 'string' },
    lastRun: { type: 'string' },
    segments: {
      type: 'object',
      propertyNames: { minLength: 1 },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['trippedAt', 'trippedRun', 'why', 'cleanRuns', 'resumeAfterRuns'],
        properties: {
          trippedAt: { type: 'string' },
          trippedRun: { type: 'string' },
          why: { type: 'array', items: measureSchema },
          cleanRuns: { type: 'integer', minimum: 0 },
          resumeAfterRuns: { type: 'integer', minimum: 1 },
        },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile(breakerStateSchema);

/** A state document checked against the schema (INVALID_BODY for a request, INPUT_UNREADABLE for a file). */
export function validateState(obj: unknown, where: string, code: 'INPUT_UNREADABLE' | 'INVALID_BODY' = 'INPUT_UNREADABLE'): BreakerState {
  if (!validate(obj)) {
    const msg = (validate.errors ?? []).map((e) => describeSchemaError(e, breakerStateSchema, 'field')).join('; ');
    throw new RepricerError(code, `${where}: not a ${BREAKER_STATE_FORMAT} breaker state: ${msg}`);
  }
  const s = obj as BreakerState;
  return { format: BREAKER_STATE_FORMAT, updatedAt: s.updatedAt ?? '', lastRun: s.lastRun ?? '', segments: s.segments };
}

/** The state in `file`; a file that does not exist yet is the empty state (the first run). */
export function loadState(file: string): BreakerState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw readFailure(file, 'breaker state', err);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new RepricerError('INPUT_UNREADABLE', `${file}: not valid JSON (${(err as Error).message})`, { file });
  }
  return validateState(obj, file);
}

/** Write the state through a temporary file renamed into place (core/atomic.ts). */
export function saveState(file: string, s: BreakerState): void {
  writeFileAtomic(file, JSON.stringify(s, null, 2) + '\n', 'breaker state');
}

/** What a run did to one segment, for the summary. */
export interface SegmentReport {
  segment: string;
  /** tripped: newly, this run; held: tripped before and still held; resumed: clean long enough, priced again */
  action: 'tripped' | 'held' | 'resumed';
  /** published rows of the segment measured this run (0: none in this catalogue) */
  rows: number;
  movedSharePct: number;
  breachSharePct: number;
  why: TripMeasure[];
  cleanRuns: number;
  resumeAfterRuns: number;
  trippedAt: string;
  trippedRun: string;
}

/** The outcome of a run: the segments to hold, the next state, and what happened to each segment. */
export interface RunDecision {
  held: string[];
  state: BreakerState;
  reports: SegmentReport[];
  /** segments measured in the run */
  measured: number;
}

/**
 * One run's step: every measured segment is judged; a segment that trips is held (and its clean
 * count restarts); a tripped segment measured clean counts one more clean run and resumes when it
 * reaches resumeAfterRuns; a tripped segment without rows in this run keeps its state (no
 * evidence either way). `prev` is not modified.
 */
export function advanceState(prev: BreakerState, tally: SegmentTally, b: SegmentBreakerPolicy, run: { id: string; at: string }): RunDecision {
  const segments: Record<string, TrippedSegment> = {};
  const reports: SegmentReport[] = [];
  const held: string[] = [];
  const seen = tally.segments();
  for (const [name, counts] of seen) {
    const v = judgeSegment(b, name, counts);
    const before = prev.segments[name];
    const resumeAfterRuns = thresholdsFor(b, name).resumeAfterRuns;
    const base = { segment: name, rows: v.rows, movedSharePct: v.movedSharePct, breachSharePct: v.breachSharePct, resumeAfterRuns };
    if (v.why.length) {
      const t: TrippedSegment = before
        ? { ...before, why: v.why, cleanRuns: 0, resumeAfterRuns }
        : { trippedAt: run.at, trippedRun: run.id, why: v.why, cleanRuns: 0, resumeAfterRuns };
      segments[name] = t;
      held.push(name);
      reports.push({ ...base, action: before ? 'held' : 'tripped', why: v.why, cleanRuns: 0, trippedAt: t.trippedAt, trippedRun: t.trippedRun });
    } else if (before) {
      const cleanRuns = before.cleanRuns + 1;
      const r = { ...base, why: before.why, cleanRuns, trippedAt: before.trippedAt, trippedRun: before.trippedRun };
      if (cleanRuns >= resumeAfterRuns) reports.push({ ...r, action: 'resumed' });
      else {
        segments[name] = { ...before, cleanRuns, resumeAfterRuns };
        held.push(name);
        reports.push({ ...r, action: 'held' });
      }
    }
  }
  for (const [name, t] of Object.entries(prev.segments)) {
    if (seen.has(name)) continue;
    segments[name] = t;
    held.push(name);
    reports.push({ segment: name, action: 'held', rows: 0, movedSharePct: 0, breachSharePct: 0, why: t.why, cleanRuns: t.cleanRuns, resumeAfterRuns: t.resumeAfterRuns, trippedAt: t.trippedAt, trippedRun: t.trippedRun });
  }
  const byName = (a: string, b2: string) => (a < b2 ? -1 : a > b2 ? 1 : 0);
  reports.sort((a, b2) => byName(a.segment, b2.segment));
  held.sort(byName);
  // the file lists segments by name, whatever order the chunks met them in
  const sorted = Object.fromEntries(Object.keys(segments).sort(byName).map((k) => [k, segments[k]]));
  return { held, state: { format: BREAKER_STATE_FORMAT, updatedAt: run.at, lastRun: run.id, segments: sorted }, reports, measured: seen.size };
}

/**
 * Resume segments by hand: `segments` (each must be tripped, else NOT_FOUND naming it), or every
 * tripped segment when `all`. Returns the new state and the names resumed.
 */
export function resetSegments(s: BreakerState, segments: string[], all: boolean): { state: BreakerState; resumed: string[] } {
  const names = all ? Object.keys(s.segments) : segments;
  for (const n of names) {
    if (!Object.hasOwn(s.segments, n)) {
      const tripped = Object.keys(s.segments);
      throw new RepricerError('NOT_FOUND', `segment ${JSON.stringify(n)} is not tripped (tripped: ${tripped.length ? tripped.map((t) => JSON.stringify(t)).join(', ') : 'none'})`, { segment: n });
    }
  }
  const rest = { ...s.segments };
  for (const n of names) delete rest[n];
  return { state: { ...s, segments: rest }, resumed: names };
}
