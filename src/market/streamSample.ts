/**
 * Participant draws from a market's own model (docs/math.md §2.9): what an event stream looks like
 * when the market file is the truth. A draw is a supplier with probability λ (uniform over the K
 * suppliers, offering its supply x_k(p)), else a consumer (type j with probability w_j / W) who
 * searches and buys product i with probability P_j(i) (or nothing). The tests, the HTTP benchmark
 * and the examples feed these to online clearing; the WASM oracles of §2.2 give x_k(p) and the
 * sampled purchase.
 */
import { RepricerError } from '../core/errors.js';
import type { Market, MarketPotential } from './potential.js';
import type { MarketRng } from './random.js';
import type { OfferedQuantity } from './onlineClearing.js';

export type MarketDraw = { kind: 'consumer'; purchase: number } | { kind: 'supplier'; offer: OfferedQuantity[] };

export class StreamSampler {
  private readonly cumWeight: Float64Array;
  private readonly g: Float64Array;

  constructor(
    market: Market,
    private readonly pot: MarketPotential,
    /** λ, the probability that a draw is a supplier */
    readonly listingShare: number,
  ) {
    if (!(listingShare > 0 && listingShare < 1)) throw new RepricerError('INVALID_ARGUMENT', `stream sampler: listingShare must be in (0, 1), got ${listingShare}`);
    this.cumWeight = new Float64Array(market.weight.length);
    let s = 0;
    market.weight.forEach((w, j) => (this.cumWeight[j] = s += w));
    this.g = new Float64Array(pot.size.n);
  }

  /** One participant at prices p: a consumer's purchase (product index, −1 for none) or a supplier's offer. */
  draw(p: ArrayLike<number>, rng: MarketRng): MarketDraw {
    const { K } = this.pot.size;
    const N = this.pot.participants;
    if (rng.uniform() < this.listingShare) {
      const k = rng.below(K);
      // the oracle of supplier k is (K+m)·x_k(p)
      this.pot.oracle(p, k, this.g);
      const offer: OfferedQuantity[] = [];
      for (let i = 0; i < this.g.length; i++) if (this.g[i] > 0) offer.push({ product: i, quantity: this.g[i] / N });
      return { kind: 'supplier', offer };
    }
    const W = this.cumWeight[this.cumWeight.length - 1];
    const u = rng.uniform() * W;
    let j = 0;
    while (j < this.cumWeight.length - 1 && this.cumWeight[j] <= u) j++;
    const purchase = this.pot.oracleSampled(p, K + j, rng.uniform(), this.g);
    return { kind: 'consumer', purchase };
  }
}
