/**
 * Catalogue columns (docs/formats.md): where each field sits in the input, resolved once from the
 * header (or the first NDJSON object's keys) against the model's features.
 */
import { RepricerError } from '../core/errors.js';
import { lookalike } from '../core/columnNames.js';
import { OPTIONAL_COLUMNS, RETAIL_KEYS, TEXT_COLUMNS, type RetailKey } from '../pricing/catalogColumns.js';

/** The optional catalogue columns (docs/formats.md): the numeric ones, then the text ones. */
export const OPTIONAL_CATALOG_COLUMNS: readonly string[] = [...OPTIONAL_COLUMNS.map((c) => c.name), ...TEXT_COLUMNS];

export interface CatalogLayout {
  productId: number;
  features: number[];
  cost: number; // -1 when absent
  currentPrice: number;
  minPrice: number;
  maxPrice: number;
  /** the retail columns the header has (docs/formats.md), by key */
  retail: Partial<Record<RetailKey, number>>;
  /** the text column `segment` (-1 when absent; may be absent in layouts built before it existed) */
  segment?: number;
  /** the text column `season` (-1 when absent) */
  season?: number;
  width: number;
  header: string[];
  /** extra columns were accepted (--allow-extra-columns): an NDJSON row may carry keys the first did not */
  extraAllowed?: boolean;
}

export interface LayoutOptions {
  /** accept (and ignore) columns that are neither known nor a look-alike of one (default: an error) */
  allowExtraColumns?: boolean;
}

/** How an extra column is named in a message (a blank header cell by its position). */
export function columnLabel(name: string, index: number): string {
  return name === '' ? `(unnamed column ${index + 1})` : JSON.stringify(name);
}

/** Up to eight names, then how many there are in all. */
function namesList(names: readonly string[]): string {
  return names.length <= 8 ? names.join(', ') : `${names.slice(0, 8).join(', ')}, … (${names.length} in all)`;
}

export function resolveLayout(file: string, header: string[], features: string[], opts: LayoutOptions = {}): CatalogLayout {
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
    // a known column is never a look-alike of another (max_price is not a misspelt map_price)
    if (used.has(h) || OPTIONAL_CATALOG_COLUMNS.includes(h)) continue;
    const meant = lookalike(h, absent);
    if (meant !== undefined) {
      throw new RepricerError('INPUT_UNREADABLE', `${file}:1: column ${JSON.stringify(h)} looks like ${JSON.stringify(meant)}, which is missing: rename it (or drop it)`, { file, line: 1, column: h, expected: meant });
    }
  }
  const productId = need('product_id');
  const feats = features.map(need);
  // any other column is an error unless the caller accepts extra columns: a column the job would
  // ignore is more often a mistake (a feature the model does not have, a wrong export) than not
  const known = new Set<string>([...used, ...OPTIONAL_CATALOG_COLUMNS]);
  const extra = header.map((h, i) => ({ h: h.trim(), i })).filter(({ h }) => !known.has(h));
  if (extra.length && !opts.allowExtraColumns) {
    const list = extra.map(({ h, i }) => columnLabel(h, i)).join(', ');
    throw new RepricerError(
      'INPUT_UNREADABLE',
      `${file}:1: unexpected column${extra.length > 1 ? 's' : ''} ${list}: a catalogue has product_id, the model's features (${namesList(features)}) and optionally ${OPTIONAL_CATALOG_COLUMNS.join(', ')}; remove ${extra.length > 1 ? 'them' : 'it'}, or pass --allow-extra-columns to ignore ${extra.length > 1 ? 'them' : 'it'}`,
      { file, line: 1, columns: extra.map(({ h }) => h) },
    );
  }
  const opt = (name: string) => pos.get(name) ?? -1;
  const retail: Partial<Record<RetailKey, number>> = {};
  for (const c of OPTIONAL_COLUMNS) {
    if ((RETAIL_KEYS as readonly string[]).includes(c.key) && pos.has(c.name)) retail[c.key as RetailKey] = pos.get(c.name)!;
  }
  return {
    productId,
    features: feats,
    cost: opt('cost'),
    currentPrice: opt('current_price'),
    minPrice: opt('min_price'),
    maxPrice: opt('max_price'),
    retail,
    segment: opt('segment'),
    season: opt('season'),
    width: header.length,
    header,
    extraAllowed: opts.allowExtraColumns === true,
  };
}

export const PRICE_COLUMNS = [
  'product_id', 'price', 'previous_price', 'change_pct', 'win_probability', 'expected_profit',
  'delta', 'gamma', 'vega', 'price_std_error', 'status', 'reason',
] as const;
