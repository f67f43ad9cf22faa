/**
 * The model file `repricer.model/1` (README "Files"): types, schema validation with field paths,
 * atomic save and exact round trip. Additions to the contract (documented in the README):
 * optional `cov` (row-major covariance of theta, length D*D) on `common` and on each product,
 * used for the delta-method price standard error (docs/math.md §5.3); strategy `bayes` with the
 * empirical-Bayes prior `prior` ({ theta: θ_0, cov: Σ_0 }, docs/math.md §5.3), required with that
 * strategy and allowed only with it. Files without these fields (every earlier model) load as before;
 * an older reader rejects a `bayes` model on its strategy instead of pricing it without the prior.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { entryDomainProblems, noiseDomainProblems, priorDomainProblems } from './modelDomain.js';
import { describeSchemaError } from '../core/schemaErrors.js';
import { writeFileAtomic } from '../core/atomic.js';
import { RepricerError, readFailure } from '../core/errors.js';
import type { NoiseFamily } from '../core/validate.js';

export const MODEL_FORMAT = 'repricer.model/1';

export interface ThetaEntry {
  theta: number[];
  n: number;
  stdErr?: number[];
  cov?: number[];
}

/** How the products' estimates were fitted (docs/math.md §1.8, §5.3). */
export type ModelStrategy = 'tsmt' | 'pooled' | 'individual' | 'bayes';
export const MODEL_STRATEGIES: readonly ModelStrategy[] = ['tsmt', 'pooled', 'individual', 'bayes'];

/** The prior of strategy `bayes`: mean θ_0 and covariance Σ_0 (row-major D×D). */
export interface PriorEntry {
  theta: number[];
  cov: number[];
}

