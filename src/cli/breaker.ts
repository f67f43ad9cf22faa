/**
 * `repricer breaker`: the segment breaker's state file by hand. `breaker reset SEGMENT --state
 * FILE` resumes a tripped segment (its prices are published again from the next run on), `--all`
 * every one; `breaker list --state FILE` shows what is tripped. The file is rewritten atomically.
 */
import type { Command } from 'commander';
import { RepricerError } from '../core/errors.js';
import { loadState, resetSegments, saveState } from '../pricing/segmentState.js';

export function register(program: Command): void {
  const breaker = program.command('breaker').description("the segment breaker's state file: list tripped segments, resume them by hand");
  breaker
    .command('reset')
    .description('resume a tripped segment (or --all) in the state file; its prices are published again from the next run')
    .argument('[segment]', 'the segment to resume')
    .requiredOption('--state <file>', 'the state file of reprice --state')
    .option('--all', 'resume every tripped segment')
    .action((segment: string | undefined, o: { state: string; all?: boolean }) => {
      if (o.all === true && segment !== undefined) throw new RepricerError('INVALID_ARGUMENT', `give a segment or --all, not both (got ${JSON.stringify(segment)} and --all)`);
      if (o.all !== true && segment === undefined) throw new RepricerError('INVALID_ARGUMENT', 'name the segment to resume, or pass --all');
      const before = loadState(o.state);
      const { state, resumed } = resetSegments(before, segment === undefined ? [] : [segment], o.all === true);
      saveState(o.state, state);
      process.stdout.write(resumed.length ? `resumed ${resumed.map((s) => JSON.stringify(s)).join(', ')} in ${o.state}\n` : `no segment is tripped in ${o.state}\n`);
    });
  breaker
    .command('list')
    .description('list the tripped segments of a state file, with why and since when')
    .requiredOption('--state <file>', 'the state file of reprice --state')
    .action((o: { state: string }) => {
      const s = loadState(o.state);
      const rows = Object.entries(s.segments);
      if (!rows.length) {
        process.stdout.write(`no segment is tripped in ${o.state}\n`);
        return;
      }
      for (const [name, t] of rows) {
        const why = t.why.map((w) => `${w.measure} ${Number(w.sharePct.toFixed(2))} % > ${w.limitPct} %`).join(', ');
        process.stdout.write(`${name}: tripped ${t.trippedAt} (run ${t.trippedRun}); ${why}; clean runs ${t.cleanRuns} of ${t.resumeAfterRuns}\n`);
      }
    });
}
