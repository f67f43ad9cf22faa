/**
 * The nightly bulk job: stream a catalogue through the worker pool and write prices in input
 * order. The main thread only schedules: workers read their own byte ranges of a text catalogue
 * (or their own Parquet row groups), parse, price, format and write their output into the
 * temporary file at its offset in input order (rangePass.ts, outputBoard.ts). A CSV with quoted
 * fields (rows may span lines) goes through the main-thread path instead: the main thread reads
 * the bytes, cuts them at row boundaries and writes the workers' output (textChunks.ts), and so
 * does text input to Parquet output (row groups of `chunkSize` rows, assembled by the main thread). In-flight chunks are bounded, so memory stays flat
 * whatever the catalogue size. Output goes to a temporary file renamed only on success.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { resolve, extname } from 'node:path';
import { TaskPool, compiledTaskFile } from '../pool/taskPool.js';
import { RepricerError, readFailure } from '../core/errors.js';
import { checkOutputPath } from '../core/atomic.js';
import { loadModel, type Model } from '../model/format.js';
import type { Policy } from '../pricing/policy.js';
import type { OutputColumns } from '../pricing/engine.js';
import type { AgentSpec } from '../pricing/agentStep.js';
import { compileModel } from '../pricing/compiledModel.js';
import { shareModel, type SharedModel } from '../pricing/sharedModel.js';
import { resolveLayout, type CatalogLayout } from '../records/catalogSchema.js';
import { openParquet, parquetShape, parquetRanges, parquetTaskMeta, type OpenParquet } from '../records/parquet.js';
import type { CatalogTask } from './catalogTask.js';
import { SlotPool, OutputSlots } from './slotPool.js';
import { TextChunks, readTextLayout, type ReadStats, type TextChunk } from './textChunks.js';
import { JobOutput } from './jobOutput.js';
import { JobTally, type RepriceSummary } from './jobSummary.js';
import { ChunkQueue, interrupted, QUOTED, type ChunkResult } from './chunkQueue.js';
import { RangePass, dispatchRanges } from './rangePass.js';
import { byteRanges, rangeBytesFor } from './byteRanges.js';
import { defaultWorkers } from './workerCount.js';
import { SegmentTally } from '../pricing/segmentBreaker.js';
import { advanceState, emptyState, loadState, saveState, type RunDecision } from '../pricing/segmentState.js';
import { segmentSummary } from './jobSummary.js';
import { modelSha256, newRunId, publishRun, type PublishCounts } from '../records/redisPrices.js';
import { connectRedis, redisUnavailable } from '../records/redisClient.js';
import type { Redis } from 'ioredis';

export type { RepriceSummary } from './jobSummary.js';

let jobCounter = 0;

export type TableFormat = 'csv' | 'ndjson';

export interface RepriceOptions {
  modelPath: string;
  catalogPath: string;
  outPath: string;
  /** worker threads; default: by the catalogue's size (workerCount.ts) */
  workers?: number;
  /** rows per chunk */
  chunkSize?: number;
  policy?: Policy;
  onError?: 'fail' | 'skip';
  /** where rejected rows go with --on-error skip; default <out>.rejects.csv */
  rejectsPath?: string;
  /** accept (and ignore) catalogue columns the job does not use, other than look-alikes of known ones */
  allowExtraColumns?: boolean;
  /** publish each price's breakdown (docs/formats.md "Explanation columns") */
  explain?: boolean;
  /** price with this agent instead of the model's optimum (docs/rl.md, "Pricing with an agent") */
  agent?: AgentSpec;
  signal?: AbortSignal;
  /**
   * After each chunk is written: rows written, and the share of the catalogue they are, as
   * `done` of `total` (text: input bytes, header included, of the file's size; Parquet: rows of
   * the file's row count). `done` reaches `total` when the last chunk is written.
   */
  onProgress?: (rows: number, done: number, total: number) => void;
  /** worker module override (tests use a worker that crashes) */
  workerFile?: string;
  /** read a text catalogue on the main thread, the reference path (default: workers read their own byte ranges) */
  mainThreadRead?: boolean;
  /**
   * a pool of catalogue workers (startCatalogPool) to run on instead of starting one: it is not
   * destroyed when the job succeeds, so a queue worker (src/queue/) boots its threads once for
   * many shards; a failed job destroys it (its tasks may still be running). `workers` is then the
   * pool's size. One job at a time per pool.
   */
  pool?: TaskPool;
  /**
   * the model already loaded, validated and shared (loadSharedModel): a queue worker loads it once
   * for all the shards of a run, and its pool's threads keep it pinned under one id (a fresh id
   * per job would pin a new copy in every thread for each job). `modelPath` then names it in messages.
   */
  loaded?: LoadedModel;
  /** how long a worker waits for its turn to write before handing its output back (outputBoard.ts; tests) */
  turnTimeoutMs?: number;
  /**
   * the segment breaker's state file (docs/formats.md "Breaker state"): read before the run (absent:
   * no segment tripped yet), written atomically after it. Needs a policy with `segmentBreaker`;
   * without it a segment's trip holds its prices in this run only.
   */
  statePath?: string;
  /**
   * `--publish redis://HOST:PORT/DB`: every priced row also goes to this Redis server (records/
   * redisPrices.ts), written by the workers chunk by chunk; once the output is committed, the run
   * record and a message on the events channel announce the publication to the serving replicas
   */
  publishUrl?: string;
  /**
   * With `publishUrl`: publish the rows under this run id and time instead of new ones, and write
   * no run record (a shard of a distributed run: its finalising job announces the one publication
   * of all the shards once the output is assembled, src/queue/queueWorker.ts)
   */
  publishAs?: { runId: string; publishedAt: string };
  /**
   * One shard of a distributed run (src/queue/): only the rows whose first byte lies in
   * [start, end) of a text catalogue (byte offsets, as byteRanges.ts cuts them), or the rows
   * [start, end) of a Parquet one (whole row groups). `header: false` leaves out the CSV header of
   * the prices, so that the shards' outputs concatenate to the single-process output; a shard's
   * rejects never have a header (the run writes one above them all). Text output only; a CSV with quoted fields, the main-thread read and the segment
   * breaker (whose measuring pass spans the whole catalogue) are refused.
   */
  shard?: { start: number; end: number; header: boolean };
}

