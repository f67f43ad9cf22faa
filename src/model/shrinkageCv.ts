/**
 * The data-driven choice of the stage-II constant c_λ of the TSMT estimator (docs/math.md §1.8,
 * "Choice of c_λ"): K-fold held-out censored log-likelihood over a log-spaced grid, with the
 * one-standard-error rule.
 *
 * This file holds the two pieces that do not touch the rows: the seeded fold assignment of each
 * product's rows, and the rule that turns the held-out scores into a choice. The folds are run
 * by the TSMT skeleton (src/model/tsmt.ts selectSteps): per fold, stage I on the training rows
 * (held-out rows at weight 0) and, per product, the stage-II chain over the grid on the training
 * rows, scored on the held-out rows (src/model/stages.ts heldOutChain) by the core's likelihood
 * kernel. Nothing here loops over rows on a hot path: the assignment is one shuffle per product
 * when the rows are laid out, the rule works on (fold, product) sums.
 *
 * Why K folds and not one 80/20 split: with 20–500 rows per product a single split scores every
 * c_λ on one fifth of the rows, and the noise of that score is larger than the difference
 * between "no deviation" and "a tiny one" (docs/regret.md). K folds score every row once.
 * Why the one-standard-error rule: among values whose score cannot be told from the best one,
 * prefer the one that shrinks most (the simpler model; Hastie, Tibshirani, Friedman, The
 * Elements of Statistical Learning, §7.10). The standard error is that of the paired difference
 * to the best value, summed over the (fold, product) units, so the noise shared by all values
 * (which rows a fold happens to hold) cancels.
 */
import { RepricerError } from '../core/errors.js';
import { splitmix32 } from '../core/random.js';

/** Folds of the held-out choice of c_λ. */
export const CV_FOLDS = 5;
/** Seed of the fold assignment (fixed: a fit is a deterministic function of its rows). */
export const CV_SEED = 1;

/** How the held-out scores choose c_λ: the largest c_λ within one standard error of the best, or the best. */
export type ShrinkageRule = 'one-se' | 'max';
export const SHRINKAGE_RULES: readonly ShrinkageRule[] = ['one-se', 'max'];
export const DEFAULT_SHRINKAGE_RULE: ShrinkageRule = 'one-se';

/**
 * Fold labels of a product's n rows (in file order): the balanced labels 0, 1, …, K−1, 0, 1, …
 * (so fold sizes differ by at most one) in an order shuffled by Fisher–Yates with a generator
 * seeded by (seed, product). Deterministic; a product's labels do not depend on other products.
 */
export function foldLabels(n: number, K: number, seed: number, product: number): Uint8Array {
  if (!Number.isInteger(K) || K < 2 || K > 255) throw new RepricerError('INVALID_ARGUMENT', `foldLabels: K must be an integer in [2, 255], got ${K}`);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) labels[r] = r % K;
  const st = { s: (Math.imul(seed | 0, 0x27d4eb2d) ^ Math.imul((product | 0) + 1, 0x165667b1)) | 0 };
  splitmix32(st);
  for (let j = n - 1; j > 0; j--) {
    const k = Math.floor((splitmix32(st) / 4294967296) * (j + 1));
    const t = labels[j];
    labels[j] = labels[k];
    labels[k] = t;
  }
  return labels;
}

/** What the rule chose, with the evidence (written to the model's fit.lambda). */
export interface ShrinkageChoice {
  /** the chosen c_λ */
  c: number;
  rule: ShrinkageRule;
  /** the c_λ with the largest summed held-out log-likelihood (exact ties to the larger) */
  bestC: number;
  /** per grid value: Σ over folds and products of the held-out log-likelihood */
  heldOutLogLikelihood: number[];
  /**
   * per grid value: standard error of its summed paired difference to the best value,
   * √U·sd_u(ll_u(c) − ll_u(best)) over the U (fold, product) units with held-out rows (0 at the best)
   */
  heldOutStdErr: number[];
  /** U */
  units: number;
}

/**
 * Choose c_λ from held-out scores. `units[u][k]` is unit u's held-out log-likelihood at grid
 * value `grid[k]` (a unit is one product in one fold, with at least one held-out row).
 * - `max`: the grid value with the largest Σ_u units[u][k] (exact ties to the larger c_λ);
 * - `one-se`: the largest c_λ ≥ that value whose sum is at most one standard error of the paired
 *   difference below the best sum (the file comment).
 */
export function chooseShrinkage(grid: readonly number[], units: readonly ArrayLike<number>[], rule: ShrinkageRule): ShrinkageChoice {
  const G = grid.length;
  if (G === 0) throw new RepricerError('INVALID_ARGUMENT', 'chooseShrinkage: the grid is empty');
  if (!SHRINKAGE_RULES.includes(rule)) throw new RepricerError('INVALID_ARGUMENT', `chooseShrinkage: rule must be one of ${SHRINKAGE_RULES.join(', ')}, got ${JSON.stringify(rule)}`);
  const U = units.length;
  const total = new Array<number>(G).fill(0);
  for (const u of units) {
    if (u.length !== G) throw new RepricerError('INTERNAL', `chooseShrinkage: a unit has ${u.length} scores for a grid of ${G}`);
    for (let k = 0; k < G; k++) total[k] += u[k];
  }
  let best = 0;
  for (let k = 1; k < G; k++) {
    if (total[k] > total[best] || (total[k] === total[best] && grid[k] > grid[best])) best = k;
  }
  const se = new Array<number>(G).fill(0);
  for (let k = 0; k < G; k++) {
    if (k === best || U < 2) continue;
    let mean = 0;
    for (const u of units) mean += u[k] - u[best];
    mean /= U;
    let ss = 0;
    for (const u of units) ss += (u[k] - u[best] - mean) ** 2;
    se[k] = Math.sqrt(U * (ss / (U - 1)));
  }
  let chosen = best;
  if (rule === 'one-se') {
    for (let k = 0; k < G; k++) {
      if (grid[k] > grid[chosen] && total[best] - total[k] <= se[k]) chosen = k;
    }
  }
  return { c: grid[chosen], rule, bestC: grid[best], heldOutLogLikelihood: total, heldOutStdErr: se, units: U };
}
