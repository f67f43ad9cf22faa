/**
 * `npm run bench:fit` (node dist/bench/fit.bench.js): the TSMT fit (src/model/tsmt.ts) on
 * synthetic censored data — by default 1 000 000 rows, d = 20 features plus an intercept,
 * M = 1 000 products with Zipf (polynomial, α = 1) arrivals — through the WASM core (SIMD and
 * scalar builds) and through the plain-TS twin kernels (same algorithm, same operation order),
 * for the WASM/TS ratio.
 *
 * Options: --rows N --dim d --products M --reps R --twin-rows N (default: all rows; the twin row
 * of the table states the rows it used and the WASM time on the same rows).
 *
 * The twin run swaps the kernels of a core for adapters that call src/core/twin/* on views of the
 * same memory, so everything around the kernels (validation, copies, stage II loop) is identical.
 * Stage I's Newton loop (newtonBegin / newtonResume, driven by src/core/newton.ts) has no adapter:
 * it stays in WASM there, its likelihood passes (the bulk of the work) are the twin's.
 *
 * Worker pool (src/model/parallelFit.ts): the same fit with 1 and 2 workers, end to end as
 * fitTsmtParallel runs it (pool start-up, copy of the rows into shared memory, fit, pool
 * teardown), and the 1-worker / 2-worker ratio. Workers run compiled JS: run this file from dist/
 * after `npx tsc -p tsconfig.json` (npm run bench:fit does both).
 */
import { WasmCore, type KernelExports } from '../src/core/wasm.js';
import * as twinLik from '../src/core/twin/likelihood.js';
import * as twinSolv from '../src/core/twin/solvers.js';
import { fitTsmt, type TsmtOptions } from '../src/model/tsmt.js';
import { fitTsmtParallel } from '../src/model/parallelFit.js';
import type { ObservationColumns } from '../src/core/likelihood.js';
import { Rng } from '../src/sim/random.js';
import { arrivalProbabilities } from '../src/sim/rfqMarket.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const N = arg('rows', 1_000_000);
const d = arg('dim', 20);
const M = arg('products', 1000);
const reps = arg('reps', 3);
const twinRows = arg('twin-rows', N);
const sigma = 0.5;

/** Synthetic rows: θ_i = θ_0 + 0.2·unit, features N(0,1), prices around the mean quote. */
function makeData(n: number, seed: number): { obs: ObservationColumns; groups: Int32Array } {
  const D = d + 1;
  const rng = new Rng(seed);
  const theta0 = Float64Array.from({ length: D }, (_, j) => (j === 0 ? 2 : 0.3 * rng.normal()));
  const thetas = new Float64Array(M * D);
  for (let i = 0; i < M; i++) {
    const g = Array.from({ length: D }, () => rng.normal());
    const s = Math.hypot(...g);
    for (let j = 0; j < D; j++) thetas[i * D + j] = theta0[j] + (0.2 * g[j]) / s;
  }
  const p = arrivalProbabilities(M, 'polynomial', 1);
  const cdf = new Float64Array(M);
  let acc = 0;
  for (let i = 0; i < M; i++) cdf[i] = acc += p[i];
  const x = new Float64Array(n * D);
  const won = new Float64Array(n);
  const price = new Float64Array(n);
  const competitor = new Float64Array(n);
  const groups = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const uu = rng.uniform();
    let lo = 0;
    let hi = M - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (uu < cdf[mid]) hi = mid;
      else lo = mid + 1;
    }
    groups[r] = lo;
    x[r * D] = 1;
    let u = thetas[lo * D];
    for (let j = 1; j < D; j++) {
      const v = rng.normal() / Math.sqrt(d);
      x[r * D + j] = v;
      u += v * thetas[lo * D + j];
    }
    const y = u + sigma * rng.normal();
    price[r] = u + sigma * (rng.uniform() - 0.3);
    won[r] = price[r] <= y ? 1 : 0;
    competitor[r] = won[r] ? y : NaN;
  }
  return { obs: { n, d: D, x, won, price, competitor }, groups };
}

