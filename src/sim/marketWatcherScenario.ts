/**
 * The default scenario of `simulate marketplace --watcher` (docs/marketplace.md "Watcher"): four
 * zones of two assets; `north`'s demand rises by half a third of the way in, `south`'s falls by
 * 30 % at 58 %, `centre` has a calendar event (demand × 1.5 for three days) from 75 %, and `east`
 * is the pure-noise control. The hours scale with the number of days.
 */
import type { CalendarEvent } from '../market/eventsCalendar.js';
import { EventsCalendar } from '../market/eventsCalendar.js';
import type { WatcherSettings } from '../market/watcherSettings.js';
import { DEFAULT_WORLD, type WatcherWorldSpec } from './marketWatcherWorld.js';
import { WATCHER_SIM_START, type DemandShift, type WatcherSimConfig } from './marketWatcher.js';

export const DEFAULT_WATCHER_DAYS = 60;
export const DEFAULT_WATCHER_SEEDS = 10;
export const DEFAULT_SCHEDULE_HOURS = 24;
export const COMPETITOR_LAG_HOURS = 12;
export const COMPETITOR_NOISE = 0.05;
export const MIN_ESTIMATE_WINDOW = 12;
export const LEVEL_CHECK_Z = 3;

const HOUR = 3600_000;

export function defaultShifts(days: number): DemandShift[] {
  const H = days * 24;
  return [
    { zone: 'north', hour: Math.max(1, Math.round(H / 3) + 7), factor: 1.5 },
    { zone: 'south', hour: Math.max(1, Math.round(0.58 * H)), factor: 0.7 },
  ];
}

/** The default calendar: one event in `centre`, × 1.5 for three days (or a tenth of the run) from 75 % of the run. */
export function defaultCalendarEvents(days: number): CalendarEvent[] {
  const H = days * 24;
  const start = WATCHER_SIM_START + Math.round(0.75 * H) * HOUR;
  const len = Math.max(1, Math.min(72, Math.round(H / 10)));
  return [{ zone: 'centre', start, end: start + len * HOUR, multiplier: 1.5, name: 'festival', line: 0 }];
}

export interface WatcherScenarioOptions {
  days?: number;
  seeds?: number;
  every?: number;
  settings: WatcherSettings;
  /** calendar events (default: the scenario's festival) */
  events?: CalendarEvent[];
  world?: WatcherWorldSpec;
  minWindow?: number;
  levelZ?: number;
}

export function watcherScenario(o: WatcherScenarioOptions): WatcherSimConfig {
  const days = o.days ?? DEFAULT_WATCHER_DAYS;
  const world = o.world ?? DEFAULT_WORLD;
  return {
    world,
    settings: o.settings,
    calendar: new EventsCalendar(o.events ?? defaultCalendarEvents(days), o.settings.eventLeadHours * HOUR),
    shifts: defaultShifts(days),
    days,
    seeds: o.seeds ?? DEFAULT_WATCHER_SEEDS,
    every: o.every ?? DEFAULT_SCHEDULE_HOURS,
    competitorLag: COMPETITOR_LAG_HOURS,
    competitorNoise: COMPETITOR_NOISE,
    minWindow: o.minWindow ?? MIN_ESTIMATE_WINDOW,
    levelZ: o.levelZ ?? LEVEL_CHECK_Z,
  };
}
