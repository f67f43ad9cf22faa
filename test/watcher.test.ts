/**
 * The watcher (src/market/watcher.ts, cusum.ts, cusumArl.ts, watcherSettings.ts; docs/math.md
 * §2.8) against values computed independently (test/fixtures/watcher_reference.py: a plain CUSUM
 * loop, Siegmund's closed form solved by scipy, the exact one-sided ARL from its integral
 * equation, the full standardised combination with numpy): the hand sequence, the threshold for a
 * designed ARL, the in-control ARL by Monte Carlo within its standard error of the designed value,
 * the detection delay after a shift, the evidence of a trigger and the settings' validation.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { TwoSidedCusum } from '../src/market/cusum.js';
import { siegmundArl, siegmundArlTwoSided, thresholdForArl } from '../src/market/cusumArl.js';
import { NOISY_SIGNALS, Watcher, type WatcherTrigger } from '../src/market/watcher.js';
import { DEFAULT_WATCHER_SETTINGS, resolveWatcherSettings, WATCHER_SIGNALS } from '../src/market/watcherSettings.js';
import { Rng } from '../src/sim/random.js';

interface Fixture {
  cusum: { k: number; h: number; y: number[]; path: [number, number][]; alarm: number };
  siegmund: { h: number; k: number; delta: number; one: number; two: number }[];
  thresholds: { arl0: number; k: number; h: number }[];
  exact: { h: number; k: number; delta: number; one: number; siegmundOne: number }[];
  watcher: {
    warmup: number;
    reference: number;
    arl0: number;
    threshold: number;
    eventScale: number;
    weights: number[];
    signals: number[][];
    mean: number[];
    sd: number[];
    scale: number;
    path: [number, number, number][];
    trigger: { period: number; direction: 'up' | 'down'; statistic: number; periodsSinceChange: number; accumulated: number[]; z: number[] };
  };
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/watcher_reference.json', import.meta.url), 'utf8')) as Fixture;

describe('two-sided CUSUM', () => {
  it('follows the hand-computed sequence and alarms where it does', () => {
    const c = new TwoSidedCusum(fx.cusum.k, fx.cusum.h);
    let alarm: number | null = null;
    fx.cusum.y.forEach((y, t) => {
      const d = c.step(y, t);
      if (d !== null && alarm === null) alarm = t;
      expect(c.up.s).toBeCloseTo(fx.cusum.path[t][0], 12);
      expect(c.down.s).toBeCloseTo(fx.cusum.path[t][1], 12);
    });
    expect(alarm).toBe(fx.cusum.alarm);
  });

  it('a small worked case: S⁺ = 0.7, 1.1, 0 and S⁻ rising after the drop', () => {
    const c = new TwoSidedCusum(0.5, 10, 2);
    c.step(1.2, 0, [1, 0.2]);
    c.step(0.9, 1, [0.5, 0.4]);
    expect(c.up.s).toBeCloseTo(1.1, 14);
    expect(c.up.since).toBe(0);
    // the parts since the change point add up to S + k·n
    expect(c.up.acc[0] + c.up.acc[1]).toBeCloseTo(c.up.s + 0.5 * c.up.n, 14);
    c.step(-2, 2, [-1, -1]);
    expect(c.up.s).toBe(0);
    expect(c.down.s).toBeCloseTo(1.5, 14);
    expect(c.down.since).toBe(2);
    expect(Array.from(c.down.acc)).toEqual([1, 1]);
  });
});

describe("Siegmund's approximation and the threshold", () => {
  it('matches the closed form computed in Python', () => {
    for (const r of fx.siegmund) {
      expect(siegmundArl(r.h, r.k, r.delta)).toBeCloseTo(r.one, 8);
      expect(siegmundArlTwoSided(r.h, r.k, r.delta)).toBeCloseTo(r.two, 8);
    }
  });

  it('thresholdForArl gives the h scipy finds', () => {
    for (const r of fx.thresholds) expect(Math.abs(thresholdForArl(r.arl0, r.k) - r.h)).toBeLessThan(1e-9);
  });

  it('is within 1 % of the exact one-sided ARL in control and 4 % at shifts of 1 and 2 sd (k = 0.5)', () => {
    for (const r of fx.exact) {
      expect(siegmundArl(r.h, r.k, r.delta)).toBeCloseTo(r.siegmundOne, 8);
      expect(Math.abs(r.siegmundOne / r.one - 1)).toBeLessThan(r.delta === 0 ? 0.01 : 0.04);
    }
  });

  it('refuses settings without a CUSUM threshold', () => {
    expect(() => thresholdForArl(1.01, 0.5)).toThrow(/threshold below 0/);
    expect(() => thresholdForArl(100, 0)).toThrow(/reference k/);
    expect(() => thresholdForArl(0.5, 0.5)).toThrow(/ARL/);
  });
});

/** Run lengths of the two-sided CUSUM on N(delta, 1) scores, one Rng stream per run. */
function runLengths(k: number, h: number, delta: number, runs: number, seed: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < runs; r++) {
    const rng = new Rng(seed, r);
    const c = new TwoSidedCusum(k, h);
    let t = 0;
    for (;;) {
      t++;
      if (c.step(delta + rng.normal(), t) !== null) break;
    }
    out.push(t);
  }
  return out;
}

