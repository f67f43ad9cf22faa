/**
 * The tiered quote of one SKU (GET /v1/products/:id/quote, docs/scale-out.md "Tiered quotes"):
 *
 *   tier 1  this replica's LRU of published rows (and of its own re-quotes of them);
 *   tier 2  Redis: HGETALL repricer:sku:<id>, the row `reprice --publish` wrote;
 *   tier 3  a fresh quote of the stored features (with the request's context over them) through
 *           the quote engine (quoteService.ts), the same numbers POST /v1/quote gives the same item.
 *
 * A row found in tier 1 or 2 is answered as it is when it is servable: priced under the model
 * this replica serves (same content hash), no older than `maxAgeMs`, and the request's context
 * (query values for features or catalogue columns) equals the stored values. Otherwise it is
 * re-quoted (tier 3); a re-quote without context replaces the row in tier 1, so the next request
 * for the SKU is a tier-1 hit again until it too is older than `maxAgeMs`.
 */
import { LRUCache } from 'lru-cache';
import type { Redis } from 'ioredis';
import { RepricerError } from '../core/errors.js';
import { OPTIONAL_COLUMNS } from '../pricing/catalogColumns.js';
import { quoteRecord, type QuoteItem, type QuoteRecord } from '../pricing/quoteItems.js';
import { decodePublished, skuKey, type PublishedPrice } from '../records/redisPrices.js';
import { redisUnavailable } from '../records/redisClient.js';
import type { ActiveModel, ModelRegistry } from './modelRegistry.js';
import type { QuoteBatcher } from './quoteService.js';
import type { Tier, TierMetrics } from './tierMetrics.js';

/** A tier-1 entry: a published row, or this replica's re-quote of it (then priced now under the active model). */
interface Entry {
  record: QuoteRecord;
  item: QuoteItem;
  runId: string;
  modelSha256: string;
  pricedAt: string;
  pricedMs: number;
  /** why this replica re-quoted the published row (null: the published row itself) */
  requote: RequoteReason | null;
}

/** Why a found row is re-quoted. */
export type RequoteReason = 'stale' | 'model' | 'context';

export interface TieredAnswer {
  record: QuoteRecord;
  tier: Tier;
  model: ActiveModel;
  /** when the price was computed: the publication, or the re-quote */
  pricedAt: string;
  runId: string;
  /** why the row was re-quoted, when it was (tier 3, or a tier-1 hit on an earlier re-quote) */
  requote: RequoteReason | null;
}

/** The request's context: values for model features or catalogue columns, over the stored ones. */
export interface QuoteContext {
  features: Record<string, number>;
  columns: Record<string, number | string>;
}

const NUMERIC_COLUMNS = new Set(OPTIONAL_COLUMNS.map((c) => c.name));
const TEXT_COLUMNS = new Set(['segment', 'season']);

/**
 * Query parameters -> context. A catalogue column name (cost, current_price, ..., segment,
 * season) sets the column; any other name must be a feature of the serving model. Numbers must
 * be finite decimals. INVALID_ARGUMENT names the parameter.
 */
export function parseContext(query: Record<string, string>, features: readonly string[]): QuoteContext {
  const ctx: QuoteContext = { features: {}, columns: {} };
  const known = new Set(features);
  for (const [k, raw] of Object.entries(query)) {
    if (TEXT_COLUMNS.has(k)) {
      ctx.columns[k] = raw;
      continue;
    }
    const isColumn = NUMERIC_COLUMNS.has(k);
    if (!isColumn && !known.has(k)) {
      throw new RepricerError('INVALID_ARGUMENT', `querystring.${k}: not a feature of the serving model nor a catalogue column (features: ${features.join(', ')}; columns: ${[...NUMERIC_COLUMNS, ...TEXT_COLUMNS].join(', ')})`, { parameter: k });
    }
    const v = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(v)) throw new RepricerError('INVALID_ARGUMENT', `querystring.${k}: must be a finite number, got ${JSON.stringify(raw)}`, { parameter: k });
    if (isColumn) ctx.columns[k] = v;
    else ctx.features[k] = v;
  }
  return ctx;
}

const isEmpty = (c: QuoteContext): boolean => Object.keys(c.features).length === 0 && Object.keys(c.columns).length === 0;

/** Whether the context changes any stored value (a value equal to the stored one changes nothing). */
function contextDiffers(item: QuoteItem, c: QuoteContext): boolean {
  for (const [k, v] of Object.entries(c.features)) if (item.features[k] !== v) return true;
  const fields = item as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(c.columns)) if (fields[k] !== v) return true;
  return false;
}

