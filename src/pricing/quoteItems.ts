/**
 * Quote items (features by name, as the HTTP API and the library take them) laid out as the
 * engine's columnar chunk in the model's feature order, and a priced row back as a
 * docs/formats.md price record with its cold-start flag. Shared by the server and the library
 * entry, so both give the engine's numbers for the same items.
 */
import { RepricerError } from '../core/errors.js';
import type { CompiledModel } from './compiledModel.js';
import type { CatalogChunk, PriceColumns } from './engine.js';
import { REASON_BIT } from './policy.js';
import { priceRecord, type PriceRecord } from './record.js';

export interface QuoteItem {
  product_id: string;
  features: Record<string, number>;
  cost?: number | null;
  current_price?: number | null;
  min_price?: number | null;
  max_price?: number | null;
}

export interface QuoteRecord extends PriceRecord {
  cold_start: boolean;
}

const opt = (v: number | null | undefined): number => (typeof v === 'number' ? v : NaN);

/**
 * Lay out items as a CatalogChunk in the model's feature order. Throws FEATURES_MISMATCH naming
 * every missing feature by its field path (`items.3.features.f2`).
 */
export function buildChunk(cm: CompiledModel, items: QuoteItem[], pathOf: (i: number) => string): CatalogChunk {
  const n = items.length;
  const D = cm.D;
  const F = cm.features;
  const x = new Float64Array(n * D);
  const cost = new Float64Array(n);
  const currentPrice = new Float64Array(n);
  const minPrice = new Float64Array(n);
  const maxPrice = new Float64Array(n);
  const ids: string[] = new Array<string>(n);
  const off = cm.intercept ? 1 : 0;
  let missing: string[] | undefined;
  for (let i = 0; i < n; i++) {
    const it = items[i];
    ids[i] = it.product_id;
    const o = i * D;
    if (off) x[o] = 1;
    const f = it.features;
    for (let j = 0; j < F.length; j++) {
      const v = Object.hasOwn(f, F[j]) ? f[F[j]] : undefined;
      if (typeof v !== 'number') {
        (missing ??= []).push(`${pathOf(i)}features.${F[j]}`);
        continue;
      }
      x[o + off + j] = v;
    }
    cost[i] = opt(it.cost);
    currentPrice[i] = opt(it.current_price);
    minPrice[i] = opt(it.min_price);
    maxPrice[i] = opt(it.max_price);
  }
  if (missing) {
    const shown = missing.slice(0, 10).map((p) => `${p}: is required by the model`);
    throw new RepricerError('FEATURES_MISMATCH', `${shown.join('; ')}${missing.length > 10 ? `; ... (${missing.length} in all)` : ''} (model features: ${F.join(', ')})`, {
      missing: missing.slice(0, 100),
      features: F,
    });
  }
  return { n, ids, x, cost, currentPrice, minPrice, maxPrice };
}

export function quoteRecord(id: string, p: PriceColumns, i: number): QuoteRecord {
  const r = priceRecord(id, p, i) as QuoteRecord;
  r.cold_start = (p.reasons[i] & REASON_BIT.cold_start) !== 0;
  return r;
}
