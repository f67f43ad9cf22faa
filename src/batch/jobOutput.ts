/**
 * The batch job's files: the prices (CSV, NDJSON or Parquet) and, with --on-error skip, the
 * rejected rows. Both are written under temporary names beside their targets, flushed to disk,
 * renamed into place only when the whole job succeeded, and removed otherwise. A file-system error
 * while writing (a full disk, no permission) is OUTPUT_UNWRITABLE naming the target file.
 */
import type { OutputColumns } from '../pricing/engine.js';
import { closeSync, fdatasync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { writeAllAt } from './outputBoard.js';
import { fsyncFile, removeStaleTemps } from '../core/atomic.js';
import { writeFailure } from '../core/errors.js';
import { dirname, basename, join, resolve } from 'node:path';
import type { RowGroup } from 'hyparquet';
import { csvHeader, csvField } from '../records/formatChunk.js';
import { ParquetPriceWriter } from '../records/parquet.js';
import type { CatalogResult } from './catalogTask.js';

const tempName = (file: string) => join(dirname(resolve(file)), `.${basename(file)}.${process.pid}.tmp`);

function writeAll(fd: number, data: Uint8Array | string): void {
  const b = typeof data === 'string' ? Buffer.from(data) : data;
  for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
}

/** The first line of a rejects file (docs/formats.md). */
export const REJECTS_HEADER = 'line,reason,raw\n';

export class JobOutput {
  private readonly outAbs: string;
  private readonly tmp: string;
  private readonly rejectsTmp: string;
  private fd: number | undefined;
  private pq: ParquetPriceWriter | undefined;
  private rejFd: number | undefined;
  /** main-thread milliseconds spent writing */
  writeMs = 0;
  /** text output: bytes written at the file's own position (the header, and everything on the main-thread path) */
  written = 0;
  /** an fdatasync of the text output in flight (`flushAhead`) */
  private flushing: Promise<void> | undefined;
  /** temporary files of this output left by killed runs, removed by open() */
  staleRemoved: string[] = [];

  constructor(
    private readonly outPath: string,
    readonly format: 'csv' | 'ndjson' | 'parquet',
    private readonly rejectsPath: string,
    /** false: no CSV header on the prices (a shard after the first, src/queue/) */
    private readonly header = true,
    /** false: no header on the rejects (every shard: the run's assembly writes one) */
    private readonly rejectsHeader = true,
  ) {
    this.outAbs = resolve(outPath);
    this.tmp = tempName(this.outAbs);
    this.rejectsTmp = tempName(rejectsPath);
  }

  /** Run a write of the prices (or of the rejects); a file-system error names the file the user asked for. */
  private prices<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw writeFailure(this.outPath, 'prices', err);
    }
  }

  private rejectsFile<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw writeFailure(this.rejectsPath, 'rejected rows', err);
    }
  }

  /** the optional output columns (blend weight, explanation); set before open() */
  columns: OutputColumns = {};

  /** Create the temporary files: the prices (with the CSV header) and, if asked, the rejects (with theirs). */
  async open(rejects: boolean): Promise<void> {
    this.staleRemoved = [...removeStaleTemps(this.outAbs), ...removeStaleTemps(resolve(this.rejectsPath))];
    this.prices(() => {
      if (this.format === 'parquet') this.pq = new ParquetPriceWriter(this.tmp, this.columns);
      else this.fd = openSync(this.tmp, 'w');
    });
    if (this.format === 'csv' && this.header) this.write(csvHeader(this.columns));
    if (rejects) {
      this.rejectsFile(() => {
        this.rejFd = openSync(this.rejectsTmp, 'w');
      });
      if (this.rejectsHeader) this.writeRej(REJECTS_HEADER);
    }
  }

  /** Text output bytes, written synchronously: a slot they sit in can be reused as soon as this returns. */
  write(data: Uint8Array | string): void {
    const t = performance.now();
    this.prices(() => writeAll(this.fd!, data));
    this.written += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    this.writeMs += performance.now() - t;
  }

  /** Text output: the temporary file's descriptor, for workers that write their chunks themselves (outputBoard.ts). */
  get textFd(): number {
    return this.fd!;
  }

  /** Text output bytes at an offset (a chunk a worker handed back), synchronously. */
  writeAt(data: Uint8Array, position: number): void {
    const t = performance.now();
    this.prices(() => writeAllAt(this.fd!, data, position));
    this.writeMs += performance.now() - t;
  }

  /**
   * Text output: start writing what is in the file so far to disk, in the background (a thread of
   * libuv's pool waits for the disk, not the main thread or a worker), so the fsync before the
   * rename has only the last stretch left to write. One at a time; errors are left to that fsync.
   */
  flushAhead(): void {
    if (this.fd === undefined || this.flushing) return;
    const fd = this.fd;
    this.flushing = new Promise<void>((done) => fdatasync(fd, () => done())).then(() => {
      this.flushing = undefined;
    });
  }

  /** Start again: both temporary files emptied, back to their headers (a range pass that found a quoted CSV). */
  async reset(rejects: boolean): Promise<void> {
    const stale = this.staleRemoved;
    this.discard();
    this.written = 0;
    await this.open(rejects);
    this.staleRemoved = stale;
  }

  /** Parquet output: an encoded row group, appended synchronously (a slot it sits in is free again after). */
  appendRowGroup(bytes: Uint8Array, rowGroup: RowGroup): void {
    const t = performance.now();
    this.prices(() => this.pq!.append({ bytes, rowGroup }));
    this.writeMs += performance.now() - t;
  }

  /** Rejected rows, written synchronously (they are few). */
  async writeRejects(rejects: CatalogResult['rejects']): Promise<void> {
    for (const j of rejects) this.writeRej(`${j.line},${csvField(j.reason)},${csvField(j.raw)}\n`);
  }

  private writeRej(data: string): void {
    const t = performance.now();
    this.rejectsFile(() => writeAll(this.rejFd!, data));
    this.writeMs += performance.now() - t;
  }

  /** Finish and close both files, rename the prices into place, and the rejects if there were any. */
  async commit(rejects: number): Promise<void> {
    await this.flushing;
    // every byte is on disk before a name points at it (a crash right after the rename must not
    // leave a complete-looking file with missing pages)
    this.prices(() => {
      if (this.pq) {
        this.pq.finish();
        fsyncFile(this.tmp);
      }
      if (this.fd !== undefined) {
        fsyncSync(this.fd);
        closeSync(this.fd);
        this.fd = undefined;
      }
    });
    if (this.rejFd !== undefined) {
      this.rejectsFile(() => {
        if (rejects > 0) fsyncSync(this.rejFd!);
        closeSync(this.rejFd!);
      });
      this.rejFd = undefined;
    }
    this.prices(() => renameSync(this.tmp, this.outAbs));
    if (rejects > 0) this.rejectsFile(() => renameSync(this.rejectsTmp, resolve(this.rejectsPath)));
    else rmSync(this.rejectsTmp, { force: true });
  }

  /** Close and remove both temporary files: nothing of a failed job is left behind. */
  discard(): void {
    // a flush still in flight may find its descriptor closed (EBADF, ignored) or, reused, flush
    // another file's pages: harmless either way
    this.flushing = undefined;
    for (const fd of [this.fd, this.rejFd]) {
      if (fd === undefined) continue;
      try {
        closeSync(fd);
      } catch {
        // closing a file whose writes failed may fail too; it is removed below either way
      }
    }
    this.fd = undefined;
    this.rejFd = undefined;
    rmSync(this.tmp, { force: true });
    rmSync(this.rejectsTmp, { force: true });
  }
}
