/**
 * The segment breaker's state in the server's SQLite store (docs/math.md §4.4): a table of the
 * tripped segments, the same document `repricer reprice --state` writes
 * (pricing/segmentState.ts). A single quote cannot measure a segment's share of moves, so the
 * server does not trip segments itself: it applies the stored state (quotes of a tripped segment
 * are held with `segment_breaker`), which comes from a batch run's state file (`serve
 * --breaker-state FILE` at start, or `PUT /v1/breakers`) and is resumed by hand with
 * `POST /v1/breakers/:segment/reset`.
 */
import type { Database as DB } from 'better-sqlite3';
import { RepricerError } from '../core/errors.js';
import { BREAKER_STATE_FORMAT, type BreakerState, type TrippedSegment } from '../pricing/segmentState.js';
import type { TripMeasure } from '../pricing/segmentBreaker.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS segment_breakers (
  segment TEXT PRIMARY KEY,
  tripped_at TEXT NOT NULL,
  tripped_run TEXT NOT NULL,
  why TEXT NOT NULL,
  clean_runs INTEGER NOT NULL,
  resume_after_runs INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
`;

interface Row {
  segment: string;
  tripped_at: string;
  tripped_run: string;
  why: string;
  clean_runs: number;
  resume_after_runs: number;
  updated_at: string;
}

/** A tripped segment as GET /v1/breakers lists it. */
export interface BreakerRecord {
  segment: string;
  tripped_at: string;
  tripped_run: string;
  why: TripMeasure[];
  clean_runs: number;
  resume_after_runs: number;
  updated_at: string;
}

export class SegmentBreakers {
  /** the tripped segments' names, read by every quote (kept in step with the table) */
  private held: ReadonlySet<string>;

  constructor(private readonly db: DB) {
    db.exec(SCHEMA);
    this.held = this.load();
  }

  private load(): Set<string> {
    return new Set((this.db.prepare('SELECT segment FROM segment_breakers').all() as { segment: string }[]).map((r) => r.segment));
  }

  /** The segments whose quotes are held. */
  heldSegments(): ReadonlySet<string> {
    return this.held;
  }

  list(): BreakerRecord[] {
    const rows = this.db.prepare('SELECT * FROM segment_breakers ORDER BY segment').all() as Row[];
    return rows.map((r) => ({ ...r, why: JSON.parse(r.why) as TripMeasure[] }));
  }

  /** Replace every breaker with those of a state document (a batch run's state file), in one transaction. */
  replace(state: BreakerState): number {
    const now = new Date().toISOString();
    const ins = this.db.prepare('INSERT INTO segment_breakers (segment, tripped_at, tripped_run, why, clean_runs, resume_after_runs, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const entries = Object.entries(state.segments) as [string, TrippedSegment][];
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM segment_breakers').run();
      for (const [name, t] of entries) ins.run(name, t.trippedAt, t.trippedRun, JSON.stringify(t.why), t.cleanRuns, t.resumeAfterRuns, state.updatedAt || now);
    })();
    this.held = this.load();
    return entries.length;
  }

  /** Resume one segment by hand; NOT_FOUND when it is not tripped. */
  reset(segment: string): BreakerRecord {
    const row = this.db.prepare('SELECT * FROM segment_breakers WHERE segment = ?').get(segment) as Row | undefined;
    if (!row) throw new RepricerError('NOT_FOUND', `segment ${JSON.stringify(segment)} is not tripped`, { segment });
    this.db.prepare('DELETE FROM segment_breakers WHERE segment = ?').run(segment);
    this.held = this.load();
    return { ...row, why: JSON.parse(row.why) as TripMeasure[] };
  }

  /** The table as a state document (the format of reprice --state). */
  state(): BreakerState {
    const segments: Record<string, TrippedSegment> = {};
    for (const r of this.list()) segments[r.segment] = { trippedAt: r.tripped_at, trippedRun: r.tripped_run, why: r.why, cleanRuns: r.clean_runs, resumeAfterRuns: r.resume_after_runs };
    return { format: BREAKER_STATE_FORMAT, updatedAt: new Date().toISOString(), lastRun: '', segments };
  }
}
