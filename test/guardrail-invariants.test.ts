/**
 * The guardrail invariants (docs/math.md §4.4) on every published row of 1 000 000 random rows
 * under 40 random policies, through the engine itself (priceChunk: WASM kernels + guardrails):
 * extreme but valid values, near-equal bounds, tiny and huge costs, features that leave the
 * price domain. The checks below are written from the definition, not from the engine's code:
 *   - a published row (status other than rejected) has finite numbers, a price in [0, 1e12],
 *     inside every hard bound (policy, product, row, margin floor as the double cost x m) with no
 *     tolerance, and on the rounding grid unless it is today's price kept by the breaker;
 *   - the step limit holds unless the row says step_infeasible, and then no grid price lies in
 *     the band and the bounds at once;
 *   - a rejected row has no price and exactly one cause, and the cause is true of its inputs;
 *   - the status agrees with the reasons.
 * Half the chunks carry the retail columns (elasticity, return rate and cost, inventory and its
 * target, expert price, map_price) with wild values, and policies carry return curves, inventory
 * skews and expert blends: map_price joins the floors, inelastic rows and return rates >= 1 are
 * rejected with their own cause, constant-elasticity rows publish no win probability.
 * A companion shows the checker catches the old sequence (clip, then round to nearest).
 */
import { describe, it, expect } from 'vitest';
import { WasmCore } from '../src/core/wasm.js';
import { compileModel } from '../src/pricing/compiledModel.js';
import { priceChunk, type CatalogChunk, type PriceColumns } from '../src/pricing/engine.js';
import { REASON_BIT as B, STATUS_CODE as S, reasonMaskPossible, reasonString, type Policy } from '../src/pricing/policy.js';
import { validateModel, type Model } from '../src/model/format.js';
// a seeded generator (mulberry32), so a failure reproduces
import { rng } from '../src/batch/demoData.js';

const R = rng(20261205);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(R() * xs.length)];
/** log-uniform in [lo, hi] */
const logU = (lo: number, hi: number) => Math.exp(Math.log(lo) + R() * (Math.log(hi) - Math.log(lo)));
/** a decimal-looking price: k / 100 or a raw double */
const money = (lo: number, hi: number) => (R() < 0.6 ? Math.round(logU(lo, hi) * 100) / 100 : logU(lo, hi));

const PRODUCTS = 30;
function makeModel(family: 'gaussian' | 'logistic'): Model {
  const products: Model['products'] = {};
  for (let k = 0; k < PRODUCTS; k++) {
    products[`P${k}`] = { theta: [logU(1, 500), R() * 4 - 2, R() * 2], n: 20, stdErr: [logU(0.001, 5), logU(0.001, 1), logU(0.001, 1)] };
  }
  return validateModel({
    format: 'repricer.model/1', createdAt: '2026-12-05T00:00:00Z', features: ['f1', 'f2'], intercept: true,
    noise: { family, scale: pick([0.01, 0.5, 3, 40]) }, reservation: 0, radius: 50, strategy: 'tsmt',
    common: { theta: [50, 0.5, 0.5], n: 1000, cov: [1, 0.1, 0, 0.1, 0.5, 0, 0, 0, 0.2] }, products,
    fit: { logLikelihood: 0, iterations: 1, converged: true },
  });
}

