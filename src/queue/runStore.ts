/**
 * A distributed run's record in Redis, beside BullMQ's own jobs (docs/scale-out.md "Redis keys"):
 *   repricer:run:<id>           hash: state, generation, spec (JSON), error (JSON), times
 *   repricer:run:<id>:parts     hash: shard -> its part (rows, bytes, SHA-256), set once finished
 *   repricer:run:<id>:starts    hash: shard -> how many times a worker started it
 *   repricer:run:<id>:failures  hash: shard -> its last error (code, message, attempt)
 *   repricer:run:<id>:inflight  hash: shard -> share of its input done (progress only)
 * Every write is idempotent (HSET of the same value, or a counter that only reports), so a shard
 * delivered twice records the same part twice. The state moves queued -> running -> committing ->
 * done, or to failed or cancelled; cancel and commit decide between them atomically (Lua), so a
 * cancelled run never renames its output into place.
 */
import type { Redis } from 'ioredis';
import type { Policy } from '../pricing/policy.js';
import { runKey } from './connection.js';
import type { Shard } from './shardPlan.js';

export type RunState = 'queued' | 'running' | 'committing' | 'done' | 'failed' | 'cancelled';

/** The batch options every shard of a run is priced with. */
export interface ShardOptions {
  chunkSize?: number;
  onError: 'fail' | 'skip';
  allowExtraColumns: boolean;
  explain: boolean;
}

/**
 * `reprice --queue ... --publish URL`: where every shard publishes its rows, under one publication
 * for the whole run (docs/scale-out.md "Publishing from a distributed run"). The run id and time
 * are drawn once per generation, so a re-run shard writes the same hashes again.
 */
export interface PublishSpec {
  url: string;
  /** the publication's run id (records/redisPrices.ts newRunId), not the distributed run's id */
  runId: string;
  publishedAt: string;
  /** sha256 of the model document (records/redisPrices.ts modelSha256), for the run record */
  modelSha256: string;
}

/** What a run is: fixed when it is first queued. */
export interface RunSpec {
  runId: string;
  modelSha: string;
  policy: Policy | null;
  catalogs: string[];
  /** the prices file, absolute; its parts go to `<out>.parts/` */
  out: string;
  /** '.csv' or '.ndjson' */
  ext: string;
  partsOnly: boolean;
  options: ShardOptions;
  shards: Shard[];
  attempts: number;
  backoffMs: number;
  /** absent: the run publishes nothing */
  publish?: PublishSpec;
}

/** A finished shard's part file. */
export interface PartRecord {
  shard: number;
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
  /** rows rejected with --on-error skip, in the part's rejects file (absent when none) */
  rejects: number;
  rejectsFile?: string;
  rejectsBytes?: number;
  rejectsSha256?: string;
  /** with --publish: rows the shard wrote to Redis, and rejected rows whose keys it deleted */
  published?: number;
  removed?: number;
}

export interface FailureRecord {
  shard: number;
  code: string;
  message: string;
  attempt: number;
  final: boolean;
}

export interface RunRecord {
  state: RunState;
  generation: number;
  spec: RunSpec;
  error?: FailureRecord;
  created?: string;
  finished?: string;
}

export async function getRun(redis: Redis, runId: string): Promise<RunRecord | undefined> {
  const h = await redis.hgetall(runKey(runId));
  if (!h.spec || !h.state) return undefined;
  return {
    state: h.state as RunState,
    generation: Number(h.generation ?? 0),
    spec: JSON.parse(h.spec) as RunSpec,
    error: h.error ? (JSON.parse(h.error) as FailureRecord) : undefined,
    created: h.created,
    finished: h.finished,
  };
}

/** A new generation of the run (a first run, or a rerun of a failed or cancelled one): its records start empty. */
export async function newGeneration(redis: Redis, spec: RunSpec): Promise<number> {
  const k = runKey(spec.runId);
  const gen = await redis.hincrby(k, 'generation', 1);
  await redis
    .multi()
    .del(runKey(spec.runId, 'parts'), runKey(spec.runId, 'failures'), runKey(spec.runId, 'starts'), runKey(spec.runId, 'inflight'))
    .hdel(k, 'error', 'finished')
    .hset(k, 'spec', JSON.stringify(spec), 'state', 'queued', 'created', new Date().toISOString())
    .exec();
  return gen;
}

/** The run's state and generation (a job of an older generation does nothing). */
export async function runState(redis: Redis, runId: string): Promise<{ state: RunState | undefined; generation: number }> {
  const [state, gen] = await redis.hmget(runKey(runId), 'state', 'generation');
  return { state: (state ?? undefined) as RunState | undefined, generation: Number(gen ?? 0) };
}

// from -> to, only when the state is one of `from`; returns the state found
const MOVE = `
local s = redis.call('HGET', KEYS[1], 'state')
if not s then return '' end
for i = 2, #ARGV do if s == ARGV[i] then
  redis.call('HSET', KEYS[1], 'state', ARGV[1])
  return 'ok'
end end
return s`;

/** Move the state from one of `from` to `to` atomically; 'ok', or the state it was in. */
export async function moveState(redis: Redis, runId: string, to: RunState, from: RunState[]): Promise<string> {
  return (await redis.eval(MOVE, 1, runKey(runId), to, ...from)) as string;
}

/** Count a start of the shard; returns how many times it has been started, this one included. */
export async function markStarted(redis: Redis, runId: string, shard: number): Promise<number> {
  const n = await redis.hincrby(runKey(runId, 'starts'), String(shard), 1);
  await moveState(redis, runId, 'running', ['queued']);
  return n;
}

export async function recordPart(redis: Redis, runId: string, p: PartRecord): Promise<void> {
  await redis.multi().hset(runKey(runId, 'parts'), String(p.shard), JSON.stringify(p)).hdel(runKey(runId, 'inflight'), String(p.shard)).exec();
}

export async function recordInflight(redis: Redis, runId: string, shard: number, share: number): Promise<void> {
  await redis.hset(runKey(runId, 'inflight'), String(shard), share.toFixed(4));
}

export async function recordFailure(redis: Redis, runId: string, f: FailureRecord): Promise<void> {
  await redis.hset(runKey(runId, 'failures'), String(f.shard), JSON.stringify(f));
  if (f.final) {
    // the run fails with its first final failure (a cancelled or finished run stays as it is)
    if ((await moveState(redis, runId, 'failed', ['queued', 'running'])) === 'ok') await redis.hset(runKey(runId), 'error', JSON.stringify(f), 'finished', new Date().toISOString());
  }
}

/** What `queue status` and the coordinator's progress show. */
export interface RunProgress {
  parts: PartRecord[];
  starts: Record<string, number>;
  failures: FailureRecord[];
  inflight: Record<string, number>;
}

export async function runProgress(redis: Redis, runId: string): Promise<RunProgress> {
  const [parts, starts, failures, inflight] = await Promise.all([redis.hgetall(runKey(runId, 'parts')), redis.hgetall(runKey(runId, 'starts')), redis.hgetall(runKey(runId, 'failures')), redis.hgetall(runKey(runId, 'inflight'))]);
  const num = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
  return {
    parts: Object.values(parts).map((v) => JSON.parse(v) as PartRecord).sort((a, b) => a.shard - b.shard),
    starts: num(starts),
    failures: Object.values(failures).map((v) => JSON.parse(v) as FailureRecord).sort((a, b) => a.shard - b.shard),
    inflight: num(inflight),
  };
}
