/** `repricer reprice`: the bulk nightly job. */
import type { Command } from 'commander';
import { runReprice, type RepriceSummary } from '../batch/job.js';
import { loadPolicy } from '../pricing/policy.js';
import { createProgress } from './progress.js';
import { RepricerError } from '../core/errors.js';

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
    .option('--explain', 'add the price breakdown columns (base_price, return_, inventory_, cold_start_, guardrail_, rounding_adjustment) that add up to the price')
    .action(async (o: { model: string; catalog: string; out: string; workers?: number; chunkSize?: number; policy?: string; onError: string; allowExtraColumns?: boolean; explain?: boolean }) => {
      if (o.onError !== 'fail' && o.onError !== 'skip') throw new RepricerError('INVALID_ARGUMENT', `--on-error must be fail or skip, got ${JSON.stringify(o.onError)}`);
      const policy = o.policy ? loadPolicy(o.policy) : undefined;
      const s = await repriceWithSignals({ modelPath: o.model, catalogPath: o.catalog, outPath: o.out, workers: o.workers, chunkSize: o.chunkSize, policy, onError: o.onError, allowExtraColumns: o.allowExtraColumns === true, explain: o.explain === true });
      printSummary(s);
      process.stdout.write(`prices written to ${o.out}${s.rejects ? `; rejected rows to ${`${o.out}.rejects.csv`}` : ''}\n`);
    });
}
