/**
 * What the batch job reports: rows and rejects, status counts, the price-change histogram and
 * its labels, and where the time went.
 */
import type { CatalogResult } from './catalogTask.js';
import { CHANGE_BINS } from './catalogTask.js';
import type { RunDecision, SegmentReport } from '../pricing/segmentState.js';

/** The segment breaker's part of the summary (only when the policy has a segment breaker). */
export interface SegmentBreakerSummary {
  /** segments measured in this run */
  measured: number;
  /** newly tripped in this run (held) */
  tripped: SegmentReport[];
  /** tripped in an earlier run and still held (clean runs so far of those needed) */
  held: SegmentReport[];
  /** clean for resumeAfterRuns runs in a row: priced again from this run on */
  resumed: SegmentReport[];
  /** the measuring pass's wall time */
  measureSeconds: number;
  /** where the state was written (absent: trips applied to this run only) */
  stateFile?: string;
}

export function segmentSummary(d: RunDecision, measureSeconds: number, stateFile: string | undefined): SegmentBreakerSummary {
  const of = (a: SegmentReport['action']) => d.reports.filter((r) => r.action === a);
  return { measured: d.measured, tripped: of('tripped'), held: of('held'), resumed: of('resumed'), measureSeconds, ...(stateFile !== undefined ? { stateFile } : {}) };
}

export interface RepriceSummary {
  rows: number;
  status: Record<string, number>;
  changePct: { bins: string[]; counts: number[] };
  rejects: number;
  seconds: number;
  rowsPerSecond: number;
  workers: number;
  /**
   * summed worker milliseconds by phase (read: their own byte ranges; write: their own output,
   * waiting for their turn included), and main-thread read/write wall time
   */
  ms: { parse: number; kernels: number; format: number; read: number; write: number; mainRead: number; mainWrite: number };
  retries: number;
  /** chunks read by the reference JavaScript path instead of the fast one, and why (none: 0) */
  fallbacks: { chunks: number; reasons: Record<string, number> };
  /** temporary files of this output left by runs that were killed, removed before this one */
  staleTempsRemoved: string[];
  /** the segment breaker's outcome (docs/math.md §4.4), when the policy has one */
  segmentBreaker?: SegmentBreakerSummary;
  /** `--publish`: the run id and the rows written to Redis (job.ts) */
  published?: { runId: string; modelSha256: string; publishedAt: string; published: number; removed: number };
}

/** Labels of the change-percent bins (CHANGE_BINS edges, one more bin than edges). */
export function changeBinLabels(): string[] {
  const labels: string[] = [];
  const edges = CHANGE_BINS;
  labels.push(`<= ${edges[0]}%`);
  // edges +-1e-9 stand for 0: the bin between them is "unchanged", its neighbours open at 0
  const show = (e: number) => (Math.abs(e) === 1e-9 ? '0' : String(e));
  for (let i = 1; i < edges.length; i++) {
    if (i === 5) labels.push('unchanged');
    else if (i === 4) labels.push(`(${show(edges[i - 1])}, 0)%`);
    else labels.push(`(${show(edges[i - 1])}, ${show(edges[i])}]%`);
  }
  labels.push(`> ${edges[edges.length - 1]}%`);
  return labels;
}

/** Counts summed over the chunks written so far. */
export class JobTally {
  rows = 0;
  rejects = 0;
  private readonly status = [0, 0, 0, 0, 0];
  private readonly bins = new Array<number>(CHANGE_BINS.length + 1).fill(0);
  /** summed worker milliseconds by phase */
  private readonly workerMs = { parse: 0, kernels: 0, format: 0, read: 0, write: 0 };
  private fallbackChunks = 0;
  private readonly fallbackReasons: Record<string, number> = {};

  add(r: CatalogResult): void {
    this.rejects += r.rejects.length;
    this.rows += r.n;
    r.status.forEach((c, i) => (this.status[i] += c));
    r.changeBins.forEach((c, i) => (this.bins[i] += c));
    this.workerMs.parse += r.ms.parse;
    this.workerMs.kernels += r.ms.kernels;
    this.workerMs.format += r.ms.format;
    this.workerMs.read += r.ms.read ?? 0;
    this.workerMs.write += r.ms.write ?? 0;
    if (r.fallback) {
      this.fallbackChunks++;
      this.fallbackReasons[r.fallback] = (this.fallbackReasons[r.fallback] ?? 0) + 1;
    }
  }

  summary(job: { seconds: number; workers: number; retries: number; mainRead: number; mainWrite: number; staleTempsRemoved: string[] }): RepriceSummary {
    const s = this.status;
    const { seconds } = job;
    return {
      rows: this.rows,
      status: { ok: s[0], clipped: s[1], held: s[2], cold_start: s[3], rejected: s[4] },
      changePct: { bins: changeBinLabels(), counts: this.bins },
      rejects: this.rejects,
      seconds,
      rowsPerSecond: this.rows / seconds,
      workers: job.workers,
      ms: { ...this.workerMs, mainRead: job.mainRead, mainWrite: job.mainWrite },
      retries: job.retries,
      fallbacks: { chunks: this.fallbackChunks, reasons: { ...this.fallbackReasons } },
      staleTempsRemoved: job.staleTempsRemoved,
    };
  }
}
