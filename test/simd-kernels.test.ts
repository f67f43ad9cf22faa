/**
 * The f64x2 paths of optimalQuote / virtualValuationInverse (assembly/quote.ts: start table of
 * assembly/vvstart.ts + one Halley step + Taylor) and of greeks (assembly/greeks.ts: greeksPair):
 * (1) dense grids over the whole SIMD domain of phi^-1, every start-table cell edge included, both
 *     builds vs the TS twin and phi(w) = a to rounding;
 * (2) lane edges: n = 1, 2, 3, 5, a pair with one lane outside the SIMD domain (or holding a NaN,
 *     whose own result is unspecified) next to an ordinary lane, the domain boundaries and their
 *     neighbouring doubles, and nothing written past the output columns;
 * (3) greeks rows that mix, within one pair, constant and logistic return curves, Cody's three
 *     erfc intervals, and lanes past the SIMD limits (|z| > 37 normal, |z| or |kR (P - Pmid)| > 700).
 * The kernels are called raw (no validation) so that NaN lanes and exact cell edges reach them.
 */
import { describe, it, expect } from 'vitest';
import { WasmCore, type Variant } from '../src/core/wasm.js';
import * as twinQ from '../src/core/twin/quote.js';
import * as twinG from '../src/core/twin/greeks.js';
import { normMillsRatio } from '../src/core/twin/noise.js';

const variants: Variant[] = ['simd', 'scalar'];
const cores: Record<Variant, WasmCore> = { simd: WasmCore.create({ variant: 'simd' }), scalar: WasmCore.create({ variant: 'scalar' }) };
const EPS = 2.220446049250313e-16;
const SENTINEL = 12345.678;

// The SIMD domain of phi^-1 in standardised a (assembly/quote.ts, assembly/vvstart.ts).
const T0 = 6;
const A_MAX = 5;
const A_MIN = { gaussian: T0 + 8 - 2 ** 24, logistic: T0 + 8 - 2 ** 32 };
const EMAX = { gaussian: 24, logistic: 32 };
const FAMILIES = [['gaussian', 0], ['logistic', 1]] as const;

function nextUp(x: number): number {
  const b = new Float64Array([x]);
  const i = new BigInt64Array(b.buffer);
  if (x === 0) return Number.MIN_VALUE;
  i[0] += x > 0 ? 1n : -1n;
  return b[0];
}
function nextDown(x: number): number {
  return -nextUp(-x);
}

/** Raw kernel call: inputs copied into the arena, `cols` output columns of n plus two sentinels. */
function raw(core: WasmCore, cols: number, n: number, inputs: Float64Array[], call: (ptrs: number[], out: number) => void): Float64Array {
  return core.arena.scoped(() => {
    const ptrs = inputs.map((x) => core.input(x));
    const out = core.arena.alloc(cols * n + 2);
    const view = new Float64Array(core.memory.buffer, out, cols * n + 2);
    view.fill(SENTINEL);
    call(ptrs, out);
    const res = new Float64Array(core.memory.buffer, out, cols * n + 2).slice();
    // nothing written past the last column
    expect(res[cols * n]).toBe(SENTINEL);
    expect(res[cols * n + 1]).toBe(SENTINEL);
    return res.subarray(0, cols * n);
  });
}

function quote(core: WasmCore, family: number, scale: number, u: Float64Array, c: Float64Array): Float64Array {
  const n = u.length;
  return raw(core, 4, n, [u, c], ([pu, pc], out) => core.k.optimalQuote(family, scale, n, pu, pc, out));
}

function twinQuote(family: number, scale: number, u: Float64Array, c: Float64Array): Float64Array {
  const out = new Float64Array(4 * u.length);
  twinQ.optimalQuote(family, scale, u.length, u, c, out);
  return out;
}

/**
 * Parity of the four quote columns with the twin (test/quote.test.ts tolerances): 1e-12 relative,
 * floors of a few ulps of |u| + |c| + scale for price and reward. The reward c + (p* - c) S cancels
 * to O(scale) while c and (p* - c) S are ~|a| scale: a one-ulp change of w* moves (p* - c) S by
 * (w m' - ...) ~ w^2 ulps (Gaussian) or ~|w| ulps (logistic) of itself, which the floor allows for
 * (the scalar build differs from the twin by that much too, far in the left tail).
 */
