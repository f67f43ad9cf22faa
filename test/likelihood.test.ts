import { describe, it, expect, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { WasmCore } from '../src/core/wasm.js';
import {
  censoredLogLikelihood, observedInformation, standardErrors, type ObservationColumns,
} from '../src/core/likelihood.js';
import * as twin from '../src/core/twin/likelihood.js';
import type { NoiseSpec, Convention } from '../src/core/validate.js';

// ------------------------------------------------------------------------------------------------
// fixtures

interface FixtureCase {
  name: string;
  family: 0 | 1;
  convention: 0 | 1;
  scale: number;
  estimateScale: boolean;
  n: number;
  d: number;
  x: number[];
  won: number[];
  price: number[];
  competitor: (number | null)[];
  weight: number[] | null;
  theta: number[];
  expected: {
    value: number; gradient: number[]; hessian: number[];
    absValue: number; absGradient: number[]; absHessian: number[];
  };
}
interface MathRef {
  family: 'gaussian' | 'logistic';
  scale: number;
  theta: number[];
  x: number[];
  won: number[];
  price: number[];
  competitor: (number | null)[];
  value: number;
  gradient: number[];
  hessian: number[];
  mathTable: { value: number; gradient: number[]; hessian: number[] };
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/likelihood.json', import.meta.url), 'utf8')) as {
  mathRef: MathRef[];
  cases: FixtureCase[];
};
// 60-digit oracle of the noise module (test/fixtures/noise.py): [z, log Phi(z)], [z, lambda, z + lambda]
const noiseRef = JSON.parse(readFileSync(new URL('./fixtures/noise.json', import.meta.url), 'utf8')) as {
  logPhi: [number, number][];
  mills: [number, number, number][];
};

const cores = { simd: WasmCore.create({ variant: 'simd' }), scalar: WasmCore.create({ variant: 'scalar' }) };
const FAMILIES = ['gaussian', 'logistic'] as const;
const CONVENTIONS: Convention[] = ['price', 'yield'];

const nan = (v: number | null): number => (v === null ? NaN : v);

function obsOf(c: { n: number; d: number; x: number[]; won: number[]; price: number[]; competitor: (number | null)[]; weight?: number[] | null }): ObservationColumns {
  const o: ObservationColumns = {
    n: c.n, d: c.d, x: Float64Array.from(c.x), won: Float64Array.from(c.won), price: Float64Array.from(c.price),
    competitor: Float64Array.from(c.competitor, nan),
  };
  if (c.weight) o.weight = Float64Array.from(c.weight);
  return o;
}

/** Deterministic generator (mulberry32) for the test tables. */
function rng(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Table { obs: ObservationColumns; theta: Float64Array; noise: NoiseSpec }

/**
 * A random table whose standardised residuals z cover [-zMax, zMax] (a third of the rows in the
 * deep tails |z| >= 8 when zMax > 8); σ = scale; |xθ| around `offset`.
 */
function randomTable(seed: number, n: number, d: number, family: 'gaussian' | 'logistic', scale: number,
  opts: { zMax?: number; weighted?: boolean; est?: boolean; offset?: number } = {}): Table {
  const R = rng(seed);
  const zMax = opts.zMax ?? 30;
  const theta = new Float64Array(opts.est ? d + 1 : d);
  for (let j = 0; j < d; j++) theta[j] = 2 * R() - 1;
  if (opts.est) theta[d] = Math.log(scale);
  const x = new Float64Array(n * d);
  const won = new Float64Array(n);
  const price = new Float64Array(n);
  const comp = new Float64Array(n);
  const weight = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    let u = 0;
    for (let j = 0; j < d; j++) {
      x[t * d + j] = j === 0 ? 1 + (opts.offset ?? 0) : 3 * R() - 1.5;
      u += x[t * d + j] * theta[j];
    }
    const z = t % 3 === 0 && zMax > 8 ? (R() < 0.5 ? -1 : 1) * (8 + (zMax - 8) * R()) : (2 * R() - 1) * Math.min(zMax, 4);
    won[t] = R() < 0.5 ? 1 : 0;
    if (won[t]) {
      comp[t] = u + scale * z;
      price[t] = comp[t] - 0.1 * R();
    } else {
      comp[t] = NaN;
      price[t] = u + scale * z;
    }
    weight[t] = 2 * R();
  }
  const obs: ObservationColumns = { n, d, x, won, price, competitor: comp };
  if (opts.weighted) obs.weight = weight;
  return { obs, theta, noise: { family, scale } };
}

function twinEval(tb: Table, conv: Convention, est: boolean): { value: number; gradient: Float64Array; hessian: Float64Array } {
  const { obs, theta, noise } = tb;
  const D = est ? obs.d + 1 : obs.d;
  const g = new Float64Array(D);
  const H = new Float64Array(D * D);
  const value = twin.censoredLogLikelihood(
    obs.n, obs.d, obs.x, obs.won, obs.price, obs.competitor, obs.weight ?? null, theta,
    noise.family === 'gaussian' ? 0 : 1, noise.scale, conv === 'price' ? 0 : 1, est ? 1 : 0, g, H,
  );
  return { value, gradient: g, hessian: H };
}

const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

/** |a - b| <= rel·|b| + floor·scale, entry by entry. */
function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, rel: number, floor: number, what: string): void {
  expect(a.length, what).toBe(b.length);
  const s = maxAbs(b);
  for (let i = 0; i < b.length; i++) {
    expect(Number.isFinite(a[i]), `${what}[${i}] finite`).toBe(true);
    expect(Math.abs(a[i] - b[i]), `${what}[${i}]: ${a[i]} vs ${b[i]}`).toBeLessThanOrEqual(rel * Math.abs(b[i]) + floor * s + 1e-300);
  }
}

