/** `repricer queue status RUN` and `repricer queue cancel RUN` (src/queue/runControl.ts). */
import type { Command } from 'commander';
import { connect } from '../queue/connection.js';
import { cancelRun, runStatus, statusLines } from '../queue/runControl.js';

async function withRedis<T>(url: string, fn: (r: ReturnType<typeof connect>) => Promise<T>): Promise<T> {
  const r = connect(url);
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

export function register(program: Command): void {
  const q = program.command('queue').description('inspect or cancel distributed reprice runs (reprice --queue)');
  q.command('status')
    .description("a run's state, shards done and running, rows, re-runs and failures")
    .argument('<run>', 'the run id the coordinator printed')
    .requiredOption('--queue <url>', 'the Redis of the run (redis://HOST:PORT/DB)')
    .option('--json', 'print the status as JSON')
    .action(async (run: string, o: { queue: string; json?: boolean }) => {
      const s = await withRedis(o.queue, (r) => runStatus(r, run));
      process.stdout.write(o.json ? JSON.stringify(s, null, 2) + '\n' : statusLines(s).join('\n') + '\n');
    });
  q.command('cancel')
    .description('cancel a queued or running run: no output is written')
    .argument('<run>', 'the run id the coordinator printed')
    .requiredOption('--queue <url>', 'the Redis of the run (redis://HOST:PORT/DB)')
    .action(async (run: string, o: { queue: string }) => {
      process.stdout.write((await withRedis(o.queue, (r) => cancelRun(r, run))) + '\n');
    });
}