function expectQuoteParity(got: Float64Array, want: Float64Array, u: Float64Array, c: Float64Array, scale: number, what: string): void {
  const n = u.length;
  for (let i = 0; i < n; i++) {
    const base = 1e-15 * (Math.abs(u[i]) + Math.abs(c[i]) + scale);
    const w = want[i] - u[i]; // p* - u = scale w*
    const z = w / scale;
    const pcS = Math.abs(want[2 * n + i] - c[i]);
    const floors = [base, 1e-300, base + 8 * EPS * (1 + z * z) * pcS, 1e-300];
    for (let k = 0; k < 4; k++) {
      const g = got[k * n + i];
      const t = want[k * n + i];
      const tol = 1e-12 * Math.max(Math.abs(g), Math.abs(t)) + floors[k];
      if (!(Math.abs(g - t) <= tol) && !Object.is(g, t)) {
        throw new Error(`${what} row ${i} (u ${u[i]}, c ${c[i]}) column ${k}: got ${g}, want ${t}`);
      }
    }
    expect(got[3 * n + i]).toBeGreaterThanOrEqual(0);
    expect(got[3 * n + i]).toBeLessThan(1);
  }
}

/** Standardised a on a dense grid of the SIMD domain: every start-table cell edge and its neighbours. */
function domainGrid(family: 'gaussian' | 'logistic'): number[] {
  const as: number[] = [];
  for (let e = 0; e < EMAX[family]; e++) {
    for (let j = 0; j < 8; j++) {
      const t = 2 ** e * (1 + j / 8);
      const a = T0 - t; // exact
      as.push(a, nextUp(a), nextDown(a), T0 - (t + 2 ** e / 16), T0 - (t + 2 ** e / 37));
    }
  }
  as.push(A_MAX, nextDown(A_MAX), A_MIN[family], nextUp(A_MIN[family]), -Math.sqrt(Math.PI / 2), 0, -0, -1e-300);
  return as.filter((a) => a >= A_MIN[family] && a <= A_MAX);
}

describe('phi^-1 on the SIMD domain (start-table cells, one Halley step)', () => {
  for (const [family, code] of FAMILIES) {
    it(`${family}: virtualValuationInverse, both builds vs the twin and phi(w) = a to rounding`, () => {
      const as = domainGrid(family);
      for (const scale of [1, 0.37]) {
        const a = Float64Array.from(as, (x) => x * scale);
        const want = new Float64Array(a.length);
        twinQ.virtualValuationInverse(code, scale, a.length, a, want);
        for (const v of variants) {
          const got = raw(cores[v], 1, a.length, [a], ([pa], out) => cores[v].k.virtualValuationInverse(code, scale, a.length, pa, out));
          for (let i = 0; i < a.length; i++) {
            // both solve to rounding: a few ulps of max(|w|, scale) apart
            const tol = 4 * EPS * Math.max(Math.abs(want[i]), scale);
            if (!(Math.abs(got[i] - want[i]) <= tol)) throw new Error(`${v} ${family} a=${a[i]}: got ${got[i]}, want ${want[i]}`);
            if (v === 'simd' && scale === 1) {
              // residual of phi(w) = a, relative to |a| (and to m(w) for the Gaussian, whose
              // condition number w m'/m ~ w^2 costs up to ~30 ulps at w ~ -5.6)
              const w = got[i];
              if (family === 'gaussian') {
                const m = normMillsRatio(w);
                expect(Math.abs(w - m - a[i])).toBeLessThanOrEqual(64 * EPS * (Math.abs(a[i]) + Math.abs(w) + m));
              } else {
                const e = Math.exp(-w);
                expect(Math.abs(w - 1 - e - a[i])).toBeLessThanOrEqual(8 * EPS * (Math.abs(a[i]) + Math.abs(w) + 1 + e));
              }
            }
          }
        }
      }
    });

    it(`${family}: optimalQuote columns on the same grid, both builds vs the twin`, () => {
      const as = domainGrid(family);
      const n = as.length;
      for (const scale of [1, 2.5e-3, 40]) {
        // u = 0 keeps a exact (cell edges hit exactly); other rows shift it
        const u = Float64Array.from(as, (_, i) => [0, 3 * scale, -1e3, 20][i % 4]);
        const c = Float64Array.from(as, (a, i) => u[i] + a * scale);
        const want = twinQuote(code, scale, u, c);
        for (const v of variants) expectQuoteParity(quote(cores[v], code, scale, u, c), want, u, c, scale, `${v} ${family} s=${scale}`);
      }
    });
  }
});

