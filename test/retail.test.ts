/**
 * The retail layer of the engine (src/pricing/retailSteps.ts, docs/math.md §4.3, §3.4, §5.3):
 * closed forms computed here by hand, a brute-force search over the price for the return curve,
 * explanations that add up, the advertised-price floor, rejections, the inventory skew's
 * direction, the blend weight's formula, and the same numbers through the CLI and the HTTP API.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { WasmCore } from '../src/core/wasm.js';
import { compileModel, type CompiledModel } from '../src/pricing/compiledModel.js';
import { emptyPriceColumns, priceChunk, type CatalogChunk, type PriceColumns } from '../src/pricing/engine.js';
import { REASON_BIT, STATUS_CODE, validatePolicy, type Policy } from '../src/pricing/policy.js';
import type { RetailColumns } from '../src/pricing/catalogColumns.js';
import { demoModel, rng } from '../src/batch/demoData.js';
import { buildApp } from '../src/server/app.js';
import { requireDist } from './server-helpers.js';
import { parquetWriteBuffer } from 'hyparquet-writer';

const model = demoModel({ products: 20, features: 3, seed: 3 });
let core: WasmCore;
let cm: CompiledModel;
beforeAll(() => {
  core = WasmCore.create({ variant: 'simd' });
  cm = compileModel(model);
});

const nan = (n: number) => new Float64Array(n).fill(NaN);

/** n rows of product SKU-1 with features x, the given cost and retail columns. */
function chunkOf(n: number, cost: number[], retail: RetailColumns, over: Partial<CatalogChunk> = {}): CatalogChunk {
  const x = new Float64Array(n * cm.D);
  const r = rng(9);
  for (let i = 0; i < n; i++) {
    if (cm.intercept) x[i * cm.D] = 1;
    for (let j = cm.intercept ? 1 : 0; j < cm.D; j++) x[i * cm.D + j] = r() - 0.5;
  }
  return { n, ids: Array.from({ length: n }, (_, i) => `SKU-${i % 20}`), x, cost: Float64Array.from(cost), currentPrice: nan(n), minPrice: nan(n), maxPrice: nan(n), retail, ...over };
}

function price(policy: Policy, chunk: CatalogChunk, explain = true): PriceColumns {
  return priceChunk(core, cm, validatePolicy(policy), chunk, undefined, { explain });
}

describe('retail pricing: closed forms', () => {
  it('constant elasticity with a constant return rate: the Lerner price at the effective cost, |e|/(|e|-1) (C + R Cret/(1-R))', () => {
    const e = [-1.5, -2, -3.7, -1.1];
    const C = [10, 4, 100, 2.5];
    const R = [0, 0.1, 0.25, 0.05];
    const Cret = [0, 3, 20, 1];
    const p = price({}, chunkOf(4, C, { elasticity: Float64Array.from(e), returnRate: Float64Array.from(R), returnCost: Float64Array.from(Cret) }));
    for (let i = 0; i < 4; i++) {
      const cEff = C[i] + (R[i] * Cret[i]) / (1 - R[i]);
      const want = (Math.abs(e[i]) / (Math.abs(e[i]) - 1)) * cEff;
      expect(p.price[i]).toBeCloseTo(want, 9);
      expect(p.explain!.basePrice[i]).toBeCloseTo((Math.abs(e[i]) / (Math.abs(e[i]) - 1)) * C[i], 9);
      expect(p.winProbability[i]).toBeNaN(); // no win probability under constant elasticity
      expect(p.gamma[i]).toBeLessThan(0); // a maximum
      expect(Math.abs(p.delta[i])).toBeLessThan(1e-9 * Math.max(1, Math.abs(p.expectedProfit[i])));
    }
    // unlimited stock, no returns, cost 10, e = -1.5: 30
    expect(p.price[0]).toBeCloseTo(30, 12);
  });

  it('win probability with a constant return rate equals the plain optimum at the effective cost', () => {
    const n = 50;
    const r = rng(4);
    const C = Array.from({ length: n }, () => 0.5 + 3 * r());
    const R = Float64Array.from({ length: n }, () => 0.4 * r());
    const Cret = Float64Array.from({ length: n }, () => 2 * r());
    const withReturns = price({}, chunkOf(n, C, { returnRate: R, returnCost: Cret }));
    const cEff = C.map((c, i) => c + (R[i] * Cret[i]) / (1 - R[i]));
    const plain = price({}, chunkOf(n, cEff, {}));
    for (let i = 0; i < n; i++) expect(withReturns.price[i]).toBeCloseTo(plain.price[i], 10);
  });
});

