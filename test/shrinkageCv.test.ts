/**
 * The K-fold held-out choice of c_λ (docs/math.md §1.8, "Choice of c_λ"; src/model/shrinkageCv.ts
 * and the fold loop of src/model/tsmt.ts selectSteps): against an independent scipy computation
 * on a tiny case (test/fixtures/shrinkage_cv.py), determinism, the rule itself, and what it
 * chooses on synthetic data with no product deviation and with large ones.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { WasmCore } from '../src/core/wasm.js';
import type { ObservationColumns } from '../src/core/likelihood.js';
import { fitTsmt, selectLambdaC, LAMBDA_GRID } from '../src/model/tsmt.js';
import { CV_FOLDS, CV_SEED, chooseShrinkage, foldLabels } from '../src/model/shrinkageCv.js';
import { fitTable } from '../src/model/fit.js';
import { parseFitOptions } from '../src/cli/fit.js';
import type { ObservationTable } from '../src/model/observationRows.js';
import { Rng } from '../src/sim/random.js';

const core = WasmCore.create({ variant: 'simd' });

interface Fixture {
  K: number; seed: number; D: number; M: number; scale: number; radius: number;
  x: number[]; won: number[]; price: number[]; competitor: (number | null)[]; groups: number[];
  labels: number[][]; grid: number[]; units: number;
  heldOutLogLikelihood: number[]; heldOutStdErr: number[]; bestC: number; oneSeC: number;
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/shrinkage_cv.json', import.meta.url), 'utf8')) as Fixture;

function dist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j] - b[j]) ** 2;
  return Math.sqrt(s);
}

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1e-300, Math.abs(b));
}

/** Rows of M products with `rows` rows each; θ_i = θ_0 + δ·(random unit vector); intercept first. */
function synth(seed: number, M: number, rows: number, D: number, delta: number, sigma: number): { obs: ObservationColumns; groups: Int32Array } {
  const rng = new Rng(seed);
  const theta0 = Float64Array.from({ length: D }, (_, j) => (j === 0 ? 2 : 0.5 * rng.normal()));
  const thetas = Array.from({ length: M }, () => {
    const g = Array.from({ length: D }, () => rng.normal());
    const n = Math.hypot(...g);
    return Float64Array.from(theta0, (v, j) => v + (delta * g[j]) / n);
  });
  const n = M * rows;
  const x = new Float64Array(n * D);
  const won = new Float64Array(n);
  const price = new Float64Array(n);
  const competitor = new Float64Array(n);
  const groups = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const i = r % M; // products interleaved, as in a real log
    x[r * D] = 1;
    for (let j = 1; j < D; j++) x[r * D + j] = rng.normal();
    let u = 0;
    for (let j = 0; j < D; j++) u += x[r * D + j] * thetas[i][j];
    const y = u + sigma * rng.normal();
    price[r] = u + sigma * (rng.uniform() - 0.3);
    won[r] = price[r] <= y ? 1 : 0;
    competitor[r] = won[r] ? y : NaN;
    groups[r] = i;
  }
  return { obs: { n, d: D, x, won, price, competitor }, groups };
}

