/**
 * The retail simulator (docs/retail.md): the environment's accounting, reproducibility, the
 * closed-form optimum 30 = ε/(1 + ε)·C, the dynamic programme against the closed form and as an
 * upper bound of every policy, the inventory skew under overstock, the guardrails, the --env
 * validation, and the CLI end to end through dist/src/cli/main.js.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WasmCore } from '../src/core/wasm.js';
import { RepricerError } from '../src/core/errors.js';
import { Rng } from '../src/sim/random.js';
import { DEFAULT_RETAIL_ENV, RetailEnv, checkRetailEnv, expectedDemand, loadRetailEnv, type RetailEnvConfig } from '../src/sim/retailEnv.js';
import { solveRetailDp, dpPrice } from '../src/sim/retailDp.js';
import { CostPlusPolicy, DpPolicy, OptimizerPolicy, OptimizerSkewPolicy, priceBounds, DEFAULT_GUARDRAILS, type RetailPolicy } from '../src/sim/retailPolicies.js';
import { defaultRetailConfig, runEpisode, simulateRetail, estimate } from '../src/sim/retail.js';
import { retailCsv, retailSummary, retailSvg } from '../src/sim/retailReport.js';
import { requireDist } from './server-helpers.js';

const core = WasmCore.create({ variant: 'simd' });
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sim-retail-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = (part: Record<string, unknown> = {}): RetailEnvConfig => checkRetailEnv(part);
/** no returns, no holding: Π = (P − C)·Q(P), optimum ε/(1 + ε)·C */
const plain = (part: Record<string, unknown> = {}) => env({ returns: { kind: 'constant', rate: 0 }, return_cost: 0, holding_cost: 0, ...part });
const { lo, hi } = priceBounds(DEFAULT_RETAIL_ENV, DEFAULT_GUARDRAILS);

/** A policy that names random prices from its own stream (exercises the environment, not a rule). */
class RandomPricePolicy implements RetailPolicy {
  readonly name = 'random';
  private rng: Rng | null = null;
  reset(_env: RetailEnvConfig, rng: Rng): void {
    this.rng = rng;
  }
  price(): number {
    return 5 + 60 * this.rng!.uniform();
  }
}