describe('optimalQuote / virtualValuationInverse lane edges', () => {
  // standardised a: in the SIMD domain, on its edges, and outside it (scalar path)
  const inside = [-6, -1.2533141373155003, 0, 0.4, 4.99, A_MAX, -1e6];
  const outside = [nextUp(A_MAX), 5.5, 40, 1e8, -1e300, -3e16, Number.NaN];
  for (const [family, code] of FAMILIES) {
    it(`${family}: n = 1, 2, 3, 5 and pairs with one lane outside the domain`, () => {
      const scale = 0.8;
      const rows: number[][] = [];
      for (const n of [1, 2, 3, 5]) rows.push(Array.from({ length: n }, (_, i) => inside[(i * 3) % inside.length]));
      // just past the last start-table cell (t = 2^EMAX) and further out
      for (const x of [...outside, T0 - 2 ** EMAX[family], 1.5 * A_MIN[family]]) {
        rows.push([inside[1], x], [x, inside[3]], [x, inside[2], inside[0]], [inside[4], inside[5], x]);
      }
      rows.push([A_MIN[family], nextDown(A_MIN[family])], [nextDown(A_MIN[family]), A_MIN[family]]);
      for (const as of rows) {
        const u = Float64Array.from(as, (_, i) => (i % 2 ? 17 : -2));
        const c = Float64Array.from(as, (a, i) => u[i] + a * scale);
        const want = twinQuote(code, scale, u, c);
        const wantW = new Float64Array(as.length);
        const aa = Float64Array.from(as, (a) => a * scale);
        twinQ.virtualValuationInverse(code, scale, as.length, aa, wantW);
        for (const v of variants) {
          const got = quote(cores[v], code, scale, u, c);
          // a NaN lane (the wrappers reject NaN before the kernel, so its value is unspecified) goes
          // to the scalar path with its partner, which must come out as usual
          const keep = as.map((a) => !Number.isNaN(a));
          const pick = (x: Float64Array, cols: number) => {
            const m = as.length;
            const out: number[] = [];
            for (let k = 0; k < cols; k++) for (let i = 0; i < m; i++) if (keep[i]) out.push(x[k * m + i]);
            return Float64Array.from(out);
          };
          const uu = u.filter((_, i) => keep[i]);
          const cc = c.filter((_, i) => keep[i]);
          expectQuoteParity(pick(got, 4), pick(want, 4), uu, cc, scale, `${v} ${family} [${as.join(', ')}]`);
          const w = raw(cores[v], 1, as.length, [aa], ([pa], out) => cores[v].k.virtualValuationInverse(code, scale, as.length, pa, out));
          for (let i = 0; i < as.length; i++) {
            if (keep[i]) expect(Math.abs(w[i] - wantW[i]), `${v} ${family} vv a=${as[i]}`).toBeLessThanOrEqual(1e-13 * Math.max(Math.abs(wantW[i]), scale));
          }
        }
      }
    });
  }

  it('a row gives the same bits alone (n = 1), in either lane and next to any partner (the batch path relies on it)', () => {
    const scale = 1.3;
    // standardised a: inside the domain (either start table), on its edges, outside it, NaN
    const as = [0.3, -7, 4.9, A_MAX, -1.2533141373155003, -4e6, 60, -1e300, Number.NaN, 5.2, -2e9];
    for (const v of variants) {
      for (const [, code] of FAMILIES) {
        const u = Float64Array.from(as, (_, i) => 1 + i);
        const c = Float64Array.from(as, (a, i) => u[i] + a * scale);
        const n = as.length;
        const all = quote(cores[v], code, scale, u, c);
        // the same rows shifted by one (every row changes lane and partner) and reversed
        const shifted = quote(cores[v], code, scale, Float64Array.from([7, ...u]), Float64Array.from([7.5, ...c]));
        const rev = quote(cores[v], code, scale, u.slice().reverse(), c.slice().reverse());
        const w = raw(cores[v], 1, n, [Float64Array.from(as, (a) => a * scale)], ([pa], out) => cores[v].k.virtualValuationInverse(code, scale, n, pa, out));
        for (let i = 0; i < n; i++) {
          const one = quote(cores[v], code, scale, u.subarray(i, i + 1), c.subarray(i, i + 1));
          const w1 = raw(cores[v], 1, 1, [new Float64Array([as[i] * scale])], ([pa], out) => cores[v].k.virtualValuationInverse(code, scale, 1, pa, out));
          expect(Object.is(w[i], w1[0]), `${v} vv row ${i}`).toBe(true);
          for (let k = 0; k < 4; k++) {
            const where = `${v} family ${code} row ${i} (a = ${as[i]}) column ${k}`;
            expect(Object.is(all[k * n + i], one[k]), where).toBe(true);
            expect(Object.is(all[k * n + i], shifted[k * (n + 1) + i + 1]), where).toBe(true);
            expect(Object.is(all[k * n + i], rev[k * n + (n - 1 - i)]), where).toBe(true);
          }
        }
      }
    }
  });
});