describe('fold assignment (shrinkageCv.ts foldLabels)', () => {
  it('matches the independent re-implementation of the fixture', () => {
    expect(fx.K).toBe(CV_FOLDS);
    expect(fx.seed).toBe(CV_SEED);
    fx.labels.forEach((lab, i) => expect(Array.from(foldLabels(lab.length, CV_FOLDS, CV_SEED, i))).toEqual(lab));
  });

  it('is balanced, deterministic, per product and changes with the seed', () => {
    for (const n of [0, 1, 4, 5, 13, 101]) {
      const a = foldLabels(n, 5, 7, 3);
      expect(Array.from(a)).toEqual(Array.from(foldLabels(n, 5, 7, 3)));
      const counts = new Array<number>(5).fill(0);
      a.forEach((k) => counts[k]++);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
    expect(Array.from(foldLabels(101, 5, 7, 3))).not.toEqual(Array.from(foldLabels(101, 5, 8, 3)));
    expect(Array.from(foldLabels(101, 5, 7, 3))).not.toEqual(Array.from(foldLabels(101, 5, 7, 4)));
    expect(() => foldLabels(10, 1, 1, 0)).toThrow(/K must be/);
  });
});

describe('chooseShrinkage (the rule)', () => {
  it('max takes the best sum, ties to the larger c; one-se the largest c within one paired standard error', () => {
    const grid = [0.1, 1, 10];
    // unit scores: 1 beats 0.1 clearly; 10 is worse than 1 by 0.2 per unit with spread, within one se
    const units = [
      [-10, -9, -9.0],
      [-10, -9, -9.5],
      [-10, -9, -9.1],
      [-10, -9, -9.2],
    ];
    const max = chooseShrinkage(grid, units, 'max');
    expect(max.c).toBe(1);
    expect(max.bestC).toBe(1);
    expect(max.heldOutLogLikelihood).toEqual([-40, -36, -36.8]);
    const d = [0, -0.5, -0.1, -0.2];
    const mean = d.reduce((a, b) => a + b) / 4;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / 3);
    expect(max.heldOutStdErr[2]).toBeCloseTo(2 * sd, 12);
    expect(max.heldOutStdErr[1]).toBe(0);
    // 0.8 below the best, se = 2·sd ≈ 0.43: outside one se, so one-se keeps 1
    expect(chooseShrinkage(grid, units, 'one-se').c).toBe(1);
    // a loss of 0.2 in all with a wider spread (paired se ≈ 0.68) is inside one se
    const wide = [0.3, -0.5, -0.1, 0.1];
    const close = units.map((u, k) => [u[0], u[1], -9 + wide[k]]);
    const one = chooseShrinkage(grid, close, 'one-se');
    expect(one.bestC).toBe(1);
    expect(one.c).toBe(10);
    // exact ties go to the larger c under both rules
    expect(chooseShrinkage(grid, [[-1, -1, -1]], 'max').c).toBe(10);
    expect(() => chooseShrinkage([], [], 'max')).toThrow(/grid is empty/);
  });
});

