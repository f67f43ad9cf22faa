/**
 * The nightly bulk job: stream a catalogue through the worker pool and write prices in input
 * order. The main thread only reads bytes, cuts them at line boundaries and writes the workers'
 * output bytes; parsing, pricing and formatting run in the workers (measured: they dominate).
 * In-flight chunks are bounded, so memory stays flat whatever the catalogue size. Output goes to
 * a temporary file renamed only on success.
 */
import { closeSync, createWriteStream, openSync, readSync, renameSync, rmSync, statSync, writeSync, type WriteStream } from 'node:fs';
import { dirname, basename, join, resolve, extname } from 'node:path';
import { availableParallelism } from 'node:os';
import { once } from 'node:events';
import { TaskPool, compiledTaskFile } from '../pool/taskPool.js';
import { parse as parseCsv } from 'csv-parse/sync';
import { RepricerError } from '../core/errors.js';
import { loadModel, type Model } from '../model/format.js';
import type { Policy } from '../pricing/policy.js';
import { resolveLayout, type CatalogLayout } from '../records/catalogSchema.js';
import { csvHeader, csvField } from '../records/formatChunk.js';
import { ParquetPriceWriter, parquetShape, parquetRanges, parquetTaskMeta } from '../records/parquet.js';
import type { CatalogResult, CatalogTask } from './catalogTask.js';
import { CHANGE_BINS } from './catalogTask.js';
import { SlotPool } from './slotPool.js';
import { compileModel } from '../pricing/compiledModel.js';
import { shareModel, type SharedModel } from '../pricing/sharedModel.js';

let jobCounter = 0;

export type TableFormat = 'csv' | 'ndjson';

export interface RepriceOptions {
  modelPath: string;
  catalogPath: string;
  outPath: string;
  workers?: number;
  /** rows per chunk */
  chunkSize?: number;
  policy?: Policy;
  onError?: 'fail' | 'skip';
  /** where rejected rows go with --on-error skip; default <out>.rejects.csv */
  rejectsPath?: string;
  signal?: AbortSignal;
  onProgress?: (done: number, bytesRead: number, bytesTotal: number) => void;
  /** worker module override (tests use a worker that crashes) */
  workerFile?: string;
}

export interface RepriceSummary {
  rows: number;
  status: Record<string, number>;
  changePct: { bins: string[]; counts: number[] };
  rejects: number;
  seconds: number;
  rowsPerSecond: number;
  workers: number;
  /** summed worker milliseconds by phase, and main-thread read/write wall time */
  ms: { parse: number; kernels: number; format: number; mainRead: number; mainWrite: number };
  retries: number;
}

export function formatOf(file: string): TableFormat | 'parquet' {
  const e = extname(file).toLowerCase();
  if (e === '.csv') return 'csv';
  if (e === '.ndjson' || e === '.jsonl') return 'ndjson';
  if (e === '.parquet') return 'parquet';
  throw new RepricerError('INVALID_ARGUMENT', `${file}: unknown file type ${JSON.stringify(e)} (expected .csv, .ndjson or .parquet)`);
}

/** The compiled catalogue task module (dist/src/batch/catalogTask.js). */
export function defaultWorkerFile(): string {
  return compiledTaskFile(import.meta.url, './catalogTask.js');
}

const NL = 10;
const QUOTE = 34;

/** Index just past the k-th newline that is outside quotes, or -1. Also counts physical newlines. */
function cutAfterLines(buf: Buffer, start: number, k: number, quoted: boolean): { end: number; lines: number } {
  let lines = 0;
  let rows = 0;
  if (!quoted) {
    let i = start;
    while (rows < k) {
      const j = buf.indexOf(NL, i);
      if (j === -1) return { end: -1, lines };
      lines++;
      rows++;
      i = j + 1;
    }
    return { end: i, lines };
  }
  let inQ = false;
  for (let i = start; i < buf.length; i++) {
    const c = buf[i];
    if (c === QUOTE) inQ = !inQ;
    else if (c === NL) {
      lines++;
      if (!inQ && ++rows === k) return { end: i + 1, lines };
    }
  }
  return { end: -1, lines };
}

function countLines(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(NL, start); i !== -1 && i < end; i = buf.indexOf(NL, i + 1)) n++;
  return n;
}

