/**
 * Typed wrapper of the market kernels (assembly/market.ts, docs/math.md §2): a nested-logit market
 * laid out once in WASM linear memory, its potential ER(p), gradient (supply − expected demand),
 * supply and demand vectors, and the one-participant stochastic oracles.
 */
import { RepricerError } from '../core/errors.js';
import { defaultCore, type WasmCore } from '../core/wasm.js';

/** A market as typed arrays (the kernels' layout). */
export interface Market {
  /** overall nested-logit scale μ > 0 */
  mu: number;
  /** scale μ_l of each nest, 0 < μ_l ≤ μ (L) */
  muNest: Float64Array;
  /** nest index 0..L-1 of each product (n); every nest holds at least one product */
  nest: Int32Array;
  /** consumer weights w_j > 0 (m) */
  weight: Float64Array;
  /** values a_{j,i}, consumer-major (m × n) */
  values: Float64Array;
  /** adjustment-cost weight β_k > 0 (K) */
  beta: Float64Array;
  /** unit costs c_{k,i}, supplier-major (K × n) */
  costs: Float64Array;
  /** capacities x̄_{k,i} ≥ 0, supplier-major (K × n) */
  capacity: Float64Array;
  /** a no-purchase alternative with utility 0 */
  outsideOption: boolean;
}

export interface MarketSize {
  n: number;
  m: number;
  L: number;
  K: number;
}

/** Check a market's shapes and domain; INVALID_ARGUMENT naming the field. Returns its sizes. */
export function checkMarket(mk: Market): MarketSize {
  const bad = (field: string, what: string): never => {
    throw new RepricerError('INVALID_ARGUMENT', `market: ${field}: ${what}`, { field });
  };
  const n = mk.nest.length;
  const L = mk.muNest.length;
  const m = mk.weight.length;
  const K = mk.beta.length;
  if (n < 1) bad('nest', 'the market needs at least one product');
  if (L < 1) bad('muNest', 'the market needs at least one nest');
  if (!(Number.isFinite(mk.mu) && mk.mu > 0)) bad('mu', `must be finite and > 0, got ${mk.mu}`);
  mk.muNest.forEach((v, l) => {
    if (!(Number.isFinite(v) && v > 0 && v <= mk.mu)) bad(`muNest[${l}]`, `must be in (0, mu = ${mk.mu}], got ${v}`);
  });
  const used = new Uint8Array(L);
  mk.nest.forEach((l, i) => {
    if (!(Number.isInteger(l) && l >= 0 && l < L)) bad(`nest[${i}]`, `must be a nest index in [0, ${L}), got ${l}`);
    used[l] = 1;
  });
  used.forEach((u, l) => {
    if (!u) bad(`muNest[${l}]`, 'the nest holds no product');
  });
  if (m + K < 1) bad('weight', 'the market needs at least one consumer or supplier');
  mk.weight.forEach((v, j) => {
    if (!(Number.isFinite(v) && v > 0)) bad(`weight[${j}]`, `must be finite and > 0, got ${v}`);
  });
  mk.beta.forEach((v, k) => {
    if (!(Number.isFinite(v) && v > 0)) bad(`beta[${k}]`, `must be finite and > 0, got ${v}`);
  });
  const shape = (field: string, a: Float64Array, rows: number, nonNeg: boolean) => {
    if (a.length !== rows * n) bad(field, `must hold ${rows} x ${n} values, got ${a.length}`);
    for (let x = 0; x < a.length; x++) {
      const v = a[x];
      if (!Number.isFinite(v) || (nonNeg && v < 0)) bad(`${field}[${Math.floor(x / n)}][${x % n}]`, `must be finite${nonNeg ? ' and >= 0' : ''}, got ${v}`);
    }
  };
  shape('values', mk.values, m, false);
  shape('costs', mk.costs, K, false);
  shape('capacity', mk.capacity, K, true);
  return { n, m, L, K };
}

/**
 * Why a market has no clearing prices (docs/math.md §2.1), or null when it has them: a product
 * with capacity 0 at every supplier (its demand is positive at every price), or, without an
 * outside option, a total capacity not above the consumers' total weight (every consumer buys a
 * unit, so demand can never fall to supply). Index i names the product.
 */
export function clearingProblem(mk: Market): { product?: number; message: string } | null {
  const n = mk.nest.length;
  const K = mk.beta.length;
  let all = 0;
  for (let i = 0; i < n; i++) {
    let total = 0;
    for (let k = 0; k < K; k++) total += mk.capacity[k * n + i];
    if (!(total > 0)) return { product: i, message: 'has capacity 0 at every supplier: no finite price clears it' };
    all += total;
  }
  if (!mk.outsideOption) {
    let w = 0;
    for (const v of mk.weight) w += v;
    if (!(all > w)) return { message: `total capacity ${all} does not exceed the consumers' total weight ${w}: without an outside option every consumer buys a unit, so no finite prices clear the market` };
  }
  return null;
}

/** The smoothness bound L_ER = Σ_k 1/β_k + Σ_j w_j / min_l μ_l (docs/math.md §2.1). */
export function smoothnessBound(mk: Market): number {
  let s = 0;
  for (const b of mk.beta) s += 1 / b;
  let minMu = Infinity;
  for (const v of mk.muNest) minMu = Math.min(minMu, v);
  let w = 0;
  for (const v of mk.weight) w += v;
  return s + w / minMu;
}

export interface MarketState {
  /** ER(p) */
  value: number;
  /** Σ_k x_k(p) */
  supply: Float64Array;
  /** Σ_j w_j P_j(p) */
  demand: Float64Array;
  /** ∇ER(p) = supply − demand */
  grad: Float64Array;
}

