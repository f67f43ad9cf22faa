/** The synthetic RFQ market and the online episodic policy (docs/math.md §1.7, §1.10); the CLI. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WasmCore } from '../src/core/wasm.js';
import { Rng } from '../src/sim/random.js';
import { arrivalProbabilities, generateMarket, expectedReward, optimalPrices } from '../src/sim/rfqMarket.js';
import { defaultRfqConfig, defaultColdStartConfig } from '../src/sim/config.js';
import { episodes, simulateRfq, clairvoyant, runPolicy } from '../src/sim/episodes.js';
import { simulateColdStart } from '../src/sim/coldStart.js';
import { regretCsv, regretSvg, summarize } from '../src/sim/report.js';
import { runSimulateRfq, parseRfqOptions } from '../src/cli/simulate.js';

const core = WasmCore.create({ variant: 'simd' });
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sim-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((a, b) => a + b * b, 0));

describe('random numbers and market', () => {
  it('Rng is deterministic per key, uniform in [0,1) with the right moments', () => {
    const a = new Rng(1, 2, 3);
    const b = new Rng(1, 2, 3);
    const c = new Rng(1, 2, 4);
    const xa = Array.from({ length: 20000 }, () => a.uniform());
    const xb = Array.from({ length: 20000 }, () => b.uniform());
    expect(xa).toEqual(xb);
    expect(c.uniform()).not.toBe(xa[0]);
    expect(xa.every((u) => u >= 0 && u < 1)).toBe(true);
    const m = xa.reduce((s, u) => s + u, 0) / xa.length;
    expect(Math.abs(m - 0.5)).toBeLessThan(0.01);
    const z = Array.from({ length: 20000 }, () => a.normal());
    const zm = z.reduce((s, v) => s + v, 0) / z.length;
    const zv = z.reduce((s, v) => s + (v - zm) ** 2, 0) / z.length;
    expect(Math.abs(zm)).toBeLessThan(0.03);
    expect(Math.abs(zv - 1)).toBeLessThan(0.04);
  });

  it('the market follows docs/math.md §1.10: unit θ_0, ‖δ_i‖ = δ_max, unit contexts, shared direction of δ', () => {
    const cfg = defaultRfqConfig({ products: 40, dim: 30, delta: 0.5, horizon: 100 });
    const mk = generateMarket(cfg, 3);
    expect(norm(mk.theta0)).toBeCloseTo(1, 12);
    let sumCos = 0;
    for (let i = 0; i < 40; i++) {
      const del = Array.from({ length: 30 }, (_, j) => mk.theta[i * 30 + j] - mk.theta0[j]);
      expect(norm(del)).toBeCloseTo(0.5, 12);
      // Σ = 0.2·I + 1·1ᵀ: |cos(δ_i, 1)| is large (the shared component dominates)
      sumCos += Math.abs(del.reduce((a, b) => a + b, 0)) / (0.5 * Math.sqrt(30));
    }
    expect(sumCos / 40).toBeGreaterThan(0.6); // isotropic δ would give about 0.15
    for (let t = 0; t < 100; t++) expect(norm(mk.x.subarray(t * 30, t * 30 + 30))).toBeCloseTo(1, 12);
    // instance k does not depend on how many instances run
    expect(Array.from(generateMarket({ ...cfg, instances: 1 }, 3).x)).toEqual(Array.from(mk.x));
  });

  it('arrival laws: uniform, polynomial i^-α, exponential e^-α(i-1), and their empirical frequencies', () => {
    expect(Array.from(arrivalProbabilities(4, 'uniform', 2))).toEqual([0.25, 0.25, 0.25, 0.25]);
    const p = arrivalProbabilities(3, 'polynomial', 2);
    expect(p[0] / p[1]).toBeCloseTo(4, 12);
    expect(p[0] / p[2]).toBeCloseTo(9, 12);
    const e = arrivalProbabilities(3, 'exponential', 1);
    expect(e[0] / e[1]).toBeCloseTo(Math.E, 12);
    const mk = generateMarket(defaultRfqConfig({ products: 3, dim: 2, horizon: 30000, arrivals: 'polynomial', alpha: 2 }), 0);
    const freq = [0, 0, 0];
    mk.arrivals.forEach((i) => freq[i]++);
    for (let i = 0; i < 3; i++) expect(Math.abs(freq[i] / 30000 - p[i])).toBeLessThan(0.01);
  });

  it('property: episodes partition 1..T into doubling blocks (and the check catches an off-by-one schedule)', () => {
    const check = (f: (T: number) => Array<[number, number]>) =>
      fc.property(fc.integer({ min: 1, max: 5000 }), (T) => {
        const ep = f(T);
        let next = 1;
        for (let k = 0; k < ep.length; k++) {
          const [s, e] = ep[k];
          if (s !== next || s !== 2 ** k) return false;
          if (e !== Math.min(2 ** (k + 1) - 1, T)) return false;
          next = e + 1;
        }
        return next === T + 1;
      });
    expect(fc.check(check(episodes), { numRuns: 200, seed: 2 }).failed).toBe(false);
    const wrong = (T: number) => episodes(T).map(([s, e]): [number, number] => [s, Math.min(e + 1, T)]);
    expect(fc.check(check(wrong), { numRuns: 200, seed: 2 }).failed).toBe(true);
    expect(episodes(2047).length).toBe(11);
    expect(episodes(2047)[10]).toEqual([1024, 2047]);
  });
});

describe('policies and regret', () => {
  it('clairvoyant prices are optimal: every learner has non-negative regret at every round', () => {
    const cfg = defaultRfqConfig({ products: 3, dim: 5, delta: 0.5, horizon: 127, instances: 1, lambdaC: 0.3 });
    const mk = generateMarket(cfg, 0);
    const { pStar, rStar } = clairvoyant(core, cfg, mk);
    // R(p*) is a maximum: nudging the price either way lowers it
    const u = new Float64Array(20);
    for (let t = 0; t < 20; t++) for (let j = 0; j < 5; j++) u[t] += mk.x[t * 5 + j] * mk.theta[mk.arrivals[t] * 5 + j];
    const up = expectedReward(core, cfg.noise, 0, pStar.subarray(0, 20).map((p) => p + 1e-3), u);
    const down = expectedReward(core, cfg.noise, 0, pStar.subarray(0, 20).map((p) => p - 1e-3), u);
    for (let t = 0; t < 20; t++) {
      expect(up[t]).toBeLessThan(rStar[t]);
      expect(down[t]).toBeLessThan(rStar[t]);
    }
    for (const p of ['tsmt', 'pooled', 'individual', 'clairvoyant'] as const) {
      const run = runPolicy(core, cfg, mk, p, pStar, rStar);
      expect(Math.min(...run.regret)).toBeGreaterThanOrEqual(-1e-12);
      if (p === 'clairvoyant') expect(Math.max(...run.regret)).toBe(0);
    }
  });

  it('the learners learn: per-round regret in the last episode is far below the first rounds', () => {
    const cfg = defaultRfqConfig({ products: 2, dim: 5, delta: 0.1, horizon: 511, instances: 2, lambdaC: 0.3, policies: ['tsmt', 'pooled'] });
    const r = simulateRfq(core, cfg);
    for (const p of ['tsmt', 'pooled']) {
      const m = r.mean[p];
      const early = m[6] / 7; // rounds 1..7 (θ_init = 0 and tiny episodes)
      const late = (m[510] - m[255]) / 255;
      expect(late).toBeLessThan(0.25 * early);
    }
  });

  it('prices and expected rewards match docs/math.md §6.2 (N(0, 0.1²), u = 0.3, c = 0)', () => {
    const noise = { family: 'gaussian' as const, scale: 0.1 };
    const p = optimalPrices(core, new Float64Array([0.3]), 0, noise);
    expect(p[0]).toBeCloseTo(0.2335207221, 9);
    expect(expectedReward(core, noise, 0, new Float64Array([0.2335207221]), new Float64Array([0.3]))[0]).toBeCloseTo(0.1744186074, 9);
    // σ = 1, c - u = 0: p* = φ⁻¹(0) (docs/math.md §6.1)
    expect(optimalPrices(core, new Float64Array([0]), 0, { family: 'gaussian', scale: 1 })[0]).toBeCloseTo(0.7517915247, 9);
  });

  it('the same seed gives byte-identical files; another seed differs', () => {
    const base = { products: '3', dim: '4', delta: '0.5', horizon: '63', instances: '3', lambdaC: 'auto' };
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const c = join(dir, 'c');
    runSimulateRfq({ ...base, seed: '7', out: a });
    runSimulateRfq({ ...base, seed: '7', out: b });
    runSimulateRfq({ ...base, seed: '8', out: c });
    for (const f of ['regret.csv', 'regret.svg', 'summary.json']) {
      expect(existsSync(join(a, f))).toBe(true);
      expect(readFileSync(join(a, f), 'utf8')).toBe(readFileSync(join(b, f), 'utf8'));
    }
    expect(readFileSync(join(a, 'regret.csv'), 'utf8')).not.toBe(readFileSync(join(c, 'regret.csv'), 'utf8'));
  });

  it('writes regret.csv, regret.svg and summary.json with the documented shape', () => {
    const cfg = defaultRfqConfig({ products: 2, dim: 3, delta: 0.5, horizon: 31, instances: 4, seed: 3, lambdaC: 0.3 });
    const r = simulateRfq(core, cfg);
    const csv = regretCsv(r).trim().split('\n');
    expect(csv[0]).toBe('t,tsmt_mean,tsmt_sd,pooled_mean,pooled_sd,individual_mean,individual_sd,clairvoyant_mean,clairvoyant_sd');
    expect(csv.length).toBe(32);
    const last = csv[31].split(',').map(Number);
    expect(last[0]).toBe(31);
    // mean and sd match the per-instance cumulative regrets
    const s = summarize(r);
    const per = s.finalRegret.tsmt.perInstance;
    const mean = per.reduce((a, b) => a + b, 0) / 4;
    const sd = Math.sqrt(per.reduce((a, b) => a + (b - mean) ** 2, 0) / 3);
    expect(last[1]).toBeCloseTo(mean, 8);
    expect(last[2]).toBeCloseTo(sd, 8);
    expect(s.finalRegret.clairvoyant.mean).toBe(0);
    expect(s.tsmtVsBetterBaseline).toBeCloseTo(s.finalRegret.tsmt.mean / Math.min(s.finalRegret.pooled.mean, s.finalRegret.individual.mean), 4);
    const svg = regretSvg(r);
    expect(svg.startsWith('<svg')).toBe(true);
    for (const p of cfg.policies) expect(svg).toContain(`>${p}</text>`);
    expect((svg.match(/<polyline/g) ?? []).length).toBe(4);
    expect((svg.match(/<polygon/g) ?? []).length).toBe(4);
  });

  it('rejects bad options naming them', () => {
    expect(() => parseRfqOptions({ out: dir, products: '0' })).toThrow(/--products/);
    expect(() => parseRfqOptions({ out: dir, arrivals: 'zipf' })).toThrow(/--arrivals/);
    expect(() => parseRfqOptions({ out: dir, policies: 'tsmt,oracle' })).toThrow(/oracle/);
    expect(() => parseRfqOptions({ out: dir, delta: '-1' })).toThrow(/--delta/);
    expect(() => parseRfqOptions({ out: dir, lambdaC: 'x' })).toThrow(/--lambda-c/);
    expect(parseRfqOptions({ out: dir, arrivals: 'exponential' }).alpha).toBe(1);
    expect(parseRfqOptions({ out: dir, delta: '2' }).radius).toBe(3);
  });
});

describe('cold start', () => {
  it('measures the reward share of a late product against its own observation count', () => {
    const cs = defaultColdStartConfig({ products: 3, dim: 4, delta: 0.3, instances: 2, warmup: 127, grid: [0, 5, 50, 400], evalContexts: 300, lambdaC: 0.3 });
    const r = simulateColdStart(core, cs);
    for (const m of ['tsmt', 'individual', 'pooled', 'bayes'] as const) {
      expect(r.meanRatio[m].length).toBe(4);
      expect(r.meanRatio[m].every((v) => v > 0 && v <= 1 + 1e-12)).toBe(true);
    }
    // at n = 0 everyone prices with θ̂_0; with 400 own rows both learners are near the clairvoyant
    expect(r.meanRatio.tsmt[0]).toBe(r.meanRatio.pooled[0]);
    expect(r.meanRatio.individual[0]).toBe(r.meanRatio.pooled[0]);
    expect(r.meanRatio.individual[3]).toBeGreaterThan(0.95);
    expect(r.meanRatio.tsmt[3]).toBeGreaterThan(0.95);
    for (const v of r.needed.tsmt) expect(v === null || cs.grid.includes(v)).toBe(true);
    // bayes: its prior comes from every warm-up row (127 rounds over 3 products, ~42 rows each:
    // at least 5·d = 20, so the moment estimate), its MAP approaches the clairvoyant with 400 rows
    expect(r.prior.map((p) => p.method)).toEqual(['moments', 'moments']);
    expect(r.prior.every((p) => p.products === 3)).toBe(true);
    expect(r.meanRatio.bayes[3]).toBeGreaterThan(0.95);
    expect(r.meanRatio.bayes[0]).toBeGreaterThan(0.5);
  });
});
