/**
 * `repricer serve --market` options as a process (dist/src/cli/main.js) and through
 * parseServeOptions: a missing market file exits 4 and an invalid one 3, naming the file and the
 * field; --market-model and --market-policy need --market; the model and the policy's `market`
 * object are loaded and checked (bad ones name the field). A market whose pair clears at price 0
 * cannot bound its items: its quote is 409 CONFLICT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServeOptions, type ServeOptions } from '../src/cli/serve.js';
import { RepricerError } from '../src/core/errors.js';
import { buildApp } from '../src/server/app.js';
import { toMarketFile } from '../src/market/marketFile.js';
import { randomMarket } from '../src/market/randomMarket.js';
import { requireDist } from './server-helpers.js';

let dir: string;
beforeAll(() => {
  requireDist();
  dir = mkdtempSync(join(tmpdir(), 'repricer-serve-market-'));
  writeFileSync(join(dir, 'market.json'), JSON.stringify(toMarketFile(randomMarket(3, { products: 3, nests: 2, consumers: 4, suppliers: 2 }))));
  writeFileSync(join(dir, 'bad-market.json'), JSON.stringify({ ...toMarketFile(randomMarket(3, { products: 3, nests: 2, consumers: 4, suppliers: 2 })), mu: -1 }));
  writeFileSync(join(dir, 'policy.json'), JSON.stringify({ market: { zoneBand: 0.1, weights: { revenue: 1, volatility: 0.5 } } }));
  writeFileSync(join(dir, 'bad-policy.json'), JSON.stringify({ market: { zoneBand: 1.5 } }));
  writeFileSync(join(dir, 'bad-model.json'), JSON.stringify({ format: 'repricer.market-model/1' }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base: ServeOptions = { port: '0', host: '127.0.0.1', auth: false };
function code(f: () => unknown): [string, string] | null {
  try {
    f();
  } catch (e) {
    return [(e as RepricerError).code, (e as Error).message];
  }
  return null;
}

describe('serve --market options', () => {
  it('a missing market file exits 4, an invalid one 3, naming the file and the field', () => {
    const run = (file: string) => spawnSync(process.execPath, ['dist/src/cli/main.js', 'serve', '--port', '0', '--no-auth', '--workers', '0', '--market', file], { encoding: 'utf8', timeout: 60_000 });
    const missing = run(join(dir, 'nope.json'));
    expect([missing.status, missing.stderr]).toEqual([4, expect.stringContaining('nope.json: no such market file')]);
    const bad = run(join(dir, 'bad-market.json'));
    expect([bad.status, bad.stderr]).toEqual([3, expect.stringMatching(/bad-market\.json: invalid market: mu: /)]);
  });

  it('--market-model and --market-policy need --market; they are loaded and checked', () => {
    expect(code(() => parseServeOptions({ ...base, marketModel: 'm.json' }))).toEqual(['INVALID_ARGUMENT', '--market-model needs --market (the market whose items it prices)']);
    expect(code(() => parseServeOptions({ ...base, marketPolicy: 'p.json' }))).toEqual(['INVALID_ARGUMENT', '--market-policy needs --market (the market it sets the weights and zone band of)']);
    const ok = parseServeOptions({ ...base, market: join(dir, 'market.json'), marketPolicy: join(dir, 'policy.json') });
    expect(ok.app.market).toEqual({ market: join(dir, 'market.json'), policy: { zoneBand: 0.1, weights: { revenue: 1, utilisation: 0, lostSales: 0, volatility: 0.5 } } });
    expect(code(() => parseServeOptions({ ...base, market: join(dir, 'market.json'), marketPolicy: join(dir, 'bad-policy.json') }))).toEqual(['INVALID_ARGUMENT', expect.stringContaining('market.zoneBand')]);
    expect(code(() => parseServeOptions({ ...base, market: join(dir, 'market.json'), marketModel: join(dir, 'bad-model.json') }))).toEqual(['MODEL_INVALID', expect.stringContaining('createdAt: is required')]);
  });

  it('a pair that clears at price 0 cannot bound items: 409 CONFLICT', async () => {
    // a by-product: negative unit costs and values no consumer would pay (docs/math.md §2.1)
    const mk = randomMarket(21, { products: 4, nests: 2, consumers: 12, suppliers: 3 });
    for (let k = 0; k < 3; k++) mk.costs[k * 4 + 3] = -2;
    for (let j = 0; j < 12; j++) mk.values[j * 4 + 3] = -6;
    const app = buildApp({ market: { market: toMarketFile(mk) }, pool: false, dbFile: ':memory:', defaultMetrics: false });
    const prices = (await app.inject({ method: 'GET', url: '/v1/market/prices' })).json() as { prices: { zone: string; asset: string; published: number }[] };
    const free = prices.prices[3];
    expect(free.published).toBe(0);
    const r = await app.inject({ method: 'POST', url: '/v1/market/quote', payload: { item_id: 'x', zone: free.zone, asset: free.asset, time: '2026-12-07T10:00:00Z' } });
    expect([r.statusCode, r.json().error.code, r.json().error.message]).toEqual([409, 'CONFLICT', expect.stringContaining('the zone-level price is 0 (free at the clearing prices)')]);
    await app.close();
  });
});