function randomPolicy(): Policy {
  const p: Policy = {};
  if (R() < 0.6) {
    const min = R() < 0.7 ? money(0.01, 50) : undefined;
    const max = R() < 0.7 ? (min ?? 0) + money(0.01, 1000) : undefined;
    p.bounds = { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
  }
  if (R() < 0.3) p.products = { P1: { min: money(1, 30) }, P2: { max: money(5, 100) }, P3: { min: 20, max: 20.004 } };
  if (R() < 0.6) p.maxChangePct = pick([0.5, 5, 10, 12.5, 30, 50, 99]);
  if (R() < 0.6) p.minMarginOverCost = pick([1, 1.04, 1.1, 1.5, 3]);
  if (R() < 0.7) p.rounding = { step: pick([0.01, 0.05, 0.1, 0.25, 1, 5]), mode: pick(['nearest', 'down', 'up'] as const) };
  if (R() < 0.5) p.breaker = { maxStdErrorPct: pick([0.5, 3, 20]), requireConcave: R() < 0.8 };
  // the retail layer's policy fields (docs/math.md §4.5)
  if (R() < 0.3) {
    const a = pick([0, 0.01, 0.3]);
    p.returns = { rMin: a, rMax: Math.min(0.999, a + pick([0, 0.2, 0.6])), slope: pick([0, 0.05, 1, 30]), midpoint: money(0.01, 500), cost: pick([0, 1, 50]) };
  }
  if (R() < 0.3) p.inventory = { riskAversion: pick([0, 0.5, 100]), volatility: pick([0, 0.05, 1]), horizonDays: pick([1, 30, 365]), holding_cost: pick([0, 0.001, 0.5]), maxFactor: pick([1.01, 2, 50]) };
  if (R() < 0.2) p.expertBlend = { tauPct: pick([0.1, 5, 500]) };
  // validated like a policy file: a policy the loader refuses is not a test input
  if (p.products && p.bounds) {
    const g = p.bounds;
    for (const b of Object.values(p.products)) {
      if ((b.min !== undefined && g.max !== undefined && b.min > g.max) || (b.max !== undefined && g.min !== undefined && b.max < g.min)) delete p.products;
      if (!p.products) break;
    }
  }
  return p;
}

function randomChunk(n: number): CatalogChunk {
  const D = 3;
  const x = new Float64Array(n * D);
  const cost = new Float64Array(n);
  const currentPrice = new Float64Array(n);
  const minPrice = new Float64Array(n);
  const maxPrice = new Float64Array(n);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(R() < 0.1 ? `NEW${i}` : `P${Math.floor(R() * PRODUCTS)}`);
    x[i * D] = 1;
    const big = R() < 0.003;
    x[i * D + 1] = big ? pick([1e11, 1e13, 1e200, -1e13]) : R() * 20 - 5;
    x[i * D + 2] = R() * 10;
    const kind = R();
    cost[i] = kind < 0.1 ? NaN : kind < 0.12 ? -money(0.01, 10) : kind < 0.15 ? logU(1e-9, 1e-3) : kind < 0.17 ? logU(1e9, 2e12) : money(0.01, 400);
    currentPrice[i] = R() < 0.2 ? NaN : R() < 0.02 ? 0 : money(0.01, 800);
    const b = R();
    if (b < 0.5) {
      minPrice[i] = NaN;
      maxPrice[i] = NaN;
    } else if (b < 0.7) {
      minPrice[i] = money(0.01, 300);
      maxPrice[i] = R() < 0.3 ? minPrice[i] * (1 + 1e-12) : minPrice[i] + money(0.01, 300); // near-equal bounds too
    } else if (b < 0.8) {
      minPrice[i] = NaN;
      maxPrice[i] = money(0.01, 500);
    } else if (b < 0.9) {
      minPrice[i] = money(0.01, 300);
      maxPrice[i] = NaN;
    } else {
      minPrice[i] = money(0.01, 300);
      maxPrice[i] = minPrice[i] * R(); // contradictory
    }
  }
  // the retail columns on half the chunks, each column on some rows, wild values included
  if (R() < 0.5) return { n, ids, x, cost, currentPrice, minPrice, maxPrice };
  const col = (share: number, draw: () => number) => Float64Array.from({ length: n }, () => (R() < share ? draw() : NaN));
  return {
    n, ids, x, cost, currentPrice, minPrice, maxPrice,
    retail: {
      elasticity: col(0.4, () => (R() < 0.05 ? -R() * 1.2 : -1 - logU(1e-6, 50))), // some inelastic: rejected
      returnRate: col(0.4, () => (R() < 0.03 ? 1 + R() : R() < 0.1 ? 1 - logU(1e-12, 1e-3) : R() * 0.6)), // some >= 1: rejected
      returnCost: col(0.5, () => logU(1e-6, 1e6)),
      inventory: col(0.6, () => (R() < 0.1 ? 0 : logU(1, 1e7))),
      targetInventory: col(0.6, () => (R() < 0.1 ? 0 : logU(1, 1e7))),
      expertPrice: col(0.4, () => money(0.01, 1e4)),
      mapPrice: col(0.3, () => money(0.01, 500)),
    },
  };
}

/**
 * The grid point k x step as the decimal it is written as, by decimal text (independent of the
 * engine's grid code): 0.1 x 7516672893032 is the text "751667289303.2", parsed correctly rounded.
 */
function gridValue(k: number, step: number): number {
  const dec = (String(step).split('.')[1] ?? '').length;
  const units = Math.round(step * 10 ** dec);
  const n = Math.abs(k * units).toString().padStart(dec + 1, '0');
  const text = dec ? `${n.slice(0, n.length - dec)}.${n.slice(n.length - dec)}` : n;
  return (k < 0 ? -1 : 1) * Number(text);
}
/** Some grid point in [lo, hi] (compared as doubles)? */
function gridPointIn(lo: number, hi: number, step: number): boolean {
  if (!(lo <= hi)) return false;
  const k0 = Math.floor(lo / step) - 1;
  for (let k = k0; k <= k0 + 3; k++) {
    const g = gridValue(k, step);
    if (g >= lo && g <= hi) return true;
  }
  return hi - lo > 3 * step;
}
function onGrid(p: number, step: number): boolean {
  return gridValue(Math.round(p / step), step) === p;
}

