/**
 * The retail environment of `repricer simulate retail` (docs/retail.md): one SKU sold over a
 * season of `days` days from a fixed stock, one price a day.
 *
 * Day t, price P, stock S (whole units) at the start of the day:
 *   expected demand   D(P) = q0·(P/p0)^ε                      (constant elasticity, docs/math.md §4.1)
 *   realised demand   d = round(D(P)·max(0, 1 + noise_sd·z)),  z ~ N(0, 1)   (whole units, ≥ 0)
 *   sold              n = min(S, d)                            (demand above stock is lost)
 *   returned          r = R(P)·n                               (expected returns, a fraction of a unit)
 *   revenue           P·(n − r)                                (returned units are refunded)
 *   cost of goods     C·n          return cost  C_ret·r        holding  h·(S − n)
 *   write-off         (C − salvage_value)·(stock left), on the last day only
 *   profit            revenue − cost of goods − return cost − holding − write-off
 *
 * which is Π(P) = Q(P)·M(P) − H of docs/math.md §4.1 in expectation (returned units are written
 * off, as there). The cost of goods is charged per unit sold; stock left at the end of the season is
 * worth salvage_value a unit, so it costs the difference to its unit cost. The default salvage
 * value is the unit cost (unsold stock stays inventory at cost, the accounting view); 0 makes the
 * whole purchase a sunk cost (a seasonal item nobody buys afterwards). One z is drawn per day
 * whatever the policy, so every policy of an episode meets the same demand shocks (common random
 * numbers).
 */
import { readFileSync } from 'node:fs';
import { RepricerError, readFailure } from '../core/errors.js';
import type { Rng } from './random.js';

/** Return rate: constant, or the logistic curve R(P) of docs/math.md §4.1. */
export type ReturnCurve =
  | { kind: 'constant'; rate: number }
  | { kind: 'logistic'; r_min: number; r_max: number; k: number; p_mid: number };

/** The settings of a retail episode (the --env file's fields; snake_case as in the file). */
export interface RetailEnvConfig {
  /** Q0: expected units a day at the reference price p0 */
  q0: number;
  /** P0: the reference price */
  p0: number;
  /** ε < 0: price elasticity of demand */
  elasticity: number;
  /** standard deviation of the multiplicative demand noise N(1, noise_sd) */
  noise_sd: number;
  /** C: unit cost */
  unit_cost: number;
  /** yesterday's price when the season opens (the first step guardrail is measured from it) */
  start_price: number;
  /** whole units on hand at the start */
  initial_stock: number;
  /** season length in days */
  days: number;
  returns: ReturnCurve;
  /** C_ret: cost of handling a returned unit (on top of the refund and the written-off unit) */
  return_cost: number;
  /** h: holding cost per unit left at the end of a day */
  holding_cost: number;
  /** value of a unit left at the end of the season; null: the unit cost (see salvageValue) */
  salvage_value: number | null;
}

/**
 * The defaults: a reinforcement-learning pricing system's settings for a retail SKU (Q0 = 100 a
 * day at P0 = 20, ε = −1.5, cost 10, start price 20, 1 000 units, 30 days, noise ×N(1, 0.1)).
 * Returns and holding are this project's choice (those settings give none): 5 % returns with a
 * handling cost of 1, and 0.005 a unit a day (≈ 18 % a year of the unit cost).
 */
export const DEFAULT_RETAIL_ENV: RetailEnvConfig = {
  q0: 100,
  p0: 20,
  elasticity: -1.5,
  noise_sd: 0.1,
  unit_cost: 10,
  start_price: 20,
  initial_stock: 1000,
  days: 30,
  returns: { kind: 'constant', rate: 0.05 },
  return_cost: 1,
  holding_cost: 0.005,
  salvage_value: null,
};

const FIELDS = Object.keys(DEFAULT_RETAIL_ENV) as (keyof RetailEnvConfig)[];