// ------------------------------------------------------------------------------------------------

describe('likelihood: docs/math.md §6.3 reference values (2-D, θ = (0.5, -0.3))', () => {
  for (const ref of fixture.mathRef) {
    const obs = obsOf({ n: 2, d: 2, ...ref });
    const theta = Float64Array.from(ref.theta);
    const noise: NoiseSpec = { family: ref.family, scale: ref.scale };
    for (const [name, core] of Object.entries(cores)) {
      it(`${ref.family} scale=${ref.scale} ${name}: value, gradient, Hessian`, () => {
        const r = censoredLogLikelihood(core, obs, theta, noise, { gradient: true, hessian: true });
        // the generator's reference loglik() to 1e-13, the printed docs/math.md table to its 10 decimals
        expectClose([r.value], [ref.value], 1e-13, 0, 'value');
        expectClose(r.gradient!, ref.gradient, 1e-13, 0, 'gradient');
        expectClose(r.hessian!, ref.hessian, 1e-13, 0, 'hessian');
        expectClose([r.value], [ref.mathTable.value], 0, 1e-10, 'table value');
        expectClose(r.gradient!, ref.mathTable.gradient, 0, 1e-10, 'table gradient');
        expectClose(r.hessian!, ref.mathTable.hessian, 0, 1e-10, 'table hessian');
      });
    }
  }
});

describe('likelihood: random tables against the independent python implementation (fixtures/likelihood.py)', () => {
  for (const c of fixture.cases) {
    for (const [name, core] of Object.entries(cores)) {
      it(`${c.name} ${name}`, () => {
        const r = censoredLogLikelihood(core, obsOf(c), Float64Array.from(c.theta), { family: FAMILIES[c.family], scale: c.scale }, {
          convention: CONVENTIONS[c.convention], gradient: true, hessian: true, estimateScale: c.estimateScale,
        });
        const e = c.expected;
        // tails to |z| = 30: python's log(erfc) and lambda·(z + lambda) lose ~1e-13 there; the
        // error bound is relative to the sum of |terms| (cancellation in sums is not an error)
        expect(Math.abs(r.value - e.value)).toBeLessThanOrEqual(1e-12 * e.absValue);
        for (let i = 0; i < e.gradient.length; i++) {
          expect(Math.abs(r.gradient![i] - e.gradient[i]), `grad ${i}`).toBeLessThanOrEqual(1e-11 * e.absGradient[i] + 1e-300);
        }
        for (let i = 0; i < e.hessian.length; i++) {
          expect(Math.abs(r.hessian![i] - e.hessian[i]), `hess ${i}`).toBeLessThanOrEqual(1e-11 * e.absHessian[i] + 1e-300);
        }
      });
    }
  }
});