interface Bounds { lo: number; hi: number; conflicting: boolean }
function hardBoundsOf(policy: Policy, id: string, cost: number, mn: number, mx: number, map: number): Bounds {
  const los = [0];
  const his = [Infinity];
  for (const b of [policy.bounds, policy.products?.[id]]) {
    if (b?.min !== undefined) los.push(b.min);
    if (b?.max !== undefined) his.push(b.max);
  }
  if (!Number.isNaN(mn)) los.push(mn);
  if (!Number.isNaN(mx)) his.push(mx);
  if (!Number.isNaN(map)) los.push(map);
  if (policy.minMarginOverCost !== undefined) los.push(cost * policy.minMarginOverCost);
  const lo = Math.max(...los);
  const hi = Math.min(...his);
  const bad = (!Number.isNaN(mn) && mn < 0) || (!Number.isNaN(mx) && mx <= 0);
  const conflicting = bad || lo > hi || (policy.rounding !== undefined && !gridPointIn(lo, hi, policy.rounding.step));
  return { lo, hi, conflicting };
}

const CLIP = B.margin_floor | B.max_step | B.floor | B.ceiling | B.step_infeasible | B.map_floor;
const CAUSES = B.out_of_domain | B.invalid_cost | B.conflicting_bounds | B.invalid_elasticity | B.invalid_returns;

/** Every invariant on every row; returns the first few violations. */
function violations(policy: Policy, chunk: CatalogChunk, p: PriceColumns, reservation: number, known: (id: string) => boolean): string[] {
  const out: string[] = [];
  const bad = (i: number, what: string) => {
    if (out.length < 10) out.push(`row ${i} (${chunk.ids[i]}, cost ${chunk.cost[i]}, current ${chunk.currentPrice[i]}, min ${chunk.minPrice[i]}, max ${chunk.maxPrice[i]}, policy ${JSON.stringify(policy)}): ${what}; got price ${p.price[i]}, status ${p.status[i]}, reason ${reasonString(p.reasons[i])}`);
  };
  for (let i = 0; i < p.n; i++) {
    const st = p.status[i];
    const m = p.reasons[i];
    const price = p.price[i];
    const cost = Number.isNaN(chunk.cost[i]) ? reservation : chunk.cost[i];
    const prev = chunk.currentPrice[i];
    const hasPrev = prev > 0;
    if (!reasonMaskPossible(m)) bad(i, 'a reason mask the formatters cannot print');
    if (((m & B.cold_start) !== 0) !== !known(chunk.ids[i])) bad(i, 'cold_start flag disagrees with the model');
    const rt = chunk.retail ?? {};
    const eps = rt.elasticity ? rt.elasticity[i] : NaN;
    const ce = !Number.isNaN(eps);
    const rate = rt.returnRate ? rt.returnRate[i] : NaN;
    const h = hardBoundsOf(policy, chunk.ids[i], cost, chunk.minPrice[i], chunk.maxPrice[i], rt.mapPrice ? rt.mapPrice[i] : NaN);
    if (st === S.rejected) {
      const cause = m & CAUSES;
      if (!Number.isNaN(price)) bad(i, 'a rejected row carries a price');
      if (!cause || (cause & (cause - 1))) bad(i, 'a rejection needs exactly one cause');
      if (cause === B.invalid_cost && !(cost < 0) && !(ce && cost === 0)) bad(i, 'invalid_cost on a valid cost');
      if (cause === B.invalid_elasticity && !(eps >= -1)) bad(i, 'invalid_elasticity on an elastic row');
      if (cause === B.invalid_returns && !(rate >= 1)) bad(i, 'invalid_returns on a return rate below 1');
      if (cause === B.conflicting_bounds && !h.conflicting) bad(i, 'conflicting_bounds on bounds that admit a price');
      continue;
    }
    if (m & CAUSES) bad(i, 'a published row with a rejection cause');
    if (cost < 0) bad(i, 'a negative cost was published');
    if (h.conflicting) bad(i, 'published although no admissible price exists');
    if (ce && !(eps < -1)) bad(i, 'an inelastic row was published');
    if (rate >= 1) bad(i, 'a return rate >= 1 was published');
    // constant-elasticity rows have no win probability and no model standard error (absent)
    const nums = ce ? [price, p.expectedProfit[i], p.delta[i], p.gamma[i], p.vega[i]] : [price, p.winProbability[i], p.expectedProfit[i], p.delta[i], p.gamma[i], p.vega[i], p.priceStdError[i]];
    if (!nums.every(Number.isFinite)) bad(i, 'a NaN or infinity in a published row');
    if (p.blendWeight && !Number.isNaN(p.blendWeight[i]) && !(p.blendWeight[i] >= 0 && p.blendWeight[i] <= 1)) bad(i, 'a blend weight outside [0, 1]');
    if (!(price >= 0 && price <= 1e12)) bad(i, 'price outside the price domain');
    if (!(price >= h.lo)) bad(i, `below a floor (${h.lo})`);
    if (!(price <= h.hi)) bad(i, `above a ceiling (${h.hi})`);
    const keptToday = st === S.held && price === prev;
    if (policy.rounding && !keptToday && !onGrid(price, policy.rounding.step)) bad(i, `off the ${policy.rounding.step} grid`);
    if (policy.maxChangePct !== undefined && hasPrev && !keptToday) {
      const within = Math.abs(price / prev - 1) <= (policy.maxChangePct / 100) * (1 + 1e-12);
      if (m & B.step_infeasible) {
        const sl = prev * (1 - policy.maxChangePct / 100);
        const sh = prev * (1 + policy.maxChangePct / 100);
        const lo = Math.max(h.lo, sl * (1 + 1e-12));
        const hi = Math.min(h.hi, sh * (1 - 1e-12));
        const feasible = policy.rounding ? gridPointIn(lo, hi, policy.rounding.step) && hi - lo > 0 : lo <= hi;
        if (st !== S.held && feasible) bad(i, 'step_infeasible although a price satisfies the step and the bounds');
      } else if (!within) bad(i, 'step limit broken without step_infeasible');
    }
    // status and reasons agree
    const breaker = m & (B.breaker_gamma | B.breaker_std_error);
    if ((st === S.held) !== (breaker !== 0)) bad(i, 'held iff a breaker fired');
    if (st === S.held && !hasPrev) bad(i, 'held without a current price');
    if (st === S.clipped && !(m & CLIP)) bad(i, 'clipped without a clipping reason');
    if ((st === S.ok || st === S.cold_start) && m & CLIP) bad(i, 'a clipping reason on an unclipped row');
    if (st === S.ok && m & B.cold_start) bad(i, 'ok on a cold start');
    if (st === S.held && price !== prev && !(m & (B.floor | B.ceiling | B.margin_floor | B.map_floor))) bad(i, 'a held price moved without a bound');
  }
  return out;
}