describe('K-fold held-out choice of c_λ', () => {
  const obs: ObservationColumns = {
    n: fx.groups.length, d: fx.D, x: Float64Array.from(fx.x), won: Float64Array.from(fx.won), price: Float64Array.from(fx.price),
    competitor: Float64Array.from(fx.competitor, (v) => (v === null ? NaN : v)),
  };
  const groups = Int32Array.from(fx.groups);
  const opts = { noise: { family: 'gaussian' as const, scale: fx.scale }, radius: fx.radius, lambdaGrid: fx.grid, tol: 1e-12 };

  it('held-out scores, standard errors and both choices equal the independent scipy computation', () => {
    const one = selectLambdaC(core, obs, groups, fx.M, opts);
    expect(one.units).toBe(fx.units);
    expect(one.folds).toBe(fx.K);
    one.heldOutLogLikelihood.forEach((v, k) => expect(rel(v, fx.heldOutLogLikelihood[k])).toBeLessThan(1e-7));
    one.heldOutStdErr.forEach((v, k) => expect(Math.abs(v - fx.heldOutStdErr[k])).toBeLessThan(1e-6 * (1 + fx.heldOutStdErr[k])));
    expect(one.bestC).toBe(fx.bestC);
    expect(one.rule).toBe('one-se');
    expect(one.c).toBe(fx.oneSeC);
    expect(selectLambdaC(core, obs, groups, fx.M, { ...opts, lambdaRule: 'max' }).c).toBe(fx.bestC);
  });

  it('is deterministic: the same rows give the same choice and scores, bit for bit', () => {
    const s = synth(3, 6, 40, 3, 0.5, 0.5);
    const o = { noise: { family: 'gaussian' as const, scale: 0.5 }, radius: 10 };
    const a = selectLambdaC(core, s.obs, s.groups, 6, o);
    const b = selectLambdaC(core, s.obs, s.groups, 6, o);
    expect(b).toEqual(a);
    expect(a.heldOutLogLikelihood.every(Number.isFinite)).toBe(true);
    expect(a.units).toBe(6 * CV_FOLDS);
  });

  it('shrinks fully when products do not deviate, and little when they deviate a lot', () => {
    const o = { noise: { family: 'gaussian' as const, scale: 0.5 }, radius: 20, standardErrors: false };
    const same = synth(11, 8, 60, 3, 0, 0.5);
    const r0 = fitTsmt(core, same.obs, same.groups, 8, o);
    expect(r0.lambdaC).toBeGreaterThanOrEqual(1);
    expect(r0.products.every((p) => p.shrunk)).toBe(true);
    const far = synth(12, 8, 200, 3, 3, 0.5);
    const r1 = fitTsmt(core, far.obs, far.groups, 8, o);
    const ind = fitTsmt(core, far.obs, far.groups, 8, { ...o, strategy: 'individual' });
    // one-se takes the most shrinking value within one standard error of the best (here 0.3 within
    // 2.1 ± 2.3 of 0.03); every product keeps at least 95 % of its own deviation from θ̂_0
    expect(r1.lambdaC!).toBeLessThan(r0.lambdaC!);
    expect(r1.lambdaC).toBeLessThanOrEqual(0.3);
    expect(r1.products.some((p) => p.shrunk)).toBe(false);
    r1.products.forEach((p, i) => expect(dist(p.theta, r1.common.theta)).toBeGreaterThan(0.95 * dist(ind.products[i].theta, ind.common.theta)));
    // the best held-out score itself is at the small end of the grid
    expect(r1.lambdaSelection!.bestC).toBeLessThanOrEqual(0.03);
    expect(fitTsmt(core, far.obs, far.groups, 8, { ...o, lambdaRule: 'max' }).lambdaC).toBeLessThanOrEqual(0.03);
  });

  it('too few rows to hold any out: every score 0, the largest c_λ', () => {
    const s = synth(5, 2, 1, 3, 0.5, 0.5);
    const r = selectLambdaC(core, s.obs, s.groups, 2, { noise: { family: 'gaussian', scale: 0.5 }, radius: 10 });
    expect(r.units).toBe(0);
    expect(r.heldOutLogLikelihood.every((v) => v === 0)).toBe(true);
    expect(r.c).toBe(Math.max(...LAMBDA_GRID));
  });

  it('the model file records the chosen c, the rule, the folds and the held-out scores', () => {
    const s = synth(7, 4, 50, 3, 0.5, 0.5);
    const table: ObservationTable = {
      file: 'synthetic', format: 'csv', features: ['a', 'b'], intercept: true, columns: s.obs,
      productIds: ['P0', 'P1', 'P2', 'P3'], product: s.groups,
    } as ObservationTable;
    const m = fitTable(table, { strategy: 'tsmt', scale: 0.5, radius: 10, createdAt: '2026-01-01T00:00:00.000Z' }, core);
    const lam = m.fit.lambda as Record<string, unknown>;
    const sel = selectLambdaC(core, s.obs, s.groups, 4, { noise: { family: 'gaussian', scale: 0.5 }, radius: 10 });
    expect(lam.c).toBe(sel.c);
    expect(lam.chosen).toBe(`${CV_FOLDS}-fold held-out log-likelihood`);
    expect(lam.rule).toBe('one-se');
    expect(lam.folds).toBe(CV_FOLDS);
    expect(lam.foldSeed).toBe(CV_SEED);
    expect(lam.bestC).toBe(sel.bestC);
    expect(lam.grid).toEqual([...LAMBDA_GRID]);
    expect(lam.heldOutLogLikelihood).toEqual(sel.heldOutLogLikelihood);
    expect(lam.heldOutStdErr).toEqual(sel.heldOutStdErr);
    // the max rule, as `repricer fit --lambda-rule max` asks for it
    const opts = parseFitOptions({ observations: 'x.csv', out: 'm.json', scale: '0.5', radius: '10', lambdaRule: 'max' });
    const mMax = fitTable(table, { ...opts, createdAt: '2026-01-01T00:00:00.000Z' }, core);
    const lamMax = mMax.fit.lambda as Record<string, unknown>;
    expect(lamMax.rule).toBe('max');
    expect(lamMax.c).toBe(sel.bestC);
    expect(lamMax.heldOutLogLikelihood).toEqual(sel.heldOutLogLikelihood);
    expect(() => parseFitOptions({ observations: 'x.csv', out: 'm.json', lambdaRule: 'best' })).toThrow(/--lambda-rule must be one of one-se, max/);
  });
});