/** The stored item with the context over it. */
function withContext(item: QuoteItem, c: QuoteContext): QuoteItem {
  return { ...item, ...c.columns, features: { ...item.features, ...c.features } } as QuoteItem;
}

export interface TieredQuotesOptions {
  redis: Redis;
  url: string;
  registry: ModelRegistry;
  batcher: QuoteBatcher;
  metrics: TierMetrics;
  /** a published price older than this is re-quoted (default 24 h) */
  maxAgeMs: number;
  /** tier-1 entries (default 100 000) */
  cacheSize: number;
}

export class TieredQuotes {
  private readonly cache: LRUCache<string, Entry>;
  /** Redis reads in flight by SKU: concurrent misses of one SKU share one HGETALL (and one tier-1 fill) */
  private readonly reading = new Map<string, Promise<Entry | undefined>>();

  constructor(private readonly o: TieredQuotesOptions) {
    this.cache = new LRUCache<string, Entry>({ max: o.cacheSize });
  }

  /** Forget every tier-1 entry (a publication finished). */
  invalidate(): void {
    this.cache.clear();
    this.reading.clear();
  }

  get cached(): number {
    return this.cache.size;
  }

  async quote(id: string, query: Record<string, string>): Promise<TieredAnswer> {
    const t0 = performance.now();
    const model = this.o.registry.active;
    if (!model) throw new RepricerError('NO_MODEL', 'no model is active: start with --model or POST /v1/models/:version/activate');
    const context = parseContext(query, model.compiled.features);
    const now = Date.now();
    let tier: '1' | '2' = '1';
    let entry = this.cache.get(id);
    if (!entry) {
      this.o.metrics.lookup('1', 'miss');
      tier = '2';
      let read = this.reading.get(id);
      if (!read) {
        read = this.fromRedis(id).then((e) => {
          // a publication that cleared the cache meanwhile makes this read old: not cached
          if (e && this.reading.get(id) === read) this.cache.set(id, e);
          return e;
        }).finally(() => {
          if (this.reading.get(id) === read) this.reading.delete(id);
        });
        this.reading.set(id, read);
      }
      entry = await read;
      if (!entry) {
        this.o.metrics.lookup('2', 'miss');
        throw new RepricerError('NOT_FOUND', `product ${JSON.stringify(id)} has no published price (repricer reprice --publish writes them); POST /v1/quote prices an item from its features`, { product_id: id });
      }
    }
    const why: RequoteReason | null = entry.modelSha256 !== model.sha256 ? 'model' : now - entry.pricedMs > this.o.maxAgeMs ? 'stale' : contextDiffers(entry.item, context) ? 'context' : null;
    if (why === null) {
      this.o.metrics.lookup(tier, 'hit');
      this.o.metrics.answered(tier, (performance.now() - t0) / 1000);
      return { record: entry.record, tier, model, pricedAt: entry.pricedAt, runId: entry.runId, requote: entry.requote };
    }
    this.o.metrics.lookup(tier, 'stale');
    const item = withContext(entry.item, context);
    const { p, i } = await this.o.batcher.quote(model, item);
    const record = quoteRecord(id, p, i);
    const pricedAt = new Date(now).toISOString();
    // a re-quote of the stored row itself stands in for it until it is old in turn; a quote under
    // a request's own context is that request's alone
    if (isEmpty(context) && this.o.registry.active === model) {
      this.cache.set(id, { record, item: entry.item, runId: entry.runId, modelSha256: model.sha256, pricedAt, pricedMs: now, requote: why });
    }
    this.o.metrics.answered('3', (performance.now() - t0) / 1000);
    return { record, tier: '3', model, pricedAt, runId: entry.runId, requote: why };
  }

  private async fromRedis(id: string): Promise<Entry | undefined> {
    let h: Record<string, string>;
    try {
      h = await this.o.redis.hgetall(skuKey(id));
    } catch (err) {
      throw redisUnavailable(this.o.url, `reading ${skuKey(id)} (tier 2 of the tiered quote; POST /v1/quote does not need Redis)`, err);
    }
    let pub: PublishedPrice | undefined;
    try {
      pub = decodePublished(id, h);
    } catch (err) {
      // a hash this program did not write: the server's data is at fault, not the request
      throw new RepricerError('INTERNAL', (err as Error).message);
    }
    if (!pub) return undefined;
    return { record: pub.record, item: pub.item, runId: pub.runId, modelSha256: pub.modelSha256, pricedAt: pub.publishedAt, pricedMs: pub.publishedMs, requote: null };
  }
}