/** What `--publish` did: the run id, the rows written and the rejected rows whose keys were removed. */
export interface PublishSummary extends PublishCounts {
  runId: string;
  modelSha256: string;
  publishedAt: string;
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

export async function runReprice(o: RepriceOptions): Promise<RepriceSummary> {
  const t0 = performance.now();
  const { inFmt, outFmt, chunkSize, onError, policy } = settings(o);
  // the outputs' folders are checked before any work starts (a missing one is NOT_FOUND)
  checkOutputPath(o.outPath);
  if (onError === 'skip') checkOutputPath(o.rejectsPath ?? `${o.outPath}.rejects.csv`, 'rejects');
  if (o.statePath !== undefined && !policy.segmentBreaker) throw new RepricerError('INVALID_ARGUMENT', `--state ${o.statePath}: the policy has no segmentBreaker, so there is no breaker state to keep`);
  if (o.statePath !== undefined) checkOutputPath(o.statePath, 'breaker state');
  if (o.shard) checkShard(o, outFmt, policy);
  // read (and validated) before any work: a bad state file fails the job at once
  const prevState = o.statePath !== undefined ? loadState(o.statePath) : emptyState();
  const output = new JobOutput(o.outPath, outFmt, o.rejectsPath ?? `${o.outPath}.rejects.csv`, o.shard?.header ?? true, o.shard === undefined);
  const inFd = openCatalog(o.catalogPath);
  const size = fstatSync(inFd).size;
  // by default as many workers as pay for the catalogue's size (workerCount.ts)
  const workers = o.pool?.threads ?? o.workers ?? defaultWorkers(size);
  // the workers boot (modules, WASM) while this thread reads and compiles the model
  const pool = o.pool ?? startPool(o.workerFile ?? defaultWorkerFile(), workers);
  // a pool of the caller's is left running after a success, and destroyed like the job's own after
  // a failure (tasks may still be in flight then); the caller starts a new one
  const ownPool = o.pool === undefined;
  let model: Model;
  let shared: SharedModel;
  // --publish: the server is checked before any work (REDIS_UNAVAILABLE when it does not answer)
  let redis: Redis | undefined;
  try {
    // validated before anything is written
    ({ model, shared } = o.loaded ?? loadSharedModel(o.modelPath));
    if (o.publishUrl !== undefined) redis = await connectRedis(o.publishUrl, { name: 'repricer-reprice', commandTimeoutMs: 60_000 });
  } catch (err) {
    closeSync(inFd);
    await pool.destroy();
    throw err;
  }
  const publishedAt = o.publishAs?.publishedAt ?? new Date().toISOString();
  const publish = o.publishUrl !== undefined ? { url: o.publishUrl, runId: o.publishAs?.runId ?? newRunId(publishedAt), modelSha256: modelSha256(model), publishedAt } : undefined;
  const published: PublishCounts = { published: 0, removed: 0 };
  const outSlots = new OutputSlots();
  const read: ReadStats = { bytes: 0, ms: 0 };
  // Parquet tasks are whole row groups (~100k rows): fewer in flight keeps peak memory under 1 GiB
  const maxInFlight = inFmt === 'parquet' ? workers + 1 : workers * 2;
  // progress counts the input of the chunks written, not the bytes read ahead of them
  const progress = { done: 0, total: size };
  let ranges: RangePass | undefined;
  let flushedAt = 0;
  let tally = new JobTally();
  let queue: ChunkQueue | undefined;
  /** one pass over the catalogue: a fresh queue and tally, its tasks dispatched and drained */
  const runPass = async (pass: RangePass | undefined, dispatch: (d: Dispatch) => Promise<void>) => {
    const t = (tally = new JobTally());
    published.published = published.removed = 0;
    const q = (queue = new ChunkQueue(pool, o.signal, maxInFlight, async (r) => {
      pass?.fixRejects(r);
      if (r.published) {
        published.published += r.published.published;
        published.removed += r.published.removed;
      }
      await writeResult(r, output, outSlots, t, pass);
      // a range's rows end past it (its last row finishes in the next range)
      if (r.rowEnd !== undefined) progress.done = Math.max(progress.done, r.rowEnd);
      else progress.done += inFmt === 'parquet' ? r.inRows : r.inBytes;
      // every FLUSH_AHEAD bytes of input, the output so far goes to disk in the background
      if (inFmt !== 'parquet' && progress.done >= flushedAt + FLUSH_AHEAD) {
        flushedAt = progress.done;
        output.flushAhead();
      }
      o.onProgress?.(t.rows, progress.done, progress.total);
    }, pass?.hooks()));
    await dispatch({ queue: q, inSlots: new SlotPool(), outSlots, signal: o.signal, base, seq: 0 });
    await q.drain();
    q.dispose();
  };
  let base: Dispatch['base'];
  let decision: RunDecision | undefined;
  let measureSeconds = 0;
  let quotedSeen = false;
  /**
   * The segment breaker's measuring pass (docs/math.md §4.4): every row priced and counted by
   * segment, nothing written, so the held segments are known before the first price is. Text input
   * is read by the workers from byte ranges whatever the output (no output means no order to keep);
   * a CSV with quotes, and the main-thread read, go through the main-thread path.
   */
  const measure = async (input: { text?: TextChunks; parquet?: Shape }): Promise<SegmentTally> => {
    const segs = new SegmentTally();
    const mbase = { ...base, measureSegments: true };
    const once = async (pass: RangePass | undefined, dispatch: (d: Dispatch) => Promise<void>) => {
      const q = new ChunkQueue(pool, o.signal, maxInFlight, async (r) => {
        if (r.slot) outSlots.give(r.slot);
        if (r.segments) segs.add(r.segments);
      }, pass?.hooks());
      await dispatch({ queue: q, inSlots: new SlotPool(), outSlots, signal: o.signal, base: mbase, seq: 0 });
      await q.drain();
      q.dispose();
      return q.failure ?? (o.signal?.aborted ? interrupted() : undefined);
    };
    const mainThreadText = async () => {
      const t = new TextChunks(inFd, inFmt === 'csv', read);
      readTextLayout(t, o.catalogPath, inFmt as TableFormat, model.features, { allowExtraColumns: o.allowExtraColumns ?? false });
      return once(undefined, (d) => dispatchText(d, t, chunkSize));
    };
    let failure: unknown;
    const text = input.text;
    if (text && !text.quoted && !o.mainThreadRead) {
      const dataStart = text.headerBytes;
      const pass = new RangePass(o.catalogPath, inFd, dataStart, inFmt === 'csv' ? 2 : 1, undefined, o.signal);
      const plan = byteRanges(dataStart, size, rangeBytesFor(text.sample(1 << 20), chunkSize));
      failure = await once(pass, (d) => dispatchRanges(d, pass, plan, inFd, undefined, o.outPath, chunkSize));
      if (failure === QUOTED) {
        quotedSeen = true;
        failure = await mainThreadText();
      }
    } else if (text) failure = await mainThreadText();
    else failure = await once(undefined, (d) => dispatchParquet(d, input.parquet!, o.chunkSize));
    if (failure) throw failure;
    return segs;
  };
  try {
    const input = await openInput(o.catalogPath, inFd, inFmt, model.features, read, o.allowExtraColumns ?? false);
    // without a segment breaker or return multipliers by segment the segment column changes no
    // price, and without multipliers by season the season column neither: the readers skip them
    if (!policy.segmentBreaker && !policy.returns?.segments) input.layout.segment = -1;
    if (!policy.returns?.seasons) input.layout.season = -1;
    // a catalogue with expert prices publishes the blend's weight; --explain the breakdown
    if (o.agent) requireAgentState(o.catalogPath, input.layout);
    const columns: OutputColumns = { blend: input.layout.retail.expertPrice !== undefined, explain: o.explain === true, agent: o.agent !== undefined };
    output.columns = columns;
    await output.open(onError === 'skip');
    if (input.parquet) progress.total = o.shard ? o.shard.end - o.shard.start : input.parquet.rows;
    else progress.done = input.text!.headerBytes;
    if (o.shard && input.text) {
      if (input.text.quoted) throw quotedShard(o.catalogPath);
      progress.done = Math.max(o.shard.start, input.text.headerBytes);
      progress.total = o.shard.end;
    }
    base = { kind: 'catalog', file: o.catalogPath, format: inFmt, outFormat: outFmt, layout: input.layout, model: shared, policy, onError, columns, ...(o.agent ? { agent: o.agent } : {}), ...(publish ? { publish } : {}) } as const;
    if (policy.segmentBreaker) {
      // only with a segment breaker: without one the job is a single pass, as it always was
      const tm = performance.now();
      const now = new Date().toISOString();
      decision = advanceState(prevState, await measure(input), policy.segmentBreaker, { id: `${now} pid ${process.pid}`, at: now });
      base = { ...base, heldSegments: decision.held };
      measureSeconds = (performance.now() - tm) / 1000;
    }
    const text = input.text;
    if (text && !text.quoted && !quotedSeen && !o.mainThreadRead && outFmt !== 'parquet') {
      // workers read their own ranges and write their own output; a CSV with a quote in the bytes
      // read so far goes straight to the main-thread path, and so does Parquet output (its row
      // groups follow the chunks of `chunkSize` rows, which byte ranges only approximate)
      const dataStart = text.headerBytes;
      const pass = (ranges = new RangePass(o.catalogPath, inFd, dataStart, inFmt === 'csv' ? 2 : 1, output.written, o.signal));
      // a shard covers its own bytes only; rows are cut exactly as a whole-file pass cuts them
      const plan = o.shard ? byteRanges(Math.max(dataStart, o.shard.start), Math.min(size, o.shard.end), rangeBytesFor(text.sample(1 << 20), chunkSize)) : byteRanges(dataStart, size, rangeBytesFor(text.sample(1 << 20), chunkSize));
      await runPass(pass, (d) => dispatchRanges(d, pass, plan, inFd, output.textFd, o.outPath, chunkSize, o.turnTimeoutMs));
      if (queue!.failure === QUOTED && o.shard) throw quotedShard(o.catalogPath);
      if (queue!.failure === QUOTED) {
        // a quoted field somewhere: start again on the main-thread path, from an empty output
        ranges = undefined;
        await output.reset(onError === 'skip');
        const again = new TextChunks(inFd, true, read);
        readTextLayout(again, o.catalogPath, 'csv', model.features, { allowExtraColumns: o.allowExtraColumns ?? false });
        progress.done = again.headerBytes;
        flushedAt = 0;
        await runPass(undefined, (d) => dispatchText(d, again, chunkSize));
      }
    } else if (text) await runPass(undefined, (d) => dispatchText(d, text, chunkSize));
    else await runPass(undefined, (d) => dispatchParquet(d, input.parquet!, o.chunkSize, o.shard));
    const failure = queue!.failure ?? (o.signal?.aborted ? interrupted() : undefined);
    if (failure) throw failure;
    await output.commit(tally.rejects);
    // the state follows the prices: written only once they are (a failed run leaves it as it was)
    if (o.statePath !== undefined && decision) saveState(o.statePath, decision.state);
  } catch (err) {
    redis?.disconnect();
    // the workers are stopped before the output is removed and its descriptor closed: a worker
    // still writing must not write through a descriptor number that was closed and reused
    await pool.destroy().catch(() => undefined);
    output.discard();
    throw err;
  } finally {
    closeSync(inFd);
  }
  if (ownPool) await pool.destroy();
  if (redis && o.publishAs) redis.disconnect();
  else if (redis && publish) {
    // the output is committed: the run record announces the publication to the serving replicas
    const run = { run_id: publish.runId, model_sha256: publish.modelSha256, published_at: publishedAt, finished_at: new Date().toISOString(), ...published, source: resolve(o.catalogPath) };
    try {
      await publishRun(redis, run);
    } catch (err) {
      throw redisUnavailable(publish.url, `the prices are written to ${o.outPath} and published, but the run record ${run.run_id} could not be`, err);
    } finally {
      redis.disconnect();
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const summary = tally.summary({ seconds, workers, retries: queue!.retries, mainRead: read.ms + (ranges?.readMs ?? 0), mainWrite: output.writeMs, staleTempsRemoved: output.staleRemoved });
  if (decision) summary.segmentBreaker = segmentSummary(decision, measureSeconds, o.statePath);
  if (publish) summary.published = { runId: publish.runId, modelSha256: publish.modelSha256, publishedAt, ...published };
  return summary;
}

/** The options checked, with their defaults. */
function settings(o: RepriceOptions) {
  const inFmt = formatOf(o.catalogPath);
  const outFmt = formatOf(o.outPath);
  const chunkSize = o.chunkSize ?? 32768;
  if (o.workers !== undefined && (!Number.isInteger(o.workers) || o.workers < 1)) throw new RepricerError('INVALID_ARGUMENT', `--workers must be an integer >= 1, got ${o.workers}`);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RepricerError('INVALID_ARGUMENT', `--chunk-size must be an integer >= 1, got ${o.chunkSize}`);
  return { inFmt, outFmt, chunkSize, onError: o.onError ?? 'fail', policy: o.policy ?? {} };
}

/** What a shard of a distributed run cannot be (RepriceOptions.shard). */
function checkShard(o: RepriceOptions, outFmt: string, policy: Policy): void {
  const s = o.shard!;
  if (!Number.isInteger(s.start) || !Number.isInteger(s.end) || s.start < 0 || s.end < s.start) throw new RepricerError('INVALID_ARGUMENT', `shard [${s.start}, ${s.end}): expected integers 0 <= start <= end`);
  if (outFmt === 'parquet') throw new RepricerError('INVALID_ARGUMENT', `${o.outPath}: a distributed run writes CSV or NDJSON (Parquet outputs cannot be concatenated)`);
  if (policy.segmentBreaker) throw new RepricerError('INVALID_ARGUMENT', 'a distributed run cannot use a segment breaker (its measuring pass spans the whole catalogue); run without --queue');
  if (o.mainThreadRead) throw new RepricerError('INVALID_ARGUMENT', 'a shard is read by the workers, not the main thread');
}

/** A CSV whose rows may span lines cannot be cut into byte ranges. */
function quotedShard(file: string): RepricerError {
  return new RepricerError('INVALID_ARGUMENT', `${file}: a CSV with quoted fields (a row may span lines) cannot be split into byte-range shards; run without --queue, or split it into files`, { file });
}

function openCatalog(file: string): number {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw readFailure(file, 'catalogue', err);
  }
  // a folder opens on Linux and fails only at the first read (EISDIR)
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new RepricerError('INPUT_UNREADABLE', `${file}: not a file (expected a .csv, .ndjson or .parquet catalogue)`, { file });
  }
  return fd;
}

/** A pool of catalogue workers for RepriceOptions.pool (the job's own pool is made the same way). */
export function startCatalogPool(threads: number): TaskPool {
  return startPool(defaultWorkerFile(), threads);
}

function startPool(taskFile: string, threads: number): TaskPool {
  return new TaskPool({
    taskFile,
    threads,
    idleTimeoutMs: 1000,
    // V8 grows a busy worker's young generation (to 16 MB semi-spaces) after some millions of rows,
    // which showed as steps in peak RSS between 1M and 10M SKUs; capped at 4 MB semi-spaces
    // (young generation = 3 semi-spaces) the peak stays flat and the job is no slower (bench/RESULTS.md)
    resourceLimits: { maxYoungGenerationSizeMb: 12 },
  });
}

/** Input bytes between background flushes of the text output (JobOutput.flushAhead). */
const FLUSH_AHEAD = 64 * 2 ** 20;

/** A model file loaded, validated, compiled and shared for the workers (RepriceOptions.loaded). */
export interface LoadedModel {
  model: Model;
  shared: SharedModel;
}

export function loadSharedModel(modelPath: string): LoadedModel {
  const model = loadModel(modelPath);
  return { model, shared: shareCompiled(model, modelPath) };
}

/** Compiled once here; workers receive the tables in shared memory (pricing/sharedModel.ts). */
/** A catalogue priced by an agent must carry the agent's state columns (pricing/agentStep.ts). */
function requireAgentState(file: string, layout: CatalogLayout): void {
  const missing = [...(layout.currentPrice < 0 ? ['current_price'] : []), ...(layout.retail.inventory === undefined ? ['inventory'] : []), ...(layout.retail.daysLeft === undefined ? ['days_left'] : [])];
  if (missing.length) {
    throw new RepricerError('FEATURES_MISMATCH', `${file}:1: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: pricing with an agent (--agent) reads its state from current_price, inventory and days_left`, { file, line: 1, columns: missing });
  }
}

function shareCompiled(model: Model, modelPath: string): SharedModel {
  return shareModel(compileModel(model), `${resolve(modelPath)}#${process.pid}#${++jobCounter}`);
}

/** A Parquet catalogue opened once (its footer parsed once) and its shape. */
type Shape = ReturnType<typeof parquetShape> & { open: OpenParquet };

/** The catalogue's layout, and its text reader or its Parquet shape. */
async function openInput(file: string, fd: number, format: 'csv' | 'ndjson' | 'parquet', features: string[], read: ReadStats, allowExtraColumns: boolean): Promise<{ layout: CatalogLayout; text?: TextChunks; parquet?: Shape }> {
  if (format === 'parquet') {
    const open = await openParquet(file);
    const parquet = { ...parquetShape(open), open };
    return { layout: resolveLayout(file, parquet.columns, features, { allowExtraColumns }), parquet };
  }
  const text = new TextChunks(fd, format === 'csv', read);
  return { layout: readTextLayout(text, file, format, features, { allowExtraColumns }), text };
}

/** What dispatching tasks needs: the queue, the slots, and the fields every task of the job shares. */
interface Dispatch {
  queue: ChunkQueue;
  inSlots: SlotPool;
  outSlots: OutputSlots;
  signal: AbortSignal | undefined;
  base: Pick<CatalogTask, 'kind' | 'file' | 'format' | 'outFormat' | 'layout' | 'model' | 'policy' | 'onError' | 'columns' | 'agent' | 'measureSegments' | 'heldSegments' | 'publish'>;
  seq: number;
}

/** Text input: chunks of `chunkSize` lines (the rest last), each sent once there is room. */
async function dispatchText(d: Dispatch, text: TextChunks, chunkSize: number): Promise<void> {
  const send = (c: TextChunk) => {
    // into a reused shared slot: workers read it in place, and a retried chunk still has it
    const slot = d.inSlots.take(c.bytes.length);
    const view = new Uint8Array(slot, 0, c.bytes.length);
    view.set(c.bytes);
    const outSlot = d.outSlots.forChunk(c.bytes.length, c.lines, d.base.outFormat === 'parquet');
    d.queue.submit({ ...d.base, seq: d.seq++, bytes: view, outSlot, firstLine: c.firstLine, lineCount: c.lines }, () => d.inSlots.give(slot));
  };
  let aborted = false;
  for (;;) {
    if (d.signal?.aborted) {
      aborted = true;
      break;
    }
    if (d.queue.failure) break;
    const chunk = text.next(chunkSize);
    if (chunk) {
      await d.queue.waitForRoom();
      if (d.queue.failure) break;
      send(chunk);
      continue;
    }
    if (text.eof) break;
    text.readMore();
  }
  const rest = d.queue.failure || aborted ? undefined : text.rest();
  if (rest) {
    await d.queue.waitForRoom();
    send(rest);
  }
}

/** Parquet input: a task per row range, which its worker reads itself. */
async function dispatchParquet(d: Dispatch, shape: Shape, chunkSize: number | undefined, shard?: { start: number; end: number }): Promise<void> {
  // a row group is decoded whole, so tasks follow row groups (split evenly when larger than
  // the chunk size, whose Parquet default is 131 072 rows); a shard is whole row groups
  const ranges = parquetRanges(shape.rowGroups, chunkSize ?? 131072).filter((r) => !shard || (r.start >= shard.start && r.end <= shard.end));
  for (const { start, end } of ranges) {
    if (d.queue.failure || d.signal?.aborted) break;
    await d.queue.waitForRoom();
    if (d.queue.failure) break;
    // the encoded row group comes back in a reused slot (no fresh pages per group)
    const outSlot = d.base.outFormat === 'parquet' ? d.outSlots.forRows(end - start) : undefined;
    const parquetMeta = parquetTaskMeta(shape.open, start, end);
    d.queue.submit({ ...d.base, seq: d.seq++, bytes: new Uint8Array(0), outSlot, rows: { start, end }, parquetMeta, firstLine: start + 1 });
  }
}

/** A chunk's result, in input order: its bytes (from its slot when they fit), its rejects, its counts. */
async function writeResult(r: ChunkResult, output: JobOutput, outSlots: OutputSlots, tally: JobTally, pass: RangePass | undefined): Promise<void> {
  const bytes = r.outLen !== undefined ? new Uint8Array(r.slot!, 0, r.outLen) : r.out;
  if (output.format === 'parquet') {
    if (r.rowGroup) {
      output.appendRowGroup(bytes, r.rowGroup); // synchronous: the slot is free again after it
      outSlots.sawRowGroup(bytes.length, r.n);
    }
  } else if (!r.written) {
    // a chunk of the main-thread path, or one its worker handed back instead of waiting for its turn
    if (pass?.board) pass.writeHandedBack(r, bytes, output);
    else output.write(bytes);
    if (r.outLen === undefined) outSlots.sawText(r.out.length, r.inBytes);
  }
  if (r.slot) outSlots.give(r.slot);
  if (r.rejects.length) await output.writeRejects(r.rejects);
  tally.add(r);
}
