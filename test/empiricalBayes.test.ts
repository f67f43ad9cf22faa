/**
 * Empirical-Bayes cold start (docs/math.md §5.3): the prior by the method of moments against an
 * independent numpy computation (test/fixtures/empirical_bayes.py), the k-shot MAP objective
 * against finite differences, the exact Gaussian posterior, MAP → MLE as rows grow, the Laplace
 * covariance, and `repricer fit --strategy bayes` end to end.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WasmCore } from '../src/core/wasm.js';
import type { ObservationColumns } from '../src/core/likelihood.js';
import { fitNewton } from '../src/core/solvers.js';
import {
  clipEigenvalues, empiricalBayesPrior, kShotMap, kShotObjective, laplacePosterior, momentsCovariance, symmetricInverse,
  PRIOR_EIGEN_FLOOR, type GaussianPrior, type ProductMle,
} from '../src/model/empiricalBayes.js';
import { symmetricEigen, fromEigen } from '../src/model/symmetricEigen.js';
import { fitBayes } from '../src/model/bayesFit.js';
import { semidefiniteFailure } from '../src/model/modelDomain.js';
import { loadModel, parseModel, serializeModel, validateModel, type Model } from '../src/model/format.js';
import { runFit } from '../src/cli/fit.js';
import { fitTable, fitTableAsync } from '../src/model/fit.js';
import { readObservations } from '../src/model/observations.js';
import { fitWorkerFile } from '../src/model/parallelFit.js';
import { createEngine } from '../src/pricing/quoteEngine.js';
import { Rng } from '../src/sim/random.js';

const core = WasmCore.create({ variant: 'simd' });

interface PriorCase {
  D: number;
  theta0: number[];
  products: { theta: number[]; cov: number[] }[];
  moments: number[];
  cov: number[];
  floor: number;
  clipped: number;
  spreadResolved: boolean;
}
interface GaussianCase {
  D: number;
  n: number;
  sigma: number;
  x: number[];
  competitor: number[];
  price: number[];
  theta0: number[];
  priorCov: number[];
  posteriorMean: number[];
  posteriorCov: number[];
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/empirical_bayes.json', import.meta.url), 'utf8')) as {
  epsilon: number;
  priors: PriorCase[];
  gaussian: GaussianCase[];
};

function close(a: ArrayLike<number>, b: ArrayLike<number>, rel: number, abs = 0): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `entry ${i}: ${a[i]} vs ${b[i]}`).toBeLessThanOrEqual(rel * Math.max(Math.abs(a[i]), Math.abs(b[i])) + abs);
}

/** Censored rows y = xᵀθ + σz, priced at xᵀθ_price (intercept first); products share θ_0 plus a deviation of norm δ. */
function synth(rngKey: number, counts: number[], D: number, delta: number, sigma: number): { obs: ObservationColumns; groups: Int32Array; theta0: Float64Array; thetas: Float64Array[] } {
  const rng = new Rng(rngKey);
  const theta0 = Float64Array.from({ length: D }, (_, j) => (j === 0 ? 2 : 0.5 * rng.normal()));
  const thetas = counts.map(() => {
    const g = Array.from({ length: D }, () => rng.normal());
    const n = Math.hypot(...g);
    return Float64Array.from(theta0, (v, j) => v + (delta * g[j]) / n);
  });
  const n = counts.reduce((a, b) => a + b, 0);
  const x = new Float64Array(n * D);
  const won = new Float64Array(n);
  const price = new Float64Array(n);
  const competitor = new Float64Array(n);
  const groups = new Int32Array(n);
  let r = 0;
  counts.forEach((c, i) => {
    for (let k = 0; k < c; k++, r++) {
      groups[r] = i;
      let u = 0;
      let u0 = 0;
      for (let j = 0; j < D; j++) {
        const v = j === 0 ? 1 : rng.normal();
        x[r * D + j] = v;
        u += v * thetas[i][j];
        u0 += v * theta0[j];
      }
      const y = u + sigma * rng.normal();
      price[r] = u0 + 0.5 * sigma * rng.normal();
      won[r] = price[r] <= y ? 1 : 0;
      competitor[r] = won[r] ? y : NaN;
    }
  });
  return { obs: { n, d: D, x, won, price, competitor }, groups, theta0, thetas };
}

