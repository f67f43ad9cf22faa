/**
 * The batch job's files: the prices (CSV, NDJSON or Parquet) and, with --on-error skip, the
 * rejected rows. Both are written under temporary names beside their targets, renamed into place
 * only when the whole job succeeded, and removed otherwise.
 */
import { closeSync, createWriteStream, fsyncSync, openSync, renameSync, rmSync, writeSync, type WriteStream } from 'node:fs';
import { fsyncFile, removeStaleTemps } from '../core/atomic.js';
import { dirname, basename, join, resolve } from 'node:path';
import { once } from 'node:events';
import type { RowGroup } from 'hyparquet';
import { csvHeader, csvField } from '../records/formatChunk.js';
import { ParquetPriceWriter } from '../records/parquet.js';
import type { CatalogResult } from './catalogTask.js';

const tempName = (file: string) => join(dirname(resolve(file)), `.${basename(file)}.${process.pid}.tmp`);

export class JobOutput {
  private readonly outAbs: string;
  private readonly tmp: string;
  private readonly rejectsTmp: string;
  private fd: number | undefined;
  private pq: ParquetPriceWriter | undefined;
  private rej: WriteStream | undefined;
  /** main-thread milliseconds spent writing */
  writeMs = 0;
  /** temporary files of this output left by killed runs, removed by open() */
  staleRemoved: string[] = [];

  constructor(
    outPath: string,
    readonly format: 'csv' | 'ndjson' | 'parquet',
    private readonly rejectsPath: string,
  ) {
    this.outAbs = resolve(outPath);
    this.tmp = tempName(this.outAbs);
    this.rejectsTmp = tempName(rejectsPath);
  }

  /** Create the temporary files: the prices (with the CSV header) and, if asked, the rejects (with theirs). */
  async open(rejects: boolean): Promise<void> {
    this.staleRemoved = [...removeStaleTemps(this.outAbs), ...removeStaleTemps(resolve(this.rejectsPath))];
    if (this.format === 'parquet') this.pq = new ParquetPriceWriter(this.tmp);
    else this.fd = openSync(this.tmp, 'w');
    if (this.format === 'csv') this.write(csvHeader());
    if (rejects) {
      this.rej = createWriteStream(this.rejectsTmp);
      await this.writeRej('line,reason,raw\n');
    }
  }

  /** Text output bytes, written synchronously: a slot they sit in can be reused as soon as this returns. */
  write(data: Uint8Array | string): void {
    const t = performance.now();
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < b.length; ) off += writeSync(this.fd!, b, off, b.length - off);
    this.writeMs += performance.now() - t;
  }

  /** Parquet output: an encoded row group, appended synchronously (a slot it sits in is free again after). */
  appendRowGroup(bytes: Uint8Array, rowGroup: RowGroup): void {
    const t = performance.now();
    this.pq!.append({ bytes, rowGroup });
    this.writeMs += performance.now() - t;
  }

  async writeRejects(rejects: CatalogResult['rejects']): Promise<void> {
    for (const j of rejects) await this.writeRej(`${j.line},${csvField(j.reason)},${csvField(j.raw)}\n`);
  }

  private async writeRej(data: string): Promise<void> {
    const t = performance.now();
    if (!this.rej!.write(data)) await once(this.rej!, 'drain');
    this.writeMs += performance.now() - t;
  }

  /** Finish and close both files, rename the prices into place, and the rejects if there were any. */
  async commit(rejects: number): Promise<void> {
    // every byte is on disk before a name points at it (a crash right after the rename must not
    // leave a complete-looking file with missing pages)
    if (this.pq) {
      this.pq.finish();
      fsyncFile(this.tmp);
    }
    if (this.fd !== undefined) {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
    }
    if (this.rej) {
      this.rej.end();
      await once(this.rej, 'close');
      if (rejects > 0) fsyncFile(this.rejectsTmp);
    }
    renameSync(this.tmp, this.outAbs);
    if (this.rej) {
      if (rejects > 0) renameSync(this.rejectsTmp, resolve(this.rejectsPath));
      else rmSync(this.rejectsTmp, { force: true });
    }
  }

  /** Close and remove both temporary files: nothing of a failed job is left behind. */
  discard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    // queued writes may still complete against a destroyed stream; their errors are moot now
    this.rej?.on('error', () => undefined).destroy();
    rmSync(this.tmp, { force: true });
    rmSync(this.rejectsTmp, { force: true });
  }
}
