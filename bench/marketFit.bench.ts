/**
 * The booking-model fit on a large event log (docs/math.md §2.6), stage by stage, one thread:
 *   npm run build && node dist/bench/marketFit.bench.js [--trials 1000000] [--segments 80] [--decimals 2]
 * A seeded log of `--trials` trials (searches with a shown price and bookings) over 2 zones x
 * (segments / 16) assets x 8 time buckets, prices around each asset's base rounded to `--decimals`
 * decimals (2: nearly every trial of a segment has its own price, the worst case for the grouping),
 * plus one non-trial row per ten, is written as CSV to a temporary file; then timed: the CSV read
 * (csv-parse, every cell checked), the grouping into (segment, price) groups and folds, the pooled
 * fit, the 5-fold choice of λ over 15 values, the final segment fits. What the stages cost says
 * where a WASM kernel for the likelihood sums could pay: only in the last three.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { Xoshiro128 } from '../src/core/random.js';
import { readEventLog } from '../src/market/eventLog.js';
import { bookingTrials, crossValidateLambda, fitPooled, fitSegments } from '../src/market/bookingFit.js';
import { SEGMENT_DIMENSIONS } from '../src/market/segments.js';

const args = process.argv.slice(2);
const opt = (k: string, v: string) => (args.includes(`--${k}`) ? args[args.indexOf(`--${k}`) + 1] : v);
const trials = Number(opt('trials', '1000000'));
const assets = Math.max(1, Math.round(Number(opt('segments', '80')) / 16));
const decimals = Number(opt('decimals', '2'));

const rng = new Xoshiro128(2026, 12, 6, 1);
const scale = 10 ** decimals;
const monday = Date.UTC(2026, 2, 2);
const lines = ['time,type,zone,asset,item_id,price_shown,booked'];
for (let t = 0; t < trials; t++) {
  const z = Math.floor(rng.uniform() * 2);
  const a = Math.floor(rng.uniform() * assets);
  const when = monday + Math.floor(rng.uniform() * 7 * 24) * 3600000 + Math.floor(rng.uniform() * 3600000);
  const base = 40 + 10 * a + 15 * z;
  const p = Math.round(base * Math.exp((rng.uniform() - 0.5) * 0.6) * scale) / scale;
  const q = 1 / (1 + Math.exp(-(-0.5 + 0.1 * a - (1.5 + 0.1 * a) * Math.log(p / base))));
  const y = rng.uniform() < q ? 1 : 0;
  const iso = new Date(when).toISOString();
  lines.push(`${iso},${y ? 'booking' : 'search'},zone${z},asset${a},item${a}-${t % 50},${p},${y}`);
  if (t % 10 === 0) lines.push(`${iso},view,zone${z},asset${a},item${a}-${t % 50},${p},0`);
}
const dir = mkdtempSync(join(tmpdir(), 'repricer-bench-market-fit-'));
const file = join(dir, 'events.csv');
writeFileSync(file, lines.join('\n') + '\n');
lines.length = 0;

/** Wall seconds and this process's CPU seconds (user + system) of one stage: on a shared machine the CPU time is the steadier of the two. */
const time = <T>(f: () => T): [T, { wall: number; cpu: number }] => {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const r = f();
  const c = process.cpuUsage(c0);
  return [r, { wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6 }];
};
const cell = (t: { wall: number; cpu: number }) => `${t.wall.toFixed(2)} | ${t.cpu.toFixed(2)}`;
try {
  const [log, tRead] = time(() => readEventLog(file));
  const [tr, tGroup] = time(() => bookingTrials(log, SEGMENT_DIMENSIONS));
  const [theta0, tPooled] = time(() => fitPooled(tr));
  const [choice, tCv] = time(() => crossValidateLambda(tr));
  const [, tSeg] = time(() => fitSegments(tr, theta0, choice.lambda));
  const mb = statSync(file).size / 1e6;
  console.log(`event log: ${log.n} rows (${tr.trials} trials, ${tr.bookings} bookings), ${mb.toFixed(0)} MB, ${tr.segmentIds.length} segments, ${tr.n.length} (segment, price) groups; load ${loadavg()[0].toFixed(1)}`);
  console.log('| stage | wall s | CPU s |');
  console.log('|---|---|---|');
  console.log(`| read CSV (every cell checked) | ${cell(tRead)} |`);
  console.log(`| group by (segment, price), deal to folds | ${cell(tGroup)} |`);
  console.log(`| pooled fit | ${cell(tPooled)} |`);
  console.log(`| 5-fold choice of λ (15 values) | ${cell(tCv)} |`);
  console.log(`| final segment fits | ${cell(tSeg)} |`);
  console.log(`chosen lambda ${choice.lambda}, pooled a ${theta0.a.toFixed(4)} b ${theta0.b.toFixed(4)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
