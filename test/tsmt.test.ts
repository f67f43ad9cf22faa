/**
 * The TSMT estimator (docs/math.md §1.8), the fit pipeline and the `repricer fit` command.
 * Data are simulated from the competitor model y = xᵀθ_i + z with censoring at our price.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { WasmCore } from '../src/core/wasm.js';
import { censoredLogLikelihood, observedInformation, type ObservationColumns } from '../src/core/likelihood.js';
import { fitTsmt, lambdaFor, subsetRows, groupRows, invertSpd, type TsmtOptions } from '../src/model/tsmt.js';
import { fitTable, fitObservationsFile } from '../src/model/fit.js';
import { readObservations } from '../src/model/observations.js';
import { serializeModel, parseModel, saveModel, loadModel } from '../src/model/format.js';
import { runFit } from '../src/cli/fit.js';
import { Rng } from '../src/sim/random.js';

const core = WasmCore.create({ variant: 'simd' });

interface Synth {
  obs: ObservationColumns;
  groups: Int32Array;
  thetas: Float64Array[];
  theta0: Float64Array;
}

/** Rows for products with `counts[i]` rows each; θ_i = θ_0 + δ·(unit vector); intercept first. */
function synth(seed: number, counts: number[], D: number, delta: number, sigma: number, theta0In?: number[]): Synth {
  const rng = new Rng(seed);
  const theta0 = Float64Array.from(theta0In ?? Array.from({ length: D }, (_, j) => (j === 0 ? 2 : 0.5 * rng.normal())));
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
  });
  return { obs: { n, d: D, x, won, price, competitor }, groups, thetas, theta0 };
}

function dist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

const NOISE = { family: 'gaussian' as const, scale: 0.5 };

