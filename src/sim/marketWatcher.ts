/**
 * `repricer simulate marketplace --watcher` (docs/marketplace.md "Watcher"): the marketplace of
 * marketWatcherWorld.ts over hourly periods, priced three ways: `watcher` (evidence-based: a
 * segment is repriced when its CUSUM crosses h, src/market/watcher.ts), `schedule` (every
 * segment repriced every `every` hours) and `clairvoyant` (the clearing prices of the true demand
 * at every moment, the reference). Repricing estimates the zone's demand level from its searches
 * (the watcher: since the change point it reports; the schedule: over the last `every` hours),
 * divides out the calendar's multiplier in force and multiplies in the scheduled one (events enter
 * `eventLeadHours` ahead), and takes the segment's price from the market's clearing prices.
 * After each warm-up the watcher policy also checks the level priced in against the level the
 * warm-up measured (a repricing from data before a change would otherwise stand: the new baseline
 * takes it for normal). Measured per seed: price changes issued, revenue, price error against the clairvoyant prices,
 * hours from each demand change to the zone's first repricing, and the watcher's triggers in the
 * control zones (no shift, no event) against the designed false-alarm rate 1/arl0.
 */
import { RepricerError } from '../core/errors.js';
import type { WasmCore } from '../core/wasm.js';
import type { CalendarEvent, EventsCalendar } from '../market/eventsCalendar.js';
import { NOISY_SIGNALS, Watcher, type WatcherTrigger } from '../market/watcher.js';
import type { WatcherSettings } from '../market/watcherSettings.js';
import { Rng } from './random.js';
import { clearingPrices, drawZonePeriod, worldAtPrices, type WatcherWorldSpec, type WorldAtPrices } from './marketWatcherWorld.js';

export const WATCHER_POLICIES = ['watcher', 'schedule', 'clairvoyant'] as const;
export type WatcherPolicy = (typeof WATCHER_POLICIES)[number];

/** The simulation's clock starts on a Monday at midnight UTC. */
export const WATCHER_SIM_START = Date.parse('2026-01-05T00:00:00Z');
/** Random streams of the world (keys of sim/random.ts's Rng, apart from the other simulators'). */
const STREAM_DEMAND = 21;
const STREAM_COMPETITOR = 22;

/** An unannounced change of a zone's demand level from `hour` on. */
export interface DemandShift {
  zone: string;
  hour: number;
  factor: number;
}

export interface WatcherSimConfig {
  world: WatcherWorldSpec;
  settings: WatcherSettings;
  /** the events calendar, its lead = settings.eventLeadHours */
  calendar: EventsCalendar;
  shifts: DemandShift[];
  days: number;
  seeds: number;
  /** hours between the fixed schedule's repricings */
  every: number;
  /** the competitor prices at the clearing price of the demand `competitorLag` hours ago, times e^{N(0, competitorNoise²)} */
  competitorLag: number;
  competitorNoise: number;
  /** the watcher policy estimates a zone's new demand level from at least this many periods */
  minWindow: number;
  /**
   * the level check at the end of a warm-up: the zone is repriced when the warm-up's mean searches
   * differ from the level priced in by more than this many standard errors (0: no check)
   */
  levelZ: number;
}

/** A change of a zone's demand: a shift, or a calendar event's start or end. */
export interface DemandChange {
  label: string;
  zone: string;
  hour: number;
  /** hours ahead of `hour` at which the change is known (the lead of an event's start; 0 otherwise) */
  known: number;
  /** on the calendar (a policy can act at `hour − known`), or an unannounced shift (seen only in the periods after it) */
  announced: boolean;
}

export interface SeedResult {
  policy: WatcherPolicy;
  seed: number;
  priceChanges: number;
  revenue: number;
  /** time-average over periods and segments of |p − p*|/p* with p* the clairvoyant price, in % */
  priceErrorPct: number;
  /** per change: mean over the zone's segments of the hours from the change to the first repricing (negative: ahead); null if a segment was not repriced before the zone's next change */
  reaction: (number | null)[];
  /** repricings by the level check at the end of a warm-up (the watcher policy) */
  levelRepricings: number;
  /** watcher triggers in the control zones, and the periods their statistic ran (not warming up) */
  falseTriggers: number;
  monitoredPeriods: number;
}

export interface PricePath {
  policy: WatcherPolicy;
  segment: string;
  /** [hour, price] at the start and at every change */
  steps: [number, number][];
}

