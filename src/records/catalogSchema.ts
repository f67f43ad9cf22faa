/**
 * Catalogue columns (docs/formats.md): where each field sits in the input, resolved once from the
 * header (or the first NDJSON object's keys) against the model's features.
 */
import { RepricerError } from '../core/errors.js';
import { lookalike } from '../core/columnNames.js';

/** The optional catalogue columns (docs/formats.md). */
export const OPTIONAL_CATALOG_COLUMNS = ['cost', 'current_price', 'min_price', 'max_price'] as const;

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
  const names = [...pos.keys()];
  const need = (name: string) => {
    const i = pos.get(name);
    if (i === undefined) {
      const like = names.find((h) => lookalike(h, [name]) === name);
      const hint = like === undefined ? '' : `; did you mean to name column ${JSON.stringify(like)} ${JSON.stringify(name)}?`;
      throw new RepricerError('FEATURES_MISMATCH', `${file}:1: missing column ${name} (header has: ${header.join(', ')})${hint}`, { file, line: 1, column: name, ...(like === undefined ? {} : { found: like }) });
    }
    return i;
  };
  // an unused column that looks like a known one that is absent (a misspelt optional column
  // would otherwise be ignored in silence, and every row priced without it)
  const used = new Set<string>(['product_id', ...features]);
  // (a missing id or feature column is FEATURES_MISMATCH below, with the look-alike named)
  const absent = OPTIONAL_CATALOG_COLUMNS.filter((k) => !pos.has(k));
  for (const h of names) {
    if (used.has(h)) continue;
    const meant = lookalike(h, absent);
    if (meant !== undefined) {
      throw new RepricerError('INPUT_UNREADABLE', `${file}:1: column ${JSON.stringify(h)} looks like ${JSON.stringify(meant)}, which is missing: rename it (or drop it)`, { file, line: 1, column: h, expected: meant });
    }
  }
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