function meanSe(x: number[]): { mean: number; se: number } {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  const v = x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1);
  return { mean: m, se: Math.sqrt(v / x.length) };
}

describe('average run lengths by Monte Carlo', () => {
  const k = DEFAULT_WATCHER_SETTINGS.reference;
  const h = thresholdForArl(DEFAULT_WATCHER_SETTINGS.arl0, k);

  it('in control: the mean run length is within 3 standard errors of the designed 720 periods', () => {
    const { mean, se } = meanSe(runLengths(k, h, 0, 3000, 11));
    expect(se / mean).toBeLessThan(0.03);
    expect(Math.abs(mean - DEFAULT_WATCHER_SETTINGS.arl0)).toBeLessThan(3 * se);
    // the false-alarm rate per period is 1/ARL, the same statement in the other unit
    expect(Math.abs(1 / mean - 1 / 720)).toBeLessThan((3 * se) / mean / mean);
  });

  it('after a shift of 1 sd the delay is within 3 standard errors of the exact ARL (about 11 periods)', () => {
    const exact = fx.exact.find((r) => Math.abs(r.h - h) < 1e-9 && r.delta === 1)!;
    const { mean, se } = meanSe(runLengths(k, h, 1, 4000, 12));
    // the lower side alarms almost never at +1 sd, so the two-sided delay is the upper side's ARL
    expect(Math.abs(mean - exact.one)).toBeLessThan(3 * se);
    expect(mean).toBeLessThan(13);
  });
});

describe('the watcher with a baseline learnt over 48 periods (Gaussian signals)', () => {
  it('keeps the mean monitored run length near 720 but spreads the run lengths: the median is far below a geometric law\'s', () => {
    const s = DEFAULT_WATCHER_SETTINGS;
    const L: number[] = [];
    for (let r = 0; r < 1000; r++) {
      const rng = new Rng(77, r);
      const w = new Watcher(s);
      let t = 0;
      let mon = 0;
      for (;;) {
        const running = !w.warmingUp('s');
        const sig = Object.fromEntries(NOISY_SIGNALS.map((k) => [k, rng.normal()])) as Record<(typeof NOISY_SIGNALS)[number], number>;
        const trig = w.observe('s', { time: ++t, signals: sig, scheduled: 1 });
        if (running) mon++;
        if (trig) break;
      }
      L.push(mon);
    }
    const { mean, se } = meanSe(L);
    expect(Math.abs(mean - s.arl0)).toBeLessThan(3 * se);
    const median = [...L].sort((a, b) => a - b)[L.length >> 1];
    // a geometric law with mean 720 has median ≈ 720·ln 2 ≈ 499; estimation error makes some baselines alarm early
    expect(median).toBeLessThan(0.6 * s.arl0 * Math.LN2);
  });
});