export interface WatcherSimResult {
  config: WatcherSimConfig;
  threshold: number;
  changes: DemandChange[];
  controlZones: string[];
  rows: SeedResult[];
  /** the watcher's triggers over all seeds, with the seed */
  triggers: { seed: number; trigger: WatcherTrigger }[];
  /** seed 1's price paths of every segment */
  paths: PricePath[];
}

const HOUR = 3600_000;

export function checkWatcherSimConfig(c: WatcherSimConfig): void {
  const bad = (m: string): never => {
    throw new RepricerError('INVALID_ARGUMENT', `simulate marketplace --watcher: ${m}`);
  };
  if (!(Number.isInteger(c.days) && c.days >= 1)) bad(`days must be an integer >= 1, got ${c.days}`);
  if (!(Number.isInteger(c.seeds) && c.seeds >= 1)) bad(`seeds must be an integer >= 1, got ${c.seeds}`);
  if (!(Number.isInteger(c.every) && c.every >= 1)) bad(`every must be an integer number of hours >= 1, got ${c.every}`);
  if (c.settings.periodMinutes !== 60) bad(`the simulation runs hourly periods: market.watcher.periodMinutes must be 60, got ${c.settings.periodMinutes}`);
  if (c.calendar.leadMs !== c.settings.eventLeadHours * HOUR) bad('the calendar lead must be market.watcher.eventLeadHours');
  for (const s of c.shifts) {
    if (!c.world.zones.includes(s.zone)) bad(`shift in unknown zone ${JSON.stringify(s.zone)}`);
    if (!(Number.isInteger(s.hour) && s.hour > 0 && s.factor > 0)) bad(`a shift needs an hour > 0 and a factor > 0, got ${JSON.stringify(s)}`);
  }
}

/** Every demand change in time order: the shifts, each calendar event's start (known lead ahead) and end. */
export function demandChanges(c: WatcherSimConfig): DemandChange[] {
  const out: DemandChange[] = c.shifts.map((s) => ({ label: `${s.zone} x${s.factor} at hour ${s.hour}`, zone: s.zone, hour: s.hour, known: 0, announced: false }));
  const at = (ms: number) => (ms - WATCHER_SIM_START) / HOUR;
  c.calendar.events.forEach((e: CalendarEvent) => {
    const name = e.name || `event of line ${e.line}`;
    out.push({ label: `${e.zone} ${name} starts (x${e.multiplier})`, zone: e.zone, hour: at(e.start), known: c.settings.eventLeadHours, announced: true });
    out.push({ label: `${e.zone} ${name} ends`, zone: e.zone, hour: at(e.end), known: 0, announced: true });
  });
  const H = c.days * 24;
  return out.filter((d) => d.hour - d.known >= 0 && d.hour < H).sort((a, b) => a.hour - b.hour || a.label.localeCompare(b.label));
}

/** The true demand level of every zone in period t (its shift factors times the calendar multiplier in force). */
function trueRates(c: WatcherSimConfig, t: number): Float64Array {
  const w = c.world;
  const time = WATCHER_SIM_START + t * HOUR;
  return Float64Array.from(w.zones, (z) => {
    let r = w.searchRate * c.calendar.multiplierAt(z, time, 0);
    for (const s of c.shifts) if (s.zone === z && t >= s.hour) r *= s.factor;
    return r;
  });
}

/** Clearing prices by demand levels, cached (the truth takes few distinct values). */
class ClearingCache {
  private readonly map = new Map<string, Float64Array>();
  constructor(
    private readonly world: WatcherWorldSpec,
    private readonly core: WasmCore | undefined,
  ) {}
  get(rates: Float64Array): Float64Array {
    const key = Array.from(rates).join(',');
    let p = this.map.get(key);
    if (!p) {
      p = clearingPrices(this.world, rates, this.core);
      this.map.set(key, p);
    }
    return p;
  }
}

function mean(x: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i];
  return s / (to - from);
}

