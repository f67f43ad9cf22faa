/**
 * The market file (docs/formats.md#market-file): a nested-logit market as JSON — the overall scale
 * `mu`, the nests with their scales, the products with their nest, the consumers' weights and
 * values and the suppliers' adjustment-cost weights, unit costs and capacities, arrays in the
 * order of `products`; `outside_option` optional. A product is one (zone, asset) pair of the
 * marketplace (docs/math.md §2.6): its zone is its nest, its asset its optional `asset` (default:
 * its id). Validated by a JSON schema (Ajv), then across
 * fields, then for the existence of clearing prices (`clearingProblem`); every error names the
 * field. A file that is not a valid market is INPUT_UNREADABLE.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describeSchemaError } from '../core/schemaErrors.js';
import { RepricerError, readFailure } from '../core/errors.js';
import { clearingProblem, type Market } from './potential.js';
import { ANY, assetIdProblem } from './segments.js';

export interface MarketFile {
  mu: number;
  nests: { id: string; mu: number }[];
  products: { id: string; nest: string; asset?: string }[];
  consumers: { weight?: number; values: number[] }[];
  suppliers: { beta: number; costs: number[]; capacity: number[] }[];
  outside_option?: boolean;
}

const numbers = { type: 'array', items: { type: 'number' } } as const;

export const marketSchema = {
  type: 'object',
  required: ['mu', 'nests', 'products', 'consumers', 'suppliers'],
  additionalProperties: false,
  properties: {
    mu: { type: 'number', exclusiveMinimum: 0 },
    nests: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['id', 'mu'], additionalProperties: false, properties: { id: { type: 'string', minLength: 1 }, mu: { type: 'number', exclusiveMinimum: 0 } } },
    },
    products: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['id', 'nest'],
        additionalProperties: false,
        properties: { id: { type: 'string', minLength: 1 }, nest: { type: 'string' }, asset: { type: 'string' } },
      },
    },
    consumers: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['values'], additionalProperties: false, properties: { weight: { type: 'number', exclusiveMinimum: 0 }, values: numbers } },
    },
    suppliers: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['beta', 'costs', 'capacity'],
        additionalProperties: false,
        properties: { beta: { type: 'number', exclusiveMinimum: 0 }, costs: numbers, capacity: { type: 'array', items: { type: 'number', minimum: 0 } } },
      },
    },
    outside_option: { type: 'boolean' },
  },
} as const;

const validate = new Ajv({ allErrors: true }).compile(marketSchema);

/** A parsed market file and its product ids (the order of every array). */
export interface LoadedMarket {
  market: Market;
  productIds: string[];
  /** per product: its zone, the id of its nest (docs/math.md §2.6) */
  zones: string[];
  /** per product: its asset type (the product's `asset`, by default its id); (zone, asset) pairs are unique */
  assets: string[];
}

