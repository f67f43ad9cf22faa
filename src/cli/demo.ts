/** `repricer demo` (npm start): generate demo data when absent, reprice it, print the summary. */
import type { Command } from 'commander';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeDemoCatalog, writeDemoModel } from '../batch/demoData.js';
import { printSummary, repriceWithSignals } from './reprice.js';
import { writeFailure } from '../core/errors.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('reprice a built-in demo catalogue (generated deterministically on first run)')
    .option('--dir <dir>', 'where demo files live', 'demo')
    .option('--skus <n>', 'catalogue size', (v) => Number(v), 200_000)
    .option('--workers <n>', 'worker threads', (v) => Number(v))
    .action(async (o: { dir: string; skus: number; workers?: number }) => {
      mkdirSync(o.dir, { recursive: true });
      const spec = { products: 5000, features: 16, seed: 20261123 };
      const model = join(o.dir, 'model.json');
      const catalog = join(o.dir, `catalog-${o.skus}.csv`);
      if (!existsSync(model)) writeDemoModel(model, spec);
      if (!existsSync(catalog)) {
        process.stderr.write(`generating ${o.skus} demo SKUs in ${catalog}\n`);
        await writeDemoCatalog(catalog, o.skus, spec).catch((err: unknown) => {
          throw writeFailure(catalog, 'demo catalogue', err);
        });
      }
      const out = join(o.dir, 'prices.csv');
      const policy = { maxChangePct: 30, minMarginOverCost: 1.1, rounding: { step: 0.01 } };
      const s = await repriceWithSignals({ modelPath: model, catalogPath: catalog, outPath: out, workers: o.workers, policy });
      printSummary(s);
      process.stdout.write(`prices written to ${out}\n`);
    });
}
