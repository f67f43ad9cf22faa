/**
 * The `--random-market` option of `repricer simulate marketplace`: a list `field=value,...` naming
 * a random nested-logit market of src/market/randomMarket.ts (docs/math.md §2.4) by its sizes and
 * seed, so the experiment runs on markets larger than the default test market without a market
 * file. Fields left out keep randomMarket's defaults (10 products, 3 nests, 100 consumers,
 * 5 suppliers) and seed 1, so `seed=1` alone is the default test market.
 */
import { RepricerError } from '../core/errors.js';
import type { RandomMarketOptions } from './randomMarket.js';

export const RANDOM_MARKET_FIELDS = ['products', 'nests', 'consumers', 'suppliers', 'seed'] as const;
type Field = (typeof RANDOM_MARKET_FIELDS)[number];

/**
 * The largest consumers × products (the market's value table, 8 bytes an entry in WASM memory):
 * 10 million entries, 80 MB, a bound on what one command asks of a shared machine.
 */
export const MAX_RANDOM_MARKET_VALUES = 10_000_000;

export interface RandomMarketSpec {
  seed: number;
  options: Required<Pick<RandomMarketOptions, 'products' | 'nests' | 'consumers' | 'suppliers'>>;
}

const DEFAULTS: Record<Field, number> = { products: 10, nests: 3, consumers: 100, suppliers: 5, seed: 1 };

function fail(msg: string): never {
  throw new RepricerError('INVALID_ARGUMENT', `--random-market: ${msg}`);
}

/** `products=50,nests=5,consumers=2000,suppliers=20,seed=2` -> seed and sizes (INVALID_ARGUMENT naming the field). */
export function parseRandomMarketSpec(text: string): RandomMarketSpec {
  const v: Record<Field, number> = { ...DEFAULTS };
  const seen = new Set<string>();
  if (text.trim() === '') fail(`expected field=value pairs separated by commas (fields: ${RANDOM_MARKET_FIELDS.join(', ')}), got ""`);
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) fail(`expected field=value, got ${JSON.stringify(part)} (fields: ${RANDOM_MARKET_FIELDS.join(', ')})`);
    const name = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    if (!(RANDOM_MARKET_FIELDS as readonly string[]).includes(name)) fail(`unknown field ${JSON.stringify(name)} (fields: ${RANDOM_MARKET_FIELDS.join(', ')})`);
    if (seen.has(name)) fail(`field ${name} is given twice`);
    seen.add(name);
    const x = Number(raw);
    const min = name === 'seed' ? 0 : 1;
    const max = name === 'seed' ? 4294967295 : 1_000_000;
    if (raw === '' || !/^[0-9]+$/.test(raw) || !Number.isSafeInteger(x) || x < min || x > max) fail(`field ${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
    v[name as Field] = x;
  }
  if (v.nests > v.products) fail(`field nests must be at most products (${v.products}), got ${v.nests}`);
  if (v.consumers * v.products > MAX_RANDOM_MARKET_VALUES) fail(`fields consumers × products must be at most ${MAX_RANDOM_MARKET_VALUES}, got ${v.consumers} × ${v.products}`);
  return { seed: v.seed, options: { products: v.products, nests: v.nests, consumers: v.consumers, suppliers: v.suppliers } };
}

/** The market's description in summary.json and the plot's title. */
export function describeRandomMarket(s: RandomMarketSpec): string {
  const o = s.options;
  return `random market (randomMarket seed ${s.seed}: ${o.products} products, ${o.nests} nests, ${o.consumers} consumers, ${o.suppliers} suppliers)`;
}