function rowsOf(obs: ObservationColumns, from: number, to: number): ObservationColumns {
  const d = obs.d;
  return { n: to - from, d, x: obs.x.slice(from * d, to * d), won: obs.won.slice(from, to), price: obs.price.slice(from, to), competitor: obs.competitor.slice(from, to) };
}

function diagonalPrior(theta: Float64Array, v: number): GaussianPrior {
  const D = theta.length;
  const precision = new Float64Array(D * D);
  for (let i = 0; i < D; i++) precision[i * D + i] = 1 / v;
  return { theta, precision };
}

describe('symmetricEigen', () => {
  it('reconstructs the matrix from orthonormal eigenvectors, eigenvalues ascending', () => {
    const rng = new Rng(11);
    const D = 7;
    const a = new Float64Array(D * D);
    for (let i = 0; i < D; i++) for (let j = i; j < D; j++) a[i * D + j] = a[j * D + i] = rng.normal();
    const { values, vectors } = symmetricEigen(a, D);
    close(fromEigen(values, vectors, D), a, 0, 1e-13);
    for (let j = 1; j < D; j++) expect(values[j]).toBeGreaterThanOrEqual(values[j - 1]);
    for (let p = 0; p < D; p++) {
      for (let q = 0; q < D; q++) {
        let s = 0;
        for (let k = 0; k < D; k++) s += vectors[k * D + p] * vectors[k * D + q];
        expect(Math.abs(s - (p === q ? 1 : 0))).toBeLessThan(1e-13);
      }
    }
  });
});

describe('empirical-Bayes prior by the method of moments (against numpy)', () => {
  it('uses the documented ε', () => expect(fixture.epsilon).toBe(PRIOR_EIGEN_FLOOR));
  fixture.priors.forEach((c, k) => {
    it(`case ${k}: moments, clipped Σ_0, floor and clipped count match numpy.linalg.eigh`, () => {
      const products = c.products.map((p) => ({ theta: p.theta, cov: p.cov, n: 1e9 }));
      const { moments, meanV } = momentsCovariance(c.theta0, products, c.D);
      close(moments, c.moments, 1e-12, 1e-14);
      let trV = 0;
      for (let i = 0; i < c.D; i++) trV += meanV[i * c.D + i];
      const clip = clipEigenvalues(moments, c.D, fixture.epsilon, trV);
      close(clip.cov, c.cov, 1e-11, 1e-13);
      expect(clip.floor).toBeCloseTo(c.floor, 14);
      expect(clip.clipped).toBe(c.clipped);
      expect(clip.spreadResolved).toBe(c.spreadResolved);
      // the whole prior: every product qualifies (n ≥ 5·D), method of moments, positive definite
      const prior = empiricalBayesPrior(c.theta0, products, c.D, { radius: 10 });
      expect(prior.method).toBe('moments');
      expect(prior.products).toBe(c.products.length);
      close(prior.cov, c.cov, 1e-11, 1e-13);
      expect(semidefiniteFailure(prior.cov, c.D, 0)).toBe(-1);
    });
  });

  it('falls back when too few products have enough rows, and says so', () => {
    const c = fixture.priors[0];
    const D = c.D;
    const withRows = (ns: number[]): ProductMle[] => c.products.map((p, i) => ({ theta: p.theta, cov: p.cov, n: ns[i] ?? 0 }));
    // only two products with n ≥ 5·D: the few-rows tier (n ≥ D) over the four identified ones
    const few = empiricalBayesPrior(c.theta0, withRows([5 * D, 5 * D, D, D, 1, 0]), D, { radius: 10 });
    expect(few.method).toBe('moments-few-rows');
    expect(few.products).toBe(4);
    expect(few.minRows).toBe(D);
    const exact = momentsCovariance(c.theta0, withRows([1, 1, 1, 1]).slice(0, 4), D);
    let trV = 0;
    for (let i = 0; i < D; i++) trV += exact.meanV[i * D + i];
    close(few.cov, clipEigenvalues(exact.moments, D, PRIOR_EIGEN_FLOOR, trV).cov, 1e-14, 1e-15);
    // fewer than three identified products: the ball's isotropic (W²/D)·I
    const ball = empiricalBayesPrior(c.theta0, withRows([D, D, 1, 0, 0, 0]), D, { radius: 4 });
    expect(ball.method).toBe('ball');
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) expect(ball.cov[i * D + j]).toBe(i === j ? 16 / D : 0);
    close(ball.precision, Float64Array.from({ length: D * D }, (_, k) => (k % (D + 1) === 0 ? D / 16 : 0)), 1e-15);
  });
});