/** One policy over one seed. */
function runPolicy(c: WatcherSimConfig, policy: WatcherPolicy, seed: number, cache: ClearingCache, changes: DemandChange[], control: Set<number>, core: WasmCore | undefined, triggers: WatcherSimResult['triggers'], paths: PricePath[] | null): SeedResult {
  const w = c.world;
  const Z = w.zones.length;
  const A = w.assets.length;
  const n = Z * A;
  const H = c.days * 24;
  const cal = c.calendar;
  const segId = (i: number) => `${w.zones[Math.floor(i / A)]}/${w.assets[i % A]}`;
  const sched = (z: number, t: number) => cal.multiplierAt(w.zones[z], WATCHER_SIM_START + t * HOUR);
  const inForce = (z: number, t: number) => cal.multiplierAt(w.zones[z], WATCHER_SIM_START + t * HOUR, 0);
  const demandRng = new Rng(seed, STREAM_DEMAND);
  const compRng = new Rng(seed, STREAM_COMPETITOR);

  // the start: everyone knows the nominal demand and the calendar
  const est = Float64Array.from(w.zones, (_, z) => w.searchRate * sched(z, 0));
  let prices = Float64Array.from(policy === 'clairvoyant' ? cache.get(trueRates(c, 0)) : clearingPrices(w, est, core));
  let at: WorldAtPrices = worldAtPrices(w, prices, core);
  const updates: number[][] = Array.from({ length: n }, () => []);
  if (paths) for (let i = 0; i < n; i++) paths.push({ policy, segment: segId(i), steps: [[0, prices[i]]] });
  const setPrice = (i: number, p: number, t: number) => {
    if (p === prices[i]) return false;
    prices[i] = p;
    updates[i].push(t);
    if (paths) paths[paths.length - n + i].steps.push([t, p]);
    return true;
  };

  // searches per zone and period with the calendar multiplier in force divided out
  const hist = Array.from({ length: Z }, () => new Float64Array(H));
  const watcher = policy === 'watcher' ? new Watcher(c.settings) : null;
  // the demand level priced in (searches per period, the multiplier in force divided out) and the
  // periods it was estimated from (the nominal level at the start is known exactly)
  const usedRate = new Float64Array(Z).fill(w.searchRate);
  const usedN = new Float64Array(Z).fill(Infinity);
  let levelRepricings = 0;
  let falseTriggers = 0;
  let monitored = 0;
  let revenue = 0;
  let errSum = 0;
  let lastTruth = trueRates(c, 0);
  let lastTruthKey = Array.from(lastTruth).join(',');

  for (let t = 0; t < H; t++) {
    const truth = trueRates(c, t);
    const pStar = cache.get(truth);
    const lagged = cache.get(trueRates(c, Math.max(0, t - c.competitorLag)));
    for (let i = 0; i < n; i++) errSum += Math.abs(prices[i] - pStar[i]) / pStar[i];
    const periods = Array.from({ length: Z }, (_, z) => drawZonePeriod(demandRng, at, z, A, truth[z]));
    const comp = Float64Array.from({ length: n }, (_, i) => lagged[i] * Math.exp(c.competitorNoise * compRng.normal()));
    for (let z = 0; z < Z; z++) {
      hist[z][t] = periods[z].searches / inForce(z, t);
      for (let a = 0; a < A; a++) revenue += prices[z * A + a] * periods[z].booked[a];
    }
    const next = t + 1; // new prices hold from the next period
    let changed = false;
    if (watcher) {
      const end = WATCHER_SIM_START + next * HOUR;
      // the zone's segments are reset together, so its first segment tells when a warm-up ends
      const warmingBefore = w.zones.map((_, z) => watcher.warmingUp(segId(z * A)));
      const triggered = new Set<number>();
      for (let i = 0; i < n; i++) {
        const z = Math.floor(i / A);
        const a = i % A;
        const zp = periods[z];
        const seg = segId(i);
        const running = !watcher.warmingUp(seg);
        const trig = watcher.observe(seg, {
          time: end,
          signals: {
            bookingVelocity: zp.booked[a],
            searchAbandonment: zp.demand[a] > 0 ? (zp.demand[a] - zp.booked[a]) / zp.demand[a] : 0,
            inventoryPressure: zp.offered[a] > 0 ? zp.booked[a] / zp.offered[a] : 1,
            competitorSignal: Math.log(comp[i] / prices[i]),
          },
          scheduled: sched(z, next),
          inEffect: inForce(z, next),
        });
        if (control.has(z)) {
          if (running) monitored++;
          if (trig) falseTriggers++;
        }
        if (trig) {
          triggers.push({ seed, trigger: trig });
          // the change point's window (the MLE of the new level) but at least `minWindow` periods; a
          // calendar trigger has no change point: the last day
          const span = Math.min(next, trig.kind === 'evidence' ? Math.max(trig.periodsSinceChange, c.minWindow) : 24);
          usedRate[z] = mean(hist[z], next - span, next);
          usedN[z] = span;
          triggered.add(z);
          est[z] = usedRate[z] * sched(z, next);
          const p = clearingPrices(w, est, core, prices);
          // the zone is repriced as a whole: a new price of one asset moves its siblings' demand
          // (they share the nest), which their watchers would otherwise read as evidence
          for (let b = 0; b < A; b++) {
            changed = setPrice(z * A + b, p[z * A + b], next) || changed;
            if (b !== a) watcher.reset(segId(z * A + b), sched(z, next));
          }
        }
      }
      // the level check (docs/math.md §2.8): a warm-up that has just ended measured the zone's level
      // over W periods; a repricing whose estimate came from before a change (or from few periods)
      // left a price the new baseline would take for normal
      const W = c.settings.warmupPeriods;
      for (let z = 0; z < Z && c.levelZ > 0; z++) {
        if (!warmingBefore[z] || watcher.warmingUp(segId(z * A)) || triggered.has(z) || next < W) continue;
        const m = mean(hist[z], next - W, next);
        const se = Math.sqrt(m / W + (Number.isFinite(usedN[z]) ? usedRate[z] / usedN[z] : 0));
        if (!(Math.abs(m - usedRate[z]) > c.levelZ * se)) continue;
        levelRepricings++;
        usedRate[z] = m;
        usedN[z] = W;
        est[z] = m * sched(z, next);
        const p = clearingPrices(w, est, core, prices);
        for (let b = 0; b < A; b++) {
          changed = setPrice(z * A + b, p[z * A + b], next) || changed;
          watcher.reset(segId(z * A + b), sched(z, next));
        }
      }
    } else if (policy === 'schedule') {
      if (next % c.every === 0 && next < H) {
        for (let z = 0; z < Z; z++) est[z] = mean(hist[z], next - c.every, next) * sched(z, next);
        const p = clearingPrices(w, est, core, prices);
        for (let i = 0; i < n; i++) changed = setPrice(i, p[i], next) || changed;
      }
    } else {
      const nt = trueRates(c, Math.min(next, H - 1));
      const key = Array.from(nt).join(',');
      if (key !== lastTruthKey) {
        // only the zones whose demand changed (the others' prices differ by the solver's round-off)
        const p = cache.get(nt);
        const before = lastTruth;
        for (let i = 0; i < n; i++) if (nt[Math.floor(i / A)] !== before[Math.floor(i / A)]) changed = setPrice(i, p[i], next) || changed;
        lastTruthKey = key;
        lastTruth = nt;
      }
    }
    if (changed) at = worldAtPrices(w, prices, core);
  }

  const reaction = changes.map((ch) => {
    const z = w.zones.indexOf(ch.zone);
    const nextInZone = changes.find((d) => d.zone === ch.zone && d.hour - d.known > ch.hour - ch.known);
    const limit = nextInZone ? nextInZone.hour - nextInZone.known : H;
    const per: number[] = [];
    for (let a = 0; a < A; a++) {
      // a repricing reacts when it can know of the change: from `known` hours ahead of a change on
      // the calendar, else from the period after it (a repricing at the change's hour saw none of
      // it); the clairvoyant knows the truth as it happens
      const from = ch.announced ? ch.hour - ch.known : policy === 'clairvoyant' ? ch.hour : ch.hour + 1;
      const u = updates[z * A + a].find((h) => h >= from && h < limit);
      if (u === undefined) return null;
      per.push(u - ch.hour);
    }
    return per.reduce((s, x) => s + x, 0) / per.length;
  });
  const priceChanges = updates.reduce((s, u) => s + u.length, 0);
  return { policy, seed, priceChanges, revenue, priceErrorPct: (100 * errSum) / (H * n), reaction, levelRepricings, falseTriggers, monitoredPeriods: monitored };
}

export function runWatcherSim(c: WatcherSimConfig, core?: WasmCore): WatcherSimResult {
  checkWatcherSimConfig(c);
  const changes = demandChanges(c);
  const withChange = new Set([...c.shifts.map((s) => s.zone), ...c.calendar.events.map((e) => e.zone)]);
  const control = new Set(c.world.zones.map((_, z) => z).filter((z) => !withChange.has(c.world.zones[z])));
  const cache = new ClearingCache(c.world, core);
  const rows: SeedResult[] = [];
  const triggers: WatcherSimResult['triggers'] = [];
  const paths: PricePath[] = [];
  const threshold = new Watcher(c.settings).threshold;
  for (const policy of WATCHER_POLICIES) {
    for (let seed = 1; seed <= c.seeds; seed++) rows.push(runPolicy(c, policy, seed, cache, changes, control, core, policy === 'watcher' ? triggers : [], seed === 1 ? paths : null));
  }
  return { config: c, threshold, changes, controlZones: [...control].map((z) => c.world.zones[z]), rows, triggers, paths };
}
