/**
 * `repricer bench`: the shape of its JSON report and the one table it prints. Every section is a
 * list of rows; a row has repricer's figure, an optional comparison (the other WASM build, the
 * hello-world route) and an optional Python peer with its time, the ratio and the agreement check.
 */
import type { Machine } from './machine.js';

export type SectionName = 'kernels' | 'fit' | 'batch' | 'http';
export const SECTIONS: readonly SectionName[] = ['kernels', 'fit', 'batch', 'http'];

export interface Agreement {
  /** what was compared, e.g. "max |Δprice| / max(1, |price|)" */
  metric: string;
  value: number;
  tolerance: number;
  ok: boolean;
  detail?: string;
}

export interface PeerOutcome {
  /** the peer script (bench/peers/…) */
  script: string;
  ran: boolean;
  /** why it did not run (python or a module absent, no peer for this case) */
  reason?: string;
  /** the peer's own read -> written time */
  seconds?: number;
  /** peer seconds / repricer seconds: how many times longer the Python takes */
  ratio?: number;
  agreement?: Agreement;
}

export interface BenchRow {
  case: string;
  size: string;
  /** repricer's figure in `unit` (for times: the best of the runs) */
  value: number;
  unit: 'ms' | 's' | 'req/s';
  runs?: number[];
  note?: string;
  /** a figure of the same case measured another way (WASM scalar, hello-world) */
  compare?: { label: string; value: number; unit: 'ms' | 's' | 'req/s'; ratio: number; ratioLabel: string };
  peer?: PeerOutcome;
}

export interface SectionResult {
  ran: boolean;
  skipped?: string;
  rows: BenchRow[];
  seconds: number;
}

export interface BenchReport {
  format: 'repricer.bench/1';
  command: string;
  mode: 'smoke' | 'quick' | 'full';
  startedAt: string;
  machine: Machine;
  python: { executable: string; available: boolean; reason?: string; numpyScipy: boolean; pandas: boolean; versions?: Record<string, string> };
  sections: Record<SectionName, SectionResult>;
  seconds: number;
}

function fmtValue(v: number, unit: string): string {
  if (unit === 'req/s') return `${Math.round(v)} req/s`;
  if (unit === 'ms') return `${v < 10 ? v.toFixed(3) : v.toFixed(1)} ms`;
  return `${v.toFixed(v < 10 ? 3 : 2)} s`;
}

function peerCell(p: PeerOutcome | undefined): [string, string, string] {
  if (!p) return ['', '', ''];
  if (!p.ran) return [`skipped: ${p.reason ?? '?'}`, '', ''];
  const a = p.agreement;
  const agree = a ? `${a.ok ? 'agree' : 'DISAGREE'} (${a.metric} ${a.value.toExponential(1)} <= ${a.tolerance.toExponential(0)}${a.ok ? '' : ' FAILED'})` : 'not checked';
  return [`python ${fmtValue(p.seconds ?? NaN, 's')}`, p.ratio !== undefined ? `${p.ratio.toFixed(2)}x` : '', agree];
}

/** The report as one plain-text table, machine lines first. */
export function formatTable(r: BenchReport): string {
  const m = r.machine;
  const head = [
    `repricer bench (${r.mode}): ${m.cpu}, ${m.cores} cores, node ${m.node}, WASM SIMD ${m.wasmSimd ? 'on' : 'off'}, ${m.platform}; load average ${m.loadavgStart.map((x) => x.toFixed(1)).join(' ')} at start, ${m.loadavgEnd.map((x) => x.toFixed(1)).join(' ')} at end`,
    `python peers: ${r.python.available ? `${r.python.executable} (${Object.entries(r.python.versions ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')})` : `skipped: ${r.python.reason ?? '?'}`}`,
    '',
  ];
  const rows: string[][] = [['section', 'case', 'size', 'repricer', 'compared with', 'ratio', 'python peer', 'python / repricer', 'answers']];
  for (const name of SECTIONS) {
    const s = r.sections[name];
    if (!s.ran) {
      rows.push([name, `skipped: ${s.skipped ?? '?'}`, '', '', '', '', '', '', '']);
      continue;
    }
    for (const row of s.rows) {
      const c = row.compare;
      rows.push([name, row.case, row.size, fmtValue(row.value, row.unit), c ? `${c.label} ${fmtValue(c.value, c.unit)}` : '', c ? `${c.ratio.toFixed(2)}x ${c.ratioLabel}` : '', ...peerCell(row.peer)]);
    }
  }
  // drop columns that are empty in every row (no peer anywhere, say)
  const keep = rows[0].map((_, j) => rows.slice(1).some((row) => row[j] !== ''));
  const cols = rows.map((row) => row.filter((_, j) => keep[j]));
  const width = cols[0].map((_, j) => Math.max(...cols.map((row) => row[j].length)));
  const line = (row: string[]) => `| ${row.map((cell, j) => cell.padEnd(width[j])).join(' | ')} |`;
  const table = [line(cols[0]), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cols.slice(1).map(line)];
  const notes = SECTIONS.flatMap((n) => r.sections[n].rows.filter((row) => row.note).map((row) => `- ${n}, ${row.case}: ${row.note}`));
  return [...head, ...table, ...(notes.length ? ['', ...notes] : []), '', `total ${r.seconds.toFixed(1)} s`].join('\n');
}

/** Every agreement that was checked and failed (the command exits non-zero on any). */
export function disagreements(r: BenchReport): string[] {
  const out: string[] = [];
  for (const n of SECTIONS) for (const row of r.sections[n].rows) if (row.peer?.agreement && !row.peer.agreement.ok) out.push(`${n}: ${row.case}: ${row.peer.agreement.metric} = ${row.peer.agreement.value} > ${row.peer.agreement.tolerance}`);
  return out;
}
