/**
 * Piscina task module for `POST /v1/models/fit`: runs on the server's pool (passed as the task's
 * `filename`, next to the pricing worker), one WASM core per thread, created on first use.
 * Reads the stored observations itself (its own read-only connection, so a large table is not
 * parsed on the event loop) or takes them already laid out, fits, and returns the model document
 * or a coded error (never throws a RepricerError across the thread boundary, where its class
 * would be lost; any other error is thrown, and the job fails JOB_FAILED with its message).
 */
import { WasmCore } from '../core/wasm.js';
import { fitTable, type FitOptions } from '../model/fit.js';
import type { ObservationTable } from '../model/observations.js';
import type { Model } from '../model/format.js';
import { RepricerError } from '../core/errors.js';
import Database from 'better-sqlite3';
import { readObservationTable } from './store.js';

export interface FitTask {
  /** the observations laid out, or where to read them: rows with id <= maxId */
  source: { table: ObservationTable } | { dbFile: string; features: string[]; intercept: boolean; maxId: number };
  options: FitOptions;
}

export type FitTaskResult = { ok: true; model: Model; rows: number } | { ok: false; error: { code: string; message: string; details?: Record<string, unknown> } };

function table(t: FitTask): ObservationTable {
  const s = t.source;
  if ('table' in s) return s.table;
  const db = new Database(s.dbFile, { readonly: true, fileMustExist: true });
  try {
    return readObservationTable(db, s.features, s.intercept, s.maxId);
  } finally {
    db.close();
  }
}

let core: WasmCore | undefined;

export default function fitTask(t: FitTask): FitTaskResult {
  core ??= WasmCore.create({ variant: 'simd' });
  try {
    const tab = table(t);
    return { ok: true, model: fitTable(tab, t.options, core), rows: tab.columns.n };
  } catch (err) {
    if (err instanceof RepricerError) return { ok: false, error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
    throw err; // anything else rejects the pool run: the job fails JOB_FAILED and logs it (jobs.ts)
  }
}
