/**
 * Pricing with an agent through both doors (docs/rl.md, "Pricing with an agent"):
 *
 * - the engine's agent step against an independent computation: the plain-TypeScript twin of the
 *   network (core/twin/mlp.ts) on the same parameters, its action mapped onto the feasible set
 *   whose bounds the test builds itself from the row and the policy;
 * - the guardrail invariant over random rows and policies: the guardrails never move the agent's
 *   price (guardrail_adjustment is exactly 0), only rounding does, by less than a grid step, and
 *   the price lies inside every hard bound; rows without the agent's state are rejected;
 * - `repricer reprice --agent` (CSV, NDJSON and Parquet, real worker threads) publishes the same
 *   price strings as `POST /v1/quotes` and `POST /v1/quote` of a real server with the same agent,
 *   and the explanation's agent step is the same amount in both;
 * - a bad agent file and a catalogue without the state columns fail with the documented exit
 *   code and a message naming the field or the columns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WasmCore } from '../src/core/wasm.js';
import { createMlpTwin } from '../src/core/twin/mlp.js';
import { compileModel, type CompiledModel } from '../src/pricing/compiledModel.js';
import { priceChunk, type CatalogChunk } from '../src/pricing/engine.js';
import { REASON_BIT, STATUS_CODE, validatePolicy, type Policy } from '../src/pricing/policy.js';
import { PricingAgent, type AgentSpec } from '../src/pricing/agentStep.js';
import { actionToPrice, feasibleSet } from '../src/pricing/feasiblePrice.js';
import { demoModel, rng, writeDemoModel } from '../src/batch/demoData.js';
import { buildApp } from '../src/server/app.js';
import { loadPricingAgent } from '../src/rl/agentPricing.js';
import { parseServeOptions } from '../src/cli/serve.js';
import { requireDist } from './server-helpers.js';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { parquetReadObjects } from 'hyparquet';

const MAIN = resolve('dist/src/cli/main.js');
const model = demoModel({ products: 20, features: 3, seed: 3 });
let core: WasmCore;
let cm: CompiledModel;

/** A random actor (uniform ±1/√fan-in weights, the network's own initialisation) as an agent spec. */
function randomSpec(seed: number, hidden: number[]): AgentSpec {
  const sizes = [3, ...hidden, 1];
  const twin = createMlpTwin({ sizes, output: 'tanh' });
  twin.initialise(seed);
  return { id: `test-${seed}`, sizes, params: twin.params(), p0: 20, initialStock: 1000, days: 30, maxStepPct: 50 };
}

const specs = [randomSpec(11, [8, 8]), randomSpec(12, [16]), randomSpec(13, [4, 6, 5])];
let agents: PricingAgent[];

beforeAll(() => {
  core = WasmCore.create({ variant: 'simd' });
  cm = compileModel(model);
  agents = specs.map((s) => new PricingAgent(core, s));
});

/** The twin's action for a state (the test's independent forward pass). */
function twinAction(spec: AgentSpec, last: number, inv: number, left: number): number {
  const t = createMlpTwin({ sizes: spec.sizes, output: 'tanh' });
  t.setParams(spec.params);
  return t.forward(Float32Array.from([last / spec.p0, inv / spec.initialStock, left / spec.days]), 1)[0];
}

const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
/** a state column: present in 5 rows of 6, so most rows reach the price checks */
const mostly = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 6 });
const rowArb = fc.record({
  product: fc.integer({ min: 0, max: 24 }), // 20-24: not in the model (cold start)
  cost: maybe(fc.double({ min: 1, max: 30, noNaN: true })),
  current: mostly(fc.double({ min: 0.5, max: 80, noNaN: true })),
  inventory: mostly(fc.double({ min: 0, max: 3000, noNaN: true })),
  daysLeft: mostly(fc.integer({ min: 0, max: 60 })),
  min: maybe(fc.double({ min: 0, max: 30, noNaN: true })),
  max: maybe(fc.double({ min: 5, max: 120, noNaN: true })),
  map: maybe(fc.double({ min: 0, max: 40, noNaN: true })),
});
const policyArb = fc.record({
  maxChangePct: maybe(fc.double({ min: 2, max: 80, noNaN: true })),
  minMarginOverCost: maybe(fc.double({ min: 1, max: 1.6, noNaN: true })),
  step: maybe(fc.constantFrom(0.01, 0.05, 0.5, 1)),
  gmin: maybe(fc.double({ min: 0, max: 15, noNaN: true })),
  gmax: maybe(fc.double({ min: 40, max: 200, noNaN: true })),
});

