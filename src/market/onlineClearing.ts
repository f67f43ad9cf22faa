/**
 * Online clearing (docs/math.md §2.9): the marketplace's event stream as the stochastic oracle of
 * §2.2. Every consumer draw (a search that bought nothing, or a booking) and every supplier draw (a
 * listing with its offered quantities) is one participant the market shows us; its own term of
 * the potential's gradient, scaled to be unbiased, steps the zone-level prices by projected
 * AdaGrad or SGD, and the Polyak–Ruppert average of the iterates is the published price.
 *
 * The per-event estimates, with λ the share of supplier draws among all draws, W = Σ_j w_j the
 * consumers' mass and K the number of suppliers:
 *   search (bought nothing)     g = 0
 *   booking of product i        g = −W/(1−λ) · e_i
 *   listing, quantities x       g =  K/λ · x
 * These are the paper's sampled-purchase oracle with the stream's draw probabilities, so
 * E[g] = Σ_k x_k(p) − Σ_j w_j P_j(p) = ∇ER(p) (§2.9 says why).
 *
 * No kernel call: an event touches the products it names, and the average is kept lazily (each
 * coordinate folds in its held value when it next moves or is read), so an event costs O(touched).
 */
import { RepricerError } from '../core/errors.js';
import { defaultStep, priceScale } from './solvers.js';
import type { Market, MarketPotential } from './potential.js';

export const ONLINE_METHODS = ['adagrad', 'sgd'] as const;
export type OnlineMethod = (typeof ONLINE_METHODS)[number];

export interface OnlineClearingOptions {
  /** default adagrad */
  method?: OnlineMethod;
  /** adagrad η (default scale/100) or sgd η_0 (default 10/L_ER), as the batch solvers (§2.3) */
  eta?: number;
  /** the price box (default [0, 2·scale]); every iterate is projected into it */
  box?: { min: number; max: number };
  /**
   * λ, the share of supplier draws among all draws: a number in (0, 1), or 'observed' (default):
   * the running share (listings + λ₀)/(draws + 1) with λ₀ = K/(K+m) of the market file as one
   * prior draw
   */
  listingShare?: number | 'observed';
  /** the first iterate (default: all prices at the box's lower end) */
  start?: ArrayLike<number>;
}

/** The counts of the events seen. */
export interface StreamCounts {
  /** consumer draws that bought nothing */
  searches: number;
  /** consumer draws that bought a product */
  bookings: number;
  /** supplier draws */
  listings: number;
  /** steps taken, one a draw: searches + bookings + listings */
  steps: number;
}

/** One supplier's offered quantity of one product. */
export interface OfferedQuantity {
  product: number;
  quantity: number;
}

export class OnlineClearing {
  readonly n: number;
  /** W = Σ_j w_j, the consumers' total mass */
  readonly consumerMass: number;
  /** K, the number of suppliers */
  readonly suppliers: number;
  readonly method: OnlineMethod;
  readonly eta: number;
  readonly box: { min: number; max: number };
  readonly listingShare: number | 'observed';
  /** λ₀ = K/(K+m): the prior share of supplier draws */
  readonly priorListingShare: number;
  private readonly p: Float64Array;
  /** AdaGrad's running sum of squared estimates, per product */
  private readonly G: Float64Array;
  /** lazy Polyak–Ruppert average: Σ weight × held value up to lastCum, per product */
  private readonly sum: Float64Array;
  private readonly lastCum: Float64Array;
  /** total averaging weight of the steps taken */
  private cum = 0;
  private readonly counts: StreamCounts = { searches: 0, bookings: 0, listings: 0, steps: 0 };

  constructor(market: Market, pot: MarketPotential, o: OnlineClearingOptions = {}) {
    const n = pot.size.n;
    this.n = n;
    let w = 0;
    for (const v of market.weight) w += v;
    if (market.nest.length !== n || market.beta.length !== pot.size.K) throw new RepricerError('INVALID_ARGUMENT', 'online clearing: the market and its potential differ in size');
    this.consumerMass = w;
    this.suppliers = pot.size.K;
    this.priorListingShare = pot.size.K / pot.participants;
    const method = o.method ?? 'adagrad';
    if (!(ONLINE_METHODS as readonly string[]).includes(method)) throw new RepricerError('INVALID_ARGUMENT', `online clearing: method must be one of ${ONLINE_METHODS.join(', ')}, got ${String(method)}`);
    this.method = method;
    this.eta = o.eta ?? defaultStep(pot, method);
    if (!(Number.isFinite(this.eta) && this.eta > 0)) throw new RepricerError('INVALID_ARGUMENT', `online clearing: eta must be a finite number > 0, got ${this.eta}`);
    this.box = o.box ?? { min: 0, max: 2 * priceScale(pot) };
    if (!(Number.isFinite(this.box.min) && Number.isFinite(this.box.max) && this.box.min >= 0 && this.box.max > this.box.min)) throw new RepricerError('INVALID_ARGUMENT', `online clearing: box must satisfy 0 <= min < max (finite), got [${this.box.min}, ${this.box.max}]`);
    const share = o.listingShare ?? 'observed';
    if (share !== 'observed' && !(typeof share === 'number' && share > 0 && share < 1)) throw new RepricerError('INVALID_ARGUMENT', `online clearing: listingShare must be a number in (0, 1) or 'observed', got ${String(share)}`);
    this.listingShare = share;
    this.p = new Float64Array(n).fill(this.box.min);
    if (o.start) {
      if (o.start.length !== n) throw new RepricerError('INVALID_ARGUMENT', `online clearing: start must hold ${n} prices, got ${o.start.length}`);
      for (let i = 0; i < n; i++) {
        const v = o.start[i];
        if (!Number.isFinite(v)) throw new RepricerError('INVALID_ARGUMENT', `online clearing: start[${i}] must be finite, got ${v}`);
        this.p[i] = Math.min(Math.max(v, this.box.min), this.box.max);
      }
    }
    this.G = new Float64Array(n);
    this.sum = new Float64Array(n);
    this.lastCum = new Float64Array(n);
  }

