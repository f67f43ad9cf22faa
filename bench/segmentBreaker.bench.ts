/**
 * What the segment breaker costs the batch job:
 *   node dist/bench/segmentBreaker.bench.js [--skus 2000000] [--workers 2] [--reps 3] [--segments 20]
 * Reads the batch benchmark's model and demo catalogue (d = 16) from bench/out/ (`npm run
 * bench:batch -- --skus N` writes them) and writes once beside them a copy with a `segment` column
 * (`seg-<row mod S>`, the current price of seg-0 halved so that it trips). Three configurations
 * run, each in a fresh child process, interleaved (order reversed every other round, so a change
 * in the machine's load hits all of them):
 *   plain        the catalogue without a segment column, the batch benchmark's policy (one pass)
 *   column       the segmented catalogue, the same policy (one pass: the column is read, no breaker)
 *   breaker      the segmented catalogue, the policy plus a segmentBreaker (measuring pass + pricing pass)
 * Prints each run's wall time, the measuring pass's time, and the medians.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { runReprice } from '../src/batch/job.js';
import type { Policy } from '../src/pricing/policy.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};

const POLICY: Policy = { maxChangePct: 30, minMarginOverCost: 1.1, rounding: { step: 0.01 } };
const BREAKER: Policy = { ...POLICY, segmentBreaker: { maxMovePct: 20, maxShareMovedPct: 30 } };

async function child(): Promise<void> {
  const s = await runReprice({
    modelPath: opt('model', ''),
    catalogPath: opt('catalog', ''),
    outPath: opt('out', ''),
    workers: Number(opt('workers', '2')),
    policy: opt('breaker', 'no') === 'yes' ? BREAKER : POLICY,
  });
  // CPU of the whole process, worker threads included: less sensitive than wall time to the load others put on the machine
  const cpu = process.cpuUsage();
  process.stdout.write(JSON.stringify({ ...s, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRss: process.resourceUsage().maxRSS * 1024 }) + '\n');
}

/** The catalogue with a segment column; segment seg-0's current prices halved (it trips). */
async function addSegments(from: string, to: string, segments: number): Promise<void> {
  const out = createWriteStream(to);
  let i = -1;
  let ci = -1;
  for await (const line of createInterface({ input: createReadStream(from), crlfDelay: Infinity })) {
    if (i < 0) {
      ci = line.split(',').indexOf('current_price');
      if (!out.write(`${line},segment\n`)) await once(out, 'drain');
    } else {
      const seg = i % segments;
      let row = line;
      if (seg === 0) {
        const f = line.split(',');
        if (f[ci] !== '') f[ci] = (Number(f[ci]) / 2).toFixed(2);
        row = f.join(',');
      }
      if (!out.write(`${row},seg-${seg}\n`)) await once(out, 'drain');
    }
    i++;
  }
  out.end();
  await once(out, 'finish');
}

async function main(): Promise<void> {
  if (args.includes('--child')) return child();
  const skus = Number(opt('skus', '2000000'));
  const workers = opt('workers', '2');
  const reps = Number(opt('reps', '3'));
  const segments = Number(opt('segments', '20'));
  const dir = join(process.cwd(), 'bench', 'out');
  const model = join(dir, 'model.json');
  const plain = join(dir, `catalog-${skus}.csv`);
  const segmented = join(dir, `catalog-${skus}-segments-${segments}.csv`);
  // the same files as the batch benchmark's, so the figures compare with its
  if (!existsSync(model) || !existsSync(plain)) throw new Error(`${model} or ${plain} missing: run \`npm run bench:batch -- --skus ${skus} --workers 1\` first`);
  if (!existsSync(segmented)) await addSegments(plain, segmented, segments);
  console.log(`segment breaker benchmark: ${skus} SKUs, d = 16, CSV -> CSV, ${segments} segments, ${workers} workers, node ${process.version}`);
  const configs = [
    { name: 'plain', catalog: plain, breaker: 'no' },
    { name: 'column', catalog: segmented, breaker: 'no' },
    { name: 'breaker', catalog: segmented, breaker: 'yes' },
  ];
  const self = fileURLToPath(import.meta.url);
  const rows: { name: string; seconds: number; cpu: number; measure: number; held: number; tripped: string; load: number }[] = [];
  for (let k = 0; k < reps; k++) {
    for (const c of k % 2 ? [...configs].reverse() : configs) {
      const out = join(dir, `segment-prices-${c.name}.csv`);
      rmSync(out, { force: true });
      const r = spawnSync(process.execPath, [self, '--child', '--model', model, '--catalog', c.catalog, '--out', out, '--workers', workers, '--breaker', c.breaker], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
      const s = JSON.parse(r.stdout.trim().split('\n').pop()!) as { seconds: number; cpuSeconds: number; status: { held: number }; segmentBreaker?: { measureSeconds: number; tripped: { segment: string }[] } };
      rows.push({ name: c.name, seconds: s.seconds, cpu: s.cpuSeconds, measure: s.segmentBreaker?.measureSeconds ?? 0, held: s.status.held, tripped: (s.segmentBreaker?.tripped ?? []).map((t) => t.segment).join(' '), load: loadavg()[0] });
      rmSync(out, { force: true });
    }
  }
  console.log('| configuration | wall s | CPU s (all threads) | measuring pass s | held rows | tripped | load after |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${r.seconds.toFixed(2)} | ${r.cpu.toFixed(2)} | ${r.measure.toFixed(2)} | ${r.held} | ${r.tripped} | ${r.load.toFixed(1)} |`);
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)];
  for (const c of configs) {
    const of = rows.filter((r) => r.name === c.name);
    console.log(`median ${c.name}: ${median(of.map((r) => r.seconds)).toFixed(2)} s wall (${of.map((r) => r.seconds.toFixed(2)).join(', ')}), ${median(of.map((r) => r.cpu)).toFixed(2)} s CPU${c.breaker === 'yes' ? `; measuring pass ${median(of.map((r) => r.measure)).toFixed(2)} s` : ''}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
