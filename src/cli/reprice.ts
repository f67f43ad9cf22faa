/** `repricer reprice`: the bulk nightly job. */
import type { Command } from 'commander';
import { runReprice, type RepriceSummary } from '../batch/job.js';
import { loadPolicy } from '../pricing/policy.js';
import { loadPricingAgent } from '../rl/agentPricing.js';
import { createProgress } from './progress.js';
import { RepricerError } from '../core/errors.js';
import type { SegmentBreakerSummary } from '../batch/jobSummary.js';
import type { SegmentReport } from '../pricing/segmentState.js';
import { checkRedisUrl } from '../records/redisPrices.js';
import { redactUrl } from '../records/redisClient.js';

const pct = (x: number) => `${Number(x.toFixed(2))} %`;

/** Why a segment tripped, in words: each measure's share against its limit. */
function whyText(r: SegmentReport): string {
  return r.why.map((w) => (w.measure === 'moves' ? `${pct(w.sharePct)} of rows move > ${w.threshold} %` : `${pct(w.sharePct)} of rows beyond ${w.measure} ${w.threshold}`) + ` (limit ${pct(w.limitPct)})`).join(', ');
}

/** The segment breaker's lines of the printed summary. */
export function segmentLines(b: SegmentBreakerSummary): string[] {
  const lines = [`segment breaker: ${b.measured} segment${b.measured === 1 ? '' : 's'} measured (measuring pass ${b.measureSeconds.toFixed(2)} s); tripped ${b.tripped.length}, held ${b.held.length}, resumed ${b.resumed.length}`];
  for (const r of b.tripped) lines.push(`  tripped  ${r.segment}: ${whyText(r)}; ${r.rows} rows held`);
  for (const r of b.held) lines.push(`  held     ${r.segment}: tripped ${r.trippedAt} (${whyText(r)}); clean runs ${r.cleanRuns} of ${r.resumeAfterRuns}; now ${pct(r.movedSharePct)} of rows move; ${r.rows} rows held`);
  for (const r of b.resumed) lines.push(`  resumed  ${r.segment}: clean ${r.cleanRuns} runs in a row (now ${pct(r.movedSharePct)} of rows move); ${r.rows} rows priced`);
  lines.push(b.stateFile !== undefined ? `breaker state written to ${b.stateFile}` : 'no --state: trips hold prices in this run only');
  return lines;
}

function int(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new RepricerError('INVALID_ARGUMENT', `${name} must be an integer >= 1, got ${JSON.stringify(v)}`);
    return n;
  };
}

export function printSummary(s: RepriceSummary, out: NodeJS.WriteStream = process.stdout): void {
  const lines = [
    `repriced ${s.rows} SKUs in ${s.seconds.toFixed(2)} s (${Math.round(s.rowsPerSecond)} SKUs/s, ${s.workers} worker${s.workers > 1 ? 's' : ''})`,
    `status: ${Object.entries(s.status).map(([k, v]) => `${k} ${v}`).join(', ')}${s.rejects ? `; rejected rows skipped: ${s.rejects}` : ''}`,
    'price change vs current_price:',
    ...s.changePct.bins.map((b, i) => `  ${b.padEnd(16)} ${s.changePct.counts[i]}`),
    // rows without a change: no current_price to compare with, or no published price
    `  ${'no change (no current_price, or rejected)'} ${s.rows - s.changePct.counts.reduce((a, c) => a + c, 0)}`,
    `time in workers (ms, summed): parse ${s.ms.parse.toFixed(0)}, kernels ${s.ms.kernels.toFixed(0)}, format ${s.ms.format.toFixed(0)}, read ${s.ms.read.toFixed(0)}, write ${s.ms.write.toFixed(0)}; main thread: read ${s.ms.mainRead.toFixed(0)}, write ${s.ms.mainWrite.toFixed(0)}`,
  ];
  if (s.retries) lines.push(`worker crashes retried: ${s.retries}`);
  for (const f of s.staleTempsRemoved) lines.push(`removed ${f}, a temporary file left by a run that was killed`);
  if (s.segmentBreaker) lines.push(...segmentLines(s.segmentBreaker));
  if (s.published) lines.push(`published ${s.published.published} prices to Redis as run ${s.published.runId} (model sha256 ${s.published.modelSha256.slice(0, 12)}); rejected rows removed: ${s.published.removed}`);
  if (s.fallbacks.chunks) {
    const why = Object.entries(s.fallbacks.reasons).map(([r, n]) => `${n} x ${r}`).join('; ');
    lines.push(`chunks read by the reference parser instead of the fast one: ${s.fallbacks.chunks} (${why})`);
  }
  out.write(lines.join('\n') + '\n');
}

