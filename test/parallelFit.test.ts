/**
 * The worker-pool TSMT fit (src/model/parallelFit.ts, src/model/fitTask.ts) against the
 * single-threaded one (src/model/tsmt.ts), with real worker threads.
 *
 * The workers run compiled JS: build first with `npx tsc -p tsconfig.json` (the suite refuses to
 * run against a dist/ older than the sources the worker is built from).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { existsSync, statSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WasmCore } from '../src/core/wasm.js';
import type { ObservationColumns } from '../src/core/likelihood.js';
import {
  fitTsmt, buildLayout, parts, makeCtx, productEstimate, productFit, productLogLikelihood, lambdaFor,
  type TsmtOptions, type TsmtResult, type ParameterFit,
} from '../src/model/tsmt.js';
import { FitPool, balancedBatches, fitWorkerFile, fitTsmtParallel, layoutBytes } from '../src/model/parallelFit.js';
import { fitTable, fitTableAsync, fitObservationsFile } from '../src/model/fit.js';
import { readObservations } from '../src/model/observations.js';
import { parseFitOptions } from '../src/cli/fit.js';
import { Rng } from '../src/sim/random.js';

const root = resolve(import.meta.dirname, '..');
const workerFile = fitWorkerFile();

/** The compiled worker must exist and be newer than the sources it is compiled from. */
function checkBuild(): void {
  if (!existsSync(workerFile)) throw new Error(`${workerFile} is missing: run \`npx tsc -p tsconfig.json\` before this suite`);
  const pairs = ['model/fitTask', 'model/tsmt', 'core/likelihood', 'core/solvers', 'core/wasm', 'core/arena', 'core/validate'];
  for (const p of pairs) {
    const src = join(root, 'src', `${p}.ts`);
    const out = join(root, 'dist', 'src', `${p}.js`);
    if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
      throw new Error(`dist/src/${p}.js is older than src/${p}.ts: run \`npx tsc -p tsconfig.json\` before this suite`);
    }
  }
}

const core = WasmCore.create({ variant: 'simd' });

interface Synth {
  obs: ObservationColumns;
  groups: Int32Array;
}

/** Products with `counts[i]` rows (θ_i = θ_0 + δ·unit), rows shuffled across products. */
function synth(seed: number, counts: number[], D: number, delta: number, sigma: number, weighted = false): Synth {
  const rng = new Rng(seed);
  const theta0 = Float64Array.from({ length: D }, (_, j) => (j === 0 ? 2 : 0.5 * rng.normal()));
  const thetas = counts.map(() => {
    const g = Array.from({ length: D }, () => rng.normal());
    const s = Math.hypot(...g);
    return Float64Array.from(theta0, (v, j) => v + (delta * g[j]) / s);
  });
  const n = counts.reduce((a, b) => a + b, 0);
  const owner = new Int32Array(n);
  let r = 0;
  counts.forEach((c, i) => {
    for (let k = 0; k < c; k++) owner[r++] = i;
  });
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [owner[i], owner[j]] = [owner[j], owner[i]];
  }
  const x = new Float64Array(n * D);
  const won = new Float64Array(n);
  const price = new Float64Array(n);
  const competitor = new Float64Array(n);
  const weight = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const th = thetas[owner[t]];
    x[t * D] = 1;
    for (let j = 1; j < D; j++) x[t * D + j] = rng.normal();
    let u = 0;
    for (let j = 0; j < D; j++) u += x[t * D + j] * th[j];
    const y = u + sigma * rng.normal();
    price[t] = u + sigma * (rng.uniform() - 0.3);
    won[t] = price[t] <= y ? 1 : 0;
    competitor[t] = won[t] ? y : NaN;
    weight[t] = 0.5 + rng.uniform();
  }
  const obs: ObservationColumns = { n, d: D, x, won, price, competitor };
  if (weighted) obs.weight = weight;
  return { obs, groups: owner };
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-300, Math.abs(b));
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + floor));
  return m;
}

