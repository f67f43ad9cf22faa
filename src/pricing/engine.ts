/**
 * The quote engine: model + a columnar chunk of catalogue rows -> published prices with Greeks
 * and status. The batch job (per worker) and the HTTP API both call `priceChunk`, so a quote is
 * the same number whichever door it comes through.
 *
 * Per chunk: u = x . theta_k (linearPredictor kernel), p* = u + phi^-1(c - u) (docs/math.md §1.5,
 * optimalQuote kernel), the policy (guardrails and breaker), then at the published price the win
 * probability, expected profit (price - cost) P(win) and its Greeks Delta, Gamma, Vega (docs/math.md
 * §4.2 with win-probability demand, N = 1, no returns), and the delta-method standard error of
 * the optimal price (docs/math.md §5.3). No per-row call crosses the WASM boundary.
 */
import type { WasmCore } from '../core/wasm.js';
import { FAMILY_CODE } from '../core/validate.js';
import { optimalQuote } from '../core/quote.js';
import { greeks, greeksUnchecked, type Greeks } from '../core/greeks.js';
import { PRICE_LIMIT } from '../core/domain.js';
import type { CompiledModel } from './compiledModel.js';
import { hasProductBounds, STATUS_CODE, REASON_BIT, REJECTION_BITS, type Policy } from './policy.js';
import { applyPolicy } from './guardrails.js';
import { sliceRetail, sliceSegments, type RetailColumns, type SegmentColumn } from './catalogColumns.js';
import { expertBlend, needsRetail, retailSteps, type RetailSteps } from './retailSteps.js';
import type { PricingAgent } from './agentStep.js';

export interface CatalogChunk {
  n: number;
  /**
   * Product ids. May be left empty when `productIndex` is given and the policy has no per-product
   * bounds (the WASM CSV path never decodes ids it does not need).
   */
  ids: string[];
  /** the model row of each product (0 = cold start), when the parser resolved it already */
  productIndex?: Float64Array;
  /** n x D row-major, the intercept column (1.0) first when the model has one */
  x: Float64Array;
  /** NaN = absent (the model's reservation is used) */
  cost: Float64Array;
  currentPrice: Float64Array;
  minPrice: Float64Array;
  maxPrice: Float64Array;
  /** the retail columns the catalogue has (pricing/catalogColumns.ts), NaN where a cell is blank */
  retail?: RetailColumns;
  /** the catalogue's `segment` column, when it has one (pricing/catalogColumns.ts); held segments are held whole */
  segment?: SegmentColumn;
  /** the catalogue's `season` column (dictionary-coded like segment), when it has one */
  season?: SegmentColumn;
}

export interface PriceColumns {
  n: number;
  price: Float64Array;
  previousPrice: Float64Array;
  changePct: Float64Array;
  winProbability: Float64Array;
  expectedProfit: Float64Array;
  delta: Float64Array;
  gamma: Float64Array;
  vega: Float64Array;
  priceStdError: Float64Array;
  /** the model's optimum before guardrails */
  modelPrice: Float64Array;
  status: Uint8Array;
  reasons: Uint32Array;
  /** the expert blend's weight w (docs/math.md §5.3); NaN where the row has no expert price */
  blendWeight?: Float64Array;
  /** the published price's breakdown, one column per step (they add up to the price) */
  explain?: ExplainColumns;
}

/** The steps from the model's cost-only optimum to the published price (--explain). */
export interface ExplainColumns {
  basePrice: Float64Array;
  returnAdjustment: Float64Array;
  inventoryAdjustment: Float64Array;
  coldStartAdjustment: Float64Array;
  /** the agent's proposed price minus the model's (present only when an agent prices: docs/rl.md) */
  agentAdjustment?: Float64Array;
  guardrailAdjustment: Float64Array;
  roundingAdjustment: Float64Array;
}
export const EXPLAIN_KEYS = ['basePrice', 'returnAdjustment', 'inventoryAdjustment', 'coldStartAdjustment', 'agentAdjustment', 'guardrailAdjustment', 'roundingAdjustment'] as const;
export type ExplainKey = (typeof EXPLAIN_KEYS)[number];

