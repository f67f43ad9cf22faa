/** `repricer bench`: problem sizes and time budgets of each mode. */
export type Mode = 'smoke' | 'quick' | 'full';

export interface Sizes {
  /** rows of each kernel call, and the time spent measuring each kernel on each build */
  kernelRows: number;
  kernelDim: number;
  kernelBudgetMs: number;
  /** observations file of the fit: rows, features (an intercept is added), products */
  fitRows: number;
  fitFeatures: number;
  fitProducts: number;
  /** catalogue of the batch job: SKUs, model products, features */
  batchSkus: number;
  batchProducts: number;
  batchFeatures: number;
  /** HTTP: seconds per case (after a warm-up of a quarter of that), concurrent connections */
  httpSeconds: number;
  httpConnections: number;
  /** runs of each timed fit and batch case (the best is reported) */
  reps: number;
}

export const SIZES: Record<Mode, Sizes> = {
  // a few seconds in all: the test's mode, not a measurement
  smoke: { kernelRows: 2_000, kernelDim: 8, kernelBudgetMs: 30, fitRows: 3_000, fitFeatures: 4, fitProducts: 20, batchSkus: 4_000, batchProducts: 200, batchFeatures: 8, httpSeconds: 0.4, httpConnections: 4, reps: 1 },
  // about a minute on a 2-core machine
  quick: { kernelRows: 100_000, kernelDim: 16, kernelBudgetMs: 400, fitRows: 100_000, fitFeatures: 8, fitProducts: 200, batchSkus: 200_000, batchProducts: 5_000, batchFeatures: 16, httpSeconds: 2, httpConnections: 16, reps: 2 },
  full: { kernelRows: 1_000_000, kernelDim: 16, kernelBudgetMs: 1500, fitRows: 1_000_000, fitFeatures: 8, fitProducts: 1_000, batchSkus: 1_000_000, batchProducts: 20_000, batchFeatures: 16, httpSeconds: 8, httpConnections: 50, reps: 3 },
};

/** Run `fn` `reps` times; the best time (seconds) and every run. */
export async function bestOf<T>(reps: number, fn: () => Promise<T>): Promise<{ best: number; runs: number[]; last: T }> {
  const runs: number[] = [];
  let last!: T;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    last = await fn();
    runs.push((performance.now() - t0) / 1000);
  }
  return { best: Math.min(...runs), runs, last };
}