/** Parallel vs single: θ̂_0 (and the scale) to 1e-10, products to the solver tolerance. */
function expectClose(par: TsmtResult, ref: TsmtResult): void {
  expect(maxRel(par.common.theta, ref.common.theta)).toBeLessThan(1e-10);
  expect(rel(par.noise.scale, ref.noise.scale)).toBeLessThan(1e-10);
  expect(par.lambdaC).toBe(ref.lambdaC);
  expect(par.strategy).toBe(ref.strategy);
  expect(par.products.length).toBe(ref.products.length);
  par.products.forEach((p, i) => {
    const q = ref.products[i];
    expect(p.n).toBe(q.n);
    // a 1e-16 change of θ̂_0 moves a stage-II iterate by up to the tolerance (1e-7/σ on the gradient)
    expect(maxRel(p.theta, q.theta, 1e-3)).toBeLessThan(1e-6);
    expect(p.shrunk).toBe(q.shrunk);
  });
  expect(rel(par.logLikelihood, ref.logLikelihood)).toBeLessThan(1e-9);
  if (ref.common.cov) expect(maxRel(par.common.cov!, ref.common.cov, 1e-9)).toBeLessThan(1e-8);
  if (ref.logScaleStdErr !== undefined) expect(rel(par.logScaleStdErr!, ref.logScaleStdErr)).toBeLessThan(1e-8);
}

/**
 * Stage II of the parallel result product by product, recomputed on this thread with the same
 * functions from the parallel θ̂_0 and scale, on the product's rows in layout order: must be
 * identical bit for bit.
 */
function expectStageTwoExact(s: Synth, M: number, opts: TsmtOptions, par: TsmtResult): void {
  const mark = core.arena.mark();
  try {
    const L = buildLayout(core, s.obs, s.groups, M);
    const all = parts(L, 'all');
    const ctx = makeCtx(core, opts);
    ctx.noise = { family: par.noise.family, scale: par.noise.scale };
    const theta0 = par.common.theta;
    const D = s.obs.d;
    const common: ParameterFit = { theta: theta0, n: 0, iterations: 0, converged: true };
    if (par.common.cov) common.cov = par.common.cov;
    if (par.common.stdErr) common.stdErr = par.common.stdErr;
    let ll = 0;
    for (let i = 0; i < M; i++) {
      const e = productEstimate(ctx, opts.strategy ?? 'tsmt', all[i], theta0, par.lambdaC ?? 0, D, M);
      const pf = productFit(ctx, e, all[i], theta0, common, opts.standardErrors ?? true);
      const p = par.products[i];
      expect(Array.from(p.theta)).toEqual(Array.from(pf.theta));
      expect(p.lambda).toBe(pf.lambda);
      expect(p.iterations).toBe(pf.iterations);
      expect(p.shrunk).toBe(pf.shrunk);
      expect(p.converged).toBe(pf.converged);
      expect(p.cov === undefined).toBe(pf.cov === undefined);
      if (pf.cov) expect(Array.from(p.cov!)).toEqual(Array.from(pf.cov));
      if (pf.stdErr) expect(Array.from(p.stdErr!)).toEqual(Array.from(pf.stdErr));
      if (all[i].n > 0) ll += productLogLikelihood(ctx, all[i], pf.theta);
    }
    expect(par.logLikelihood).toBe(ll);
  } finally {
    core.arena.release(mark);
  }
}

const NOISE = { family: 'gaussian' as const, scale: 0.5 };
// skewed arrivals, a product with no rows, products with fewer rows than coefficients
const COUNTS = [900, 400, 160, 90, 40, 25, 12, 6, 3, 0, 250, 1];

let pool: FitPool;
beforeAll(() => {
  checkBuild();
  pool = FitPool.create({ workers: 2, workerFile, dataBytes: layoutBytes(4000, 5, true) });
});
afterAll(async () => {
  await pool?.destroy();
});

