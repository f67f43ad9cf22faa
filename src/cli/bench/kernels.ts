/**
 * `repricer bench`, kernels: the censored likelihood pass (value + gradient + Hessian,
 * docs/math.md §1.4), the batched optimal quote (§1.5) and the batched Greeks (§4.2), on the
 * SIMD and the scalar WASM build over the same bytes, one thread. The plain-TypeScript twins are
 * test-only code (docs/architecture.md: production code never imports them), so the WASM / twin
 * ratio stays with `npm run bench:kernels` in a source checkout.
 */
import { WasmCore } from '../../core/wasm.js';
import { rng } from '../../batch/demoData.js';
import type { BenchRow } from './report.js';
import type { Sizes } from './sizes.js';

/** Median milliseconds of one call of `fn`, measured for about `budgetMs` after a warm-up. */
export function medianMs(fn: () => void, budgetMs: number, minRuns = 3): number {
  fn();
  fn();
  const times: number[] = [];
  const end = performance.now() + budgetMs;
  while (times.length < minRuns || (performance.now() < end && times.length < 10_000)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export function runKernels(s: Sizes): { rows: BenchRow[]; checksum: number } {
  const n = s.kernelRows;
  const d = s.kernelDim;
  const simd = WasmCore.create({ variant: 'simd' });
  const scalar = WasmCore.create({ variant: 'scalar', memory: simd.memory });
  const r = rng(n);
  const a = simd.arena;
  let checksum = 0;
  const rows: BenchRow[] = [];
  const size = `${n.toLocaleString('en-US')} rows`;
  const both = (name: string, sz: string, call: (core: WasmCore) => () => void) => {
    const tSimd = medianMs(call(simd), s.kernelBudgetMs);
    const tScalar = medianMs(call(scalar), s.kernelBudgetMs);
    rows.push({ case: name, size: sz, value: tSimd, unit: 'ms', note: undefined, compare: { label: 'WASM scalar', value: tScalar, unit: 'ms', ratio: tScalar / tSimd, ratioLabel: 'scalar / SIMD' } });
  };
  const mark = a.mark();
  try {
    // likelihood: row-major x with an intercept
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
    both(`likelihood value+gradient+Hessian, d = ${d}`, size, (core) => () => {
      checksum += core.k.censoredLogLikelihood(n, d, x.byteOffset, won.byteOffset, price.byteOffset, comp.byteOffset, 0, theta.byteOffset, 0, 0.5, 0, 0, grad.byteOffset, hess.byteOffset);
    });
    a.release(mark);
    // optimal quote, Gaussian
    const u = a.f64(n);
    const c = a.f64(n);
    const out = a.f64(4 * n);
    for (let i = 0; i < n; i++) {
      u[i] = 20 + 4 * (r() - 0.5);
      c[i] = 10 + 8 * r();
    }
    both('optimal quote (gaussian)', size, (core) => () => {
      core.k.optimalQuote(0, 2, n, u.byteOffset, c.byteOffset, out.byteOffset);
      checksum += out[n - 1];
    });
    a.release(mark);
    // Greeks: win-probability demand (normal), logistic return curve
    const gin = a.f64(13 * n);
    const gout = a.f64(7 * n);
    const cols = [() => 15 + 10 * r(), () => 10, () => 3, () => 0.02, () => 0.25, () => 0.3, () => 20, () => 100, () => 20, () => 4, () => 0.05, () => 0.1, () => 50];
    cols.forEach((f, k) => {
      for (let i = 0; i < n; i++) gin[k * n + i] = f();
    });
    both('greeks (6 + profit)', size, (core) => () => {
      core.k.greeks(0, n, gin.byteOffset, gout.byteOffset);
      checksum += gout[n - 1];
    });
  } finally {
    a.release(mark);
  }
  return { rows, checksum };
}
