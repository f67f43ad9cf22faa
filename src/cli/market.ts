/**
 * `repricer market solve`: the market-clearing prices of a market file (docs/formats.md "Market
 * file", docs/math.md §2) by one of the solvers of src/market/solvers.ts, written atomically as
 * CSV (product_id, price, supply, demand, excess); the KKT residual goes to stdout.
 * `repricer market fit`: the booking model of a market event log (docs/math.md §2.6), written
 * atomically as a `repricer.market-model/1` file (docs/formats.md "Market model file").
 * `repricer market price`: item prices inside zone bounds (src/cli/marketPrice.ts).
 */
import { int, oneOf } from './optionValues.js';
import type { Command } from 'commander';
import { RepricerError } from '../core/errors.js';
import { checkOutputPath, writeFileAtomic } from '../core/atomic.js';
import { loadMarketFile } from '../market/marketFile.js';
import { MarketPotential } from '../market/potential.js';
import { readEventLog, type EventLogFormat } from '../market/eventLog.js';
import { fitBookingModel } from '../market/bookingFit.js';
import { writeMarketModel, type MarketModel } from '../market/bookingModel.js';
import { parseSegmentDimensions } from '../market/segments.js';
import { runMarketPrice, type MarketPriceOptions } from './marketPrice.js';
import { registerEm } from './marketEm.js';
import { DEFAULT_STEPS, MARKET_METHODS, MARKET_ORACLES, solveMarket, type MarketMethod, type MarketOracle, type SolveResult } from '../market/solvers.js';

export interface MarketSolveOptions {
  market: string;
  method: string;
  steps?: string;
  seed?: string;
  oracle?: string;
  out: string;
}

/** The output CSV: one row per product in file order; numbers as shortest round-trip decimals. */
export function marketCsv(ids: readonly string[], r: SolveResult): string {
  const quote = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = ['product_id,price,supply,demand,excess'];
  ids.forEach((id, i) => lines.push(`${quote(id)},${r.prices[i]},${r.supply[i]},${r.demand[i]},${r.excess[i]}`));
  return lines.join('\n') + '\n';
}

export function runMarketSolve(o: MarketSolveOptions): { result: SolveResult; ids: string[] } {
  const method: MarketMethod = oneOf('method', o.method, MARKET_METHODS);
  const oracle: MarketOracle = oneOf('oracle', o.oracle ?? 'probabilities', MARKET_ORACLES);
  const steps = int('steps', o.steps, 1);
  const seed = int('seed', o.seed, 0);
  checkOutputPath(o.out, 'prices');
  const { market, productIds } = loadMarketFile(o.market);
  const pot = new MarketPotential(market);
  try {
    const result = solveMarket(pot, { method, oracle, ...(steps !== undefined ? { steps } : {}), ...(seed !== undefined ? { seed } : {}) });
    writeFileAtomic(o.out, marketCsv(productIds, result), 'prices');
    return { result, ids: productIds };
  } finally {
    pot.dispose();
  }
}

export interface MarketFitOptions {
  events: string;
  out: string;
  segments?: string;
  format?: string;
}

export function runMarketFit(o: MarketFitOptions): MarketModel {
  const dims = parseSegmentDimensions(o.segments ?? 'zone,asset,time');
  const format = o.format === undefined ? undefined : oneOf<EventLogFormat>('format', o.format, ['csv', 'ndjson']);
  checkOutputPath(o.out, 'market model');
  const log = readEventLog(o.events, format);
  const model = fitBookingModel(log, dims);
  writeMarketModel(o.out, model);
  return model;
}

export function register(program: Command): void {
  const market = program.command('market').description('the marketplace: clearing prices under nested-logit demand, booking curves of segments, item prices inside zone bounds, censored demand by EM (docs/math.md §2)');
  market
    .command('solve')
    .description('clearing prices of a market file: supply meets expected demand at every positive price')
    .requiredOption('--market <file>', 'market file (JSON, docs/formats.md "Market file")')
    .requiredOption('--method <method>', MARKET_METHODS.join(' | '))
    .requiredOption('--out <file>', 'output CSV: product_id,price,supply,demand,excess')
    .option('--steps <N>', `iterations (default ${Object.entries(DEFAULT_STEPS).map(([m, s]) => `${m} ${s}`).join(', ')}; gradient and accelerated stop earlier at a KKT residual of 1e-9)`)
    .option('--seed <S>', 'seed of the stochastic methods', '1')
    .option('--oracle <kind>', `stochastic oracle: ${MARKET_ORACLES.join(' | ')}`, 'probabilities')
    .action((o: MarketSolveOptions) => {
      const { result } = runMarketSolve(o);
      process.stdout.write(`kkt residual ${result.residual} (${result.method}, ${result.steps} steps, potential ${result.value}) -> ${o.out}\n`);
    });
  market
    .command('fit')
    .description('booking model of a market event log: P(book | shown price) per segment, shrunk toward a pooled curve (docs/math.md §2.6)')
    .requiredOption('--events <file>', 'market event log, CSV or NDJSON (docs/formats.md "Market event log")')
    .requiredOption('--out <file>', 'output market model (JSON, repricer.market-model/1)')
    .option('--segments <dims>', 'the dimensions a segment separates: some of zone,asset,time', 'zone,asset,time')
    .option('--format <fmt>', 'csv | ndjson (default: by the file extension, .ndjson/.jsonl or CSV)')
    .action((o: MarketFitOptions) => {
      const m = runMarketFit(o);
      const segs = Object.keys(m.segments).length;
      process.stdout.write(`booking model: ${segs} segment${segs === 1 ? '' : 's'} by ${m.segmentBy.join(',')}, ${m.fit.trials} trials, ${m.fit.bookings} bookings, lambda ${m.fit.lambda} (best held-out ${m.fit.bestLambda}); pooled a ${m.pooled.a} b ${m.pooled.b} -> ${o.out}\n`);
    });
  market
    .command('price')
    .description('item prices inside zone bounds: the weighted objective of docs/math.md §2.6 on each item\'s booking curve')
    .requiredOption('--market <file>', 'market file (JSON, docs/formats.md "Market file"): the zones and assets')
    .requiredOption('--prices <file>', 'zone-level prices: the CSV of repricer market solve (product_id, price)')
    .requiredOption('--model <file>', 'market model (repricer.market-model/1) from repricer market fit')
    .requiredOption('--items <file>', 'items CSV: item_id, zone, asset, time, previous_price (optional)')
    .requiredOption('--out <file>', 'output CSV: item_id,zone,asset,segment,price,lower,upper,booking_probability,objective')
    .option('--policy <file>', 'policy file whose market object sets the weights and the zone band (default: revenue only, band 0.2)')
    .action((o: MarketPriceOptions) => {
      const items = runMarketPrice(o);
      const pooled = items.filter((r) => r.pooled).length;
      process.stdout.write(`priced ${items.length} item${items.length === 1 ? '' : 's'} (${pooled} on the pooled curve: segment not in the model) -> ${o.out}\n`);
    });
  registerEm(market);
}
