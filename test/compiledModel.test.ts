/**
 * compileModel: the coefficient table, the product index and the covariances in the delta-method
 * kernel's layout (diagonal matrices as their diagonal, others as packed triangles), checked
 * against the dense matrices worked out here from the model file's fields (docs/math.md §5.3).
 */
import { describe, it, expect } from 'vitest';
import { compileModel } from '../src/pricing/compiledModel.js';
import type { Model } from '../src/model/format.js';
import { RepricerError } from '../src/core/errors.js';

/** Matrix k of a compiled model as a dense D x D array, read back through covAt. */
function denseOf(cov: Float64Array, covAt: Int32Array, k: number, D: number): number[] {
  const out = new Array<number>(D * D).fill(0);
  const at = covAt[k];
  if (at < 0) {
    for (let r = 0; r < D; r++) out[r * D + r] = cov[-at - 1 + r];
    return out;
  }
  let o = at;
  for (let r = 0; r < D; r++) for (let c = r; c < D; c++) out[r * D + c] = out[c * D + r] = cov[o++];
  return out;
}

const full = [0.04, 0.01, -0.002, 0.01, 0.09, 0.003, -0.002, 0.003, 0.16];

function model(): Model {
  return {
    format: 'repricer.model',
    version: 1,
    features: ['f1', 'f2'],
    intercept: true,
    reservation: 3,
    noise: { family: 'gaussian', scale: 1.5 },
    common: { theta: [1, 0.5, -0.25], n: 100, stdErr: [0.1, 0.2, 0.3] },
    products: {
      A: { theta: [1.5, 0.25, 0], n: 10, stdErr: [0.5, 0.25, 0.125] },
      B: { theta: [0.5, 1, -1], n: 20, cov: full },
      C: { theta: [2, 0, 0.5], n: 5, cov: [1, 0, 0, 0, 2, 0, 0, 0, 3] },
      D: { theta: [1, 0.5, -0.25], n: 1 },
    },
  } as unknown as Model;
}

describe('compileModel', () => {
  it('covariances in the kernel layout equal the dense matrices of the model file; the common one carries the between-product spread', () => {
    const m = model();
    const cm = compileModel(m);
    const D = 3;
    expect(cm.D).toBe(D);
    expect([...cm.index.entries()]).toEqual([['A', 1], ['B', 2], ['C', 3], ['D', 4]]);
    expect(Array.from(cm.table.subarray(2 * D, 3 * D))).toEqual([0.5, 1, -1]);
    // storage: A, C (zero off-diagonals) and D (nothing given) diagonal; B and the common dense
    expect(Array.from(cm.covAt).map((a) => a < 0)).toEqual([false, true, false, true, true]);
    expect(cm.cov.length).toBe(6 + 3 + 6 + 3 + 3);
    // the common matrix: stdErr^2 on the diagonal + (1/K) sum_k (theta_k - theta_0)(theta_k - theta_0)'
    const ids = Object.keys(m.products);
    const want0 = new Array<number>(D * D).fill(0);
    for (let a = 0; a < D; a++) want0[a * D + a] = m.common.stdErr![a] ** 2;
    for (const id of ids) {
      const t = m.products[id].theta;
      for (let a = 0; a < D; a++) for (let b = 0; b < D; b++) want0[a * D + b] += ((t[a] - m.common.theta[a]) * (t[b] - m.common.theta[b])) / ids.length;
    }
    denseOf(cm.cov, cm.covAt, 0, D).forEach((v, i) => expect(v).toBeCloseTo(want0[i], 15));
    expect(denseOf(cm.cov, cm.covAt, 1, D)).toEqual([0.25, 0, 0, 0, 0.0625, 0, 0, 0, 0.015625]);
    expect(denseOf(cm.cov, cm.covAt, 2, D)).toEqual(full);
    expect(denseOf(cm.cov, cm.covAt, 3, D)).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 3]);
    expect(denseOf(cm.cov, cm.covAt, 4, D)).toEqual(new Array(9).fill(0));
  });

  it('a bayes model: the cold-start row is the prior mean with common.cov + prior.cov, not the spread of the shrunk estimates', () => {
    const m = model();
    const D = 3;
    const commonCov = [0.01, 0, 0, 0, 0.04, 0.001, 0, 0.001, 0.09];
    m.common = { ...m.common, cov: commonCov };
    (m as unknown as { strategy: string }).strategy = 'bayes';
    m.prior = { theta: m.common.theta.slice(), cov: full };
    const cm = compileModel(m);
    expect(Array.from(cm.table.subarray(0, D))).toEqual(m.prior.theta);
    const want = commonCov.map((v, i) => v + full[i]);
    denseOf(cm.cov, cm.covAt, 0, D).forEach((v, i) => expect(v).toBeCloseTo(want[i], 15));
  });

  it('a covariance that is not symmetric, or a standard error whose square overflows, is a model error naming the product', () => {
    const m = model();
    m.products.B.cov = [...full];
    m.products.B.cov[1] = 0.5;
    expect(() => compileModel(m)).toThrow(RepricerError);
    expect(() => compileModel(m)).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
    expect(() => compileModel(m)).toThrow(/products\.B\.cov: not symmetric at \(0, 1\)/);
    const m2 = model();
    m2.products.A.stdErr = [1e200, 0, 0];
    expect(() => compileModel(m2)).toThrow(/products\.A\.stdErr: entry 0 must give a finite variance/);
  });
});