/** Validate a parsed market file and lay it out as typed arrays. */
export function validateMarketFile(obj: unknown, file = 'market'): LoadedMarket {
  const fail = (msg: string): never => {
    throw new RepricerError('INPUT_UNREADABLE', `${file}: invalid market: ${msg}`, { file });
  };
  if (!validate(obj)) fail((validate.errors ?? []).map((e) => describeSchemaError(e, marketSchema, 'market field')).join('; '));
  const f = obj as MarketFile;
  const nestIndex = new Map<string, number>();
  f.nests.forEach((nest, l) => {
    if (nestIndex.has(nest.id)) fail(`nests.${l}.id: duplicate nest id ${JSON.stringify(nest.id)}`);
    if (nest.id === ANY) fail(`nests.${l}.id: "${ANY}" is not a zone id (it stands for any zone in a segment id)`);
    if (nest.mu > f.mu) fail(`nests.${l}.mu: must be <= mu (${f.mu}), got ${nest.mu}`);
    nestIndex.set(nest.id, l);
  });
  const n = f.products.length;
  const ids = new Set<string>();
  const nest = new Int32Array(n);
  const used = new Uint8Array(f.nests.length);
  const pairs = new Map<string, number>();
  f.products.forEach((prod, i) => {
    if (ids.has(prod.id)) fail(`products.${i}.id: duplicate product id ${JSON.stringify(prod.id)}`);
    ids.add(prod.id);
    const l = nestIndex.get(prod.nest);
    if (l === undefined) fail(`products.${i}.nest: no nest with id ${JSON.stringify(prod.nest)}`);
    nest[i] = l as number;
    used[l as number] = 1;
    const assetProblem = prod.asset === undefined ? undefined : assetIdProblem(prod.asset);
    if (assetProblem) fail(`products.${i}.asset: expected ${assetProblem}, got ${JSON.stringify(prod.asset)}`);
    const pair = `${prod.nest}\u0000${prod.asset ?? prod.id}`;
    if (pairs.has(pair)) fail(`products.${i}.asset: zone ${JSON.stringify(prod.nest)} already has asset ${JSON.stringify(prod.asset ?? prod.id)} (products.${pairs.get(pair)}); a (zone, asset) pair is one product`);
    pairs.set(pair, i);
  });
  used.forEach((u, l) => {
    if (!u) fail(`nests.${l}: nest ${JSON.stringify(f.nests[l].id)} holds no product`);
  });
  const rows = (field: string, list: number[][]): Float64Array => {
    const out = new Float64Array(list.length * n);
    list.forEach((r, j) => {
      if (r.length !== n) fail(`${field.replace('#', String(j))}: must hold ${n} values (one per product), got ${r.length}`);
      out.set(r, j * n);
    });
    return out;
  };
  const market: Market = {
    mu: f.mu,
    muNest: Float64Array.from(f.nests, (x) => x.mu),
    nest,
    weight: Float64Array.from(f.consumers, (c) => c.weight ?? 1),
    values: rows('consumers.#.values', f.consumers.map((c) => c.values)),
    beta: Float64Array.from(f.suppliers, (s) => s.beta),
    costs: rows('suppliers.#.costs', f.suppliers.map((s) => s.costs)),
    capacity: rows('suppliers.#.capacity', f.suppliers.map((s) => s.capacity)),
    outsideOption: f.outside_option ?? false,
  };
  const problem = clearingProblem(market);
  if (problem) fail(problem.product !== undefined ? `products.${problem.product}: ${JSON.stringify(f.products[problem.product].id)} ${problem.message}` : `suppliers.*.capacity: ${problem.message}`);
  return { market, productIds: f.products.map((p) => p.id), zones: f.products.map((p) => p.nest), assets: f.products.map((p) => p.asset ?? p.id) };
}

export function loadMarketFile(file: string): LoadedMarket {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw readFailure(file, 'market', err);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new RepricerError('INPUT_UNREADABLE', `${file}: not valid JSON (${(err as Error).message})`, { file });
  }
  return validateMarketFile(obj, file);
}

/** A market as a market file (the inverse of validateMarketFile, for writing test markets). */
export function toMarketFile(market: Market, productIds?: string[]): MarketFile {
  const n = market.nest.length;
  const ids = productIds ?? Array.from({ length: n }, (_, i) => `p${i + 1}`);
  const row = (a: Float64Array, r: number) => Array.from(a.subarray(r * n, r * n + n));
  return {
    mu: market.mu,
    nests: Array.from(market.muNest, (mu, l) => ({ id: `n${l + 1}`, mu })),
    products: ids.map((id, i) => ({ id, nest: `n${market.nest[i] + 1}` })),
    consumers: Array.from(market.weight, (weight, j) => ({ weight, values: row(market.values, j) })),
    suppliers: Array.from(market.beta, (beta, k) => ({ beta, costs: row(market.costs, k), capacity: row(market.capacity, k) })),
    ...(market.outsideOption ? { outside_option: true } : {}),
  };
}
