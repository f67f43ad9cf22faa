/**
 * The retail simulator's optimizers price through the engine itself (src/pricing/engine.ts,
 * priceChunk), so `repricer simulate retail`, `repricer reprice` and `POST /v1/quote` give the same
 * number for the same row: the season's SKU is one catalogue row (cost, current_price = yesterday's
 * price, elasticity, return rate and cost, inventory and its target) under the policy file the
 * simulator's guardrails and skew amount to. Constant-elasticity rows do not use the model's
 * coefficients, so the engine is given a model with no features (docs/math.md §4.5).
 */
import type { WasmCore } from '../core/wasm.js';
import { MODEL_FORMAT, type Model } from '../model/format.js';
import { compileModel, type CompiledModel } from '../pricing/compiledModel.js';
import { priceChunk } from '../pricing/engine.js';
import { validatePolicy, STATUS_CODE, reasonString, type Policy } from '../pricing/policy.js';
import type { InventoryParams } from '../pricing/inventorySkew.js';
import { RepricerError } from '../core/errors.js';
import type { RetailEnvConfig } from './retailEnv.js';

/** A model with no features: constant-elasticity rows are priced from their own columns. */
const NO_FEATURES: Model = {
  format: MODEL_FORMAT,
  createdAt: '2026-01-01T00:00:00.000Z',
  features: [],
  intercept: true,
  noise: { family: 'gaussian', scale: 1 },
  reservation: 0,
  radius: 1,
  strategy: 'pooled',
  common: { theta: [0], n: 0, stdErr: [0] },
  products: {},
  fit: { logLikelihood: 0, iterations: 0, converged: true, lambda: { c: 0 }, source: 'the retail simulator (no features: constant-elasticity rows only)' },
};

let compiled: CompiledModel | undefined;

/** The guardrails and skew of a simulated optimizer as the policy file the engine reads. */
export function retailPolicy(env: RetailEnvConfig, g: { floorOverCost: number; maxStepPct: number; ceiling: number }, skew?: InventoryParams): Policy {
  const r = env.returns;
  return validatePolicy({
    minMarginOverCost: g.floorOverCost,
    maxChangePct: g.maxStepPct,
    bounds: { max: g.ceiling },
    ...(r.kind === 'logistic' ? { returns: { rMin: r.r_min, rMax: r.r_max, slope: r.k, midpoint: r.p_mid, cost: env.return_cost } } : {}),
    ...(skew ? { inventory: { ...skew } } : {}),
  }, 'the retail simulator');
}

/** One day's row: the SKU's settings, yesterday's price, and its stock against the target. */
export interface RetailRow {
  lastPrice: number;
  stock?: number;
  targetStock?: number;
}

/**
 * The engine's published price of the season's SKU for one day. A row the engine rejects (it
 * cannot happen for settings checkRetailEnv accepts) is an internal error naming the reason.
 */
export function enginePrice(core: WasmCore, env: RetailEnvConfig, policy: Policy, row: RetailRow): number {
  compiled ??= compileModel(NO_FEATURES);
  const f = (v: number) => Float64Array.of(v);
  const r = env.returns;
  const skew = row.stock !== undefined && row.targetStock !== undefined;
  const out = priceChunk(core, compiled, policy, {
    n: 1,
    ids: ['season-sku'],
    x: f(1),
    cost: f(env.unit_cost),
    currentPrice: f(row.lastPrice),
    minPrice: f(NaN),
    maxPrice: f(NaN),
    retail: {
      elasticity: f(env.elasticity),
      returnRate: f(r.kind === 'constant' ? r.rate : NaN),
      returnCost: f(env.return_cost),
      ...(skew ? { inventory: f(row.stock!), targetInventory: f(row.targetStock!) } : {}),
    },
  });
  if (out.status[0] === STATUS_CODE.rejected) throw new RepricerError('INTERNAL', `the retail simulator's row was rejected by the engine (${reasonString(out.reasons[0])})`);
  return out.price[0];
}
