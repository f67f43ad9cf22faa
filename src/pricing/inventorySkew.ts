/**
 * Inventory skew: a multiplicative factor on a SKU's price that leans against its stock, after the
 * Avellaneda–Stoikov reservation price (docs/math.md §3.2, adapted to retail in §3.4).
 *
 *   q = (inventory − target) / target                 normalised inventory (§3.4)
 *   κ = τ·(γ·σ² + h)                                   skew per unit of q (§3.4)
 *   L = ln(maxFactor)                                 largest |log factor|
 *   factor = exp(−L·tanh(κ·q / L))                     ≈ exp(−κ·q) while |κ·q| ≪ L
 *
 * with γ = riskAversion, σ = volatility (relative, per day), τ = horizonDays and h = holdingCost
 * (per unit per day, as a fraction of the unit's price). The factor is exactly 1 at target (q = 0),
 * strictly decreasing in inventory when κ > 0, and lies in [1/maxFactor, maxFactor], so it is
 * positive and finite for every input. Missing values (NaN inventory or target, a negative or
 * infinite target) give exactly 1: no skew. target = 0 treats any positive stock as the largest
 * overstock (q = +∞), a negative one as the largest shortage, and 0 as on target.
 *
 * The engine's entry point is the columnar form, allocation-free, one pass:
 *
 *   inventorySkewFactors(inventory: Float64Array, target: Float64Array,
 *                        params: InventoryParams, out: Float64Array): void
 *
 * out[i] = inventorySkewFactor(inventory[i], target[i], params), bit for bit; the three arrays
 * must have one length (out may be one of the inputs). Validate params once with
 * checkInventoryParams (the policy file's `inventory` object) before calling either.
 */
import { RepricerError } from '../core/errors.js';

/** The policy file's `inventory` object, after checkInventoryParams filled the defaults. */
export interface InventoryParams {
  /** γ ≥ 0: risk aversion per unit of relative exposure (docs/math.md §3.4). */
  riskAversion: number;
  /** σ ≥ 0: relative price volatility per day (0.02 = 2 % a day). */
  volatility: number;
  /** τ > 0: the horizon in days over which the excess is carried. */
  horizonDays: number;
  /** h ≥ 0: holding cost per unit per day, as a fraction of the unit's price (0.001 = 0.1 %/day). */
  holdingCost: number;
  /** > 1: the factor stays in [1/maxFactor, maxFactor]; default 2. */
  maxFactor: number;
}

export const DEFAULT_MAX_FACTOR = 2;

const FIELDS = ['riskAversion', 'volatility', 'horizonDays', 'holdingCost', 'maxFactor'] as const;

/**
 * κ = τ·(γσ² + h), the slope of −log(factor) in q at target (docs/math.md §3.4): the
 * Avellaneda–Stoikov inventory term γσ²τ plus the marginal cost of carrying the excess, h·τ.
 */
export function inventorySkewSlope(p: InventoryParams): number {
  return p.horizonDays * (p.riskAversion * p.volatility * p.volatility + p.holdingCost);
}

/**
 * Validate the policy file's `inventory` object and fill the defaults (holdingCost 0,
 * maxFactor 2; riskAversion, volatility and horizonDays are required). Throws
 * RepricerError('INVALID_ARGUMENT') — the code the policy loader uses — naming `where`, the field
 * and what was expected.
 */
export function checkInventoryParams(obj: unknown, where = 'policy'): InventoryParams {
  const fail = (msg: string): never => {
    throw new RepricerError('INVALID_ARGUMENT', `${where}: invalid policy: inventory${msg}`, { field: 'inventory' });
  };
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) fail(` must be an object {riskAversion, volatility, horizonDays, holdingCost, maxFactor}, got ${JSON.stringify(obj)}`);
  const o = obj as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(FIELDS as readonly string[]).includes(k)) fail(`.${k}: unknown field (expected one of ${FIELDS.join(', ')})`);
  }
  const num = (k: (typeof FIELDS)[number], ok: (v: number) => boolean, expected: string, dflt?: number): number => {
    const v = o[k];
    if (v === undefined) {
      if (dflt === undefined) fail(`.${k} is required (${expected})`);
      return dflt as number;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) fail(`.${k} must be ${expected}, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const p: InventoryParams = {
    riskAversion: num('riskAversion', (v) => v >= 0, 'a finite number >= 0'),
    volatility: num('volatility', (v) => v >= 0, 'a finite number >= 0 (relative volatility per day)'),
    horizonDays: num('horizonDays', (v) => v > 0, 'a finite number > 0 (days)'),
    holdingCost: num('holdingCost', (v) => v >= 0, 'a finite number >= 0 (fraction of the price per unit per day)', 0),
    maxFactor: num('maxFactor', (v) => v > 1, 'a finite number > 1', DEFAULT_MAX_FACTOR),
  };
  // each field finite does not make κ finite (γ = 1e300, σ = 1e10): the factor would still be
  // bounded, but a slope of ∞ turns every q ≠ 0 into a step, which is not a skew anyone meant
  if (!Number.isFinite(inventorySkewSlope(p))) fail(`: horizonDays·(riskAversion·volatility² + holdingCost) must be finite, got ${inventorySkewSlope(p)}`);
  return p;
}

/** −log(factor) for slope κ > 0, bound L > 0 and the normalised inventory q (NaN: no skew). */
function logSkew(kappa: number, bound: number, inventory: number, target: number): number {
  // missing values, and a target that is not a stock level, mean no skew
  if (!(target >= 0) || target === Infinity || inventory !== inventory) return 0;
  let q: number;
  if (target > 0) {
    q = (inventory - target) / target;
    // inventory − target overflows for |inventory| near the largest double; the quotient does not
    if (!Number.isFinite(q)) q = inventory / target - 1;
  } else q = inventory > 0 ? Infinity : inventory < 0 ? -Infinity : 0; // target 0: see the header
  // tanh(±∞) = ±1 and tanh(0) = 0 exactly, so q = ±∞ saturates and q = 0 gives factor 1 exactly
  return bound * Math.tanh((kappa * q) / bound);
}

/** The skew factor of one SKU (see the header; docs/math.md §3.4). */
export function inventorySkewFactor(inventory: number, target: number, params: InventoryParams): number {
  const kappa = inventorySkewSlope(params);
  if (!(kappa > 0)) return 1;
  return Math.exp(-logSkew(kappa, Math.log(params.maxFactor), inventory, target));
}

/**
 * The skew factors of a column of SKUs into `out` (allocation-free; the engine's per-row entry).
 * inventory, target and out must have one length; out may alias either input.
 */
export function inventorySkewFactors(inventory: Float64Array, target: Float64Array, params: InventoryParams, out: Float64Array): void {
  const n = out.length;
  if (inventory.length !== n || target.length !== n) {
    throw new RangeError(`inventorySkewFactors: inventory (${inventory.length}), target (${target.length}) and out (${n}) must have one length`);
  }
  const kappa = inventorySkewSlope(params);
  if (!(kappa > 0)) {
    out.fill(1);
    return;
  }
  const bound = Math.log(params.maxFactor);
  for (let i = 0; i < n; i++) out[i] = Math.exp(-logSkew(kappa, bound, inventory[i], target[i]));
}