export interface Model {
  format: typeof MODEL_FORMAT;
  createdAt: string;
  features: string[];
  intercept: boolean;
  noise: { family: NoiseFamily; scale: number; estimated?: boolean };
  reservation: number;
  radius: number;
  strategy: ModelStrategy;
  common: ThetaEntry;
  /** the empirical-Bayes prior N(θ_0, Σ_0) of strategy `bayes` (docs/math.md §5.3) */
  prior?: PriorEntry;
  products: Record<string, ThetaEntry>;
  fit: {
    logLikelihood: number;
    iterations: number;
    converged: boolean;
    lambda?: { c: number; [k: string]: unknown };
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

const finite = { type: 'number' } as const;
const thetaEntry = {
  type: 'object',
  required: ['theta', 'n'],
  properties: {
    theta: { type: 'array', items: finite, minItems: 1 },
    n: { type: 'integer', minimum: 0 },
    stdErr: { type: 'array', items: { type: 'number', minimum: 0 } },
    cov: { type: 'array', items: finite },
  },
} as const;

export const modelSchema = {
  type: 'object',
  required: ['format', 'createdAt', 'features', 'intercept', 'noise', 'reservation', 'radius', 'strategy', 'common', 'products', 'fit'],
  properties: {
    format: { const: MODEL_FORMAT },
    createdAt: { type: 'string', minLength: 1 },
    features: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
    intercept: { type: 'boolean' },
    noise: {
      type: 'object',
      required: ['family', 'scale'],
      properties: {
        family: { enum: ['gaussian', 'logistic'] },
        scale: { type: 'number', exclusiveMinimum: 0 },
        estimated: { type: 'boolean' },
      },
    },
    reservation: finite,
    radius: { type: 'number', exclusiveMinimum: 0 },
    strategy: { enum: ['tsmt', 'pooled', 'individual', 'bayes'] },
    common: thetaEntry,
    prior: {
      type: 'object',
      required: ['theta', 'cov'],
      properties: { theta: { type: 'array', items: finite, minItems: 1 }, cov: { type: 'array', items: finite } },
    },
    products: { type: 'object', additionalProperties: thetaEntry },
    fit: {
      type: 'object',
      required: ['logLikelihood', 'iterations', 'converged'],
      properties: {
        logLikelihood: finite,
        iterations: { type: 'integer', minimum: 0 },
        converged: { type: 'boolean' },
        lambda: { type: 'object', required: ['c'], properties: { c: { type: 'number', minimum: 0 } } },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateSchema = ajv.compile(modelSchema);

/** A model that cannot be used: MODEL_INVALID naming the file (when there is one) and the field. */
export function modelInvalid(message: string, file?: string): RepricerError {
  return new RepricerError('MODEL_INVALID', message, file ? { file } : undefined);
}

/** Validate a parsed model object; throws MODEL_INVALID listing every problem with its field path. */
export function validateModel(obj: unknown, file?: string): Model {
  const where = file ? `${file}: ` : '';
  if (!validateSchema(obj)) {
    const msgs = (validateSchema.errors ?? []).map((e) => describeSchemaError(e, modelSchema));
    throw modelInvalid(`${where}invalid model: ${msgs.join('; ')}`, file);
  }
  const m = obj as unknown as Model;
  const D = m.features.length + (m.intercept ? 1 : 0);
  const check = (name: string, e: ThetaEntry) => {
    if (e.theta.length !== D) throw modelInvalid(`${where}invalid model: ${name}.theta: expected ${D} coefficients (intercept ${m.intercept}, ${m.features.length} features), got ${e.theta.length}`, file);
    if (e.stdErr && e.stdErr.length !== D) throw modelInvalid(`${where}invalid model: ${name}.stdErr: expected ${D} entries, got ${e.stdErr.length}`, file);
    if (e.cov && e.cov.length !== D * D) throw modelInvalid(`${where}invalid model: ${name}.cov: expected ${D * D} entries, got ${e.cov.length}`, file);
  };
  check('common', m.common);
  for (const [id, e] of Object.entries(m.products)) check(`products.${id}`, e);
  if ((m.strategy === 'bayes') !== (m.prior !== undefined)) {
    throw modelInvalid(`${where}invalid model: prior: ${m.strategy === 'bayes' ? 'strategy bayes needs the prior { theta, cov }' : `only strategy bayes carries a prior (strategy is ${m.strategy})`}`, file);
  }
  if (m.prior) {
    if (m.prior.theta.length !== D) throw modelInvalid(`${where}invalid model: prior.theta: expected ${D} coefficients, got ${m.prior.theta.length}`, file);
    if (m.prior.cov.length !== D * D) throw modelInvalid(`${where}invalid model: prior.cov: expected ${D * D} entries, got ${m.prior.cov.length}`, file);
  }
  // the numbers' domain (src/model/modelDomain.ts): at most ten problems, each with its field
  const problems = noiseDomainProblems(m.noise.scale, m.reservation, m.noise.estimated === true);
  problems.push(...entryDomainProblems('common', m.common, D));
  if (m.prior) problems.push(...priorDomainProblems(m.prior, D));
  for (const [id, e] of Object.entries(m.products)) {
    if (problems.length >= 10) break;
    problems.push(...entryDomainProblems(`products.${id}`, e, D));
  }
  if (problems.length) throw modelInvalid(`${where}invalid model: ${problems.slice(0, 10).join('; ')}`, file);
  return m;
}

export function parseModel(text: string, file?: string): Model {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw modelInvalid(`${file ? file + ': ' : ''}not valid JSON (${(err as Error).message})`, file);
  }
  return validateModel(obj, file);
}

const utf8 = new TextDecoder();

export function loadModel(file: string): Model {
  let text: string;
  try {
    // bytes then TextDecoder: the same string (invalid UTF-8 becomes U+FFFD either way), and on
    // Node 20 about twice as fast as readFileSync(file, 'utf8') for a 20 MB model
    text = utf8.decode(readFileSync(file));
  } catch (err) {
    throw readFailure(file, 'model', err);
  }
  return parseModel(text, file);
}

export function serializeModel(m: Model): string {
  return JSON.stringify(m, null, 2) + '\n';
}

/** Validate, then write via a temporary file and rename: a failed save leaves no partial file. */
export function saveModel(file: string, m: Model): void {
  validateModel(m);
  writeFileAtomic(file, serializeModel(m), 'model');
}

/** Number of coefficients D (intercept + features). */
export function modelDim(m: Model): number {
  return m.features.length + (m.intercept ? 1 : 0);
}