/** Pi(P) of the win probability with the logistic return curve, written out here (docs/math.md §4.1). */
function profitLogistic(P: number, u: number, sigma: number, C: number, Cret: number, c: { rMin: number; rMax: number; slope: number; midpoint: number }): number {
  const S = 1 / (1 + Math.exp(-c.slope * (P - c.midpoint)));
  const R = c.rMin + (c.rMax - c.rMin) * S;
  const z = (P - u) / sigma;
  const Q = 0.5 * erfc(z / Math.SQRT2);
  return Q * ((P - C) * (1 - R) - Cret * R);
}

/** erfc by its continued-fraction-free series/asymptotic split (Numerical Recipes' erfcc, 1.2e-7), refined below by golden search only on the argmax. */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

describe('retail pricing: a return rate that grows with price', () => {
  it('the Newton optimum of the curve matches a brute-force search of Pi over the price', () => {
    const curve = { rMin: 0.02, rMax: 0.4, slope: 1.5, midpoint: 2.5, cost: 0.8 };
    const n = 20;
    const r = rng(8);
    const C = Array.from({ length: n }, () => 0.2 + 2 * r());
    const chunk = chunkOf(n, C, {});
    const p = price({ returns: curve }, chunk);
    // u = x . theta of each row, from the plain optimum's inputs: recompute it here
    const sigma = cm.noise.scale;
    for (let i = 0; i < n; i++) {
      const pid = cm.index.get(chunk.ids[i]) ?? 0;
      let u = 0;
      for (let j = 0; j < cm.D; j++) u += chunk.x[i * cm.D + j] * cm.table[pid * cm.D + j];
      const f = (P: number) => profitLogistic(P, u, sigma, C[i], curve.cost, curve);
      // grid then golden refinement, independent of the engine's solver
      let best = C[i];
      for (let P = C[i]; P < u + 12 * sigma + 10; P += 0.001) if (f(P) > f(best)) best = P;
      let a = best - 0.002;
      let b = best + 0.002;
      for (let k = 0; k < 60; k++) {
        const m1 = b - 0.618 * (b - a);
        const m2 = a + 0.618 * (b - a);
        if (f(m1) > f(m2)) b = m2;
        else a = m1;
      }
      const want = (a + b) / 2;
      const got = p.explain!.basePrice[i] + p.explain!.returnAdjustment[i];
      expect(Math.abs(got - want)).toBeLessThan(2e-4 * Math.max(1, want));
    }
  });
});