export async function repriceWithSignals(opts: Parameters<typeof runReprice>[0]): Promise<RepriceSummary> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const progress = createProgress('reprice');
  // the measuring pass writes nothing, so the progress (of the prices written) starts after it
  if (opts.policy?.segmentBreaker) process.stderr.write('reprice: measuring the segments for the segment breaker first (a pass that prices and writes nothing)\n');
  try {
    return await runReprice({ ...opts, signal: ac.signal, onProgress: (r, b, t) => progress.update(r, b, t) });
  } finally {
    progress.stop();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export function register(program: Command): void {
  program
    .command('reprice')
    .description('price every SKU of a catalogue with a fitted model, on a pool of workers')
    .requiredOption('--model <file>', 'model JSON (repricer.model/1)')
    .requiredOption('--catalog <file>', 'catalogue (.csv, .ndjson or .parquet)')
    .requiredOption('--out <file>', 'prices (.csv, .ndjson or .parquet); written via a temporary file, renamed on success')
    .option('--workers <n>', 'worker threads (default: one per 512 MiB of catalogue, at least 1, at most the cores)', int('--workers'))
    .option('--chunk-size <k>', 'rows per task (default 32768)', int('--chunk-size'))
    .option('--policy <file>', 'guardrails JSON (bounds, maxChangePct, minMarginOverCost, rounding, breaker)')
    .option('--on-error <mode>', 'fail (default) stops at the first bad row; skip writes bad rows to <out>.rejects.csv', 'fail')
    .option('--allow-extra-columns', 'ignore catalogue columns the model does not use (default: an error); a look-alike of a known column stays an error')
    .option('--explain', 'add the price breakdown columns (base_price, return_, inventory_, cold_start_, [agent_,] guardrail_, rounding_adjustment) that add up to the price')
    .option('--state <file>', "the segment breaker's state (JSON), read before and written atomically after the run; needs a policy with segmentBreaker")
    .option('--agent <file>', 'price with a trained agent (repricer.agent/1, `repricer rl train`) instead of the model\'s optimum; the catalogue needs current_price, inventory and days_left')
    .option('--publish <url>', 'also publish every price, with the features that re-quote it, to Redis (redis://HOST:PORT/DB) for serve --redis')
    .option('--queue <url>', 'run distributed: queue shards on Redis (redis://HOST:PORT/DB) for `repricer worker` processes and wait; --catalog may then list files (a,b) or a pattern (day/*.csv)')
    .option('--shards <n>', 'with --queue: shards to cut the catalogue into (default: one per 64 MiB, at least one per file)', int('--shards'))
    .option('--parts-only', 'with --queue: leave the parts and their manifest in <out>.parts/ instead of assembling <out>')
    .option('--attempts <n>', 'with --queue: attempts per shard before the run fails (default 3)', int('--attempts'))
    .option('--backoff-ms <ms>', 'with --queue: delay before the first retry of a shard, doubled for each next one (default 1000)', int('--backoff-ms'))
    .action(async (o: { model: string; catalog: string; out: string; workers?: number; chunkSize?: number; policy?: string; onError: string; allowExtraColumns?: boolean; explain?: boolean; state?: string; publish?: string; agent?: string; queue?: string; shards?: number; partsOnly?: boolean; attempts?: number; backoffMs?: number }) => {
      if (o.onError !== 'fail' && o.onError !== 'skip') throw new RepricerError('INVALID_ARGUMENT', `--on-error must be fail or skip, got ${JSON.stringify(o.onError)}`);
      const policy = o.policy ? loadPolicy(o.policy) : undefined;
      if (o.agent !== undefined && o.publish !== undefined) throw new RepricerError('INVALID_ARGUMENT', '--agent with --publish: the published features re-quote with the model, not the agent; use one of them');
      if (o.queue !== undefined) {
        if (o.agent !== undefined) throw new RepricerError('INVALID_ARGUMENT', '--agent cannot be combined with --queue yet: distributed shards price with the model');
        // with --publish every shard publishes its rows, and the finalising job the run record (docs/scale-out.md)
        const publish = o.publish !== undefined ? checkRedisUrl('--publish', o.publish) : undefined;
        const { runOnQueue, printOutcome } = await import('./queueRun.js');
        printOutcome(await runOnQueue({ ...o, queue: o.queue, onError: o.onError, publish }, policy), o.out, o.partsOnly === true);
        return;
      }
      for (const flag of ['shards', 'partsOnly', 'attempts', 'backoffMs'] as const) if (o[flag] !== undefined) throw new RepricerError('INVALID_ARGUMENT', `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --queue`);
      const agent = o.agent !== undefined ? loadPricingAgent(o.agent) : undefined;
      const s = await repriceWithSignals({ modelPath: o.model, catalogPath: o.catalog, outPath: o.out, workers: o.workers, chunkSize: o.chunkSize, policy, onError: o.onError, allowExtraColumns: o.allowExtraColumns === true, explain: o.explain === true, ...(agent ? { agent } : {}), statePath: o.state, ...(o.publish !== undefined ? { publishUrl: checkRedisUrl('--publish', o.publish) } : {}) });
      printSummary(s);
      process.stdout.write(`prices written to ${o.out}${s.rejects ? `; rejected rows to ${`${o.out}.rejects.csv`}` : ''}${s.published ? `; published to ${redactUrl(o.publish!)}` : ''}\n`);
    });
}