describe('k-shot MAP objective (docs/math.md §5.3)', () => {
  for (const family of ['gaussian', 'logistic'] as const) {
    it(`${family}: gradient and Hessian agree with central finite differences`, () => {
      const D = 4;
      const s = synth(3, [40], D, 0.5, 0.3);
      const rng = new Rng(5);
      const A = Float64Array.from({ length: D * D }, () => rng.normal());
      const cov = new Float64Array(D * D);
      for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) { let v = 0; for (let k = 0; k < D; k++) v += A[i * D + k] * A[j * D + k]; cov[i * D + j] = 0.1 * v + (i === j ? 0.05 : 0); }
      const prior: GaussianPrior = { theta: s.theta0, precision: symmetricInverse(cov, D) };
      const settings = { noise: { family, scale: 0.3 } };
      const theta = Float64Array.from(s.thetas[0], (v) => v + 0.1 * rng.normal());
      const at = kShotObjective(core, s.obs, theta, prior, settings);
      const h = 1e-5;
      for (let a = 0; a < D; a++) {
        const tp = theta.slice();
        const tm = theta.slice();
        tp[a] += h;
        tm[a] -= h;
        const fp = kShotObjective(core, s.obs, tp, prior, settings);
        const fm = kShotObjective(core, s.obs, tm, prior, settings);
        const g = (fp.value - fm.value) / (2 * h);
        expect(Math.abs(g - at.gradient[a])).toBeLessThan(1e-6 * (1 + Math.abs(g)));
        for (let b = 0; b < D; b++) {
          const hab = (fp.gradient[b] - fm.gradient[b]) / (2 * h);
          expect(Math.abs(hab - at.hessian[a * D + b])).toBeLessThan(1e-5 * (1 + Math.abs(hab)));
        }
      }
    });
  }

  it('the MAP estimate is a stationary point of the objective, and the Laplace covariance is PSD and below the prior', () => {
    const D = 5;
    const s = synth(7, [25], D, 0.8, 0.2);
    const prior = diagonalPrior(s.theta0, 0.3);
    const settings = { noise: { family: 'gaussian' as const, scale: 0.2 } };
    const m = kShotMap(core, s.obs, prior, settings);
    expect(m.converged).toBe(true);
    const at = kShotObjective(core, s.obs, m.theta, prior, settings);
    for (const g of at.gradient) expect(Math.abs(g)).toBeLessThan(1e-6 * s.obs.n);
    const post = laplacePosterior(core, s.obs, m.theta, prior, settings);
    expect(semidefiniteFailure(post, D, 0)).toBe(-1);
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) expect(post[i * D + j]).toBe(post[j * D + i]);
    // the posterior precision exceeds the prior's, so Σ_0 − Σ_post is PSD
    const diff = Float64Array.from(post, (v, k) => (k % (D + 1) === 0 ? 0.3 : 0) - v);
    expect(semidefiniteFailure(diff, D, 1e-12)).toBe(-1);
    // without rows: θ_0 and Σ_0
    const none = rowsOf(s.obs, 0, 0);
    expect(Array.from(kShotMap(core, none, prior, settings).theta)).toEqual(Array.from(s.theta0));
    close(laplacePosterior(core, none, s.theta0, prior, settings), Float64Array.from({ length: D * D }, (_, k) => (k % (D + 1) === 0 ? 0.3 : 0)), 1e-14, 1e-16);
  });
});

describe('exact Gaussian posterior (uncensored rows; against numpy)', () => {
  fixture.gaussian.forEach((c, k) => {
    it(`case ${k}: the MAP is the posterior mean and the Laplace covariance the posterior covariance`, () => {
      const obs: ObservationColumns = { n: c.n, d: c.D, x: Float64Array.from(c.x), won: new Float64Array(c.n).fill(1), price: Float64Array.from(c.price), competitor: Float64Array.from(c.competitor) };
      const prior: GaussianPrior = { theta: Float64Array.from(c.theta0), precision: symmetricInverse(Float64Array.from(c.priorCov), c.D) };
      const settings = { noise: { family: 'gaussian' as const, scale: c.sigma }, tol: 1e-12 };
      const m = kShotMap(core, obs, prior, settings);
      close(m.theta, c.posteriorMean, 1e-9, 1e-12);
      close(laplacePosterior(core, obs, m.theta, prior, settings), c.posteriorCov, 1e-10, 1e-14);
    });
  });

  it('reproduces the reference numbers of docs/math.md §6.7', () => {
    const obs: ObservationColumns = { n: 3, d: 2, x: Float64Array.of(1, 0.2, 1, -0.4, 1, 0.6), won: Float64Array.of(1, 1, 1), price: Float64Array.of(0, 0, 0), competitor: Float64Array.of(1.1, 1.5, 0.7) };
    const prior = diagonalPrior(Float64Array.of(1, -0.5), 0.25);
    const settings = { noise: { family: 'gaussian' as const, scale: 0.5 }, tol: 1e-12 };
    const m = kShotMap(core, obs, prior, settings);
    close(m.theta, [1.1335526316, -0.5855263158], 1e-9);
    close(laplacePosterior(core, obs, m.theta, prior, settings), [0.0641447368, -0.0164473684, -0.0164473684, 0.1644736842], 1e-8);
  });
});