type Rule = [ok: (v: number) => boolean, expected: string];
const RULES: Record<Exclude<keyof RetailEnvConfig, 'returns'>, Rule> = {
  q0: [(v) => v >= 0, 'a finite number >= 0'],
  p0: [(v) => v > 0, 'a finite number > 0'],
  elasticity: [(v) => v < 0, 'a finite number < 0'],
  noise_sd: [(v) => v >= 0, 'a finite number >= 0'],
  unit_cost: [(v) => v > 0, 'a finite number > 0'],
  start_price: [(v) => v > 0, 'a finite number > 0'],
  initial_stock: [(v) => Number.isSafeInteger(v) && v >= 0, 'a whole number of units >= 0'],
  days: [(v) => Number.isInteger(v) && v >= 1 && v <= 100000, 'an integer in [1, 100000]'],
  return_cost: [(v) => v >= 0, 'a finite number >= 0'],
  holding_cost: [(v) => v >= 0, 'a finite number >= 0'],
  salvage_value: [(v) => v >= 0, 'a finite number >= 0 or null (the unit cost)'],
};

function fail(where: string, msg: string): never {
  throw new RepricerError('INVALID_ARGUMENT', `${where}: ${msg}`);
}

function checkReturns(where: string, v: unknown): ReturnCurve {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(where, `returns must be an object {kind: "constant", rate} or {kind: "logistic", r_min, r_max, k, p_mid}, got ${JSON.stringify(v)}`);
  const o = v as Record<string, unknown>;
  const rate = (k: string, ok: (x: number) => boolean, expected: string): number => {
    const x = o[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) fail(where, `returns.${k} must be ${expected}, got ${JSON.stringify(x)}`);
    return x as number;
  };
  const only = (keys: string[]) => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) fail(where, `returns.${k}: unknown field for kind ${JSON.stringify(o.kind)} (expected ${keys.join(', ')})`);
  };
  const unit = (x: number) => x >= 0 && x < 1;
  if (o.kind === 'constant') {
    only(['kind', 'rate']);
    return { kind: 'constant', rate: rate('rate', unit, 'a number in [0, 1)') };
  }
  if (o.kind === 'logistic') {
    only(['kind', 'r_min', 'r_max', 'k', 'p_mid']);
    const c = { kind: 'logistic' as const, r_min: rate('r_min', unit, 'a number in [0, 1)'), r_max: rate('r_max', unit, 'a number in [0, 1)'), k: rate('k', () => true, 'a finite number'), p_mid: rate('p_mid', () => true, 'a finite number') };
    if (c.r_min > c.r_max) fail(where, `returns.r_min (${c.r_min}) must be <= returns.r_max (${c.r_max})`);
    return c;
  }
  return fail(where, `returns.kind must be "constant" or "logistic", got ${JSON.stringify(o.kind)}`);
}

/**
 * Validate a (partial) environment over the defaults: every field optional, unknown fields refused,
 * each error names the field and what was expected (RepricerError INVALID_ARGUMENT).
 */
export function checkRetailEnv(obj: unknown, where = 'retail environment', base: RetailEnvConfig = DEFAULT_RETAIL_ENV): RetailEnvConfig {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) fail(where, `the environment must be a JSON object, got ${JSON.stringify(obj)}`);
  const o = obj as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(FIELDS as string[]).includes(k)) fail(where, `unknown field ${JSON.stringify(k)} (expected ${FIELDS.join(', ')})`);
  const env: RetailEnvConfig = { ...base, returns: { ...base.returns } };
  for (const [k, [ok, expected]] of Object.entries(RULES) as [keyof typeof RULES, Rule][]) {
    const v = o[k];
    if (v === undefined || (v === null && k === 'salvage_value')) {
      if (v === null) env.salvage_value = null;
      continue;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) fail(where, `${k} must be ${expected}, got ${JSON.stringify(v)}`);
    env[k] = v as number;
  }
  if (o.returns !== undefined) env.returns = checkReturns(where, o.returns);
  return env;
}

/** Read and validate an --env file (NOT_FOUND, INPUT_UNREADABLE for bad JSON, INVALID_ARGUMENT naming the field). */
export function loadRetailEnv(file: string): RetailEnvConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw readFailure(file, 'environment', err);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new RepricerError('INPUT_UNREADABLE', `${file}: not valid JSON (${(err as Error).message})`);
  }
  return checkRetailEnv(obj, file);
}

/** The value of a unit left at the end: salvage_value, or the unit cost when it is null. */
export function salvageValue(env: RetailEnvConfig): number {
  return env.salvage_value ?? env.unit_cost;
}

