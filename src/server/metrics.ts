/**
 * Prometheus metrics (prom-client), one registry per app so several apps in one process (tests,
 * benchmarks) do not collide:
 *   repricer_http_request_duration_seconds  histogram {method, route, status_code}
 *   repricer_http_requests_in_flight        gauge     requests received and not yet answered
 *   repricer_quotes_served_total            counter   {route, status}   one per priced SKU
 *   repricer_breaker_trips_total            counter   {reason}          status held by breaker_* or segment_breaker
 *   repricer_model_version                  gauge     {version}         sequence number of the serving model
 *   repricer_jobs_total                     counter   {kind, status}    finished background jobs
 *   repricer_pool_fallbacks_total           counter   {task}            pool runs that failed and were redone on the main thread
 *                                                                      (task="quote"), or the audit writer thread's death (task="audit")
 * plus prom-client's default process metrics (prefixed repricer_).
 */
import { Registry, Histogram, Counter, Gauge, collectDefaultMetrics } from 'prom-client';
import { STATUSES, REASON_BIT } from '../pricing/policy.js';
import type { PriceColumns } from '../pricing/engine.js';

export class Metrics {
  readonly registry = new Registry();
  readonly latency: Histogram<'method' | 'route' | 'status_code'>;
  readonly inFlight: Gauge;
  readonly quotes: Counter<'route' | 'status'>;
  readonly breakerTrips: Counter<'reason'>;
  readonly modelVersion: Gauge<'version'>;
  readonly jobs: Counter<'kind' | 'status'>;
  readonly poolFallbacks: Counter<'task'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.latency = new Histogram({
      name: 'repricer_http_request_duration_seconds',
      help: 'HTTP request latency (from request received to response sent)',
      labelNames: ['method', 'route', 'status_code'],
      // 100 us .. 2.5 s: quotes take well under a millisecond, 10 000-SKU batches tens of ms
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.inFlight = new Gauge({ name: 'repricer_http_requests_in_flight', help: 'requests received and not yet answered', registers });
    this.quotes = new Counter({ name: 'repricer_quotes_served_total', help: 'SKUs priced, by route and docs/formats.md status', labelNames: ['route', 'status'], registers });
    this.breakerTrips = new Counter({ name: 'repricer_breaker_trips_total', help: 'quotes held at the current price by the circuit breaker', labelNames: ['reason'], registers });
    this.modelVersion = new Gauge({ name: 'repricer_model_version', help: 'sequence number of the serving model version (label: version name)', labelNames: ['version'], registers });
    this.jobs = new Counter({ name: 'repricer_jobs_total', help: 'finished background jobs', labelNames: ['kind', 'status'], registers });
    this.poolFallbacks = new Counter({ name: 'repricer_pool_fallbacks_total', help: 'pool runs that failed and were redone on the main thread', labelNames: ['task'], registers });
    for (const s of STATUSES) this.quotes.inc({ route: 'quote', status: s }, 0);
    this.breakerTrips.inc({ reason: 'breaker_gamma' }, 0);
    this.breakerTrips.inc({ reason: 'breaker_std_error' }, 0);
    this.breakerTrips.inc({ reason: 'segment_breaker' }, 0);
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'repricer_' });
  }

  /** Count a priced chunk: statuses and breaker trips. */
  countQuotes(route: 'quote' | 'quotes' | 'tiered', p: PriceColumns): void {
    const counts = [0, 0, 0, 0, 0];
    let gammaTrips = 0;
    let seTrips = 0;
    let segmentHolds = 0;
    for (let i = 0; i < p.n; i++) {
      counts[p.status[i]]++;
      const r = p.reasons[i];
      if (r & REASON_BIT.breaker_gamma) gammaTrips++;
      if (r & REASON_BIT.breaker_std_error) seTrips++;
      if (r & REASON_BIT.segment_breaker) segmentHolds++;
    }
    for (let s = 0; s < counts.length; s++) if (counts[s]) this.quotes.inc({ route, status: STATUSES[s] }, counts[s]);
    if (gammaTrips) this.breakerTrips.inc({ reason: 'breaker_gamma' }, gammaTrips);
    if (seTrips) this.breakerTrips.inc({ reason: 'breaker_std_error' }, seTrips);
    if (segmentHolds) this.breakerTrips.inc({ reason: 'segment_breaker' }, segmentHolds);
  }

  setModel(version: string, seq: number): void {
    this.modelVersion.reset();
    this.modelVersion.set({ version }, seq);
  }
}