describe('TSMT estimator', () => {
  it('recovers a known θ with error shrinking like 1/sqrt(n), matching the reported standard errors', () => {
    const D = 4;
    const theta = [2, 0.3, -0.2, 0.1];
    const sizes = [250, 1000, 4000];
    const reps = 12;
    const rms: number[] = [];
    for (const n of sizes) {
      let sq = 0;
      let z2 = 0;
      for (let rep = 0; rep < reps; rep++) {
        const s = synth(100 + rep + 7 * n, [n], D, 0, 0.5, theta);
        const res = fitTsmt(core, s.obs, s.groups, 1, { strategy: 'pooled', noise: NOISE, radius: 10 });
        const th = res.products[0].theta;
        sq += dist(th, theta) ** 2;
        const se = res.products[0].stdErr!;
        for (let j = 0; j < D; j++) z2 += ((th[j] - theta[j]) / se[j]) ** 2;
      }
      rms.push(Math.sqrt(sq / reps));
      // Σ_j z_j² over reps·D coordinates: chi-square-like, mean 1 per coordinate if the SEs are right
      const perCoord = z2 / (reps * D);
      expect(perCoord).toBeGreaterThan(0.5);
      expect(perCoord).toBeLessThan(1.8);
    }
    // 4x the rows: error / 2 (allow sampling noise of 12 replications)
    expect(rms[0] / rms[1]).toBeGreaterThan(1.5);
    expect(rms[0] / rms[1]).toBeLessThan(2.7);
    expect(rms[1] / rms[2]).toBeGreaterThan(1.5);
    expect(rms[1] / rms[2]).toBeLessThan(2.7);
    expect(rms[2]).toBeLessThan(0.05);
  });

  it('estimates the noise scale jointly', () => {
    const s = synth(3, [3000], 3, 0, 0.4, [1, 0.5, -0.5]);
    const res = fitTsmt(core, s.obs, s.groups, 1, { strategy: 'pooled', noise: { family: 'gaussian', scale: 1 }, estimateScale: true, radius: 10 });
    expect(res.scaleEstimated).toBe(true);
    expect(Math.abs(res.noise.scale - 0.4)).toBeLessThan(0.03);
    expect(res.logScaleStdErr).toBeGreaterThan(0);
    expect(dist(res.common.theta, [1, 0.5, -0.5])).toBeLessThan(0.06);
  });

  it('beats individual learning on sparse products when δ is small', () => {
    const D = 5;
    const counts = [400, ...Array.from({ length: 15 }, () => 8)];
    let tsmtErr = 0;
    let indErr = 0;
    let autoErr = 0;
    let pooledErr = 0;
    for (let rep = 0; rep < 3; rep++) {
      const s = synth(40 + rep, counts, D, 0.05, 0.5);
      const opts: TsmtOptions = { noise: NOISE, radius: 20, standardErrors: false };
      const t = fitTsmt(core, s.obs, s.groups, counts.length, { ...opts, strategy: 'tsmt', lambdaC: 0.3 });
      const a = fitTsmt(core, s.obs, s.groups, counts.length, { ...opts, strategy: 'tsmt' });
      const ind = fitTsmt(core, s.obs, s.groups, counts.length, { ...opts, strategy: 'individual' });
      const p = fitTsmt(core, s.obs, s.groups, counts.length, { ...opts, strategy: 'pooled' });
      for (let i = 1; i < counts.length; i++) {
        tsmtErr += dist(t.products[i].theta, s.thetas[i]);
        autoErr += dist(a.products[i].theta, s.thetas[i]);
        indErr += dist(ind.products[i].theta, s.thetas[i]);
        pooledErr += dist(p.products[i].theta, s.thetas[i]);
      }
    }
    expect(tsmtErr).toBeLessThan(0.5 * indErr);
    expect(autoErr).toBeLessThan(0.5 * indErr);
    // and with the held-out c_λ it stays near pooling, the right model at δ ≈ 0
    expect(autoErr).toBeLessThan(2 * pooledErr);
  });

  it('limiting cases: λ = 0 is individual exactly, a huge λ is pooled exactly', () => {
    const s = synth(9, [120, 30, 10, 0, 60], 3, 0.3, 0.5);
    const o = { noise: NOISE, radius: 10, standardErrors: false };
    const zero = fitTsmt(core, s.obs, s.groups, 5, { ...o, strategy: 'tsmt', lambdaC: 0 });
    const ind = fitTsmt(core, s.obs, s.groups, 5, { ...o, strategy: 'individual' });
    const huge = fitTsmt(core, s.obs, s.groups, 5, { ...o, strategy: 'tsmt', lambdaC: 1e12 });
    const pooled = fitTsmt(core, s.obs, s.groups, 5, { ...o, strategy: 'pooled' });
    for (let i = 0; i < 5; i++) {
      expect(Array.from(zero.products[i].theta)).toEqual(Array.from(ind.products[i].theta));
      expect(Array.from(huge.products[i].theta)).toEqual(Array.from(pooled.common.theta));
      expect(Array.from(pooled.products[i].theta)).toEqual(Array.from(pooled.common.theta));
    }
    // the product with no rows falls back to θ̂_0 under every strategy
    expect(Array.from(ind.products[3].theta)).toEqual(Array.from(ind.common.theta));
    expect(ind.products[3].shrunk).toBe(true);
    // an intermediate λ lies strictly between: not pooled, not individual, for the big product
    const mid = fitTsmt(core, s.obs, s.groups, 5, { ...o, strategy: 'tsmt', lambdaC: 0.05 });
    expect(dist(mid.products[0].theta, pooled.common.theta)).toBeGreaterThan(0);
    expect(dist(mid.products[0].theta, ind.products[0].theta)).toBeGreaterThan(0);
  });

  it('exact shrinkage at the subgradient threshold ‖∇L_i(θ̂_0)‖ (docs/math.md §1.8)', () => {
    const s = synth(11, [200, 40], 3, 0.2, 0.5);
    const o = { noise: NOISE, radius: 10, standardErrors: false, strategy: 'tsmt' as const };
    const base = fitTsmt(core, s.obs, s.groups, 2, { ...o, lambdaC: 0 });
    const part = subsetRows(s.obs, groupRows(s.groups, 2)[1]);
    const g = censoredLogLikelihood(core, part, base.common.theta, NOISE, { gradient: true }).gradient!;
    const thr = Math.hypot(...g) / part.n; // ‖∇L_i‖ of the average loss
    const cAt = thr / lambdaFor(1, 3, 2, part.n);
    const above = fitTsmt(core, s.obs, s.groups, 2, { ...o, lambdaC: cAt * 1.001 });
    const below = fitTsmt(core, s.obs, s.groups, 2, { ...o, lambdaC: cAt * 0.9 });
    expect(Array.from(above.products[1].theta)).toEqual(Array.from(base.common.theta));
    expect(above.products[1].shrunk).toBe(true);
    expect(below.products[1].shrunk).toBe(false);
    expect(dist(below.products[1].theta, base.common.theta)).toBeGreaterThan(1e-6);
  });

  it('chooses c_λ by K-fold held-out log-likelihood from the grid and reports the curve', () => {
    const s = synth(21, [300, 100, 50, 20], 3, 0.4, 0.5);
    const res = fitTsmt(core, s.obs, s.groups, 4, { noise: NOISE, radius: 10, standardErrors: false });
    expect(res.lambdaSelection).toBeDefined();
    const { grid, heldOutLogLikelihood: ll, heldOutStdErr: se, bestC } = res.lambdaSelection!;
    expect(grid.length).toBe(ll.length);
    expect(se.length).toBe(ll.length);
    const best = Math.max(...ll);
    expect(ll[grid.indexOf(bestC)]).toBe(best);
    // one-standard-error rule: no less shrinkage than the best, and within one se of it
    const k = grid.indexOf(res.lambdaC!);
    expect(res.lambdaC!).toBeGreaterThanOrEqual(bestC);
    expect(best - ll[k]).toBeLessThanOrEqual(se[k]);
    expect(ll.every(Number.isFinite)).toBe(true);
  });

  it('standard errors are the inverse of (observed information + I/W²)', () => {
    const s = synth(5, [500, 80], 3, 0.3, 0.5);
    const W = 10;
    const res = fitTsmt(core, s.obs, s.groups, 2, { strategy: 'individual', noise: NOISE, radius: W });
    const part = subsetRows(s.obs, groupRows(s.groups, 2)[1]);
    const info = observedInformation(core, part, res.products[1].theta, NOISE);
    for (let j = 0; j < 3; j++) info[j * 3 + j] += 1 / (W * W);
    const cov = invertSpd(info, 3)!;
    for (let j = 0; j < 3; j++) expect(res.products[1].stdErr![j]).toBeCloseTo(Math.sqrt(cov[j * 3 + j]), 12);
    // (the fit sums the rows in its own order, so agreement is to rounding, not bit-exact)
    res.products[1].cov!.forEach((v, k) => expect(Math.abs(v - cov[k])).toBeLessThan(1e-12 * Math.abs(cov[k]) + 1e-15));
  });

  it('a row weight of 2 is the same as the row twice', () => {
    const s = synth(13, [60, 25], 3, 0.3, 0.5);
    const o: TsmtOptions = { noise: NOISE, radius: 10, standardErrors: false, lambdaC: 0.1, tol: 1e-12 };
    const idx = Array.from({ length: s.obs.n }, (_, r) => r);
    const dup = [...idx, 0, 5, 70];
    const doubled = subsetRows(s.obs, dup);
    const gd = Int32Array.from(dup, (r) => s.groups[r]);
    const weighted = subsetRows(s.obs, idx);
    weighted.weight = new Float64Array(s.obs.n).fill(1);
    for (const r of [0, 5, 70]) weighted.weight[r] = 2;
    const a = fitTsmt(core, doubled, gd, 2, o);
    const b = fitTsmt(core, weighted, s.groups, 2, o);
    for (let i = 0; i < 2; i++) expect(dist(a.products[i].theta, b.products[i].theta)).toBeLessThan(1e-8);
  });

  it('property: estimates do not depend on row order (and the check catches an order-dependent fit)', () => {
    const s = synth(17, [50, 30, 20], 3, 0.3, 0.5);
    const o: TsmtOptions = { noise: NOISE, radius: 10, standardErrors: false, lambdaC: 0.1, tol: 1e-12 };
    const ref = fitTsmt(core, s.obs, s.groups, 3, o);
    const fitPerm = (perm: number[], f: (obs: ObservationColumns, g: Int32Array) => Float64Array[]) => f(subsetRows(s.obs, perm), Int32Array.from(perm, (r) => s.groups[r]));
    const good = (obs: ObservationColumns, g: Int32Array) => fitTsmt(core, obs, g, 3, o).products.map((p) => p.theta);
    // deliberately wrong: uses only the first 80% of the rows it is given
    const wrong = (obs: ObservationColumns, g: Int32Array) => {
      const keep = Array.from({ length: Math.floor(obs.n * 0.8) }, (_, r) => r);
      return fitTsmt(core, subsetRows(obs, keep), g.slice(0, keep.length), 3, o).products.map((p) => p.theta);
    };
    const prop = (f: typeof good) =>
      fc.property(fc.shuffledSubarray(Array.from({ length: s.obs.n }, (_, r) => r), { minLength: s.obs.n, maxLength: s.obs.n }), (perm) => {
        const th = fitPerm(perm, f);
        return th.every((t, i) => dist(t, ref.products[i].theta) < 1e-7);
      });
    expect(fc.check(prop(good), { numRuns: 8, seed: 1 }).failed).toBe(false);
    expect(fc.check(prop(wrong), { numRuns: 8, seed: 1 }).failed).toBe(true);
  });

  it('rejects bad arguments naming them', () => {
    const s = synth(1, [10], 2, 0, 0.5);
    expect(() => fitTsmt(core, s.obs, s.groups, 1, { noise: NOISE, radius: -1 })).toThrow(/radius/);
    expect(() => fitTsmt(core, s.obs, new Int32Array(3), 1, { noise: NOISE, radius: 1 })).toThrow(/groups/);
    expect(() => fitTsmt(core, s.obs, s.groups.map(() => 4), 2, { noise: NOISE, radius: 1 })).toThrow(/groups\[0\]/);
    expect(() => fitTsmt(core, s.obs, s.groups, 1, { noise: NOISE, radius: 1, lambdaC: -1 })).toThrow(/lambdaC/);
  });
});