/** The explanation keys a job publishes: agentAdjustment only when an agent prices. */
export function explainKeys(o: { agent?: boolean }): ExplainKey[] {
  return EXPLAIN_KEYS.filter((k) => k !== 'agentAdjustment' || o.agent === true);
}

/** The explanation keys present in columns `e`, in EXPLAIN_KEYS order. */
export function presentExplainKeys(e: ExplainColumns): ExplainKey[] {
  return explainKeys({ agent: e.agentAdjustment !== undefined });
}

/** Which optional output columns a job publishes. */
export interface OutputColumns {
  blend?: boolean;
  explain?: boolean;
  /** an agent prices the job: the explanation gains agent_adjustment */
  agent?: boolean;
}

function optionalOutputs(n: number, o: OutputColumns, f: () => Float64Array): Pick<PriceColumns, 'blendWeight' | 'explain'> {
  const r: Pick<PriceColumns, 'blendWeight' | 'explain'> = {};
  if (o.blend) r.blendWeight = f();
  if (o.explain) r.explain = Object.fromEntries(explainKeys(o).map((k) => [k, f()])) as unknown as ExplainColumns;
  return r;
}

/** Rows [s, e) of output columns (views). */
export function slicePriceColumns(p: PriceColumns, s: number, e: number): PriceColumns {
  const cut = <T extends { subarray(a: number, b: number): T }>(a: T) => a.subarray(s, e);
  return {
    n: e - s,
    price: cut(p.price), previousPrice: cut(p.previousPrice), changePct: cut(p.changePct), winProbability: cut(p.winProbability),
    expectedProfit: cut(p.expectedProfit), delta: cut(p.delta), gamma: cut(p.gamma), vega: cut(p.vega),
    priceStdError: cut(p.priceStdError), modelPrice: cut(p.modelPrice), status: cut(p.status), reasons: cut(p.reasons),
    ...(p.blendWeight ? { blendWeight: cut(p.blendWeight) } : {}),
    ...(p.explain ? { explain: Object.fromEntries(presentExplainKeys(p.explain).map((k) => [k, cut(p.explain![k]!)])) as unknown as ExplainColumns } : {}),
  };
}

/** Rows [s, e) of a catalogue chunk (views; ids sliced when present). */
export function sliceCatalogChunk(c: CatalogChunk, s: number, e: number, D: number): CatalogChunk {
  const cut = <T extends { subarray(a: number, b: number): T }>(a: T) => a.subarray(s, e);
  return {
    n: e - s,
    ids: c.ids.length === c.n ? c.ids.slice(s, e) : [],
    productIndex: c.productIndex ? cut(c.productIndex) : undefined,
    x: c.x.subarray(s * D, e * D),
    cost: cut(c.cost),
    currentPrice: cut(c.currentPrice),
    minPrice: cut(c.minPrice),
    maxPrice: cut(c.maxPrice),
    ...(c.retail ? { retail: sliceRetail(c.retail, s, e) } : {}),
    ...(c.segment ? { segment: sliceSegments(c.segment, s, e) } : {}),
    ...(c.season ? { season: sliceSegments(c.season, s, e) } : {}),
  };
}

/** Zeroed output columns for n rows. */
export function emptyPriceColumns(n: number, o: OutputColumns = {}): PriceColumns {
  return {
    ...optionalOutputs(n, o, () => new Float64Array(n)),
    n,
    price: new Float64Array(n),
    previousPrice: new Float64Array(n),
    changePct: new Float64Array(n),
    winProbability: new Float64Array(n),
    expectedProfit: new Float64Array(n),
    delta: new Float64Array(n),
    gamma: new Float64Array(n),
    vega: new Float64Array(n),
    priceStdError: new Float64Array(n),
    modelPrice: new Float64Array(n),
    status: new Uint8Array(n),
    reasons: new Uint32Array(n),
  };
}

