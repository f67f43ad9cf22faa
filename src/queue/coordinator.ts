/**
 * The coordinator of a distributed run (`repricer reprice --queue`, docs/scale-out.md): it cuts the
 * catalogue into shards, stores the model in Redis, queues a BullMQ flow (a `shard` job per shard,
 * all children of one `finalise` job) and waits, reporting progress, until the run is done,
 * failed or cancelled. A run is named by a hash of what it computes (the model's SHA-256, the
 * policy, the catalogue files with their sizes and times, the output and the options), so the
 * same command again finds its run: a finished run with its output in place is a no-op, a run
 * still going is waited for again, and a failed or cancelled one is queued anew (a new generation
 * whose jobs replace the old ones).
 */
import { FlowProducer, Queue } from 'bullmq';
import { statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { ERROR_CATALOG, RepricerError, type ErrorCode } from '../core/errors.js';
import { checkOutputPath } from '../core/atomic.js';
import { formatOf } from '../batch/job.js';
import type { Policy } from '../pricing/policy.js';
import { PREFIX, QUEUE_NAME, connect } from './connection.js';
import { putModel, sha256 } from './modelStore.js';
import { expandCatalogs, planShards } from './shardPlan.js';
import { getRun, newGeneration, runProgress, type FailureRecord, type PublishSpec, type RunRecord, type RunSpec, type ShardOptions } from './runStore.js';
import { loadModel } from '../model/format.js';
import { connectRedis } from '../records/redisClient.js';
import { modelSha256 as modelDocumentSha, newRunId } from '../records/redisPrices.js';
import { finishedOutput, type Manifest } from './assemble.js';

export interface SubmitOptions {
  url: string;
  modelPath: string;
  /** a file, a comma-separated list, or a pattern with * and ? in the file name */
  catalog: string;
  out: string;
  policy?: Policy;
  options: ShardOptions;
  partsOnly?: boolean;
  /** `--publish redis://HOST:PORT/DB`: every shard publishes its rows there, the finalising job the run record */
  publishUrl?: string;
  /** shards wanted (default by size, shardPlan.ts) */
  shards?: number;
  /** attempts per shard before the run fails (default 3) */
  attempts?: number;
  /** the first retry's delay; each next one doubles (default 1000 ms) */
  backoffMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: RunProgressView) => void;
  /** a line per event (queued, attached) */
  log?: (line: string) => void;
}

export interface RunProgressView {
  shards: number;
  shardsDone: number;
  rows: number;
  /** share of the shards' work done, finished shards and the running ones' progress */
  share: number;
}

export interface RunOutcome {
  runId: string;
  /** done: this call saw the run finish; noop: it had finished before */
  how: 'done' | 'noop';
  rows: number;
  shards: number;
  rejects: number;
  /** shard starts beyond one per shard: re-deliveries and retries */
  reruns: number;
  seconds: number;
  manifest: Manifest | undefined;
  /** with --publish: the publication's run id in the publishing Redis */
  publishRunId?: string;
}

/** The run's name: a hash of everything that decides its output. */
export function runIdOf(spec: Omit<RunSpec, 'runId' | 'attempts' | 'backoffMs'>): string {
  // where it publishes decides the run (its publication's id and time are drawn per generation)
  const publish = spec.publish ? { publish: spec.publish.url } : {};
  const files = spec.catalogs.map((f) => {
    const st = statSync(f);
    return { f, size: st.size, mtime: st.mtimeMs };
  });
  return sha256(JSON.stringify({ model: spec.modelSha, policy: spec.policy, files, out: spec.out, partsOnly: spec.partsOnly, options: spec.options, shards: spec.shards.map((s) => [s.file, s.start, s.end]), ...publish })).slice(0, 16);
}

const parentId = (runId: string, gen: number) => `${runId}-g${gen}`;

