/**
 * src/server/quoteService.ts in isolation: the layout of named features into the engine's chunk,
 * and rows the core cannot price (rejected by the engine itself, alone).
 */
import { describe, it, expect } from 'vitest';
import { WasmCore } from '../src/core/wasm.js';
import { compileModel } from '../src/pricing/compiledModel.js';
import { priceChunk } from '../src/pricing/engine.js';
import { priceItems, QuoteBatcher } from '../src/server/quoteService.js';
import { buildChunk, quoteRecord } from '../src/pricing/quoteItems.js';
import type { ActiveModel } from '../src/server/modelRegistry.js';
import { pinModel } from '../src/pricing/pinnedModel.js';
import { shareModel } from '../src/pricing/sharedModel.js';
import type { PriceColumns } from '../src/pricing/engine.js';
import type { Policy } from '../src/pricing/policy.js';
import { RepricerError } from '../src/core/errors.js';
import { model1, model2, makeItems, engineRecords } from './server-helpers.js';

const core = WasmCore.create();
const cm = compileModel(model1);

describe('buildChunk', () => {
  it('lays features out in model order after the intercept; absent optionals are NaN', () => {
    const c = buildChunk(cm, [{ product_id: 'A', features: { f3: 3, f1: 1, f2: 2, other: 9 }, cost: 5, current_price: null }], () => '');
    expect(Array.from(c.x)).toEqual([1, 1, 2, 3]);
    expect(c.ids).toEqual(['A']);
    expect(c.cost[0]).toBe(5);
    expect([c.currentPrice[0], c.minPrice[0], c.maxPrice[0]].every(Number.isNaN)).toBe(true);
  });

  it('names every missing feature with its path, ignoring inherited names', () => {
    const items = [{ product_id: 'A', features: { f1: 1 } }, { product_id: 'B', features: Object.create({ f2: 1 }) as Record<string, number> }];
    let err: unknown;
    try {
      buildChunk(cm, items, (i) => `items.${i}.`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RepricerError);
    expect((err as RepricerError).code).toBe('FEATURES_MISMATCH');
    expect((err as RepricerError).details).toEqual({ missing: ['items.0.features.f2', 'items.0.features.f3', 'items.1.features.f1', 'items.1.features.f2', 'items.1.features.f3'], features: ['f1', 'f2', 'f3'] });
  });
});

const steepModel = { ...model1, products: { ...model1.products, 'SKU-1': { theta: [20, 50, 50, 50], n: 9 } } };
const steep = compileModel(steepModel);

describe('rows the core cannot price', () => {
  it('rows whose x . theta overflows are rejected (out_of_domain) and never carry a price, with and without a policy', () => {
    const items = makeItems(5, 1);
    items[2] = { product_id: 'SKU-1', features: { f1: 1e307, f2: 1e307, f3: 1e307 } }; // u overflows
    // u = 1.5e308 is finite, but far outside the price domain (1e12): rejected too, policy or not
    items[4] = { product_id: 'SKU-1', features: { f1: 1e306, f2: 1e306, f3: 1e306 } };
    const cases: [Policy, boolean[]][] = [
      [{}, [false, false, true, false, true]],
      [{ rounding: { step: 0.01 } }, [false, false, true, false, true]],
      [{ bounds: { max: 40 } }, [false, false, true, false, true]],
    ];
    for (const [policy, rejected] of cases) {
      const p = priceChunk(core, steep, policy, buildChunk(steep, items, () => ''));
      expect(Array.from(p.status).map((s) => s === 4)).toEqual(rejected);
      // out_of_domain only: no guardrail codes from a placeholder price (never `ceiling;out_of_domain`)
      expect(p.reasons[2]).toBe(1 << 8);
      expect(p.reasons[4]).toBe(1 << 8);
      for (let i = 0; i < 5; i++) {
        const values = [p.price[i], p.winProbability[i], p.expectedProfit[i], p.delta[i], p.gamma[i], p.vega[i]];
        expect(values.every(rejected[i] ? Number.isNaN : Number.isFinite), `row ${i}`).toBe(true);
      }
    }
  });

  it('priceItems: a row the core cannot price is rejected alone; the others keep their engine numbers', async () => {
    const items = makeItems(6, 2);
    items[3] = { product_id: 'SKU-1', features: { f1: 1e307, f2: 1e307, f3: 1e307 }, current_price: 20 };
    const chunk = buildChunk(steep, items, () => '');
    const t = core.arena.alloc(steep.table.length);
    const v = core.arena.alloc(steep.cov.length);
    const at = core.arena.allocBytes(4 * steep.covAt.length);
    const model: ActiveModel = { version: 'v9', seq: 9, path: '/nonexistent', compiled: steep, pinned: { table: t, cov: v, covAt: at } };
    core.arena.view(t, steep.table.length).set(steep.table);
    core.arena.view(v, steep.cov.length).set(steep.cov);
    new Int32Array(core.memory.buffer, at, steep.covAt.length).set(steep.covAt);
    const p = await priceItems(model, chunk, { core, policy: {}, poolThreshold: 1000 });
    const got = items.map((it, i) => JSON.parse(JSON.stringify(quoteRecord(it.product_id, p, i))) as Record<string, unknown>);
    const ref = engineRecords(steepModel, {}, items.filter((_, i) => i !== 3));
    expect(got.filter((_, i) => i !== 3)).toEqual(ref);
    expect(got[3]).toEqual({
      product_id: 'SKU-1', price: null, previous_price: 20, change_pct: null, win_probability: null, expected_profit: null,
      delta: null, gamma: null, vega: null, price_std_error: null, status: 'rejected', reason: 'out_of_domain', cold_start: false,
    });
  });
});

describe('QuoteBatcher', () => {
  function active(version: string, model = model1): ActiveModel {
    const compiled = compileModel(model);
    const { pinned } = pinModel(core, compiled, undefined, false);
    return { version, seq: 1, path: '', compiled, pinned, shared: () => shareModel(compiled, version) };
  }

  it('prices the quotes of one turn in one chunk per model; each row equals the engine', async () => {
    const m1 = active('v1');
    const m2 = active('v2', model2);
    const chunks: [string, number][] = [];
    const b = new QuoteBatcher({ core, policy: {}, poolThreshold: 1e9 }, (m, _c, p: PriceColumns) => chunks.push([m.version, p.n]));
    const items = makeItems(30, 44);
    const got = await Promise.all(items.map((it, k) => b.quote(k % 3 === 0 ? m2 : m1, it).then(({ p, i }) => JSON.parse(JSON.stringify(quoteRecord(it.product_id, p, i))) as unknown)));
    expect(chunks).toEqual([['v2', 10], ['v1', 20]]);
    items.forEach((it, k) => expect(got[k]).toEqual(engineRecords(k % 3 === 0 ? model2 : model1, {}, [it])[0]));
    // a later turn is a new chunk
    await b.quote(m1, items[0]);
    expect(chunks.at(-1)).toEqual(['v1', 1]);
  });

  it('throws FEATURES_MISMATCH before queueing', () => {
    const b = new QuoteBatcher({ core, policy: {}, poolThreshold: 1e9 }, () => undefined);
    expect(() => b.quote(active('v1'), { product_id: 'A', features: { f1: 1 } })).toThrow(/features\.f2: is required by the model/);
  });
});

