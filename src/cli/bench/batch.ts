/**
 * `repricer bench`, batch: `repricer reprice` (no policy file) on a generated catalogue, CSV -> CSV
 * and Parquet -> Parquet, with 1 worker and with every core, timed end to end (pool start-up,
 * read, price, write). The Python peer (bench/peers/reprice.py: pandas read_csv, vectorised Newton
 * for the optimal quote, to_csv) prices the CSV catalogue, and its prices are compared with every
 * CSV output of repricer.
 */
import { availableParallelism } from 'node:os';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runReprice } from '../../batch/job.js';
import { writeDemoCatalog, writeDemoModel, writeDemoParquet } from '../../batch/demoData.js';
import type { Agreement, BenchRow, PeerOutcome } from './report.js';
import { bestOf, type Sizes } from './sizes.js';
import { readJson, runPeer, type PythonInfo } from './peers.js';

/** Agreement required between the peer's prices and repricer's: |Δp| / max(1, |p|). */
export const PRICE_TOLERANCE = 1e-9;

/** product_id and price of each line of a CSV price file (our own output: no quoted fields). */
function readPrices(file: string): { ids: string[]; prices: Float64Array } {
  const lines = readFileSync(file, 'utf8').split('\n');
  const head = lines[0].split(',');
  const pi = head.indexOf('price');
  const ids: string[] = [];
  const prices: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const f = lines[i].split(',');
    ids.push(f[0]);
    prices.push(f[pi] === '' ? NaN : Number(f[pi]));
  }
  return { ids, prices: Float64Array.from(prices) };
}

export function comparePrices(repricerFile: string, peerFile: string): Agreement {
  const a = readPrices(repricerFile);
  const b = readPrices(peerFile);
  let worst = 0;
  let at = -1;
  let mismatch = a.ids.length === b.ids.length ? 0 : Math.abs(a.ids.length - b.ids.length);
  for (let i = 0; i < Math.min(a.ids.length, b.ids.length); i++) {
    if (a.ids[i] !== b.ids[i]) mismatch++;
    const x = a.prices[i];
    const y = b.prices[i];
    const e = Number.isNaN(x) && Number.isNaN(y) ? 0 : Math.abs(x - y) / Math.max(1, Math.abs(x));
    if (!(e <= worst)) {
      worst = Number.isNaN(e) ? Infinity : e;
      at = i;
    }
  }
  const value = mismatch ? Infinity : worst;
  return {
    metric: 'max |diff price| / max(1, |price|)',
    value,
    tolerance: PRICE_TOLERANCE,
    ok: value <= PRICE_TOLERANCE,
    detail: mismatch ? `${mismatch} rows differ in product_id or count (${a.ids.length} vs ${b.ids.length} rows)` : `${a.ids.length} rows; worst at row ${at + 1} (${a.ids[at] ?? '-'}: repricer ${a.prices[at]}, python ${b.prices[at]})`,
  };
}

export async function runBatch(s: Sizes, dir: string, py: PythonInfo): Promise<BenchRow[]> {
  const spec = { products: s.batchProducts, features: s.batchFeatures, seed: 424242 };
  const model = join(dir, 'demo-model.json');
  const csv = join(dir, 'catalog.csv');
  const parquet = join(dir, 'catalog.parquet');
  writeDemoModel(model, spec);
  await writeDemoCatalog(csv, s.batchSkus, spec);
  await writeDemoParquet(parquet, s.batchSkus, spec);
  const cores = availableParallelism();
  const workerCounts = cores > 1 ? [1, cores] : [1];

  // the peer first: its prices are the reference every CSV output is compared with
  const peerPrices = join(dir, 'peer-prices.csv');
  let peerSeconds: number | undefined;
  let peerReason: string | undefined;
  if (!py.available || !py.pandas) peerReason = py.available ? 'pandas absent' : (py.reason ?? 'python absent');
  else {
    const timings = join(dir, 'peer-reprice.json');
    const runs: number[] = [];
    for (let i = 0; i < s.reps; i++) {
      runPeer(py.executable, 'reprice.py', [model, csv, peerPrices, timings]);
      runs.push(readJson<{ seconds: { total: number } }>(timings).seconds.total);
    }
    peerSeconds = Math.min(...runs);
  }

  const rows: BenchRow[] = [];
  for (const fmt of ['csv', 'parquet'] as const) {
    for (const workers of workerCounts) {
      const out = join(dir, `prices-${workers}.${fmt}`);
      const t = await bestOf(s.reps, async () => {
        rmSync(out, { force: true }); // replacing the previous run's file is not part of the job
        return runReprice({ modelPath: model, catalogPath: fmt === 'csv' ? csv : parquet, outPath: out, workers });
      });
      const row: BenchRow = {
        case: `reprice ${fmt === 'csv' ? 'CSV -> CSV' : 'Parquet -> Parquet'}, ${workers} worker${workers > 1 ? 's' : ''}`,
        size: `${s.batchSkus.toLocaleString('en-US')} SKUs, ${s.batchFeatures} features`,
        value: t.best,
        unit: 's',
        runs: t.runs,
      };
      const first = rows.find((r) => r.case.startsWith(`reprice ${fmt === 'csv' ? 'CSV' : 'Parquet'}`));
      if (first && workers > 1) row.compare = { label: '1 worker', value: first.value, unit: 's', ratio: first.value / t.best, ratioLabel: 'speed-up' };
      const peer: PeerOutcome = { script: 'reprice.py', ran: false };
      if (fmt === 'parquet') peer.reason = 'no Parquet peer (the CSV rows carry the comparison)';
      else if (peerSeconds === undefined) peer.reason = peerReason;
      else {
        peer.ran = true;
        peer.seconds = peerSeconds;
        peer.ratio = peerSeconds / t.best;
        peer.agreement = comparePrices(out, peerPrices);
        row.note = `${Math.round(s.batchSkus / t.best)} SKUs/s; python: ${peer.agreement.detail ?? ''}`;
      }
      row.note ??= `${Math.round(s.batchSkus / t.best)} SKUs/s`;
      row.peer = peer;
      rows.push(row);
    }
  }
  return rows;
}
