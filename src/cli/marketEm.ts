/**
 * `repricer market em`: per zone of a periods file (docs/formats.md "Zone periods"), the demand
 * level λ behind bookings censored by availability, by EM (docs/math.md §2.7), with its standard
 * error, iterations and log-likelihood path on stdout; with `--weights`, the zone multiplier for
 * the next period too. `--out` gets every figure as `repricer.market-em/1` JSON, written atomically.
 */
import type { Command } from 'commander';
import { RepricerError } from '../core/errors.js';
import { checkOutputPath, writeFileAtomic } from '../core/atomic.js';
import { readPeriodsFile } from '../market/periodsFile.js';
import { validateMarketPolicy } from '../market/marketPolicy.js';
import { loadPolicy } from '../pricing/policy.js';
import type { ObjectiveWeights } from '../market/demandObjective.js';
import { emDocument, estimateZone, type ZoneEstimate, type ZoneEstimateOptions } from '../market/zoneEstimates.js';

export interface MarketEmOptions {
  periods: string;
  out?: string;
  elasticity?: string;
  referencePrice?: string;
  weights?: string;
  policy?: string;
  range?: string;
  tol?: string;
  maxIterations?: string;
}

function num(name: string, v: string, ok: (x: number) => boolean, expected: string): number {
  const x = Number(v);
  if (v.trim() === '' || !ok(x)) throw new RepricerError('INVALID_ARGUMENT', `--${name} must be ${expected}, got ${JSON.stringify(v)}`);
  return x;
}

function list(name: string, v: string, n: number, expected: string): number[] {
  const parts = v.split(',');
  if (parts.length !== n) throw new RepricerError('INVALID_ARGUMENT', `--${name} must be ${expected}, got ${JSON.stringify(v)}`);
  return parts.map((p) => num(name, p, (x) => Number.isFinite(x) && x >= 0, expected));
}

export function parseEmOptions(o: MarketEmOptions): ZoneEstimateOptions {
  const out: ZoneEstimateOptions = {};
  if (o.elasticity !== undefined) out.elasticity = num('elasticity', o.elasticity, Number.isFinite, 'a finite number');
  if (o.referencePrice !== undefined) out.referencePrice = num('reference-price', o.referencePrice, (x) => Number.isFinite(x) && x > 0, 'a finite number > 0');
  if (o.weights !== undefined && o.policy !== undefined) throw new RepricerError('INVALID_ARGUMENT', '--weights and --policy both set the weights: give one');
  if (o.policy !== undefined) out.weights = validateMarketPolicy(loadPolicy(o.policy).market, o.policy).weights;
  if (o.weights !== undefined) {
    const [revenue, utilisation, lostSales, volatility] = list('weights', o.weights, 4, 'four numbers >= 0: revenue,utilisation,lostSales,volatility');
    out.weights = { revenue, utilisation, lostSales, volatility } satisfies ObjectiveWeights;
  }
  if (o.range !== undefined) {
    const [lo, hi] = list('range', o.range, 2, 'two numbers lo,hi with 0 < lo <= hi');
    if (!(lo > 0 && hi >= lo)) throw new RepricerError('INVALID_ARGUMENT', `--range must be two numbers lo,hi with 0 < lo <= hi, got ${JSON.stringify(o.range)}`);
    out.range = [lo, hi];
  }
  if (o.tol !== undefined) out.tol = num('tol', o.tol, (x) => x > 0 && x < 1, 'a number in (0, 1)');
  if (o.maxIterations !== undefined) out.maxIterations = num('max-iterations', o.maxIterations, (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1');
  return out;
}

/** The log-likelihood path, shortened to its first four and last two values when longer than eight. */
export function pathText(p: number[]): string {
  const f = (x: number): string => x.toFixed(6);
  if (p.length <= 8) return p.map(f).join(' -> ');
  return `${p.slice(0, 4).map(f).join(' -> ')} -> ... -> ${p.slice(-2).map(f).join(' -> ')}`;
}

export function zoneLine(z: ZoneEstimate): string {
  const head = `zone ${z.zone}: `;
  const counts = `${z.soldOut} of ${z.periods} periods sold out, ${z.bookings} bookings`;
  if (z.status === 'unbounded') return `${head}no finite estimate: every period with units available sold out (${counts})`;
  if (z.status === 'no-data') return `${head}no estimate: no period had a unit available (${counts})`;
  if (z.status === 'no-demand') return `${head}lambda 0 (no booking in ${z.periods} periods; no standard error at the boundary)`;
  let s = `${head}lambda ${z.lambda!.toPrecision(8)} (SE ${z.stdErr!.toPrecision(4)}), ${z.iterations} iterations${z.converged ? '' : ' (not converged)'}, ${counts}, lost demand ${z.lostDemand!.toPrecision(6)}\n  log-likelihood ${pathText(z.logLikPath)}`;
  if (z.multiplier) s += `\n  multiplier ${z.multiplier.value.toPrecision(6)} -> price ${z.multiplier.price.toPrecision(8)} (expected utilisation ${z.multiplier.expectedUtilisation.toPrecision(4)}, lost demand ${z.multiplier.expectedLostDemand.toPrecision(4)})`;
  return s;
}

export function runMarketEm(o: MarketEmOptions): ZoneEstimate[] {
  const opts = parseEmOptions(o);
  if (o.out !== undefined) checkOutputPath(o.out, 'estimates');
  const zones = readPeriodsFile(o.periods).map((z) => estimateZone(z, opts));
  if (o.out !== undefined) writeFileAtomic(o.out, JSON.stringify(emDocument(zones, opts), null, 1) + '\n', 'estimates');
  return zones;
}

export function registerEm(market: Command): void {
  market
    .command('em')
    .description('demand behind bookings censored by availability, per zone, by EM (docs/math.md §2.7)')
    .requiredOption('--periods <file>', 'periods CSV: zone,period_start,price,bookings,available[,exposure] (docs/formats.md "Zone periods")')
    .option('--out <file>', 'write every estimate and log-likelihood path as JSON (repricer.market-em/1)')
    .option('--elasticity <e>', 'price elasticity of m(p) = (p/pRef)^(-e); 0 = no price response', '0')
    .option('--reference-price <p>', 'pRef for every zone (default: the geometric mean of the zone\'s prices)')
    .option('--weights <r,u,l,v>', 'revenue,utilisation,lostSales,volatility weights: also choose each zone\'s multiplier for the next period')
    .option('--policy <file>', 'policy file whose market.weights are the weights (instead of --weights)')
    .option('--range <lo,hi>', 'range of the zone multiplier', '0.5,2')
    .option('--tol <t>', 'stop when an EM step changes lambda by at most t relative', '1e-10')
    .option('--max-iterations <n>', 'at most n EM steps per zone', '100000')
    .action((o: MarketEmOptions) => {
      const zones = runMarketEm(o);
      process.stdout.write(zones.map(zoneLine).join('\n') + '\n' + (o.out !== undefined ? `-> ${o.out}\n` : ''));
    });
}
