/**
 * `repricer market price`: item prices inside zone bounds (docs/math.md §2.6). Reads the market
 * file (zones and assets), the zone-level prices `repricer market solve` wrote, the booking model
 * `repricer market fit` wrote, the items to price and, optionally, the policy file's `market`
 * object (weights and zone band); writes one row per item atomically.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { RepricerError, readFailure, rowError } from '../core/errors.js';
import { checkOutputPath, writeFileAtomic } from '../core/atomic.js';
import { loadPolicy } from '../pricing/policy.js';
import { loadMarketFile, type LoadedMarket } from '../market/marketFile.js';
import { curveFor, loadMarketModel } from '../market/bookingModel.js';
import { validateMarketPolicy, type MarketPolicy } from '../market/marketPolicy.js';
import { optimiseItemPrice } from '../market/itemPrice.js';
import { pairKey, zoneBoundsTable } from '../market/zoneBounds.js';
import { parseIsoTime } from '../market/eventLog.js';
import { timeBucket } from '../market/segments.js';

export interface MarketPriceOptions {
  market: string;
  prices: string;
  model: string;
  items: string;
  out: string;
  policy?: string;
}

export interface PricedItem {
  itemId: string;
  zone: string;
  asset: string;
  segment: string;
  price: number;
  lower: number;
  upper: number;
  bookingProbability: number;
  objective: number;
  /** the item's segment is not in the model: the pooled curve at the zone-level price stood in */
  pooled: boolean;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Rows of a CSV with a header, as name -> cell maps with their line; the named columns must be there. */
function readCsvRows(file: string, what: string, required: readonly string[]): { line: number; cell: (c: string) => string; has: (c: string) => boolean }[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw readFailure(file, what, err);
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, info: true }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    const e = err as { lines?: number; message?: string };
    throw new RepricerError('INPUT_UNREADABLE', `${file}:${e.lines ?? '?'}: malformed CSV (${e.message ?? String(err)})`, { file });
  }
  if (records.length === 0) throw new RepricerError('INPUT_UNREADABLE', `${file}: empty file (expected a header row with ${required.join(', ')})`, { file });
  const header = records[0].record.map((h) => h.trim());
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length) throw new RepricerError('INPUT_UNREADABLE', `${file}:1: the header lacks ${missing.join(', ')} (expected ${required.join(', ')})`, { file, line: 1 });
  const index = new Map(header.map((h, i) => [h, i]));
  return records.slice(1).map(({ record, info }) => {
    if (record.length !== header.length) throw rowError(file, info.lines, `(${record.length} fields)`, `${header.length} fields as in the header`, record.join(','));
    return { line: info.lines, cell: (c: string) => record[index.get(c) ?? -1] ?? '', has: (c: string) => index.has(c) };
  });
}

/** The zone-level prices of the market's products from a `market solve` output (product_id, price); NaN for a product without a row. */
export function readZonePrices(file: string, loaded: LoadedMarket): Float64Array {
  const prices = new Float64Array(loaded.productIds.length).fill(NaN);
  const index = new Map(loaded.productIds.map((id, i) => [id, i]));
  for (const r of readCsvRows(file, 'zone prices', ['product_id', 'price'])) {
    const id = r.cell('product_id');
    const i = index.get(id);
    if (i === undefined) throw rowError(file, r.line, 'product_id', 'a product id of the market file', id);
    const s = r.cell('price').trim();
    const p = DECIMAL.test(s) ? Number(s) : NaN;
    if (!(p >= 0) || !Number.isFinite(p)) throw rowError(file, r.line, 'price', 'a price >= 0', r.cell('price'));
    prices[i] = p;
  }
  return prices;
}

export function runMarketPrice(o: MarketPriceOptions): PricedItem[] {
  checkOutputPath(o.out, 'item prices');
  const policy: MarketPolicy = o.policy === undefined ? validateMarketPolicy(undefined) : validateMarketPolicy(loadPolicy(o.policy).market, o.policy);
  const loaded = loadMarketFile(o.market);
  const model = loadMarketModel(o.model);
  const bounds = zoneBoundsTable(loaded, readZonePrices(o.prices, loaded), policy.zoneBand);
  const pairs = new Set(loaded.zones.map((z, i) => pairKey(z, loaded.assets[i])));
  const out: PricedItem[] = [];
  for (const r of readCsvRows(o.items, 'items', ['item_id', 'zone', 'asset', 'time'])) {
    const itemId = r.cell('item_id');
    if (itemId === '') throw rowError(o.items, r.line, 'item_id', 'a non-empty item id', itemId);
    const zone = r.cell('zone');
    const asset = r.cell('asset');
    const key = pairKey(zone, asset);
    if (!pairs.has(key)) throw rowError(o.items, r.line, 'zone', `a zone and asset of a product of ${o.market}`, `${zone}, ${asset}`);
    const zb = bounds.get(key);
    if (!zb) throw rowError(o.items, r.line, 'zone', `a (zone, asset) with a zone-level price > 0 in ${o.prices}`, `${zone}, ${asset}`);
    const t = parseIsoTime(r.cell('time'));
    if (!Number.isFinite(t)) throw rowError(o.items, r.line, 'time', 'an ISO 8601 date-time with a time zone, such as 2026-03-01T18:30:00Z', r.cell('time'));
    const prevText = r.has('previous_price') ? r.cell('previous_price').trim() : '';
    let previousPrice: number | undefined;
    if (prevText !== '') {
      previousPrice = DECIMAL.test(prevText) ? Number(prevText) : NaN;
      if (!(previousPrice > 0) || !Number.isFinite(previousPrice)) throw rowError(o.items, r.line, 'previous_price', 'a price > 0 or an empty cell', r.cell('previous_price'));
    }
    const curve = curveFor(model, zone, asset, timeBucket(t), zb.zonePrice);
    const best = optimiseItemPrice({ curve, zonePrice: zb.zonePrice, lower: zb.lower, upper: zb.upper, weights: policy.weights, ...(previousPrice !== undefined ? { previousPrice } : {}) });
    out.push({ itemId, zone, asset, segment: curve.segment, price: best.price, lower: zb.lower, upper: zb.upper, bookingProbability: best.bookingProbability, objective: best.objective, pooled: curve.pooled });
  }
  writeFileAtomic(o.out, itemPricesCsv(out), 'item prices');
  return out;
}

/** The output CSV; numbers as shortest round-trip decimals. */
export function itemPricesCsv(items: readonly PricedItem[]): string {
  const quote = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = ['item_id,zone,asset,segment,price,lower,upper,booking_probability,objective'];
  for (const r of items) lines.push([quote(r.itemId), quote(r.zone), quote(r.asset), quote(r.segment), r.price, r.lower, r.upper, r.bookingProbability, r.objective].join(','));
  return lines.join('\n') + '\n';
}
