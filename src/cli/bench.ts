/**
 * `repricer bench`: what the engine does on this machine: kernels, the pooled fit, the batch job
 * and the HTTP API, with the Python peers (bench/peers/) beside the fit and the batch job where
 * python3 with numpy and scipy (and pandas) is importable. The runner is src/cli/bench/run.ts.
 */
import { Command, Option } from 'commander';
import { RepricerError } from '../core/errors.js';
import { runBench } from './bench/run.js';
import { SECTIONS, type SectionName } from './bench/report.js';
import type { Mode } from './bench/sizes.js';

interface BenchCommandOptions {
  quick?: boolean;
  full?: boolean;
  smoke?: boolean;
  json?: string;
  sections?: string;
  dir?: string;
  python: string;
  peers: boolean;
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('measure kernels, fit, batch repricing and HTTP on this machine, beside the Python peers where python3 has numpy/scipy/pandas')
    .option('--quick', 'about a minute on a 2-core machine (the default)')
    .option('--full', 'bigger sizes: 1M-row kernels, fit and catalogue, longer HTTP runs')
    .addOption(new Option('--smoke', 'tiny sizes, a few seconds (tests)').hideHelp())
    .option('--json <file>', 'also write the report as JSON')
    .option('--sections <list>', `comma-separated subset of ${SECTIONS.join(',')}`)
    .option('--dir <dir>', 'keep the generated files in this folder (default: a temporary folder, removed)')
    .option('--python <exe>', 'the Python interpreter of the peers', 'python3')
    .option('--no-peers', 'do not run the Python peers')
    .action(async (o: BenchCommandOptions) => {
      if ([o.quick, o.full, o.smoke].filter(Boolean).length > 1) throw new RepricerError('INVALID_ARGUMENT', '--quick, --full and --smoke exclude each other');
      const mode: Mode = o.full ? 'full' : o.smoke ? 'smoke' : 'quick';
      let sections: SectionName[] | undefined;
      if (o.sections !== undefined) {
        const list = o.sections.split(',').map((x) => x.trim());
        const bad = list.filter((x) => !SECTIONS.includes(x as SectionName));
        if (bad.length || list.length === 0) throw new RepricerError('INVALID_ARGUMENT', `--sections takes a comma-separated subset of ${SECTIONS.join(',')}, got ${JSON.stringify(o.sections)}`);
        sections = list as SectionName[];
      }
      const command = ['repricer', ...process.argv.slice(2)].join(' ');
      const r = await runBench({ mode, sections, json: o.json, dir: o.dir, python: o.python, peers: o.peers, command, log: (l) => process.stderr.write(`bench: ${l}\n`) });
      process.stdout.write(r.table + '\n');
      if (o.json) process.stdout.write(`report written to ${o.json}\n`);
      if (r.disagreements.length) {
        process.stderr.write(`repricer bench: a Python peer disagrees with repricer:\n${r.disagreements.map((d) => `  ${d}`).join('\n')}\n`);
        process.exitCode = 1;
      }
    });
}