/** A failure record as the error the run fails with (its code and exit code; unknown codes are JOB_FAILED). */
export function runError(spec: RunSpec, f: FailureRecord): RepricerError {
  const code = (Object.hasOwn(ERROR_CATALOG, f.code) ? f.code : 'JOB_FAILED') as ErrorCode;
  if (f.shard < 0) return new RepricerError(code, `run ${spec.runId}: assembling the output failed after ${f.attempt} attempt${f.attempt > 1 ? 's' : ''}: ${f.message}`);
  const s = spec.shards[f.shard];
  const unit = extname(s.file).toLowerCase() === '.parquet' ? 'rows' : 'bytes';
  return new RepricerError(code, `run ${spec.runId}: shard ${f.shard} of ${spec.shards.length} (${s.file} ${unit} ${s.start}-${s.end}) failed after ${f.attempt} attempt${f.attempt > 1 ? 's' : ''}: ${f.message}`, { shard: f.shard });
}

async function queueFlow(redis: Redis, spec: RunSpec, gen: number): Promise<void> {
  const flow = new FlowProducer({ connection: redis, prefix: PREFIX });
  const retry = { attempts: spec.attempts, backoff: { type: 'exponential' as const, delay: spec.backoffMs } };
  try {
    await flow.add({
      name: 'finalise',
      queueName: QUEUE_NAME,
      data: { runId: spec.runId, generation: gen },
      opts: { jobId: parentId(spec.runId, gen), ...retry },
      children: spec.shards.map((s) => ({
        name: 'shard',
        queueName: QUEUE_NAME,
        data: { runId: spec.runId, generation: gen, shard: s.index },
        // a shard that fails for good fails the run (its parent) at once
        opts: { jobId: `${parentId(spec.runId, gen)}-s${s.index}`, ...retry, failParentOnFailure: true },
      })),
    });
  } finally {
    await flow.close();
  }
}

export async function submitAndWait(o: SubmitOptions): Promise<RunOutcome> {
  const t0 = performance.now();
  const log = o.log ?? (() => undefined);
  const outFmt = formatOf(o.out);
  if (outFmt === 'parquet') throw new RepricerError('INVALID_ARGUMENT', `--out ${o.out}: a distributed run writes .csv or .ndjson (Parquet parts cannot be concatenated)`);
  if (o.policy?.segmentBreaker) throw new RepricerError('INVALID_ARGUMENT', 'a distributed run cannot use a segment breaker (its measuring pass spans the whole catalogue); run without --queue');
  const attempts = o.attempts ?? 3;
  const backoffMs = o.backoffMs ?? 1000;
  if (!Number.isInteger(attempts) || attempts < 1) throw new RepricerError('INVALID_ARGUMENT', `--attempts must be an integer >= 1, got ${attempts}`);
  checkOutputPath(o.out);
  const catalogs = expandCatalogs(o.catalog);
  const shards = await planShards(catalogs, { shards: o.shards });
  const publish = o.publishUrl !== undefined ? await publishSpec(o.publishUrl, o.modelPath) : undefined;
  const redis = connect(o.url);
  try {
    const modelSha = await putModel(redis, o.modelPath);
    const base = { modelSha, policy: o.policy ?? null, catalogs, out: resolve(o.out), ext: `.${outFmt}`, partsOnly: o.partsOnly === true, options: o.options, shards, ...(publish ? { publish } : {}) };
    const spec: RunSpec = { ...base, runId: runIdOf(base), attempts, backoffMs };
    const existing = await getRun(redis, spec.runId);
    const done = finishedOutput(spec);
    if (done && (!existing || existing.state === 'done')) {
      log(`run ${spec.runId} already finished: ${spec.partsOnly ? `${spec.out}.parts/manifest.json` : spec.out} is in place; nothing to do`);
      return { runId: spec.runId, how: 'noop', rows: done.rows, shards: done.parts.length, rejects: done.rejects, reruns: 0, seconds: (performance.now() - t0) / 1000, manifest: done };
    }
    let gen: number;
    let running: RunSpec = spec;
    if (existing && (existing.state === 'queued' || existing.state === 'running' || existing.state === 'committing')) {
      gen = existing.generation;
      running = existing.spec;
      log(`run ${spec.runId} is already ${existing.state} (generation ${gen}): waiting for it`);
    } else {
      gen = await newGeneration(redis, spec);
      await queueFlow(redis, spec, gen);
      log(`run ${spec.runId} queued: ${shards.length} shard${shards.length > 1 ? 's' : ''} (generation ${gen}); repricer queue status ${spec.runId}`);
    }
    const end = await waitForRun(redis, running, gen, o);
    const p = await runProgress(redis, spec.runId);
    const rows = p.parts.reduce((a, x) => a + x.rows, 0);
    const reruns = Object.values(p.starts).reduce((a, n) => a + Math.max(0, n - 1), 0);
    return { runId: spec.runId, how: 'done', rows, shards: running.shards.length, rejects: p.parts.reduce((a, x) => a + x.rejects, 0), reruns, seconds: (performance.now() - t0) / 1000, manifest: end, ...(running.publish ? { publishRunId: running.publish.runId } : {}) };
  } finally {
    redis.disconnect();
  }
}