describe('the watcher on the standardised combination', () => {
  const w = fx.watcher;
  const settings = resolveWatcherSettings({ warmupPeriods: w.warmup, reference: w.reference, arl0: w.arl0, eventScale: w.eventScale });
  const t0 = Date.parse('2026-03-02T00:00:00Z');
  const obs = (t: number, x: number[]) => ({ time: t0 + t * 3600_000, signals: Object.fromEntries(NOISY_SIGNALS.map((s, i) => [s, x[i]])) as Record<(typeof NOISY_SIGNALS)[number], number>, scheduled: 1 });

  it('reproduces the warm-up baseline, the scores, the statistic and the trigger with its evidence', () => {
    const logged: WatcherTrigger[] = [];
    const wt = new Watcher(settings, (t) => logged.push(t));
    expect(wt.threshold).toBeCloseTo(w.threshold, 9);
    let trig: WatcherTrigger | null = null;
    for (let t = 0; t < w.signals.length && trig === null; t++) {
      trig = wt.observe('north/car/weekday-evening', obs(t, w.signals[t]));
      if (t < w.warmup - 1) expect(wt.warmingUp('north/car/weekday-evening')).toBe(true);
      if (t >= w.warmup && trig === null) {
        const [, sp, sm] = w.path[t - w.warmup];
        const s = wt.statistic('north/car/weekday-evening');
        expect(s.up).toBeCloseTo(sp, 9);
        expect(s.down).toBeCloseTo(sm, 9);
      }
      if (trig) {
        expect(t).toBe(w.trigger.period);
        expect(trig.combined).toBeCloseTo(w.path[t - w.warmup][0], 9);
      }
    }
    expect(trig).not.toBeNull();
    const g = trig!;
    expect(logged).toEqual([g]);
    expect(g.kind).toBe('evidence');
    expect(g.direction).toBe(w.trigger.direction);
    expect(g.statistic).toBeCloseTo(w.trigger.statistic, 9);
    expect(g.statistic).toBeGreaterThan(g.threshold);
    expect(g.scale).toBeCloseTo(w.scale, 9);
    expect(g.periodsSinceChange).toBe(w.trigger.periodsSinceChange);
    expect(g.time).toBe(new Date(t0 + w.trigger.period * 3600_000).toISOString());
    expect(g.changeTime).toBe(new Date(t0 + (w.trigger.period - w.trigger.periodsSinceChange + 1) * 3600_000).toISOString());
    expect(g.signals.map((s) => s.signal)).toEqual([...WATCHER_SIGNALS]);
    g.signals.forEach((s, i) => {
      expect(s.weight).toBe(w.weights[i]);
      expect(s.z).toBeCloseTo(w.trigger.z[i], 9);
      expect(s.accumulated).toBeCloseTo(w.trigger.accumulated[i], 9);
      if (i < 4) {
        expect(s.baseline).toBeCloseTo(w.mean[i], 9);
        expect(s.sd).toBeCloseTo(w.sd[i], 9);
      }
    });
    // the evidence adds up: Σ accumulated = S + k·n
    const sum = g.signals.reduce((a, s) => a + s.accumulated, 0);
    expect(sum).toBeCloseTo(g.statistic + g.reference * g.periodsSinceChange, 9);
    // and the segment starts afresh
    expect(wt.warmingUp('north/car/weekday-evening')).toBe(true);
    expect(wt.statistic('north/car/weekday-evening')).toEqual({ up: 0, down: 0 });
  });

  it('a scheduled multiplier entering ahead of an event moves the events signal alone to a trigger', () => {
    const s = resolveWatcherSettings({ warmupPeriods: 10, weights: { externalEvents: 0.1 } });
    const wt = new Watcher(s);
    const rng = new Rng(5);
    const noisy = () => Object.fromEntries(NOISY_SIGNALS.map((n) => [n, 10 + rng.normal()])) as Record<(typeof NOISY_SIGNALS)[number], number>;
    let t = 0;
    for (; t < 10; t++) expect(wt.observe('z/a', { time: t, signals: noisy(), scheduled: 1 })).toBeNull();
    let trig: WatcherTrigger | null = null;
    for (; trig === null && t < 40; t++) trig = wt.observe('z/a', { time: t, signals: noisy(), scheduled: 1.5, inEffect: 1 });
    expect(trig?.direction).toBe('up');
    const ev = trig!.signals.find((x) => x.signal === 'externalEvents')!;
    expect(ev.z).toBeCloseTo(Math.log(1.5) / s.eventScale, 12);
    expect(ev.accumulated).toBeGreaterThan(0.5 * trig!.statistic);
    // priced in: while the event has not started the baseline waits; from its start it learns
    for (let u = 0; u < 20; u++) wt.observe('z/a', { time: t++, signals: noisy(), scheduled: 1.5, inEffect: 1 });
    expect(wt.warmingUp('z/a')).toBe(true);
    for (let u = 0; u < 10; u++) wt.observe('z/a', { time: t++, signals: noisy(), scheduled: 1.5, inEffect: 1.5 });
    expect(wt.warmingUp('z/a')).toBe(false);
    // a change of the schedule during a warm-up is a calendar trigger
    wt.reset('z/a', 1.5);
    const cal = wt.observe('z/a', { time: t++, signals: noisy(), scheduled: 1, inEffect: 1 });
    expect(cal?.kind).toBe('calendar');
    expect(cal?.direction).toBe('down');
  });

  it('rejects times that do not increase and signals that are not numbers', () => {
    const wt = new Watcher(DEFAULT_WATCHER_SETTINGS);
    wt.observe('a', obs(1, [1, 2, 3, 4]));
    expect(() => wt.observe('a', obs(1, [1, 2, 3, 4]))).toThrow(/times must increase/);
    expect(() => wt.observe('a', obs(2, [1, NaN, 3, 4]))).toThrow(/searchAbandonment must be a finite number/);
    expect(() => wt.observe('a', { ...obs(3, [1, 2, 3, 4]), scheduled: 0 })).toThrow(/scheduled multiplier/);
  });

  it('leaves out a signal without spread over the warm-up and says so', () => {
    const wt = new Watcher(resolveWatcherSettings({ warmupPeriods: 5, arl0: 20 }));
    const rng = new Rng(9);
    let trig: WatcherTrigger | null = null;
    for (let t = 0; t < 200 && trig === null; t++) trig = wt.observe('s', obs(t, [10 + rng.normal() + (t >= 5 ? 3 : 0), 0, 0.5 + 0.1 * rng.normal(), 0.01 * rng.normal()]));
    expect(trig).not.toBeNull();
    const ab = trig!.signals.find((x) => x.signal === 'searchAbandonment')!;
    expect(ab.used).toBe(false);
    expect(ab.z).toBe(0);
  });
});