describe('the agent step in the engine', () => {
  it('publishes the twin actor\'s mapped price; the guardrails never move it, rounding by under a step', () => {
    fc.assert(
      fc.property(fc.array(rowArb, { minLength: 1, maxLength: 40 }), policyArb, fc.integer({ min: 0, max: specs.length - 1 }), (rows, pa, k) => {
        const policy: Policy = validatePolicy({
          ...(pa.maxChangePct !== undefined ? { maxChangePct: pa.maxChangePct } : {}),
          ...(pa.minMarginOverCost !== undefined ? { minMarginOverCost: pa.minMarginOverCost } : {}),
          ...(pa.step !== undefined ? { rounding: { step: pa.step } } : {}),
          ...(pa.gmin !== undefined || pa.gmax !== undefined ? { bounds: { ...(pa.gmin !== undefined ? { min: pa.gmin } : {}), ...(pa.gmax !== undefined ? { max: pa.gmax } : {}) } } : {}),
        });
        const n = rows.length;
        const col = (f: (r: (typeof rows)[number]) => number | undefined) => Float64Array.from(rows, (r) => f(r) ?? NaN);
        const x = new Float64Array(n * cm.D);
        const r = rng(5);
        for (let i = 0; i < n; i++) for (let j = 0; j < cm.D; j++) x[i * cm.D + j] = j === 0 && cm.intercept ? 1 : r() - 0.5;
        const chunk: CatalogChunk = {
          n, ids: rows.map((w) => `SKU-${w.product}`), x,
          cost: col((w) => w.cost), currentPrice: col((w) => w.current), minPrice: col((w) => w.min), maxPrice: col((w) => w.max),
          retail: { mapPrice: col((w) => w.map), inventory: col((w) => w.inventory), daysLeft: col((w) => w.daysLeft) },
        };
        const spec = specs[k];
        const out = priceChunk(core, cm, policy, chunk, undefined, { explain: true }, agents[k]);
        const e = out.explain!;
        expect(e.agentAdjustment).toBeDefined();
        rows.forEach((w, i) => {
          if (w.current === undefined || w.inventory === undefined || w.daysLeft === undefined) {
            expect(out.status[i]).toBe(STATUS_CODE.rejected);
            expect(out.reasons[i] & ~REASON_BIT.cold_start).toBe(REASON_BIT.out_of_domain);
            return;
          }
          // the row's hard bounds, built here from the policy and the row (not the engine's)
          const c = w.cost ?? cm.reservation;
          const lo = Math.max(pa.gmin ?? 0, w.min ?? 0, w.map ?? 0, pa.minMarginOverCost !== undefined ? c * pa.minMarginOverCost : 0);
          const hi = Math.min(pa.gmax ?? Infinity, w.max ?? Infinity);
          if (out.status[i] === STATUS_CODE.rejected) {
            // only a row whose bounds leave no (grid) price is rejected
            expect(lo > hi || pa.step !== undefined).toBe(true);
            return;
          }
          const a = twinAction(spec, w.current, w.inventory, w.daysLeft);
          const want = actionToPrice(a, feasibleSet(w.current, { floor: lo, ceiling: hi, maxStepPct: pa.maxChangePct ?? spec.maxStepPct }));
          const proposed = out.price[i] - e.roundingAdjustment[i] - e.guardrailAdjustment[i];
          expect(Math.abs(proposed - want)).toBeLessThanOrEqual(1e-5 * Math.max(1, want));
          expect(e.guardrailAdjustment[i]).toBe(0);
          expect(Math.abs(e.roundingAdjustment[i])).toBeLessThanOrEqual(pa.step ?? 0);
          expect(out.price[i]).toBeGreaterThanOrEqual(lo);
          expect(out.price[i]).toBeLessThanOrEqual(hi);
          // the steps add up to the price
          const sum = e.basePrice[i] + e.returnAdjustment[i] + e.inventoryAdjustment[i] + e.coldStartAdjustment[i] + e.agentAdjustment![i] + e.guardrailAdjustment[i] + e.roundingAdjustment[i];
          expect(Math.abs(sum - out.price[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, out.price[i]));
        });
      }),
      { numRuns: 150, seed: 20261206 },
    );
  });

  it('prices a plain catalogue exactly as before when no agent is given (no agent column)', () => {
    const chunk: CatalogChunk = { n: 1, ids: ['SKU-1'], x: Float64Array.from({ length: cm.D }, (_, j) => (j === 0 ? 1 : 0.1)), cost: Float64Array.of(10), currentPrice: Float64Array.of(20), minPrice: Float64Array.of(NaN), maxPrice: Float64Array.of(NaN) };
    const out = priceChunk(core, cm, {}, chunk, undefined, { explain: true });
    expect(out.explain!.agentAdjustment).toBeUndefined();
    expect(out.explain!.guardrailAdjustment[0]).toBe(0);
  });
});

describe('reprice --agent and serve with the agent', () => {
  let dir: string;
  const policy = { maxChangePct: 30, minMarginOverCost: 1.1, rounding: { step: 0.01 } };
  const header = 'product_id,f1,f2,f3,cost,current_price,min_price,max_price,map_price,inventory,days_left';
  const items: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const cli = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { cwd: dir, encoding: 'utf8' });

  beforeAll(() => {
    requireDist();
    dir = mkdtempSync(join(tmpdir(), 'repricer-agent-pricing-'));
    writeDemoModel(join(dir, 'model.json'), { products: 20, features: 3, seed: 3 });
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
    execFileSync(process.execPath, [MAIN, 'rl', 'train', '--env', resolve('docs/rl/retail-design.json'), '--episodes', '2', '--hidden', '8,8', '--batch-size', '16', '--out', 'agent.json'], { cwd: dir, stdio: 'ignore' });
    const r = rng(17);
    const num = (v: number) => String(Math.round(v * 100) / 100);
    for (let i = 0; i < 60; i++) {
      const f = [r() * 2 - 1, r() * 2 - 1, r() * 2 - 1].map(num);
      const cost = num(5 + 15 * r());
      const cur = num(10 + 30 * r());
      const min = i % 5 === 0 ? num(12 + 5 * r()) : '';
      const max = i % 7 === 0 ? num(25 + 10 * r()) : '';
      const map = i % 11 === 0 ? num(15 + 5 * r()) : '';
      const inv = i % 13 === 5 ? '' : String(Math.floor(1200 * r()));
      const left = String(Math.floor(31 * r()));
      const id = `SKU-${i % 25}`;
      lines.push([id, ...f, cost, cur, min, max, map, inv, left].join(','));
      const opt = (s: string) => (s === '' ? null : Number(s));
      items.push({ product_id: id, features: { f1: Number(f[0]), f2: Number(f[1]), f3: Number(f[2]) }, cost: opt(cost), current_price: opt(cur), min_price: opt(min), max_price: opt(max), map_price: opt(map), inventory: opt(inv), days_left: opt(left) });
    }
    writeFileSync(join(dir, 'skus.csv'), [header, ...lines].join('\n') + '\n');
    // the same rows as a Parquet catalogue (nullable doubles; a blank cell is a null)
    const cols = header.split(',');
    const buf = parquetWriteBuffer({
      columnData: cols.map((k, j) =>
        k === 'product_id'
          ? { name: k, data: lines.map((l) => l.split(',')[0]), type: 'STRING' as const }
          : { name: k, data: lines.map((l) => (l.split(',')[j] === '' ? null : Number(l.split(',')[j]))), type: 'DOUBLE' as const, nullable: true },
      ),
    });
    writeFileSync(join(dir, 'skus.parquet'), new Uint8Array(buf));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes the price strings of POST /v1/quotes and POST /v1/quote, CSV and NDJSON alike', async () => {
    for (const out of ['prices.csv', 'prices.ndjson']) {
      const r = cli(['reprice', '--model', 'model.json', '--catalog', 'skus.csv', '--out', out, '--policy', 'policy.json', '--agent', 'agent.json', '--explain', '--workers', '2', '--chunk-size', '16']);
      expect(r.status, r.stderr).toBe(0);
    }
    const csv = readFileSync(join(dir, 'prices.csv'), 'utf8').trim().split('\n');
    const head = csv[0].split(',');
    expect(head.slice(-4)).toEqual(['cold_start_adjustment', 'agent_adjustment', 'guardrail_adjustment', 'rounding_adjustment']);
    const cell = (line: string, name: string) => line.split(',')[head.indexOf(name)];
    const csvPrices = csv.slice(1).map((l) => cell(l, 'price'));
    // NDJSON: the raw number text of each record's price
    const ndPrices = readFileSync(join(dir, 'prices.ndjson'), 'utf8').trim().split('\n').map((l) => /"price":(null|[-0-9.e+]+)/.exec(l)![1]);
    expect(ndPrices.map((p) => (p === 'null' ? '' : p))).toEqual(csvPrices);
    // Parquet in and out: the same doubles (printed as the CSV writer prints them)
    const rp = cli(['reprice', '--model', 'model.json', '--catalog', 'skus.parquet', '--out', 'prices.parquet', '--policy', 'policy.json', '--agent', 'agent.json', '--explain']);
    expect(rp.status, rp.stderr).toBe(0);
    const pq = readFileSync(join(dir, 'prices.parquet'));
    const prow = (await parquetReadObjects({ file: pq.buffer.slice(pq.byteOffset, pq.byteOffset + pq.length) as ArrayBuffer })) as { price: number | null; agent_adjustment: number | null }[];
    expect(prow.map((x) => (x.price === null ? '' : String(x.price)))).toEqual(csvPrices);
    expect(prow.map((x) => (x.agent_adjustment === null ? '' : String(x.agent_adjustment)))).toEqual(csv.slice(1).map((l) => cell(l, 'agent_adjustment')));
    // the row without inventory is rejected; the others are priced and none moved by the guardrails
    csv.slice(1).forEach((l, i) => {
      if (i % 13 === 5) expect([cell(l, 'status'), cell(l, 'reason')]).toEqual(['rejected', expect.stringMatching(/(^|;)out_of_domain$/)]);
      else {
        expect(cell(l, 'status')).not.toBe('rejected');
        expect(Number(cell(l, 'guardrail_adjustment'))).toBe(0);
      }
    });

    const app = buildApp({ model, policy: validatePolicy(policy), agent: loadPricingAgent(join(dir, 'agent.json')), defaultMetrics: false, pool: false });
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const res = await post('/v1/quotes?explain=true', { items });
      expect(res.status).toBe(200);
      const text = await res.text();
      const raw = [...text.matchAll(/"price":(null|[-0-9.e+]+)/g)].map((m) => (m[1] === 'null' ? '' : m[1]));
      expect(raw).toEqual(csvPrices);
      const recs = (JSON.parse(text) as { items: { explanation: { step: string; amount: number | null }[] }[] }).items;
      recs.forEach((rec, i) => {
        const agentStep = rec.explanation.find((s) => s.step === 'agent');
        expect(agentStep, 'the explanation has an agent step').toBeDefined();
        const want = cell(csv[i + 1], 'agent_adjustment');
        expect(agentStep!.amount === null ? '' : String(agentStep!.amount)).toBe(want);
      });
      // single quotes (coalesced by the batcher) give the same strings
      for (const i of [0, 1, 5, 18]) {
        const one = await (await post('/v1/quote', items[i])).text();
        expect(/"price":(null|[-0-9.e+]+)/.exec(one)![1].replace('null', '')).toBe(csvPrices[i]);
      }
    } finally {
      await app.close();
    }
  });

  it('prices a large body on the worker pool with the same strings', async () => {
    const r = cli(['reprice', '--model', 'model.json', '--catalog', 'skus.csv', '--out', 'pool-ref.csv', '--policy', 'policy.json', '--agent', 'agent.json', '--workers', '1']);
    expect(r.status, r.stderr).toBe(0);
    const csv = readFileSync(join(dir, 'pool-ref.csv'), 'utf8').trim().split('\n');
    const head = csv[0].split(',');
    const csvPrices = csv.slice(1).map((l) => l.split(',')[head.indexOf('price')]);
    const app = buildApp({ model, policy: validatePolicy(policy), agent: loadPricingAgent(join(dir, 'agent.json')), defaultMetrics: false, pool: { threads: 1, threshold: 10 } });
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const res = await fetch(`${base}/v1/quotes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items }) });
      expect(res.status).toBe(200);
      const raw = [...(await res.text()).matchAll(/"price":(null|[-0-9.e+]+)/g)].map((m) => (m[1] === 'null' ? '' : m[1]));
      expect(raw).toEqual(csvPrices);
      // the body went to the pool and was priced there, not redone on the main thread
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain("repricer_quotes_served_total");
      expect(metrics).not.toMatch(/repricer_pool_fallbacks_total\{task="quote"\} [1-9]/);
    } finally {
      await app.close();
    }
  });

  it('refuses a bad agent file with exit 3, naming the field', () => {
    type Spoilable = { actor: { params: string }; state: { features: string[] }; env: { config: Record<string, unknown> } };
    const good = JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8')) as Spoilable;
    const cases: [string, (a: Spoilable) => void, RegExp][] = [
      ['params', (a) => (a.actor.params = a.actor.params.slice(0, 8)), /actor\.params/],
      ['features', (a) => (a.state.features = ['last_price_over_p0', 'stock_share', 'week_of_year']), /state\.features/],
      ['p0', (a) => { delete a.env.config.p0; }, /env\.hash/],
    ];
    for (const [name, spoil, msg] of cases) {
      const a = structuredClone(good);
      spoil(a);
      writeFileSync(join(dir, `bad-${name}.json`), JSON.stringify(a));
      const r = cli(['reprice', '--model', 'model.json', '--catalog', 'skus.csv', '--out', 'x.csv', '--agent', `bad-${name}.json`]);
      expect(r.status, name).toBe(3);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).toContain(`bad-${name}.json`);
    }
  });

  it('serve --agent: a bad agent file is refused naming the field; --redis with it is refused', () => {
    const base = { port: '0', host: '127.0.0.1', auth: false };
    const bad = JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8')) as { actor: { sizes: number[] } };
    bad.actor.sizes = [3, 9, 8, 1];
    writeFileSync(join(dir, 'serve-bad.json'), JSON.stringify(bad));
    expect(() => parseServeOptions({ ...base, agent: join(dir, 'serve-bad.json') }, {})).toThrow(/serve-bad\.json: invalid agent file: actor\.params/);
    expect(() => parseServeOptions({ ...base, agent: join(dir, 'agent.json'), redis: 'redis://127.0.0.1:6379/0' }, {})).toThrow(/--agent with --redis/);
    expect(parseServeOptions({ ...base, agent: join(dir, 'agent.json') }, {}).app.agent?.sizes).toEqual([3, 8, 8, 1]);
  });

  it('refuses a catalogue without the state columns, naming them (exit 3)', () => {
    const cols = header.split(',');
    const keep = cols.map((c, j) => (c === 'days_left' || c === 'inventory' ? -1 : j)).filter((j) => j >= 0);
    writeFileSync(join(dir, 'nostate.csv'), [keep.map((j) => cols[j]).join(','), ...lines.map((l) => keep.map((j) => l.split(',')[j]).join(','))].join('\n') + '\n');
    const r = cli(['reprice', '--model', 'model.json', '--catalog', 'nostate.csv', '--out', 'y.csv', '--agent', 'agent.json']);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/missing columns inventory, days_left/);
    // without --agent the same catalogue prices as always
    expect(cli(['reprice', '--model', 'model.json', '--catalog', 'nostate.csv', '--out', 'y.csv']).status).toBe(0);
  });
});
