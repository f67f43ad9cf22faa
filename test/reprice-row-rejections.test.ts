/**
 * Rows whose own inputs leave no admissible price (a negative cost, min_price above max_price, a
 * max_price below the policy's minimum): the default --on-error fail stops the job naming the file,
 * line and product, exit 3, nothing written; --on-error skip publishes them as rejected with the
 * reason, every other row priced as usual. A real process per case.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDemoModel } from '../src/batch/demoData.js';

const main = 'dist/src/cli/main.js';
let dir: string;
let model: string;

function cli(...args: string[]) {
  return spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 120_000 });
}

const header = 'product_id,f1,f2,f3,cost,current_price,min_price,max_price';
const good = 'SKU-0,0.3,-0.5,0.08,8.57,18.03,,';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'repricer-rowrej-'));
  model = join(dir, 'model.json');
  writeDemoModel(model, { products: 20, features: 3, seed: 5 });
  writeFileSync(join(dir, 'policy.json'), JSON.stringify({ bounds: { min: 1 } }));
});

describe('rows rejected for their input', () => {
  const cases: [string, string, RegExp][] = [
    ['negative cost', 'SKU-1,0.1,0.2,0.3,-5,18,,', /:3: product "SKU-1": column cost: expected a finite number >= 0, got -5 \(invalid_cost\)/],
    ['min_price > max_price', 'SKU-2,0.1,0.2,0.3,5,18,30,10', /:3: product "SKU-2": min_price 30 and max_price 10, .* leave no admissible price \(conflicting_bounds\)/],
    ['max_price below the policy minimum', 'SKU-3,0.1,0.2,0.3,0.1,,,0.5', /:3: product "SKU-3": min_price empty and max_price 0.5, .*\(conflicting_bounds\)/],
  ];
  for (const [name, row, msg] of cases) {
    it(`${name}: --on-error fail stops with exit 3 naming the line; skip publishes it rejected`, () => {
      const cat = join(dir, `${name.replace(/\W+/g, '_')}.csv`);
      writeFileSync(cat, [header, good, row, good.replace('SKU-0', 'SKU-4')].join('\n') + '\n');
      const out = join(dir, `${name.replace(/\W+/g, '_')}.out.csv`);
      const fail = cli('reprice', '--model', model, '--catalog', cat, '--out', out, '--policy', join(dir, 'policy.json'), '--workers', '1');
      expect(fail.status).toBe(3);
      expect(fail.stderr).toMatch(/INPUT_ROW_INVALID/);
      expect(fail.stderr).toMatch(msg);
      expect(fail.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(existsSync(out)).toBe(false);

      const skip = cli('reprice', '--model', model, '--catalog', cat, '--out', out, '--policy', join(dir, 'policy.json'), '--workers', '1', '--on-error', 'skip');
      expect(skip.status).toBe(0);
      const lines = readFileSync(out, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(4);
      const cols = lines[0].split(',');
      const rec = (l: string) => Object.fromEntries(l.split(',').map((v, k) => [cols[k], v]));
      const bad = rec(lines[2]);
      expect(bad.price).toBe('');
      expect(bad.status).toBe('rejected');
      expect(bad.reason).toBe(/invalid_cost/.test(String(msg)) ? 'invalid_cost' : 'conflicting_bounds');
      expect(rec(lines[1]).status).not.toBe('rejected');
      expect(rec(lines[3]).status).not.toBe('rejected');
    });
  }
});
