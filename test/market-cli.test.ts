/**
 * `repricer market solve` through the built CLI (dist/src/cli/main.js): the CSV it writes, the KKT
 * residual it prints, the same file from the same seed, and the exit codes of the error table.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERROR_CATALOG } from '../src/core/errors.js';
import { toMarketFile } from '../src/market/marketFile.js';
import { randomMarket } from '../src/market/randomMarket.js';

const main = 'dist/src/cli/main.js';
let dir: string;
let market: string;

function cli(...args: string[]): { status: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

function readCsv(file: string): { header: string; rows: string[][] } {
  const [header, ...rest] = readFileSync(file, 'utf8').trimEnd().split('\n');
  return { header, rows: rest.map((l) => l.split(',')) };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'repricer-market-'));
  market = join(dir, 'market.json');
  const ids = ['green tea', 'black tea', 'espresso', 'latte', 'mocha', 'water'];
  writeFileSync(market, JSON.stringify(toMarketFile(randomMarket(4, { products: 6, nests: 3, consumers: 20, suppliers: 3, outsideOption: true }), ids)));
});

describe('repricer market solve', () => {
  it('accelerated: writes product_id,price,supply,demand,excess in file order, prints the KKT residual, and the prices clear', () => {
    const out = join(dir, 'acc.csv');
    const r = cli('market', 'solve', '--market', market, '--method', 'accelerated', '--out', out);
    expect(r.status).toBe(0);
    const m = /^kkt residual (\S+) \(accelerated, (\d+) steps, potential \S+\) -> (.+)$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(1e-9);
    expect(m![3]).toBe(out);
    const { header, rows } = readCsv(out);
    expect(header).toBe('product_id,price,supply,demand,excess');
    expect(rows.map((x) => x[0])).toEqual(['green tea', 'black tea', 'espresso', 'latte', 'mocha', 'water']);
    for (const [, p, s, d, e] of rows) {
      const [price, supply, demand, excess] = [p, s, d, e].map(Number);
      expect(price).toBeGreaterThan(0);
      expect(excess).toBeCloseTo(supply - demand, 12);
      expect(Math.abs(excess)).toBeLessThanOrEqual(1e-9);
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('sgd with a seed: the same file twice, and near the accelerated prices', () => {
    const a = join(dir, 'sgd-a.csv');
    const b = join(dir, 'sgd-b.csv');
    for (const out of [a, b]) {
      const r = cli('market', 'solve', '--market', market, '--method', 'sgd', '--steps', '50000', '--seed', '9', '--oracle', 'purchase', '--out', out);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^kkt residual \S+ \(sgd, 50000 steps/);
    }
    expect(readFileSync(a, 'utf8')).toBe(readFileSync(b, 'utf8'));
    const acc = readCsv(join(dir, 'acc.csv')).rows;
    readCsv(a).rows.forEach((row, i) => expect(Math.abs(Number(row[1]) - Number(acc[i][1]))).toBeLessThan(0.2));
  });

  it('exit codes: 2 for a bad option value, 3 for an invalid market naming the field, 4 for a missing file; nothing written', () => {
    const out = join(dir, 'never.csv');
    const bad = cli('market', 'solve', '--market', market, '--method', 'newton', '--out', out);
    expect(bad.status).toBe(ERROR_CATALOG.INVALID_ARGUMENT.exit);
    expect(bad.stderr).toMatch(/INVALID_ARGUMENT: --method must be one of sgd, adagrad, smd, gradient, accelerated/);
    const steps = cli('market', 'solve', '--market', market, '--method', 'sgd', '--steps', '0', '--out', out);
    expect(steps.status).toBe(ERROR_CATALOG.INVALID_ARGUMENT.exit);
    expect(steps.stderr).toMatch(/--steps must be an integer >= 1/);
    const missingOpt = cli('market', 'solve', '--market', market, '--out', out);
    expect(missingOpt.status).toBe(ERROR_CATALOG.INVALID_ARGUMENT.exit);
    expect(missingOpt.stderr).toMatch(/required option '--method <method>' not specified/);
    const invalid = join(dir, 'invalid.json');
    const f = JSON.parse(readFileSync(market, 'utf8'));
    f.nests[0].mu = 5;
    writeFileSync(invalid, JSON.stringify(f));
    const inv = cli('market', 'solve', '--market', invalid, '--method', 'gradient', '--out', out);
    expect(inv.status).toBe(ERROR_CATALOG.INPUT_UNREADABLE.exit);
    expect(inv.stderr).toMatch(/INPUT_UNREADABLE: .*invalid market: nests\.0\.mu: must be <= mu \(1\), got 5/);
    expect(inv.stderr).not.toMatch(/\n\s+at /);
    const missing = cli('market', 'solve', '--market', join(dir, 'nope.json'), '--method', 'gradient', '--out', out);
    expect(missing.status).toBe(ERROR_CATALOG.NOT_FOUND.exit);
    expect(missing.stderr).toMatch(/nope\.json: no such market file/);
    expect(existsSync(out)).toBe(false);
  });
});