describe('likelihood: Gaussian censored term against the 60-digit oracle (fixtures/noise.json)', () => {
  // σ = 1, x = 1, θ = 0, four lost rows (one block of the kernel, so the SIMD build takes its f64x2
  // path): row 0 at price z with weight 1, rows 1-3 at 0 with weight 0. value = log Phi(z),
  // gradient = -lambda(z), Hessian = -lambda(z)·(z + lambda(z)), exactly (the other rows add 0).
  const one = (z: number, conv: Convention, core: WasmCore) => censoredLogLikelihood(core, {
    n: 4, d: 1, x: new Float64Array([1, 1, 1, 1]), won: new Float64Array(4), price: new Float64Array([z, 0, 0, 0]),
    competitor: new Float64Array(4).fill(NaN), weight: new Float64Array([1, 0, 0, 0]),
  }, new Float64Array([0]), { family: 'gaussian', scale: 1 }, { gradient: true, hessian: true, convention: conv });
  for (const [name, core] of Object.entries(cores)) {
    it(`${name}: log Phi, lambda and lambda(z + lambda) on [-37, 8]`, () => {
      const shift = new Map(noiseRef.mills.map(([z, lam, s]) => [z, [lam, s]]));
      for (const [z, logPhi] of noiseRef.logPhi) {
        const r = one(z, 'price', core);
        expect(Math.abs(r.value - logPhi) / Math.abs(logPhi), `log Phi(${z})`).toBeLessThan(2e-14);
        const m = shift.get(z);
        if (m) {
          expect(Math.abs(-r.gradient![0] - m[0]) / m[0], `lambda(${z})`).toBeLessThan(2e-14);
          expect(Math.abs(-r.hessian![0] - m[0] * m[1]) / (m[0] * m[1]), `lambda(z+lambda) at ${z}`).toBeLessThan(2e-13);
        }
        // the yield convention mirrors: log(1 - Phi(-z)) = log Phi(z), derivative signs flip
        const y = one(-z, 'yield', core);
        expect(Math.abs(y.value - logPhi) / Math.abs(logPhi), `yield log(1-Phi(${-z}))`).toBeLessThan(2e-14);
        if (m) expect(Math.abs(y.gradient![0] - m[0]) / m[0], `yield lambda(${z})`).toBeLessThan(2e-14);
      }
    });
  }
});

