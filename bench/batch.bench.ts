/**
 * Whole-job benchmark of `repricer reprice`:
 *   npm run bench:batch -- --skus 1000000 [--format csv|parquet] [--workers 1,2] [--reps R]
 * Generates a demo catalogue (d = 16, deterministic) once under bench/out/, then runs the job in a
 * fresh child process per configuration so peak RSS is that run's own. Prints SKUs/s, peak RSS,
 * the time split and the 2-worker / 1-worker ratio measured in this run. With --reps R the
 * configurations run R times, their order reversed every other round (interleaved, so a change in
 * the machine's load hits both), and the median wall time of each is printed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDemoCatalog, writeDemoModel, writeDemoParquet } from '../src/batch/demoData.js';
import { runReprice } from '../src/batch/job.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};

async function child(): Promise<void> {
  const s = await runReprice({
    modelPath: opt('model', ''),
    catalogPath: opt('catalog', ''),
    outPath: opt('out', ''),
    workers: Number(opt('workers', '1')),
    policy: { maxChangePct: 30, minMarginOverCost: 1.1, rounding: { step: 0.01 } },
  });
  const rss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ ...s, peakRss: rss }) + '\n');
}

async function main(): Promise<void> {
  if (args.includes('--child')) return child();
  const skus = Number(opt('skus', '1000000'));
  const format = opt('format', 'csv');
  if (format !== 'csv' && format !== 'parquet') throw new Error('--format csv|parquet');
  const workers = opt('workers', '1,2').split(',').map(Number);
  const reps = Number(opt('reps', '1'));
  const dir = join(process.cwd(), 'bench', 'out');
  mkdirSync(dir, { recursive: true });
  const spec = { products: 20000, features: 16, seed: 424242 };
  const model = join(dir, 'model.json');
  const catalog = join(dir, `catalog-${skus}.${format}`);
  if (!existsSync(model)) writeDemoModel(model, spec);
  if (!existsSync(catalog)) {
    process.stderr.write(`generating ${skus} SKUs -> ${catalog}\n`);
    if (format === 'csv') await writeDemoCatalog(catalog, skus, spec);
    else await writeDemoParquet(catalog, skus, spec);
  }
  const mb = statSync(catalog).size / 1e6;
  console.log(`reprice benchmark: ${skus} SKUs, d = 16, ${format} -> ${format} (${mb.toFixed(0)} MB in), node ${process.version}`);
  const self = fileURLToPath(import.meta.url);
  const rows: { workers: number; seconds: number; rate: number; rss: number; parse: number; kernels: number; format: number; write: number }[] = [];
  const runs = Array.from({ length: reps }, (_, k) => (k % 2 ? [...workers].reverse() : workers)).flat();
  for (const w of runs) {
    const out = join(dir, `prices-${w}.${format}`);
    // the previous run's output is removed untimed: replacing it would add its unlink (~0.45 s for
    // 1.7 GB on this disk) to whichever configuration happens to run second
    rmSync(out, { force: true });
    const r = spawnSync(process.execPath, [self, '--child', '--model', model, '--catalog', catalog, '--out', out, '--workers', String(w)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; rowsPerSecond: number; peakRss: number; ms: { parse: number; kernels: number; format: number; mainWrite: number } };
    rows.push({ workers: w, seconds: s.seconds, rate: s.rowsPerSecond, rss: s.peakRss, parse: s.ms.parse, kernels: s.ms.kernels, format: s.ms.format, write: s.ms.mainWrite });
  }
  console.log('| workers | wall s | SKUs/s | peak RSS MiB | worker ms: parse | kernels | format | main-thread write ms |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.workers} | ${r.seconds.toFixed(2)} | ${Math.round(r.rate)} | ${(r.rss / 2 ** 20).toFixed(0)} | ${r.parse.toFixed(0)} | ${r.kernels.toFixed(0)} | ${r.format.toFixed(0)} | ${r.write.toFixed(0)} |`);
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)];
  const wall = (w: number) => median(rows.filter((r) => r.workers === w).map((r) => r.seconds));
  if (reps > 1) for (const w of workers) console.log(`median wall s, ${w} worker${w > 1 ? 's' : ''}: ${wall(w).toFixed(2)} (${rows.filter((r) => r.workers === w).map((r) => r.seconds.toFixed(2)).join(', ')})`);
  if (workers.includes(1) && workers.includes(2)) console.log(`2 workers / 1 worker throughput${reps > 1 ? ' (medians)' : ''}: ${(wall(1) / wall(2)).toFixed(2)}x`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
