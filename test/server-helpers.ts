/**
 * Shared by the server tests: a deterministic model and catalogue items, and the reference
 * numbers computed straight through the engine (priceChunk + priceRecord, the batch job's path),
 * laid out independently of src/server/quoteService.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { demoModel, rng } from '../src/batch/demoData.js';
import { priceRecord } from '../src/records/formatChunk.js';
import { WasmCore } from '../src/core/wasm.js';
import type { Model } from '../src/model/format.js';
import { compileModel } from '../src/pricing/compiledModel.js';
import { priceChunk } from '../src/pricing/engine.js';
import type { Policy } from '../src/pricing/policy.js';

export const SPEC = { products: 40, features: 3, seed: 11 };
export const model1: Model = demoModel(SPEC);
/** a second version: same products and features, shifted coefficients */
export const model2: Model = (() => {
  const m = demoModel({ ...SPEC, seed: 12 });
  m.createdAt = '2026-02-01T00:00:00.000Z';
  return m;
})();

export interface Item {
  product_id: string;
  features: Record<string, number>;
  cost?: number | null;
  current_price?: number | null;
  min_price?: number | null;
  max_price?: number | null;
}

/** n catalogue items: known and unknown products, some with current price and bounds. */
export function makeItems(n: number, seed = 5): Item[] {
  const r = rng(seed);
  const out: Item[] = [];
  for (let i = 0; i < n; i++) {
    const id = r() < 0.05 ? `NEW-${i}` : `SKU-${Math.floor(r() * SPEC.products)}`;
    const features: Record<string, number> = {};
    for (let j = 1; j <= SPEC.features; j++) features[`f${j}`] = Math.round((r() * 2 - 1) * 1e4) / 1e4;
    const it: Item = { product_id: id, features, cost: Math.round((8 + r() * 8) * 100) / 100 };
    if (r() < 0.7) it.current_price = Math.round((18 + r() * 6) * 100) / 100;
    if (r() < 0.1) it.min_price = 21;
    if (r() < 0.1) it.max_price = 19.5;
    out.push(it);
  }
  return out;
}

const core = WasmCore.create({ variant: 'simd' });

/** The engine's records for the items (with `cold_start`), as JSON would carry them. */
export function engineRecords(model: Model, policy: Policy, items: Item[]): Record<string, unknown>[] {
  const cm = compileModel(model);
  const n = items.length;
  const D = cm.D;
  const x = new Float64Array(n * D);
  const col = (k: 'cost' | 'current_price' | 'min_price' | 'max_price') => Float64Array.from(items, (it) => (typeof it[k] === 'number' ? (it[k] as number) : NaN));
  items.forEach((it, i) => {
    x[i * D] = 1;
    model.features.forEach((f, j) => (x[i * D + 1 + j] = it.features[f]));
  });
  const p = priceChunk(core, cm, policy, { n, ids: items.map((i) => i.product_id), x, cost: col('cost'), currentPrice: col('current_price'), minPrice: col('min_price'), maxPrice: col('max_price') });
  // JSON round trip: exact for doubles (shortest round-trip form), maps -0 to 0 as the wire does
  return items.map((it, i) => JSON.parse(JSON.stringify({ ...priceRecord(it.product_id, p, i), cold_start: !(it.product_id in model.products) })) as Record<string, unknown>);
}

/** The compiled pool worker and fit task (the pool loads dist/, built by `npx tsc -p tsconfig.json`). */
export function requireDist(): void {
  for (const f of ['dist/src/batch/catalogTask.js', 'dist/src/server/fitJobTask.js']) {
    if (!existsSync(join(process.cwd(), f))) throw new Error(`${f} missing: run \`npx tsc -p tsconfig.json\` before the server tests`);
  }
}

/** Every number in a parsed JSON value is finite (JSON cannot carry NaN; a serializer bug could still print it). */
export function allFinite(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(allFinite);
  if (v && typeof v === 'object') return Object.values(v).every(allFinite);
  return true;
}
