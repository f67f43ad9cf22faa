/**
 * The optional numeric columns of a catalogue row (docs/formats.md "Catalogue"), in one table that
 * every reader (the WASM CSV kernel, the JavaScript CSV/NDJSON parser, both Parquet paths, the
 * HTTP quote items) and the engine share, so a new column is added in one place.
 *
 * The first four are the guardrail columns every catalogue has always had; the rest price a
 * retail SKU as a risk (docs/math.md §4: returns, inventory, the expert's cold-start price, the
 * advertised-price floor, constant-elasticity demand); `days_left` is read by the pricing agent
 * alone (docs/rl.md, "Pricing with an agent").
 */

export interface OptionalColumn {
  /** the field of CatalogChunk / the key of the columns record */
  key: OptionalKey;
  /** the column name in a catalogue file and the field of a quote item */
  name: string;
  /** negative values are refused by the readers (a negative elasticity or cost is the engine's to judge) */
  nonNegative: boolean;
}

export const OPTIONAL_KEYS = [
  'cost', 'currentPrice', 'minPrice', 'maxPrice',
  'mapPrice', 'elasticity', 'returnRate', 'returnCost', 'inventory', 'targetInventory', 'expertPrice', 'daysLeft',
] as const;
export type OptionalKey = (typeof OPTIONAL_KEYS)[number];

/** The retail columns: present in a chunk only when the catalogue has them. */
export type RetailKey = Exclude<OptionalKey, 'cost' | 'currentPrice' | 'minPrice' | 'maxPrice'>;
export const RETAIL_KEYS: readonly RetailKey[] = ['mapPrice', 'elasticity', 'returnRate', 'returnCost', 'inventory', 'targetInventory', 'expertPrice', 'daysLeft'];

export const OPTIONAL_COLUMNS: readonly OptionalColumn[] = [
  { key: 'cost', name: 'cost', nonNegative: false },
  { key: 'currentPrice', name: 'current_price', nonNegative: true },
  { key: 'minPrice', name: 'min_price', nonNegative: true },
  { key: 'maxPrice', name: 'max_price', nonNegative: true },
  { key: 'mapPrice', name: 'map_price', nonNegative: true },
  { key: 'elasticity', name: 'elasticity', nonNegative: false },
  { key: 'returnRate', name: 'return_rate', nonNegative: true },
  { key: 'returnCost', name: 'return_cost', nonNegative: true },
  { key: 'inventory', name: 'inventory', nonNegative: true },
  { key: 'targetInventory', name: 'target_inventory', nonNegative: true },
  { key: 'expertPrice', name: 'expert_price', nonNegative: true },
  // the days left in the selling season: a state feature of the pricing agent (pricing/agentStep.ts)
  { key: 'daysLeft', name: 'days_left', nonNegative: true },
];

/** The retail columns a chunk carries (each NaN where the row's cell is blank). */
export type RetailColumns = Partial<Record<RetailKey, Float64Array>>;

/** The sub-ranges [from, to) of a chunk's retail columns (a worker cuts a chunk into pieces). */
export function sliceRetail(r: RetailColumns | undefined, from: number, to: number): RetailColumns | undefined {
  if (!r) return undefined;
  const out: RetailColumns = {};
  for (const k of RETAIL_KEYS) {
    const a = r[k];
    if (a) out[k] = a.subarray(from, to);
  }
  return out;
}

/**
 * The optional text columns of a catalogue row: `segment`, the group the segment circuit breaker
 * judges as a whole (docs/math.md §4.4) and whose return curve a multiplier may scale, and
 * `season`, whose multiplier scales it too (docs/math.md §4.5). A blank cell is none.
 */
export const TEXT_COLUMNS = ['segment', 'season'] as const;

/**
 * A chunk's segments, dictionary-coded: row i is in segment names[codes[i]] (-1: none). The
 * dictionary is the chunk's own (names in order of first appearance), so a reader never needs to
 * agree on codes with another chunk. `held[k]` = 1 holds every row of names[k] (the segment
 * breaker tripped for it; set by the batch task or the server before pricing).
 */
export interface SegmentColumn {
  codes: Int32Array;
  names: string[];
  held?: Uint8Array;
}

/** Rows [from, to) of a segment column (the dictionary is shared). */
export function sliceSegments(s: SegmentColumn | undefined, from: number, to: number): SegmentColumn | undefined {
  return s ? { codes: s.codes.subarray(from, to), names: s.names, ...(s.held ? { held: s.held } : {}) } : undefined;
}

/**
 * Builds a chunk's segment dictionary row by row; a name repeated from the row before (a
 * catalogue sorted or grouped by segment) skips the map lookup.
 */
export class SegmentCoder {
  readonly names: string[] = [];
  private readonly index = new Map<string, number>();
  private last = '';
  private lastCode = -1;

  /** The code of a cell (trimmed; blank: -1). */
  code(cell: string | undefined): number {
    if (cell === undefined) return -1;
    const s = cell.trim();
    if (s === '') return -1;
    if (s === this.last) return this.lastCode;
    let k = this.index.get(s);
    if (k === undefined) {
      k = this.names.length;
      this.names.push(s);
      this.index.set(s, k);
    }
    this.last = s;
    this.lastCode = k;
    return k;
  }
}

/** Mark the segments in `held` on a chunk's column (a chunk without segments is left as it is). */
export function markHeldSegments(s: SegmentColumn | undefined, held: ReadonlySet<string>): void {
  if (!s || held.size === 0) return;
  const h = new Uint8Array(s.names.length);
  let any = false;
  s.names.forEach((name, k) => {
    if (held.has(name)) {
      h[k] = 1;
      any = true;
    }
  });
  if (any) s.held = h;
}
