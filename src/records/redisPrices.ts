/**
 * Published prices in Redis (docs/formats.md "Published prices in Redis"): the key schema, the
 * encoding of one priced catalogue row as a hash, its decoding, and the publisher that writes a
 * priced chunk in pipelined transactions (no round trip per row). The batch job's workers
 * (`repricer reprice --publish`) and the distributed run call `publishPriceChunk`; the server's
 * tiered quote route (GET /v1/products/:id/quote) reads the hashes back with `decodePublished`.
 *
 * Key schema (all under the `repricer:` prefix, in the database the URL names):
 *   repricer:sku:<product_id>   hash   one published row: its price record, the features and
 *                                      catalogue columns that re-quote it, run id, model hash, time
 *   repricer:run:<run_id>       hash   one publication: rows published and removed, model hash, times
 *   repricer:run:latest         string the run id of the last finished publication
 *   repricer:model:<sha256>     string a model document (the exact text the registry hashes)
 *   repricer:model:active       string JSON {sha256, version, origin, at}: the model every replica serves
 *   repricer:events             pub/sub channel: {"type":"published",...} and {"type":"activate",...}
 *
 * Numbers are written as JavaScript's shortest round-trip decimal (String(x)), so a decoded
 * feature is the same double that was priced; a blank field is an absent value (NaN).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RepricerError } from '../core/errors.js';
import { serializeModel, type Model } from '../model/format.js';
import type { CatalogChunk, PriceColumns } from '../pricing/engine.js';
import { OPTIONAL_COLUMNS, type OptionalKey } from '../pricing/catalogColumns.js';
import { STATUSES, STATUS_CODE, REASON_BIT, reasonString } from '../pricing/policy.js';
import type { QuoteItem, QuoteRecord } from '../pricing/quoteItems.js';

export const KEY_PREFIX = 'repricer:';
export const skuKey = (id: string): string => `${KEY_PREFIX}sku:${id}`;
export const runKey = (runId: string): string => `${KEY_PREFIX}run:${runId}`;
export const LATEST_RUN_KEY = `${KEY_PREFIX}run:latest`;
export const modelKey = (sha256: string): string => `${KEY_PREFIX}model:${sha256}`;
export const ACTIVE_MODEL_KEY = `${KEY_PREFIX}model:active`;
export const EVENTS_CHANNEL = `${KEY_PREFIX}events`;

/** Feature fields are `f:<name>`, catalogue columns `c:<column name>`: no clash with the record's own fields. */
const FEATURE = 'f:';
const COLUMN = 'c:';

/** The record fields that are numbers (blank: null in the record). */
const NUMBER_FIELDS = ['price', 'previous_price', 'change_pct', 'win_probability', 'expected_profit', 'delta', 'gamma', 'vega', 'price_std_error'] as const;
type NumberField = (typeof NUMBER_FIELDS)[number];
const COLUMN_OF: Record<NumberField, keyof PriceColumns> = {
  price: 'price', previous_price: 'previousPrice', change_pct: 'changePct', win_probability: 'winProbability', expected_profit: 'expectedProfit',
  delta: 'delta', gamma: 'gamma', vega: 'vega', price_std_error: 'priceStdError',
};

/** What a publication stamps on every row it writes. */
export interface PublishMeta {
  runId: string;
  /** sha256 of the model document the rows were priced with (modelSha256) */
  modelSha256: string;
  /** ISO time of the publication (one per run, so every row of a run carries the same) */
  publishedAt: string;
}

/** One published row, decoded. */
export interface PublishedPrice {
  productId: string;
  /** the price record as POST /v1/quote answers it (without model_version) */
  record: QuoteRecord;
  /** the row as a quote item: its features by name and its catalogue columns, to re-quote it */
  item: QuoteItem;
  runId: string;
  modelSha256: string;
  publishedAt: string;
  /** publishedAt in milliseconds since the epoch */
  publishedMs: number;
}

/** The content hash of a model: sha256 of its serialized document (the server's registry hashes the same text). */
export function modelSha256(m: Model): string {
  return createHash('sha256').update(serializeModel(m)).digest('hex');
}

const num = (v: number): string => (Number.isFinite(v) ? String(v) : '');

/**
 * The hash fields of row i of a priced chunk (`features`: the model's feature names, in the
 * chunk's column order after the intercept). Only the catalogue columns the chunk has are written.
 */
