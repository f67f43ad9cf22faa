/**
 * The evidence-based watcher (docs/math.md §2.8): one two-sided CUSUM per segment on a weighted,
 * standardised combination of its signals. Each period a segment reports four noisy signals
 * (booking velocity, search abandonment, inventory pressure, the competitor signal) and the events
 * calendar's scheduled multiplier. The noisy signals are standardised against a baseline learnt
 * over a warm-up (SignalBaseline); the events signal against the multiplier in force at the last
 * reset, on a fixed scale. The combination is divided by its own in-control standard deviation
 * √(wᵀRw), so it is about N(0, 1) while nothing changes and the threshold h from Siegmund's
 * approximation (cusumArl.ts) gives the designed in-control average run length. A trigger returns
 * its evidence, hands it to the log, and resets the segment: statistic to 0 and a new warm-up,
 * because the repricing that follows moves the signals' levels.
 */
import { RepricerError } from '../core/errors.js';
import { TwoSidedCusum } from './cusum.js';
import { thresholdForArl } from './cusumArl.js';
import { SignalBaseline } from './signalBaseline.js';
import { WATCHER_SIGNALS, type WatcherSettings, type WatcherSignal } from './watcherSettings.js';

/** The signals learnt from data (every one but the events calendar's), in evidence order. */
export const NOISY_SIGNALS = ['bookingVelocity', 'searchAbandonment', 'inventoryPressure', 'competitorSignal'] as const;
export type NoisySignal = (typeof NOISY_SIGNALS)[number];

/** One period of one segment. Every noisy signal is signed so that a rise means more demand pressure. */
export interface WatcherObservation {
  /** end of the period, ms since the epoch; strictly increasing per segment */
  time: number;
  signals: Record<NoisySignal, number>;
  /** the calendar's multiplier of the segment's zone, events entered ahead of their start (1 without events) */
  scheduled: number;
  /** the calendar's multiplier in force now (events from their start only); default `scheduled` */
  inEffect?: number;
}

export interface SignalEvidence {
  signal: WatcherSignal;
  weight: number;
  /** the signal this period (the events signal: the scheduled multiplier) */
  value: number;
  /** the baseline mean (the events signal: the multiplier at the last reset) */
  baseline: number;
  /** the baseline standard deviation (the events signal: eventScale, on ln(multiplier)) */
  sd: number;
  /** this period's standardised value (0 for a signal left out) */
  z: number;
  /** Σ ± w·z/√(wᵀRw) over the periods since the change point: the signal's share of statistic + k·periods */
  accumulated: number;
  /** false when the signal had no spread over the warm-up (it cannot be standardised) */
  used: boolean;
}

export interface WatcherTrigger {
  segment: string;
  /**
   * `evidence`: the CUSUM crossed h. `calendar`: the scheduled multiplier changed while the
   * baseline was still being learnt, so there is no statistic (0) and the evidence is the events
   * signal; the change is planned, not inferred, and the segment is repriced all the same.
   */
  kind: 'evidence' | 'calendar';
  /** ISO 8601 time of the period that crossed the threshold */
  time: string;
  direction: 'up' | 'down';
  /** the CUSUM side that crossed, S > h */
  statistic: number;
  threshold: number;
  reference: number;
  /** the combined score Y of this period */
  combined: number;
  /** √(wᵀRw): the in-control standard deviation of the weighted sum */
  scale: number;
  /** the change-point estimate: the first period after the side was last at 0 (ISO 8601) */
  changeTime: string;
  periodsSinceChange: number;
  signals: SignalEvidence[];
}

interface Frozen {
  mean: Float64Array;
  sd: Float64Array;
  used: boolean[];
  scale: number;
}

