/**
 * `repricer simulate marketplace --random-market` (src/market/randomMarketSpec.ts): the option
 * parses to randomMarket's sizes and seed (fields left out keep the default test market's), bad
 * values fail with INVALID_ARGUMENT naming the field (exit 2 through the CLI), and a small run on a
 * market larger than the default is byte-identical for the same seed, differs for another, and
 * measures the market randomMarket(seed, sizes) builds (its ER* and K + m).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RepricerError } from '../src/core/errors.js';
import { WasmCore } from '../src/core/wasm.js';
import { MarketPotential } from '../src/market/potential.js';
import { randomMarket } from '../src/market/randomMarket.js';
import { describeRandomMarket, parseRandomMarketSpec } from '../src/market/randomMarketSpec.js';
import { solveMarket } from '../src/market/solvers.js';

const dir = mkdtempSync(join(tmpdir(), 'repricer-marketplace-random-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function err(f: () => unknown): [string, string] {
  try {
    f();
  } catch (e) {
    if (e instanceof RepricerError) return [e.code, e.message];
    throw e;
  }
  throw new Error('no error');
}

describe('parseRandomMarketSpec', () => {
  it('parses every field; fields left out keep the default test market', () => {
    expect(parseRandomMarketSpec('products=50,nests=5,consumers=2000,suppliers=20,seed=2')).toEqual({ seed: 2, options: { products: 50, nests: 5, consumers: 2000, suppliers: 20 } });
    expect(parseRandomMarketSpec(' consumers = 300 ')).toEqual({ seed: 1, options: { products: 10, nests: 3, consumers: 300, suppliers: 5 } });
    // seed=1 alone is the default test market, value for value
    const d = parseRandomMarketSpec('seed=1');
    expect(randomMarket(d.seed, d.options)).toEqual(randomMarket(1));
    expect(describeRandomMarket(parseRandomMarketSpec('products=12,seed=4'))).toBe('random market (randomMarket seed 4: 12 products, 3 nests, 100 consumers, 5 suppliers)');
  });

  it.each([
    ['', /expected field=value pairs/],
    ['products', /expected field=value, got "products"/],
    ['products=50,size=3', /unknown field "size"/],
    ['products=5,products=6', /field products is given twice/],
    ['products=0', /field products must be an integer in \[1, 1000000\], got "0"/],
    ['consumers=2.5', /field consumers must be an integer/],
    ['suppliers=', /field suppliers must be an integer/],
    ['nests=-1', /field nests must be an integer/],
    ['seed=1e3', /field seed must be an integer in \[0, 4294967295\]/],
    ['seed=4294967296', /field seed must be an integer/],
    ['products=4,nests=5', /field nests must be at most products \(4\), got 5/],
    ['products=1000,consumers=20000', /fields consumers × products must be at most 10000000/],
  ])('%j is INVALID_ARGUMENT naming the field', (spec, msg) => {
    const [code, message] = err(() => parseRandomMarketSpec(spec));
    expect(code).toBe('INVALID_ARGUMENT');
    expect(message).toMatch(/^--random-market: /);
    expect(message).toMatch(msg);
  });
});

describe('repricer simulate marketplace --random-market (CLI)', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['dist/src/cli/main.js', 'simulate', 'marketplace', ...args], { encoding: 'utf8', timeout: 60_000 });
  // larger than the default test market (105 participants): 12 products, 150 consumers, 6 suppliers
  const spec = 'products=12,nests=4,consumers=150,suppliers=6,seed=3';

  it('exits 2 naming the field, and refuses --market with it and --watcher with it', () => {
    const a = run('--out', join(dir, 'x'), '--random-market', 'products=50,consumers=abc');
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('INVALID_ARGUMENT: --random-market: field consumers must be an integer in [1, 1000000], got "abc"');
    const b = run('--out', join(dir, 'x'), '--random-market', 'nodes=5');
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('unknown field "nodes"');
    const c = run('--out', join(dir, 'x'), '--random-market', 'seed=2', '--market', join(dir, 'm.json'));
    expect(c.status).toBe(2);
    expect(c.stderr).toContain('--market and --random-market cannot be given together');
    const d = run('--out', join(dir, 'x'), '--random-market', 'seed=2', '--watcher');
    expect(d.status).toBe(2);
    expect(d.stderr).toContain('--random-market is not an option of simulate marketplace --watcher');
  });

  it('a small larger-market run is byte-identical for a seed, differs for another, and measures randomMarket(seed, sizes)', () => {
    const outs = [join(dir, 'a'), join(dir, 'b'), join(dir, 'c')];
    const specs = [spec, spec, spec.replace('seed=3', 'seed=4')];
    outs.forEach((out, i) => {
      const r = run('--out', out, '--random-market', specs[i], '--steps', '300', '--seeds', '2', '--methods', 'sgd,adagrad,accelerated');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^method\s+gap<=10/);
    });
    for (const f of ['marketplace.csv', 'summary.json', 'marketplace.svg']) {
      expect(readFileSync(join(outs[1], f))).toEqual(readFileSync(join(outs[0], f)));
      expect(readFileSync(join(outs[2], f))).not.toEqual(readFileSync(join(outs[0], f)));
    }
    const s = JSON.parse(readFileSync(join(outs[0], 'summary.json'), 'utf8'));
    expect(s.market).toBe('random market (randomMarket seed 3: 12 products, 4 nests, 150 consumers, 6 suppliers)');
    expect(s.participants).toBe(156);
    expect(s.observationsPerStep).toEqual({ sgd: 1, adagrad: 1, accelerated: 156 });
    expect(readFileSync(join(outs[0], 'marketplace.svg'), 'utf8')).toContain('12 products, 150 consumers, 6 suppliers; 2 seeds, 300 steps');
    // the market measured is the one randomMarket builds from these sizes: its ER*, solved here in process
    const pot = new MarketPotential(randomMarket(3, { products: 12, nests: 4, consumers: 150, suppliers: 6 }), WasmCore.create({ variant: 'simd' }));
    try {
      const ref = solveMarket(pot, { method: 'accelerated', steps: 1_000_000, tol: 1e-10 });
      expect(s.reference.value).toBeCloseTo(ref.value, 9);
      expect(pot.participants).toBe(156);
    } finally {
      pot.dispose();
    }
  });
});