describe('retail pricing: return multipliers by segment', () => {
  const curve = { rMin: 0.02, rMax: 0.3, slope: 1.2, midpoint: 2.5, cost: 0.5 };
  it('a segment multiplier scales the curve: the same prices as the curve with rMin and rMax times it; other segments keep the base curve', () => {
    const n = 30;
    const ch = chunkOf(n, Array.from({ length: n }, (_, i) => 0.3 + (i % 7) * 0.3), {});
    ch.segment = { codes: Int32Array.from({ length: n }, (_, i) => (i % 3 === 2 ? -1 : i % 3)), names: ['A', 'B'] };
    const withSeg = price({ returns: { ...curve, segments: { A: 2.5 } } }, ch);
    const scaled = price({ returns: { ...curve, rMin: 2.5 * curve.rMin, rMax: 2.5 * curve.rMax } }, { ...ch, segment: undefined });
    const base = price({ returns: curve }, { ...ch, segment: undefined });
    for (let i = 0; i < n; i++) {
      const want = ch.segment.codes[i] === 0 ? scaled : base;
      expect(withSeg.price[i]).toBe(want.price[i]);
      expect(withSeg.expectedProfit[i]).toBe(want.expectedProfit[i]);
    }
    // the multiplier moves segment A's prices (the direction depends on the curve: a higher rate
    // raises the effective cost, a steeper one lowers the optimum)
    expect(withSeg.explain!.returnAdjustment[0]).not.toBe(base.explain!.returnAdjustment[0]);
  });

  it('a multiplier that takes the curve to a rate of 1 or more is refused when the policy is loaded', () => {
    expect(() => validatePolicy({ returns: { ...curve, segments: { A: 4 } } }, 'p.json')).toThrow('p.json: invalid policy: returns.segments.A 4 x rMax 0.3 = 1.2 is not a return rate below 1');
    // a segment and a season multiplier together
    expect(() => validatePolicy({ returns: { ...curve, segments: { A: 2, B: 1.5 }, seasons: { peak: 1.8 } } }, 'p.json')).toThrow('p.json: invalid policy: returns.segments.A 2 x returns.seasons.peak 1.8 x rMax 0.3 = 1.08 is not a return rate below 1');
  });

  it('segment and season multipliers multiply: the same prices as the curve scaled by their product', () => {
    const n = 24;
    const ch = chunkOf(n, Array.from({ length: n }, (_, i) => 0.3 + (i % 5) * 0.4), {});
    ch.segment = { codes: Int32Array.from({ length: n }, (_, i) => i % 2), names: ['A', 'B'] };
    ch.season = { codes: Int32Array.from({ length: n }, (_, i) => (i % 3 === 2 ? -1 : i % 3)), names: ['peak', 'lull'] };
    const mSeg = [1.5, 1];
    const mSea = [1.6, 0.5];
    const got = price({ returns: { ...curve, segments: { A: mSeg[0] }, seasons: { peak: mSea[0], lull: mSea[1] } } }, ch);
    for (let i = 0; i < n; i++) {
      const m = mSeg[ch.segment.codes[i]] * (ch.season.codes[i] >= 0 ? mSea[ch.season.codes[i]] : 1);
      const one = chunkOf(n, Array.from({ length: n }, (_, j) => 0.3 + (j % 5) * 0.4), {});
      const want = price({ returns: { ...curve, rMin: m * curve.rMin, rMax: m * curve.rMax } }, one);
      expect(got.price[i]).toBe(want.price[i]);
    }
  });

  it('the season column is read the same way by every reader (CSV fast and quoted, NDJSON, Parquet) and by the HTTP door', async () => {
    requireDist();
    const dir = mkdtempSync(join(tmpdir(), 'repricer-season-'));
    try {
      const policy = { returns: { ...curve, seasons: { peak: 2.5, lull: 0.2 } } };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(model));
      writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
      const seasons = ['peak', 'lull', '', 'peak', 'other', 'lull'];
      const r = rng(12);
      const rows = seasons.map((season, i) => ({ product_id: `SKU-${i}`, features: Object.fromEntries(model.features.map((f) => [f, Math.round((r() - 0.5) * 100) / 100])), cost: 1 + i / 10, season }));
      const head = ['product_id', ...model.features, 'cost', 'season'];
      const line = (it: (typeof rows)[number], quote = false) => [quote ? `"${it.product_id}"` : it.product_id, ...model.features.map((f) => it.features[f]), it.cost, it.season].join(',');
      writeFileSync(join(dir, 'in.csv'), [head.join(','), ...rows.map((it) => line(it))].join('\n') + '\n');
      writeFileSync(join(dir, 'in-quoted.csv'), [head.join(','), ...rows.map((it, i) => line(it, i === 0))].join('\n') + '\n');
      writeFileSync(join(dir, 'in.ndjson'), rows.map((it) => JSON.stringify({ product_id: it.product_id, ...it.features, cost: it.cost, season: it.season })).join('\n') + '\n');
      const buf = parquetWriteBuffer({
        columnData: head.map((k) =>
          k === 'product_id' || k === 'season'
            ? { name: k, data: rows.map((it) => (k === 'season' ? (it.season === '' ? null : it.season) : it.product_id)), type: 'STRING' as const, nullable: k === 'season' }
            : { name: k, data: rows.map((it) => (k === 'cost' ? it.cost : it.features[k])), type: 'DOUBLE' as const, nullable: true },
        ),
      });
      writeFileSync(join(dir, 'in.parquet'), new Uint8Array(buf));
      const priced: string[][] = [];
      for (const input of ['in.csv', 'in-quoted.csv', 'in.ndjson', 'in.parquet']) {
        const out = join(dir, `${input}.out.csv`);
        execFileSync(process.execPath, ['dist/src/cli/main.js', 'reprice', '--model', join(dir, 'model.json'), '--catalog', join(dir, input), '--out', out, '--policy', join(dir, 'policy.json'), '--workers', '1'], { stdio: 'pipe' });
        priced.push(readFileSync(out, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[1]));
      }
      for (const p of priced.slice(1)) expect(p).toEqual(priced[0]);
      // the same rows without a season column: rows of no season or an unlisted one keep the base curve
      writeFileSync(join(dir, 'plain.csv'), [head.slice(0, -1).join(','), ...rows.map((it) => line(it).split(',').slice(0, -1).join(','))].join('\n') + '\n');
      execFileSync(process.execPath, ['dist/src/cli/main.js', 'reprice', '--model', join(dir, 'model.json'), '--catalog', join(dir, 'plain.csv'), '--out', join(dir, 'plain.out.csv'), '--policy', join(dir, 'policy.json'), '--workers', '1'], { stdio: 'pipe' });
      const plain = readFileSync(join(dir, 'plain.out.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[1]);
      seasons.forEach((s, i) => (s === 'peak' || s === 'lull' ? expect(priced[0][i]).not.toBe(plain[i]) : expect(priced[0][i]).toBe(plain[i])));
      // the HTTP door: the same prices
      const app = buildApp({ model, policy: validatePolicy(policy), defaultMetrics: false, pool: false });
      try {
        const base = await app.listen({ port: 0, host: '127.0.0.1' });
        const res = await fetch(`${base}/v1/quotes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: rows.map((it) => ({ ...it, season: it.season === '' ? null : it.season })) }) });
        expect(res.status).toBe(200);
        const recs = ((await res.json()) as { items: { price: number }[] }).items;
        expect(recs.map((x) => String(x.price))).toEqual(priced[0]);
      } finally {
        await app.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the batch job reads the segment column when the policy has return multipliers', () => {
    requireDist();
    const dir = mkdtempSync(join(tmpdir(), 'repricer-retseg-'));
    try {
      writeFileSync(join(dir, 'model.json'), JSON.stringify(model));
      writeFileSync(join(dir, 'policy.json'), JSON.stringify({ returns: { ...curve, segments: { loud: 3 } } }));
      const f = model.features.map(() => '0.1').join(',');
      writeFileSync(join(dir, 'cat.csv'), `product_id,${model.features.join(',')},cost,segment\nSKU-1,${f},1,loud\nSKU-1,${f},1,quiet\nSKU-1,${f},1,\n`);
      execFileSync(process.execPath, ['dist/src/cli/main.js', 'reprice', '--model', join(dir, 'model.json'), '--catalog', join(dir, 'cat.csv'), '--out', join(dir, 'out.csv'), '--policy', join(dir, 'policy.json'), '--workers', '1'], { stdio: 'pipe' });
      const prices = readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));
      expect(prices[0]).not.toBe(prices[1]); // 'loud' has three times the returns
      expect(prices[1]).toBe(prices[2]); // an unlisted segment and no segment: the base curve
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('retail pricing: explanations, floors, rejections', () => {
  const policy: Policy = {
    minMarginOverCost: 1.05, maxChangePct: 25, rounding: { step: 0.05 }, bounds: { max: 500 },
    returns: { rMin: 0.01, rMax: 0.3, slope: 0.2, midpoint: 20, cost: 1 },
    inventory: { riskAversion: 0.5, volatility: 0.05, horizonDays: 30, holdingCost: 0.001, maxFactor: 2 },
    breaker: { requireConcave: false, maxStdErrorPct: 80 },
  };

  it('the explanation columns add up to the published price on random rows (to the cent and to 1e-9 relative)', () => {
    const n = 4000;
    const r = rng(21);
    const pick = (p: number, f: () => number) => Float64Array.from({ length: n }, () => (r() < p ? f() : NaN));
    const C = Array.from({ length: n }, () => 0.5 + 50 * r());
    const chunk = chunkOf(n, C, {
      elasticity: pick(0.4, () => -1.05 - 4 * r()),
      returnRate: pick(0.5, () => 0.5 * r()),
      returnCost: pick(0.7, () => 5 * r()),
      inventory: pick(0.8, () => Math.floor(400 * r())),
      targetInventory: pick(0.8, () => 50 + Math.floor(200 * r())),
      expertPrice: pick(0.5, () => 1 + 80 * r()),
      mapPrice: pick(0.2, () => 60 * r()),
    }, { currentPrice: Float64Array.from({ length: n }, () => (r() < 0.8 ? 1 + 80 * r() : NaN)) });
    const p = price(policy, chunk);
    let published = 0;
    for (let i = 0; i < n; i++) {
      if (p.status[i] === STATUS_CODE.rejected) {
        expect(p.price[i]).toBeNaN();
        continue;
      }
      published++;
      const e = p.explain!;
      const sum = e.basePrice[i] + e.returnAdjustment[i] + e.inventoryAdjustment[i] + e.coldStartAdjustment[i] + e.guardrailAdjustment[i] + e.roundingAdjustment[i];
      expect(Math.abs(sum - p.price[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, p.price[i]));
      expect(Math.round(sum * 100)).toBe(Math.round(p.price[i] * 100));
      expect(Number.isFinite(p.price[i])).toBe(true);
      // the advertised-price floor is a floor after rounding
      const map = chunk.retail!.mapPrice![i];
      if (Number.isFinite(map)) expect(p.price[i]).toBeGreaterThanOrEqual(map);
      // no published row without a finite expected profit and Greeks
      expect(Number.isFinite(p.expectedProfit[i]) && Number.isFinite(p.delta[i]) && Number.isFinite(p.gamma[i])).toBe(true);
    }
    expect(published).toBeGreaterThan(n * 0.8);
  });

  it('map_price is a floor with its own reason', () => {
    const p = price({ rounding: { step: 0.01 } }, chunkOf(1, [1], { mapPrice: Float64Array.of(999.994) }));
    expect(p.price[0]).toBe(1000);
    expect(p.reasons[0] & REASON_BIT.map_floor).toBeTruthy();
    expect(p.status[0]).toBe(STATUS_CODE.clipped);
  });

  it('rejects inelastic demand and a return rate of 1 with one cause each', () => {
    const p = price({}, chunkOf(3, [5, 5, 5], { elasticity: Float64Array.of(-0.8, NaN, -2), returnRate: Float64Array.of(NaN, 1, NaN) }));
    expect([p.status[0], p.reasons[0] & ~REASON_BIT.cold_start]).toEqual([STATUS_CODE.rejected, REASON_BIT.invalid_elasticity]);
    expect([p.status[1], p.reasons[1] & ~REASON_BIT.cold_start]).toEqual([STATUS_CODE.rejected, REASON_BIT.invalid_returns]);
    expect(p.status[2]).not.toBe(STATUS_CODE.rejected);
  });

  it('inventory skew through the engine: more stock never raises the price, target gives no skew', () => {
    const n = 41;
    const inv = Float64Array.from({ length: n }, (_, i) => i * 10);
    const target = new Float64Array(n).fill(200);
    const ch = chunkOf(n, new Array(n).fill(3), { inventory: inv, targetInventory: target });
    ch.x = ch.x.map((_, k) => ch.x[k % cm.D]); // one SKU's features on every row
    ch.ids = ch.ids.map(() => 'SKU-1');
    const p = price({ inventory: policy.inventory }, ch);
    for (let i = 1; i < n; i++) expect(p.modelPrice[i]).toBeLessThanOrEqual(p.modelPrice[i - 1]);
    expect(p.explain!.inventoryAdjustment[20]).toBe(0);
    expect(p.modelPrice[0]).toBeGreaterThan(p.modelPrice[20]);
    expect(p.modelPrice[40]).toBeLessThan(p.modelPrice[20]);
  });

  it('the expert blend weight is tau^2/(tau^2 + se^2), and a cold start leans on the expert more', () => {
    const ch = chunkOf(2, [1, 1], { expertPrice: Float64Array.of(3, 3) });
    ch.ids = ['SKU-1', 'NEW-1'];
    const p = price({ expertBlend: { tauPct: 5 } }, ch);
    for (let i = 0; i < 2; i++) {
      const tau = 0.05 * 3;
      const w = (tau * tau) / (tau * tau + p.priceStdError[i] ** 2);
      expect(p.blendWeight![i]).toBeCloseTo(w, 12);
      const model = p.explain!.basePrice[i];
      expect(p.modelPrice[i]).toBeCloseTo(w * model + (1 - w) * 3, 10);
    }
    expect(p.blendWeight![1]).toBeLessThan(p.blendWeight![0]);
  });

  it('a plain catalogue is priced exactly as without the retail layer', () => {
    const ch = chunkOf(200, Array.from({ length: 200 }, (_, i) => 0.5 + (i % 7)), {});
    delete ch.retail;
    const a = priceChunk(core, cm, {}, ch);
    const b = priceChunk(core, cm, {}, ch, emptyPriceColumns(200, { explain: true }));
    expect(Array.from(b.price)).toEqual(Array.from(a.price));
    expect(Array.from(b.expectedProfit)).toEqual(Array.from(a.expectedProfit));
    expect(a.explain).toBeUndefined();
  });
});

describe('retail pricing: both doors give the same numbers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'repricer-retail-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reprice --explain (CSV) and POST /v1/quotes?explain=true publish the same prices, weights and breakdowns', async () => {
    requireDist();
    const policy = { rounding: { step: 0.01 }, returns: { rMin: 0.02, rMax: 0.25, slope: 0.5, midpoint: 3, cost: 0.5 }, inventory: { riskAversion: 1, volatility: 0.1, horizonDays: 10 } };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(model));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
    const r = rng(31);
    const items = Array.from({ length: 60 }, (_, i) => ({
      product_id: i % 9 === 0 ? `NEW-${i}` : `SKU-${i % 20}`,
      features: Object.fromEntries(model.features.map((f) => [f, Math.round((r() - 0.5) * 1000) / 1000])),
      cost: Math.round((0.3 + 2 * r()) * 100) / 100,
      current_price: Math.round((1 + 3 * r()) * 100) / 100,
      ...(i % 3 === 0 ? { elasticity: -1.2 - Math.round(r() * 200) / 100 } : {}),
      ...(i % 2 === 0 ? { return_rate: Math.round(r() * 30) / 100, return_cost: 1 } : {}),
      inventory: Math.floor(r() * 300),
      target_inventory: 150,
      ...(i % 4 === 0 ? { expert_price: Math.round((1 + 3 * r()) * 100) / 100 } : {}),
    }));
    const cols = ['product_id', ...model.features, 'cost', 'current_price', 'elasticity', 'return_rate', 'return_cost', 'inventory', 'target_inventory', 'expert_price'];
    const cell = (v: unknown) => (v === undefined ? '' : String(v));
    const csv = [cols.join(','), ...items.map((it) => cols.map((c) => cell(c === 'product_id' ? it.product_id : model.features.includes(c) ? it.features[c] : (it as Record<string, unknown>)[c])).join(','))].join('\n') + '\n';
    writeFileSync(join(dir, 'cat.csv'), csv);
    execFileSync(process.execPath, ['dist/src/cli/main.js', 'reprice', '--model', join(dir, 'model.json'), '--catalog', join(dir, 'cat.csv'), '--out', join(dir, 'out.csv'), '--policy', join(dir, 'policy.json'), '--explain', '--workers', '1'], { stdio: 'pipe' });
    const lines = readFileSync(join(dir, 'out.csv'), 'utf8').trim().split('\n');
    const head = lines[0].split(',');
    expect(head.slice(-7)).toEqual(['blend_weight', 'base_price', 'return_adjustment', 'inventory_adjustment', 'cold_start_adjustment', 'guardrail_adjustment', 'rounding_adjustment']);
    const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, k) => [head[k], v])));

    const app = buildApp({ model, policy: validatePolicy(policy), defaultMetrics: false, pool: false });
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const res = await post('/v1/quotes?explain=true', { items });
      expect(res.status).toBe(200);
      const recs = ((await res.json()) as { items: Record<string, unknown>[] }).items;
      const num = (v: unknown) => (v === null || v === undefined ? '' : String(v));
      for (let i = 0; i < items.length; i++) {
        for (const k of ['price', 'expected_profit', 'delta', 'gamma', 'status', 'reason', 'base_price', 'return_adjustment', 'inventory_adjustment', 'cold_start_adjustment', 'guardrail_adjustment', 'rounding_adjustment']) {
          expect(num(recs[i][k]), `${items[i].product_id} ${k}`).toBe(rows[i][k]);
        }
        expect(num(recs[i].blend_weight)).toBe(rows[i].blend_weight);
        const steps = recs[i].explanation as { step: string; amount: number }[];
        expect(steps.map((s) => s.step)).toEqual(['base', 'returns', 'inventory', 'cold_start', 'guardrails', 'rounding']);
      }
      const one = await post('/v1/quote?explain=true', items[3]);
      expect(one.status).toBe(200);
      const rec = (await one.json()) as { price: number; explanation: unknown[] };
      expect(String(rec.price)).toBe(rows[3].price);
      expect(rec.explanation).toHaveLength(6);
    } finally {
      await app.close();
    }
  });
});
