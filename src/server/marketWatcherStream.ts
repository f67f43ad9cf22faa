/**
 * The evidence-based watcher on the served event stream (docs/math.md §2.8, "The served watcher";
 * docs/server-api.md "Marketplace"). POST /v1/market/events rows are counted per segment — a
 * (zone, asset) pair of the market, as in the watcher simulation — into periods of
 * `market.watcher.periodMinutes` aligned on the epoch, by event time. When an event of a later
 * period arrives, every open period before it closes: each segment's signals are computed from
 * that period's rows and fed to its Watcher (src/market/watcher.ts):
 *   bookingVelocity    booking rows of the pair
 *   searchAbandonment  search rows / (search + booking rows): the share of searches without a booking (0 without any)
 *   inventoryPressure  B / (B + a) with B the bookings and a the last `available` of the period (1 when both are 0)
 *   competitorSignal   mean of ln(competitor_price / published price) over the rows that carry one
 *   externalEvents     the calendar's multiplier of the zone at the period's end (events entered `eventLeadHours` ahead)
 * A signal a period does not carry (no `available`, no `competitor_price`) takes its value of the
 * segment's last period that carried it (0 before any). A signal the stream never carries is thus
 * constant: the warm-up finds no spread in it and the watcher leaves it out (`used: false`), so the
 * combined score's scale √(wᵀRw) is taken over the signals present (the weights renormalised).
 * Rows of a period already closed are late: online clearing still uses them, the watcher does not
 * (counted). A gap longer than the warm-up without any event starts every segment afresh: the
 * baseline belongs to a stream that stopped, not to a market without demand.
 */
import type { EventsCalendar } from '../market/eventsCalendar.js';
import { Watcher, type SignalEvidence, type WatcherTrigger } from '../market/watcher.js';
import type { WatcherSettings } from '../market/watcherSettings.js';

/** What one row adds to its segment's open period (the row already checked by the service). */
export interface WatcherRow {
  time: number;
  pair: number;
  type: 'search' | 'view' | 'booking' | 'listing';
  available: number | null;
  competitorPrice: number | null;
  /** the pair's published zone-level price when the row arrived */
  published: number;
}

interface PeriodCounts {
  searches: number;
  bookings: number;
  available: number | null;
  compSum: number;
  compN: number;
}

const emptyCounts = (): PeriodCounts => ({ searches: 0, bookings: 0, available: null, compSum: 0, compN: 0 });

export interface SegmentReport {
  segment: string;
  zone: string;
  asset: string;
  warming_up: boolean;
  statistic_up: number;
  statistic_down: number;
  threshold: number;
  periods_seen: number;
  triggers: number;
  /** the evidence as the watcher gave it, NaN (a calendar trigger's unlearnt baseline) as null */
  last_trigger: TriggerJson | null;
}

type Nullable<T, K extends keyof T> = Omit<T, K> & { [P in K]: T[P] | null };
export type TriggerJson = Omit<WatcherTrigger, 'signals'> & { signals: Nullable<SignalEvidence, 'baseline' | 'sd'>[] };

/** A trigger as JSON: NaN (a calendar trigger's baseline and sd) becomes null. */
export function triggerJson(t: WatcherTrigger): TriggerJson {
  const num = (x: number) => (Number.isFinite(x) ? x : null);
  return { ...t, signals: t.signals.map((e) => ({ ...e, baseline: num(e.baseline), sd: num(e.sd) })) };
}

export class MarketWatcherStream {
  readonly watcher: Watcher;
  private readonly periodMs: number;
  private readonly segments: string[];
  private readonly zoneOf: string[];
  /** the open period's start (ms), null before the first event */
  private open: number | null = null;
  private counts: PeriodCounts[];
  private readonly carried: { inventoryPressure: number; competitorSignal: number }[];
  private readonly periodsSeen: number[];
  private readonly triggerCount: number[];
  private readonly lastTrigger: (WatcherTrigger | null)[];
  late = 0;
  restarts = 0;

  /**
   * `onTrigger` runs for every trigger (the service reprices the zone, resets its other segments
   * through `resetZone`, logs and counts).
   */
  constructor(
    readonly settings: WatcherSettings,
    private readonly pairs: readonly { zone: string; asset: string }[],
    private readonly calendar: EventsCalendar | null,
    private readonly onTrigger: (t: WatcherTrigger, pair: number) => void,
  ) {
    this.watcher = new Watcher(settings);
    this.periodMs = settings.periodMinutes * 60_000;
    this.segments = pairs.map((p) => `${p.zone}/${p.asset}`);
    this.zoneOf = pairs.map((p) => p.zone);
    this.counts = pairs.map(emptyCounts);
    this.carried = pairs.map(() => ({ inventoryPressure: 0, competitorSignal: 0 }));
    this.periodsSeen = pairs.map(() => 0);
    this.triggerCount = pairs.map(() => 0);
    this.lastTrigger = pairs.map(() => null);
  }

