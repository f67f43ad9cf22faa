/**
 * `repricer fit`: observations (CSV or Parquet) -> model JSON (docs/formats.md). Nothing is written
 * unless the whole fit succeeds (the model is saved through a temporary file and a rename).
 */
import type { Command } from 'commander';
import { RepricerError } from '../core/errors.js';
import { MODEL_STRATEGIES, saveModel, type ModelStrategy } from '../model/format.js';
import { checkOutputPath, removeStaleTemps } from '../core/atomic.js';
import { fitObservationsFile, type FitOptions } from '../model/fit.js';
import { SHRINKAGE_RULES, type ShrinkageRule } from '../model/shrinkageCv.js';
import type { NoiseFamily } from '../core/validate.js';
import type { ReadObservationsOptions } from '../model/observations.js';

export interface FitCommandOptions {
  observations: string;
  out: string;
  strategy?: string;
  noise?: string;
  scale?: string;
  estimateScale?: boolean;
  radius?: string;
  features?: string;
  lambdaC?: string;
  lambdaRule?: string;
  reservation?: string;
  intercept?: boolean;
  workers?: string;
  allowExtraColumns?: boolean;
}

function positive(name: string, v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x <= 0) throw new RepricerError('INVALID_ARGUMENT', `--${name} must be a number > 0, got ${JSON.stringify(v)}`);
  return x;
}

/** Turn CLI strings into FitOptions (throws INVALID_ARGUMENT naming the option). */
export function parseFitOptions(o: FitCommandOptions): FitOptions & ReadObservationsOptions {
  const out: FitOptions & ReadObservationsOptions = {};
  const strategy = o.strategy ?? 'tsmt';
  if (!MODEL_STRATEGIES.includes(strategy as ModelStrategy)) throw new RepricerError('INVALID_ARGUMENT', `--strategy must be one of ${MODEL_STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`);
  out.strategy = strategy as ModelStrategy;
  const family = o.noise ?? 'gaussian';
  if (family !== 'gaussian' && family !== 'logistic') throw new RepricerError('INVALID_ARGUMENT', `--noise must be gaussian or logistic, got ${JSON.stringify(family)}`);
  out.family = family as NoiseFamily;
  if (o.scale !== undefined && o.estimateScale) throw new RepricerError('INVALID_ARGUMENT', '--scale and --estimate-scale exclude each other');
  if (o.scale !== undefined) {
    out.scale = positive('scale', o.scale);
    out.estimateScale = false;
  } else out.estimateScale = true;
  if (o.radius !== undefined) out.radius = positive('radius', o.radius);
  if (o.lambdaC !== undefined) {
    const c = Number(o.lambdaC);
    if (o.lambdaC.trim() === '' || !Number.isFinite(c) || c < 0) throw new RepricerError('INVALID_ARGUMENT', `--lambda-c must be a number >= 0, got ${JSON.stringify(o.lambdaC)}`);
    out.lambdaC = c;
  }
  if (o.lambdaRule !== undefined) {
    if (!SHRINKAGE_RULES.includes(o.lambdaRule as ShrinkageRule)) throw new RepricerError('INVALID_ARGUMENT', `--lambda-rule must be one of ${SHRINKAGE_RULES.join(', ')}, got ${JSON.stringify(o.lambdaRule)}`);
    out.lambdaRule = o.lambdaRule as ShrinkageRule;
  }
  if (o.reservation !== undefined) {
    const c = Number(o.reservation);
    if (o.reservation.trim() === '' || !Number.isFinite(c)) throw new RepricerError('INVALID_ARGUMENT', `--reservation must be a number, got ${JSON.stringify(o.reservation)}`);
    out.reservation = c;
  }
  if (o.features !== undefined) {
    const f = o.features.split(',').map((s) => s.trim());
    if (f.some((s) => s === '')) throw new RepricerError('INVALID_ARGUMENT', `--features must be a comma-separated list of column names, got ${JSON.stringify(o.features)}`);
    out.features = f;
  }
  if (o.intercept === false) out.intercept = false;
  if (o.allowExtraColumns) out.allowExtraColumns = true;
  if (o.workers !== undefined) {
    const w = Number(o.workers);
    if (o.workers.trim() === '' || !Number.isInteger(w) || w < 1) throw new RepricerError('INVALID_ARGUMENT', `--workers must be an integer >= 1, got ${JSON.stringify(o.workers)}`);
    out.workers = w;
  }
  return out;
}