describe('parallel TSMT fit = single-threaded fit', () => {
  const s = synth(1, COUNTS, 5, 0.3, 0.5);
  const M = COUNTS.length;

  it('tsmt with a given c_λ: θ̂_0 to 1e-10, every product exactly', async () => {
    const opts: TsmtOptions = { noise: NOISE, radius: 10, lambdaC: 0.3 };
    const ref = fitTsmt(core, s.obs, s.groups, M, opts);
    const par = await pool.fitTsmt(s.obs, s.groups, M, opts);
    expectClose(par, ref);
    expect(par.iterations).toBe(ref.iterations);
    expect(par.converged).toBe(ref.converged);
    expectStageTwoExact(s, M, opts, par);
  });

  it('held-out choice of c_λ: same grid, same choice, held-out log-likelihoods to 1e-9', async () => {
    const opts: TsmtOptions = { noise: NOISE, radius: 10 };
    const ref = fitTsmt(core, s.obs, s.groups, M, opts);
    const par = await pool.fitTsmt(s.obs, s.groups, M, opts);
    expectClose(par, ref);
    expect(par.lambdaSelection!.grid).toEqual(ref.lambdaSelection!.grid);
    par.lambdaSelection!.heldOutLogLikelihood.forEach((v, k) => expect(rel(v, ref.lambdaSelection!.heldOutLogLikelihood[k])).toBeLessThan(1e-9));
    expectStageTwoExact(s, M, opts, par);
  });

  it('estimated scale, row weights, individual and pooled strategies', async () => {
    const w = synth(2, COUNTS, 4, 0.2, 0.4, true);
    for (const strategy of ['individual', 'pooled', 'tsmt'] as const) {
      const opts: TsmtOptions = { noise: { family: 'logistic', scale: 1 }, estimateScale: true, radius: 8, strategy, lambdaC: 0.1 };
      const ref = fitTsmt(core, w.obs, w.groups, M, opts);
      const par = await pool.fitTsmt(w.obs, w.groups, M, opts);
      expectClose(par, ref);
      expect(par.scaleEstimated).toBe(true);
      expectStageTwoExact(w, M, opts, par);
    }
    // the product without rows falls back to θ̂_0
    const par = await pool.fitTsmt(w.obs, w.groups, M, { noise: NOISE, radius: 8, strategy: 'individual' });
    expect(Array.from(par.products[9].theta)).toEqual(Array.from(par.common.theta));
    expect(par.products[9].shrunk).toBe(true);
  });

  it('warm starts and no standard errors', async () => {
    const D = s.obs.d;
    const start = new Float64Array(M * D).map((_, k) => (k % D === 0 ? 1.8 : 0.05));
    const opts: TsmtOptions = { noise: NOISE, radius: 10, lambdaC: 0.03, standardErrors: false, start };
    const ref = fitTsmt(core, s.obs, s.groups, M, opts);
    const par = await pool.fitTsmt(s.obs, s.groups, M, opts);
    expectClose(par, ref);
    expect(par.products.every((p) => p.cov === undefined)).toBe(true);
  });

  it('one pool, one worker, and a fresh pool per call give the same answer', async () => {
    const opts: TsmtOptions = { noise: NOISE, radius: 10, lambdaC: 0.3 };
    const a = await pool.fitTsmt(s.obs, s.groups, M, opts);
    const b = await fitTsmtParallel(s.obs, s.groups, M, opts, { workers: 1, workerFile });
    expect(Array.from(b.common.theta)).toEqual(Array.from(fitTsmt(core, s.obs, s.groups, M, opts).common.theta));
    expectClose(a, b);
  });

  it('λ_i of the parallel fit follow the §1.8 formula', async () => {
    const par = await pool.fitTsmt(s.obs, s.groups, M, { noise: NOISE, radius: 10, lambdaC: 0.3 });
    par.products.forEach((p, i) => {
      if (COUNTS[i] === 0) expect(p.lambda).toBe(Infinity);
      else expect(p.lambda).toBe(lambdaFor(0.3, 5, M, COUNTS[i]));
    });
  });
});