/** Output columns for n rows in WASM memory (valid until the enclosing arena scope ends). */
export function arenaPriceColumns(core: WasmCore, n: number, o: OutputColumns = {}): PriceColumns {
  const a = core.arena;
  const mem = () => core.memory.buffer;
  const f = () => a.f64(n);
  const cols = { price: f(), previousPrice: f(), changePct: f(), winProbability: f(), expectedProfit: f(), delta: f(), gamma: f(), vega: f(), priceStdError: f(), modelPrice: f() };
  const extra = optionalOutputs(n, o, f);
  const st = a.allocBytes(n);
  const rs = a.allocBytes(4 * n);
  return { n, ...cols, ...extra, status: new Uint8Array(mem(), st, n), reasons: new Uint32Array(mem(), rs, n) };
}

/**
 * Price a chunk. `into` (n rows, e.g. from arenaPriceColumns) receives the result instead of
 * fresh arrays: every field of every row is written, the optional columns it has included.
 * Without it, `columns` says which optional columns to publish.
 */
export function priceChunk(core: WasmCore, cm: CompiledModel, policy: Policy, chunk: CatalogChunk, into?: PriceColumns, columns?: OutputColumns, agent?: PricingAgent): PriceColumns {
  const { n } = chunk;
  const D = cm.D;
  if (chunk.x.length !== n * D) throw new RangeError(`priceChunk: x must have n*D = ${n * D} entries, got ${chunk.x.length}`);
  if (into && into.n !== n) throw new RangeError(`priceChunk: output columns for ${into.n} rows, chunk has ${n}`);
  // without `into`: the blend weight when the chunk has expert prices, the explanation when asked
  const out = into ?? emptyPriceColumns(n, { blend: chunk.retail?.expertPrice !== undefined, ...columns, agent: agent !== undefined });
  out.previousPrice.set(chunk.currentPrice);
  if (n === 0) return out;
  const reservation = cm.reservation;
  const scale = cm.noise.scale;
  const family = FAMILY_CODE[cm.noise.family];
  const perProduct = hasProductBounds(policy);
  if (chunk.ids.length !== n && (!chunk.productIndex || perProduct)) {
    throw new RangeError(`priceChunk: ${n} product ids needed, got ${chunk.ids.length}`);
  }

  return core.arena.scoped(() => {
    const a = core.arena;
    const idx = a.f64(n);
    const c = a.f64(n);
    if (chunk.productIndex) idx.set(chunk.productIndex);
    else for (let i = 0; i < n; i++) idx[i] = cm.index.get(chunk.ids[i]) ?? 0;
    for (let i = 0; i < n; i++) {
      const ci = chunk.cost[i];
      c[i] = Number.isFinite(ci) ? ci : reservation;
    }
    const pX = core.input(chunk.x);
    const pTable = core.input(cm.table);
    const u = a.f64(n);
    core.k.linearPredictor(n, D, pX, pTable, idx.byteOffset, u.byteOffset);
    // Rows the core cannot price (x . theta or the cost outside the price domain, docs/math.md
    // §4.4) are priced at a harmless placeholder and published as rejected / out_of_domain below:
    // one such row never sinks a chunk. A negative cost is the policy's to reject (invalid_cost).
    const pBad = a.allocBytes(n); // before reading memory.buffer: the allocation may grow it
    const bad = new Uint8Array(core.memory.buffer, pBad, n).fill(0);
    for (let i = 0; i < n; i++) {
      if (!(c[i] >= 0) || !(Math.abs(u[i]) <= PRICE_LIMIT) || !(c[i] <= PRICE_LIMIT) || !Number.isFinite((c[i] - u[i]) / scale)) {
        bad[i] = c[i] >= 0 ? BAD_DOMAIN : BAD_COST;
        u[i] = 0;
        c[i] = 0;
      }
    }

    const q = optimalQuote(core, u, c, cm.noise, { views: true });
    // the retail layer (returns, inventory, expert blend, constant elasticity): only when the
    // chunk or the policy asks for it, so a plain catalogue is priced exactly as before
    const rs = needsRetail(policy, chunk.retail) ? retailSteps(core, policy, chunk.retail ?? {}, cm.noise, u, c, q, bad, chunk.currentPrice, chunk.segment, chunk.season) : undefined;
    // with the retail layer: the standard error of the returns step's price (a constant rate
    // moves p* along the same u, so dp/du changes); constant-elasticity rows have none from the model
    // The delta-method kernel is called directly: x is finite by construction (parsers), the
    // covariance table was checked once in compileModel, idx is in range by construction.
    const se = a.f64(n);
    core.k.priceVariance(n, D, pX, core.input(rs ? rs.dpdu : q.dpdu), core.input(cm.cov), core.inputInt32(cm.covAt), idx.byteOffset, se.byteOffset);
    for (let i = 0; i < n; i++) se[i] = rs && rs.ce[i] ? 0 : Math.sqrt(se[i]);
    if (rs) expertBlend(policy, chunk.retail?.expertPrice, rs, se, bad);
    const modelPrice = rs ? rs.blended : q.price;
    // Gamma at the model's optimum feeds the breaker: a non-negative value means p* is not a
    // strict local maximum of expected profit.
    const g0 = policy.breaker ? breakerGamma(core, cm, u, c, rs ? rs.returns : q.price, rs, chunk.currentPrice) : undefined;
    const mapPrice = chunk.retail?.mapPrice;
    // rows of a segment the segment breaker holds (set only when some segment of the chunk is held)
    const seg = chunk.segment?.held ? chunk.segment : undefined;
    // the agent step (pricing/agentStep.ts): the actor's price replaces the model's before the
    // guardrails; a row without the agent's state is rejected
    let proposed: Float64Array = modelPrice;
    let noState: Uint8Array | undefined;
    if (agent) {
      proposed = a.f64(n);
      noState = new Uint8Array(n);
      const cg = new Float64Array(n);
      for (let i = 0; i < n; i++) cg[i] = Number.isFinite(chunk.cost[i]) ? chunk.cost[i] : reservation;
      agent.propose(policy, {
        n, ids: chunk.ids, perProduct, cost: cg, currentPrice: chunk.currentPrice, minPrice: chunk.minPrice, maxPrice: chunk.maxPrice,
        mapPrice, inventory: chunk.retail?.inventory, daysLeft: chunk.retail?.daysLeft,
      }, proposed, noState);
    }

    const price = a.f64(n);
    const unrounded = out.explain ? a.f64(n) : undefined;
    for (let i = 0; i < n; i++) {
      if (rs && rs.reject[i]) {
        price[i] = NaN;
        out.status[i] = STATUS_CODE.rejected;
        out.reasons[i] = (idx[i] === 0 ? REASON_BIT.cold_start : 0) | rs.reject[i];
        continue;
      }
      if (noState && noState[i]) {
        price[i] = NaN;
        out.status[i] = STATUS_CODE.rejected;
        out.reasons[i] = (idx[i] === 0 ? REASON_BIT.cold_start : 0) | REASON_BIT.out_of_domain;
        continue;
      }
      const r = applyPolicy(
        policy,
        {
          productId: perProduct ? chunk.ids[i] : '',
          modelPrice: proposed[i],
          cost: c[i],
          currentPrice: chunk.currentPrice[i],
          minPrice: chunk.minPrice[i],
          maxPrice: chunk.maxPrice[i],
          mapPrice: mapPrice ? mapPrice[i] : NaN,
          gamma: g0 ? g0[i] : -1,
          stdError: se[i],
        },
        idx[i] === 0,
        seg !== undefined && seg.codes[i] >= 0 && seg.held![seg.codes[i]] === 1,
      );
      price[i] = r.price;
      if (unrounded) unrounded[i] = r.unrounded;
      out.status[i] = r.status;
      out.reasons[i] = r.reasons;
    }
    // Greeks and win probability at the published price (rejected rows carry NaN and are masked).
    const safeP = a.f64(n);
    for (let i = 0; i < n; i++) safeP[i] = Number.isFinite(price[i]) ? price[i] : modelPrice[i] > 0 ? modelPrice[i] : q.price[i];
    const win = a.f64(n);
    core.k.winProbabilityAt(family, scale, n, u.byteOffset, safeP.byteOffset, win.byteOffset);
    const g = rs ? retailGreeks(core, cm, u, c, safeP, rs, chunk.currentPrice) : greeks(core, { kind: 'winProbability', family: cm.noise.family }, greeksInput(u, c, safeP, scale), { views: true });

    for (let i = 0; i < n; i++) {
      const p = price[i];
      const ce = rs !== undefined && rs.ce[i] === 1;
      out.modelPrice[i] = bad[i] ? NaN : modelPrice[i];
      out.priceStdError[i] = bad[i] || ce || !Number.isFinite(se[i]) ? NaN : se[i];
      const ok = !bad[i] && Number.isFinite(p) && (ce || Number.isFinite(win[i])) && Number.isFinite(g.delta[i]) && Number.isFinite(g.gamma[i]) && Number.isFinite(g.vega[i]);
      if (!ok || out.status[i] === STATUS_CODE.rejected) {
        // one cause per rejection: the policy's, else the numbers left the domain (an unpriceable
        // row's guardrail codes came from a placeholder price and are dropped)
        const cause = bad[i] === BAD_COST ? REASON_BIT.invalid_cost : out.status[i] === STATUS_CODE.rejected && !bad[i] ? out.reasons[i] & REJECTION_BITS : 0;
        out.status[i] = STATUS_CODE.rejected;
        out.reasons[i] = (idx[i] === 0 ? REASON_BIT.cold_start : 0) | (cause || REASON_BIT.out_of_domain);
        out.price[i] = NaN;
        out.winProbability[i] = NaN;
        out.expectedProfit[i] = NaN;
        out.delta[i] = NaN;
        out.gamma[i] = NaN;
        out.vega[i] = NaN;
        out.changePct[i] = NaN;
        if (out.blendWeight) out.blendWeight[i] = NaN;
        if (out.explain) for (const k of presentExplainKeys(out.explain)) out.explain[k]![i] = NaN;
        continue;
      }
      out.price[i] = p;
      out.winProbability[i] = ce ? NaN : win[i];
      // with returns or constant elasticity, Pi = Q M from the Greeks kernel (docs/math.md §4.1)
      out.expectedProfit[i] = rs && (ce || rs.rate[i] !== 0) ? g.profit[i] : (p - c[i]) * win[i];
      out.delta[i] = g.delta[i];
      out.gamma[i] = g.gamma[i];
      out.vega[i] = g.vega[i];
      const prev = chunk.currentPrice[i];
      out.changePct[i] = Number.isFinite(prev) && prev !== 0 ? (100 * (p - prev)) / prev : NaN;
      if (out.blendWeight) out.blendWeight[i] = rs ? rs.weight[i] : NaN;
      if (out.explain) {
        const e = out.explain;
        const base = rs ? rs.base[i] : q.price[i];
        e.basePrice[i] = base;
        e.returnAdjustment[i] = rs ? rs.returns[i] - base : 0;
        e.inventoryAdjustment[i] = rs ? rs.inventory[i] - rs.returns[i] : 0;
        e.coldStartAdjustment[i] = rs ? rs.blended[i] - rs.inventory[i] : 0;
        if (e.agentAdjustment) e.agentAdjustment[i] = proposed[i] - modelPrice[i];
        e.guardrailAdjustment[i] = unrounded![i] - proposed[i];
        e.roundingAdjustment[i] = p - unrounded![i];
      }
    }
    return out;
  });
}

