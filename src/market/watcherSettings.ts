/**
 * The watcher's settings: the `watcher` object inside the policy file's `market` object
 * (docs/formats.md "Watcher settings"; the math in docs/math.md §2.8). A JSON schema (Ajv) with
 * defaults for every field, so `{}` is the default watcher; `resolveWatcherSettings` validates a
 * parsed object and fills in the defaults. Errors are INVALID_ARGUMENT naming the field's path
 * (`market.watcher.reference`).
 */
import { Ajv } from 'ajv';
import { RepricerError } from '../core/errors.js';
import { describeSchemaError } from '../core/schemaErrors.js';

/** The five signals of the combined score, in the order of every evidence list. */
export const WATCHER_SIGNALS = ['bookingVelocity', 'searchAbandonment', 'inventoryPressure', 'competitorSignal', 'externalEvents'] as const;
export type WatcherSignal = (typeof WATCHER_SIGNALS)[number];

export interface WatcherSettings {
  /** weight of each signal in the combined score (≥ 0, not all 0) */
  weights: Record<WatcherSignal, number>;
  /** CUSUM reference k, in standard deviations of the combined score (> 0) */
  reference: number;
  /** designed in-control average run length, in periods (> 1): the false-alarm rate is 1/arl0 per period */
  arl0: number;
  /** periods of baseline learning after a start or a reset (≥ 2) */
  warmupPeriods: number;
  /** length of one observation period in minutes (> 0) */
  periodMinutes: number;
  /** the change of ln(multiplier) of the events calendar that counts as one standard deviation (> 0) */
  eventScale: number;
  /** how long before its start a calendar event enters the scheduled multiplier, in hours (≥ 0) */
  eventLeadHours: number;
}

/** The defaults: the signal weights of the marketplace design, k = 0.5, one false alarm per 30 days of hourly periods. */
export const DEFAULT_WATCHER_SETTINGS: WatcherSettings = {
  weights: { bookingVelocity: 0.3, searchAbandonment: 0.25, inventoryPressure: 0.2, competitorSignal: 0.15, externalEvents: 0.1 },
  reference: 0.5,
  arl0: 720,
  warmupPeriods: 48,
  periodMinutes: 60,
  eventScale: 0.05,
  eventLeadHours: 24,
};

const weight = { type: 'number', minimum: 0 } as const;

/** The schema of `market.watcher` (every field optional; unknown fields are errors). */
export const watcherSettingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    weights: {
      type: 'object',
      additionalProperties: false,
      properties: { bookingVelocity: weight, searchAbandonment: weight, inventoryPressure: weight, competitorSignal: weight, externalEvents: weight },
    },
    reference: { type: 'number', exclusiveMinimum: 0 },
    arl0: { type: 'number', exclusiveMinimum: 1 },
    warmupPeriods: { type: 'integer', minimum: 2 },
    periodMinutes: { type: 'number', exclusiveMinimum: 0 },
    eventScale: { type: 'number', exclusiveMinimum: 0 },
    eventLeadHours: { type: 'number', minimum: 0 },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile(watcherSettingsSchema);

/**
 * Validate a parsed `watcher` object (undefined: the defaults) and fill in the defaults.
 * `where` prefixes every field path in messages (the file name and `market.watcher`).
 */
export function resolveWatcherSettings(obj: unknown, where = 'market.watcher'): WatcherSettings {
  if (obj === undefined) return structuredClone(DEFAULT_WATCHER_SETTINGS);
  if (!validate(obj)) {
    const msgs = (validate.errors ?? []).map((e) => describeSchemaError(e, watcherSettingsSchema, 'watcher field'));
    throw new RepricerError('INVALID_ARGUMENT', `${msgs.map((m) => (m.startsWith('(root)') ? m.replace('(root)', where) : `${where}.${m}`)).join('; ')}`, { field: where });
  }
  const o = obj as Partial<Omit<WatcherSettings, 'weights'>> & { weights?: Partial<WatcherSettings['weights']> };
  const d = DEFAULT_WATCHER_SETTINGS;
  const s: WatcherSettings = {
    weights: { ...d.weights, ...(o.weights ?? {}) },
    reference: o.reference ?? d.reference,
    arl0: o.arl0 ?? d.arl0,
    warmupPeriods: o.warmupPeriods ?? d.warmupPeriods,
    periodMinutes: o.periodMinutes ?? d.periodMinutes,
    eventScale: o.eventScale ?? d.eventScale,
    eventLeadHours: o.eventLeadHours ?? d.eventLeadHours,
  };
  if (WATCHER_SIGNALS.every((k) => s.weights[k] === 0)) throw new RepricerError('INVALID_ARGUMENT', `${where}.weights: at least one weight must be > 0`, { field: `${where}.weights` });
  return s;
}
