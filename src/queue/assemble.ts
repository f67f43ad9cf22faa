/**
 * The end of a distributed run (docs/scale-out.md "Finalising"): once every shard has a part, the
 * manifest (`<out>.parts/manifest.json`: each part's shard, rows, bytes and SHA-256) is written,
 * then the parts are concatenated in shard order into a temporary file beside `<out>`, each part's
 * length checked against its shard's report, flushed to disk and renamed to `<out>`, unless the
 * run was cancelled meanwhile (runStore.ts decides that atomically). With --parts-only the
 * manifest is the output. Rejected rows go the same way to `<out>.rejects.csv` under one header.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RepricerError, writeFailure } from '../core/errors.js';
import { tempPathFor, writeFileAtomic } from '../core/atomic.js';
import { REJECTS_HEADER } from '../batch/jobOutput.js';
import type { PartRecord, RunSpec } from './runStore.js';
import { partsDir } from './shardPlan.js';

export const MANIFEST_FORMAT = 'repricer.parts/1';

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  runId: string;
  /** SHA-256 of the model file */
  model: string;
  catalogs: string[];
  out: string;
  rows: number;
  bytes: number;
  rejects: number;
  parts: (PartRecord & { input: { file: string; start: number; end: number } })[];
}

export const manifestPath = (out: string): string => join(partsDir(out), 'manifest.json');

export function readManifest(out: string): Manifest | undefined {
  const p = manifestPath(out);
  if (!existsSync(p)) return undefined;
  try {
    const m = JSON.parse(readFileSync(p, 'utf8')) as Manifest;
    return m.format === MANIFEST_FORMAT ? m : undefined;
  } catch {
    return undefined;
  }
}

/** The manifest of a run whose every shard has its part (in any order, duplicates allowed). */
export function buildManifest(spec: RunSpec, parts: PartRecord[]): Manifest {
  const byShard = new Map<number, PartRecord>();
  for (const p of parts) byShard.set(p.shard, p);
  const missing = spec.shards.filter((s) => !byShard.has(s.index)).map((s) => s.index);
  if (missing.length) throw new RepricerError('JOB_FAILED', `run ${spec.runId}: no part for shard${missing.length > 1 ? 's' : ''} ${missing.slice(0, 10).join(', ')}`);
  const ordered = spec.shards.map((s) => ({ ...byShard.get(s.index)!, input: { file: s.file, start: s.start, end: s.end } }));
  return {
    format: MANIFEST_FORMAT,
    runId: spec.runId,
    model: spec.modelSha,
    catalogs: spec.catalogs,
    out: spec.out,
    rows: ordered.reduce((a, p) => a + p.rows, 0),
    bytes: ordered.reduce((a, p) => a + p.bytes, 0),
    rejects: ordered.reduce((a, p) => a + p.rejects, 0),
    parts: ordered,
  };
}

function writeAll(fd: number, b: Uint8Array): void {
  for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
}

/**
 * Concatenate files into `fd`, checking each one's length against its shard's report. The parts
 * are not hashed again here: under the machine's load SHA-256 ran at ~300 MB/s, six seconds for a
 * 10 M-SKU output on the one machine that assembles it (bench/RESULTS.md); the manifest carries each
 * part's SHA-256 (computed by the worker that wrote it) for whoever wants to check them.
 */
function concatChecked(fd: number, files: { path: string; sha256: string; bytes: number }[]): void {
  const buf = Buffer.allocUnsafe(4 << 20);
  for (const f of files) {
    let n = 0;
    const inFd = openSync(f.path, 'r');
    try {
      const size = fstatSync(inFd).size;
      if (size !== f.bytes) throw new RepricerError('JOB_FAILED', `${f.path}: the part changed after its shard finished (${size} bytes; the shard reported ${f.bytes})`, { file: f.path });
      for (;;) {
        const k = readSync(inFd, buf, 0, buf.length, n);
        if (k === 0) break;
        writeAll(fd, buf.subarray(0, k));
        n += k;
      }
    } finally {
      closeSync(inFd);
    }
    if (n !== f.bytes) throw new RepricerError('JOB_FAILED', `${f.path}: the part changed while it was copied (${n} bytes read; the shard reported ${f.bytes})`, { file: f.path });
  }
}

/** Concatenate into a temporary file beside `target`, flushed to disk; returns the temporary path. */
function concatToTemp(target: string, what: string, head: string, files: { path: string; sha256: string; bytes: number }[]): string {
  const tmp = tempPathFor(target);
  try {
    const fd = openSync(tmp, 'w');
    try {
      if (head) writeAll(fd, Buffer.from(head));
      concatChecked(fd, files);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    rmSync(tmp, { force: true });
    if (err instanceof RepricerError) throw err;
    throw writeFailure(target, what, err);
  }
  return tmp;
}

/**
 * Write the manifest, then (unless parts only) the assembled output under temporary names.
 * `commit` is asked just before the renames: false (the run was cancelled) removes the temporary
 * files and renames nothing.
 */
export async function assembleRun(spec: RunSpec, parts: PartRecord[], commit: () => Promise<boolean>): Promise<{ manifest: Manifest; committed: boolean }> {
  const manifest = buildManifest(spec, parts);
  const dir = partsDir(spec.out);
  writeFileAtomic(manifestPath(spec.out), JSON.stringify(manifest, null, 2) + '\n', 'manifest');
  if (spec.partsOnly) {
    const committed = await commit();
    // a cancelled run leaves no output: with --parts-only the manifest is the output
    if (!committed) rmSync(manifestPath(spec.out), { force: true });
    return { manifest, committed };
  }
  const prices = concatToTemp(spec.out, 'prices', '', manifest.parts.map((p) => ({ path: join(dir, p.file), sha256: p.sha256, bytes: p.bytes })));
  const rejectsOut = `${spec.out}.rejects.csv`;
  const withRejects = manifest.parts.filter((p) => p.rejects > 0 && p.rejectsFile);
  let rejects: string | undefined;
  try {
    if (withRejects.length) rejects = concatToTemp(rejectsOut, 'rejected rows', REJECTS_HEADER, withRejects.map((p) => ({ path: join(dir, p.rejectsFile!), sha256: p.rejectsSha256!, bytes: p.rejectsBytes! })));
  } catch (err) {
    rmSync(prices, { force: true });
    throw err;
  }
  if (!(await commit())) {
    rmSync(prices, { force: true });
    if (rejects) rmSync(rejects, { force: true });
    return { manifest, committed: false };
  }
  try {
    if (rejects) renameSync(rejects, rejectsOut);
    renameSync(prices, spec.out);
  } catch (err) {
    throw writeFailure(spec.out, 'prices', err);
  }
  removeAttemptLeftovers(dir);
  return { manifest, committed: true };
}

/**
 * Temporary parts of attempts that died (`.shard-*`): every shard has its part now, so they are
 * never renamed into place. An attempt still running somewhere (a stalled worker) loses its
 * temporary file and fails its rename; its shard's part is already there.
 */
function removeAttemptLeftovers(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith('.shard-')) rmSync(join(dir, n), { force: true });
}

/** A finished run's output still in place: the manifest of this run, and `<out>` of its length. */
export function finishedOutput(spec: Pick<RunSpec, 'runId' | 'out' | 'partsOnly'>): Manifest | undefined {
  const m = readManifest(spec.out);
  if (!m || m.runId !== spec.runId) return undefined;
  if (spec.partsOnly) return m;
  try {
    return statSync(spec.out).size === m.bytes ? m : undefined;
  } catch {
    return undefined;
  }
}