  /** λ for the next event: the fixed share, or the running share of supplier draws so far. */
  currentListingShare(): number {
    if (this.listingShare !== 'observed') return this.listingShare;
    const c = this.counts;
    return (c.listings + this.priorListingShare) / (c.steps + 1);
  }

  /** The scale of a booking's estimate, W/(1−λ), and of a listing's, K/λ (§2.9). */
  estimateScales(): { booking: number; listing: number } {
    const lambda = this.currentListingShare();
    return { booking: this.consumerMass / (1 - lambda), listing: this.suppliers / lambda };
  }

  /** A consumer draw that bought nothing (a search): g = 0, one step. */
  search(): void {
    this.begin();
    this.counts.searches++;
  }

  /** A consumer draw that bought product i (a booking): g = −W/(1−λ) e_i. */
  booking(product: number): void {
    this.checkProduct(product, 'booking');
    const s = this.estimateScales().booking;
    this.begin();
    this.counts.bookings++;
    this.move(product, -s);
  }

  /** A supplier draw with its offered quantities (products it does not name: 0): g = K/λ · x. */
  listing(offer: readonly OfferedQuantity[]): void {
    const seen = new Set<number>();
    for (const o of offer) {
      this.checkProduct(o.product, 'listing');
      if (!(Number.isFinite(o.quantity) && o.quantity >= 0)) throw new RepricerError('INVALID_ARGUMENT', `online clearing: listing quantity of product ${o.product} must be finite and >= 0, got ${o.quantity}`);
      if (seen.has(o.product)) throw new RepricerError('INVALID_ARGUMENT', `online clearing: listing names product ${o.product} twice`);
      seen.add(o.product);
    }
    const s = this.estimateScales().listing;
    this.begin();
    this.counts.listings++;
    for (const o of offer) if (o.quantity > 0) this.move(o.product, s * o.quantity);
  }

  /** The current iterate p_t (a copy). */
  iterate(): Float64Array {
    return Float64Array.from(this.p);
  }

  /** The Polyak–Ruppert average of p_0 .. p_{T−1} after T steps (the start before any step). */
  averaged(): Float64Array {
    const out = new Float64Array(this.n);
    if (this.cum === 0) {
      out.set(this.p);
      return out;
    }
    // an average of points of the box lies in the box; the clip only absorbs rounding
    const { min, max } = this.box;
    for (let i = 0; i < this.n; i++) out[i] = Math.min(Math.max((this.sum[i] + this.p[i] * (this.cum - this.lastCum[i])) / this.cum, min), max);
    return out;
  }

  stats(): StreamCounts {
    return { ...this.counts };
  }

  private checkProduct(i: number, what: string): void {
    if (!(Number.isInteger(i) && i >= 0 && i < this.n)) throw new RepricerError('INVALID_ARGUMENT', `online clearing: ${what} product must be an index in [0, ${this.n}), got ${i}`);
  }

  /**
   * Start step t: the current iterate p_t joins the average with weight 1 (adagrad) or η_t (sgd),
   * as in the batch solvers (§2.3).
   */
  private begin(): void {
    const t = this.counts.steps++;
    this.cum += this.method === 'adagrad' ? 1 : this.eta / Math.sqrt(t + 1);
  }

  /** Move product i by the estimate g_i of the current step (projected into the box). */
  private move(i: number, g: number): void {
    // fold the value held since the last move into the average, then step
    this.sum[i] += this.p[i] * (this.cum - this.lastCum[i]);
    this.lastCum[i] = this.cum;
    let step: number;
    if (this.method === 'adagrad') {
      this.G[i] += g * g;
      step = (this.eta * g) / (Math.sqrt(this.G[i]) + 1e-8);
    } else {
      step = (this.eta / Math.sqrt(this.counts.steps)) * g;
    }
    this.p[i] = Math.min(Math.max(this.p[i] - step, this.box.min), this.box.max);
  }
}
