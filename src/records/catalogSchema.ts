/**
 * Catalogue columns (docs/formats.md): where each field sits in the input, resolved once from the
 * header (or the first NDJSON object's keys) against the model's features.
 */
import { RepricerError } from '../core/errors.js';

export interface CatalogLayout {
  productId: number;
  features: number[];
  cost: number; // -1 when absent
  currentPrice: number;
  minPrice: number;
  maxPrice: number;
  width: number;
  header: string[];
}

export function resolveLayout(file: string, header: string[], features: string[]): CatalogLayout {
  const pos = new Map<string, number>();
  header.forEach((h, i) => pos.set(h.trim(), i));
  const need = (name: string) => {
    const i = pos.get(name);
    if (i === undefined) throw new RepricerError('FEATURES_MISMATCH', `${file}:1: missing column ${name} (header has: ${header.join(', ')})`, { file, line: 1, column: name });
    return i;
  };
  const productId = need('product_id');
  const feats = features.map(need);
  const opt = (name: string) => pos.get(name) ?? -1;
  return {
    productId,
    features: feats,
    cost: opt('cost'),
    currentPrice: opt('current_price'),
    minPrice: opt('min_price'),
    maxPrice: opt('max_price'),
    width: header.length,
    header,
  };
}

export const PRICE_COLUMNS = [
  'product_id', 'price', 'previous_price', 'change_pct', 'win_probability', 'expected_profit',
  'delta', 'gamma', 'vega', 'price_std_error', 'status', 'reason',
] as const;
