import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { WasmCore } from '../src/core/wasm.js';
import { noiseTable, NOISE_COLUMNS } from '../src/core/noise.js';
import * as twin from '../src/core/twin/noise.js';

const ref = JSON.parse(readFileSync(new URL('./fixtures/noise.json', import.meta.url), 'utf8')) as {
  erfcx: [number, number][];
  logPhi: [number, number][];
  mills: [number, number, number][];
};
const cores = { simd: WasmCore.create({ variant: 'simd' }), scalar: WasmCore.create({ variant: 'scalar' }) };
const rel = (a: number, b: number, floor = 1e-300) => Math.abs(a - b) / Math.max(Math.abs(b), floor);

describe('noise: special functions against the 60-digit oracle (test/fixtures/noise.py)', () => {
  for (const [name, core] of Object.entries(cores)) {
    it(`${name}: erfcx within 2e-15 relative on [-26, 26.5] (Cody)`, () => {
      for (const [x, v] of ref.erfcx) {
        expect(rel(core.k.erfcx(x), v), `x=${x}`).toBeLessThan(2e-15);
        expect(rel(twin.erfcx(x), v), `twin x=${x}`).toBeLessThan(2e-15);
      }
    });
    it(`${name}: log Phi within 1e-14 relative on [-37, 8]`, () => {
      for (const [z, v] of ref.logPhi) {
        expect(rel(core.k.normLogCdf(z), v), `z=${z}`).toBeLessThan(1e-14);
        expect(rel(twin.normLogCdf(z), v), `twin z=${z}`).toBeLessThan(1e-14);
      }
    });
    it(`${name}: inverse Mills ratio and its left-tail shift z + lambda(z)`, () => {
      for (const [z, lam, shift] of ref.mills) {
        expect(rel(core.k.normMills(z), lam), `z=${z}`).toBeLessThan(2e-15);
        expect(rel(twin.normMillsShift(z), shift), `z=${z}`).toBeLessThan(1e-13);
      }
    });
  }
});

const grid: number[] = [];
for (let z = -40; z <= 40; z += 0.37) grid.push(z);
grid.push(-37.5, -8.5, -1e-9, 0, 1e-9, 8.5, 37.5);

describe('noise: WASM vs TS twin parity', () => {
  for (const family of ['gaussian', 'logistic'] as const) {
    for (const scale of [1e-3, 0.1, 1, 25]) {
      for (const [name, core] of Object.entries(cores)) {
        it(`${family} scale=${scale} ${name}: all 12 columns within 1e-12 relative`, () => {
          const w = Float64Array.from(grid, (z) => z * scale);
          const t = noiseTable(core, { family, scale }, w);
          const out = new Float64Array(12 * w.length);
          twin.noiseTable(family === 'gaussian' ? 0 : 1, scale, w.length, w, out);
          NOISE_COLUMNS.forEach((col, k) => {
            for (let i = 0; i < w.length; i++) {
              const a = t[col][i];
              const b = out[k * w.length + i];
              expect(Number.isNaN(a), `${col} NaN at w=${w[i]}`).toBe(false);
              if (a === b) continue;
              expect(rel(a, b, 1e-300), `${col} at w=${w[i]}: ${a} vs ${b}`).toBeLessThan(1e-12);
            }
          });
        });
      }
    }
  }
});

