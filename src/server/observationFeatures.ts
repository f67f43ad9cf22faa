/**
 * The feature schema observations are checked against when they are appended, so that a fit can
 * always read what was accepted: the active model's feature names; with no model active, the
 * feature names of the oldest stored observation; with none stored either, those of the batch's
 * first row. Every row must carry each of these names as a number; other names are kept (a later
 * fit may ask for them with `features`). A batch with any row short of a name is refused whole:
 * 422 FEATURES_MISMATCH naming each row and field, what was expected and what came, and the
 * given name that looks like the missing one, if any ("Age" for "age"). An uploaded file
 * (routes/observationUpload.ts) has one set of names for all its rows, its header: it is refused
 * whole when a column is missing, naming the column.
 */
import { RepricerError } from '../core/errors.js';
import { lookalike } from '../core/columnNames.js';
import type { ObservationInput } from './observationBatches.js';
import type { ModelRegistry } from './modelRegistry.js';
import type { Store } from './store.js';

export interface FeatureSchema {
  features: readonly string[];
  /** where the names come from, for messages: "the active model v3", "the stored observations" */
  source: string;
}

export interface FeatureProblem {
  path: string;
  message: string;
  row: number;
  field: string;
  expected: string;
  got: string;
  /** a given name that looks like the missing one ("Age" for "age") */
  lookalike?: string;
}

/** The problems of `rows` against `schema` (at most `max`), in row order. */
export function featureProblems(rows: readonly ObservationInput[], schema: FeatureSchema, max = 100): FeatureProblem[] {
  const out: FeatureProblem[] = [];
  for (let i = 0; i < rows.length && out.length < max; i++) {
    const given = rows[i].features;
    const names = Object.keys(given);
    for (const f of schema.features) {
      if (Object.hasOwn(given, f)) continue;
      const near = lookalike(f, names);
      const p: FeatureProblem = {
        path: `observations.${i}.features.${f}`,
        message: `is required by ${schema.source} (expected a number, got no such feature${near !== undefined ? `; "${near}" was given: rename it to "${f}"` : ''})`,
        row: i,
        field: f,
        expected: 'number',
        got: 'missing',
      };
      if (near !== undefined) p.lookalike = near;
      out.push(p);
      if (out.length >= max) break;
    }
  }
  return out;
}

/** Throws 422 FEATURES_MISMATCH when any row lacks a feature of `schema`. */
export function checkObservationFeatures(rows: readonly ObservationInput[], schema: FeatureSchema): void {
  const list = featureProblems(rows, schema);
  if (list.length === 0) return;
  const head = list.slice(0, 10).map((e) => `${e.path}: ${e.message}`).join('; ');
  throw new RepricerError('FEATURES_MISMATCH', `observations do not match the feature schema (${schema.features.join(', ')}): ${head}${list.length > 10 ? `; ... (${list.length}${list.length >= 100 ? '+' : ''} in all)` : ''}`, {
    features: [...schema.features],
    errors: list,
  });
}

/**
 * The schema a new batch is checked against: the active model's features; else the oldest stored
 * observation's; else `batchNames()`, the batch's own (its first row's, or an upload's columns).
 */
export function featureSchema(registry: ModelRegistry, store: Store, batchNames: () => string[], batch: string): FeatureSchema {
  const m = registry.active;
  if (m) return { features: m.compiled.features, source: `the active model ${m.version}` };
  const first = store.firstObservation();
  if (first) return { features: Object.keys(first.features), source: `the stored observations (no model is active; the names of observation ${first.id})` };
  return { features: batchNames(), source: `${batch} (no model is active and no observation is stored)` };
}

/**
 * Throws 422 FEATURES_MISMATCH when an uploaded file (named `name` in messages) lacks a column
 * of `schema`: its rows all share the header, so the problem is a column, reported against
 * line 1 (`upload:1: missing feature column "age" ...`).
 */
export function checkUploadColumns(name: string, columns: readonly string[], schema: FeatureSchema): void {
  const given = new Set(columns);
  const errors: Record<string, unknown>[] = [];
  for (const f of schema.features) {
    if (given.has(f)) continue;
    const near = lookalike(f, columns);
    const e: Record<string, unknown> = {
      path: `${name}:1`,
      line: 1,
      column: f,
      expected: 'a number column',
      got: 'no such column',
      message: `missing feature column ${JSON.stringify(f)}, required by ${schema.source}${near !== undefined ? ` ("${near}" was given: rename it to "${f}")` : ''}`,
    };
    if (near !== undefined) e.lookalike = near;
    errors.push(e);
  }
  if (errors.length === 0) return;
  const head = errors.slice(0, 10).map((e) => e.message).join('; ');
  throw new RepricerError('FEATURES_MISMATCH', `${name}:1: ${head}${errors.length > 10 ? `; ... (${errors.length} in all)` : ''} (feature columns: ${columns.join(',')})`, {
    file: name,
    line: 1,
    column: errors[0].column,
    features: [...schema.features],
    errors: errors.slice(0, 100),
  });
}