/**
 * The command's action, callable directly (tests). Returns a one-line summary, after a line for
 * each temporary model file of a killed run that was removed.
 */
export async function runFit(o: FitCommandOptions): Promise<string> {
  const opts = parseFitOptions(o);
  checkOutputPath(o.out); // before the fit, not after it
  // a run killed while saving (SIGKILL) leaves its temporary file beside the model
  const stale = removeStaleTemps(o.out).map((f) => `removed ${f}, a temporary file left by a run that was killed\n`);
  const model = await fitObservationsFile(o.observations, opts);
  saveModel(o.out, model); // through a temporary file, flushed to disk before the rename
  const nProducts = Object.keys(model.products).length;
  const lam = model.fit.lambda ? ` c_lambda=${model.fit.lambda.c}` : '';
  const pr = model.fit.prior as { method: string; products: number; minRows: number; clippedEigenvalues: number } | undefined;
  // the prior's provenance, so that a fallback (too few products with enough rows) shows
  const prior = pr ? `, prior ${pr.method} from ${pr.products} products with >= ${pr.minRows} rows (${pr.clippedEigenvalues} eigenvalues clipped)` : '';
  return `${stale.join('')}repricer fit: ${String(model.fit.rows)} rows, ${nProducts} products, strategy ${model.strategy}${lam}${prior}, noise ${model.noise.family} scale ${model.noise.scale.toPrecision(4)}${model.noise.estimated ? ' (estimated)' : ''}, radius ${model.radius.toPrecision(4)}, converged ${model.fit.converged} -> ${o.out}`;
}

export function register(program: Command): void {
  program
    .command('fit')
    .description('learn competitor-quote models from censored win/loss observations (TSMT, docs/math.md §1.8)')
    .requiredOption('--observations <file>', 'observations file (.csv or .parquet), docs/formats.md')
    .requiredOption('--out <file>', 'model file to write (repricer.model/1 JSON)')
    .option('--strategy <name>', 'tsmt | pooled | individual | bayes (empirical-Bayes MAP, docs/math.md §5.3)', 'tsmt')
    .option('--noise <family>', 'gaussian | logistic', 'gaussian')
    .option('--scale <sigma>', 'known noise scale (default: estimated jointly)')
    .option('--estimate-scale', 'estimate the noise scale (log sigma as an extra parameter); the default')
    .option('--radius <W>', 'radius of the parameter ball (default: 3*max(|theta_0|, sigma))')
    .option('--features <a,b,c>', 'feature columns (default: every column other than product_id, price, won, competitor_price, weight)')
    .option('--lambda-c <C>', 'stage-II constant c_lambda (default: chosen by 5-fold held-out log-likelihood, one-standard-error rule)')
    .option('--lambda-rule <rule>', `how the default choice of c_lambda reads the held-out scores: ${SHRINKAGE_RULES.join(' | ')} (default one-se)`)
    .option('--reservation <c>', 'payoff when we do not trade, stored as model.reservation', '0')
    .option('--no-intercept', 'do not add an intercept coefficient')
    .option('--workers <n>', 'worker threads for the fit (stage-I passes over row ranges, stage II across the pool)', '1')
    .option('--allow-extra-columns', 'with --features, ignore the other columns (default: an error); a look-alike of a known column stays an error')
    .action(async (o: FitCommandOptions) => {
      const msg = await runFit(o);
      process.stderr.write(msg + '\n');
    });
}