describe('likelihood: WASM (simd, scalar) vs TS twin parity, tails to |z| = 30', () => {
  // sizes exercise the 4-row blocks and their remainder, and odd d (the SIMD pair tail); |z| <= 5
  // keeps every block of the SIMD build on its f64x2 path, |z| to 30 sends some to the scalar tail path
  const shapes: [number, number, number][] = [[1, 1, 30], [7, 2, 30], [203, 5, 30], [64, 16, 30], [37, 9, 30], [203, 5, 5], [64, 16, 5], [37, 9, 5]];
  let seed = 100;
  for (const family of FAMILIES) {
    for (const conv of CONVENTIONS) {
      for (const weighted of [false, true]) {
        for (const est of [false, true]) {
          for (const [n, d, zMax] of shapes) {
            const s = seed++;
            it(`${family} ${conv} ${weighted ? 'weighted' : 'unit'} ${est ? 'θ+logσ' : 'θ'} n=${n} d=${d} |z|<=${zMax}`, () => {
              const tb = randomTable(s, n, d, family, family === 'gaussian' ? 0.5 : 0.3, { weighted, est, zMax });
              const ref = twinEval(tb, conv, est);
              for (const [name, core] of Object.entries(cores)) {
                const r = censoredLogLikelihood(core, tb.obs, tb.theta, tb.noise, { convention: conv, gradient: true, hessian: true, estimateScale: est });
                expectClose([r.value], [ref.value], 1e-12, 0, `${name} value`);
                expectClose(r.gradient!, ref.gradient, 1e-12, 1e-13, `${name} gradient`);
                expectClose(r.hessian!, ref.hessian, 1e-12, 1e-13, `${name} hessian`);
              }
            });
          }
        }
      }
    }
  }

  it('simd and scalar builds agree to the last bit (same operation order, lane by lane)', () => {
    for (const family of FAMILIES) {
      for (const conv of CONVENTIONS) {
        for (const zMax of [5, 30]) {
          const tb = randomTable(7, 501, 11, family, 0.7, { weighted: true, est: true, zMax });
          const opts = { gradient: true, hessian: true, estimateScale: true, convention: conv };
          const a = censoredLogLikelihood(cores.simd, tb.obs, tb.theta, tb.noise, opts);
          const b = censoredLogLikelihood(cores.scalar, tb.obs, tb.theta, tb.noise, opts);
          expect(a.value).toBe(b.value);
          expect(Array.from(a.gradient!)).toEqual(Array.from(b.gradient!));
          expect(Array.from(a.hessian!)).toEqual(Array.from(b.hessian!));
        }
      }
    }
  });

  it('gradient and Hessian requests do not change the value; the Hessian is symmetric', () => {
    const tb = randomTable(8, 99, 6, 'logistic', 0.4, { est: true });
    for (const core of Object.values(cores)) {
      const v = censoredLogLikelihood(core, tb.obs, tb.theta, tb.noise, { estimateScale: true });
      const r = censoredLogLikelihood(core, tb.obs, tb.theta, tb.noise, { gradient: true, hessian: true, estimateScale: true });
      expect(r.value).toBe(v.value);
      const D = 7;
      for (let a = 0; a < D; a++) for (let b = 0; b < D; b++) expect(r.hessian![a * D + b]).toBe(r.hessian![b * D + a]);
    }
  });

  it('unit weights equal omitted weights; weights scale each row', () => {
    const tb = randomTable(9, 50, 4, 'gaussian', 0.5);
    const ones = new Float64Array(50).fill(1);
    const a = censoredLogLikelihood(cores.simd, tb.obs, tb.theta, tb.noise, { gradient: true });
    const b = censoredLogLikelihood(cores.simd, { ...tb.obs, weight: ones }, tb.theta, tb.noise, { gradient: true });
    expect(b.value).toBe(a.value);
    expect(Array.from(b.gradient!)).toEqual(Array.from(a.gradient!));
    // weight 2 on every row doubles everything exactly
    const c = censoredLogLikelihood(cores.simd, { ...tb.obs, weight: new Float64Array(50).fill(2) }, tb.theta, tb.noise, { gradient: true });
    expect(c.value).toBe(2 * a.value);
    // duplicating a row equals weight 2 on it (up to summation order)
    const { obs } = tb;
    const dup: ObservationColumns = {
      n: 51, d: 4, x: Float64Array.from([...obs.x, ...obs.x.subarray(0, 4)]), won: Float64Array.from([...obs.won, obs.won[0]]),
      price: Float64Array.from([...obs.price, obs.price[0]]), competitor: Float64Array.from([...obs.competitor, obs.competitor[0]]),
    };
    const w = new Float64Array(50).fill(1);
    w[0] = 2;
    const e = censoredLogLikelihood(cores.simd, dup, tb.theta, tb.noise);
    const f = censoredLogLikelihood(cores.simd, { ...obs, weight: w }, tb.theta, tb.noise);
    expect(Math.abs(e.value - f.value)).toBeLessThan(1e-12 * Math.abs(f.value));
  });
});

