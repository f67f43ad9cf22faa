/**
 * `repricer simulate marketplace --watcher` (src/sim/marketWatcher*.ts, src/cli/simulateWatcher.ts):
 * the simulated marketplace against closed forms (nested-logit choice shares, hosts' supply, the
 * clearing condition, the Poisson draws' mean and variance); the runner on a short scenario (the
 * watcher reacts to the injected shift, the fixed schedule reprices every day, calendar events
 * enter ahead of their start, the same seed gives the same files); and the command end to end
 * through dist/src/cli/main.js with a calendar and a policy file, and its errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { resolveWatcherSettings } from '../src/market/watcherSettings.js';
import { runWatcherSim } from '../src/sim/marketWatcher.js';
import { watcherScenario } from '../src/sim/marketWatcherScenario.js';
import { reactionsCsv, triggersCsv, watcherCsv, watcherSummary, watcherSvg } from '../src/sim/marketWatcherReport.js';
import { DEFAULT_WORLD, clearingPrices, poisson, worldAtPrices } from '../src/sim/marketWatcherWorld.js';
import { Rng } from '../src/sim/random.js';
import { requireDist } from './server-helpers.js';
import { runSimulateWatcher } from '../src/cli/simulateWatcher.js';
import { RepricerError } from '../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'repricer-watcher-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Nested logit with one nest of scale μ_l inside μ and an outside option (docs/math.md §2.1), written out here. */
function shares(values: number[], p: number[], mu: number, muL: number): number[] {
  const v = values.map((a, i) => (a - p[i]) / muL);
  const I = Math.log(v.reduce((s, x) => s + Math.exp(x), 0));
  const nest = Math.exp((muL / mu) * I) / (1 + Math.exp((muL / mu) * I));
  return v.map((x) => nest * Math.exp(x - I));
}

describe('the simulated marketplace', () => {
  const w = DEFAULT_WORLD;
  it('choice shares and supply are the closed forms', () => {
    const p = Float64Array.from({ length: 8 }, (_, i) => 4 + 0.5 * i);
    const at = worldAtPrices(w, p);
    for (let z = 0; z < 4; z++) {
      const s = shares(w.values, [p[2 * z], p[2 * z + 1]], w.mu, w.muNest);
      expect(at.choice[2 * z]).toBeCloseTo(s[0], 12);
      expect(at.choice[2 * z + 1]).toBeCloseTo(s[1], 12);
      for (let a = 0; a < 2; a++) expect(at.supply[2 * z + a]).toBeCloseTo(Math.min(Math.max((p[2 * z + a] - w.costs[a]) / w.beta, 0), w.capacity[a]), 12);
    }
  });

  it('clearing prices equate expected demand and supply in every zone; more demand, higher prices', () => {
    const rates = [60, 90, 42, 60];
    const p = clearingPrices(w, rates);
    const at = worldAtPrices(w, p);
    for (let i = 0; i < 8; i++) expect(Math.abs(rates[Math.floor(i / 2)] * at.choice[i] - at.supply[i])).toBeLessThan(1e-7);
    expect(p[2]).toBeGreaterThan(p[0]);
    expect(p[4]).toBeLessThan(p[0]);
    expect(p[6]).toBeCloseTo(p[0], 8);
  });

  it('Poisson draws have mean and variance λ (within 4 standard errors), also above the split at 200', () => {
    for (const lambda of [0.5, 16, 60, 450]) {
      const rng = new Rng(3, Math.round(lambda));
      const N = 20000;
      const x = Array.from({ length: N }, () => poisson(rng, lambda));
      const m = x.reduce((a, b) => a + b, 0) / N;
      const v = x.reduce((a, b) => a + (b - m) ** 2, 0) / (N - 1);
      expect(Math.abs(m - lambda)).toBeLessThan(4 * Math.sqrt(lambda / N));
      // the sample variance's sd is about λ·√(2/N) (plus the 1/λ kurtosis term)
      expect(Math.abs(v - lambda)).toBeLessThan(4 * lambda * Math.sqrt((2 + 1 / lambda) / N));
    }
  });
});