/**
 * The publication of a new generation: the publishing server checked before anything is queued
 * (REDIS_UNAVAILABLE when it does not answer), one run id and time, and the model document's hash
 * as the single-process `reprice --publish` computes it.
 */
async function publishSpec(url: string, modelPath: string): Promise<PublishSpec> {
  const modelSha256 = modelDocumentSha(loadModel(modelPath));
  const r = await connectRedis(url, { name: 'repricer-reprice' });
  r.disconnect();
  const publishedAt = new Date().toISOString();
  return { url, runId: newRunId(publishedAt), publishedAt, modelSha256 };
}

/** Poll the run until it ends; its manifest when done, else the error it ended with. */
async function waitForRun(redis: Redis, spec: RunSpec, gen: number, o: SubmitOptions): Promise<Manifest | undefined> {
  const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: PREFIX });
  // the parts hash read at each poll grows with the shards: a millisecond per shard, 250 ms to 5 s
  const pollMs = o.pollMs ?? Math.min(5000, Math.max(250, spec.shards.length));
  try {
    for (;;) {
      if (o.signal?.aborted) throw new RepricerError('INTERRUPTED', `stopped waiting; run ${spec.runId} goes on in the workers (repricer queue cancel ${spec.runId} stops it; the same command again waits for it again)`);
      const run = (await getRun(redis, spec.runId)) as RunRecord;
      if (!run || run.generation !== gen) throw new RepricerError('JOB_FAILED', `run ${spec.runId}: its record in Redis was replaced or removed while waiting`);
      if (o.onProgress) {
        const p = await runProgress(redis, spec.runId);
        const inflight = Object.values(p.inflight).reduce((a, x) => a + x, 0);
        o.onProgress({ shards: spec.shards.length, shardsDone: p.parts.length, rows: p.parts.reduce((a, x) => a + x.rows, 0), share: Math.min(1, (p.parts.length + inflight) / spec.shards.length) });
      }
      if (run.state === 'done') return finishedOutput(spec);
      if (run.state === 'cancelled') throw new RepricerError('INTERRUPTED', `run ${spec.runId} was cancelled; no output was written`);
      if (run.state === 'failed') throw runError(spec, run.error ?? { shard: -1, code: 'JOB_FAILED', message: 'failed', attempt: 1, final: true });
      // a job BullMQ failed itself (stalled more often than allowed) records nothing of ours
      const parent = await queue.getJob(parentId(spec.runId, gen));
      if (parent && (await parent.getState()) === 'failed') {
        const failures = (await runProgress(redis, spec.runId)).failures.filter((f) => f.final);
        if (failures.length) throw runError(spec, failures[0]);
        throw new RepricerError('JOB_FAILED', `run ${spec.runId} failed: ${parent.failedReason ?? 'a shard failed'}`);
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    await queue.close();
  }
}