const core = WasmCore.create();

describe('guardrail invariants on 1 000 000 random rows (docs/math.md §4.4)', () => {
  it('every published row obeys every bound after rounding, the step when feasible, no NaN, status and reason consistent', () => {
    const CHUNK = 25_000;
    const POLICIES = 40;
    let rows = 0;
    const counts = new Array<number>(5).fill(0);
    const seen = new Set<number>();
    for (let k = 0; k < POLICIES; k++) {
      const model = makeModel(k % 2 ? 'logistic' : 'gaussian');
      const cm = compileModel(model);
      const policy = randomPolicy();
      const chunk = randomChunk(CHUNK);
      const p = priceChunk(core, cm, policy, chunk);
      expect(violations(policy, chunk, p, model.reservation, (id) => id in model.products)).toEqual([]);
      rows += p.n;
      for (let i = 0; i < p.n; i++) {
        counts[p.status[i]]++;
        for (let b = 0; b < 15; b++) if (p.reasons[i] & (1 << b)) seen.add(b);
      }
    }
    expect(rows).toBe(1_000_000);
    // the random rows reach every status and every reason, so no rule went untested
    expect(counts.every((c) => c > 0)).toBe(true);
    expect(seen.size).toBe(15);
  }, 300_000);

  it('companion: the checker catches a price rounded to nearest after clipping (the old sequence)', () => {
    const model = makeModel('gaussian');
    const cm = compileModel(model);
    const policy: Policy = { minMarginOverCost: 1.1, maxChangePct: 30, rounding: { step: 0.01 } };
    const chunk = randomChunk(20_000);
    const p = priceChunk(core, cm, { minMarginOverCost: 1.1, maxChangePct: 30 }, chunk);
    for (let i = 0; i < p.n; i++) {
      if (p.status[i] === S.rejected) continue;
      const r = Math.round(p.price[i] / 0.01) / 100;
      if (r !== p.price[i]) p.reasons[i] |= B.rounded;
      p.price[i] = r;
    }
    expect(violations(policy, chunk, p, model.reservation, (id) => id in model.products).join('\n')).toMatch(/below a floor|step limit broken/);
  });
});
