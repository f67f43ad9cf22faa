/**
 * Kernel benchmarks: WASM SIMD vs WASM scalar vs the TypeScript twin, one thread, same
 * data, medians measured in one run.
 *   npm run bench:kernels [-- --sizes 1000,100000,10000000 --d 16]
 * Kernels: the censored log-likelihood pass (value + gradient + Hessian, docs/math.md §1.4), the batched
 * optimal quote (§1.5), the batched Greeks (§4.2). Both WASM builds run over one shared memory
 * (the same bytes); the twin reads plain Float64Array copies. A checksum of every output is
 * printed so no work can be optimised away.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { WasmCore } from '../src/core/wasm.js';
import * as twinL from '../src/core/twin/likelihood.js';
import * as twinQ from '../src/core/twin/quote.js';
import * as twinG from '../src/core/twin/greeks.js';
import { rng } from '../src/batch/demoData.js';

const args = process.argv.slice(2);
const opt = (k: string, v: string) => (args.includes(`--${k}`) ? args[args.indexOf(`--${k}`) + 1] : v);
const sizes = opt('sizes', '1000,100000,10000000').split(',').map(Number);
const d = Number(opt('d', '16'));

const simd = WasmCore.create({ variant: 'simd', memory: undefined });
const scalar = WasmCore.create({ variant: 'scalar', memory: simd.memory });
let checksum = 0;

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

interface Row {
  kernel: string;
  n: number;
  simd: number;
  scalar: number;
  twin: number;
}
const results: Row[] = [];

async function measure(kernel: string, n: number, fns: { simd: () => void; scalar: () => void; twin: () => void }): Promise<void> {
  const big = n >= 1e6;
  const bench = new Bench({ time: big ? 0 : 300, iterations: big ? 3 : n >= 1e5 ? 10 : 200, warmupIterations: big ? 1 : 20 });
  bench.add('simd', fns.simd).add('scalar', fns.scalar).add('twin', fns.twin);
  await bench.run();
  const med = (name: string) => {
    const t = bench.tasks.find((x) => x.name === name)!;
    const r = t.result as unknown as { latency?: { p50: number } };
    if (!r.latency) throw new Error(`${kernel} ${name}: no result`);
    return r.latency.p50;
  };
  const row = { kernel, n, simd: med('simd'), scalar: med('scalar'), twin: med('twin') };
  results.push(row);
  console.log(`${kernel.padEnd(28)} n=${String(n).padEnd(9)} simd ${row.simd.toFixed(3)} ms  scalar ${row.scalar.toFixed(3)} ms  twin ${row.twin.toFixed(3)} ms  twin/simd ${(row.twin / row.simd).toFixed(2)}x  scalar/simd ${(row.scalar / row.simd).toFixed(2)}x`);
}

async function main(): Promise<void> {
  console.log(`kernel benchmark: d = ${d}, one thread, node ${process.version}, tinybench medians`);
  for (const n of sizes) {
    const r = rng(n);
    const a = simd.arena;
    const mark = a.mark();
    // ---- likelihood data, row-major x with an intercept
    const x = a.f64(n * d);
    const won = a.f64(n);
    const price = a.f64(n);
    const comp = a.f64(n);
    const theta = a.f64(d);
    const grad = a.f64(d);
    const hess = a.f64(d * d);
    for (let j = 0; j < d; j++) theta[j] = j === 0 ? 1 : (r() - 0.5) * 0.6;
    for (let i = 0; i < n; i++) {
      let u = 0;
      for (let j = 0; j < d; j++) {
        const v = j === 0 ? 1 : r() * 2 - 1;
        x[i * d + j] = v;
        u += v * theta[j];
      }
      const y = u + 0.5 * gaussian(r);
      const p = u + (r() - 0.5);
      price[i] = p;
      won[i] = p <= y ? 1 : 0;
      comp[i] = p <= y ? y : NaN;
    }
    const tx = x.slice();
    const tw = won.slice();
    const tp = price.slice();
    const tc = comp.slice();
    const tt = theta.slice();
    const tg = new Float64Array(d);
    const th = new Float64Array(d * d);
    const lik = (core: WasmCore) => () => {
      checksum += core.k.censoredLogLikelihood(n, d, x.byteOffset, won.byteOffset, price.byteOffset, comp.byteOffset, 0, theta.byteOffset, 0, 0.5, 0, 0, grad.byteOffset, hess.byteOffset);
    };
    await measure('likelihood value+grad+Hessian', n, {
      simd: lik(simd),
      scalar: lik(scalar),
      twin: () => {
        checksum += twinL.censoredLogLikelihood(n, d, tx, tw, tp, tc, null, tt, 0, 0.5, 0, 0, tg, th);
      },
    });
    a.release(mark); // each kernel's data in turn: at n = 1e7 they do not all fit in 4 GiB
    // ---- batched optimal quote
    const u = a.f64(n);
    const c = a.f64(n);
    const out = a.f64(4 * n);
    for (let i = 0; i < n; i++) {
      u[i] = 20 + 4 * (r() - 0.5);
      c[i] = 10 + 8 * r();
    }
    const tu = u.slice();
    const tcost = c.slice();
    const tout = new Float64Array(4 * n);
    const q = (core: WasmCore) => () => {
      core.k.optimalQuote(0, 2, n, u.byteOffset, c.byteOffset, out.byteOffset);
      checksum += out[n - 1];
    };
    await measure('optimal quote (gaussian)', n, {
      simd: q(simd),
      scalar: q(scalar),
      twin: () => {
        twinQ.optimalQuote(0, 2, n, tu, tcost, tout);
        checksum += tout[n - 1];
      },
    });
    a.release(mark);
    // ---- batched Greeks: win-probability demand (normal), logistic return curve (docs/math.md §4)
    const gin = a.f64(13 * n);
    const gout = a.f64(7 * n);
    const cols = [(i: number) => 15 + 10 * r() + i * 0, () => 10, () => 3, () => 0.02, () => 0.25, () => 0.3, () => 20, () => 100, () => 20, () => 4, () => 0.05, () => 0.1, () => 50];
    cols.forEach((f, k) => {
      for (let i = 0; i < n; i++) gin[k * n + i] = f(i);
    });
    const tgin = gin.slice();
    const tgout = new Float64Array(7 * n);
    const g = (core: WasmCore) => () => {
      core.k.greeks(0, n, gin.byteOffset, gout.byteOffset);
      checksum += gout[n - 1];
    };
    await measure('greeks (6 + profit)', n, {
      simd: g(simd),
      scalar: g(scalar),
      twin: () => {
        twinG.greeks(0, n, tgin, tgout);
        checksum += tgout[n - 1];
      },
    });
    a.release(mark);
  }
  const lines = [
    '| kernel | n | WASM SIMD ms | WASM scalar ms | TS twin ms | twin / SIMD | scalar / SIMD |',
    '|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.kernel} | ${r.n.toExponential(0)} | ${r.simd.toFixed(3)} | ${r.scalar.toFixed(3)} | ${r.twin.toFixed(3)} | ${(r.twin / r.simd).toFixed(2)}x | ${(r.scalar / r.simd).toFixed(2)}x |`),
  ];
  console.log('\n' + lines.join('\n'));
  console.log(`\nchecksum ${checksum}`);
  // the run's own record, beside the hand-curated bench/RESULTS.md
  const file = new URL('../../bench/RESULTS-kernels.md', import.meta.url);
  writeFileSync(file, `## Kernels (\`npm run bench:kernels -- --sizes ${sizes.join(',')} --d ${d}\`)\n\n${new Date().toISOString().slice(0, 10)}, node ${process.version}, one thread, tinybench medians\n\n${lines.join('\n')}\n`);
  console.log(`written to ${fileURLToPath(file)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