describe('the runner on a short scenario', () => {
  const cfg = watcherScenario({ days: 16, seeds: 2, settings: resolveWatcherSettings(undefined) });
  const res = runWatcherSim(cfg);
  const rows = (p: string) => res.rows.filter((r) => r.policy === p);

  it('lists the changes: the shifts, the event start known 24 h ahead and its end', () => {
    expect(res.changes.map((c) => [c.zone, c.hour, c.known, c.announced])).toEqual([
      ['north', 135, 0, false],
      ['south', 223, 0, false],
      ['centre', 288, 24, true],
      ['centre', 326, 0, true],
    ]);
    expect(res.controlZones).toEqual(['east']);
  });

  it('the fixed schedule reprices every segment every 24 h; the clairvoyant only at the changes', () => {
    for (const r of rows('schedule')) expect(r.priceChanges).toBe((16 - 1) * 8);
    for (const r of rows('clairvoyant')) {
      expect(r.priceChanges).toBe(4 * 2);
      expect(r.reaction).toEqual([0, 0, 0, 0]);
      // the zones whose demand did not change keep their prices: they differ from a new solve by round-off
      expect(r.priceErrorPct).toBeLessThan(1e-6);
    }
  });

  it('the watcher reacts to the rise in north within a warm-up and a day, and prices the event before it starts', () => {
    for (const r of rows('watcher')) {
      expect(r.reaction[0]).not.toBeNull();
      expect(r.reaction[0]!).toBeGreaterThan(0);
      // a trigger shortly before the shift leaves the segment learning its baseline for 48 periods
      expect(r.reaction[0]!).toBeLessThan(48 + 24);
      expect(r.reaction[2]!).toBeLessThan(0);
      expect(r.reaction[2]!).toBeGreaterThanOrEqual(-24);
      expect(r.priceChanges).toBeLessThan(rows('schedule')[0].priceChanges);
    }
    // the schedule too enters the event ahead: its first repricing after the event entered the calendar
    for (const r of rows('schedule')) expect(r.reaction[2]!).toBe(-24);
  });

  it('every watcher trigger carries its evidence, and the north triggers after the shift say up', () => {
    expect(res.triggers.length).toBeGreaterThan(0);
    for (const { trigger: t } of res.triggers) {
      if (t.kind === 'evidence') {
        expect(t.statistic).toBeGreaterThan(t.threshold);
        expect(t.signals.reduce((a, s) => a + s.accumulated, 0)).toBeCloseTo(t.statistic + t.reference * t.periodsSinceChange, 9);
      }
    }
    const shiftAt = Date.parse('2026-01-05T00:00:00Z') + 135 * 3600_000;
    const north = res.triggers.filter(({ trigger: t }) => t.segment.startsWith('north/') && Date.parse(t.time) > shiftAt);
    expect(north[0].trigger.direction).toBe('up');
  });

  it('the same options give the same files', () => {
    const again = runWatcherSim(watcherScenario({ days: 16, seeds: 2, settings: resolveWatcherSettings(undefined) }));
    expect(watcherCsv(again)).toBe(watcherCsv(res));
    expect(triggersCsv(again)).toBe(triggersCsv(res));
    expect(reactionsCsv(again)).toBe(reactionsCsv(res));
    expect(watcherSvg(again, 't')).toBe(watcherSvg(res, 't'));
    const s = watcherSummary(res);
    expect(s.falseTriggers.expected).toBeCloseTo(s.falseTriggers.monitoredPeriods / 720, 3);
    expect(s.policies.schedule.priceChanges).toMatchObject({ mean: 120, sd: 0, n: 2 });
  });
});

describe('the level check at the end of a warm-up', () => {
  it('reprices a zone whose demand fell during its first warm-up, at the end of the warm-up', () => {
    const base = watcherScenario({ days: 6, seeds: 2, settings: resolveWatcherSettings(undefined), events: [] });
    const res = runWatcherSim({ ...base, shifts: [{ zone: 'north', hour: 20, factor: 0.6 }] });
    for (const r of res.rows.filter((x) => x.policy === 'watcher')) {
      expect(r.levelRepricings).toBeGreaterThanOrEqual(1);
      // the baseline learnt over hours 0..47 mixes both levels; the check at hour 48 sees the fall
      expect(r.reaction[0]).toBe(48 - 20);
    }
    const north = res.paths.find((p) => p.policy === 'watcher' && p.segment === 'north/car')!;
    const at48 = north.steps.find(([h]) => h === 48)!;
    expect(at48[1]).toBeLessThan(north.steps[0][1]);
  });
});