describe('MAP → MLE as the rows grow', () => {
  it('the distance to the own MLE falls roughly like 1/k', () => {
    const D = 3;
    const s = synth(13, [20000], D, 1, 0.3);
    const prior = diagonalPrior(s.theta0, 0.05);
    const settings = { noise: { family: 'gaussian' as const, scale: 0.3 }, tol: 1e-10 };
    const gaps: number[] = [];
    for (const k of [50, 500, 5000, 20000]) {
      const rows = rowsOf(s.obs, 0, k);
      const mle = fitNewton(core, rows, settings.noise, { normalize: 'mean', tol: 1e-12 }).theta;
      const map = kShotMap(core, rows, prior, settings).theta;
      gaps.push(Math.hypot(...Array.from(map, (v, j) => v - mle[j])));
    }
    // ‖θ_MAP − θ_MLE‖ ≈ ‖(I + Σ_0⁻¹)⁻¹Σ_0⁻¹(θ_0 − θ_MLE)‖ = O(1/k): ×10 rows, about ÷10
    expect(gaps[1]).toBeLessThan(gaps[0] / 5);
    expect(gaps[2]).toBeLessThan(gaps[1] / 5);
    expect(gaps[3]).toBeLessThan(gaps[2] / 2);
    expect(gaps[3]).toBeLessThan(1e-3);
  });
});