describe('fitTableAsync / fitObservationsFile with workers', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parfit-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a model fitted with 2 workers matches the one fitted on this thread (default radius, estimated scale)', async () => {
    const s = synth(3, [300, 120, 40, 10, 0, 80], 3, 0.3, 0.5);
    const lines = ['product_id,price,won,competitor_price,f1,f2'];
    const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (let t = 0; t < s.obs.n; t++) {
      const r = t * 3;
      lines.push(`${ids[s.groups[t]]},${s.obs.price[t]},${s.obs.won[t]},${s.obs.won[t] ? s.obs.competitor[t] : ''},${s.obs.x[r + 1]},${s.obs.x[r + 2]}`);
    }
    const file = join(dir, 'obs.csv');
    writeFileSync(file, lines.join('\n') + '\n');
    const table = await readObservations(file, {});
    const createdAt = '2026-01-01T00:00:00Z';
    const one = fitTable(table, { createdAt }, core);
    const two = await fitTableAsync(table, { createdAt, workers: 2, workerFile }, core);
    const viaFile = await fitObservationsFile(file, { createdAt, workers: 2, workerFile }, core);
    for (const m of [two, viaFile]) {
      expect(rel(m.radius, one.radius)).toBeLessThan(1e-9);
      expect(rel(m.noise.scale, one.noise.scale)).toBeLessThan(1e-9);
      expect(m.fit.lambda?.c).toBe(one.fit.lambda?.c);
      expect(maxRel(m.common.theta, one.common.theta)).toBeLessThan(1e-9);
      expect(Object.keys(m.products)).toEqual(Object.keys(one.products));
      for (const id of Object.keys(one.products)) expect(maxRel(m.products[id].theta, one.products[id].theta, 1e-3)).toBeLessThan(1e-6);
    }
    // workers: 1 is the single-threaded path itself
    expect(await fitTableAsync(table, { createdAt, workers: 1 }, core)).toEqual(one);
  });

  it('bad worker counts are rejected naming the option', () => {
    expect(() => FitPool.create({ workers: 0 })).toThrow(/workers must be an integer >= 1, got 0/);
    expect(() => parseFitOptions({ observations: 'x.csv', out: 'm.json', workers: '0' })).toThrow(/--workers must be an integer >= 1, got "0"/);
    expect(() => parseFitOptions({ observations: 'x.csv', out: 'm.json', workers: '1.5' })).toThrow(/--workers/);
    expect(parseFitOptions({ observations: 'x.csv', out: 'm.json', workers: '3' }).workers).toBe(3);
    const s = synth(4, [20], 2, 0, 0.5);
    const table = { file: 'mem', columns: s.obs, product: s.groups, productIds: ['p'], features: ['f1'], intercept: true } as unknown as Parameters<typeof fitTable>[0];
    expect(() => fitTable(table, { workers: 2 })).toThrow(/use fitTableAsync/);
  });

  it('bad inputs are rejected before any task runs, naming them', async () => {
    const s = synth(5, [30, 20], 3, 0.2, 0.5);
    await expect(pool.fitTsmt(s.obs, s.groups.map(() => 7), 2, { noise: NOISE, radius: 5 })).rejects.toThrow(/groups\[0\] must be in \[0, 2\), got 7/);
    const x = s.obs.x.slice();
    x[4] = NaN;
    await expect(pool.fitTsmt({ ...s.obs, x }, s.groups, 2, { noise: NOISE, radius: 5 })).rejects.toThrow(/obs\.x\[4\]/);
    await expect(pool.fitTsmt(s.obs, s.groups, 2, { noise: NOISE, radius: -1 })).rejects.toThrow(/radius/);
    // the pool still works afterwards
    const ok = await pool.fitTsmt(s.obs, s.groups, 2, { noise: NOISE, radius: 5, lambdaC: 0.1 });
    expect(ok.products.length).toBe(2);
  });
});

// balanced batches: every product exactly once, each batch sorted, and the spread of batch loads
// (rows + 200 per product) at most the largest single product's load
type Batcher = (counts: number[], B: number) => Int32Array[];
const roundRobin: Batcher = (counts, B) => {
  const out: number[][] = Array.from({ length: Math.min(B, counts.length) }, () => []);
  counts.forEach((_, i) => out[i % out.length].push(i));
  return out.map((m) => Int32Array.from(m));
};
function batchProperty(batcher: Batcher) {
  return fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 12 }), (counts, B) => {
    const batches = batcher(counts, B);
    const seen = batches.flatMap((b) => Array.from(b)).sort((a, b) => a - b);
    if (seen.length !== counts.length || seen.some((v, i) => v !== i)) return false;
    if (batches.some((b) => b.some((v, k) => k > 0 && b[k - 1] >= v))) return false;
    const loads = batches.map((b) => Array.from(b).reduce((s, i) => s + counts[i] + 200, 0));
    const biggest = Math.max(...counts) + 200;
    return batches.length <= B && Math.max(...loads) - Math.min(...loads) <= biggest;
  });
}
describe('balancedBatches (fast-check)', () => {
  it('covers every product once, sorted, with loads within one product of each other', () => {
    fc.assert(batchProperty(balancedBatches), { numRuns: 300, seed: 7 });
  });
  it('companion: round-robin by index fails the balance property', () => {
    expect(fc.check(batchProperty(roundRobin), { numRuns: 300, seed: 7 }).failed).toBe(true);
  });
});