// ------------------------------------------------------------------------------------------ greeks
const COLS = 13;
type Row = [number, number, number, number, number, number, number, number, number, number, number, number, number];

/** One SKU: P, C, Cret, Rmin, Rmax, kR, Pmid, A, B, E, deltaQ, holding, inventory. */
function sku(z: number, opts: { sigma?: number; kR?: number; x?: number; constR?: boolean; P?: number } = {}): Row {
  const mu = 20;
  const sigma = opts.sigma ?? 4;
  const P = opts.P ?? mu + z * sigma;
  const kR = opts.constR ? 0 : opts.kR ?? 0.3;
  // Pmid such that kR (P - Pmid) = x when given
  const Pmid = opts.x !== undefined && kR !== 0 ? P - opts.x / kR : 20;
  const Rmax = opts.constR ? 0.1 : 0.25;
  return [P, 10, 3, 0.1, Rmax, kR, Pmid, 100, mu, sigma, 0.05, 0.1, 50];
}

function block(rows: Row[]): Float64Array {
  const n = rows.length;
  const b = new Float64Array(COLS * n);
  rows.forEach((r, i) => r.forEach((x, k) => (b[k * n + i] = x)));
  return b;
}

/** greeks vs the twin with test/greeks.test.ts' tolerances (1e-12 relative, floors from |Q| and P). */
function expectGreeksParity(kind: number, rows: Row[], what: string): void {
  const n = rows.length;
  const blk = block(rows);
  const want = new Float64Array(7 * n);
  twinG.greeks(kind, n, blk, want);
  const terms = new Float64Array(7 * n);
  twinG.profitTerms(kind, n, blk, terms);
  for (const v of variants) {
    const got = raw(cores[v], 7, n, [blk], ([pb], out) => cores[v].k.greeks(kind, n, pb, out));
    for (let c = 0; c < 7; c++) {
      for (let i = 0; i < n; i++) {
        const g = got[c * n + i];
        const t = want[c * n + i];
        if (Object.is(g, t) || (Number.isNaN(g) && Number.isNaN(t))) continue;
        const size = 1e-13 * Math.abs(terms[4 * n + i]) * (Math.abs(blk[i]) + Math.abs(blk[n + i]) + 1);
        const floor = size / Math.max(1e-300, Math.abs(blk[i])) ** (c === 2 ? 2 : c === 1 || c === 3 ? 1 : 0) + 1e-300;
        const tol = 1e-12 * Math.max(Math.abs(g), Math.abs(t)) + floor;
        if (!(Math.abs(g - t) <= tol)) throw new Error(`${v} ${what} kind ${kind} row ${i} column ${c}: got ${g}, want ${t}`);
      }
    }
  }
}