export function encodePublished(chunk: CatalogChunk, p: PriceColumns, i: number, features: readonly string[], intercept: boolean, meta: PublishMeta): string[] {
  const out: string[] = [];
  for (const f of NUMBER_FIELDS) out.push(f, num((p[COLUMN_OF[f]] as Float64Array)[i]));
  if (p.blendWeight && Number.isFinite(p.blendWeight[i])) out.push('blend_weight', String(p.blendWeight[i]));
  out.push('status', STATUSES[p.status[i]], 'reason_bits', String(p.reasons[i]));
  const D = features.length + (intercept ? 1 : 0);
  const off = intercept ? 1 : 0;
  for (let j = 0; j < features.length; j++) out.push(FEATURE + features[j], String(chunk.x[i * D + off + j]));
  for (const c of OPTIONAL_COLUMNS) {
    const col = columnOf(chunk, c.key);
    if (col && Number.isFinite(col[i])) out.push(COLUMN + c.name, String(col[i]));
  }
  const seg = chunk.segment && chunk.segment.codes[i] >= 0 ? chunk.segment.names[chunk.segment.codes[i]] : undefined;
  if (seg !== undefined) out.push(COLUMN + 'segment', seg);
  const season = chunk.season && chunk.season.codes[i] >= 0 ? chunk.season.names[chunk.season.codes[i]] : undefined;
  if (season !== undefined) out.push(COLUMN + 'season', season);
  out.push('run_id', meta.runId, 'model_sha256', meta.modelSha256, 'published_at', meta.publishedAt);
  return out;
}

function columnOf(chunk: CatalogChunk, key: OptionalKey): Float64Array | undefined {
  switch (key) {
    case 'cost': return chunk.cost;
    case 'currentPrice': return chunk.currentPrice;
    case 'minPrice': return chunk.minPrice;
    case 'maxPrice': return chunk.maxPrice;
    default: return chunk.retail?.[key];
  }
}

function corrupt(id: string, field: string, expected: string, got: string | undefined): RepricerError {
  return new RepricerError('INPUT_UNREADABLE', `redis ${skuKey(id)}: field ${field}: expected ${expected}, got ${JSON.stringify(got ?? null)}`, { key: skuKey(id), field });
}

function parseNum(id: string, field: string, s: string | undefined, blankOk: boolean): number {
  if (s === undefined || s === '') {
    if (blankOk) return NaN;
    throw corrupt(id, field, 'a number', s);
  }
  const v = Number(s);
  if (!Number.isFinite(v)) throw corrupt(id, field, 'a finite number', s);
  return v;
}

const nullable = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * A hash read back (HGETALL) as a published row; undefined for an empty hash (no such key).
 * A hash this module did not write throws INPUT_UNREADABLE naming the key and the field.
 */
export function decodePublished(id: string, h: Record<string, string>): PublishedPrice | undefined {
  if (Object.keys(h).length === 0) return undefined;
  const status = h.status;
  if (status === undefined || !(status in STATUS_CODE)) throw corrupt(id, 'status', `one of ${STATUSES.join(', ')}`, status);
  const bits = parseNum(id, 'reason_bits', h.reason_bits, false);
  if (!Number.isInteger(bits) || bits < 0 || bits > 0xffffffff) throw corrupt(id, 'reason_bits', 'a 32-bit mask', h.reason_bits);
  const n = (f: NumberField) => nullable(parseNum(id, f, h[f], true));
  // one literal of fixed shape (an object grown field by field in a loop is slower to read and to serialise)
  const record: QuoteRecord = {
    product_id: id, price: n('price'), previous_price: n('previous_price'), change_pct: n('change_pct'), win_probability: n('win_probability'),
    expected_profit: n('expected_profit'), delta: n('delta'), gamma: n('gamma'), vega: n('vega'), price_std_error: n('price_std_error'),
    status, reason: reasonString(bits), cold_start: (bits & REASON_BIT.cold_start) !== 0,
  };
  if (h.blend_weight !== undefined) record.blend_weight = parseNum(id, 'blend_weight', h.blend_weight, false);
  const item: QuoteItem = { product_id: id, features: {} };
  const itemFields = item as unknown as Record<string, number | string>;
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith(FEATURE)) item.features[k.slice(FEATURE.length)] = parseNum(id, k, v, false);
    else if (k.startsWith(COLUMN)) {
      const name = k.slice(COLUMN.length);
      if (name === 'segment' || name === 'season') itemFields[name] = v;
      else if (OPTIONAL_COLUMNS.some((c) => c.name === name)) itemFields[name] = parseNum(id, k, v, false);
      else throw corrupt(id, k, 'a catalogue column', k);
    }
  }
  for (const f of ['run_id', 'model_sha256', 'published_at'] as const) if (!h[f]) throw corrupt(id, f, 'a value', h[f]);
  const publishedMs = Date.parse(h.published_at);
  if (!Number.isFinite(publishedMs)) throw corrupt(id, 'published_at', 'an ISO time', h.published_at);
  return { productId: id, record, item, runId: h.run_id, modelSha256: h.model_sha256, publishedAt: h.published_at, publishedMs };
}

/** Rows per MULTI/EXEC transaction of a publication: one round trip each. */
export const PUBLISH_BATCH = 1000;

export interface PublishCounts {
  /** rows written */
  published: number;
  /** rejected rows: their key is deleted (a price that cannot be computed now is not served from an old run) */
  removed: number;
}

/**
 * Publish a priced chunk: per row a DEL and an HSET (so fields of an earlier publication that this
 * row no longer has do not linger), PUBLISH_BATCH rows per MULTI/EXEC, the transactions pipelined
 * and awaited together. The chunk's values are encoded before the first await, so a caller may
 * release the memory the columns live in as soon as this returns.
 */
