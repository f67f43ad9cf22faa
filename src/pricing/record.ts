/** One docs/formats.md price record: what the HTTP API returns and the NDJSON writer prints. */
import { EXPLAIN_KEYS, explainKeys, presentExplainKeys, type OutputColumns, type PriceColumns } from './engine.js';
import { STATUSES, reasonString } from './policy.js';

const j = (v: number): number | null => (Number.isFinite(v) ? v : null);

export interface PriceRecord {
  product_id: string;
  price: number | null;
  previous_price: number | null;
  change_pct: number | null;
  win_probability: number | null;
  expected_profit: number | null;
  delta: number | null;
  gamma: number | null;
  vega: number | null;
  price_std_error: number | null;
  status: string;
  reason: string;
  blend_weight?: number | null;
  base_price?: number | null;
  return_adjustment?: number | null;
  inventory_adjustment?: number | null;
  cold_start_adjustment?: number | null;
  agent_adjustment?: number | null;
  guardrail_adjustment?: number | null;
  rounding_adjustment?: number | null;
}

/** The explanation's column names, in EXPLAIN_KEYS order (docs/formats.md). */
export const EXPLAIN_COLUMNS = ['base_price', 'return_adjustment', 'inventory_adjustment', 'cold_start_adjustment', 'agent_adjustment', 'guardrail_adjustment', 'rounding_adjustment'] as const;
const columnOf = (k: (typeof EXPLAIN_KEYS)[number]): string => EXPLAIN_COLUMNS[EXPLAIN_KEYS.indexOf(k)];

/** The optional numeric columns after `reason`, in output order: blend_weight, then the explanation. */
export function tailColumnNames(o: OutputColumns): string[] {
  return [...(o.blend ? ['blend_weight'] : []), ...(o.explain ? explainKeys(o).map(columnOf) : [])];
}

/** The values of the optional columns of `p` (the same order as tailColumnNames). */
export function tailColumns(p: PriceColumns): { name: string; values: Float64Array }[] {
  const out: { name: string; values: Float64Array }[] = [];
  if (p.blendWeight) out.push({ name: 'blend_weight', values: p.blendWeight });
  if (p.explain) for (const k of presentExplainKeys(p.explain)) out.push({ name: columnOf(k), values: p.explain[k]! });
  return out;
}

export function priceRecord(id: string, p: PriceColumns, i: number): PriceRecord {
  const r = baseRecord(id, p, i);
  if (p.blendWeight || p.explain) for (const t of tailColumns(p)) (r as unknown as Record<string, number | null>)[t.name] = j(t.values[i]);
  return r;
}

function baseRecord(id: string, p: PriceColumns, i: number): PriceRecord {
  return {
    product_id: id,
    price: j(p.price[i]),
    previous_price: j(p.previousPrice[i]),
    change_pct: j(p.changePct[i]),
    win_probability: j(p.winProbability[i]),
    expected_profit: j(p.expectedProfit[i]),
    delta: j(p.delta[i]),
    gamma: j(p.gamma[i]),
    vega: j(p.vega[i]),
    price_std_error: j(p.priceStdError[i]),
    status: STATUSES[p.status[i]],
    reason: reasonString(p.reasons[i]),
  };
}