/** A segment's state: warming up (frozen = null) or monitoring. */
class SegmentState {
  readonly baseline = new SignalBaseline(NOISY_SIGNALS.length);
  frozen: Frozen | null = null;
  mRef: number;
  lastTime = -Infinity;
  readonly cusum: TwoSidedCusum;
  constructor(mRef: number, k: number, h: number) {
    this.mRef = mRef;
    this.cusum = new TwoSidedCusum(k, h, WATCHER_SIGNALS.length);
  }
  reset(mRef: number): void {
    this.baseline.clear();
    this.frozen = null;
    this.mRef = mRef;
    this.cusum.reset();
  }
}

function checkMultiplier(what: string, m: number): void {
  if (!(Number.isFinite(m) && m > 0)) throw new RepricerError('INVALID_ARGUMENT', `watcher: ${what} must be a number > 0, got ${m}`);
}

export class Watcher {
  readonly settings: WatcherSettings;
  /** h: the threshold that gives the designed in-control ARL (Siegmund, two-sided) */
  readonly threshold: number;
  private readonly states = new Map<string, SegmentState>();
  private readonly log: ((t: WatcherTrigger) => void) | undefined;

  constructor(settings: WatcherSettings, log?: (t: WatcherTrigger) => void) {
    this.settings = settings;
    this.threshold = thresholdForArl(settings.arl0, settings.reference);
    this.log = log;
  }

  /** Whether the segment is learning its baseline (no statistic yet). */
  warmingUp(segment: string): boolean {
    return this.states.get(segment)?.frozen == null;
  }

  /** The two CUSUM sides of a segment (0 while warming up). */
  statistic(segment: string): { up: number; down: number } {
    const st = this.states.get(segment);
    return { up: st?.cusum.up.s ?? 0, down: st?.cusum.down.s ?? 0 };
  }

  /** Start the segment afresh: statistic 0, a new warm-up, the events signal against `scheduled`. */
  reset(segment: string, scheduled: number): void {
    checkMultiplier('scheduled multiplier', scheduled);
    const st = this.states.get(segment);
    if (st) st.reset(scheduled);
    else this.states.set(segment, new SegmentState(scheduled, this.settings.reference, this.threshold));
  }

  /** One period of one segment: the trigger with its evidence, or null. */
  observe(segment: string, o: WatcherObservation): WatcherTrigger | null {
    const cfg = this.settings;
    checkMultiplier('scheduled multiplier', o.scheduled);
    const inEffect = o.inEffect ?? o.scheduled;
    checkMultiplier('multiplier in effect', inEffect);
    const x = NOISY_SIGNALS.map((k) => o.signals[k]);
    x.forEach((v, i) => {
      if (!Number.isFinite(v)) throw new RepricerError('INVALID_ARGUMENT', `watcher: segment ${segment}: signal ${NOISY_SIGNALS[i]} must be a finite number, got ${v}`);
    });
    let st = this.states.get(segment);
    if (!st) {
      st = new SegmentState(o.scheduled, cfg.reference, this.threshold);
      this.states.set(segment, st);
    }
    if (!(o.time > st.lastTime)) throw new RepricerError('INVALID_ARGUMENT', `watcher: segment ${segment}: times must increase (${new Date(o.time).toISOString()} after ${new Date(st.lastTime).toISOString()})`);
    st.lastTime = o.time;

    if (st.frozen === null) {
      if (o.scheduled !== st.mRef) return this.calendarTrigger(segment, st, o, x);
      // a scheduled change that has entered but not started would move the noisy signals by plan:
      // the baseline is learnt once the calendar's multiplier in force is the one priced in
      if (inEffect !== st.mRef) return null;
      st.baseline.add(x);
      if (st.baseline.count >= cfg.warmupPeriods) st.frozen = this.freeze(st.baseline);
      return null;
    }

    const f = st.frozen;
    const w = WATCHER_SIGNALS.map((k) => cfg.weights[k]);
    const z = new Float64Array(WATCHER_SIGNALS.length);
    for (let i = 0; i < NOISY_SIGNALS.length; i++) z[i] = f.used[i] ? (x[i] - f.mean[i]) / f.sd[i] : 0;
    const e = NOISY_SIGNALS.length;
    z[e] = Math.log(o.scheduled / st.mRef) / cfg.eventScale;
    const parts = new Float64Array(z.length);
    let y = 0;
    for (let i = 0; i < z.length; i++) {
      parts[i] = (w[i] * z[i]) / f.scale;
      y += parts[i];
    }
    const dir = st.cusum.step(y, o.time, parts);
    if (dir === null) return null;
    const k = cfg.reference;
    const h = this.threshold;
    const sd = dir === 'up' ? st.cusum.up : st.cusum.down;
    const signals: SignalEvidence[] = WATCHER_SIGNALS.map((name, i) => ({
      signal: name,
      weight: w[i],
      value: i < e ? x[i] : o.scheduled,
      baseline: i < e ? f.mean[i] : st.mRef,
      sd: i < e ? f.sd[i] : cfg.eventScale,
      z: z[i],
      accumulated: sd.acc[i],
      used: i < e ? f.used[i] : true,
    }));
    const trig: WatcherTrigger = {
      segment,
      kind: 'evidence',
      time: new Date(o.time).toISOString(),
      direction: dir,
      statistic: sd.s,
      threshold: h,
      reference: k,
      combined: y,
      scale: f.scale,
      changeTime: new Date(sd.since).toISOString(),
      periodsSinceChange: sd.n,
      signals,
    };
    st.reset(o.scheduled);
    this.log?.(trig);
    return trig;
  }