describe('watcher settings', () => {
  it('fills in the defaults', () => {
    expect(resolveWatcherSettings(undefined)).toEqual(DEFAULT_WATCHER_SETTINGS);
    expect(resolveWatcherSettings({})).toEqual(DEFAULT_WATCHER_SETTINGS);
    const s = resolveWatcherSettings({ weights: { competitorSignal: 0 }, arl0: 1000 });
    expect(s.weights).toEqual({ ...DEFAULT_WATCHER_SETTINGS.weights, competitorSignal: 0 });
    expect(s.arl0).toBe(1000);
  });

  it('names the field that is wrong', () => {
    expect(() => resolveWatcherSettings({ reference: 0 })).toThrow(/market\.watcher\.reference: must be > 0/);
    expect(() => resolveWatcherSettings({ weights: { bookingVelocty: 1 } })).toThrow(/market\.watcher\.weights\.bookingVelocty: is not a watcher field \(allowed: bookingVelocity/);
    expect(() => resolveWatcherSettings({ warmupPeriods: 1.5 })).toThrow(/market\.watcher\.warmupPeriods: must be integer/);
    expect(() => resolveWatcherSettings(3, 'p.json: market.watcher')).toThrow(/^p\.json: market\.watcher: must be object/);
    expect(() => resolveWatcherSettings({ weights: { bookingVelocity: 0, searchAbandonment: 0, inventoryPressure: 0, competitorSignal: 0, externalEvents: 0 } })).toThrow(/at least one weight/);
  });
});
