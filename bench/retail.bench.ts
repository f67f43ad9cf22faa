/**
 * The batch job with the retail columns against the same catalogue without them, side by side in
 * one run: `npm run bench:retail -- --skus 2000000 [--workers 2] [--reps 3]`.
 *
 * The retail catalogue is the plain bench catalogue with seven more columns: elasticity on a
 * third of the rows (those are priced by constant elasticity), return_rate on half (the others
 * follow the policy's return curve: the Newton kernel), return_cost, inventory and
 * target_inventory on every row (the skew), expert_price on a quarter (the blend) and map_price on
 * a fifth. Four jobs alternate per repetition: plain; retail; retail with --explain; retail under a
 * policy whose return curve prices the rows without a return_rate (the Newton kernel). Each runs
 * in a child process (fresh heap) and writes CSV.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDemoCatalog, writeDemoModel, rng } from '../src/batch/demoData.js';
import { runReprice } from '../src/batch/job.js';
import type { Policy } from '../src/pricing/policy.js';
import { loadavg } from 'node:os';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};

const PLAIN: Policy = { maxChangePct: 30, minMarginOverCost: 1.1, rounding: { step: 0.01 } };
const RETAIL: Policy = {
  ...PLAIN,
  inventory: { riskAversion: 0.5, volatility: 0.05, horizonDays: 30, holdingCost: 0.001, maxFactor: 2 },
};
/** the rows without a return_rate follow a return curve: the Newton kernel on half the rows */
const CURVE: Policy = { ...RETAIL, returns: { rMin: 0.02, rMax: 0.25, slope: 0.3, midpoint: 20, cost: 2 } };

async function child(): Promise<void> {
  const mode = opt('mode', 'plain');
  const s = await runReprice({
    modelPath: opt('model', ''),
    catalogPath: opt('catalog', ''),
    outPath: opt('out', ''),
    workers: Number(opt('workers', '2')),
    policy: mode === 'plain' ? PLAIN : mode === 'curve' ? CURVE : RETAIL,
    explain: mode === 'explain',
  });
  process.stdout.write(JSON.stringify({ seconds: s.seconds, rows: s.rows }) + '\n');
}

/** The plain catalogue with the retail columns appended (deterministic). */
async function writeRetail(src: string, dst: string): Promise<void> {
  const r = rng(77);
  const out = createWriteStream(dst);
  const lines = createInterface({ input: createReadStream(src), crlfDelay: Infinity });
  let first = true;
  let i = 0;
  for await (const line of lines) {
    if (first) {
      out.write(`${line},elasticity,return_rate,return_cost,inventory,target_inventory,expert_price,map_price\n`);
      first = false;
      continue;
    }
    const e = i % 3 === 0 ? (-1.2 - 2 * r()).toFixed(3) : '';
    const rr = i % 2 === 0 ? (0.3 * r()).toFixed(3) : '';
    const ex = i % 4 === 0 ? (15 + 10 * r()).toFixed(2) : '';
    const mp = i % 5 === 0 ? (10 + 5 * r()).toFixed(2) : '';
    const ok = out.write(`${line},${e},${rr},${(3 * r()).toFixed(2)},${Math.floor(300 * r())},150,${ex},${mp}\n`);
    if (!ok) await new Promise<void>((res) => out.once('drain', () => res()));
    i++;
  }
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
}

async function main(): Promise<void> {
  if (args.includes('--child')) return child();
  const skus = Number(opt('skus', '1000000'));
  const workers = opt('workers', '2');
  const reps = Number(opt('reps', '3'));
  const dir = join(process.cwd(), 'bench', 'out');
  mkdirSync(dir, { recursive: true });
  const spec = { products: 20000, features: 16, seed: 424242 };
  const model = join(dir, 'model.json');
  const plain = join(dir, `catalog-${skus}.csv`);
  const retail = join(dir, `catalog-${skus}-retail.csv`);
  if (!existsSync(model)) writeDemoModel(model, spec);
  if (!existsSync(plain)) await writeDemoCatalog(plain, skus, spec);
  if (!existsSync(retail)) await writeRetail(plain, retail);
  console.log(`retail columns: ${skus} SKUs, ${workers} workers, CSV -> CSV (${(statSync(plain).size / 1e6).toFixed(0)} MB plain, ${(statSync(retail).size / 1e6).toFixed(0)} MB retail), node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const self = fileURLToPath(import.meta.url);
  const modes = [['plain', plain], ['retail', retail], ['explain', retail], ['curve', retail]] as const;
  const times: Record<string, number[]> = { plain: [], retail: [], explain: [], curve: [] };
  for (let k = 0; k < reps; k++) {
    for (const [mode, cat] of k % 2 ? [...modes].reverse() : modes) {
      const r = spawnSync(process.execPath, [self, '--child', '--mode', mode, '--model', model, '--catalog', cat, '--out', join(dir, `retail-out-${mode}.csv`), '--workers', workers], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${mode}: ${r.stderr}`);
      const s = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number };
      times[mode].push(s.seconds);
    }
  }
  const best = (m: string) => Math.min(...times[m]);
  console.log('| job | seconds (each run) | best | SKUs/s (best) | vs plain |');
  console.log('|---|---|---|---|---|');
  for (const [m] of modes) {
    console.log(`| ${m} | ${times[m].map((t) => t.toFixed(2)).join(', ')} | ${best(m).toFixed(2)} | ${Math.round(skus / best(m)).toLocaleString('en-US')} | ${(best('plain') / best(m)).toFixed(2)}x |`);
  }
  console.log(`load after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

await main();
