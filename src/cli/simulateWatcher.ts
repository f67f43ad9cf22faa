/**
 * `repricer simulate marketplace --watcher` (docs/marketplace.md "Watcher"): evidence-based
 * repricing by the watcher against a fixed schedule and the clairvoyant prices on the simulated
 * marketplace of src/sim/marketWatcherWorld.ts; writes watcher.csv, reactions.csv, triggers.csv,
 * summary.json and watcher.svg into --out (atomically; the same options give byte-identical files).
 */
import { loadPolicy } from '../pricing/policy.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RepricerError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic.js';
import { loadEventsCalendar } from '../market/eventsCalendar.js';
import { resolveWatcherSettings, type WatcherSettings } from '../market/watcherSettings.js';
import { validateMarketPolicy } from '../market/marketPolicy.js';
import { runWatcherSim } from '../sim/marketWatcher.js';
import { DEFAULT_SCHEDULE_HOURS, DEFAULT_WATCHER_DAYS, DEFAULT_WATCHER_SEEDS, LEVEL_CHECK_Z, watcherScenario } from '../sim/marketWatcherScenario.js';
import { DEFAULT_WORLD } from '../sim/marketWatcherWorld.js';
import { reactionsCsv, triggersCsv, watcherCsv, watcherSummary, watcherSvg, type WatcherSimSummary } from '../sim/marketWatcherReport.js';

export interface SimulateWatcherOptions {
  out: string;
  seeds?: string;
  days?: string;
  every?: string;
  calendar?: string;
  policy?: string;
  levelCheck?: string;
}

function int(name: string, v: string | undefined, min: number, fallback: number): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (v.trim() === '' || !Number.isInteger(x) || x < min) throw new RepricerError('INVALID_ARGUMENT', `--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return x;
}

/**
 * The `watcher` object of a policy file's `market` object (the defaults when there is none). The
 * file is read and checked as every policy file is (pricing/policy.ts), and the whole `market`
 * object by the market layer (weights, zoneBand, watcher), not only the watcher's part.
 */
export function watcherSettingsFromPolicy(file: string): WatcherSettings {
  return validateMarketPolicy(loadPolicy(file).market, file).watcher ?? resolveWatcherSettings(undefined);
}

export function runSimulateWatcher(o: SimulateWatcherOptions): WatcherSimSummary {
  const settings = o.policy !== undefined ? watcherSettingsFromPolicy(o.policy) : resolveWatcherSettings(undefined);
  const days = int('days', o.days, 1, DEFAULT_WATCHER_DAYS);
  let events;
  if (o.calendar !== undefined) {
    const cal = loadEventsCalendar(o.calendar, settings.eventLeadHours * 3600_000);
    cal.checkZones(DEFAULT_WORLD.zones, o.calendar);
    events = [...cal.events];
  }
  let levelZ = LEVEL_CHECK_Z;
  if (o.levelCheck !== undefined) {
    levelZ = Number(o.levelCheck);
    if (o.levelCheck.trim() === '' || !Number.isFinite(levelZ) || levelZ < 0) throw new RepricerError('INVALID_ARGUMENT', `--level-check must be a number >= 0 (0: no check), got ${JSON.stringify(o.levelCheck)}`);
  }
  const cfg = watcherScenario({ days, seeds: int('seeds', o.seeds, 1, DEFAULT_WATCHER_SEEDS), every: int('every', o.every, 1, DEFAULT_SCHEDULE_HOURS), settings, events, levelZ });
  const res = runWatcherSim(cfg);
  const summary = watcherSummary(res);
  const title = `${DEFAULT_WORLD.zones.length} zones x ${DEFAULT_WORLD.assets.length} assets, ${days} days, ${cfg.seeds} seeds; watcher vs every ${cfg.every} h`;
  mkdirSync(o.out, { recursive: true });
  writeFileAtomic(join(o.out, 'watcher.csv'), watcherCsv(res), 'simulation results');
  writeFileAtomic(join(o.out, 'reactions.csv'), reactionsCsv(res), 'simulation results');
  writeFileAtomic(join(o.out, 'triggers.csv'), triggersCsv(res), 'simulation results');
  writeFileAtomic(join(o.out, 'watcher.svg'), watcherSvg(res, title), 'simulation results');
  writeFileAtomic(join(o.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n', 'simulation results');
  return summary;
}