/** A core whose likelihood/solver kernels run the TS twin on views of the same memory. */
function twinCore(core: WasmCore): WasmCore {
  const mem = () => core.memory.buffer;
  const v = (ptr: number, len: number) => new Float64Array(mem(), ptr, len);
  const orNull = (ptr: number, len: number) => (ptr === 0 ? null : v(ptr, len));
  const k: KernelExports = { ...core.k };
  k.censoredLogLikelihood = (n, dd, px, pw, pp, pc, pwt, pt, fam, scale, conv, est, pg, ph) => {
    const D = dd + (est ? 1 : 0);
    return twinLik.censoredLogLikelihood(n, dd, v(px, n * dd), v(pw, n), v(pp, n), v(pc, n), orNull(pwt, n), v(pt, D), fam, scale, conv, est, orNull(pg, D), orNull(ph, D * D));
  };
  k.newtonWorkSize = (dd) => twinSolv.newtonWorkSize(dd);
  k.projectedNewton = (n, dd, px, pw, pp, pc, pwt, fam, scale, conv, est, norm, kind, pcen, lam, pprec, radius, maxIter, tol, pt, pwork, pinfo) => {
    const D = dd + (est ? 1 : 0);
    twinSolv.projectedNewton(n, dd, v(px, n * dd), v(pw, n), v(pp, n), v(pc, n), orNull(pwt, n), fam, scale, conv, est, norm, kind, orNull(pcen, dd), lam, orNull(pprec, dd * dd), radius, maxIter, tol, v(pt, D), v(pwork, twinSolv.newtonWorkSize(dd)), v(pinfo, 4));
    return 0;
  };
  const t = Object.create(core) as WasmCore;
  Object.defineProperty(t, 'k', { value: k });
  return t;
}

function time(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

const opts: TsmtOptions = { strategy: 'tsmt', noise: { family: 'gaussian', scale: sigma }, radius: 10, lambdaC: 0.3 };

async function main(): Promise<void> {
  const tg = performance.now();
  const data = makeData(N, 1);
  const counts = new Int32Array(M);
  data.groups.forEach((g) => counts[g]++);
  const sorted = Array.from(counts).sort((a, b) => b - a);
  console.log(`data: ${N} rows, d = ${d} (+ intercept), M = ${M} (Zipf arrivals: largest ${sorted[0]}, median ${sorted[M >> 1]}, smallest ${sorted[M - 1]} rows); generated in ${((performance.now() - tg) / 1000).toFixed(1)} s`);
  const rows: string[] = ['| backend | rows | workers | c_λ | wall time (median of reps) |', '|---|---|---|---|---|'];
  let sink = 0;
  // the worker pool first (1 and 2 workers, alternating so that load on the machine hits both)
  for (const [label, o] of [['0.3 (given)', opts], ['held-out grid', { ...opts, lambdaC: undefined }]] as const) {
    const ts: Record<number, number[]> = { 1: [], 2: [] };
    for (let r = 0; r < reps; r++) {
      for (const w of [1, 2]) ts[w].push(await timeAsync(async () => (sink += (await fitTsmtParallel(data.obs, data.groups, M, o, { workers: w })).logLikelihood)));
    }
    const t1 = median(ts[1]);
    const t2 = median(ts[2]);
    rows.push(`| WASM simd, worker pool | ${N} | 1 | ${label} | ${t1.toFixed(2)} s (runs: ${ts[1].map((t) => t.toFixed(2)).join(', ')}) |`);
    console.log(rows[rows.length - 1]);
    rows.push(`| WASM simd, worker pool | ${N} | 2 | ${label} | ${t2.toFixed(2)} s (runs: ${ts[2].map((t) => t.toFixed(2)).join(', ')}); 1 worker / 2 workers = ${(t1 / t2).toFixed(2)} |`);
    console.log(rows[rows.length - 1]);
  }
  for (const variant of ['simd', 'scalar'] as const) {
    const core = WasmCore.create({ variant });
    for (const [label, o] of [['0.3 (given)', opts], ['held-out grid', { ...opts, lambdaC: undefined }]] as const) {
      const ts: number[] = [];
      for (let r = 0; r < reps; r++) ts.push(time(() => (sink += fitTsmt(core, data.obs, data.groups, M, o).logLikelihood)));
      rows.push(`| WASM ${variant}, this thread (fitTsmt) | ${N} | 1 | ${label} | ${median(ts).toFixed(2)} s |`);
      console.log(rows[rows.length - 1]);
    }
  }
  // the twin on a prefix of the rows (same products), scaled by rows
  const core = WasmCore.create({ variant: 'simd' });
  const tcore = twinCore(core);
  const nt = Math.min(N, twinRows);
  const sub: ObservationColumns = { n: nt, d: data.obs.d, x: data.obs.x.subarray(0, nt * data.obs.d), won: data.obs.won.subarray(0, nt), price: data.obs.price.subarray(0, nt), competitor: data.obs.competitor.subarray(0, nt) };
  const g = data.groups.subarray(0, nt);
  const tw = median(Array.from({ length: Math.max(1, Math.min(reps, 2)) }, () => time(() => (sink += fitTsmt(tcore, sub, g, M, opts).logLikelihood))));
  const ws = median(Array.from({ length: reps }, () => time(() => (sink += fitTsmt(core, sub, g, M, opts).logLikelihood))));
  rows.push(`| TS twin | ${nt} | 1 | 0.3 (given) | ${tw.toFixed(2)} s (WASM simd on the same rows: ${ws.toFixed(2)} s; ratio ${(tw / ws).toFixed(2)}) |`);
  console.log(rows[rows.length - 1]);
  console.log('\n' + rows.join('\n'));
  if (!Number.isFinite(sink)) console.log('sink', sink);
}

await main();