/**
 * A market in WASM memory. Allocated in a scope of the core's arena, taken back by `dispose()`:
 * create and dispose in stack order with the arena's other scoped users.
 */
export class MarketPotential {
  readonly size: MarketSize;
  /** number of participants K + m (the oracle's uniform draw is over 0..K+m-1) */
  readonly participants: number;
  /** the smoothness bound of ER */
  readonly lipschitz: number;
  /** price scale max_{j,i} a_{j,i} + max_{k,i}(c_{k,i} + β_k x̄_{k,i}) (at least 1) */
  readonly scale: number;
  /** mean unit cost over suppliers and products (0 without suppliers) */
  readonly meanCost: number;
  /** why the market has no clearing prices (`clearingProblem`), or null */
  readonly clearingProblem: { product?: number; message: string } | null;
  private readonly core: WasmCore;
  private readonly mark: number;
  private readonly ptr: Record<'a' | 'w' | 'nest' | 'muL' | 'c' | 'cap' | 'beta' | 'work' | 'p' | 'supply' | 'demand' | 'grad' | 'g' | 'tmp', number>;
  private readonly mu: number;
  private readonly outside: number;
  private disposed = false;

  constructor(market: Market, core: WasmCore = defaultCore()) {
    this.size = checkMarket(market);
    this.clearingProblem = clearingProblem(market);
    const { n, m, L, K } = this.size;
    this.participants = K + m;
    this.lipschitz = smoothnessBound(market);
    let aMax = 0;
    for (const v of market.values) aMax = Math.max(aMax, v);
    let full = 0;
    for (let x = 0; x < market.costs.length; x++) full = Math.max(full, market.costs[x] + market.beta[Math.floor(x / n)] * market.capacity[x]);
    this.scale = Math.max(1, aMax + full);
    let cs = 0;
    for (const v of market.costs) cs += v;
    this.meanCost = market.costs.length ? cs / market.costs.length : 0;
    this.core = core;
    this.mu = market.mu;
    this.outside = market.outsideOption ? 1 : 0;
    const ar = core.arena;
    this.mark = ar.mark();
    const put = (src: Float64Array): number => ar.allocCopy(src);
    const nestPtr = ar.allocBytes(4 * n);
    new Int32Array(core.memory.buffer, nestPtr, n).set(market.nest);
    this.ptr = {
      a: put(market.values),
      w: put(market.weight),
      nest: nestPtr,
      muL: put(market.muNest),
      c: put(market.costs),
      cap: put(market.capacity),
      beta: put(market.beta),
      work: ar.alloc(core.k.marketWorkSize(L)),
      p: ar.alloc(n),
      supply: ar.alloc(n),
      demand: ar.alloc(n),
      grad: ar.alloc(n),
      g: ar.alloc(n),
      tmp: ar.alloc(n),
    };
  }

  private setup(p: ArrayLike<number>): void {
    if (this.disposed) throw new RepricerError('INTERNAL', 'MarketPotential: used after dispose()');
    const { n, m, L, K } = this.size;
    if (p.length !== n) throw new RepricerError('INVALID_ARGUMENT', `market: prices must hold ${n} values, got ${p.length}`);
    const P = this.ptr;
    this.core.k.marketSetup(n, m, L, K, this.mu, this.outside, P.a, P.w, P.nest, P.muL, P.c, P.cap, P.beta, P.work);
    this.core.arena.view(P.p, n).set(p);
  }

  /** ER(p), supply, demand and gradient (fresh arrays). */
  evaluate(p: ArrayLike<number>): MarketState {
    this.setup(p);
    const P = this.ptr;
    const n = this.size.n;
    const value = this.core.k.marketPotential(P.p, P.supply, P.demand, P.grad);
    const ar = this.core.arena;
    return { value, supply: ar.view(P.supply, n).slice(), demand: ar.view(P.demand, n).slice(), grad: ar.view(P.grad, n).slice() };
  }

  /** ER(p); writes ∇ER(p) into `grad`. */
  gradient(p: ArrayLike<number>, grad: Float64Array): number {
    this.setup(p);
    const P = this.ptr;
    const value = this.core.k.marketPotential(P.p, P.supply, P.demand, P.grad);
    grad.set(this.core.arena.view(P.grad, this.size.n));
    return value;
  }

  private participant(q: number): void {
    if (!(Number.isInteger(q) && q >= 0 && q < this.participants)) throw new RepricerError('INVALID_ARGUMENT', `market: participant must be an integer in [0, ${this.participants}), got ${q}`);
  }

  /** The one-participant oracle for participant q (suppliers 0..K-1, then consumers): writes g. */
  oracle(p: ArrayLike<number>, q: number, g: Float64Array): void {
    this.participant(q);
    this.setup(p);
    this.core.k.marketOracle(this.ptr.p, q, this.ptr.g);
    g.set(this.core.arena.view(this.ptr.g, this.size.n));
  }

  /** The sampled-purchase oracle (u uniform in [0, 1)): writes g, returns the product bought or -1. */
  oracleSampled(p: ArrayLike<number>, q: number, u: number, g: Float64Array): number {
    this.participant(q);
    if (!(u >= 0 && u < 1)) throw new RepricerError('INVALID_ARGUMENT', `market: u must be in [0, 1), got ${u}`);
    this.setup(p);
    const bought = this.core.k.marketOracleSampled(this.ptr.p, q, u, this.ptr.g, this.ptr.tmp);
    g.set(this.core.arena.view(this.ptr.g, this.size.n));
    return bought;
  }

  /** Give the market's memory back to the arena. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.core.arena.release(this.mark);
  }
}
