/**
 * Pricing policies of the retail simulator (docs/retail.md, "Policies"). A policy is told the
 * environment's settings once per season (reset) and then names a price each morning from the
 * state alone (price), so a season is reproducible from its seed. New policies — a learning agent
 * that explores with the rng it is handed and learns across seasons — implement the same interface.
 *
 *   cost-plus       C·(1 + markup), a fixed list price (no guardrails: it is the shop's own rule)
 *   optimizer       repricer's return-aware optimum of Π (docs/math.md §4.3), then the guardrails
 *   optimizer-skew  the same optimum × the inventory skew (docs/math.md §3.4), then the guardrails
 *   dp-optimum      the dynamic programme's price for (day, stock) (./retailDp.ts), no guardrails
 *
 * The optimizers are given the true demand curve and return rate: the comparison measures the
 * pricing rule, not the learning of the curve.
 */
import type { WasmCore } from '../core/wasm.js';
import { returnAwareOptimum } from '../core/greeks.js';
import { checkInventoryParams, type InventoryParams } from '../pricing/inventorySkew.js';
import type { Rng } from './random.js';
import { expectedDemand, type RetailEnvConfig, type RetailState } from './retailEnv.js';
import { dpPrice, type RetailDpSolution } from './retailDp.js';
import { enginePrice, retailPolicy } from './retailEngine.js';
import type { Policy } from '../pricing/policy.js';

export interface RetailPolicy {
  readonly name: string;
  /** Start a season: the settings, and a random stream of the policy's own (for exploration). */
  reset(env: RetailEnvConfig, rng: Rng): void;
  /** Today's price (finite, > 0) from the state. */
  price(state: RetailState): number;
}

/** The guardrails of the optimizers (docs/math.md §4.4 without rounding). */
export interface RetailGuardrails {
  /** floor = unit_cost × this (1.1: a 10 % margin over cost) */
  floorOverCost: number;
  /** largest change from yesterday's price, in percent */
  maxStepPct: number;
  /** ceiling = p0 × this */
  ceilingOverP0: number;
}

export const DEFAULT_GUARDRAILS: RetailGuardrails = { floorOverCost: 1.1, maxStepPct: 10, ceilingOverP0: 10 };

/** [floor, ceiling] of the guardrails for an environment. */
export function priceBounds(env: RetailEnvConfig, g: RetailGuardrails): { lo: number; hi: number } {
  return { lo: env.unit_cost * g.floorOverCost, hi: env.p0 * g.ceilingOverP0 };
}


export class CostPlusPolicy implements RetailPolicy {
  readonly name = 'cost-plus';
  private p = NaN;
  constructor(readonly markup: number) {}
  reset(env: RetailEnvConfig): void {
    this.p = env.unit_cost * (1 + this.markup);
  }
  price(): number {
    return this.p;
  }
}

/**
 * P* = argmax Π(P) on [floor, ceiling] by the core's returnAwareOptimum (docs/math.md §4.3) for
 * constant-elasticity demand with A = Q0, B = P0 (the reference price), E = ε and the return curve.
 * Holding cost does not move it (H does not depend on P, §4.1). With no returns this is
 * ε/(1 + ε)·C (§4.3), 30 for the default settings.
 */
export function optimumPrice(core: WasmCore, env: RetailEnvConfig, lo: number, hi: number): number {
  const r = env.returns;
  const curve = r.kind === 'constant' ? { Rmin: r.rate, Rmax: r.rate, kR: 0, Pmid: 0 } : { Rmin: r.r_min, Rmax: r.r_max, kR: r.k, Pmid: r.p_mid };
  const out = returnAwareOptimum(core, { kind: 'constantElasticity' }, { C: env.unit_cost, Cret: env.return_cost, ...curve, A: env.q0, B: env.p0, E: env.elasticity }, lo, hi);
  return out.price[0];
}

export class OptimizerPolicy implements RetailPolicy {
  readonly name: string = 'optimizer';
  protected env: RetailEnvConfig | null = null;
  /** the guardrails (and skew) as the engine's policy: the price comes from priceChunk itself */
  protected policy: Policy = {};
  /** P*, fixed for the season (the demand curve does not change) */
  protected pStar = NaN;
  protected lo = NaN;
  protected hi = NaN;
  constructor(protected readonly core: WasmCore, protected readonly guardrails: RetailGuardrails = DEFAULT_GUARDRAILS) {}

  reset(env: RetailEnvConfig): void {
    this.env = env;
    ({ lo: this.lo, hi: this.hi } = priceBounds(env, this.guardrails));
    this.pStar = optimumPrice(this.core, env, this.lo, this.hi);
    this.policy = retailPolicy(env, { floorOverCost: this.guardrails.floorOverCost, maxStepPct: this.guardrails.maxStepPct, ceiling: this.hi });
  }

  /** The unconstrained optimum P* (before guardrails). */
  get optimum(): number {
    return this.pStar;
  }


  /** The engine's price for today's row (src/sim/retailEngine.ts): the same number reprice and the API give. */
  price(state: RetailState): number {
    return enginePrice(this.core, this.env!, this.policy, { lastPrice: state.lastPrice });
  }
}

/** The skew parameters of optimizer-skew; holdingCost is derived from the environment's holding_cost. */
export type RetailSkewSettings = Omit<InventoryParams, 'holdingCost'>;

/** γ = 10, σ = 0.05 a day, τ = 30 days: κ = γσ²τ = 0.75, near 1/|ε| = 0.67 (docs/math.md §3.4). */
export const DEFAULT_SKEW: RetailSkewSettings = { riskAversion: 10, volatility: 0.05, horizonDays: 30, maxFactor: 2 };

/**
 * P*·f(stock, target) with target = days left × D(P*): the stock that sells out evenly by the end
 * of the season at the unskewed optimum (docs/retail.md). The holding cost enters the skew
 * relative to P* (h = holding_cost / P*, the skew's holdingCost, docs/math.md §3.4).
 */
export class OptimizerSkewPolicy extends OptimizerPolicy {
  override readonly name = 'optimizer-skew';
  private params: InventoryParams | null = null;
  private dailySales = NaN;
  constructor(core: WasmCore, guardrails: RetailGuardrails = DEFAULT_GUARDRAILS, readonly skew: RetailSkewSettings = DEFAULT_SKEW) {
    super(core, guardrails);
  }

  override reset(env: RetailEnvConfig): void {
    super.reset(env);
    this.params = checkInventoryParams({ ...this.skew, holdingCost: env.holding_cost / this.pStar }, this.name);
    this.dailySales = expectedDemand(env, this.pStar);
    this.policy = retailPolicy(env, { floorOverCost: this.guardrails.floorOverCost, maxStepPct: this.guardrails.maxStepPct, ceiling: this.hi }, this.params);
  }

  /** The target stock on a day: days left × expected daily sales at P*. */
  targetStock(state: RetailState): number {
    return state.daysLeft * this.dailySales;
  }


  override price(state: RetailState): number {
    return enginePrice(this.core, this.env!, this.policy, { lastPrice: state.lastPrice, stock: state.stock, targetStock: this.targetStock(state) });
  }
}

export class DpPolicy implements RetailPolicy {
  readonly name = 'dp-optimum';
  constructor(private readonly solution: RetailDpSolution) {}
  reset(): void {}
  price(state: RetailState): number {
    return dpPrice(this.solution, state.day, state.stock);
  }
}
