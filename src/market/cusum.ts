/**
 * Page's two-sided CUSUM (docs/math.md §2.8) on a standardised score Y_t:
 *
 *   S⁺_t = max(0, S⁺_{t−1} + Y_t − k),   S⁻_t = max(0, S⁻_{t−1} − Y_t − k),   alarm when S⁺ or S⁻ > h
 *
 * Each side also keeps the change-point estimate (the first period after it was last at 0, the
 * maximum-likelihood change time for a shift of the mean) and, optionally, a vector of
 * contributions summed since then: when Y_t = Σ_i c_{t,i} the sums split S + k·n among the c_i.
 */
export interface CusumSide {
  /** the statistic S ≥ 0 */
  s: number;
  /** periods since the side was last at 0 */
  n: number;
  /** the time of the first of those periods (NaN when n = 0) */
  since: number;
  /** Σ ± c over those periods */
  acc: Float64Array;
}

export class TwoSidedCusum {
  readonly k: number;
  readonly h: number;
  readonly up: CusumSide;
  readonly down: CusumSide;

  constructor(k: number, h: number, parts = 0) {
    this.k = k;
    this.h = h;
    this.up = { s: 0, n: 0, since: NaN, acc: new Float64Array(parts) };
    this.down = { s: 0, n: 0, since: NaN, acc: new Float64Array(parts) };
  }

  reset(): void {
    for (const sd of [this.up, this.down]) {
      sd.s = 0;
      sd.n = 0;
      sd.since = NaN;
      sd.acc.fill(0);
    }
  }

  /** One period with score y (and its parts, Σ parts = y): the side that crossed h, or null. */
  step(y: number, time = NaN, parts?: ArrayLike<number>): 'up' | 'down' | null {
    this.side(this.up, y, 1, time, parts);
    this.side(this.down, y, -1, time, parts);
    const h = this.h;
    if (!(this.up.s > h || this.down.s > h)) return null;
    return this.up.s >= this.down.s ? 'up' : 'down';
  }

  private side(sd: CusumSide, y: number, sign: 1 | -1, time: number, parts?: ArrayLike<number>): void {
    const next = sd.s + sign * y - this.k;
    if (next <= 0) {
      sd.s = 0;
      sd.n = 0;
      sd.since = NaN;
      sd.acc.fill(0);
      return;
    }
    if (sd.n === 0) sd.since = time;
    sd.s = next;
    sd.n++;
    if (parts) for (let i = 0; i < sd.acc.length; i++) sd.acc[i] += sign * parts[i];
  }
}
