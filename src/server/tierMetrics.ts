/**
 * Prometheus metrics of the tiered quote route (GET /v1/products/:id/quote), on the app's registry:
 *   repricer_quote_tier_lookups_total     counter   {tier, result}  tier 1 (this replica's LRU) and 2 (Redis):
 *                                                                   hit (answered), stale (found, but re-quoted:
 *                                                                   too old, other model or other context), miss
 *   repricer_quote_tier_answers_total     counter   {tier}          requests answered by tier 1, 2 or 3 (a fresh quote)
 *   repricer_quote_tier_hit_ratio         gauge     {tier}          hits / lookups of tier 1 and 2 since start
 *   repricer_quote_tier_duration_seconds  histogram {tier}          time in the route of requests answered by each tier
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type Tier = '1' | '2' | '3';
export type LookupResult = 'hit' | 'stale' | 'miss';

export class TierMetrics {
  readonly lookups: Counter<'tier' | 'result'>;
  readonly answers: Counter<'tier'>;
  readonly duration: Histogram<'tier'>;
  private readonly counts = { '1': { hit: 0, stale: 0, miss: 0 }, '2': { hit: 0, stale: 0, miss: 0 } };
  /** the label sets bound once: a request then touches its counters without hashing labels */
  private readonly lookupOf = new Map<string, { inc(): void }>();
  private readonly answerOf = new Map<Tier, { inc(): void }>();
  private readonly durationOf = new Map<Tier, { observe(v: number): void }>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.lookups = new Counter({ name: 'repricer_quote_tier_lookups_total', help: 'tiered quote lookups by tier (1: in-process LRU, 2: Redis) and result (hit, stale, miss)', labelNames: ['tier', 'result'], registers });
    this.answers = new Counter({ name: 'repricer_quote_tier_answers_total', help: 'tiered quote requests answered, by tier (3: a fresh quote from the stored features)', labelNames: ['tier'], registers });
    this.duration = new Histogram({
      name: 'repricer_quote_tier_duration_seconds',
      help: 'time in the tiered quote route, by the tier that answered',
      labelNames: ['tier'],
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    });
    const counts = this.counts;
    new Gauge({
      name: 'repricer_quote_tier_hit_ratio',
      help: 'hits / lookups of tier 1 (in-process LRU) and tier 2 (Redis) since start',
      labelNames: ['tier'],
      registers,
      collect() {
        for (const t of ['1', '2'] as const) {
          const c = counts[t];
          const n = c.hit + c.stale + c.miss;
          this.set({ tier: t }, n ? c.hit / n : 0);
        }
      },
    });
    for (const t of ['1', '2'] as const) {
      for (const r of ['hit', 'stale', 'miss'] as const) {
        this.lookups.inc({ tier: t, result: r }, 0);
        this.lookupOf.set(`${t}${r}`, this.lookups.labels({ tier: t, result: r }));
      }
    }
    for (const t of ['1', '2', '3'] as const) {
      this.answers.inc({ tier: t }, 0);
      this.answerOf.set(t, this.answers.labels({ tier: t }));
      this.durationOf.set(t, this.duration.labels({ tier: t }));
    }
  }

  lookup(tier: '1' | '2', result: LookupResult): void {
    this.counts[tier][result]++;
    this.lookupOf.get(`${tier}${result}`)!.inc();
  }

  answered(tier: Tier, seconds: number): void {
    this.answerOf.get(tier)!.inc();
    this.durationOf.get(tier)!.observe(seconds);
  }
}