describe('likelihood: gradient and Hessian against central differences (θ and log σ)', () => {
  // regimes: [label, scale, zMax, offset of xθ]
  const regimes: [string, number, number, number][] = [
    ['moderate', 0.5, 3, 0],
    ['deep tails |z| to 25', 0.5, 25, 0],
    ['tiny scale 1e-3', 1e-3, 4, 0],
    ['large scale 50', 50, 4, 0],
    ['large |xθ| ~ 1e4', 0.8, 4, 1e4],
  ];
  let seed = 500;
  for (const [label, scale, zMax, offset] of regimes) {
    for (const family of FAMILIES) {
      for (const conv of CONVENTIONS) {
        for (const est of [false, true]) {
          const s = seed++;
          it(`${label}: ${family} ${conv} ${est ? 'θ+logσ' : 'θ'}`, () => {
            const tb = randomTable(s, 24, 3, family, scale, { zMax, offset, weighted: true, est });
            const core = cores.simd;
            const D = est ? 4 : 3;
            const opts = { convention: conv, gradient: true, hessian: true, estimateScale: est };
            const r = censoredLogLikelihood(core, tb.obs, tb.theta, tb.noise, opts);
            for (let j = 0; j < D; j++) {
              // θ steps relative to the scale (z moves by ~1e-5·|x|), log σ steps absolute
              const h = j < 3 ? 1e-5 * scale / (1 + Math.abs(offset)) : 1e-5;
              const tp = tb.theta.slice();
              const tm = tb.theta.slice();
              tp[j] += h;
              tm[j] -= h;
              const p = censoredLogLikelihood(core, tb.obs, tp, tb.noise, opts);
              const m = censoredLogLikelihood(core, tb.obs, tm, tb.noise, opts);
              const fdg = (p.value - m.value) / (2 * h);
              const gs = maxAbs(r.gradient!) + Math.abs(r.value) * 1e-3;
              expect(Math.abs(fdg - r.gradient![j]), `dℓ/dθ${j}: fd ${fdg} vs ${r.gradient![j]}`).toBeLessThan(2e-6 * (Math.abs(r.gradient![j]) + gs));
              const hsc = maxAbs(r.hessian!);
              for (let k = 0; k < D; k++) {
                const fdh = (p.gradient![k] - m.gradient![k]) / (2 * h);
                expect(Math.abs(fdh - r.hessian![k * D + j]), `d²ℓ/dθ${k}dθ${j}: fd ${fdh} vs ${r.hessian![k * D + j]}`).toBeLessThan(2e-6 * hsc);
              }
            }
          });
        }
      }
    }
  }
});

// ------------------------------------------------------------------------------------------------
// properties

/** Cholesky of A (d×d) + ridge·I; true when it succeeds (A + ridge·I positive definite). */
function choleskyOk(A: Float64Array, d: number, ridge: number): boolean {
  const L = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    let s = A[j * d + j] + ridge;
    for (let k = 0; k < j; k++) s -= L[j * d + k] ** 2;
    if (!(s > 0)) return false;
    L[j * d + j] = Math.sqrt(s);
    for (let i = j + 1; i < d; i++) {
      let r = A[i * d + j];
      for (let k = 0; k < j; k++) r -= L[i * d + k] * L[j * d + k];
      L[i * d + j] = r / L[j * d + j];
    }
  }
  return true;
}

const tableArb = fc.record({
  seed: fc.integer({ min: 1, max: 1 << 30 }),
  n: fc.integer({ min: 1, max: 40 }),
  d: fc.integer({ min: 1, max: 7 }),
  family: fc.constantFrom(...FAMILIES),
  conv: fc.constantFrom(...CONVENTIONS),
  scale: fc.double({ min: 0.01, max: 20, noNaN: true }),
  zMax: fc.double({ min: 0.5, max: 35, noNaN: true }),
  weighted: fc.boolean(),
});

type Hess = (tb: Table, conv: Convention) => Float64Array;
const wasmHessian: Hess = (tb, conv) => censoredLogLikelihood(cores.simd, tb.obs, tb.theta, tb.noise, { convention: conv, hessian: true }).hessian!;
const flippedHessian: Hess = (tb, conv) => wasmHessian(tb, conv).map((v) => -v);

/** -H + ridge·I is positive definite (H negative semi-definite, docs/math.md §1.4 log-concavity). */
function nsdProperty(hess: Hess) {
  return fc.property(tableArb, (p) => {
    const tb = randomTable(p.seed, p.n, p.d, p.family, p.scale, { zMax: p.zMax, weighted: p.weighted });
    const H = hess(tb, p.conv);
    const negH = H.map((v) => -v);
    const ridge = 1e-10 * Math.max(1e-300, maxAbs(H)) + 1e-300;
    return choleskyOk(negH, p.d, ridge);
  });
}