export async function publishPriceChunk(redis: Redis, chunk: CatalogChunk, p: PriceColumns, model: { features: readonly string[]; intercept: boolean }, meta: PublishMeta): Promise<PublishCounts> {
  if (chunk.ids.length !== p.n) throw new RepricerError('INTERNAL', `publishPriceChunk: ${chunk.ids.length} ids for ${p.n} priced rows`);
  const rejected = STATUS_CODE.rejected;
  const counts: PublishCounts = { published: 0, removed: 0 };
  const pending: Promise<unknown>[] = [];
  for (let s = 0; s < p.n; s += PUBLISH_BATCH) {
    const tx = redis.multi();
    for (let i = s; i < Math.min(p.n, s + PUBLISH_BATCH); i++) {
      const key = skuKey(chunk.ids[i]);
      tx.del(key);
      if (p.status[i] === rejected) counts.removed++;
      else {
        tx.hset(key, ...encodePublished(chunk, p, i, model.features, model.intercept, meta));
        counts.published++;
      }
    }
    pending.push(tx.exec().then(checkExec));
  }
  await Promise.all(pending);
  return counts;
}

function checkExec(r: [Error | null, unknown][] | null): void {
  if (r === null) throw new RepricerError('INTERNAL', 'redis: a publication transaction was discarded');
  for (const [err] of r) if (err) throw new RepricerError('INTERNAL', `redis: a publication command failed: ${err.message}`);
}

/** The record of one finished publication. */
export interface RunRecord {
  run_id: string;
  model_sha256: string;
  published_at: string;
  finished_at: string;
  published: number;
  removed: number;
  /** what was published (the catalogue's path, or the distributed run's name) */
  source: string;
}

/** The message on EVENTS_CHANNEL. */
export type ReplicaEvent =
  | { type: 'published'; run_id: string; model_sha256: string; published: number; removed: number }
  | { type: 'activate'; sha256: string; version: string; origin: string };

/** Write the run record, point repricer:run:latest at it and announce it on EVENTS_CHANNEL (one transaction). */
export async function publishRun(redis: Redis, run: RunRecord): Promise<void> {
  const fields: string[] = [];
  for (const [k, v] of Object.entries(run)) fields.push(k, String(v));
  const event: ReplicaEvent = { type: 'published', run_id: run.run_id, model_sha256: run.model_sha256, published: run.published, removed: run.removed };
  checkExec(await redis.multi().hset(runKey(run.run_id), ...fields).set(LATEST_RUN_KEY, run.run_id).publish(EVENTS_CHANNEL, JSON.stringify(event)).exec());
}

// the run record, latest and the message, unless the record is there already (an earlier attempt wrote it)
// ARGV: run id, channel, the record's fields and values, the message
const PUBLISH_RUN_ONCE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3, #ARGV - 1))
redis.call('SET', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[#ARGV])
return 1`;

/**
 * publishRun for a caller that may run more than once (the finalising job of a distributed run,
 * retried or delivered again): the record, latest and the message are written in one script, and
 * only if the run's record is not there yet, so a publication is announced exactly once. True if
 * this call announced it.
 */
export async function publishRunOnce(redis: Redis, run: RunRecord): Promise<boolean> {
  const fields: string[] = [];
  for (const [k, v] of Object.entries(run)) fields.push(k, String(v));
  const event: ReplicaEvent = { type: 'published', run_id: run.run_id, model_sha256: run.model_sha256, published: run.published, removed: run.removed };
  const r = await redis.eval(PUBLISH_RUN_ONCE, 2, runKey(run.run_id), LATEST_RUN_KEY, run.run_id, EVENTS_CHANNEL, ...fields, JSON.stringify(event));
  return r === 1;
}

/** Parse a message of EVENTS_CHANNEL; undefined for one this version does not know. */
export function parseEvent(message: string): ReplicaEvent | undefined {
  try {
    const e = JSON.parse(message) as Partial<ReplicaEvent> | null;
    if (e && e.type === 'published' && typeof e.run_id === 'string') return e as ReplicaEvent;
    if (e && e.type === 'activate' && typeof e.sha256 === 'string') return e as ReplicaEvent;
  } catch {
    // not JSON: not ours
  }
  return undefined;
}

/** A new run id: the publication time and a random suffix (sorts by time, unique across hosts). */
export function newRunId(at: string): string {
  return `${at.replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
}

/** Check a redis:// URL (database number included) before anything connects to it. */
export function checkRedisUrl(option: string, url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RepricerError('INVALID_ARGUMENT', `${option} must be a redis://HOST:PORT/DB URL, got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new RepricerError('INVALID_ARGUMENT', `${option} must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`);
  if (u.pathname !== '' && u.pathname !== '/' && !/^\/\d+$/.test(u.pathname)) throw new RepricerError('INVALID_ARGUMENT', `${option}: the path must be a database number (redis://HOST:PORT/DB), got ${JSON.stringify(u.pathname)}`);
  return url;
}