describe('greeks lane edges (win-probability demand, SIMD pairs vs scalar rows)', () => {
  for (const kind of [0, 1, 2]) {
    it(`kind ${kind}: n = 1, 2, 3, 5`, () => {
      for (const n of [1, 2, 3, 5]) {
        const rows = Array.from({ length: n }, (_, i) => sku([-1.1, 0.2, 2.7, -0.4, 6][i]));
        if (kind === 2) rows.forEach((r) => (r[9] = -2.5)); // constant elasticity: E = eps
        expectGreeksParity(kind, rows, `n=${n}`);
      }
    });
  }

  for (const kind of [0, 1]) {
    it(`kind ${kind}: pairs mixing constant and logistic return curves, erfc intervals and tails`, () => {
      const zs = [0, 0.3, -0.3, 0.66, -0.67, 1.5, -2.2, 5.6, -5.7, 8, -12, 26, -30, 36.9, -36.9, 37.1, -40, 600, -699.9, 700.5];
      const rows: Row[] = [];
      for (let i = 0; i < zs.length; i++) {
        for (let j = i; j < zs.length; j += 3) {
          rows.push(sku(zs[i]), sku(zs[j], { constR: true }));
          // constant R = Rmin through kR = 0 alone (Rmax != Rmin)
          rows.push(sku(zs[j], { kR: 0 }), sku(zs[i], { x: 3 }));
          rows.push(sku(zs[j], { sigma: 0.01 }), sku(zs[i], { x: (i - j) * 35 }));
        }
      }
      // the return curve's own limit |kR (P - Pmid)| = 700, on either side, in one lane only
      rows.push(sku(0.5, { x: 699.9 }), sku(0.5), sku(0.5, { x: -700.1 }), sku(-0.5), sku(0.5, { x: 1e4 }), sku(1, { x: -16 }));
      // exact zeros of the curve's argument and of z (P = Pmid, P = mu)
      rows.push(sku(0, { x: 0 }), sku(0, { x: -0 }));
      // a NaN price in one lane: NaN results in that lane only
      const nanRow = sku(0.4);
      nanRow[0] = Number.NaN;
      rows.push(nanRow, sku(0.4), sku(-0.4), nanRow);
      expectGreeksParity(kind, rows, 'mixed pairs');
      // and the odd count
      expectGreeksParity(kind, rows.slice(1), 'mixed pairs, odd n');
    });
  }

  for (const kind of [0, 1, 2]) {
    it(`kind ${kind}: a row gives the same bits alone (n = 1), in either lane and next to any partner`, () => {
      const rows: Row[] = [sku(0.2), sku(-3), sku(41), sku(0.5, { x: 800 }), sku(7), sku(1, { constR: true }), sku(-0.6, { kR: 0 }), sku(2.2, { x: -30 })];
      if (kind === 2) rows.forEach((r) => (r[9] = -2.5));
      const n = rows.length;
      const run = (v: Variant, rs: Row[]) => raw(cores[v], 7, rs.length, [block(rs)], ([pb], out) => cores[v].k.greeks(kind, rs.length, pb, out));
      for (const v of variants) {
        const all = run(v, rows);
        const shifted = run(v, [sku(0.1), ...rows]);
        for (let i = 0; i < n; i++) {
          const one = run(v, [rows[i]]);
          for (let c = 0; c < 7; c++) {
            const where = `${v} kind ${kind} row ${i} column ${c}`;
            expect(Object.is(all[c * n + i], one[c]), where).toBe(true);
            expect(Object.is(all[c * n + i], shifted[c * (n + 1) + i + 1]), where).toBe(true);
          }
        }
      }
    });
  }
});
