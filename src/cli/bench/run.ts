/**
 * `repricer bench`: runs the sections in order in a scratch folder, collects the report, prints
 * the table and writes the JSON. A section that fails is reported as skipped with its error; the
 * others still run.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.js';
import { describeMachine } from './machine.js';
import { detectPython } from './peers.js';
import { SECTIONS, disagreements, formatTable, type BenchReport, type BenchRow, type SectionName, type SectionResult } from './report.js';
import { SIZES, type Mode } from './sizes.js';
import { runKernels } from './kernels.js';
import { runFit } from './fit.js';
import { runBatch } from './batch.js';
import { runHttp } from './http.js';

export interface BenchOptions {
  mode: Mode;
  sections?: SectionName[];
  json?: string;
  /** scratch folder, kept afterwards; default a temporary folder, removed */
  dir?: string;
  python: string;
  peers: boolean;
  command: string;
  /** progress lines (stderr) */
  log?: (line: string) => void;
}

export async function runBench(o: BenchOptions): Promise<{ report: BenchReport; table: string; disagreements: string[] }> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const sizes = SIZES[o.mode];
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'repricer-bench-'));
  if (o.dir) mkdirSync(o.dir, { recursive: true });
  const machine = describeMachine();
  const python = detectPython(o.python, o.peers);
  log(`python peers: ${python.available ? `${python.executable}${python.pandas ? '' : ' (no pandas: batch peer skipped)'}` : `skipped (${python.reason ?? '?'})`}`);
  const want = new Set(o.sections ?? SECTIONS);
  const sections = {} as Record<SectionName, SectionResult>;
  const runners: Record<SectionName, () => Promise<BenchRow[]>> = {
    kernels: async () => runKernels(sizes).rows,
    fit: () => runFit(sizes, dir, python),
    batch: () => runBatch(sizes, dir, python),
    http: () => runHttp(sizes),
  };
  try {
    for (const name of SECTIONS) {
      if (!want.has(name)) {
        sections[name] = { ran: false, skipped: 'not selected (--sections)', rows: [], seconds: 0 };
        continue;
      }
      log(`${name} ...`);
      const s0 = performance.now();
      try {
        const rows = await runners[name]();
        sections[name] = { ran: true, rows, seconds: (performance.now() - s0) / 1000 };
      } catch (err) {
        sections[name] = { ran: false, skipped: `failed: ${err instanceof Error ? err.message : String(err)}`, rows: [], seconds: (performance.now() - s0) / 1000 };
      }
      log(`${name} done in ${sections[name].seconds.toFixed(1)} s`);
    }
  } finally {
    if (!o.dir) rmSync(dir, { recursive: true, force: true });
  }
  machine.loadavgEnd = loadavg();
  const report: BenchReport = {
    format: 'repricer.bench/1',
    command: o.command,
    mode: o.mode,
    startedAt: new Date(Date.now() - (performance.now() - t0)).toISOString(),
    machine,
    python,
    sections,
    seconds: (performance.now() - t0) / 1000,
  };
  if (o.json) writeFileAtomic(o.json, JSON.stringify(report, null, 2) + '\n');
  return { report, table: formatTable(report), disagreements: disagreements(report) };
}
