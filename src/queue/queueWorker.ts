/**
 * `repricer worker`: takes the jobs of distributed runs from the queue (docs/scale-out.md). A
 * `shard` job prices its shard on this machine's worker pool (shardJob.ts) and records its part;
 * a run's `finalise` job, which BullMQ releases only once every shard job has completed, writes
 * the manifest and assembles the output (assemble.ts). Delivery is at least once: a job whose
 * lock lapses (its worker died, or stalled past --lock-ms) is run again by another worker, which
 * the part files' idempotent names make harmless.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { RepricerError } from '../core/errors.js';
import { PREFIX, QUEUE_NAME, connect, runKey } from './connection.js';
import { fetchModel } from './modelStore.js';
import { getRun, markStarted, moveState, recordFailure, recordInflight, recordPart, runState, type PartRecord, type RunSpec } from './runStore.js';
import { runShard } from './shardJob.js';
import { assembleRun } from './assemble.js';
import { PoolLanes } from './poolLanes.js';
import { loadSharedModel, type LoadedModel } from '../batch/job.js';
import type { WorkerMetrics } from './workerMetrics.js';
import { hostname } from 'node:os';
import { connectRedis, redisUnavailable } from '../records/redisClient.js';
import { publishRunOnce } from '../records/redisPrices.js';

/** A shard job's data: the run, its generation, and the shard's index in the run's spec. */
export interface ShardJobData {
  runId: string;
  generation: number;
  shard: number;
}
export type FinaliseJobData = Omit<ShardJobData, 'shard'>;

export interface QueueWorkerOptions {
  url: string;
  /** worker threads of each shard's pool (default: the cores shared among `concurrency` shards) */
  threads?: number;
  /** shards run at once by this process */
  concurrency?: number;
  /** a job's lock (ms): a worker silent this long is presumed dead and its job re-run */
  lockMs?: number;
  metrics?: WorkerMetrics;
  modelCache?: string;
  /** a line per event (shard started, finished, failed) */
  log?: (line: string) => void;
}

/**
 * The run record and message of a distributed run's publication (records/redisPrices.ts
 * publishRunOnce): the rows the shards' parts say they published. A second attempt of the
 * finalising job finds the record written and announces nothing.
 */
async function announce(spec: RunSpec, runId: string, parts: PartRecord[]): Promise<void> {
  const p = spec.publish!;
  const redis = await connectRedis(p.url, { name: 'repricer-worker', commandTimeoutMs: 60_000 });
  const run = {
    run_id: p.runId,
    model_sha256: p.modelSha256,
    published_at: p.publishedAt,
    finished_at: new Date().toISOString(),
    published: parts.reduce((a, x) => a + (x.published ?? 0), 0),
    removed: parts.reduce((a, x) => a + (x.removed ?? 0), 0),
    source: `queue run ${runId}: ${spec.catalogs.join(',')}`,
  };
  try {
    await publishRunOnce(redis, run);
  } catch (err) {
    throw redisUnavailable(p.url, `the output of run ${runId} is assembled and its rows published, but the run record ${p.runId} could not be written`, err);
  } finally {
    redis.disconnect();
  }
}

/** Errors a retry cannot fix: bad arguments, input or model (exit codes 2, 3, 4), and an interrupt. */
function permanent(err: unknown): boolean {
  return err instanceof RepricerError && ([2, 3, 4].includes(err.exitCode) || err.code === 'INTERRUPTED');
}

export class QueueWorker {
  private readonly redis: Redis;
  private readonly worker: Worker;
  private readonly specs = new Map<string, Promise<RunSpec>>();
  private readonly log: (line: string) => void;
  private readonly id = `${hostname()}:${process.pid}`;
  private readonly lanes: PoolLanes;
  private readonly models = new Map<string, Promise<LoadedModel>>();

  constructor(private readonly o: QueueWorkerOptions) {
    this.redis = connect(o.url);
    this.log = o.log ?? (() => undefined);
    this.lanes = new PoolLanes(o.threads, o.concurrency ?? 1);
    const lockMs = o.lockMs ?? 30_000;
    this.worker = new Worker(QUEUE_NAME, (job) => this.process(job), {
      connection: this.redis,
      prefix: PREFIX,
      concurrency: o.concurrency ?? 1,
      lockDuration: lockMs,
      // other workers look for lapsed locks this often; a stalled job is re-run up to twice
      stalledInterval: lockMs,
      maxStalledCount: 2,
    });
    this.worker.on('error', (err) => this.log(`worker: queue connection: ${err.message}`));
  }