// ------------------------------------------------------------------------------------ fit + CLI

let dir: string;
function writeObs(name: string, s: Synth, ids: string[], names: string[]): string {
  const D = s.obs.d;
  const lines = [['product_id', ...names, 'price', 'won', 'competitor_price'].join(',')];
  for (let r = 0; r < s.obs.n; r++) {
    const f = Array.from(s.obs.x.subarray(r * D + 1, (r + 1) * D), (v) => v.toFixed(6));
    lines.push([ids[s.groups[r]], ...f, s.obs.price[r].toFixed(6), s.obs.won[r], s.obs.won[r] ? s.obs.competitor[r].toFixed(6) : ''].join(','));
  }
  const file = join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

describe('fit pipeline and `repricer fit`', () => {
  let good: string;
  let bad: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fit-test-'));
    const s = synth(77, [150, 150, 60, 12], 4, 0.2, 0.5, [2, 0.3, -0.2, 0.1]);
    good = writeObs('obs.csv', s, ['P0', 'P1', 'P2', 'P3'], ['f1', 'f2', 'f3']);
    const lines = readFileSync(good, 'utf8').split('\n');
    const k = lines.findIndex((l, i) => i > 0 && /,1,[-0-9.]+$/.test(l));
    lines[k] = lines[k].replace(/,1,[-0-9.]+$/, ',1,');
    bad = join(dir, 'bad.csv');
    writeFileSync(bad, lines.join('\n'));
    writeFileSync(join(dir, 'badline.txt'), String(k + 1));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fits every strategy into a valid model that round-trips exactly', async () => {
    for (const strategy of ['tsmt', 'pooled', 'individual'] as const) {
      const m = await fitObservationsFile(good, { strategy, scale: 0.5, radius: 10, createdAt: '2026-01-01T00:00:00Z' });
      expect(m.features).toEqual(['f1', 'f2', 'f3']);
      expect(m.common.theta.length).toBe(4);
      expect(Object.keys(m.products)).toEqual(['P0', 'P1', 'P2', 'P3']);
      expect(m.products.P0.stdErr!.length).toBe(4);
      expect(m.products.P0.cov!.length).toBe(16);
      expect(m.noise).toEqual({ family: 'gaussian', scale: 0.5, estimated: false });
      expect(dist(m.products.P0.theta, [2, 0.3, -0.2, 0.1])).toBeLessThan(0.5);
      if (strategy === 'tsmt') expect(m.fit.lambda!.c).toBeGreaterThan(0);
      const text = serializeModel(m);
      const back = parseModel(text);
      expect(back).toEqual(m);
      expect(serializeModel(back)).toBe(text);
      const f = join(dir, `m-${strategy}.json`);
      saveModel(f, m);
      expect(loadModel(f)).toEqual(m);
      expect(readFileSync(f, 'utf8')).toBe(text);
    }
  });

  it('estimates the scale by default and records it', async () => {
    const t = await readObservations(good);
    const m = fitTable(t, { strategy: 'pooled', radius: 10 }, core);
    expect(m.noise.estimated).toBe(true);
    expect(m.noise.scale).toBeGreaterThan(0.3);
    expect(m.noise.scale).toBeLessThan(0.8);
    expect(typeof m.fit.logScaleStdErr).toBe('number');
    // default radius: 3·max(‖θ̂_0‖, σ)
    const m2 = fitTable(t, { strategy: 'pooled' }, core);
    expect(m2.radius).toBeGreaterThan(3 * 1.8);
    expect(m2.radius).toBeLessThan(3 * 2.3);
  });

  it('runFit writes the model; a bad row stops it with file, line and column and writes nothing', async () => {
    const out = join(dir, 'cli.json');
    const msg = await runFit({ observations: good, out, strategy: 'tsmt', noise: 'gaussian', scale: '0.5', radius: '10' });
    expect(msg).toMatch(/strategy tsmt/);
    expect(loadModel(out).strategy).toBe('tsmt');
    const badOut = join(dir, 'bad-model.json');
    const line = Number(readFileSync(join(dir, 'badline.txt'), 'utf8'));
    await expect(runFit({ observations: bad, out: badOut })).rejects.toMatchObject({ code: 'INPUT_ROW_INVALID', details: { line, column: 'competitor_price' } });
    expect(existsSync(badOut)).toBe(false);
    await expect(runFit({ observations: good, out: badOut, scale: '0.5', estimateScale: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(runFit({ observations: good, out: badOut, strategy: 'magic' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(runFit({ observations: good, out: badOut, scale: '-1' })).rejects.toThrow(/--scale/);
    await expect(runFit({ observations: good, out: badOut, features: 'f1,zz' })).rejects.toMatchObject({ code: 'INPUT_UNREADABLE', details: { column: 'zz' } });
    expect(readdirSync(dir).filter((f) => f.includes('bad-model'))).toEqual([]);
  });

  it('the CLI end to end: exit codes, stderr naming the line, nothing written on error', () => {
    const main = join(process.cwd(), 'src/cli/main.ts');
    const tsx = join(process.cwd(), 'node_modules/.bin/tsx');
    const out = join(dir, 'e2e.json');
    const ok = spawnSync(tsx, [main, 'fit', '--observations', good, '--out', out, '--strategy', 'individual', '--scale', '0.5', '--features', 'f1,f2,f3'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(loadModel(out).strategy).toBe('individual');
    const badOut = join(dir, 'e2e-bad.json');
    const line = readFileSync(join(dir, 'badline.txt'), 'utf8');
    const r = spawnSync(tsx, [main, 'fit', '--observations', bad, '--out', badOut], { encoding: 'utf8' });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('INPUT_ROW_INVALID');
    expect(r.stderr).toContain(`bad.csv:${line}: column competitor_price`);
    expect(existsSync(badOut)).toBe(false);
    const r2 = spawnSync(tsx, [main, 'fit', '--observations', good, '--out', badOut, '--noise', 'cauchy'], { encoding: 'utf8' });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/--noise/);
  });
});
