/**
 * The baseline of a segment's noisy signals (docs/math.md §2.8): running mean and covariance of
 * a d-vector by Welford's update over the warm-up, then frozen as means, standard deviations and
 * correlations. Welford's form keeps its digits when a signal's mean is large against its spread.
 */
export class SignalBaseline {
  readonly dim: number;
  private n = 0;
  private readonly mean: Float64Array;
  /** Σ (x − mean)(x − mean)ᵀ, row-major d × d */
  private readonly m2: Float64Array;

  constructor(dim: number) {
    this.dim = dim;
    this.mean = new Float64Array(dim);
    this.m2 = new Float64Array(dim * dim);
  }

  get count(): number {
    return this.n;
  }

  /** Forget every observation. */
  clear(): void {
    this.n = 0;
    this.mean.fill(0);
    this.m2.fill(0);
  }

  /** Add one observation x (length d). */
  add(x: ArrayLike<number>): void {
    const d = this.dim;
    this.n++;
    const delta = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      delta[i] = x[i] - this.mean[i];
      this.mean[i] += delta[i] / this.n;
    }
    // M2 += (x − old mean)(x − new mean)ᵀ: the covariance form of Welford's update
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) this.m2[i * d + j] += delta[i] * (x[j] - this.mean[j]);
  }

  /** Means, sample standard deviations (n − 1) and the sample covariance matrix. */
  snapshot(): { mean: Float64Array; sd: Float64Array; cov: Float64Array } {
    const d = this.dim;
    const den = Math.max(1, this.n - 1);
    const cov = new Float64Array(d * d);
    for (let i = 0; i < d * d; i++) cov[i] = this.m2[i] / den;
    // the two triangles differ by round-off only; use their average so the matrix is exactly symmetric
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) cov[i * d + j] = cov[j * d + i] = (cov[i * d + j] + cov[j * d + i]) / 2;
    const sd = new Float64Array(d);
    for (let i = 0; i < d; i++) sd[i] = Math.sqrt(Math.max(0, cov[i * d + i]));
    return { mean: Float64Array.from(this.mean), sd, cov };
  }
}
