/**
 * The censored-demand E-step kernel (assembly/censoredDemand.ts, docs/math.md §2.7) on both WASM
 * builds against its TypeScript twin (src/core/twin/censoredDemand.ts), and both against the
 * per-period E-step of src/market/censoredDemandEm.ts, over regimes from tiny to 10^6 counts; and
 * the EM fitted through either build gives the same answer.
 */
import { describe, expect, it } from 'vitest';
import { WasmCore } from '../src/core/wasm.js';
import { CensoredColumns } from '../src/market/censoredEStep.js';
import { eStep, fitCensoredDemand, hessian, type CensoredPeriods } from '../src/market/censoredDemandEm.js';
import { MarketRng } from '../src/market/random.js';
import * as twin from '../src/core/twin/censoredDemand.js';

const cores = { simd: WasmCore.create({ variant: 'simd' }), scalar: WasmCore.create({ variant: 'scalar' }) };

/** n periods with availability around `scale` and bookings that sell out about half the time. */
function columns(seed: number, n: number, scale: number): CensoredPeriods {
  const rng = new MarketRng(seed);
  const a = new Float64Array(n), b = new Float64Array(n), c = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    a[t] = 0.2 + 2 * rng.uniform();
    c[t] = Math.floor(scale * 2 * rng.uniform());
    b[t] = rng.uniform() < 0.5 ? c[t] : Math.floor(c[t] * rng.uniform());
  }
  return { multiplier: a, bookings: b, available: c };
}

const rel = (x: number, y: number): number => Math.abs(x - y) / Math.max(Math.abs(y), 1e-300);

describe('censoredPoissonEStep: WASM against its twin', () => {
  const cases: [number, number, number, number][] = [
    // seed, periods, availability scale, lambda
    [1, 1000, 4, 3],
    [2, 1000, 4, 0.01],
    [3, 500, 50, 40],
    [4, 200, 5000, 4800],
    [5, 40, 1e6, 1.02e6],
    [6, 1000, 1, 30],
  ];
  for (const [variant, core] of Object.entries(cores)) {
    it(`${variant}: the five sums agree with the twin to 1e-12 in every regime`, () => {
      for (const [seed, n, scale, lambda] of cases) {
        const d = columns(seed, n, scale);
        const cols = new CensoredColumns(d, core);
        try {
          const w = cols.sums(lambda);
          const tw = twin.censoredPoissonEStep(d.multiplier, d.bookings, d.available, n, lambda);
          const got = [w.logLik, w.demand, w.variance, w.hessian, w.multiplier];
          got.forEach((v, k) => expect(rel(v, tw[k]), `${variant} seed ${seed} sum ${k}: ${v} vs ${tw[k]}`).toBeLessThan(1e-12));
        } finally {
          cols.dispose();
        }
      }
    });
  }

  it('the twin agrees with the per-period E-step of the market layer', () => {
    for (const [seed, n, scale, lambda] of cases) {
      const d = columns(seed, n, scale);
      const e = eStep(d, lambda);
      const tw = twin.censoredPoissonEStep(d.multiplier, d.bookings, d.available, n, lambda);
      const sum = (x: Float64Array): number => x.reduce((s, v) => s + v, 0);
      expect(rel(tw[0], e.logLik), `seed ${seed}`).toBeLessThan(1e-12);
      expect(rel(tw[1], sum(e.demand))).toBeLessThan(1e-12);
      expect(rel(tw[2], sum(e.variance))).toBeLessThan(1e-11);
      expect(rel(tw[3], hessian(d, lambda, e))).toBeLessThan(1e-11);
    }
  });

  it('the EM through either build gives the same estimate', () => {
    const d = columns(9, 2000, 6);
    const r1 = fitCensoredDemand(d, { core: cores.simd });
    const r2 = fitCensoredDemand(d, { core: cores.scalar });
    expect(r1.iterations).toBe(r2.iterations);
    expect(rel(r1.lambda, r2.lambda)).toBeLessThan(1e-13);
    expect(rel(r1.stdErr, r2.stdErr)).toBeLessThan(1e-10);
  });
});