export async function runReprice(o: RepriceOptions): Promise<RepriceSummary> {
  const t0 = performance.now();
  const inFmt = formatOf(o.catalogPath);
  const outFmt = formatOf(o.outPath);
  const workers = o.workers ?? Math.max(1, availableParallelism());
  const chunkSize = o.chunkSize ?? 32768;
  if (!Number.isInteger(workers) || workers < 1) throw new RepricerError('INVALID_ARGUMENT', `--workers must be an integer >= 1, got ${o.workers}`);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RepricerError('INVALID_ARGUMENT', `--chunk-size must be an integer >= 1, got ${o.chunkSize}`);
  const onError = o.onError ?? 'fail';
  const policy = o.policy ?? {};

  const outAbs = resolve(o.outPath);
  const tmp = join(dirname(outAbs), `.${basename(outAbs)}.${process.pid}.tmp`);
  const rejectsPath = o.rejectsPath ?? `${o.outPath}.rejects.csv`;
  const rejectsTmp = join(dirname(resolve(rejectsPath)), `.${basename(rejectsPath)}.${process.pid}.tmp`);

  let inFd: number;
  try {
    inFd = openSync(o.catalogPath, 'r');
  } catch (err) {
    throw new RepricerError('INPUT_UNREADABLE', `${o.catalogPath}: cannot read (${(err as Error).message})`, { file: o.catalogPath });
  }
  // the workers boot (modules, WASM) while this thread reads and compiles the model
  const pool = new TaskPool({
    taskFile: o.workerFile ?? defaultWorkerFile(),
    threads: workers,
    idleTimeoutMs: 1000,
    // V8 grows a busy worker's young generation (to 16 MB semi-spaces) after some millions of rows,
    // which showed as steps in peak RSS between 1M and 10M SKUs; capped at 4 MB semi-spaces
    // (young generation = 3 semi-spaces) the peak stays flat and the job is no slower (bench/RESULTS.md)
    resourceLimits: { maxYoungGenerationSizeMb: 12 },
  });
  let model: Model;
  let shared: SharedModel;
  try {
    model = loadModel(o.modelPath); // validated before anything is written
    // compiled once here; workers receive the tables in shared memory (src/pricing/sharedModel.ts)
    shared = shareModel(compileModel(model), `${resolve(o.modelPath)}#${process.pid}#${++jobCounter}`);
  } catch (err) {
    closeSync(inFd);
    await pool.destroy();
    throw err;
  }

  let outFd: number | undefined;
  let pq: ParquetPriceWriter | undefined;
  let rej: WriteStream | undefined;
  const statusCounts = [0, 0, 0, 0, 0];
  const bins = new Array<number>(CHANGE_BINS.length + 1).fill(0);
  const ms = { parse: 0, kernels: 0, format: 0, mainRead: 0, mainWrite: 0 };
  let rows = 0;
  let rejects = 0;
  let retries = 0;
  let failure: unknown;
  let aborted = false;
  // Piscina reports a result for a task it no longer tracks as an 'error' event: after an abort
  // that is a chunk finishing as it was cancelled (harmless); otherwise the job cannot trust its
  // bookkeeping and fails. Without a listener the event would be an uncaught exception.
  pool.onError((err: Error) => {
    if (!o.signal?.aborted && !failure) failure = new RepricerError('INTERNAL', `worker pool: ${err.message.split('\n')[0]}`);
  });

  const size = statSync(o.catalogPath).size;
  let bytesRead = 0;
  // chunk bytes and formatted output travel in reused SharedArrayBuffers (see SlotPool)
  const inSlots = new SlotPool();
  const outSlots = new SlotPool();
  let outGuess = 0; // bytes of output per byte of input seen so far
  let rowGroupGuess = 96; // Parquet output: bytes per row (9 doubles, an id, two labels), raised by what is seen

  const pending = new Map<number, CatalogResult & { slot?: SharedArrayBuffer; inBytes: number }>();
  let nextToWrite = 0;
  let inFlight = 0;
  // Parquet tasks are whole row groups (~100k rows): fewer in flight keeps peak memory under 1 GiB
  const maxInFlight = inFmt === 'parquet' ? workers + 1 : workers * 2;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };

  const write = async (s: WriteStream, data: Uint8Array | string) => {
    const t = performance.now();
    if (!s.write(data)) await once(s, 'drain');
    ms.mainWrite += performance.now() - t;
  };

  /** Synchronous writes: the slot a chunk was formatted into can be reused as soon as this returns. */
  const writeOut = (data: Uint8Array | string) => {
    const t = performance.now();
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < b.length; ) off += writeSync(outFd!, b, off, b.length - off);
    ms.mainWrite += performance.now() - t;
  };

  const flush = async () => {
    while (pending.has(nextToWrite)) {
      const r = pending.get(nextToWrite)!;
      pending.delete(nextToWrite);
      nextToWrite++;
      if (r.error) continue; // already recorded as failure
      if (pq) {
        const t = performance.now();
        if (r.rowGroup) {
          const bytes = r.outLen !== undefined ? new Uint8Array(r.slot!, 0, r.outLen) : r.out;
          pq.append({ bytes, rowGroup: r.rowGroup }); // synchronous: the slot is free again after it
          rowGroupGuess = Math.max(rowGroupGuess, bytes.length / Math.max(1, r.n));
        }
        ms.mainWrite += performance.now() - t;
      } else if (r.outLen !== undefined) {
        writeOut(new Uint8Array(r.slot!, 0, r.outLen));
      } else {
        writeOut(r.out);
        outGuess = Math.max(outGuess, r.out.length / r.inBytes);
      }
      if (r.slot) outSlots.give(r.slot);
      if (r.rejects.length) {
        for (const j of r.rejects) await write(rej!, `${j.line},${csvField(j.reason)},${csvField(j.raw)}\n`);
        rejects += r.rejects.length;
      }
      rows += r.n;
      r.status.forEach((c, i) => (statusCounts[i] += c));
      r.changeBins.forEach((c, i) => (bins[i] += c));
      ms.parse += r.ms.parse;
      ms.kernels += r.ms.kernels;
      ms.format += r.ms.format;
      o.onProgress?.(rows, bytesRead, size);
    }
  };

  const submit = (task: CatalogTask, inSlot?: SharedArrayBuffer) => {
    inFlight++;
    const runOnce = () => pool.run<CatalogResult>(task, { signal: o.signal });
    runOnce()
      .catch((err: unknown) => {
        if (o.signal?.aborted) throw err;
        retries++;
        return runOnce();
      })
      .then(
        (r: CatalogResult) => {
          if (r.error && !failure) failure = new RepricerError(r.error.code as 'INPUT_ROW_INVALID', r.error.message, r.error.details);
          pending.set(r.seq, { ...r, slot: task.outSlot, inBytes: task.bytes.length });
        },
        (err: unknown) => {
          if (!failure) failure = o.signal?.aborted ? new RepricerError('INTERRUPTED', 'interrupted; no output was written') : new RepricerError('WORKER_CRASHED', `chunk ${task.seq} (from line ${task.firstLine}) failed twice: ${(err as Error).message}`);
        },
      )
      .finally(() => {
        if (inSlot) inSlots.give(inSlot);
        inFlight--;
        notify();
      });
  };

  try {
    if (outFmt === 'parquet') pq = new ParquetPriceWriter(tmp);
    else outFd = openSync(tmp, 'w');
    if (outFmt === 'csv') writeOut(csvHeader());
    if (onError === 'skip') {
      rej = createWriteStream(rejectsTmp);
      await write(rej, 'line,reason,raw\n');
    }
    let layout: CatalogLayout | undefined;
    let line = 1; // absolute line number of stage[start]
    let seq = 0;
    const dispatch = (bytes: Uint8Array, lines: number) => {
      // into a reused shared slot: workers read it in place, and a retried chunk still has it
      const slot = inSlots.take(bytes.length);
      const view = new Uint8Array(slot, 0, bytes.length);
      view.set(bytes);
      const outSlot = outSlots.take(Math.max(1, Math.ceil(outFmt === 'parquet' ? lines * rowGroupGuess * 1.1 : bytes.length * Math.max(outGuess, 1.25))));
      submit({ kind: 'catalog', seq: seq++, bytes: view, outSlot, firstLine: line, lineCount: lines, file: o.catalogPath, format: inFmt, outFormat: outFmt, layout: layout!, model: shared, policy, onError }, slot);
      line += lines;
    };
    const waitForRoom = async () => {
      while (inFlight >= maxInFlight && !failure) {
        await new Promise<void>((r) => (wake = r));
        await flush();
      }
      await flush();
    };
    if (inFmt === 'parquet') {
      const shape = await parquetShape(o.catalogPath);
      layout = resolveLayout(o.catalogPath, shape.columns, model.features);
      // a row group is decoded whole, so tasks follow row groups (split evenly when larger than
      // the chunk size, whose Parquet default is 131 072 rows)
      const ranges = parquetRanges(shape.rowGroups, o.chunkSize ?? 131072);
      for (const { start, end } of ranges) {
        if (failure || o.signal?.aborted) break;
        await waitForRoom();
        if (failure) break;
        // the encoded row group comes back in a reused slot (no fresh pages per group)
        const outSlot = outFmt === 'parquet' ? outSlots.take(Math.ceil((end - start) * rowGroupGuess * 1.1)) : undefined;
        const parquetMeta = await parquetTaskMeta(o.catalogPath, start, end);
        submit({ kind: 'catalog', seq: seq++, bytes: new Uint8Array(0), outSlot, rows: { start, end }, parquetMeta, firstLine: start + 1, file: o.catalogPath, format: inFmt, outFormat: outFmt, layout, model: shared, policy, onError });
        bytesRead = Math.round((end / shape.rows) * size);
      }
    } else {
      // Text input: read synchronously into one reused staging buffer (it grows only for a chunk
      // that does not fit), cut whole chunks of lines out of it and hand each to a worker.
      let stage = Buffer.allocUnsafeSlow(8 << 20);
      let have = 0; // bytes staged
      let start = 0; // first staged byte not yet dispatched
      let eof = false;
      let quoted = false; // a quote anywhere so far: cut with the quote-aware scanner from now on
      const readMore = () => {
        if (start > 0) {
          stage.copy(stage, 0, start, have);
          have -= start;
          start = 0;
        }
        if (have === stage.length) {
          const grown = Buffer.allocUnsafeSlow(stage.length * 2);
          stage.copy(grown, 0, 0, have);
          stage = grown;
        }
        const t = performance.now();
        const n = readSync(inFd, stage, have, stage.length - have, null);
        ms.mainRead += performance.now() - t;
        if (n === 0) {
          eof = true;
          return;
        }
        if (inFmt === 'csv' && !quoted) {
          const q = stage.indexOf(QUOTE, have);
          quoted = q !== -1 && q < have + n;
        }
        have += n;
        bytesRead += n;
      };
      // header (CSV) or first object (NDJSON): the layout
      let nl = -1;
      while (!eof) {
        readMore();
        nl = stage.subarray(0, have).indexOf(NL);
        if (nl !== -1) break;
      }
      if (nl === -1) throw new RepricerError('INPUT_UNREADABLE', `${o.catalogPath}: empty catalogue (no header line)`);
      const first = stage.subarray(0, nl).toString('utf8').replace(/^\uFEFF/, '').replace(/\r$/, '');
      if (inFmt === 'csv') {
        const header = (parseCsv(first) as string[][])[0] ?? [];
        layout = resolveLayout(o.catalogPath, header, model.features);
        start = nl + 1;
        line = 2;
      } else {
        let obj: Record<string, unknown>;
        try {
          obj = JSON.parse(first) as Record<string, unknown>;
        } catch {
          throw new RepricerError('INPUT_ROW_INVALID', `${o.catalogPath}:1: expected a JSON object per line`);
        }
        layout = resolveLayout(o.catalogPath, Object.keys(obj), model.features);
      }
      for (;;) {
        if (o.signal?.aborted) {
          aborted = true;
          break;
        }
        if (failure) break;
        const view = stage.subarray(0, have);
        const cut = cutAfterLines(view, start, chunkSize, quoted);
        if (cut.end !== -1) {
          await waitForRoom();
          if (failure) break;
          dispatch(view.subarray(start, cut.end), cut.lines);
          start = cut.end;
          continue;
        }
        if (eof) break;
        readMore();
      }
      if (!failure && !aborted && start < have) {
        await waitForRoom();
        const rest = stage.subarray(start, have);
        dispatch(rest, countLines(rest, 0, rest.length) + 1);
      }
    }
    while (inFlight > 0) {
      await new Promise<void>((r) => (wake = r));
      await flush();
    }
    await flush();
    if (o.signal?.aborted) aborted = true;
    if (aborted && !failure) failure = new RepricerError('INTERRUPTED', 'interrupted; no output was written');
    if (failure) throw failure;
    if (pq) pq.finish();
    if (outFd !== undefined) {
      closeSync(outFd);
      outFd = undefined;
    }
    if (rej) {
      rej.end();
      await once(rej, 'close');
    }
    renameSync(tmp, outAbs);
    if (rej) {
      if (rejects > 0) renameSync(rejectsTmp, resolve(rejectsPath));
      else rmSync(rejectsTmp, { force: true });
    }
  } catch (err) {
    if (outFd !== undefined) closeSync(outFd);
    // queued writes may still complete against a destroyed stream; their errors are moot now
    rej?.on('error', () => undefined).destroy();
    rmSync(tmp, { force: true });
    rmSync(rejectsTmp, { force: true });
    await pool.destroy().catch(() => undefined);
    throw err;
  } finally {
    closeSync(inFd);
  }
  await pool.destroy();
  const seconds = (performance.now() - t0) / 1000;
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
  return {
    rows,
    status: { ok: statusCounts[0], clipped: statusCounts[1], held: statusCounts[2], cold_start: statusCounts[3], rejected: statusCounts[4] },
    changePct: { bins: labels, counts: bins },
    rejects,
    seconds,
    rowsPerSecond: rows / seconds,
    workers,
    ms,
    retries,
  };
}
