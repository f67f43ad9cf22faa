/** One docs/formats.md price record: what the HTTP API returns and the NDJSON writer prints. */
import type { PriceColumns } from './engine.js';
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
}

export function priceRecord(id: string, p: PriceColumns, i: number): PriceRecord {
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

