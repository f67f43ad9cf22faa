/**
 * The retail layer of a chunk (docs/math.md §4.3, §3.5, §5.3): from the competitor model's
 * cost-only optimum to the price handed to the guardrails, one step at a time, so each step's
 * amount can be published (--explain):
 *
 *   base       the optimum of expected profit with the unit cost only: p*(u; C) for the learned
 *              win probability (§1.5), eps/(1+eps) C for constant elasticity (§4.3);
 *   returns    the optimum with returns: a constant rate R (the row's return_rate) is exactly the
 *              optimum at the effective cost C + R C_ret/(1-R) (§4.3); a rate that grows with price
 *              (the policy's logistic curve) is maximised by the safeguarded Newton kernel on
 *              Delta = 0 (returnAwareOptimum);
 *   inventory  times the inventory skew factor (§3.5): overstock lowers the price, scarcity raises it;
 *   blended    the expert blend w p + (1 - w) p_expert, w = tau^2/(tau^2 + Var(p)) (§5.3).
 *
 * Rows this layer cannot price are marked with one rejection cause: constant elasticity with
 * eps >= -1 (profit grows without bound in the price: invalid_elasticity), a return rate >= 1
 * (invalid_returns), constant elasticity at a zero effective cost (no finite optimum: invalid_cost).
 */
import type { WasmCore } from '../core/wasm.js';
import { optimalQuote } from '../core/quote.js';
import { returnAwareOptimum, type DemandModel } from '../core/greeks.js';
import { PRICE_LIMIT } from '../core/domain.js';
import type { NoiseSpec } from '../core/validate.js';
import type { RetailColumns, SegmentColumn } from './catalogColumns.js';
import { REASON_BIT, type Policy } from './policy.js';
import { inventorySkewFactors } from './inventorySkew.js';

const BRACKET_SIGMAS = 10;
const BRACKET_FACTOR = 4;

/** The default expert tolerance: tau = 5 % of the expert price (docs/math.md §5.3). */
export const DEFAULT_EXPERT_TAU_PCT = 5;

export interface RetailSteps {
  base: Float64Array;
  returns: Float64Array;
  inventory: Float64Array;
  blended: Float64Array;
  /** the expert blend's weight; NaN where the row has no expert price */
  weight: Float64Array;
  /** 1: constant-elasticity demand (the row has an elasticity) */
  ce: Uint8Array;
  /** the rows' return rate curve, for the Greeks: constant R (NaN: the policy's curve) and C_ret */
  rate: Float64Array;
  returnCost: Float64Array;
  /** d p / d u of the returns step (the delta-method standard error uses it) */
  dpdu: Float64Array;
  /** a rejection bit, 0 when the row is priceable */
  reject: Uint32Array;
  /** the policy's return curve (rows whose rate is NaN follow it) */
  curveOf?: NonNullable<Policy['returns']>;
  /** each row's curve ends, rMin and rMax times the row's segment multiplier (with a curve) */
  rMinRow?: Float64Array;
  rMaxRow?: Float64Array;
  /** the elasticity column, when the chunk has one */
  eps?: Float64Array;
}

/** Whether a chunk needs the retail layer at all (else the engine's plain path runs unchanged). */
export function needsRetail(policy: Policy, retail: RetailColumns | undefined): boolean {
  if (policy.returns) return true;
  if (!retail) return false;
  return Boolean(retail.elasticity || retail.returnRate || retail.expertPrice || retail.mapPrice || (retail.inventory && retail.targetInventory && policy.inventory));
}

/**
 * The retail steps of n rows. `u` is x . theta, `c` the cost (the reservation where the row has
 * none), `q` the cost-only optimum of the win probability with its derivative in u. The blend
 * is left to expertBlend (it needs the returns step's standard error). Arrays live in the
 * caller's arena scope.
 */
