/**
 * `repricer simulate marketplace` (src/sim/marketplace.ts): solveMarket's checkpoint hook reports
 * the method's output after the listed steps (the same prices a run of that many steps returns);
 * the observation accounting (a stochastic step observes 1 participant, a full-gradient step K + m);
 * gaps are non-negative and the deterministic methods' gaps do not increase; the same options give
 * byte-identical files; and the command end to end through dist/src/cli/main.js.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WasmCore } from '../src/core/wasm.js';
import { MarketPotential } from '../src/market/potential.js';
import { randomMarket } from '../src/market/randomMarket.js';
import { toMarketFile } from '../src/market/marketFile.js';
import { MARKET_METHODS, solveMarket, type MarketMethod } from '../src/market/solvers.js';
import { checkpointSteps, observationsPerStep, observationsToReach, runMarketplace } from '../src/sim/marketplace.js';
import { marketplaceCsv, marketplaceSummary, marketplaceSvg } from '../src/sim/marketplaceReport.js';

const core = WasmCore.create({ variant: 'simd' });
const small = randomMarket(5, { products: 5, nests: 2, consumers: 20, suppliers: 3 });
const pot = new MarketPotential(small, core);
const dir = mkdtempSync(join(tmpdir(), 'repricer-marketplace-'));
afterAll(() => {
  pot.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('solveMarket checkpoints', () => {
  it.each(MARKET_METHODS.map((m) => [m]))('%s reports at each checkpoint the prices a run of that many steps returns', (method: MarketMethod) => {
    const at = [1, 3, 10, 40];
    const seen: [number, Float64Array][] = [];
    solveMarket(pot, { method, steps: 40, seed: 3, tol: Number.MIN_VALUE, checkpoints: at, onCheckpoint: (t, p) => seen.push([t, Float64Array.from(p)]) });
    expect(seen.map(([t]) => t)).toEqual(at);
    for (const [t, p] of seen) expect(Array.from(p)).toEqual(Array.from(solveMarket(pot, { method, steps: t, seed: 3, tol: Number.MIN_VALUE }).prices));
  });

  it('a deterministic method that stops at tol reports its final prices at the remaining checkpoints', () => {
    const seen: number[] = [];
    const r = solveMarket(pot, { method: 'accelerated', steps: 5000, checkpoints: [1, 4000, 5000, 6000], onCheckpoint: (t) => seen.push(t) });
    expect(r.steps).toBeLessThan(4000);
    expect(seen).toEqual([1, 4000, 5000]);
  });

  it('rejects checkpoints that are not increasing integers >= 1', () => {
    expect(() => solveMarket(pot, { method: 'sgd', steps: 5, checkpoints: [2, 2] })).toThrow(/checkpoints/);
    expect(() => solveMarket(pot, { method: 'sgd', steps: 5, checkpoints: [0] })).toThrow(/checkpoints/);
  });
});

describe('marketplace experiment', () => {
  const cfg = { methods: [...MARKET_METHODS], steps: 300, seeds: 3 };
  const res = runMarketplace(pot, cfg);

  it('counts observations: 1 per stochastic step, K + m per full-gradient step', () => {
    expect(res.participants).toBe(3 + 20);
    expect(observationsPerStep('sgd', 23)).toBe(1);
    expect(observationsPerStep('gradient', 23)).toBe(23);
    expect(observationsPerStep('accelerated', 23)).toBe(23);
    const at = checkpointSteps(300);
    expect(at[0]).toBe(1);
    expect(at[at.length - 1]).toBe(300);
    for (const m of MARKET_METHODS) {
      const rows = res.rows.filter((r) => r.method === m);
      expect(rows.map((r) => r.steps)).toEqual(at);
      for (const r of rows) expect(r.observations).toBe(r.steps * (m === 'gradient' || m === 'accelerated' ? 23 : 1));
    }
  });

  it('gaps are non-negative, min <= mean <= max, and the deterministic gaps do not increase', () => {
    for (const r of res.rows) {
      expect(r.minGap).toBeGreaterThanOrEqual(0);
      expect(r.minGap).toBeLessThanOrEqual(r.meanGap * (1 + 1e-12));
      expect(r.meanGap).toBeLessThanOrEqual(r.maxGap * (1 + 1e-12));
    }
    for (const m of ['gradient', 'accelerated'] as const) {
      const g = res.rows.filter((r) => r.method === m).map((r) => r.meanGap);
      for (let i = 1; i < g.length; i++) expect(g[i]).toBeLessThanOrEqual(g[i - 1] + 1e-12);
      expect(g[g.length - 1]).toBeLessThan(1e-6 * g[0]);
      // deterministic: one run, no spread
      for (const r of res.rows.filter((x) => x.method === m)) expect(r.maxGap).toBe(r.minGap);
    }
    const acc = observationsToReach(res.rows, 'accelerated', 1e-3);
    expect(acc).not.toBeNull();
  });

  it('is deterministic: the same options give byte-identical outputs', () => {
    const again = runMarketplace(pot, cfg);
    expect(marketplaceCsv(again)).toBe(marketplaceCsv(res));
    expect(marketplaceSvg(again, 't')).toBe(marketplaceSvg(res, 't'));
    expect(JSON.stringify(marketplaceSummary(again, 'm'))).toBe(JSON.stringify(marketplaceSummary(res, 'm')));
    const other = runMarketplace(pot, { ...cfg, methods: ['sgd'], seeds: 2 });
    expect(marketplaceCsv(other)).not.toBe(marketplaceCsv(runMarketplace(pot, { ...cfg, methods: ['sgd'], seeds: 1 })));
  });
});

describe('repricer simulate marketplace (CLI)', () => {
  const main = 'dist/src/cli/main.js';
  const run = (...args: string[]) => spawnSync(process.execPath, [main, 'simulate', 'marketplace', ...args], { encoding: 'utf8', timeout: 120_000 });

  it('writes marketplace.csv, summary.json, marketplace.svg, the same bytes twice, and prints a table', () => {
    const market = join(dir, 'm.json');
    writeFileSync(market, JSON.stringify(toMarketFile(small)));
    const outs = [join(dir, 'a'), join(dir, 'b')];
    for (const out of outs) {
      const r = run('--out', out, '--seeds', '2', '--steps', '200', '--market', market, '--methods', 'sgd,gradient');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^method\s+gap<=10/);
      expect(r.stdout).toMatch(/\nsgd /);
      expect(r.stdout).toMatch(/\ngradient /);
    }
    for (const f of ['marketplace.csv', 'summary.json', 'marketplace.svg']) expect(readFileSync(join(outs[1], f))).toEqual(readFileSync(join(outs[0], f)));
    const csv = readFileSync(join(outs[0], 'marketplace.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('method,steps,observations,mean_gap,min_gap,max_gap');
    const last = csv.filter((l) => l.startsWith('gradient,')).pop()!.split(',');
    expect(Number(last[1])).toBe(200);
    expect(Number(last[2])).toBe(200 * 23);
    const s = JSON.parse(readFileSync(join(outs[0], 'summary.json'), 'utf8'));
    expect(s.format).toBe('repricer.simulate-marketplace/1');
    expect(s.observationsPerStep).toEqual({ sgd: 1, gradient: 23 });
    expect(s.reference.residual).toBeLessThanOrEqual(1e-10);
    expect(readFileSync(join(outs[0], 'marketplace.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
  });

  it('rejects an unknown method and a bad --steps naming the option', () => {
    const a = run('--out', join(dir, 'x'), '--methods', 'sgd,newton');
    expect(a.status).not.toBe(0);
    expect(a.stderr).toMatch(/--methods/);
    const b = run('--out', join(dir, 'x'), '--steps', '0');
    expect(b.status).not.toBe(0);
    expect(b.stderr).toMatch(/--steps/);
  });
});
