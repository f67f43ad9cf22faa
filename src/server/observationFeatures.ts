/**
 * The feature schema observations are checked against when they are appended, so that a fit can
 * always read what was accepted: the active model's feature names; with no model active, the
 * feature names of the oldest stored observation; with none stored either, those of the batch's
 * first row. Every row must carry each of these names as a number; other names are kept (a later
 * fit may ask for them with `features`). A batch with any row short of a name is refused whole:
 * 422 FEATURES_MISMATCH naming each row and field, what was expected and what came, and the
 * given name that looks like the missing one, if any ("Age" for "age").
 */
import { RepricerError } from '../core/errors.js';
import { lookalike } from '../core/columnNames.js';
import type { ObservationInput } from './observationBatches.js';

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