  /** Resolves once connected to Redis and ready to take jobs. */
  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  /** Stop taking jobs and wait for the running ones (or, with `force`, leave them to lapse). */
  async close(force = false): Promise<void> {
    await this.worker.close(force);
    await this.lanes.close();
    this.redis.disconnect();
  }

  /** The model loaded, validated and shared once per SHA-256 (the latest two kept). */
  private model(sha: string, file: string): Promise<LoadedModel> {
    let p = this.models.get(sha);
    if (!p) {
      p = Promise.resolve().then(() => loadSharedModel(file));
      this.models.set(sha, p);
      p.catch(() => this.models.delete(sha));
      while (this.models.size > 2) this.models.delete(this.models.keys().next().value!);
    }
    return p;
  }

  private spec(runId: string, generation: number): Promise<RunSpec> {
    const key = `${runId}#${generation}`;
    let p = this.specs.get(key);
    if (!p) {
      p = getRun(this.redis, runId).then((r) => {
        if (!r) throw new UnrecoverableError(`run ${runId} has no record in Redis`);
        return r.spec;
      });
      this.specs.set(key, p);
      p.catch(() => this.specs.delete(key));
    }
    return p;
  }

  /** Refuse a job of a run that is over (a finalise job of a done run excepted), or of an older generation of it. */
  private async stillWanted(d: FinaliseJobData, finalising = false): Promise<string | undefined> {
    const { state, generation } = await runState(this.redis, d.runId);
    if (generation !== d.generation) throw new UnrecoverableError(`run ${d.runId}: generation ${d.generation} was replaced by ${generation}`);
    if (finalising && state === 'done') return state;
    if (state === 'cancelled' || state === 'failed' || state === 'done') throw new UnrecoverableError(`run ${d.runId} is ${state}`);
    return state;
  }

  private async process(job: Job): Promise<unknown> {
    if (job.name === 'shard') return this.shard(job as Job<ShardJobData>);
    if (job.name === 'finalise') return this.finalise(job as Job<FinaliseJobData>);
    throw new UnrecoverableError(`unknown job ${job.name}`);
  }