export function retailSteps(
  core: WasmCore, policy: Policy, retail: RetailColumns, noise: NoiseSpec,
  u: Float64Array, c: Float64Array, q: { price: Float64Array; dpdu: Float64Array }, bad: Uint8Array, currentPrice: Float64Array,
  segment?: SegmentColumn, season?: SegmentColumn,
): RetailSteps {
  const n = u.length;
  const a = core.arena;
  const s: RetailSteps = {
    base: a.f64(n), returns: a.f64(n), inventory: a.f64(n), blended: a.f64(n), weight: a.f64(n),
    ce: new Uint8Array(n), rate: a.f64(n), returnCost: a.f64(n), dpdu: a.f64(n), reject: new Uint32Array(n),
    curveOf: policy.returns, eps: retail.elasticity,
  };
  const eps = retail.elasticity;
  const rr = retail.returnRate;
  const rc = retail.returnCost;
  const curve = policy.returns;
  const cEff = a.f64(n);
  if (curve) {
    // the curve scaled by the row's segment and season multipliers, R(P) m_segment m_season
    // (docs/math.md §4.5); 1 without one
    s.rMinRow = a.f64(n);
    s.rMaxRow = a.f64(n);
    const bySegment = curve.segments && segment ? segment.names.map((name) => curve.segments![name] ?? 1) : undefined;
    const bySeason = curve.seasons && season ? season.names.map((name) => curve.seasons![name] ?? 1) : undefined;
    for (let i = 0; i < n; i++) {
      const cs = segment ? segment.codes[i] : -1;
      const ct = season ? season.codes[i] : -1;
      const m = (bySegment && cs >= 0 ? bySegment[cs] : 1) * (bySeason && ct >= 0 ? bySeason[ct] : 1);
      s.rMinRow[i] = m * curve.rMin;
      s.rMaxRow[i] = m * curve.rMax;
    }
  }
  let constantR = false;
  const logistic: number[] = [];
  for (let i = 0; i < n; i++) {
    s.dpdu[i] = q.dpdu[i];
    const e = eps ? eps[i] : NaN;
    const isCe = Number.isFinite(e);
    s.ce[i] = isCe ? 1 : 0;
    const cret = rc && Number.isFinite(rc[i]) ? rc[i] : curve?.cost ?? 0;
    s.returnCost[i] = cret;
    const R = rr && Number.isFinite(rr[i]) ? rr[i] : curve ? NaN : 0;
    s.rate[i] = R;
    cEff[i] = c[i];
    if (bad[i]) continue;
    if (isCe && !(e < -1)) {
      s.reject[i] = REASON_BIT.invalid_elasticity;
      continue;
    }
    if (R >= 1) {
      s.reject[i] = REASON_BIT.invalid_returns;
      continue;
    }
    if (R > 0) {
      cEff[i] = c[i] + (R * cret) / (1 - R);
      if (!(cEff[i] <= PRICE_LIMIT)) {
        s.reject[i] = REASON_BIT.out_of_domain;
        continue;
      }
      if (!isCe) constantR = true;
    } else if (Number.isNaN(R)) logistic.push(i);
    // constant elasticity at a zero cost: profit grows without bound as the price falls
    if (isCe && !(c[i] > 0)) s.reject[i] = REASON_BIT.invalid_cost;
  }

  // base: the cost-only optimum
  for (let i = 0; i < n; i++) s.base[i] = s.ce[i] ? (eps![i] / (1 + eps![i])) * c[i] : q.price[i];
  // returns: constant rates through the effective cost (exact, §4.3)
  const qr = constantR ? optimalQuote(core, u, cEff, noise, { views: true }) : undefined;
  for (let i = 0; i < n; i++) {
    if (s.ce[i]) s.returns[i] = (eps![i] / (1 + eps![i])) * cEff[i];
    else if (qr && cEff[i] !== c[i]) {
      s.returns[i] = qr.price[i];
      s.dpdu[i] = qr.dpdu[i];
    } else s.returns[i] = s.base[i];
  }
  // returns growing with price: maximise Pi over an interval holding the optimum (§4.3)
  if (curve && logistic.length) logisticReturns(core, s, curve, noise, u, c, logistic, eps, currentPrice);
  for (let i = 0; i < n; i++) if (s.reject[i] || bad[i]) s.returns[i] = s.base[i] = 0;

  // inventory skew (§3.5)
  const inv = retail.inventory;
  const target = retail.targetInventory;
  if (policy.inventory && inv && target) {
    inventorySkewFactors(inv, target, policy.inventory, s.inventory);
    for (let i = 0; i < n; i++) s.inventory[i] *= s.returns[i];
  } else s.inventory.set(s.returns);

  s.blended.set(s.inventory);
  s.weight.fill(NaN);
  return s;
}

