/**
 * The market quote's three cache tiers (POST /v1/market/quote):
 *   tier 1  hot item prices        LRU keyed item + segment (+ the previous price the item
 *                                  price depends on), valid for one published price version
 *   tier 2  segment templates      LRU keyed segment (zone/asset/time bucket): the zone bounds and
 *                                  the segment's booking curve, valid for one version
 *   tier 3  the model              computing the template (and the item price) from the market
 * An entry of an older version is a miss and is replaced; the version moves only when the zone
 * prices move beyond a tolerance (marketService.ts), so the stream's small steps keep the cache.
 * Hits and misses per tier are counted in the app's Prometheus registry:
 *   repricer_market_cache_total{tier="1"|"2", result="hit"|"miss"}, {tier="3", result="compute"}.
 */
import { LRUCache } from 'lru-cache';
import { Counter, type Registry } from 'prom-client';

export type CacheTier = 1 | 2 | 3;

interface Versioned<T> {
  /** the published price version (and the zone's watcher version: `version.zoneVersion`) */
  version: number | string;
  value: T;
}

export interface CacheSizes {
  /** tier-1 entries (default 10 000) */
  hot?: number;
  /** tier-2 entries (default 50 000) */
  segments?: number;
}

export class MarketQuoteCache<Item extends object, Template extends object> {
  private readonly hot: LRUCache<string, Versioned<Item>>;
  private readonly segments: LRUCache<string, Versioned<Template>>;
  private readonly counter: Counter<'tier' | 'result'>;

  constructor(registry: Registry, sizes: CacheSizes = {}) {
    this.hot = new LRUCache({ max: sizes.hot ?? 10_000 });
    this.segments = new LRUCache({ max: sizes.segments ?? 50_000 });
    this.counter = new Counter({ name: 'repricer_market_cache_total', help: 'market quote cache lookups by tier: hits and misses of tiers 1 (item prices) and 2 (segment templates), computations of tier 3 (the model)', labelNames: ['tier', 'result'], registers: [registry] });
    for (const tier of ['1', '2']) for (const result of ['hit', 'miss']) this.counter.inc({ tier, result }, 0);
    this.counter.inc({ tier: '3', result: 'compute' }, 0);
  }

  /**
   * The item price of `itemKey` at `version`: from tier 1, else from the segment's template
   * (tier 2, else computed by `template`, tier 3) through `price`. Returns the value and the
   * tier that answered.
   */
  quote(version: number | string, itemKey: string, segmentKey: string, template: () => Template, price: (t: Template) => Item): { value: Item; tier: CacheTier } {
    const h = this.hot.get(itemKey);
    if (h && h.version === version) {
      this.counter.inc({ tier: '1', result: 'hit' });
      return { value: h.value, tier: 1 };
    }
    this.counter.inc({ tier: '1', result: 'miss' });
    let tier: CacheTier = 2;
    let t = this.segments.get(segmentKey);
    if (t && t.version === version) this.counter.inc({ tier: '2', result: 'hit' });
    else {
      this.counter.inc({ tier: '2', result: 'miss' });
      this.counter.inc({ tier: '3', result: 'compute' });
      t = { version, value: template() };
      this.segments.set(segmentKey, t);
      tier = 3;
    }
    const value = price(t.value);
    this.hot.set(itemKey, { version, value });
    return { value, tier };
  }

  /** Entries held per tier (tests, diagnostics). */
  sizes(): { hot: number; segments: number } {
    return { hot: this.hot.size, segments: this.segments.size };
  }
}
