/**
 * The model file's numeric domain (src/model/modelDomain.ts, docs/formats.md "Model file"): a
 * covariance must be a covariance, the scale and the coefficients must keep prices in the price
 * domain; every refusal names the file and the field. The positive semi-definite test is checked
 * against matrices built from their eigen-decomposition (Q diag(lambda) Q', Q random orthogonal).
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { validateModel } from '../src/model/format.js';
import { semidefiniteFailure } from '../src/model/modelDomain.js';

const base = () => ({
  format: 'repricer.model/1', createdAt: 't', features: ['f1'], intercept: true,
  noise: { family: 'gaussian', scale: 1 }, reservation: 0, radius: 50, strategy: 'pooled',
  common: { theta: [10, 1], n: 100, cov: [0.04, 0.001, 0.001, 0.01] } as Record<string, unknown>,
  products: { A: { theta: [11, 1], n: 10 } } as Record<string, Record<string, unknown>>,
  fit: { logLikelihood: 0, iterations: 1, converged: true },
});

describe('model domain', () => {
  it('refuses a covariance with a negative variance, naming the file and the field', () => {
    const m = base();
    m.products.A.cov = [-0.5, 0, 0, 0.01];
    expect(() => validateModel(m, 'm.json')).toThrow('m.json: invalid model: products.A.cov: variance (0, 0) is -0.5, must be >= 0');
  });
  it('refuses an indefinite covariance with positive variances', () => {
    const m = base();
    m.common.cov = [1, 2, 2, 1]; // eigenvalues 3 and -1
    expect(() => validateModel(m, 'm.json')).toThrow(/m.json: invalid model: common.cov: not positive semi-definite/);
  });
  it('accepts a singular (semi-definite) covariance', () => {
    const m = base();
    m.common.cov = [1, 1, 1, 1];
    expect(() => validateModel(m, 'm.json')).not.toThrow();
  });
  it('refuses noise scales outside [1e-6, 1e12] (1e308 published 7.5e307; 1e-320 rejected every row)', () => {
    for (const scale of [1e308, 1e-320, 1e-7, 2e12]) {
      const m = base();
      m.noise.scale = scale;
      expect(() => validateModel(m, 'm.json')).toThrow(`m.json: invalid model: noise.scale: ${scale} is outside [0.000001, 1000000000000]`);
    }
  });
  it('refuses a coefficient of 1e200 by its own name (not a covariance message without the file)', () => {
    const m = base();
    m.products.A.theta = [1e200, 1];
    expect(() => validateModel(m, 'm.json')).toThrow('m.json: invalid model: products.A.theta[0]: 1e+200 is outside [-1000000000000, 1000000000000]');
  });
  it('refuses a negative reservation and a negative standard error', () => {
    const m = base();
    m.reservation = -1;
    expect(() => validateModel(m, 'm.json')).toThrow('m.json: invalid model: reservation: -1 must be a cost in [0, 1000000000000]');
    const n = base();
    n.products.A.stdErr = [0.1, -0.2];
    expect(() => validateModel(n, 'm.json')).toThrow('m.json: invalid model: products.A.stdErr.1: must be >= 0');
  });
  it('reprice with such a model exits 3 (MODEL_INVALID) naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'repricer-mdom-'));
    const m = base();
    m.products.A.cov = [-0.5, 0, 0, 0.01];
    writeFileSync(join(dir, 'm.json'), JSON.stringify(m));
    writeFileSync(join(dir, 'c.csv'), 'product_id,f1,cost\nA,1,5\n');
    const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'reprice', '--model', join(dir, 'm.json'), '--catalog', join(dir, 'c.csv'), '--out', join(dir, 'o.csv')], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`${join(dir, 'm.json')}: invalid model: products.A.cov: variance (0, 0) is -0.5`);
  });
});

/** A random orthogonal D x D matrix (Gram-Schmidt on random columns). */
function orthogonal(D: number, r: () => number): number[][] {
  const q: number[][] = [];
  while (q.length < D) {
    let v = Array.from({ length: D }, () => r() * 2 - 1);
    for (const u of q) {
      const d = v.reduce((s, x, i) => s + x * u[i], 0);
      v = v.map((x, i) => x - d * u[i]);
    }
    const n = Math.hypot(...v);
    if (n > 1e-3) q.push(v.map((x) => x / n));
  }
  return q;
}
function fromEigen(q: number[][], lambda: number[]): number[] {
  const D = lambda.length;
  const a = new Array<number>(D * D).fill(0);
  for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) a[i * D + j] += q[k][i] * lambda[k] * q[k][j];
  for (let i = 0; i < D; i++) for (let j = 0; j < i; j++) a[i * D + j] = a[j * D + i]; // exactly symmetric
  return a;
}

describe('semidefiniteFailure against matrices of known spectrum', () => {
  const arb = fc.record({ D: fc.integer({ min: 1, max: 12 }), seed: fc.integer(), scale: fc.constantFrom(1e-8, 1, 1e6), zeros: fc.integer({ min: 0, max: 3 }) });
  it('accepts every PSD matrix, singular ones included', () => {
    fc.assert(fc.property(arb, ({ D, seed, scale, zeros }) => {
      let s = seed >>> 0;
      const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
      const lambda = Array.from({ length: D }, (_, k) => (k < zeros ? 0 : scale * (0.01 + r())));
      return semidefiniteFailure(fromEigen(orthogonal(D, r), lambda), D) === -1;
    }), { numRuns: 300 });
  });
  it('refuses every matrix with an eigenvalue below -1e-6 of the largest', () => {
    fc.assert(fc.property(arb, ({ D, seed, scale }) => {
      let s = seed >>> 0;
      const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
      const lambda = Array.from({ length: D }, () => scale * (0.5 + r()));
      lambda[Math.floor(r() * D)] = -scale * (1e-6 + r());
      return semidefiniteFailure(fromEigen(orthogonal(D, r), lambda), D) >= 0;
    }), { numRuns: 300 });
  });
});