/** D(P) = Q0·(P/P0)^ε, expected units a day (docs/math.md §4.1). */
export function expectedDemand(env: RetailEnvConfig, price: number): number {
  return env.q0 * Math.pow(price / env.p0, env.elasticity);
}

/** R(P) (docs/math.md §4.1): constant, or R_min + (R_max − R_min)·σ_L(k·(P − P_mid)). */
export function returnRate(env: RetailEnvConfig, price: number): number {
  const r = env.returns;
  if (r.kind === 'constant') return r.rate;
  return r.r_min + (r.r_max - r.r_min) / (1 + Math.exp(-r.k * (price - r.p_mid)));
}

/**
 * Profit per unit sold at price P, M(P) = P·(1 − R) − C − C_ret·R (docs/math.md §4.1 with the
 * cost of the unit taken out of the bracket: a returned unit is refunded and written off).
 */
export function unitMargin(env: RetailEnvConfig, price: number): number {
  const R = returnRate(env, price);
  return price * (1 - R) - env.unit_cost - env.return_cost * R;
}

/** What a policy sees at the start of a day. */
export interface RetailState {
  /** 0-based day of the season */
  day: number;
  /** days left including today (days − day) */
  daysLeft: number;
  /** whole units on hand */
  stock: number;
  initialStock: number;
  /** yesterday's price (start_price on day 0) */
  lastPrice: number;
  /** units sold yesterday (null on day 0); lost demand is not observed */
  lastSold: number | null;
}

/** The accounting of one day. */
export interface DayOutcome {
  price: number;
  /** realised demand in units (observable only up to the stock) */
  demand: number;
  sold: number;
  returned: number;
  revenue: number;
  costOfGoods: number;
  returnCost: number;
  holding: number;
  /** (C − salvage_value)·stock left, on the season's last day; 0 before */
  writeOff: number;
  profit: number;
  /** stock after the day */
  stock: number;
}

export class RetailEnv {
  readonly config: RetailEnvConfig;
  private rng: Rng | null = null;
  private s: RetailState;

  constructor(config: RetailEnvConfig) {
    this.config = config;
    this.s = this.initial();
  }

  private initial(): RetailState {
    const c = this.config;
    return { day: 0, daysLeft: c.days, stock: c.initial_stock, initialStock: c.initial_stock, lastPrice: c.start_price, lastSold: null };
  }

  /** Start a season; `rng` draws the daily demand shocks. */
  reset(rng: Rng): RetailState {
    this.rng = rng;
    this.s = this.initial();
    return { ...this.s };
  }

  get state(): RetailState {
    return { ...this.s };
  }

  get done(): boolean {
    return this.s.daysLeft === 0;
  }

  /** Sell for one day at `price` (finite, > 0). */
  step(price: number): DayOutcome {
    if (this.rng === null) throw new Error('RetailEnv.step: call reset(rng) first');
    if (this.done) throw new Error('RetailEnv.step: the season is over');
    if (!(price > 0) || !Number.isFinite(price)) throw new RangeError(`RetailEnv.step: price must be finite and > 0, got ${price}`);
    const c = this.config;
    const z = this.rng.normal(); // drawn every day, so the shocks do not depend on the policy
    const demand = Math.round(expectedDemand(c, price) * Math.max(0, 1 + c.noise_sd * z));
    const stock = this.s.stock;
    const sold = Math.min(stock, demand);
    const returned = returnRate(c, price) * sold;
    const left = stock - sold;
    const revenue = price * (sold - returned);
    const costOfGoods = c.unit_cost * sold;
    const returnCost = c.return_cost * returned;
    const holding = c.holding_cost * left;
    const writeOff = this.s.daysLeft === 1 ? (c.unit_cost - salvageValue(c)) * left : 0;
    this.s = { day: this.s.day + 1, daysLeft: this.s.daysLeft - 1, stock: left, initialStock: c.initial_stock, lastPrice: price, lastSold: sold };
    return { price, demand, sold, returned, revenue, costOfGoods, returnCost, holding, writeOff, profit: revenue - costOfGoods - returnCost - holding - writeOff, stock: left };
  }
}