/** Why the core could not price a row: its numbers leave the price domain, or its cost is negative. */
const BAD_DOMAIN = 1;
const BAD_COST = 2;

/**
 * Gamma of the row's own expected profit at its returns-step optimum: the win probability (with
 * the row's returns) or constant elasticity (docs/math.md §4.2); the breaker trips on Gamma >= 0.
 */
function breakerGamma(core: WasmCore, cm: CompiledModel, u: Float64Array, c: Float64Array, P: Float64Array, rs: RetailSteps | undefined, cur: Float64Array): Float64Array {
  if (!rs) return greeks(core, { kind: 'winProbability', family: cm.noise.family }, greeksInput(u, c, P, cm.noise.scale), { views: true }).gamma;
  const safe = core.arena.f64(P.length);
  for (let i = 0; i < P.length; i++) safe[i] = P[i] > 0 && Number.isFinite(P[i]) ? P[i] : 1;
  return retailGreeks(core, cm, u, c, safe, rs, cur).gamma;
}

/**
 * The Greeks of each row's expected profit with its returns: the win-probability family for
 * rows without an elasticity, constant elasticity (Q0 = 1 at P0 = current price, else at P) for
 * the others. Two kernel calls over the chunk, one per family, and a per-row pick.
 */
function retailGreeks(core: WasmCore, cm: CompiledModel, u: Float64Array, c: Float64Array, P: Float64Array, rs: RetailSteps, cur: Float64Array): Greeks {
  const n = P.length;
  const a = core.arena;
  const curve = rs.curveOf;
  const Rmin = a.f64(n);
  const Rmax = a.f64(n);
  for (let i = 0; i < n; i++) {
    const R = rs.rate[i];
    Rmin[i] = Number.isNaN(R) ? rs.rMinRow![i] : R;
    Rmax[i] = Number.isNaN(R) ? rs.rMaxRow![i] : R;
  }
  const returns = { Cret: rs.returnCost, Rmin, Rmax, kR: curve ? curve.slope : 0, Pmid: curve ? curve.midpoint : 0, deltaQ: 0, holding: 0, inventory: 0 };
  const safeC = a.f64(n);
  for (let i = 0; i < n; i++) safeC[i] = Number.isFinite(c[i]) ? c[i] : 0;
  // the domain holds by construction (finite u and C, P > 0 where used, sigma > 0): no per-element checks
  const wp = greeksUnchecked(core, { kind: 'winProbability', family: cm.noise.family }, n, { ...returns, P, C: safeC, A: 1, B: u, E: cm.noise.scale });
  let any = false;
  for (let i = 0; i < n && !any; i++) any = rs.ce[i] === 1;
  if (!any) return wp;
  const P0 = a.f64(n);
  const E = a.f64(n);
  const Pce = a.f64(n);
  for (let i = 0; i < n; i++) {
    const ce = rs.ce[i] === 1;
    Pce[i] = P[i] > 0 ? P[i] : 1;
    P0[i] = ce && cur[i] > 0 ? cur[i] : Pce[i];
    E[i] = ce ? rs.eps![i] : -2;
  }
  const g = greeksUnchecked(core, { kind: 'constantElasticity' }, n, { ...returns, P: Pce, C: safeC, A: 1, B: P0, E });
  for (const k of ['profit', 'delta', 'gamma', 'vega', 'vanna', 'rho', 'theta'] as const) {
    const dst = wp[k];
    const src = g[k];
    for (let i = 0; i < n; i++) if (rs.ce[i] === 1) dst[i] = src[i];
  }
  return wp;
}

/** Greeks inputs for expected profit (P - C) N (1 - F((P - u)/sigma)) with N = 1 and no returns. */
function greeksInput(u: Float64Array, c: Float64Array, P: Float64Array, scale: number) {
  return { P, C: c, Cret: 0, Rmin: 0, Rmax: 0, kR: 0, Pmid: 0, A: 1, B: u, E: scale, deltaQ: 0, holding: 0, inventory: 0 };
}