  /** A change of the scheduled multiplier during a warm-up: reported with the events signal alone. */
  private calendarTrigger(segment: string, st: SegmentState, o: WatcherObservation, x: number[]): WatcherTrigger {
    const cfg = this.settings;
    const ze = Math.log(o.scheduled / st.mRef) / cfg.eventScale;
    const time = new Date(o.time).toISOString();
    const trig: WatcherTrigger = {
      segment,
      kind: 'calendar',
      time,
      direction: ze > 0 ? 'up' : 'down',
      statistic: 0,
      threshold: this.threshold,
      reference: cfg.reference,
      combined: 0,
      scale: 0,
      changeTime: time,
      periodsSinceChange: 0,
      signals: WATCHER_SIGNALS.map((name, i) =>
        i < NOISY_SIGNALS.length
          ? { signal: name, weight: cfg.weights[name], value: x[i], baseline: NaN, sd: NaN, z: 0, accumulated: 0, used: false }
          : { signal: name, weight: cfg.weights[name], value: o.scheduled, baseline: st.mRef, sd: cfg.eventScale, z: ze, accumulated: 0, used: true },
      ),
    };
    st.reset(o.scheduled);
    this.log?.(trig);
    return trig;
  }

  /** End of a warm-up: means, standard deviations, which signals can be standardised, √(wᵀRw). */
  private freeze(b: SignalBaseline): Frozen {
    const { mean, sd, cov } = b.snapshot();
    const d = NOISY_SIGNALS.length;
    // a signal without spread over the warm-up cannot be standardised (its z would be 0/0 or ±∞)
    const used = NOISY_SIGNALS.map((_, i) => sd[i] > 1e-12 * (Math.abs(mean[i]) + 1));
    const w = NOISY_SIGNALS.map((k, i) => (used[i] ? this.settings.weights[k] : 0));
    // Var(Σ w_i z_i) = Σ w_i w_j R_ij with R the correlation of the signals over the warm-up
    let v = 0;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) if (used[i] && used[j]) v += (w[i] * w[j] * cov[i * d + j]) / (sd[i] * sd[j]);
    const we = this.settings.weights.externalEvents;
    let sumsq = we * we;
    for (const x of w) sumsq += x * x;
    // without a noisy signal, the events signal alone (its z is already in standard units); a
    // near-cancelling combination is floored so that round-off is not read as evidence
    const scale = Math.sqrt(Math.max(v, 1e-9 * sumsq, v === 0 ? we * we : 0));
    return { mean, sd, used, scale: scale > 0 ? scale : 1 };
  }
}
