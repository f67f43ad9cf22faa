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
import { OPTIONAL_COLUMNS, RETAIL_KEYS, SegmentCoder, type RetailColumns, type RetailKey, type SegmentColumn } from './catalogColumns.js';

export interface QuoteItem {
  product_id: string;
  features: Record<string, number>;
  cost?: number | null;
  current_price?: number | null;
  min_price?: number | null;
  max_price?: number | null;
  map_price?: number | null;
  elasticity?: number | null;
  return_rate?: number | null;
  return_cost?: number | null;
  inventory?: number | null;
  target_inventory?: number | null;
  expert_price?: number | null;
  /** days left in the selling season (the pricing agent's state) */
  days_left?: number | null;
  /** the catalogue segment (docs/formats.md); blank or absent: none */
  segment?: string | null;
  /** the season, for the policy's return multipliers; blank or absent: none */
  season?: string | null;
}

/** The item fields of the retail columns (pricing/catalogColumns.ts), by column key. */
const RETAIL_FIELDS = OPTIONAL_COLUMNS.filter((c) => (RETAIL_KEYS as readonly string[]).includes(c.key)) as readonly { key: RetailKey; name: keyof QuoteItem }[];

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
  // the retail columns some item has (the others' cells are blank, as in a catalogue)
  let retail: RetailColumns | undefined;
  for (const { key, name } of RETAIL_FIELDS) {
    if (!items.some((it) => typeof it[name] === 'number')) continue;
    (retail ??= {})[key] = Float64Array.from(items, (it) => opt(it[name] as number | null | undefined));
  }
  // the segment column when some item has a segment (the segment breaker's held segments apply to it)
  let segment: SegmentColumn | undefined;
  if (items.some((it) => typeof it.segment === 'string')) {
    const coder = new SegmentCoder();
    const codes = Int32Array.from(items, (it) => (typeof it.segment === 'string' ? coder.code(it.segment) : -1));
    segment = { codes, names: coder.names };
  }
  let season: SegmentColumn | undefined;
  if (items.some((it) => typeof it.season === 'string')) {
    const coder = new SegmentCoder();
    season = { codes: Int32Array.from(items, (it) => (typeof it.season === 'string' ? coder.code(it.season) : -1)), names: coder.names };
  }
  return { n, ids, x, cost, currentPrice, minPrice, maxPrice, ...(retail ? { retail } : {}), ...(segment ? { segment } : {}), ...(season ? { season } : {}) };
}

/** One step of a price's explanation (POST /v1/quote?explain=true): the amount and why. */
export interface ExplanationStep {
  step: 'base' | 'returns' | 'inventory' | 'cold_start' | 'agent' | 'guardrails' | 'rounding';
  amount: number | null;
  /** what produced the amount: a rule or a reason code (docs/formats.md "Explanation") */
  reason: string;
}

const GUARDRAIL_BITS = ['margin_floor', 'max_step', 'floor', 'ceiling', 'map_floor', 'breaker_std_error', 'breaker_gamma', 'step_infeasible'] as const;

/**
 * The explanation of row i of a chunk priced with the explanation columns: the six amounts that
 * add up to the price, each with the rule behind it.
 */
export function explanation(chunk: CatalogChunk, p: PriceColumns, i: number): ExplanationStep[] {
  const e = p.explain;
  if (!e) throw new RepricerError('INTERNAL', 'explanation: the chunk was priced without the explanation columns');
  const j = (v: number): number | null => (Number.isFinite(v) ? v : null);
  const r = chunk.retail ?? {};
  const has = (a: Float64Array | undefined) => a !== undefined && Number.isFinite(a[i]);
  const bits = p.reasons[i];
  const guard = GUARDRAIL_BITS.filter((b) => bits & REASON_BIT[b]);
  return [
    { step: 'base', amount: j(e.basePrice[i]), reason: has(r.elasticity) ? 'constant_elasticity_optimum' : 'win_probability_optimum' },
    { step: 'returns', amount: j(e.returnAdjustment[i]), reason: has(r.returnRate) ? 'return_rate' : e.returnAdjustment[i] !== 0 ? 'return_curve' : 'none' },
    { step: 'inventory', amount: j(e.inventoryAdjustment[i]), reason: e.inventoryAdjustment[i] !== 0 ? 'inventory_skew' : 'none' },
    { step: 'cold_start', amount: j(e.coldStartAdjustment[i]), reason: has(r.expertPrice) ? 'expert_blend' : 'none' },
    ...(e.agentAdjustment ? [{ step: 'agent' as const, amount: j(e.agentAdjustment[i]), reason: 'agent_action' }] : []),
    { step: 'guardrails', amount: j(e.guardrailAdjustment[i]), reason: guard.length ? guard.join(';') : 'none' },
    { step: 'rounding', amount: j(e.roundingAdjustment[i]), reason: bits & REASON_BIT.rounded ? 'rounded' : 'none' },
  ];
}

export function quoteRecord(id: string, p: PriceColumns, i: number): QuoteRecord {
  const r = priceRecord(id, p, i) as QuoteRecord;
  r.cold_start = (p.reasons[i] & REASON_BIT.cold_start) !== 0;
  // a coalesced chunk may carry a blend weight for other items' expert prices: an item's record
  // has one only when the item had an expert price
  if (p.blendWeight && !Number.isFinite(p.blendWeight[i])) delete r.blend_weight;
  return r;
}
