/**
 * Prices -> output text (CSV rows without header, or NDJSON lines), in the workers. Numbers are
 * written in JavaScript's shortest round-trip form, so a parsed output equals the engine's
 * doubles exactly; absent values are empty (CSV) or null (NDJSON).
 */
import type { PriceColumns } from '../pricing/engine.js';
import { STATUSES, reasonString } from '../pricing/policy.js';
import { PRICE_COLUMNS } from './schema.js';
import { priceRecord } from '../pricing/record.js';

export function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const f = (v: number): string => (Number.isFinite(v) ? String(v) : '');

export function csvHeader(): string {
  return PRICE_COLUMNS.join(',') + '\n';
}

export function formatCsv(ids: string[], p: PriceColumns): string {
  const parts: string[] = new Array(p.n);
  for (let i = 0; i < p.n; i++) {
    parts[i] =
      csvField(ids[i]) + ',' + f(p.price[i]) + ',' + f(p.previousPrice[i]) + ',' + f(p.changePct[i]) + ',' +
      f(p.winProbability[i]) + ',' + f(p.expectedProfit[i]) + ',' + f(p.delta[i]) + ',' + f(p.gamma[i]) + ',' +
      f(p.vega[i]) + ',' + f(p.priceStdError[i]) + ',' + STATUSES[p.status[i]] + ',' + csvField(reasonString(p.reasons[i])) + '\n';
  }
  return parts.join('');
}

export { priceRecord, type PriceRecord } from '../pricing/record.js';

export function formatNdjson(ids: string[], p: PriceColumns): string {
  const parts: string[] = new Array(p.n);
  for (let i = 0; i < p.n; i++) parts[i] = JSON.stringify(priceRecord(ids[i], p, i)) + '\n';
  return parts.join('');
}