describe('noise: derivatives against central finite differences', () => {
  const core = cores.simd;
  for (const family of ['gaussian', 'logistic'] as const) {
    for (const scale of [0.01, 0.5, 3]) {
      it(`${family} scale=${scale}: (log f)', (log F)', (log(1-F))' and second derivatives`, () => {
        const zs = [-30, -12, -5, -1.5, -0.2, 0, 0.3, 2, 6, 12, 30];
        for (const z of zs) {
          const w = z * scale;
          const h = 1e-5 * Math.max(1, Math.abs(z)) * scale;
          const t = noiseTable(core, { family, scale }, new Float64Array([w - h, w, w + h]));
          const pairs: [keyof typeof t, keyof typeof t, keyof typeof t][] = [
            ['logf', 'dlogf', 'd2logf'],
            ['logF', 'dlogF', 'd2logF'],
            ['logFbar', 'dlogFbar', 'd2logFbar'],
          ];
          for (const [v, d1, d2] of pairs) {
            const fd1 = (t[v][2] - t[v][0]) / (2 * h);
            const fd2 = (t[d1][2] - t[d1][0]) / (2 * h);
            const s1 = Math.max(Math.abs(t[d1][1]), 1 / scale);
            const s2 = Math.max(Math.abs(t[d2][1]), 1 / (scale * scale));
            expect(Math.abs(fd1 - t[d1][1]) / s1, `${String(d1)} z=${z}`).toBeLessThan(1e-6);
            expect(Math.abs(fd2 - t[d2][1]) / s2, `${String(d2)} z=${z}`).toBeLessThan(1e-6);
          }
        }
      });
    }
  }
  it('logistic matches its closed forms at moderate z (docs/math.md §1.3)', () => {
    const s = 0.3;
    const w = new Float64Array([-1, -0.2, 0, 0.5, 1.3]);
    const t = noiseTable(core, { family: 'logistic', scale: s }, w);
    w.forEach((wi, i) => {
      const F = 1 / (1 + Math.exp(-wi / s));
      expect(t.F[i]).toBeCloseTo(F, 14);
      expect(t.f[i]).toBeCloseTo((F * (1 - F)) / s, 12);
      expect(t.dlogf[i]).toBeCloseTo((1 - 2 * F) / s, 12);
      expect(t.d2logF[i]).toBeCloseTo((-F * (1 - F)) / (s * s), 12);
      expect(t.dlogFbar[i]).toBeCloseTo(-F / s, 12);
    });
  });
});

describe('noise: properties', () => {
  const core = cores.simd;
  const curvatureBounded = (fn: (z: number) => number) =>
    fc.property(fc.double({ min: -38, max: 38, noNaN: true }), (z) => {
      const v = fn(z);
      // docs/math.md §1.3: (log Phi)'' = -lambda (z + lambda) lies in (-1, 0) and is finite
      return Number.isFinite(v) && v < 0 && v > -1;
    });
  const kernelCurvature = (z: number) => noiseTable(core, { family: 'gaussian', scale: 1 }, new Float64Array([z])).d2logF[0];
  it('(log Phi)\'\' is finite and inside (-1, 0) over [-38, 38]', () => {
    fc.assert(curvatureBounded(kernelCurvature), { numRuns: 2000 });
  });
  it('companion: the naive phi/Phi formula fails the same property in the left tail', () => {
    const naive = (z: number) => {
      const phi = Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI);
      const Phi = 0.5 * (1 + erfApprox(z / Math.SQRT2));
      const lam = phi / Phi;
      return -lam * (z + lam);
    };
    const r = fc.check(curvatureBounded(naive), { numRuns: 2000 });
    expect(r.failed).toBe(true);
  });
  it('log F and log(1 - F) are finite and <= 0 for finite w, both families', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constantFrom('gaussian', 'logistic' as const), fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (w, family, scale) => {
        const z = w / scale;
        if (family === 'gaussian' && Math.abs(z) > 37) return true; // beyond the documented range Phi underflows
        const t = noiseTable(core, { family: family as 'gaussian' | 'logistic', scale }, new Float64Array([w]));
        return Number.isFinite(t.logF[0]) && Number.isFinite(t.logFbar[0]) && t.logF[0] <= 0 && t.logFbar[0] <= 0;
      }),
      { numRuns: 3000 },
    );
  });
  it('rejects bad arguments with the argument named', () => {
    expect(() => noiseTable(core, { family: 'cauchy' as 'gaussian', scale: 1 }, new Float64Array(1))).toThrow(/noise.family/);
    expect(() => noiseTable(core, { family: 'gaussian', scale: 0 }, new Float64Array(1))).toThrow(/noise.scale.*0/);
    expect(() => noiseTable(core, { family: 'gaussian', scale: 1 }, new Float64Array([1, NaN]))).toThrow(/w\[1\]/);
  });
});

/** Abramowitz-Stegun 7.1.26 erf: the kind of shortcut the property must catch. */
function erfApprox(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
