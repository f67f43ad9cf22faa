/**
 * One shard on this machine: the batch job (batch/job.ts) run over the shard's bytes or row groups
 * on the local worker pool, its prices written under a name no other attempt uses, hashed, and
 * renamed to `<out>.parts/shard-00042.csv`. Two attempts of one shard (a lock that lapsed, a
 * worker presumed dead) write the same bytes and the rename is atomic, so whichever lands last
 * leaves the same part: the part is written exactly once in effect although the shard may run
 * more than once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { runReprice, type LoadedModel, type RepriceSummary } from '../batch/job.js';
import { writeFailure } from '../core/errors.js';
import type { Policy } from '../pricing/policy.js';
import type { TaskPool } from '../pool/taskPool.js';
import type { PartRecord, PublishSpec, ShardOptions } from './runStore.js';
import { partName, partsDir, type Shard } from './shardPlan.js';

/** The SHA-256 and length of a file, read as a stream (the part is in the page cache). */
export async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    h.update(c);
    bytes += c.length;
  }
  return { sha256: h.digest('hex'), bytes };
}

/** A finished shard: its part record (the publication counts are added by the worker) and the job summary. */
export interface ShardOutcome extends Omit<PartRecord, 'published' | 'removed'> {
  summary: RepriceSummary;
}

export interface RunShardOptions {
  shard: Shard;
  modelPath: string;
  policy: Policy | undefined;
  options: ShardOptions;
  out: string;
  ext: string;
  /** worker threads of the local pool (ignored with `pool`) */
  threads?: number;
  /** a pool kept across shards (poolLanes.ts); destroyed if the shard fails */
  pool?: TaskPool;
  /** the model loaded once for many shards (batch/job.ts loadSharedModel) */
  loaded?: LoadedModel;
  signal?: AbortSignal;
  onProgress?: (share: number) => void;
  /** the run's publication: the shard's rows go to Redis under its run id (no run record) */
  publish?: PublishSpec;
}

export async function runShard(o: RunShardOptions): Promise<ShardOutcome> {
  const dir = partsDir(o.out);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw writeFailure(dir, 'parts folder', err);
  }
  const name = partName(o.shard.index, o.ext);
  const final = join(dir, name);
  const finalRejects = join(dir, partName(o.shard.index, '.rejects.csv'));
  // a name of this attempt alone (machines may share process ids on a shared folder)
  const tag = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  // (ending in the output's extension, which decides the format written)
  const mine = join(dir, `.${partName(o.shard.index, '')}.${tag}${o.ext}`);
  const mineRejects = join(dir, `.${partName(o.shard.index, '')}.${tag}.rejects.csv`);
  const { shard } = o;
  const span = Math.max(1, shard.end - shard.start);
  try {
    const summary = await runReprice({
      modelPath: o.modelPath,
      catalogPath: shard.file,
      outPath: mine,
      rejectsPath: mineRejects,
      workers: o.threads,
      pool: o.pool,
      loaded: o.loaded,
      chunkSize: o.options.chunkSize,
      policy: o.policy,
      onError: o.options.onError,
      allowExtraColumns: o.options.allowExtraColumns,
      explain: o.options.explain,
      signal: o.signal,
      ...(o.publish ? { publishUrl: o.publish.url, publishAs: { runId: o.publish.runId, publishedAt: o.publish.publishedAt } } : {}),
      shard: { start: shard.start, end: shard.end, header: shard.header },
      onProgress: o.onProgress ? (_rows, done, total) => o.onProgress!(Math.min(1, Math.max(0, (done - (total - span)) / span))) : undefined,
    });
    const h = await hashFile(mine);
    let rej: { sha256: string; bytes: number } | undefined;
    if (summary.rejects > 0) {
      rej = await hashFile(mineRejects);
      renameSync(mineRejects, finalRejects);
    } else rmSync(finalRejects, { force: true });
    renameSync(mine, final);
    return { shard: shard.index, file: name, rows: summary.rows, bytes: h.bytes, sha256: h.sha256, rejects: summary.rejects, rejectsFile: rej ? partName(shard.index, '.rejects.csv') : undefined, rejectsBytes: rej?.bytes, rejectsSha256: rej?.sha256, summary };
  } catch (err) {
    rmSync(mine, { force: true });
    rmSync(mineRejects, { force: true });
    if ((err as NodeJS.ErrnoException).code && !(err instanceof Error && err.name === 'RepricerError')) throw writeFailure(final, 'part', err);
    throw err;
  }
}