type ValueFn = (tb: Table, conv: Convention) => number[];
const wasmAll: ValueFn = (tb, conv) => {
  const r = censoredLogLikelihood(cores.simd, tb.obs, tb.theta, tb.noise, { convention: conv, gradient: true, hessian: true });
  return [r.value, ...r.gradient!, ...r.hessian!];
};
/** A deliberately naive likelihood: log of the sigmoid / Phi computed directly (underflows). */
const naiveValue: ValueFn = (tb, conv) => {
  const { obs, theta, noise } = tb;
  let s = 0;
  for (let t = 0; t < obs.n; t++) {
    let u = 0;
    for (let j = 0; j < obs.d; j++) u += obs.x[t * obs.d + j] * theta[j];
    const z = ((obs.won[t] ? obs.competitor[t] : obs.price[t]) - u) / noise.scale;
    const F = 1 / (1 + Math.exp(-z));
    if (obs.won[t]) s += Math.log(F) + Math.log(1 - F);
    else s += conv === 'price' ? Math.log(F) : Math.log(1 - F);
  }
  return [s];
};

function finiteProperty(fn: ValueFn) {
  return fc.property(tableArb, fc.double({ min: 0, max: 1e4, noNaN: true }), (p, offset) => {
    const tb = randomTable(p.seed, p.n, p.d, p.family, p.scale, { zMax: Math.max(p.zMax, 30) * 30, weighted: p.weighted, offset });
    return fn(tb, p.conv).every(Number.isFinite);
  });
}

