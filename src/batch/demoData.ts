/**
 * Deterministic demo data for `npm start` and the batch benchmark: a model with M products
 * (common theta plus small product deviations, docs/math.md §1.1) and a catalogue streamed to disk.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { MODEL_FORMAT, type Model } from '../model/format.js';
import { writeFileAtomic, tempPathFor } from '../core/atomic.js';
import { renameSync, rmSync } from 'node:fs';

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface DemoSpec {
  products: number;
  features: number;
  seed: number;
}

export function demoModel(spec: DemoSpec): Model {
  const r = rng(spec.seed);
  const d = spec.features;
  const features = Array.from({ length: d }, (_, j) => `f${j + 1}`);
  // competitor mean quote u = 20 + sum_j theta_j x_j with x in [-1, 1]: prices around 20
  const common = [20, ...features.map(() => (r() - 0.5) * 2)];
  const products: Model['products'] = {};
  for (let k = 0; k < spec.products; k++) {
    const theta = common.map((c, j) => c + (r() - 0.5) * (j === 0 ? 4 : 0.4));
    const se = theta.map(() => 0.02 + 0.05 * r());
    products[`SKU-${k}`] = { theta, n: 50 + Math.floor(r() * 500), stdErr: se };
  }
  return {
    format: MODEL_FORMAT,
    createdAt: '2026-01-01T00:00:00.000Z',
    features,
    intercept: true,
    noise: { family: 'gaussian', scale: 2 },
    reservation: 0,
    radius: 1000,
    strategy: 'tsmt',
    common: { theta: common, n: spec.products * 275, stdErr: common.map(() => 0.01) },
    products,
    fit: { logLikelihood: 0, iterations: 0, converged: true, lambda: { c: 0.1 }, source: 'synthetic demo model' },
  };
}

/**
 * Write a catalogue of `rows` SKUs. Product ids cycle over the model's products, with 2% of rows
 * new products (cold start). Costs sit around 60% of the price level; current prices near 20.
 */
export async function writeDemoCatalog(file: string, rows: number, spec: DemoSpec): Promise<void> {
  const r = rng(spec.seed + 1);
  const d = spec.features;
  const tmp = tempPathFor(file);
  const out = createWriteStream(tmp);
  try {
    const header = ['product_id', ...Array.from({ length: d }, (_, j) => `f${j + 1}`), 'cost', 'current_price', 'min_price', 'max_price'];
    out.write(header.join(',') + '\n');
    let buf: string[] = [];
    for (let i = 0; i < rows; i++) {
      const id = r() < 0.02 ? `NEW-${i}` : `SKU-${Math.floor(r() * spec.products)}`;
      const fields: string[] = [id];
      for (let j = 0; j < d; j++) fields.push((r() * 2 - 1).toFixed(4));
      const cost = 8 + r() * 8;
      fields.push(cost.toFixed(2), (18 + r() * 6).toFixed(2), r() < 0.1 ? (cost * 1.2).toFixed(2) : '', r() < 0.1 ? '30.00' : '');
      buf.push(fields.join(','));
      if (buf.length === 10000) {
        if (!out.write(buf.join('\n') + '\n')) await once(out, 'drain');
        buf = [];
      }
    }
    if (buf.length) out.write(buf.join('\n') + '\n');
    out.end();
    await once(out, 'close');
    renameSync(tmp, file);
  } catch (err) {
    // a full disk: no partial catalogue is left under the temporary name
    out.destroy();
    rmSync(tmp, { force: true });
    throw err;
  }
}

export function writeDemoModel(file: string, spec: DemoSpec): void {
  writeFileAtomic(file, JSON.stringify(demoModel(spec), null, 2) + '\n');
}

/**
 * The same catalogue as `writeDemoCatalog` (same random stream, same values after the CSV's
 * rounding), as Parquet with row groups of 100 000 rows.
 */
export async function writeDemoParquet(file: string, rows: number, spec: DemoSpec): Promise<void> {
  const { ParquetWriter, fileWriter } = await import('hyparquet-writer');
  const r = rng(spec.seed + 1);
  const d = spec.features;
  const names = ['product_id', ...Array.from({ length: d }, (_, j) => `f${j + 1}`), 'cost', 'current_price', 'min_price', 'max_price'];
  const schema = [
    { name: 'root', num_children: names.length },
    { name: 'product_id', type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'REQUIRED' as const },
    ...names.slice(1).map((name) => ({ name, type: 'DOUBLE' as const, repetition_type: 'OPTIONAL' as const })),
  ];
  const tmp = tempPathFor(file);
  const w = new ParquetWriter({ writer: fileWriter(tmp), schema });
  const G = 100_000;
  for (let g0 = 0; g0 < rows; g0 += G) {
    const n = Math.min(G, rows - g0);
    const ids: string[] = new Array<string>(n);
    const cols = names.slice(1).map(() => new Array<number | null>(n));
    for (let k = 0; k < n; k++) {
      const i = g0 + k;
      ids[k] = r() < 0.02 ? `NEW-${i}` : `SKU-${Math.floor(r() * spec.products)}`;
      for (let j = 0; j < d; j++) cols[j][k] = Number((r() * 2 - 1).toFixed(4));
      const cost = 8 + r() * 8;
      cols[d][k] = Number(cost.toFixed(2));
      cols[d + 1][k] = Number((18 + r() * 6).toFixed(2));
      cols[d + 2][k] = r() < 0.1 ? Number((cost * 1.2).toFixed(2)) : null;
      cols[d + 3][k] = r() < 0.1 ? 30 : null;
    }
    w.write({ columnData: [{ name: 'product_id', data: ids }, ...names.slice(1).map((name, j) => ({ name, data: cols[j] }))], rowGroupSize: n });
  }
  w.finish();
  renameSync(tmp, file);
}