describe('repricer simulate marketplace --watcher', () => {
  const main = resolve('dist/src/cli/main.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [main, 'simulate', 'marketplace', ...args], { encoding: 'utf8', timeout: 120_000 });

  it('runs end to end with a calendar and a policy file and writes the CSV, SVG and summary', () => {
    requireDist();
    const cal = join(dir, 'calendar.csv');
    writeFileSync(cal, 'zone,start,end,multiplier,name\neast,2026-01-12T12:00:00Z,2026-01-13T12:00:00Z,1.4,"match day, east"\n');
    const pol = join(dir, 'policy.json');
    writeFileSync(pol, JSON.stringify({ bounds: { min: 1 }, market: { watcher: { eventLeadHours: 12, arl0: 500 } } }));
    const out = join(dir, 'run');
    const r = run('--watcher', '--days', '10', '--seeds', '2', '--calendar', cal, '--policy', pol, '--out', out);
    expect(r.status, r.stderr).toBe(0);
    for (const f of ['watcher.csv', 'reactions.csv', 'triggers.csv', 'summary.json', 'watcher.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'watcher.csv'), 'utf8').split('\n')[0]).toBe('policy,seed,price_changes,level_repricings,revenue,price_error_pct,false_triggers,monitored_periods');
    expect(readFileSync(join(out, 'watcher.csv'), 'utf8').trim().split('\n').length).toBe(1 + 3 * 2);
    expect(readFileSync(join(out, 'watcher.svg'), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { settings: { eventLeadHours: number; arl0: number }; calendar: { name: string }[]; controlZones: string[]; policies: { watcher: { reactionHours: { change: string; hours: { max: number } }[] } } };
    expect(s.settings).toMatchObject({ eventLeadHours: 12, arl0: 500 });
    expect(s.calendar.map((e) => e.name)).toEqual(['match day, east']);
    // the file replaces the scenario's calendar: east has an event now and centre has none
    expect(s.controlZones).toEqual(['centre']);
    const start = s.policies.watcher.reactionHours.find((x) => x.change.startsWith('east match day, east starts'))!;
    expect(start.hours.max).toBeLessThanOrEqual(0);
    expect(r.stdout).toContain('false triggers in centre: ');
    expect(r.stderr).toMatch(/threshold h \d/);
    expect(readFileSync(join(out, 'reactions.csv'), 'utf8')).toContain('"east match day, east starts (x1.4)"');
  });

  it('a bad calendar exits 3 naming line and column; a bad watcher field exits 2 naming it; options of the other mode exit 2', () => {
    requireDist();
    const cal = join(dir, 'bad.csv');
    writeFileSync(cal, 'zone,start,end,multiplier\nwest,2026-01-02T00:00Z,2026-01-03T00:00Z,2\n');
    let r = run('--watcher', '--days', '2', '--seeds', '1', '--calendar', cal, '--out', join(dir, 'x'));
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`${cal}:2: column zone: expected one of the zones north, south, centre, east, got "west"`);
    // the policy file is checked in process (the exit code comes from the error's code)
    const pol = join(dir, 'bad.json');
    writeFileSync(pol, JSON.stringify({ market: { watcher: { reference: -1 } } }));
    let err: unknown;
    try {
      runSimulateWatcher({ out: join(dir, 'x'), days: '2', policy: pol });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RepricerError);
    expect((err as RepricerError).exitCode).toBe(2);
    expect((err as RepricerError).message).toBe(`${pol}: market.watcher.reference: must be > 0`);
    r = run('--watcher', '--methods', 'sgd', '--out', join(dir, 'x'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--methods is not an option of simulate marketplace --watcher');
    r = run('--calendar', cal, '--level-check', '2', '--out', join(dir, 'x'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--calendar needs --watcher');
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});
