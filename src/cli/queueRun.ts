/** `repricer reprice --queue URL`: the coordinator of a distributed run (src/queue/coordinator.ts). */
import { RepricerError } from '../core/errors.js';
import type { Policy } from '../pricing/policy.js';
import { submitAndWait, type RunOutcome } from '../queue/coordinator.js';
import { createProgress } from './progress.js';

export interface QueueRunFlags {
  queue: string;
  model: string;
  catalog: string;
  out: string;
  workers?: number;
  chunkSize?: number;
  onError: 'fail' | 'skip';
  allowExtraColumns?: boolean;
  explain?: boolean;
  state?: string;
  shards?: number;
  partsOnly?: boolean;
  attempts?: number;
  backoffMs?: number;
  /** checked redis:// URL of --publish */
  publish?: string;
}

export async function runOnQueue(o: QueueRunFlags, policy: Policy | undefined): Promise<RunOutcome> {
  if (o.workers !== undefined) throw new RepricerError('INVALID_ARGUMENT', '--workers is an option of each `repricer worker` under --queue, not of the coordinator');
  if (o.state !== undefined) throw new RepricerError('INVALID_ARGUMENT', '--state (the segment breaker) cannot be used with --queue: its measuring pass spans the whole catalogue');
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const progress = createProgress('reprice --queue');
  try {
    return await submitAndWait({
      url: o.queue,
      modelPath: o.model,
      catalog: o.catalog,
      out: o.out,
      policy,
      options: { chunkSize: o.chunkSize, onError: o.onError, allowExtraColumns: o.allowExtraColumns === true, explain: o.explain === true },
      partsOnly: o.partsOnly === true,
      ...(o.publish !== undefined ? { publishUrl: o.publish } : {}),
      shards: o.shards,
      attempts: o.attempts,
      backoffMs: o.backoffMs,
      signal: ac.signal,
      // progress in shards' shares (of 1000), rows from the finished shards
      onProgress: (p) => progress.update(p.rows, Math.round(p.share * 1000), 1000),
      log: (line) => process.stderr.write(`reprice: ${line}\n`),
    });
  } finally {
    progress.stop();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export function printOutcome(r: RunOutcome, out: string, partsOnly: boolean): void {
  const where = partsOnly ? `${out}.parts/manifest.json (parts in ${out}.parts/)` : out;
  const lines =
    r.how === 'noop'
      ? [`run ${r.runId} had already finished: ${r.rows} SKUs in ${r.shards} shards; nothing done`]
      : [`repriced ${r.rows} SKUs in ${r.seconds.toFixed(2)} s on the queue (run ${r.runId}: ${r.shards} shard${r.shards > 1 ? 's' : ''}, ${r.reruns} re-run${r.reruns === 1 ? '' : 's'})`];
  lines.push(`prices written to ${where}${r.rejects ? `; rejected rows (${r.rejects}) to ${out}.rejects.csv` : ''}`);
  if (r.publishRunId !== undefined) lines.push(`published to Redis as run ${r.publishRunId}`);
  process.stdout.write(lines.join('\n') + '\n');
}