describe('likelihood: properties (fast-check)', () => {
  it('the Hessian in θ is negative semi-definite for random data, θ and scale', () => {
    fc.assert(nsdProperty(wasmHessian), { numRuns: 300, seed: 42 });
  });
  it('companion: a sign-flipped Hessian fails the same property', () => {
    expect(fc.check(nsdProperty(flippedHessian), { numRuns: 300, seed: 42 }).failed).toBe(true);
  });
  it('value, gradient and Hessian are finite for finite inputs (|z| up to ~1000, large |xθ|)', () => {
    fc.assert(finiteProperty(wasmAll), { numRuns: 300, seed: 43 });
  });
  it('companion: a naive log-sigmoid likelihood fails the same property', () => {
    expect(fc.check(finiteProperty(naiveValue), { numRuns: 300, seed: 43 }).failed).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------------

describe('likelihood: wrapper', () => {
  const tb = randomTable(3, 10, 3, 'gaussian', 0.5);
  const noise = tb.noise;
  const call = (obs: ObservationColumns, theta: Float64Array = tb.theta, est = false) =>
    () => censoredLogLikelihood(cores.simd, obs, theta, noise, { estimateScale: est });

  it('names the argument, index and value in validation errors', () => {
    const won = tb.obs.won.slice();
    won[4] = 0.5;
    expect(call({ ...tb.obs, won })).toThrow(/obs\.won\[4\] must be 0 or 1, got 0\.5/);
    const comp = tb.obs.competitor.slice();
    const i = tb.obs.won.indexOf(1);
    comp[i] = NaN;
    expect(call({ ...tb.obs, competitor: comp })).toThrow(new RegExp(`obs\\.competitor\\[${i}\\] must be finite where won = 1, got NaN`));
    expect(call({ ...tb.obs, weight: Float64Array.from({ length: 10 }, (_, k) => (k === 7 ? -1 : 1)) })).toThrow(/obs\.weight\[7\] must be finite and >= 0, got -1/);
    expect(call({ ...tb.obs, x: tb.obs.x.subarray(0, 29) })).toThrow(/obs\.x must have length 30, got 29/);
    expect(call({ ...tb.obs, price: new Float64Array(9) })).toThrow(/obs\.price must have length 10, got 9/);
    const x = tb.obs.x.slice();
    x[13] = Infinity;
    expect(call({ ...tb.obs, x })).toThrow(/obs\.x\[13\] \(row 4, column 1\) must be finite, got Infinity/);
    expect(call(tb.obs, new Float64Array(4))).toThrow(/theta must have length 3 \(d = 3\), got 4/);
    expect(call(tb.obs, new Float64Array(3), true)).toThrow(/theta must have length 4 \(d \+ 1 = 4: θ then log σ\), got 3/);
    expect(() => censoredLogLikelihood(cores.simd, tb.obs, tb.theta, { family: 'gaussian', scale: -1 })).toThrow(/noise\.scale/);
    expect(() => censoredLogLikelihood(cores.simd, tb.obs, tb.theta, noise, { convention: 'bid' as Convention })).toThrow(/convention must be "price" or "yield", got "bid"/);
  });

  it('NaN competitor prices are allowed on lost rows (never read)', () => {
    const comp = tb.obs.competitor.slice();
    for (let t = 0; t < 10; t++) if (!tb.obs.won[t]) comp[t] = 1e300;
    const a = censoredLogLikelihood(cores.simd, tb.obs, tb.theta, noise);
    const b = censoredLogLikelihood(cores.simd, { ...tb.obs, competitor: comp }, tb.theta, noise);
    expect(b.value).toBe(a.value);
  });

  it('does not copy columns that already live in WASM memory', () => {
    const core = WasmCore.create({ variant: 'simd' });
    const big = randomTable(5, 2000, 8, 'logistic', 0.3, { weighted: true });
    const copied = censoredLogLikelihood(core, big.obs, big.theta, big.noise, { gradient: true });
    // place the columns in the arena (outside any scope), then count arena allocations per call
    const put = (a: Float64Array) => {
      const v = core.arena.f64(a.length);
      v.set(a);
      return v;
    };
    const inWasm: ObservationColumns = {
      n: 2000, d: 8, x: put(big.obs.x), won: put(big.obs.won), price: put(big.obs.price),
      competitor: put(big.obs.competitor), weight: put(big.obs.weight!),
    };
    const spy = vi.spyOn(core.arena, 'alloc');
    const zero = censoredLogLikelihood(core, inWasm, big.theta, big.noise, { gradient: true });
    const sizes = spy.mock.calls.map((c) => c[0]);
    spy.mockRestore();
    expect(zero.value).toBe(copied.value);
    expect(Array.from(zero.gradient!)).toEqual(Array.from(copied.gradient!));
    // only θ (8) and the gradient (8) were allocated; no column of 2000 or 16000 doubles
    expect(sizes.every((s) => s <= 8)).toBe(true);
  });

  it('observedInformation is minus the Hessian; standardErrors inverts it by Cholesky', () => {
    const big = randomTable(6, 300, 3, 'gaussian', 0.5, { zMax: 3 });
    const info = observedInformation(cores.simd, big.obs, big.theta, big.noise);
    const h = censoredLogLikelihood(cores.simd, big.obs, big.theta, big.noise, { hessian: true }).hessian!;
    expect(Array.from(info)).toEqual(Array.from(h, (v) => -v));
    const se = standardErrors(info, 3);
    // check against the explicit inverse: info · inv = I
    const inv = new Float64Array(9);
    for (let c = 0; c < 3; c++) {
      // solve by Gauss-Jordan on a copy
      const A = Array.from({ length: 3 }, (_, i) => [info[i * 3], info[i * 3 + 1], info[i * 3 + 2], i === c ? 1 : 0]);
      for (let p = 0; p < 3; p++) {
        for (let r = 0; r < 3; r++) {
          if (r === p) continue;
          const f = A[r][p] / A[p][p];
          for (let k = 0; k < 4; k++) A[r][k] -= f * A[p][k];
        }
      }
      for (let r = 0; r < 3; r++) inv[r * 3 + c] = A[r][3] / A[r][r];
    }
    for (let i = 0; i < 3; i++) expect(Math.abs(se[i] - Math.sqrt(inv[i * 3 + i])) / se[i]).toBeLessThan(1e-12);
    expect(() => standardErrors(new Float64Array([1, 1, 1, 1]), 2)).toThrow(/singular or not positive definite \(pivot 1/);
    expect(() => standardErrors(new Float64Array([1, 0, 0]), 2)).toThrow(/info must have length 4, got 3/);
  });
});
