/** `repricer queue status RUN` and `repricer queue cancel RUN`: a run's progress, and stopping it. */
import type { Redis } from 'ioredis';
import { RepricerError } from '../core/errors.js';
import { getRun, moveState, runProgress } from './runStore.js';
import { runKey } from './connection.js';

export interface RunStatus {
  runId: string;
  state: string;
  generation: number;
  shards: number;
  shardsDone: number;
  rows: number;
  /** shard starts beyond the first of each: retries and re-deliveries */
  reruns: number;
  running: number[];
  failures: { shard: number; code: string; message: string; attempt: number; final: boolean }[];
  out: string;
  created?: string;
  finished?: string;
  error?: string;
}

async function mustGet(redis: Redis, runId: string) {
  const run = await getRun(redis, runId);
  if (!run) throw new RepricerError('NOT_FOUND', `no run ${runId} in this Redis (the coordinator prints the run's id when it queues it)`);
  return run;
}

export async function runStatus(redis: Redis, runId: string): Promise<RunStatus> {
  const run = await mustGet(redis, runId);
  const p = await runProgress(redis, runId);
  return {
    runId,
    state: run.state,
    generation: run.generation,
    shards: run.spec.shards.length,
    shardsDone: p.parts.length,
    rows: p.parts.reduce((a, x) => a + x.rows, 0),
    reruns: Object.values(p.starts).reduce((a, n) => a + Math.max(0, n - 1), 0),
    running: Object.keys(p.inflight).map(Number).sort((a, b) => a - b),
    failures: p.failures,
    out: run.spec.partsOnly ? `${run.spec.out}.parts/manifest.json` : run.spec.out,
    created: run.created,
    finished: run.finished,
    error: run.error ? `shard ${run.error.shard}: ${run.error.code}: ${run.error.message}` : undefined,
  };
}

export function statusLines(s: RunStatus): string[] {
  const lines = [
    `run ${s.runId}: ${s.state} (generation ${s.generation})`,
    `shards: ${s.shardsDone} of ${s.shards} done${s.running.length ? `; running: ${s.running.join(', ')}` : ''}; rows priced: ${s.rows}; re-runs: ${s.reruns}`,
    `output: ${s.out}`,
  ];
  if (s.created) lines.push(`queued: ${s.created}${s.finished ? `; ended: ${s.finished}` : ''}`);
  for (const f of s.failures) lines.push(`failure: shard ${f.shard === -1 ? '(finalise)' : f.shard} attempt ${f.attempt}${f.final ? ' (final)' : ''}: ${f.code}: ${f.message}`);
  if (s.error) lines.push(`error: ${s.error}`);
  return lines;
}

/**
 * Cancel a queued or running run: its state becomes cancelled at once (atomically against the
 * finalising commit), workers refuse its remaining shards and abort the running ones within a
 * second, and no output is renamed into place. A run already done (or committing) is a CONFLICT.
 */
export async function cancelRun(redis: Redis, runId: string): Promise<string> {
  await mustGet(redis, runId);
  const r = await moveState(redis, runId, 'cancelled', ['queued', 'running']);
  if (r === 'ok') {
    await redis.hset(runKey(runId), 'finished', new Date().toISOString());
    return `run ${runId} cancelled; no output will be written`;
  }
  if (r === 'cancelled') return `run ${runId} was already cancelled`;
  throw new RepricerError('CONFLICT', `run ${runId} is ${r}: too late to cancel`);
}