describe('fitBayes and `repricer fit --strategy bayes`', () => {
  it('estimates the prior from the products with n ≥ 5·D, fits every product, Laplace covariances PSD', () => {
    const D = 3;
    const counts = [60, 80, 100, 120, 5, 2, 0];
    const s = synth(17, counts, D, 0.4, 0.2);
    const res = fitBayes(core, s.obs, s.groups, counts.length, { noise: { family: 'gaussian', scale: 0.2 }, radius: 20 });
    expect(res.prior.method).toBe('moments');
    expect(res.prior.products).toBe(4);
    expect(res.prior.minRows).toBe(15);
    expect(semidefiniteFailure(res.prior.cov, D, 0)).toBe(-1);
    res.products.forEach((p, i) => {
      expect(semidefiniteFailure(p.cov!, D, 0)).toBe(-1);
      expect(p.converged).toBe(true);
      if (counts[i] === 0) expect(Array.from(p.theta)).toEqual(Array.from(res.common.theta));
    });
    close(res.coldStartCov, Float64Array.from(res.common.cov!, (v, k) => v + res.prior.cov[k]), 1e-15);
    // a product with few rows stays nearer θ_0 than its own MLE does
    const few = rowsOf(s.obs, 360, 365);
    const own = fitNewton(core, few, { family: 'gaussian', scale: 0.2 }, { radius: 20, normalize: 'mean' }).theta;
    const dist = (a: ArrayLike<number>) => Math.hypot(...Array.from(a, (v, j) => v - res.common.theta[j]));
    expect(dist(res.products[4].theta)).toBeLessThan(dist(own));
  });

  it('writes a model file that loads, round-trips and prices known and cold-start products', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'repricer-bayes-'));
    try {
      const D = 3;
      const counts = [80, 90, 100, 3];
      const s = synth(19, counts, D, 0.4, 0.2);
      const lines = ['product_id,price,won,competitor_price,f1,f2'];
      for (let r = 0; r < s.obs.n; r++) {
        const c = s.obs.won[r] ? String(s.obs.competitor[r]) : '';
        lines.push(`P${s.groups[r]},${s.obs.price[r]},${s.obs.won[r]},${c},${s.obs.x[r * D + 1]},${s.obs.x[r * D + 2]}`);
      }
      const obsFile = join(dir, 'obs.csv');
      writeFileSync(obsFile, lines.join('\n') + '\n');
      const out = join(dir, 'model.json');
      const msg = await runFit({ observations: obsFile, out, strategy: 'bayes', scale: '0.2' });
      expect(msg).toMatch(/strategy bayes, prior moments from 3 products with >= 15 rows/);
      const m = loadModel(out);
      expect(m.strategy).toBe('bayes');
      expect(m.prior!.theta).toEqual(m.common.theta);
      expect(m.prior!.cov).toHaveLength(D * D);
      expect((m.fit.prior as { method: string }).method).toBe('moments');
      expect(serializeModel(parseModel(readFileSync(out, 'utf8')))).toBe(readFileSync(out, 'utf8'));
      const engine = createEngine(m);
      const recs = engine.quote([
        { product_id: 'P0', features: { f1: 0.2, f2: -0.1 } },
        { product_id: 'P3', features: { f1: 0.2, f2: -0.1 } },
        { product_id: 'NEW', features: { f1: 0.2, f2: -0.1 } },
      ]);
      expect(recs.map((r) => r.cold_start)).toEqual([false, false, true]);
      for (const r of recs) {
        expect(Number.isFinite(r.price)).toBe(true);
        expect(r.price_std_error).toBeGreaterThan(0);
      }
      // the product with 3 rows is less certain than the one with 80
      expect(recs[1].price_std_error!).toBeGreaterThan(recs[0].price_std_error!);
      // on two workers (stage I and the own MLEs on the pool, the MAP steps here): the same model to rounding
      const table = await readObservations(obsFile);
      const serial = fitTable(table, { strategy: 'bayes', scale: 0.2, createdAt: 't' });
      const pooled = await fitTableAsync(table, { strategy: 'bayes', scale: 0.2, createdAt: 't', workers: 2, workerFile: fitWorkerFile() });
      close(pooled.prior!.cov, serial.prior!.cov, 1e-9, 1e-14);
      for (const id of Object.keys(serial.products)) {
        close(pooled.products[id].theta, serial.products[id].theta, 1e-9, 1e-12);
        close(pooled.products[id].cov!, serial.products[id].cov!, 1e-8, 1e-14);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validates the prior: required with bayes, only with bayes, PSD with positive variances; older files load', () => {
    const base: Model = {
      format: 'repricer.model/1', createdAt: 't', features: ['f1'], intercept: true, noise: { family: 'gaussian', scale: 0.5 }, reservation: 0, radius: 10,
      strategy: 'tsmt', common: { theta: [1, 0.5], n: 10 }, products: { A: { theta: [1.1, 0.4], n: 5 } }, fit: { logLikelihood: -3, iterations: 4, converged: true },
    };
    expect(validateModel(structuredClone(base)).strategy).toBe('tsmt');
    const prior = { theta: [1, 0.5], cov: [0.2, 0.01, 0.01, 0.1] };
    expect(validateModel({ ...structuredClone(base), strategy: 'bayes', prior }).prior).toEqual(prior);
    expect(() => validateModel({ ...structuredClone(base), strategy: 'bayes' })).toThrow(/prior: strategy bayes needs the prior/);
    expect(() => validateModel({ ...structuredClone(base), prior })).toThrow(/only strategy bayes carries a prior/);
    expect(() => validateModel({ ...structuredClone(base), strategy: 'bayes', prior: { theta: [1, 0.5], cov: [0.2, 0.5, 0.5, 0.1] } })).toThrow(/prior.cov: not positive semi-definite/);
    expect(() => validateModel({ ...structuredClone(base), strategy: 'bayes', prior: { theta: [1, 0.5], cov: [0.2, 0, 0, 0] } })).toThrow(/prior.cov: variance \(1, 1\) is 0, must be > 0/);
    expect(() => validateModel({ ...structuredClone(base), strategy: 'bayes', prior: { theta: [1], cov: [0.2] } })).toThrow(/prior.theta: expected 2 coefficients/);
    try {
      validateModel({ ...structuredClone(base), strategy: 'bayes', prior: { theta: [1, 0.5], cov: [0.2, 0.01, 0.02, 0.1] } });
      expect.unreachable();
    } catch (err) {
      expect((err as { code: string }).code).toBe('MODEL_INVALID');
      expect((err as Error).message).toMatch(/prior.cov: not symmetric/);
    }
  });
});