  private async shard(job: Job<ShardJobData>): Promise<PartRecord> {
    const d = job.data;
    const m = this.o.metrics;
    const t0 = performance.now();
    try {
      await this.stillWanted(d);
    } catch (err) {
      this.log(`shard ${d.shard} of run ${d.runId} refused: ${(err as Error).message}`);
      throw err;
    }
    const spec = await this.spec(d.runId, d.generation);
    const shard = spec.shards[d.shard];
    if ((await markStarted(this.redis, d.runId, d.shard)) > 1) m?.shardsRerun.inc();
    this.log(`shard ${d.shard} of run ${d.runId} started (attempt ${job.attemptsMade + 1}, ${this.id})`);
    m?.active.inc();
    const ac = new AbortController();
    let share = 0;
    // progress for the coordinator, and a cancelled run stops its shards within a second
    const tick = setInterval(() => {
      void recordInflight(this.redis, d.runId, d.shard, share).catch(() => undefined);
      void runState(this.redis, d.runId).then((s) => {
        if (s.state === 'cancelled' || s.generation !== d.generation) ac.abort();
      }, () => undefined);
    }, 1000);
    try {
      const modelPath = await fetchModel(this.redis, spec.modelSha, this.o.modelCache);
      const loaded = await this.model(spec.modelSha, modelPath);
      const pool = this.lanes.take(spec.modelSha);
      let r;
      try {
        r = await runShard({ shard, modelPath, loaded, policy: spec.policy ?? undefined, options: spec.options, out: spec.out, ext: spec.ext, pool, signal: ac.signal, onProgress: (s) => (share = s), publish: spec.publish });
      } catch (err) {
        // the job destroyed it already if it failed; after a failure past the job (hashing, the rename) it is ended here
        await pool.destroy().catch(() => undefined);
        throw err;
      }
      this.lanes.give(pool, spec.modelSha);
      const part: PartRecord = { shard: r.shard, file: r.file, rows: r.rows, bytes: r.bytes, sha256: r.sha256, rejects: r.rejects, rejectsFile: r.rejectsFile, rejectsBytes: r.rejectsBytes, rejectsSha256: r.rejectsSha256 };
      if (r.summary.published) {
        part.published = r.summary.published.published;
        part.removed = r.summary.published.removed;
      }
      await recordPart(this.redis, d.runId, part);
      m?.shardsDone.inc();
      m?.rows.inc(r.rows);
      m?.shardSeconds.observe((performance.now() - t0) / 1000);
      this.log(`shard ${d.shard} of run ${d.runId} done: ${r.rows} rows, ${r.bytes} bytes in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      return part;
    } catch (err) {
      const attempt = job.attemptsMade + 1;
      const last = permanent(err) || attempt >= (job.opts.attempts ?? 1);
      const e = err instanceof RepricerError ? err : new RepricerError('JOB_FAILED', err instanceof Error ? err.message : String(err));
      await recordFailure(this.redis, d.runId, { shard: d.shard, code: e.code, message: e.message, attempt, final: last }).catch(() => undefined);
      if (last) m?.shardsFailed.inc();
      else m?.shardsRetried.inc();
      this.log(`shard ${d.shard} of run ${d.runId} failed (attempt ${attempt}${last ? ', final' : ', will retry'}): ${e.code}: ${e.message}`);
      if (permanent(err)) throw new UnrecoverableError(`${e.code}: ${e.message}`);
      throw new Error(`${e.code}: ${e.message}`);
    } finally {
      clearInterval(tick);
      m?.active.dec();
    }
  }

  private async finalise(job: Job<FinaliseJobData>): Promise<{ rows: number; bytes: number }> {
    const d = job.data;
    const t0 = performance.now();
    if ((await this.stillWanted(d, true)) === 'done') {
      // delivered again after it finished (its lock lapsed as it completed): nothing left to do
      const [rows, bytes] = await this.redis.hmget(runKey(d.runId), 'rows', 'bytes');
      return { rows: Number(rows), bytes: Number(bytes) };
    }
    const spec = await this.spec(d.runId, d.generation);
    const values = Object.values(await job.getChildrenValues<PartRecord>());
    this.log(`run ${d.runId}: ${values.length} parts; writing the manifest and assembling ${spec.partsOnly ? '(parts only)' : spec.out}`);
    try {
      const { manifest, committed } = await assembleRun(spec, values, async () => (await moveState(this.redis, d.runId, 'committing', ['queued', 'running'])) === 'ok');
      if (!committed) throw new UnrecoverableError(`run ${d.runId} was cancelled before its output was renamed into place`);
      // the output is in place: the publication is announced (once, whatever the attempt) before the run is done
      if (spec.publish) await announce(spec, d.runId, values);
      await this.redis.hset(runKey(d.runId), 'state', 'done', 'finished', new Date().toISOString(), 'rows', String(manifest.rows), 'bytes', String(manifest.bytes), 'rejects', String(manifest.rejects));
      this.o.metrics?.runsFinalised.inc();
      this.o.metrics?.finaliseSeconds.observe((performance.now() - t0) / 1000);
      this.log(`run ${d.runId} done: ${manifest.rows} rows`);
      return { rows: manifest.rows, bytes: manifest.bytes };
    } catch (err) {
      if (err instanceof UnrecoverableError) throw err;
      const attempt = job.attemptsMade + 1;
      const last = permanent(err) || attempt >= (job.opts.attempts ?? 1);
      const e = err instanceof RepricerError ? err : new RepricerError('JOB_FAILED', err instanceof Error ? err.message : String(err));
      // a failure while committing leaves the state at committing: back to running for a retry
      await moveState(this.redis, d.runId, 'running', ['committing']).catch(() => undefined);
      await recordFailure(this.redis, d.runId, { shard: -1, code: e.code, message: e.message, attempt, final: last }).catch(() => undefined);
      throw last && permanent(err) ? new UnrecoverableError(`${e.code}: ${e.message}`) : new Error(`${e.code}: ${e.message}`);
    }
  }
}