/**
 * The expert blend (docs/math.md §5.3) of rows with an expert price, in place: w = tau^2/(tau^2 +
 * Var(p)) with tau = tauPct % of the expert price and Var(p) = se^2, the delta-method variance of
 * the returns step's price. Constant-elasticity rows have no estimation variance from the model
 * (w = 1); an unknown variance trusts the expert (w = 0): fail safe.
 */
export function expertBlend(policy: Policy, expert: Float64Array | undefined, s: RetailSteps, se: Float64Array, bad: Uint8Array): void {
  if (!expert) return;
  const tauPct = policy.expertBlend?.tauPct ?? DEFAULT_EXPERT_TAU_PCT;
  for (let i = 0; i < expert.length; i++) {
    const pe = expert[i];
    if (!Number.isFinite(pe) || s.reject[i] || bad[i]) continue;
    const tau = (tauPct / 100) * pe;
    const v = s.ce[i] ? 0 : se[i] * se[i];
    const w = Number.isFinite(v) ? (tau * tau) / (tau * tau + v) : 0;
    s.weight[i] = w;
    s.blended[i] = w === 1 ? s.inventory[i] : w === 0 ? pe : w * s.inventory[i] + (1 - w) * pe;
  }
}

/** The logistic-curve rows: returnAwareOptimum per demand family on a bracket of the optimum. */
function logisticReturns(
  core: WasmCore, s: RetailSteps, curve: NonNullable<Policy['returns']>, noise: NoiseSpec,
  u: Float64Array, c: Float64Array, rows: number[], eps: Float64Array | undefined, currentPrice: Float64Array,
): void {
  const pick = (want: number) => rows.filter((i) => s.ce[i] === want && !s.reject[i]);
  const wp = pick(0);
  const ce = pick(1);
  // The bracket: from the unit cost (below it the margin is negative) to past the constant-rate
  // optimum at the curve's highest rate, C_eff(rMax): a return rate that grows with price pushes
  // the optimum down, and the bracket's slack (10 sigma; 4x) covers what the curve's own margin
  // effect leaves. Tested against a brute-force search over the price (test/retail.test.ts).
  const rMax = s.rMaxRow!;
  const cHi = (i: number) => c[i] + (rMax[i] * s.returnCost[i]) / (1 - rMax[i]);
  const common = (rs: number[]) => ({
    C: Float64Array.from(rs, (i) => c[i]),
    Cret: Float64Array.from(rs, (i) => s.returnCost[i]),
    Rmin: Float64Array.from(rs, (i) => s.rMinRow![i]),
    Rmax: Float64Array.from(rs, (i) => rMax[i]),
    kR: curve.slope, Pmid: curve.midpoint,
  });
  if (wp.length) {
    const demand: DemandModel = { kind: 'winProbability', family: noise.family };
    const U = Float64Array.from(wp, (i) => u[i]);
    const hiC = Float64Array.from(wp, (i) => cHi(i));
    const top = optimalQuote(core, U, hiC, noise);
    const lo = Float64Array.from(wp, (i) => c[i]);
    const hi = Float64Array.from(wp, (i, j) => Math.max(top.price[j], lo[j]) + BRACKET_SIGMAS * noise.scale);
    const r = returnAwareOptimum(core, demand, { ...common(wp), A: 1, B: U, E: noise.scale }, lo, hi);
    wp.forEach((i, j) => (s.returns[i] = r.price[j]));
  }
  if (ce.length) {
    const E = Float64Array.from(ce, (i) => eps![i]);
    const lo = Float64Array.from(ce, (i) => c[i]);
    const hi = Float64Array.from(ce, (i, j) => Math.max(BRACKET_FACTOR * (E[j] / (1 + E[j])) * cHi(i), lo[j]));
    const P0 = Float64Array.from(ce, (i) => (currentPrice[i] > 0 ? currentPrice[i] : s.base[i]));
    const r = returnAwareOptimum(core, { kind: 'constantElasticity' }, { ...common(ce), A: 1, B: P0, E }, lo, hi);
    ce.forEach((i, j) => (s.returns[i] = r.price[j]));
  }
}
