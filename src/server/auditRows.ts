/**
 * Audit rows of published prices on their way to SQLite: the columns of one response
 * (AuditBatch), many batches packed into a few flat buffers for one write and one postMessage to
 * the writer thread (PackedAudit), and the insert both the store and the writer thread run.
 */
import type { Statement } from 'better-sqlite3';
import { STATUSES, reasonString } from '../pricing/policy.js';

/** Published prices of one response, as columns (PriceColumns' names); rows with a NaN price are skipped. */
export interface AuditBatch {
  ids: string[];
  price: Float64Array;
  previousPrice: Float64Array;
  changePct: Float64Array;
  winProbability: Float64Array;
  expectedProfit: Float64Array;
  priceStdError: Float64Array;
  status: Uint8Array;
  reasons: Uint32Array;
  modelVersion: string;
  source: string;
  at: string;
}

export const INSERT_AUDIT = `INSERT INTO price_audit (product_id, price, previous_price, change_pct, win_probability, expected_profit, price_std_error, status, reason, model_version, source, at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * Many batches packed for one write (and one postMessage to the writer thread: a few flat
 * buffers clone far faster than nine small typed arrays per response). Published rows only.
 */
export interface PackedAudit {
  n: number;
  ids: string[];
  /** n x 6 row-major: price, previous_price, change_pct, win_probability, expected_profit, price_std_error */
  nums: Float64Array;
  status: Uint8Array;
  reasons: Uint32Array;
  /** per row: index into `meta` */
  metaIdx: Int32Array;
  /** [model_version, source, at] per batch */
  meta: [string, string, string][];
}

export function packAudit(batches: AuditBatch[]): PackedAudit {
  let n = 0;
  for (const b of batches) for (let i = 0; i < b.ids.length; i++) if (Number.isFinite(b.price[i])) n++;
  const out: PackedAudit = { n, ids: new Array<string>(n), nums: new Float64Array(6 * n), status: new Uint8Array(n), reasons: new Uint32Array(n), metaIdx: new Int32Array(n), meta: [] };
  let r = 0;
  batches.forEach((b, k) => {
    out.meta.push([b.modelVersion, b.source, b.at]);
    for (let i = 0; i < b.ids.length; i++) {
      if (!Number.isFinite(b.price[i])) continue; // rejected: no published price
      out.ids[r] = b.ids[i];
      const o = 6 * r;
      out.nums[o] = b.price[i];
      out.nums[o + 1] = b.previousPrice[i];
      out.nums[o + 2] = b.changePct[i];
      out.nums[o + 3] = b.winProbability[i];
      out.nums[o + 4] = b.expectedProfit[i];
      out.nums[o + 5] = b.priceStdError[i];
      out.status[r] = b.status[i];
      out.reasons[r] = b.reasons[i];
      out.metaIdx[r] = k;
      r++;
    }
  });
  return out;
}

/** Insert packed rows with a prepared INSERT_AUDIT (call inside a transaction). */
export function insertPacked(ins: Statement, a: PackedAudit): void {
  const v = (x: number) => (Number.isFinite(x) ? x : null);
  for (let r = 0; r < a.n; r++) {
    const o = 6 * r;
    const m = a.meta[a.metaIdx[r]];
    ins.run(a.ids[r], a.nums[o], v(a.nums[o + 1]), v(a.nums[o + 2]), v(a.nums[o + 3]), v(a.nums[o + 4]), v(a.nums[o + 5]), STATUSES[a.status[r]], reasonString(a.reasons[r]), m[0], m[1], m[2]);
  }
}