  /** The calendar's multiplier of `zone` at `time`: entered ahead by the lead (scheduled), or in force (lead 0). */
  scheduled(zone: string, time: number): number {
    return this.calendar ? this.calendar.multiplierAt(zone, time) : 1;
  }
  private inEffect(zone: string, time: number): number {
    return this.calendar ? this.calendar.multiplierAt(zone, time, 0) : 1;
  }

  /** Count one row, closing the periods before its own first. */
  add(r: WatcherRow): void {
    const start = Math.floor(r.time / this.periodMs) * this.periodMs;
    if (this.open === null) this.open = start;
    else if (start < this.open) {
      this.late++;
      return;
    } else if (start > this.open) this.advance(start);
    const c = this.counts[r.pair];
    if (r.type === 'search') c.searches++;
    else if (r.type === 'booking') c.bookings++;
    if (r.available !== null) c.available = r.available;
    if (r.competitorPrice !== null && r.published > 0) {
      c.compSum += Math.log(r.competitorPrice / r.published);
      c.compN++;
    }
  }

  /** Close the open period and the empty ones up to `start` (a gap past the warm-up restarts every segment). */
  private advance(start: number): void {
    const open = this.open as number;
    const gap = (start - open) / this.periodMs;
    this.close(open + this.periodMs);
    if (gap - 1 > this.settings.warmupPeriods) {
      this.restarts++;
      const end = start;
      this.pairs.forEach((p, i) => {
        this.watcher.reset(this.segments[i], this.scheduled(p.zone, end));
        this.carried[i] = { inventoryPressure: 0, competitorSignal: 0 };
      });
    } else for (let t = open + this.periodMs; t < start; t += this.periodMs) this.close(t + this.periodMs);
    this.open = start;
  }

  /** Feed every segment its period ending at `end` (ms) and clear the counts. */
  private close(end: number): void {
    const counts = this.counts;
    this.counts = this.pairs.map(emptyCounts);
    for (let i = 0; i < this.pairs.length; i++) {
      const c = counts[i];
      const carried = this.carried[i];
      const demand = c.searches + c.bookings;
      if (c.available !== null) carried.inventoryPressure = c.bookings + c.available > 0 ? c.bookings / (c.bookings + c.available) : 1;
      if (c.compN > 0) carried.competitorSignal = c.compSum / c.compN;
      const zone = this.zoneOf[i];
      this.periodsSeen[i]++;
      const trig = this.watcher.observe(this.segments[i], {
        time: end,
        signals: {
          bookingVelocity: c.bookings,
          searchAbandonment: demand > 0 ? c.searches / demand : 0,
          inventoryPressure: carried.inventoryPressure,
          competitorSignal: carried.competitorSignal,
        },
        scheduled: this.scheduled(zone, end),
        inEffect: this.inEffect(zone, end),
      });
      if (trig) {
        this.triggerCount[i]++;
        this.lastTrigger[i] = trig;
        this.onTrigger(trig, i);
      }
    }
  }

  /** Start the zone's segments but `except` afresh (its repricing moves their signals' levels). */
  resetZone(zone: string, except: number, time: number): void {
    this.pairs.forEach((p, i) => {
      if (p.zone === zone && i !== except) this.watcher.reset(this.segments[i], this.scheduled(zone, time));
    });
  }

  segment(i: number): string {
    return this.segments[i];
  }

  /** The open period's start as ISO 8601 (null before the first event). */
  openPeriod(): string | null {
    return this.open === null ? null : new Date(this.open).toISOString();
  }

  report(): SegmentReport[] {
    return this.pairs.map((p, i) => {
      const s = this.watcher.statistic(this.segments[i]);
      return {
        segment: this.segments[i],
        zone: p.zone,
        asset: p.asset,
        warming_up: this.watcher.warmingUp(this.segments[i]),
        statistic_up: s.up,
        statistic_down: s.down,
        threshold: this.watcher.threshold,
        periods_seen: this.periodsSeen[i],
        triggers: this.triggerCount[i],
        last_trigger: this.lastTrigger[i] && triggerJson(this.lastTrigger[i] as WatcherTrigger),
      };
    });
  }
}
