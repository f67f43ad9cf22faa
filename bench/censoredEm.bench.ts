/**
 * Censored-demand EM benchmark (docs/math.md §2.7): one E-step pass over a zone's periods by the
 * WASM kernel (SIMD and scalar builds; the kernel is scalar code, so they should match), its
 * TypeScript twin, and the market layer's per-period TypeScript E-step (which also fills three
 * arrays); then a whole EM fit through the kernel. One thread, tinybench medians.
 *   npm run build && node dist/bench/censoredEm.bench.js [--periods 1000000] [--regimes small,large]
 * Regimes: `small` (availability 0..8, λ a_t in 1.8..18: three periods in four sold out) and
 * `large` (availability 0..400, mean demand 45..450: the tail sums need O(√μ) terms).
 */
import { Bench } from 'tinybench';
import { WasmCore } from '../src/core/wasm.js';
import { CensoredColumns } from '../src/market/censoredEStep.js';
import { eStep, fitCensoredDemand, type CensoredPeriods } from '../src/market/censoredDemandEm.js';
import { MarketRng } from '../src/market/random.js';
import * as twin from '../src/core/twin/censoredDemand.js';

const args = process.argv.slice(2);
const opt = (k: string, v: string): string => (args.includes(`--${k}`) ? args[args.indexOf(`--${k}`) + 1] : v);
const n = Number(opt('periods', '1000000'));
const regimes = opt('regimes', 'small,large').split(',');
const REGIMES: Record<string, { cMax: number; lambda: number }> = { small: { cMax: 8, lambda: 6 }, large: { cMax: 400, lambda: 150 } };

let checksum = 0;

/** A Poisson draw by inversion (the means here stay below 700, where exp(-mu) is still a normal double). */
function poissonSample(rng: MarketRng, mu: number): number {
  const u = rng.uniform();
  let k = 0;
  let p = Math.exp(-mu);
  let F = p;
  while (u > F && k < 100_000) {
    k++;
    p *= mu / k;
    F += p;
  }
  return k;
}

function periods(cMax: number, lambda: number): CensoredPeriods {
  const rng = new MarketRng(1);
  const a = new Float64Array(n), b = new Float64Array(n), c = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    a[t] = 0.3 + 2.7 * rng.uniform();
    c[t] = Math.floor(rng.uniform() * (cMax + 1));
    b[t] = Math.min(poissonSample(rng, lambda * a[t]), c[t]);
  }
  return { multiplier: a, bookings: b, available: c };
}

async function main(): Promise<void> {
  const cores = { simd: WasmCore.create({ variant: 'simd' }), scalar: WasmCore.create({ variant: 'scalar' }) };
  console.log(`censored-demand EM benchmark: ${n} periods, one thread, node ${process.version}, tinybench medians (ms)`);
  for (const r of regimes) {
    const { cMax, lambda } = REGIMES[r];
    const d = periods(cMax, lambda);
    let sold = 0;
    for (let t = 0; t < n; t++) if (d.bookings[t] === d.available[t] && d.available[t] > 0) sold++;
    const cols = { simd: new CensoredColumns(d, cores.simd), scalar: new CensoredColumns(d, cores.scalar) };
    const bench = new Bench({ time: 3000, warmupIterations: 2, iterations: 5 });
    bench
      .add('wasm simd', () => { checksum += cols.simd.sums(lambda).logLik; })
      .add('wasm scalar', () => { checksum += cols.scalar.sums(lambda).logLik; })
      .add('twin', () => { checksum += twin.censoredPoissonEStep(d.multiplier, d.bookings, d.available, n, lambda)[0]; })
      .add('market eStep (arrays)', () => { checksum += eStep(d, lambda).logLik; });
    await bench.run();
    const med = (t: string): number => (bench.tasks.find((x) => x.name === t)!.result as unknown as { latency: { p50: number } }).latency.p50;
    const w = med('wasm simd');
    console.log(`E-step, regime ${r} (availability 0..${cMax}, ${((100 * sold) / n).toFixed(0)} % sold out):`);
    for (const t of ['wasm simd', 'wasm scalar', 'twin', 'market eStep (arrays)']) console.log(`  ${t.padEnd(22)} ${med(t).toFixed(1).padStart(8)} ms   ${(med(t) / w).toFixed(2)}x`);
    cols.simd.dispose();
    cols.scalar.dispose();
    const t0 = performance.now();
    const fit = fitCensoredDemand(d, { core: cores.simd });
    const ms = performance.now() - t0;
    console.log(`  EM fit (wasm simd): ${fit.iterations} iterations, ${(ms / 1000).toFixed(2)} s (${(ms / (fit.iterations + 1)).toFixed(1)} ms per E-step), lambda ${fit.lambda.toPrecision(8)} ± ${fit.stdErr.toPrecision(3)}`);
  }
  console.log(`checksum ${checksum}`);
}

void main();