describe('retail environment', () => {
  it('accounting: stock never negative, sold = min(stock, demand), revenue = Σ P·(sold − returned), profit = the parts', () => {
    const cfg = env({ returns: { kind: 'logistic', r_min: 0.02, r_max: 0.4, k: 0.3, p_mid: 30 }, initial_stock: 700, noise_sd: 0.3, salvage_value: 4 });
    for (let k = 0; k < 50; k++) {
      const world = new RetailEnv(cfg);
      const pol = new RandomPricePolicy();
      let st = world.reset(new Rng(9, k, 6));
      pol.reset(cfg, new Rng(9, k, 7));
      let revenue = 0;
      let profit = 0;
      let sold = 0;
      let days = 0;
      while (!world.done) {
        const before = st.stock;
        const o = world.step(pol.price());
        days++;
        expect(Number.isInteger(o.demand) && o.demand >= 0).toBe(true);
        expect(o.sold).toBe(Math.min(before, o.demand));
        expect(o.stock).toBe(before - o.sold);
        expect(o.stock).toBeGreaterThanOrEqual(0);
        expect(o.returned).toBeGreaterThanOrEqual(0);
        expect(o.returned).toBeLessThanOrEqual(o.sold);
        expect(o.revenue).toBeCloseTo(o.price * (o.sold - o.returned), 9);
        expect(o.costOfGoods).toBe(cfg.unit_cost * o.sold);
        expect(o.holding).toBe(cfg.holding_cost * o.stock);
        expect(o.writeOff).toBe(world.done ? (cfg.unit_cost - 4) * o.stock : 0);
        expect(o.profit).toBeCloseTo(o.revenue - o.costOfGoods - o.returnCost - o.holding - o.writeOff, 9);
        revenue += o.revenue;
        profit += o.profit;
        sold += o.sold;
        st = world.state;
        expect(st.lastPrice).toBe(o.price);
        expect(st.daysLeft).toBe(cfg.days - days);
      }
      expect(days).toBe(cfg.days);
      expect(sold).toBeLessThanOrEqual(cfg.initial_stock);
      expect(() => world.step(10)).toThrow(/season is over/);
      // runEpisode adds up the same days
      const m = runEpisode(cfg, new RandomPricePolicy(), new Rng(9, k, 6), new Rng(9, k, 7), null);
      expect(m.revenue).toBeCloseTo(revenue, 6);
      expect(m.profit).toBeCloseTo(profit, 6);
      expect(m.unitsSold).toBe(sold);
      expect(m.sellThrough).toBe(sold / 700);
      expect(m.margin).toBeCloseTo(profit / revenue, 12);
      expect(Number.isNaN(m.regret)).toBe(true);
    }
  });

  it('noise 0: demand is round(D(P)) every day; the demand shocks do not depend on the prices', () => {
    const cfg = plain({ noise_sd: 0, initial_stock: 100000 });
    const world = new RetailEnv(cfg);
    world.reset(new Rng(1));
    expect(world.step(30).demand).toBe(Math.round(100 * 1.5 ** -1.5));
    const a = new RetailEnv(env({ initial_stock: 1e6 }));
    const b = new RetailEnv(env({ initial_stock: 1e6 }));
    a.reset(new Rng(4, 0, 6));
    b.reset(new Rng(4, 0, 6));
    for (let t = 0; t < 30; t++) {
      // same shock z: demand / D(P) agrees up to rounding
      const da = a.step(20).demand / expectedDemand(a.config, 20);
      const db = b.step(40).demand / expectedDemand(b.config, 40);
      expect(Math.abs(da - db)).toBeLessThan(0.5 / expectedDemand(b.config, 40) + 0.5 / 100);
    }
  });

  it('--env validation names the field and what was expected', () => {
    const bad = (obj: unknown, re: RegExp) => {
      let err: unknown;
      try {
        checkRetailEnv(obj, 'retail.json');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RepricerError);
      expect((err as RepricerError).code).toBe('INVALID_ARGUMENT');
      expect((err as RepricerError).message).toMatch(re);
    };
    bad([], /^retail\.json: the environment must be a JSON object/);
    bad({ elasticity: 1.5 }, /elasticity must be a finite number < 0, got 1\.5/);
    bad({ initial_stock: 10.5 }, /initial_stock must be a whole number of units >= 0/);
    bad({ days: '30' }, /days must be an integer in \[1, 100000\], got "30"/);
    bad({ stock: 3 }, /unknown field "stock"/);
    bad({ returns: { kind: 'constant', rate: 1 } }, /returns\.rate must be a number in \[0, 1\), got 1/);
    bad({ returns: { kind: 'logistic', r_min: 0.3, r_max: 0.1, k: 1, p_mid: 20 } }, /returns\.r_min \(0\.3\) must be <= returns\.r_max/);
    bad({ returns: { kind: 'step' } }, /returns\.kind must be "constant" or "logistic"/);
    bad({ returns: { kind: 'constant', rate: 0.1, k: 2 } }, /returns\.k: unknown field/);
    expect(checkRetailEnv({ q0: 50 })).toEqual({ ...DEFAULT_RETAIL_ENV, q0: 50 });
    const f = join(dir, 'env.json');
    writeFileSync(f, '{"days": 10, "returns": {"kind": "logistic", "r_min": 0.01, "r_max": 0.3, "k": 0.2, "p_mid": 35}}');
    expect(loadRetailEnv(f).days).toBe(10);
    writeFileSync(f, '{"days": ');
    expect(() => loadRetailEnv(f)).toThrow(expect.objectContaining({ code: 'INPUT_UNREADABLE' }));
    expect(() => loadRetailEnv(join(dir, 'nope.json'))).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});

describe('retail policies', () => {
  it('closed form: unlimited stock, no returns, no holding -> the optimizer prices ε/(1 + ε)·C = 30', () => {
    const cfg = plain({ initial_stock: 1e12 });
    const pol = new OptimizerPolicy(core);
    pol.reset(cfg);
    expect(Math.abs(pol.optimum - 30)).toBeLessThan(1e-9);
    const m = runEpisode(cfg, pol, new Rng(1, 0, 6), new Rng(1, 0, 7), null);
    // from 20 at most 10 % a day: 22, 24.2, 26.62, 29.282, then 30 to the end
    expect(m.prices[0]).toBeCloseTo(22, 12);
    expect(m.prices[3]).toBeCloseTo(29.282, 12);
    for (let t = 4; t < 30; t++) expect(Math.abs(m.prices[t] - 30)).toBeLessThan(1e-9);
  });

  it('with returns the optimum moves to the effective cost: ε/(1 + ε)·(C + R·C_ret/(1 − R)) (docs/math.md §4.3)', () => {
    const pol = new OptimizerPolicy(core);
    pol.reset(DEFAULT_RETAIL_ENV);
    expect(pol.optimum).toBeCloseTo(3 * (10 + (0.05 * 1) / 0.95), 9);
  });

  it('cost-plus is the list price C·(1 + markup) every day', () => {
    const m = runEpisode(DEFAULT_RETAIL_ENV, new CostPlusPolicy(0.5), new Rng(2, 0, 6), new Rng(2, 0, 7), null);
    expect(Array.from(m.prices).every((p) => p === 15)).toBe(true);
    expect(m.priceVolatility).toBe(0);
  });

  it('guardrails through the engine: inside the step band and [floor, ceiling]; the hard bounds win when they do not meet', () => {
    const R = new Rng(77);
    for (let k = 0; k < 400; k++) {
      const step = 1 + 50 * R.uniform();
      const e = env({ elasticity: -1.2 - 3 * R.uniform() });
      const p0 = new OptimizerPolicy(core, { ...DEFAULT_GUARDRAILS, maxStepPct: step });
      p0.reset(e);
      const { lo, hi } = priceBounds(e, DEFAULT_GUARDRAILS);
      const last = 0.5 + 100 * R.uniform();
      const p = p0.price({ day: 1, daysLeft: 29, stock: 500, initialStock: 1000, lastPrice: last, lastSold: 10 });
      expect(p).toBeGreaterThanOrEqual(lo);
      expect(p).toBeLessThanOrEqual(hi);
      const bLo = (last * (100 - step)) / 100;
      const bHi = (last * (100 + step)) / 100;
      const target = p0.optimum;
      if (Math.max(lo, bLo) <= Math.min(hi, bHi)) {
        expect(p).toBeGreaterThanOrEqual(bLo);
        expect(p).toBeLessThanOrEqual(bHi);
        if (target >= Math.max(lo, bLo) && target <= Math.min(hi, bHi)) expect(p).toBeCloseTo(target, 9);
      } else {
        expect(p === lo || p === hi).toBe(true);
      }
    }
  });

  it('the inventory skew: overstocked it prices below the optimizer and sells more; understocked above', () => {
    const over = env({ initial_stock: 5000 }); // target at the start: 30 × D(P*) ≈ 1 630
    let soldSkew = 0;
    let soldOpt = 0;
    for (let k = 0; k < 20; k++) {
      const a = runEpisode(over, new OptimizerSkewPolicy(core), new Rng(3, k, 6), new Rng(3, k, 7), null);
      const b = runEpisode(over, new OptimizerPolicy(core), new Rng(3, k, 6), new Rng(3, k, 7), null);
      soldSkew += a.unitsSold;
      soldOpt += b.unitsSold;
      for (let t = 0; t < 30; t++) expect(a.prices[t]).toBeLessThanOrEqual(b.prices[t]);
      expect(a.prices[10]).toBeLessThan(b.prices[10]);
    }
    expect(soldSkew).toBeGreaterThan(1.2 * soldOpt);
    const skew = new OptimizerSkewPolicy(core);
    skew.reset(DEFAULT_RETAIL_ENV);
    const state = { day: 0, daysLeft: 30, stock: 1000, initialStock: 1000, lastPrice: 40, lastSold: null };
    expect(skew.targetStock(state)).toBeCloseTo(30 * expectedDemand(DEFAULT_RETAIL_ENV, skew.optimum), 9);
    expect(skew.price(state)).toBeGreaterThan(skew.optimum);
    // on target: exactly the optimizer's price
    const onTarget = { ...state, stock: skew.targetStock(state) };
    const plain = new OptimizerPolicy(core);
    plain.reset(DEFAULT_RETAIL_ENV);
    expect(skew.price({ ...onTarget, lastPrice: 30 })).toBe(plain.price({ ...onTarget, lastPrice: 30 }));
    expect(skew.price({ ...onTarget, lastPrice: 30 })).toBeCloseTo(Math.min(skew.optimum, 33), 9);
  });
});

describe('the dynamic-programming optimum', () => {
  it('unlimited stock: the DP prices the closed form to within one grid step, and its value is the days × Π(30)', () => {
    const cfg = plain({ days: 5, initial_stock: 600 });
    const dp = solveRetailDp(core, cfg, { lo, hi });
    const step = Math.pow(hi / lo, 1 / 239);
    for (let t = 0; t < 5; t++) {
      const p = dpPrice(dp, t, 600 - 60 * t);
      expect(p / 30).toBeLessThan(step);
      expect(30 / p).toBeLessThan(step);
    }
    // E[sold] = D(30) up to the rounding of each day's demand, ±0.5 unit at most
    const perDay = (30 - 10) * expectedDemand(cfg, 30);
    expect(Math.abs(dp.value - 5 * perDay)).toBeLessThan(5 * 20 * 0.5);
    expect(dp.value).toBeLessThanOrEqual(5 * perDay * (1 + 1e-3));
  });

  it('deterministic season: the DP value is what its own policy makes, and at least what every policy makes', () => {
    for (const [stock, salvage] of [[300, 10], [1000, 10], [2500, 10], [2500, 0]]) {
      const cfg = env({ noise_sd: 0, initial_stock: stock, salvage_value: salvage });
      const dp = solveRetailDp(core, cfg, { lo, hi });
      const own = runEpisode(cfg, new DpPolicy(dp), new Rng(1, 0, 6), new Rng(1, 0, 7), dp.value);
      expect(Math.abs(own.profit - dp.value)).toBeLessThan(1e-9 * dp.value);
      const policies: RetailPolicy[] = [new CostPlusPolicy(0.5), new CostPlusPolicy(0.15), new CostPlusPolicy(2), new OptimizerPolicy(core), new OptimizerSkewPolicy(core)];
      for (const pol of policies) {
        const m = runEpisode(cfg, pol, new Rng(1, 0, 6), new Rng(1, 0, 7), dp.value);
        expect(m.profit, `${pol.name} stock ${stock}`).toBeLessThanOrEqual(dp.value * (1 + 1e-12));
        expect(m.regret).toBeGreaterThanOrEqual(-1e-9 * dp.value);
      }
    }
  });

  it('with noise, the DP policy realises its expected value (within the 95 % interval over episodes)', () => {
    const cfg = defaultRetailConfig(DEFAULT_RETAIL_ENV, { episodes: 300, policies: ['dp-optimum', 'optimizer'] });
    const r = simulateRetail(core, cfg);
    const e = estimate(r.runs['dp-optimum'].map((m) => m.profit));
    expect(r.dpValue!).toBeGreaterThan(e.ci95[0]);
    expect(r.dpValue!).toBeLessThan(e.ci95[1]);
    const opt = estimate(r.runs.optimizer.map((m) => m.regret));
    expect(opt.ci95[0]).toBeGreaterThan(0);
  });
});

describe('reports and reproducibility', () => {
  it('the same seed gives byte-identical outputs; another seed does not', () => {
    const run = (seed: number) => {
      const r = simulateRetail(core, defaultRetailConfig(DEFAULT_RETAIL_ENV, { episodes: 20, seed }));
      const s = retailSummary(r);
      return { csv: retailCsv(r), json: JSON.stringify(s), svg: retailSvg(s) };
    };
    const a = run(5);
    const b = run(5);
    expect(b.csv).toBe(a.csv);
    expect(b.json).toBe(a.json);
    expect(b.svg).toBe(a.svg);
    expect(run(6).csv).not.toBe(a.csv);
    expect(a.csv.split('\n')[0]).toBe('policy,episode,revenue,cost_of_goods,return_cost,holding,write_off,profit,margin,units_sold,sell_through,returned,return_rate,price_volatility,regret,first_price,last_price,stockout_day');
    expect(a.csv.trim().split('\n')).toHaveLength(1 + 4 * 20);
    expect(a.svg).toMatch(/^<svg [\s\S]*<\/svg>\n$/);
  });

  it('summary: every metric has a mean inside its 95 % interval', () => {
    const s = retailSummary(simulateRetail(core, defaultRetailConfig(DEFAULT_RETAIL_ENV, { episodes: 30 })));
    for (const [name, p] of Object.entries(s.policies)) {
      for (const k of ['margin', 'revenue', 'profit', 'sellThrough', 'returnRate', 'priceVolatility', 'regret'] as const) {
        const e = p[k];
        expect(e.n, `${name} ${k}`).toBe(30);
        expect(e.ci95[0]!).toBeLessThanOrEqual(e.mean!);
        expect(e.ci95[1]!).toBeGreaterThanOrEqual(e.mean!);
      }
      expect(p.meanPrice).toHaveLength(30);
    }
  });
});

describe('repricer simulate retail (CLI)', () => {
  const MAIN = resolve('dist/src/cli/main.js');
  it('writes retail.csv, summary.json and retail.svg, prints the table, same bytes twice; bad options exit 2 naming them', () => {
    requireDist();
    const out1 = join(dir, 'cli1');
    const out2 = join(dir, 'cli2');
    const args = ['simulate', 'retail', '--episodes', '8', '--seed', '3', '--stock', '800', '--holding-cost', '0.01'];
    const stdout = execFileSync(process.execPath, [MAIN, ...args, '--out', out1], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    execFileSync(process.execPath, [MAIN, ...args, '--out', out2], { stdio: 'ignore' });
    expect(readdirSync(out1).sort()).toEqual(['retail.csv', 'retail.svg', 'summary.json']);
    for (const f of ['retail.csv', 'retail.svg', 'summary.json']) expect(readFileSync(join(out2, f), 'utf8')).toBe(readFileSync(join(out1, f), 'utf8'));
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^policy\s+margin\s+profit/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['cost-plus', 'optimizer', 'optimizer-skew', 'dp-optimum']);
    const s = JSON.parse(readFileSync(join(out1, 'summary.json'), 'utf8')) as { format: string; config: { env: RetailEnvConfig; episodes: number } };
    expect(s.format).toBe('repricer.simulate-retail/1');
    expect(s.config.env.initial_stock).toBe(800);
    expect(s.config.env.holding_cost).toBe(0.01);
    expect(s.config.episodes).toBe(8);

    const envFile = join(dir, 'retail.json');
    writeFileSync(envFile, JSON.stringify({ elasticity: -2, days: 10 }));
    const out3 = join(dir, 'cli3');
    execFileSync(process.execPath, [MAIN, 'simulate', 'retail', '--env', envFile, '--days', '12', '--episodes', '3', '--policies', 'optimizer,cost-plus', '--out', out3], { stdio: 'ignore' });
    const s3 = JSON.parse(readFileSync(join(out3, 'summary.json'), 'utf8')) as { config: { env: RetailEnvConfig }; optimumPrice: number; policies: Record<string, unknown> };
    expect(s3.config.env.elasticity).toBe(-2);
    expect(s3.config.env.days).toBe(12); // the option overrides the file
    expect(Object.keys(s3.policies)).toEqual(['optimizer', 'cost-plus']);

    const fail = (extra: string[], re: RegExp) => {
      const r = spawnSync(process.execPath, [MAIN, 'simulate', 'retail', '--out', join(dir, 'bad'), ...extra], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(re);
    };
    fail(['--policies', 'optimizer,magic'], /--policies: unknown policy "magic"/);
    fail(['--return-rate', '1.5'], /--return-rate must be a number in \[0, 1\)/);
    fail(['--max-factor', '1'], /--max-factor must be a number > 1/);
    writeFileSync(envFile, JSON.stringify({ noise_sd: -1 }));
    fail(['--env', envFile], /retail\.json: noise_sd must be a finite number >= 0, got -1/);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });
});
